//! The web app's ports, filled in per request by middleware: each answers the pages' server
//! functions by calling the service layer (`crate::service`) directly and handing back the app's
//! types, with the request's session where an action needs someone signed in.

mod checkout;
mod market;
mod streams;
mod unions;

pub use checkout::{ChainCheckout, provide_checkout};
pub use market::{ServiceMarket, provide_market};
pub use streams::{ServiceStreams, provide_streams};
pub use unions::{ServiceUnions, provide_unions};

use app::error::{AppError, Service};

use crate::http::ApiError;

/// A refusal in the words the REST API answers with; what is not the client's doing (a store or
/// chain that does not answer) is logged, and the page says that `service` is not available.
pub(crate) fn refused(service: Service, error: ApiError) -> AppError {
    match error {
        ApiError::BadRequest { message, .. } | ApiError::UnsupportedMediaType { message, .. } => {
            AppError::BadRequest(message)
        }
        ApiError::Unauthorized { .. } => AppError::NotSignedIn,
        ApiError::Forbidden { message, .. } => AppError::Forbidden(message),
        ApiError::NotFound(message) => AppError::NotFound(message),
        ApiError::Conflict { message, .. } => AppError::Conflict(message),
        ApiError::TooManyRequests { message, .. } => AppError::TooManyRequests(message),
        error @ (ApiError::Unavailable { .. } | ApiError::Unexpected(_)) => {
            tracing::error!(target: "ports", ?service, error = format!("{error:#}"), "a port could not answer");
            AppError::Unavailable(service)
        }
    }
}
