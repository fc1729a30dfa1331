//! The sign-in endpoints.

use std::sync::Arc;

use alloy::primitives::{Address, FixedBytes};
use anyhow::Context;
use app::wallet::SignedInAs;
use app::wallet::session::{NonceGrant, SignInRequest};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::header::{ACCEPT, CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use tower_sessions::Session;
use tower_sessions::cookie::time::{Duration, OffsetDateTime};

use super::session::{NONCE_KEY, SIGNED_IN_KEY, signed_in_as};
use super::verify::{Expected, SignInError, check_message, format_time, signature_bytes};
use crate::api::openapi::{BadRequest, Unauthorized};
use crate::http::{ApiError, ErrorBody, ErrorCode, Services};
use crate::signatures;

/// How long a nonce, and so the message written with it, stays good.
const NONCE_LIFETIME: Duration = Duration::minutes(10);

/// A sign-in nonce
///
/// A fresh single-use nonce for a Sign-in with Ethereum (EIP-4361) message, good for 10 minutes,
/// with the Issued At and Expiration Time to write into the message. Not cached. The nonce is bound
/// to the asking session: a message signed with it signs in only that session, so a signature
/// replayed from anywhere else is refused.
#[utoipa::path(
    get,
    path = "/api/v1/auth/nonce",
    operation_id = "getNonce",
    responses((status = 200, description = "The nonce and the message times", body = NonceGrant))
)]
pub async fn nonce(State(services): State<Arc<Services>>, session: Session) -> Result<Response, ApiError> {
    let now = OffsetDateTime::now_utc();
    // 128 random bits as 32 hex digits: alphanumeric, as EIP-4361 requires, and unguessable.
    let nonce = alloy::primitives::hex::encode(FixedBytes::<16>::random());
    let expires = now + NONCE_LIFETIME;
    services
        .store
        .issue_nonce(&nonce, expires.unix_timestamp(), now.unix_timestamp())
        .await
        .context("storing a sign-in nonce")?;
    session.insert(NONCE_KEY, &nonce).await.map_err(|error| anyhow::anyhow!("writing the session: {error}"))?;
    let grant = NonceGrant { nonce, issued_at: format_time(now), expiration_time: format_time(expires) };
    Ok(([(CACHE_CONTROL, HeaderValue::from_static("no-store"))], Json(grant)).into_response())
}

/// Sign in with Ethereum
///
/// Checks an EIP-4361 message and its EIP-191 (personal_sign) signature: the message's domain and URI
/// must be this server's public origin (the `public_origin` setting, never the request's Host
/// header), its Chain ID the server's chain, its times current, its nonce one this server issued to
/// this session and nobody used. Then opens a session (cookie `coop_session`, HttpOnly,
/// SameSite=Lax) for the address. Malformed input is a 400; a well-formed message that is refused is
/// a 401 whose code says why (`wrong_domain`, `wrong_uri`, `wrong_chain`, `message_expired`,
/// `message_not_yet_valid`, `issued_in_future`, `bad_signature`, `nonce_used`, `nonce_expired`,
/// `nonce_unknown`). A browser request from another site (Sec-Fetch-Site, else Origin) is a 403
/// `cross_site`, like every change; a body not sent as application/json is a 415 `not_json`.
#[utoipa::path(
    post,
    path = "/api/v1/auth/sign-in",
    operation_id = "signIn",
    request_body = SignInRequest,
    responses(
        (status = 200, description = "Signed in", body = SignedInAs),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 415, description = "The body is not sent as application/json (`not_json`).", body = ErrorBody),
    )
)]
pub async fn sign_in(
    State(services): State<Arc<Services>>,
    session: Session,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<SignedInAs>, ApiError> {
    // A page elsewhere can post `text/plain` without asking the browser first; JSON it cannot.
    let json = headers.get(CONTENT_TYPE).and_then(|value| value.to_str().ok()).is_some_and(|value| {
        value.split(';').next().is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/json"))
    });
    if !json {
        return Err(ApiError::UnsupportedMediaType {
            code: ErrorCode::NotJson,
            message: "a sign-in is a JSON body with Content-Type: application/json".to_owned(),
        });
    }
    // An object only: serde would also read the request from an array of its fields.
    let request = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .filter(serde_json::Value::is_object)
        .and_then(|json| serde_json::from_value::<SignInRequest>(json).ok())
        .ok_or(SignInError::MalformedBody)?;
    let now = OffsetDateTime::now_utc();
    let expected = Expected { domains: services.origin.domains(), chain_id: services.chain_id, now };
    let message = check_message(&request.message, expected)?;
    let address = Address::from(message.address);
    let signature = signature_bytes(&request.signature)?;
    // Before the signature, whose check may ask the chain: a nonce of another session ends it here.
    let issued_here = session
        .get::<String>(NONCE_KEY)
        .await
        .map_err(|error| anyhow::anyhow!("reading the session: {error}"))?
        .is_some_and(|issued| issued == message.nonce);
    if !issued_here {
        return Err(SignInError::NonceUnknown.into());
    }
    if !signatures::is_signed_by(&services.chain, address, request.message.as_bytes(), &signature).await? {
        return Err(SignInError::BadSignature.into());
    }
    // Last, so that a message refused for another reason leaves its nonce usable. (The session keeps
    // its nonce after signing in: a replay from it is then told the nonce was used.)
    let used = services.store.use_nonce(&message.nonce, now.unix_timestamp()).await.context("using a nonce")?;
    if let Some(refusal) = SignInError::from_nonce_use(used) {
        return Err(refusal.into());
    }
    let who = SignedInAs { address, chain_id: message.chain_id };
    // A new session id on every sign-in: an id planted before cannot ride along.
    session.cycle_id().await.map_err(|error| anyhow::anyhow!("renewing the session id: {error}"))?;
    session.insert(SIGNED_IN_KEY, &who).await.map_err(|error| anyhow::anyhow!("writing the session: {error}"))?;
    tracing::info!(target: "auth", address = %who.address, "signed in");
    Ok(Json(who))
}

/// Sign out
///
/// Ends the session. A plain form post (Accept: text/html, no JavaScript) is sent back to the home
/// page; an API call gets 204.
#[utoipa::path(
    post,
    path = "/api/v1/auth/sign-out",
    operation_id = "signOut",
    responses(
        (status = 204, description = "Signed out"),
        (status = 303, description = "Signed out; back to the home page (form posts)"),
    )
)]
pub async fn sign_out(session: Session, headers: HeaderMap) -> Result<Response, ApiError> {
    session.flush().await.map_err(|error| anyhow::anyhow!("deleting the session: {error}"))?;
    let from_a_form =
        headers.get(ACCEPT).and_then(|accept| accept.to_str().ok()).is_some_and(|accept| accept.contains("text/html"));
    Ok(if from_a_form { Redirect::to("/").into_response() } else { StatusCode::NO_CONTENT.into_response() })
}

/// Who is signed in
///
/// The address the session cookie was signed in with, or 401 `not_signed_in`.
#[utoipa::path(
    get,
    path = "/api/v1/auth/me",
    operation_id = "getMe",
    security(("session" = [])),
    responses(
        (status = 200, description = "The signed-in address", body = SignedInAs),
        (status = 401, response = Unauthorized),
    )
)]
pub async fn me(session: Session) -> Result<Json<SignedInAs>, ApiError> {
    signed_in_as(&session).await?.map(Json).ok_or_else(|| ApiError::Unauthorized {
        code: ErrorCode::NotSignedIn,
        message: "nobody is signed in with this session".to_owned(),
        field: None,
    })
}
