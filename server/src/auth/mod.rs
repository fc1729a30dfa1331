//! Sign-in with Ethereum (EIP-4361) and the sessions it opens.
//!
//! `GET /api/v1/auth/nonce` hands out a single-use nonce (stored, expiring); the page writes it into a
//! message bound to this host and this chain, the wallet signs it (EIP-191), and
//! `POST /api/v1/auth/sign-in` checks all of it and opens a session (tower-sessions, stored in our
//! database). Handlers for owner-only actions take [`SignedIn`], which answers 401 for anyone else.

mod handlers;
mod session;
mod verify;

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};

use app::wallet::session::{ME_PATH, NONCE_PATH, SIGN_IN_PATH, SIGN_OUT_PATH};

pub use session::{SESSION_COOKIE, SignedIn, provide_session_reader, session_layer};
pub use verify::{Expected, SignInError, check_message, check_signature};

use crate::http::Services;

/// The sign-in endpoints; merge them into the router, inside [`session_layer`].
pub fn routes() -> Router<Arc<Services>> {
    Router::new()
        .route(NONCE_PATH, get(handlers::nonce))
        .route(SIGN_IN_PATH, post(handlers::sign_in))
        .route(SIGN_OUT_PATH, post(handlers::sign_out))
        .route(ME_PATH, get(handlers::me))
}
