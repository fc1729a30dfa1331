//! Cover images: `POST /api/v1/covers` (signed in; the image is the body, PNG, JPEG or WebP, at most
//! 2 MiB) stores it in the database, named by its hash, so every instance on that database serves it;
//! `GET /api/v1/covers/{name}` serves it back. The declared type must match the file's first bytes,
//! so nothing else is served as an image.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use alloy::primitives::keccak256;
use app::products::{COVER_MAX_BYTES, COVER_TYPES, COVERS_PATH, is_cover_name};
use axum::Json;
use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, X_CONTENT_TYPE_OPTIONS};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

use crate::api::openapi::params::CoverPath;
use crate::api::openapi::schemas::Binary;
use crate::api::openapi::{BadRequest, Conflict, NotFound, Unauthorized};
use crate::api::params;
use crate::auth::SignedIn;
use crate::http::{ApiError, RouteTable, Services};
use crate::http::{ErrorBody, ErrorCode};

/// Covers one seller may upload in a day.
pub const MAX_COVERS_PER_SELLER_PER_DAY: i64 = 50;
/// How long an uploaded cover that no draft and no product names is kept.
pub const UNUSED_COVER_GRACE_SECS: i64 = 86_400;

/// Deletes, every hour, the covers nobody used within [`UNUSED_COVER_GRACE_SECS`] of their upload.
/// Every instance may run it: a delete of what another deleted deletes nothing.
pub async fn clean_unused_covers(store: crate::store::Store) {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(3600));
    loop {
        every.tick().await;
        match store.delete_unused_covers(now() - UNUSED_COVER_GRACE_SECS).await {
            Ok(0) => {}
            Ok(deleted) => tracing::info!(target: "products", deleted, "unused covers deleted"),
            Err(error) => tracing::warn!(target: "products", %error, "deleting unused covers failed"),
        }
    }
}

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

pub(crate) fn routes(table: RouteTable) -> RouteTable {
    table.post("/api/v1/covers", upload).get("/api/v1/covers/{name}", serve)
}

/// The image type whose signature `bytes` start with.
fn sniff(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
        Some("image/jpeg")
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

fn refused(status: StatusCode, code: ErrorCode, message: String) -> Response {
    (status, Json(json!({ "error": { "code": code.as_str(), "message": message, "field": "cover" } }))).into_response()
}

#[derive(Serialize, ToSchema)]
#[schema(as = StoredCover)]
pub struct Stored {
    /// The name to put in a draft's `cover`: 32 hex digits of the content's keccak256 and the extension.
    name: String,
    url: String,
    size: usize,
}

/// Upload a cover image
///
/// Signed in only. The body is the image itself, PNG, JPEG or WebP (the Content-Type must say which,
/// and the file's first bytes must agree), at most 2 MiB. Stored under its hash; one seller may
/// upload 50 a day (409 `quota_exceeded`).
#[utoipa::path(
    post,
    path = "/api/v1/covers",
    operation_id = "uploadCover",
    request_body(content(
        (Binary = "image/png"),
        (Binary = "image/jpeg"),
        (Binary = "image/webp"),
    )),
    security(("session" = [])),
    responses(
        (
            status = 201,
            description = "Stored",
            body = Stored,
            links(("cover" = (operation_id = "getCover", parameters(("name" = "$response.body#/name")))))
        ),
        (status = 400, description = "Refused: the image is empty (`field` is `cover`)", body = ErrorBody),
        (status = 401, response = Unauthorized),
        (status = 409, response = Conflict),
        (status = 413, description = "Refused: the image is larger than 2 MiB (`field` is `cover`)", body = ErrorBody),
        (
            status = 415,
            description = "Refused: not a PNG, JPEG or WebP image, or not the type declared (`field` is `cover`)",
            body = ErrorBody
        ),
    )
)]
async fn upload(
    State(services): State<Arc<Services>>,
    who: SignedIn,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let now = now();
    let uploaded = services.store.covers_uploaded_since(who.0, now - 86_400).await?;
    if uploaded >= MAX_COVERS_PER_SELLER_PER_DAY {
        return Err(ApiError::Conflict {
            code: ErrorCode::QuotaExceeded,
            message: format!(
                "you uploaded {uploaded} covers in the last day, the most one seller may; try again tomorrow"
            ),
        });
    }
    let declared = headers.get(CONTENT_TYPE).and_then(|value| value.to_str().ok()).unwrap_or_default();
    let declared = declared.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    let allowed = COVER_TYPES.iter().map(|(mime, _)| *mime).collect::<Vec<_>>().join(", ");
    let Some((mime, extension)) = COVER_TYPES.iter().find(|(mime, _)| *mime == declared) else {
        return Ok(refused(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::UnsupportedType,
            format!("a cover must be one of {allowed}, not {declared:?}"),
        ));
    };
    let Ok(bytes) = axum::body::to_bytes(body, COVER_MAX_BYTES).await else {
        return Ok(refused(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::TooLarge,
            format!("a cover may be at most {} MiB", COVER_MAX_BYTES / (1024 * 1024)),
        ));
    };
    if bytes.is_empty() {
        return Ok(refused(
            StatusCode::BAD_REQUEST,
            ErrorCode::Empty,
            "the cover is empty; choose an image file".to_owned(),
        ));
    }
    if sniff(&bytes) != Some(*mime) {
        return Ok(refused(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::UnsupportedType,
            format!("the file is not a {mime} image; a cover must be one of {allowed}"),
        ));
    }
    let name = format!("{}.{extension}", &format!("{:x}", keccak256(&bytes))[..32]);
    services.store.insert_cover(&name, &bytes, who.0, now).await?;
    tracing::info!(target: "products", name, size = bytes.len(), "cover stored");
    let url = format!("{COVERS_PATH}/{name}");
    Ok((StatusCode::CREATED, Json(Stored { name, url, size: bytes.len() })).into_response())
}

/// A cover image
///
/// Served with its image type; names never change content, so it is cached for a year.
#[utoipa::path(
    get,
    path = "/api/v1/covers/{name}",
    operation_id = "getCover",
    params(CoverPath),
    responses(
        (status = 200, description = "The image", content((Binary = "image/*"))),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
    )
)]
async fn serve(
    State(services): State<Arc<Services>>,
    name: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let name = params::path(name)?;
    if !is_cover_name(&name) {
        return Err(ApiError::NotFound(format!("no cover {name:?}")));
    }
    let extension = name.rsplit('.').next().unwrap_or_default();
    let mime = COVER_TYPES.iter().find(|(_, known)| *known == extension).map_or("application/octet-stream", |(m, _)| m);
    let Some(bytes) = services.store.cover(&name).await? else {
        return Err(ApiError::NotFound(format!("no cover {name:?}")));
    };
    Ok((
        [
            (CONTENT_TYPE, mime),
            (X_CONTENT_TYPE_OPTIONS, "nosniff"),
            // A name is the hash of the content: it never changes.
            (CACHE_CONTROL, "public, max-age=31536000, immutable"),
        ],
        bytes,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_are_told_by_their_first_bytes() {
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n...."), Some("image/png"));
        assert_eq!(sniff(&[0xff, 0xd8, 0xff, 0xe0]), Some("image/jpeg"));
        assert_eq!(sniff(b"RIFF\0\0\0\0WEBPVP8 "), Some("image/webp"));
        assert_eq!(sniff(b"<svg xmlns="), None);
    }
}
