//! Sessions: the layer that loads them from the store, the [`SignedIn`] extractor, and the port that
//! lends the web app's server rendering the session's signed-in address.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use alloy::primitives::Address;
use app::wallet::SignedInAs;
use app::wallet::session::ssr::{RequestSession, SessionReader};
use axum::extract::{FromRequestParts, OptionalFromRequestParts, Request};
use axum::http::header::ACCEPT;
use axum::http::request::Parts;
use axum::http::{Extensions, Method};
use axum::middleware::Next;
use axum::response::Response;
use tower_sessions::cookie::SameSite;
use tower_sessions::cookie::time::Duration;
use tower_sessions::{Expiry, Session, SessionManagerLayer};

use super::PublicOrigin;
use crate::http::ApiError;
use crate::http::ErrorCode;
use crate::http::limits::Accounts;
use crate::store::Store;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "coop_session";
/// The session field that holds the [`SignedInAs`].
pub(super) const SIGNED_IN_KEY: &str = "signed_in";
/// The session field that holds the last nonce handed to this session: only it signs this session in.
pub(super) const NONCE_KEY: &str = "sign_in_nonce";
/// A session ends after this long without a request.
const IDLE_EXPIRY: Duration = Duration::days(7);

/// Loads and saves sessions in `store`. The cookie is `HttpOnly` and `SameSite=Lax`, so other sites
/// can neither read it nor send it with their forms' posts, and `Secure` when the public origin is
/// https, so it never travels in clear. (A plain-HTTP development server on 127.0.0.1 needs it
/// without.)
pub fn session_layer(store: Store, origin: &PublicOrigin) -> SessionManagerLayer<Store> {
    SessionManagerLayer::new(store)
        .with_name(SESSION_COOKIE)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(origin.is_https())
        .with_expiry(Expiry::OnInactivity(IDLE_EXPIRY))
}

/// Who the request's session says is signed in, if anyone.
pub(super) async fn signed_in_as(session: &Session) -> Result<Option<SignedInAs>, ApiError> {
    session
        .get::<SignedInAs>(SIGNED_IN_KEY)
        .await
        .map_err(|error| ApiError::Unexpected(anyhow::anyhow!("reading the session: {error}")))
}

fn session_of(extensions: &Extensions) -> Result<Session, ApiError> {
    extensions
        .get::<Session>()
        .cloned()
        .ok_or_else(|| ApiError::Unexpected(anyhow::anyhow!("the session layer is not installed")))
}

/// The signed-in address. As an extractor it refuses anyone not signed in with 401 `not_signed_in`;
/// `Option<SignedIn>` lets a handler serve both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignedIn(pub Address);

impl SignedIn {
    /// Who the session in a request's `extensions` says is signed in. Counts the request against
    /// the account's limit, when the server sets one.
    pub async fn of(extensions: &Extensions) -> Result<Option<Self>, ApiError> {
        let who = signed_in_as(&session_of(extensions)?).await?.map(|who| SignedIn(who.address));
        if let (Some(SignedIn(account)), Some(accounts)) = (who, extensions.get::<Accounts>()) {
            accounts.check(account)?;
        }
        Ok(who)
    }

    /// The refusal of a request that needs someone signed in.
    pub fn required() -> ApiError {
        ApiError::Unauthorized {
            code: ErrorCode::NotSignedIn,
            message: "sign in with your wallet first".to_owned(),
            field: None,
        }
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for SignedIn {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Option<Self>, Self::Rejection> {
        Self::of(&parts.extensions).await
    }
}

impl<S: Send + Sync> FromRequestParts<S> for SignedIn {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        <Self as OptionalFromRequestParts<S>>::from_request_parts(parts, state).await?.ok_or_else(Self::required)
    }
}

/// The web app's view of a request's session. For a page, the signed-in address is read before
/// rendering starts, so the header renders it in place (also for browsers without JavaScript);
/// other requests read it only if asked.
struct Reader {
    session: Session,
    preloaded: Option<Option<SignedInAs>>,
}

impl SessionReader for Reader {
    fn signed_in(&self) -> Pin<Box<dyn Future<Output = Option<SignedInAs>> + Send + '_>> {
        match &self.preloaded {
            Some(who) => Box::pin(std::future::ready(who.clone())),
            None => Box::pin(async move { signed_in_as(&self.session).await.ok().flatten() }),
        }
    }

    fn signed_in_now(&self) -> Option<SignedInAs> {
        self.preloaded.clone().flatten()
    }
}

/// Middleware (inside [`session_layer`]): hands each request's session to the web app as its port.
pub async fn provide_session_reader(mut request: Request, next: Next) -> Response {
    if let Some(session) = request.extensions().get::<Session>().cloned() {
        let preloaded = if is_page(&request) { Some(signed_in_as(&session).await.ok().flatten()) } else { None };
        request.extensions_mut().insert(RequestSession(Arc::new(Reader { session, preloaded })));
    }
    next.run(request).await
}

/// A browser asking for a page (not an asset, not an API call).
fn is_page(request: &Request) -> bool {
    request.method() == Method::GET
        && request
            .headers()
            .get(ACCEPT)
            .and_then(|accept| accept.to_str().ok())
            .is_some_and(|accept| accept.contains("text/html"))
}
