//! The REST API under `/api/v1`, read side: Data Unions, their stats, history, members, figures with
//! proofs and books; Marketplace products and subscriptions; quotes; the OpenAPI document, derived
//! from the handlers (`openapi`).
//!
//! Handlers answer from the in-memory read models (`Services::unions`, `Services::catalog`), so every
//! answer is as of the block those stand at: the `x-coop-block` header and the `asOfBlock` field say
//! which. Amounts are decimal strings of wei, never floats. Bad input is a 400 naming the field.

mod clock;
mod members;
pub mod openapi;
pub(crate) mod params;
mod products;
mod quotes;
mod unions;

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

pub use crate::service::Wei;
pub use clock::ChainClock;

use crate::http::{RouteTable, Services};

/// The response header that carries the block an answer is as of.
pub const AS_OF_HEADER: HeaderName = HeaderName::from_static("x-coop-block");

pub(crate) fn routes() -> RouteTable {
    let table = RouteTable::default()
        .get("/api/v1/openapi.json", openapi::serve)
        .get("/api/v1/unions", unions::list)
        .get("/api/v1/unions/{address}", unions::one)
        .get("/api/v1/unions/{address}/history", unions::history)
        .get("/api/v1/unions/{address}/books/{block}", unions::book)
        .get("/api/v1/unions/{address}/members", members::list)
        .get("/api/v1/unions/{address}/members/{member}", members::one)
        .get("/api/v1/unions/{address}/members/{member}/relay", members::relay_quote)
        .post("/api/v1/unions/{address}/members/{member}/relay", members::relay_withdrawal)
        .get("/api/v1/products", products::list)
        .get("/api/v1/products/{id}", products::one)
        .get("/api/v1/subscriptions", products::subscriptions)
        .get("/api/v1/quotes", quotes::quote)
        .get("/api/v1/validation", crate::validator::validation);
    // The editor's drafts, covers and product metadata (`crate::products`).
    let table =
        crate::products::metadata::routes(crate::products::covers::routes(crate::products::drafts::routes(table)));
    crate::streams::api::routes(crate::joins::routes(table))
}

/// Gives every API answer that does not carry the as-of header (errors, the OpenAPI document) the
/// block the unions stand at.
pub async fn as_of_header(State(services): State<Arc<Services>>, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    if !response.headers().contains_key(&AS_OF_HEADER) {
        let as_of = services.models.as_of().await;
        response.headers_mut().insert(AS_OF_HEADER, HeaderValue::from(as_of));
    }
    response
}

/// A JSON answer as of a block: `{"asOfBlock": n, ...body}` with the `x-coop-block` header.
#[derive(Serialize, ToSchema)]
pub struct Answer<T> {
    /// The block this answer is as of.
    #[serde(rename = "asOfBlock")]
    as_of: u64,
    #[serde(flatten)]
    body: T,
    /// A field whose value is JSON text written as is (a book's canonical form, byte for byte).
    #[serde(skip)]
    raw: Option<(&'static str, String)>,
}

impl<T: Serialize> Answer<T> {
    pub fn new(as_of: u64, body: T) -> Self {
        Self { as_of, body, raw: None }
    }

    /// Adds the field `name` with `json` (valid JSON) as its value, unchanged.
    pub fn with_raw(mut self, name: &'static str, json: String) -> Self {
        self.raw = Some((name, json));
        self
    }
}

impl<T: Serialize> IntoResponse for Answer<T> {
    fn into_response(self) -> Response {
        let mut json = match serde_json::to_string(&self) {
            Ok(json) => json,
            Err(error) => return crate::http::ApiError::Unexpected(error.into()).into_response(),
        };
        if let Some((name, raw)) = self.raw {
            // An answer always serialises to an object with at least `asOfBlock`, so it ends with `}`.
            json.pop();
            json.push_str(&format!(",\"{name}\":{raw}}}"));
        }
        let mut response = ([(CONTENT_TYPE, "application/json")], json).into_response();
        response.headers_mut().insert(AS_OF_HEADER, HeaderValue::from(self.as_of));
        response
    }
}
