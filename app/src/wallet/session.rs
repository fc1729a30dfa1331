//! Who is signed in: the server's session (read during server rendering through a port the server
//! fills in), and the browser's sign-in and sign-out flows against the REST endpoints.

use alloy_primitives::Address;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// The REST endpoints the flows use; the server mounts them at these paths.
pub const NONCE_PATH: &str = "/api/v1/auth/nonce";
pub const SIGN_IN_PATH: &str = "/api/v1/auth/sign-in";
pub const SIGN_OUT_PATH: &str = "/api/v1/auth/sign-out";
pub const ME_PATH: &str = "/api/v1/auth/me";

/// The statement the sign-in message shows in the wallet.
pub const STATEMENT: &str =
    "Sign in to Coop. This only proves that you own this address: it sends no transaction and costs nothing.";

/// A signed-in account, as the session holds it and `GET /api/v1/auth/me` answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SignedInAs {
    #[serde(with = "crate::wallet::checksummed")]
    #[cfg_attr(feature = "ssr", schema(value_type = crate::schemas::AnswerAddress))]
    pub address: Address,
    #[cfg_attr(feature = "ssr", schema(minimum = 1))]
    pub chain_id: u64,
}

/// What `GET /api/v1/auth/nonce` answers: a single-use nonce and the times to write into the message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NonceGrant {
    #[cfg_attr(feature = "ssr", schema(pattern = "^[0-9a-f]{32}$"))]
    pub nonce: String,
    #[cfg_attr(feature = "ssr", schema(format = DateTime))]
    pub issued_at: String,
    #[cfg_attr(feature = "ssr", schema(format = DateTime))]
    pub expiration_time: String,
}

/// What `POST /api/v1/auth/sign-in` takes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SignInRequest {
    /// The EIP-4361 message, exactly as signed.
    #[cfg_attr(feature = "ssr", schema(max_length = 4096))]
    pub message: String,
    /// The EIP-191 signature of the message, in hex: 65 bytes by an account, or any signature the
    /// account's contract (a Safe, say) accepts through `isValidSignature` (EIP-1271).
    #[cfg_attr(feature = "ssr", schema(value_type = crate::schemas::Signature))]
    pub signature: String,
}

/// Where the page stands with signing in.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum SignInState {
    /// Nothing happened on this page yet: the server's rendering says.
    #[default]
    FromServer,
    SigningIn,
    SignedIn(SignedInAs),
    SignedOut,
}

/// Who the request's session cookie names; `None` when nobody signed in.
#[server(endpoint = "signed_in")]
pub async fn signed_in() -> Result<Option<SignedInAs>, crate::error::AppError> {
    let Some(session) = ssr::request_session() else { return Ok(None) };
    Ok(session.0.signed_in().await)
}

/// While rendering a page on the server: who its session names, as read before rendering began.
#[cfg(feature = "ssr")]
pub fn signed_in_at_render() -> Option<SignedInAs> {
    ssr::request_session().and_then(|session| session.0.signed_in_now())
}

/// The port through which the server lends the page its session; the server puts a
/// [`ssr::RequestSession`] into every request's extensions.
#[cfg(feature = "ssr")]
pub mod ssr {
    use std::future::Future;
    use std::pin::Pin;
    use std::sync::Arc;

    use super::SignedInAs;

    pub trait SessionReader: Send + Sync {
        /// Who is signed in; `None` for nobody, or when the session cannot be read.
        fn signed_in(&self) -> Pin<Box<dyn Future<Output = Option<SignedInAs>> + Send + '_>>;

        /// Who is signed in, if the server read it before handing the request on (it does for pages).
        fn signed_in_now(&self) -> Option<SignedInAs>;
    }

    #[derive(Clone)]
    pub struct RequestSession(pub Arc<dyn SessionReader>);

    /// The session of the request being served, if the server lent one.
    pub(crate) fn request_session() -> Option<RequestSession> {
        let parts = leptos::prelude::use_context::<http::request::Parts>()?;
        parts.extensions.get::<RequestSession>().cloned()
    }
}

#[cfg(feature = "hydrate")]
pub(crate) use flows::{sign_in, sign_out};

#[cfg(feature = "hydrate")]
mod flows {
    use super::*;
    use crate::wallet::siwe;
    use crate::wallet::{Wallet, WalletError, connection, js};

    pub async fn sign_in(wallet: Wallet) {
        wallet.error.set(None);
        let before = wallet.sign_in.get_untracked();
        wallet.sign_in.set(SignInState::SigningIn);
        match try_sign_in(wallet).await {
            Ok(who) => wallet.sign_in.set(SignInState::SignedIn(who)),
            Err(error) => {
                // A refusal changes nothing: whoever was signed in stays signed in.
                wallet.sign_in.set(before);
                wallet.error.set(Some(error));
            }
        }
    }

    async fn try_sign_in(wallet: Wallet) -> Result<SignedInAs, WalletError> {
        let Some(address) = wallet.address.get_untracked() else { return Err(WalletError::Unauthorized) };
        let chain = connection::ensure_right_chain(wallet).await?;
        let grant: NonceGrant = js::get_json(NONCE_PATH).await?;
        let location = js::location().ok_or(WalletError::Server)?;
        let message = siwe::sign_in_message(&location.host, &location.origin, address, chain.chain_id, &grant)
            .map_err(|_| WalletError::Server)?
            .to_string();
        let hex_message = alloy_primitives::hex::encode_prefixed(message.as_bytes());
        let signature =
            connection::request(wallet, "personal_sign", serde_json::json!([hex_message, address.to_checksum(None)]))
                .await?;
        let signature = signature.as_str().ok_or(WalletError::Server)?.to_owned();
        js::post_json(SIGN_IN_PATH, &SignInRequest { message, signature }).await
    }

    pub async fn sign_out(wallet: Wallet) {
        wallet.error.set(None);
        match js::post_empty(SIGN_OUT_PATH).await {
            Ok(()) => wallet.sign_in.set(SignInState::SignedOut),
            Err(error) => wallet.error.set(Some(error)),
        }
    }
}
