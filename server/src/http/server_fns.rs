//! The pages' server functions are reachable by anyone. The `server_fn` crate answers every error with
//! 500, also for arguments it cannot read (an address that is not one, text for a number): those are
//! the sender's mistake, so they become a 400 with the same text.

use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::Response;
use leptos::server_fn::error::SERVER_FN_ERROR_HEADER;

/// How much of an error answer is read to tell what kind it is; `server_fn`'s are a line of text.
const MAX_ERROR_BYTES: usize = 64 * 1024;

pub async fn unreadable_arguments_are_400(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    if response.status() != StatusCode::INTERNAL_SERVER_ERROR
        || !response.headers().contains_key(SERVER_FN_ERROR_HEADER)
    {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(text) = to_bytes(body, MAX_ERROR_BYTES).await else {
        return Response::from_parts(parts, Body::empty());
    };
    // `ServerFnError::Args` is written as `Args|<what serde said>`.
    if text.starts_with(b"Args|") {
        parts.status = StatusCode::BAD_REQUEST;
    }
    Response::from_parts(parts, Body::from(text))
}
