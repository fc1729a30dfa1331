//! The refusals many operations share, as named responses, and what the layers around every route
//! add to each operation: 429 and 503 everywhere, 403 `cross_site` on every change, the `x-coop-block`
//! header on every answer under `/api`, and the session cookie the signed-in operations need.

use utoipa::openapi::header::{Header, HeaderBuilder};
use utoipa::openapi::path::{HttpMethod, Operation};
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr};
use utoipa::{Modify, ToResponse, ToSchema};

use crate::api::AS_OF_HEADER;
use crate::auth::SESSION_COOKIE;
use crate::http::ErrorBody;

/// The name of the security scheme of the signed-in operations.
pub const SESSION: &str = "session";
/// The name of the read-token security scheme (`coop::read_token`).
pub const READ_TOKEN: &str = "readToken";

const RETRY_AFTER: &str = "Retry-After";

fn as_of_header() -> Header {
    let block = ObjectBuilder::new().schema_type(Type::Integer).minimum(Some(0u64));
    HeaderBuilder::new().schema(block).description(Some("The block the answer is as of.")).build()
}

fn retry_after_header() -> Header {
    let seconds = ObjectBuilder::new().schema_type(Type::Integer).minimum(Some(1u64));
    HeaderBuilder::new().schema(seconds).description(Some("Seconds to wait before asking again.")).build()
}

/// An `Error` body answered with `description`.
pub fn refusal(description: &str) -> ResponseBuilder {
    let body = ContentBuilder::new().schema(Some(Ref::from_schema_name(ErrorBody::name()))).build();
    ResponseBuilder::new().description(description).content("application/json", body)
}

macro_rules! refusals {
    ($($name:ident [$($header:expr => $value:expr),*]: $description:literal;)+) => {$(
        pub struct $name;

        impl<'s> ToResponse<'s> for $name {
            fn response() -> (&'s str, RefOr<Response>) {
                let response = refusal($description)$(.header($header, $value))*;
                (stringify!($name), response.build().into())
            }
        }
    )+};
}

refusals! {
    BadRequest [AS_OF_HEADER.as_str() => as_of_header()]: "Bad input; `field` names the parameter.";
    Unauthorized [AS_OF_HEADER.as_str() => as_of_header()]: "Not signed in (`not_signed_in`), or the \
        sign-in was refused; `code` says why.";
    Forbidden []: "Signed in, but not the union's owner (`not_owner`); or a change sent from a page of \
        another site (`cross_site`).";
    NotFound [AS_OF_HEADER.as_str() => as_of_header()]: "No such union, member, product, draft, cover or \
        block (yet).";
    Conflict [AS_OF_HEADER.as_str() => as_of_header()]: "Well formed, but not answerable in the current \
        state: a deleted product (`product_not_listed`), a Data Union set aside because one of its events \
        could not be applied (`union_quarantined`), a book that cannot be built (`no_book`), a quota \
        reached (`quota_exceeded`); `code` and `message` say which.";
    TooManyRequests [RETRY_AFTER => retry_after_header()]: "This client address or signed-in account asked \
        too often (`too_many_requests`); ask again after `Retry-After` seconds.";
    Unavailable [AS_OF_HEADER.as_str() => as_of_header(), RETRY_AFTER => retry_after_header()]: "The chain \
        or the database does not answer (`chain_unavailable`, `database_unavailable`), the server is busy \
        (`busy`), or the answer took too long (`timeout`); ask again after `Retry-After` seconds.";
}

/// What the layers around the routes add to every operation (`startup::router`, `http::routes`).
pub struct Layers;

impl Modify for Layers {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for (path, item) in openapi.paths.paths.iter_mut() {
            let operations = [
                (HttpMethod::Get, &mut item.get),
                (HttpMethod::Post, &mut item.post),
                (HttpMethod::Put, &mut item.put),
                (HttpMethod::Delete, &mut item.delete),
            ];
            for (method, operation) in operations {
                if let Some(operation) = operation {
                    add_layers(operation, method, path.starts_with("/api/"));
                }
            }
        }
        let session = ApiKeyValue::with_description(
            SESSION_COOKIE,
            "The session a Sign-in with Ethereum opens (POST /api/v1/auth/sign-in).",
        );
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(SESSION, SecurityScheme::ApiKey(ApiKey::Cookie(session)));
        let read_token = HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .bearer_format("coop-read.<reader>.<expires>.<signature>")
            .description(Some(
                "A program's read token: its key's EIP-191 signature of the token's text, which names this \
                 server's domain, the chain and an end at most an hour ahead (docs/streams.md). Reads only.",
            ))
            .build();
        components.add_security_scheme(READ_TOKEN, SecurityScheme::Http(read_token));
    }
}

fn add_layers(operation: &mut Operation, method: HttpMethod, api: bool) {
    // utoipa tags an operation with the module path it was listed by; the API has no tags.
    operation.tags = None;
    let responses = &mut operation.responses.responses;
    let named = |name: &str| RefOr::Ref(Ref::from_response_name(name));
    // The limits per client address and per account, and the deadline and the cap on requests served
    // at once.
    responses.entry("429".to_owned()).or_insert_with(|| named("TooManyRequests"));
    responses.entry("503".to_owned()).or_insert_with(|| named("Unavailable"));
    if !matches!(method, HttpMethod::Get) {
        // A change sent by a page of another site is refused before it reaches the route.
        responses.entry("403".to_owned()).or_insert_with(|| named("Forbidden"));
    }
    if api {
        // `api::as_of_header` gives every answer under `/api` the block it is as of.
        for response in responses.values_mut() {
            if let RefOr::T(response) = response {
                response.headers.entry(AS_OF_HEADER.as_str().to_owned()).or_insert_with(as_of_header);
            }
        }
    }
}
