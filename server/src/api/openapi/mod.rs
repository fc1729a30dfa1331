//! The OpenAPI 3.1 document at `/api/v1/openapi.json`, derived from the handlers: each one's
//! `#[utoipa::path]` names its route, parameters, body and answers, and the types it reads and writes
//! give the schemas. What every route shares (the limits, the as-of header) is added by
//! [`responses::Layers`].

pub mod params;
pub mod responses;
pub mod schemas;

use std::sync::LazyLock;

use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use utoipa::OpenApi;

use responses::Layers;
pub use responses::{BadRequest, Conflict, Forbidden, NotFound, SESSION, TooManyRequests, Unauthorized, Unavailable};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Coop API",
        version = "1",
        description = "Coop's REST API: Data Unions, members, books, products, subscriptions and quotes; joining \
            a Data Union and its owner's decisions; signing in with Ethereum; the editor's drafts and covers. \
            Every answer under /api/v1 carries the block it is as of in the x-coop-block header, and JSON \
            answers of the indexed state in the asOfBlock field. Amounts are decimal strings of wei.",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    paths(
        crate::http::health::healthz,
        crate::http::health::readyz,
        crate::http::metrics::metrics,
        serve,
        super::unions::list,
        super::unions::one,
        super::unions::history,
        super::members::list,
        super::members::one,
        super::members::relay_quote,
        super::members::relay_withdrawal,
        super::unions::book,
        super::products::list,
        super::products::one,
        super::products::subscriptions,
        super::quotes::quote,
        crate::validator::validation,
        crate::joins::file,
        crate::joins::list,
        crate::joins::status,
        crate::joins::approve,
        crate::joins::reject,
        crate::joins::remove,
        crate::joins::create_secret,
        crate::joins::secrets,
        crate::joins::delete_secret,
        crate::auth::handlers::nonce,
        crate::auth::handlers::sign_in,
        crate::auth::handlers::sign_out,
        crate::auth::handlers::me,
        crate::chain_info::chain,
        crate::products::drafts::list,
        crate::products::drafts::create,
        crate::products::drafts::one,
        crate::products::drafts::replace,
        crate::products::drafts::remove,
        crate::products::covers::upload,
        crate::products::covers::serve,
        crate::products::metadata::one,
        crate::streams::api::list,
        crate::streams::api::save,
        crate::streams::api::remove,
        crate::streams::api::publish,
        crate::streams::api::publish_batch,
        crate::streams::api::history,
        crate::streams::follow::sse,
        crate::streams::follow::socket,
        crate::streams::api::download,
        crate::streams::api::grant,
        crate::streams::api::app_keys,
        crate::streams::api::revoke,
    ),
    components(responses(BadRequest, Unauthorized, Forbidden, NotFound, Conflict, TooManyRequests, Unavailable)),
    modifiers(&Layers)
)]
pub struct ApiDoc;

/// The document as served: built once, the same text on every answer.
pub fn document() -> &'static str {
    static DOCUMENT: LazyLock<String> = LazyLock::new(|| {
        let json = ApiDoc::openapi().to_pretty_json().expect("an OpenAPI document serialises to JSON");
        SPELLINGS.iter().fold(json, |json, (utoipa, openapi)| json.replace(utoipa, openapi))
    });
    &DOCUMENT
}

/// What utoipa 5 writes otherwise than OpenAPI, and OpenAPI's spelling: a Link Object's `operationId`
/// (utoipa's `Link` misses serde's camel-case renaming), and the unsigned integer formats. Nothing else
/// in the document is spelled so: its properties are in camel case, its descriptions name no format.
const SPELLINGS: [(&str, &str); 5] = [
    ("\"operation_id\":", "\"operationId\":"),
    ("\"u-int8\"", "\"uint8\""),
    ("\"u-int16\"", "\"uint16\""),
    ("\"u-int32\"", "\"uint32\""),
    ("\"u-int64\"", "\"uint64\""),
];

/// This document.
#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    operation_id = "getOpenApi",
    responses((status = 200, description = "OpenAPI 3.1", body = Object))
)]
pub async fn serve() -> Response {
    ([(CONTENT_TYPE, "application/json")], document()).into_response()
}
