//! The pages' server functions are reachable by anyone, and all of them answer refusals as an
//! [`AppError`]. The `server_fn` crate sends every error with status 500; this gives each its own
//! (400 for arguments that cannot be read, 401 for a missing sign-in, 503 for a store that does not
//! answer, ...), so clients and logs tell the sender's mistakes from the server's.

use app::error::AppError;
use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::Response;
use leptos::server_fn::error::{FromServerFnError, SERVER_FN_ERROR_HEADER};

/// How much of an error answer is read to tell what kind it is; an `AppError` is a line of JSON.
const MAX_ERROR_BYTES: usize = 64 * 1024;

pub async fn refusals_get_their_status(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    if response.status() != StatusCode::INTERNAL_SERVER_ERROR
        || !response.headers().contains_key(SERVER_FN_ERROR_HEADER)
    {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_ERROR_BYTES).await else {
        return Response::from_parts(parts, Body::empty());
    };
    let status = AppError::de(bytes.clone()).status();
    parts.status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    Response::from_parts(parts, Body::from(bytes))
}
