//! Sign-in with Ethereum (EIP-4361) and the sessions it opens.
//!
//! `GET /api/v1/auth/nonce` hands out a single-use nonce (stored, expiring); the page writes it into a
//! message bound to this server's public origin and this chain, the wallet signs it (EIP-191), and
//! `POST /api/v1/auth/sign-in` checks all of it and opens a session (tower-sessions, stored in our
//! database). Handlers for owner-only actions take [`SignedIn`], which answers 401 for anyone else.

pub(crate) mod handlers;
mod origin;
mod reading;
mod session;
mod verify;

use app::wallet::CHAIN_INFO_PATH;
use app::wallet::session::{ME_PATH, NONCE_PATH, SIGN_IN_PATH, SIGN_OUT_PATH};

pub use origin::{PublicOrigin, authority};
pub use reading::Reading;
pub use session::{SESSION_COOKIE, SignedIn, provide_session_reader, session_layer};
pub use verify::{Expected, SignInError, check_message, signature_bytes};

use crate::chain_info;
use crate::http::RouteTable;

/// The sign-in endpoints, and the chain description the wallet needs to sign in on the right chain.
/// They need [`session_layer`] around them, and `chain_info::describe`'s answer as an extension.
pub fn routes() -> RouteTable {
    RouteTable::default()
        .get(NONCE_PATH, handlers::nonce)
        .post(SIGN_IN_PATH, handlers::sign_in)
        .post(SIGN_OUT_PATH, handlers::sign_out)
        .get(ME_PATH, handlers::me)
        .get(CHAIN_INFO_PATH, chain_info::chain)
}
