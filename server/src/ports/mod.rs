//! The web app's ports, filled in per request by middleware: each answers the pages' server
//! functions by calling the service layer (`crate::service`) directly and handing back the app's
//! types, with the request's session where an action needs someone signed in.

mod checkout;
mod market;
mod unions;

pub use checkout::{ChainCheckout, provide_checkout};
pub use market::{ServiceMarket, provide_market};
pub use unions::{ServiceUnions, provide_unions};

use crate::http::ApiError;

/// Logs what a refusal cannot show (a 5xx's cause) and says whether the refusal is the client's.
fn log_unavailable(port: &'static str, error: &ApiError) {
    tracing::error!(target: "ports", port, error = format!("{error:#}"), "a port could not answer");
}
