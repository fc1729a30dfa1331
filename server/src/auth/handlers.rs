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
use crate::http::ErrorCode;
use crate::http::{ApiError, Services};
use crate::signatures;

/// How long a nonce, and so the message written with it, stays good.
const NONCE_LIFETIME: Duration = Duration::minutes(10);

/// `GET /api/v1/auth/nonce`: a fresh single-use nonce, with the times to put into the message. The
/// nonce is bound to the asking session: a message signed with it signs in only that session, so a
/// signature replayed from anywhere else is refused.
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

/// `POST /api/v1/auth/sign-in` with `{message, signature}`: checks the message against this server's
/// public origin (not the request's `Host`) and chain, its times, the signature and the nonce, then
/// opens a session for the address.
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
    let request: SignInRequest = serde_json::from_slice(&body).map_err(|_| SignInError::MalformedBody)?;
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

/// `POST /api/v1/auth/sign-out`: ends the session. A plain form post (no JavaScript) is sent back to
/// the home page; an API call gets 204.
pub async fn sign_out(session: Session, headers: HeaderMap) -> Result<Response, ApiError> {
    session.flush().await.map_err(|error| anyhow::anyhow!("deleting the session: {error}"))?;
    let from_a_form =
        headers.get(ACCEPT).and_then(|accept| accept.to_str().ok()).is_some_and(|accept| accept.contains("text/html"));
    Ok(if from_a_form { Redirect::to("/").into_response() } else { StatusCode::NO_CONTENT.into_response() })
}

/// `GET /api/v1/auth/me`: who is signed in, or 401 `not_signed_in`.
pub async fn me(session: Session) -> Result<Json<SignedInAs>, ApiError> {
    signed_in_as(&session).await?.map(Json).ok_or_else(|| ApiError::Unauthorized {
        code: ErrorCode::NotSignedIn,
        message: "nobody is signed in with this session".to_owned(),
        field: None,
    })
}
