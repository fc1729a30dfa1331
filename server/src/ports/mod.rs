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

/// How long a page's question "as of block N" waits for the indexer to reach N, after the page saw
/// its own transaction mined there.
const CATCH_UP: std::time::Duration = std::time::Duration::from_secs(10);

/// Returns once the read models stand at `block` or later, or after [`CATCH_UP`].
async fn wait_for_block(services: &crate::http::Services, block: u64) {
    let start = tokio::time::Instant::now();
    while services.models.as_of().await < block && start.elapsed() < CATCH_UP {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}
