//! API errors: a JSON body `{ "error": { "code", "message", "field"? } }`. A 5xx body stays opaque;
//! its cause chain goes to the log.

use axum::Json;
use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

pub use super::error_code::ErrorCode;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request is wrong; `field` names the part of it.
    #[error("{message}")]
    BadRequest { code: ErrorCode, message: String, field: Option<&'static str> },
    #[error("{0}")]
    NotFound(String),
    /// Not signed in, or the sign-in was refused; `field` names the part of the request at fault.
    #[error("{message}")]
    Unauthorized { code: ErrorCode, message: String, field: Option<&'static str> },
    /// Signed in, but not allowed to do this (an owner action by someone else).
    #[error("{message}")]
    Forbidden { code: ErrorCode, message: String },
    /// The request is well formed but the thing is not in a state to answer it (a product that is
    /// not listed cannot be quoted).
    #[error("{message}")]
    Conflict { code: ErrorCode, message: String },
    /// The body is not of the type the route takes (a sign-in that is not JSON, say).
    #[error("{message}")]
    UnsupportedMediaType { code: ErrorCode, message: String },
    /// A dependency (database, chain) is down, or the server is too busy; `reason` says which.
    /// Answered with `Retry-After`.
    #[error("{reason}")]
    Unavailable { code: ErrorCode, reason: String },
    /// The client asked too often; it may ask again after `retry_after` seconds.
    #[error("{message}")]
    TooManyRequests { message: String, retry_after: u64 },
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl ApiError {
    /// The same refusal, its message naming the part of a batch it is about (`"message 3: …"`).
    pub fn about(self, part: &str) -> Self {
        let name = |message: String| format!("{part}: {message}");
        match self {
            ApiError::BadRequest { code, message, field } => {
                ApiError::BadRequest { code, message: name(message), field }
            }
            ApiError::NotFound(message) => ApiError::NotFound(name(message)),
            ApiError::Unauthorized { code, message, field } => {
                ApiError::Unauthorized { code, message: name(message), field }
            }
            ApiError::Forbidden { code, message } => ApiError::Forbidden { code, message: name(message) },
            ApiError::Conflict { code, message } => ApiError::Conflict { code, message: name(message) },
            ApiError::UnsupportedMediaType { code, message } => {
                ApiError::UnsupportedMediaType { code, message: name(message) }
            }
            ApiError::TooManyRequests { message, retry_after } => {
                ApiError::TooManyRequests { message: name(message), retry_after }
            }
            // Not the client's part: the same for any message.
            other @ (ApiError::Unavailable { .. } | ApiError::Unexpected(_)) => other,
        }
    }

    /// The chain did not answer, in time or at all: a 503 the client may retry. The cause goes to the
    /// log, never into the answer: a node's error can name its URL, and with it an API key.
    pub fn chain_unavailable(cause: impl std::fmt::Display) -> Self {
        tracing::warn!(target: "chain", %cause, "the chain does not answer");
        ApiError::Unavailable { code: ErrorCode::ChainUnavailable, reason: CHAIN_UNAVAILABLE.to_owned() }
    }
}

/// What a client is told when the chain does not answer.
const CHAIN_UNAVAILABLE: &str = "the chain does not answer; try again shortly";

/// What every refusal answers.
#[derive(Serialize, ToSchema)]
#[schema(as = Error)]
pub struct ErrorBody<'a> {
    #[schema(inline)]
    error: Detail<'a>,
}

#[derive(Serialize, ToSchema)]
struct Detail<'a> {
    /// What is wrong, for a program: one of the codes, which never change once published.
    #[schema(inline)]
    code: ErrorCode,
    /// What is wrong, for a person.
    message: String,
    /// The path segment, query parameter or body field that is wrong.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    field: Option<&'a str>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code, field) = match &self {
            ApiError::BadRequest { code, field, .. } => (StatusCode::BAD_REQUEST, *code, *field),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, ErrorCode::NotFound, None),
            ApiError::Unauthorized { code, field, .. } => (StatusCode::UNAUTHORIZED, *code, *field),
            ApiError::Forbidden { code, .. } => (StatusCode::FORBIDDEN, *code, None),
            ApiError::Conflict { code, .. } => (StatusCode::CONFLICT, *code, None),
            ApiError::UnsupportedMediaType { code, .. } => (StatusCode::UNSUPPORTED_MEDIA_TYPE, *code, None),
            ApiError::Unavailable { code, .. } => (StatusCode::SERVICE_UNAVAILABLE, *code, None),
            ApiError::TooManyRequests { .. } => (StatusCode::TOO_MANY_REQUESTS, ErrorCode::TooManyRequests, None),
            ApiError::Unexpected(error) => {
                tracing::error!(target: "http", error = format!("{error:#}"), "request failed");
                (StatusCode::INTERNAL_SERVER_ERROR, ErrorCode::Internal, None)
            }
        };
        let message = match &self {
            ApiError::Unexpected(_) => "internal error, see the server log".to_owned(),
            other => other.to_string(),
        };
        let retry_after = match &self {
            ApiError::TooManyRequests { retry_after, .. } => Some(*retry_after),
            // Busy frees up in a moment; a dependency takes longer to come back.
            ApiError::Unavailable { code: ErrorCode::Busy, .. } => Some(1),
            ApiError::Unavailable { .. } => Some(5),
            _ => None,
        };
        let mut response = (status, Json(ErrorBody { error: Detail { code, message, field } })).into_response();
        if let Some(seconds) = retry_after {
            response.headers_mut().insert(RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// A database that does not answer is a 503 the client may retry; any other store failure is ours.
impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match &error {
            StoreError::Database(sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_)) => {
                tracing::warn!(target: "http", error = %error, "database unavailable");
                ApiError::Unavailable {
                    code: ErrorCode::DatabaseUnavailable,
                    reason: "the database does not answer; try again shortly".to_owned(),
                }
            }
            _ => ApiError::Unexpected(anyhow::Error::new(error).context("database")),
        }
    }
}
