//! One error for every server function: what the server refused, or that no answer came, in words
//! safe to show. Pages match on the kind (a form marks its fields on `Invalid`, a page offers to sign
//! in on `NotSignedIn`); the server answers each kind with its HTTP status (`status`).

use std::fmt;

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

#[cfg(test)]
use crate::products::DraftField;
use crate::products::FieldError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "code", content = "detail", rename_all = "snake_case")]
pub enum AppError {
    /// The request is wrong; the text names the part of it.
    #[error("{0}")]
    BadRequest(String),
    /// Fields of a form that need a change, each with its message.
    #[error("some fields need a change")]
    Invalid(Vec<FieldError>),
    #[error("sign in with your wallet first")]
    NotSignedIn,
    /// Signed in, but not allowed to do this (an owner action by someone else).
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    /// Well formed, but the thing is not in a state for it (a request already decided).
    #[error("{0}")]
    Conflict(String),
    /// Asked too often; the text says when to ask again.
    #[error("{0}")]
    TooManyRequests(String),
    /// The part of the server the call needs does not answer now (its store, the chain).
    #[error("{0}")]
    Unavailable(Service),
    /// No answer that reads as one came back (the network, a server of another version); the text is
    /// for the log, not for the page, which says what it could not load.
    #[error("the server could not be reached; try again in a moment")]
    Unreachable(String),
}

/// The parts of the server a page depends on, to say which one is down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Service {
    Marketplace,
    DataUnions,
    Prices,
    Drafts,
    Streams,
}

impl fmt::Display for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Service::Marketplace => "the marketplace is not available right now; try again in a moment",
            Service::DataUnions => "Data Unions are not available right now; try again in a moment",
            Service::Prices => "prices are not available right now; try again in a moment",
            Service::Drafts => "saving is not possible right now; try again in a moment",
            Service::Streams => "the product's data is not available right now; try again in a moment",
        })
    }
}

impl AppError {
    /// The HTTP status the server answers this refusal with.
    pub fn status(&self) -> u16 {
        match self {
            AppError::BadRequest(_) => 400,
            AppError::Invalid(_) => 422,
            AppError::NotSignedIn => 401,
            AppError::Forbidden(_) => 403,
            AppError::NotFound(_) => 404,
            AppError::Conflict(_) => 409,
            AppError::TooManyRequests(_) => 429,
            AppError::Unavailable(_) => 503,
            AppError::Unreachable(_) => 500,
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(error: ServerFnErrorErr) -> Self {
        match error {
            // Arguments the server cannot read are the sender's mistake (an address that is not one).
            ServerFnErrorErr::Args(why) => AppError::BadRequest(format!("the arguments cannot be read: {why}")),
            ServerFnErrorErr::MissingArg(name) => AppError::BadRequest(format!("`{name}` is missing")),
            other => AppError::Unreachable(other.to_string()),
        }
    }
}

/// A server function's answer as a value, or why not in words: the server's own reason when it refused,
/// else `unreachable`, since a call that got no answer has nothing better to tell the person.
pub fn answer_or<T>(answer: Result<T, AppError>, unreachable: impl FnOnce() -> String) -> Result<T, String> {
    match answer {
        Ok(value) => Ok(value),
        Err(AppError::Unreachable(_)) => Err(unreachable()),
        Err(refused) => Err(refused.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_keeps_the_servers_words_and_a_lost_call_says_what_could_not_load() {
        let unreachable = || "the marketplace is not available right now".to_owned();
        assert_eq!(answer_or(Ok(7), unreachable), Ok(7));
        assert_eq!(
            answer_or::<u8>(Err(AppError::NotFound("no such product".into())), unreachable),
            Err("no such product".into())
        );
        let lost = AppError::from_server_fn_error(ServerFnErrorErr::Request("timeout".into()));
        assert_eq!(answer_or::<u8>(Err(lost), unreachable), Err("the marketplace is not available right now".into()));
    }

    #[test]
    fn arguments_that_cannot_be_read_are_the_senders_mistake() {
        let error = AppError::from_server_fn_error(ServerFnErrorErr::Args("invalid string length".into()));
        assert_eq!(error.status(), 400);
        assert_eq!(error.to_string(), "the arguments cannot be read: invalid string length");
        assert_eq!(AppError::from_server_fn_error(ServerFnErrorErr::MissingArg("union".into())).status(), 400);
    }

    #[test]
    fn an_error_crosses_the_wire_as_its_code_and_detail() {
        let invalid = AppError::Invalid(vec![FieldError { field: DraftField::Name, message: "too long".into() }]);
        for error in [invalid, AppError::NotSignedIn, AppError::Unavailable(Service::Prices)] {
            let bytes = error.ser();
            assert_eq!(AppError::de(bytes), error);
        }
        let text = String::from_utf8(AppError::NotFound("no such union".into()).ser().to_vec()).unwrap();
        assert_eq!(text, r#"{"code":"not_found","detail":"no such union"}"#);
    }
}
