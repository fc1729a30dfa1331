//! The browser wallet and Sign-in with Ethereum, as one reactive context the whole app reads.
//!
//! [`provide_wallet`] (called once, in `App`) puts a [`Wallet`] into context; [`use_wallet`] takes it
//! out. Its signals say who is connected, on which chain, whether that is Coop's chain, and who is
//! signed in; its methods connect, switch chains, sign in and out, and send transactions. On the
//! server they render the signed-out, disconnected state (plus the signed-in address the session
//! cookie names); in the browser (`hydrate`) they talk to the wallet through EIP-1193, found with
//! EIP-6963. All JavaScript interop of the app lives in this module.

pub mod error;
pub mod reason;
pub mod sent;
pub mod session;
pub mod siwe;
pub mod transaction;
pub mod typed_data;

#[cfg(feature = "hydrate")]
mod actions;
#[cfg(feature = "hydrate")]
mod connection;
#[cfg(feature = "hydrate")]
mod discovery;
#[cfg(feature = "hydrate")]
mod js;
#[cfg(feature = "hydrate")]
mod provider;

use std::collections::BTreeMap;

use alloy_primitives::Address;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

pub use error::WalletError;
pub use session::{SignInState, SignedInAs};
pub use transaction::{TxFailure, TxProgress, UnsignedTx};

/// Where the chain the app works on is described: `GET` answers a [`ChainInfo`].
pub const CHAIN_INFO_PATH: &str = "/api/v1/chain";

/// The chain Coop runs on, as the server describes it to wallets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ChainInfo {
    #[cfg_attr(feature = "ssr", schema(minimum = 1))]
    pub chain_id: u64,
    /// A name a person recognises ("Ethereum", "Sepolia", "Coop dev chain").
    pub name: String,
    /// A JSON-RPC endpoint the browser's wallet may use, for `wallet_addEthereumChain`; `None` when
    /// the server's own endpoint is not one to hand out.
    #[cfg_attr(feature = "ssr", schema(required = true))]
    pub rpc_url: Option<String>,
    pub native_currency: NativeCurrency,
    /// Coop's contracts on this chain by name (`marketplace`, `data_token`, ...); empty without a
    /// deployment.
    #[serde(serialize_with = "checksummed::serialize_map")]
    #[cfg_attr(feature = "ssr", schema(value_type = BTreeMap<String, crate::schemas::AnswerAddress>))]
    pub contracts: BTreeMap<String, Address>,
    /// The server's operator (commits Data Union books) and join-part agent (adds members): a Data
    /// Union deployed from the editor names them. `None` when this server holds no such key.
    #[serde(default, serialize_with = "checksummed::serialize_option")]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<crate::schemas::AnswerAddress>))]
    pub operator: Option<Address>,
    /// The join-part agent's address; `None` when this server holds no agent key.
    #[serde(default, serialize_with = "checksummed::serialize_option")]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<crate::schemas::AnswerAddress>))]
    pub join_agent: Option<Address>,
    /// The validator's address, which vetoes wrong commits; `None` when this server holds no
    /// validator key.
    #[serde(default, serialize_with = "checksummed::serialize_option")]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<crate::schemas::AnswerAddress>))]
    pub validator: Option<Address>,
}

impl ChainInfo {
    /// The chain id as EIP-1193 writes it: `0x` and lowercase hex.
    pub fn hex_id(&self) -> String {
        format!("{:#x}", self.chain_id)
    }
}

/// Addresses in answers are written with their EIP-55 checksum, as everywhere in Coop's API.
pub(crate) mod checksummed {
    use std::collections::BTreeMap;

    use alloy_primitives::Address;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(address: &Address, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&address.to_checksum(None))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Address, D::Error> {
        Address::deserialize(deserializer)
    }

    pub fn serialize_option<S: Serializer>(address: &Option<Address>, serializer: S) -> Result<S::Ok, S::Error> {
        match address {
            Some(address) => serializer.serialize_some(&address.to_checksum(None)),
            None => serializer.serialize_none(),
        }
    }

    pub fn serialize_map<S: Serializer>(map: &BTreeMap<String, Address>, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(map.iter().map(|(name, address)| (name, address.to_checksum(None))))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NativeCurrency {
    pub name: String,
    pub symbol: String,
    pub decimals: u8,
}

/// A wallet that announced itself (EIP-6963), or the legacy `window.ethereum` one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WalletInfo {
    pub uuid: String,
    pub name: String,
    /// A data URI (EIP-6963 requires one); empty for the legacy provider.
    pub icon: String,
    /// Reverse DNS id (`io.metamask`); remembered to reconnect on the next visit.
    pub rdns: String,
}

/// Where the connection to the wallet stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WalletStatus {
    #[default]
    Disconnected,
    /// Asking the wallet for access; the wallet is showing its prompt.
    Connecting,
    /// Quietly restoring last visit's connection, without a prompt.
    Reconnecting,
    Connected,
}

/// The wallet context: signals to read, and the actions that change them.
#[derive(Clone, Copy)]
pub struct Wallet {
    pub status: RwSignal<WalletStatus>,
    /// The connected account.
    pub address: RwSignal<Option<Address>>,
    /// The chain the wallet is on.
    pub chain_id: RwSignal<Option<u64>>,
    /// The chain Coop runs on, once the server told.
    pub chain: RwSignal<Option<ChainInfo>>,
    /// Every wallet found in the browser.
    pub wallets: RwSignal<Vec<WalletInfo>>,
    /// The wallet in use.
    pub current: RwSignal<Option<WalletInfo>>,
    /// The last problem, in plain words; cleared by the next action.
    pub error: RwSignal<Option<WalletError>>,
    /// Who is signed in, as far as this page knows.
    pub sign_in: RwSignal<SignInState>,
    /// A chain switch is waiting for the wallet.
    pub switching: RwSignal<bool>,
    /// Transactions sent from these pages, also before a reload, until mined or dropped and then
    /// until dismissed (`sent`).
    pub sent: RwSignal<Vec<sent::Tracked>>,
    /// Who the session cookie named when the server rendered the page, carried to the browser.
    /// The server renders from `rendered_as` and never reads it.
    #[cfg_attr(feature = "ssr", allow(dead_code))]
    pub(crate) server_session: Resource<Option<SignedInAs>>,
    /// The same, as the server knew it before rendering began (so the page renders it in place).
    #[cfg(feature = "ssr")]
    rendered_as: StoredValue<Option<SignedInAs>>,
}

/// Puts the [`Wallet`] into context and, in the browser, starts wallet discovery, asks the server for
/// its chain, and restores last visit's connection.
pub fn provide_wallet() -> Wallet {
    let wallet = Wallet {
        status: RwSignal::new(WalletStatus::Disconnected),
        address: RwSignal::new(None),
        chain_id: RwSignal::new(None),
        chain: RwSignal::new(None),
        wallets: RwSignal::new(Vec::new()),
        current: RwSignal::new(None),
        error: RwSignal::new(None),
        sign_in: RwSignal::new(SignInState::FromServer),
        switching: RwSignal::new(false),
        sent: RwSignal::new(Vec::new()),
        server_session: Resource::new(|| (), |()| async { session::signed_in().await.ok().flatten() }),
        #[cfg(feature = "ssr")]
        rendered_as: StoredValue::new(session::signed_in_at_render()),
    };
    provide_context(wallet);
    #[cfg(feature = "hydrate")]
    TO_START.with(|to_start| to_start.set(Some(wallet)));
    wallet
}

#[cfg(feature = "hydrate")]
thread_local! {
    /// The wallet [`provide_wallet`] made, until [`start_after_hydration`] starts it.
    static TO_START: std::cell::Cell<Option<Wallet>> = const { std::cell::Cell::new(None) };
}

/// Restores last visit's connection and follows the transactions remembered from it; called by the
/// hydrate entry once the whole page is hydrated.
///
/// Not earlier: a page whose code is still loading hydrates later than the header, and a wallet
/// that reconnects meanwhile would change the header under the hydration, which then never ends.
/// A first visit has nothing to restore and loads no wallet code until a click asks for it.
#[cfg(feature = "hydrate")]
pub fn start_after_hydration() {
    let Some(wallet) = TO_START.with(std::cell::Cell::take) else { return };
    let remembered_wallet = js::remembered_wallet().is_some();
    if remembered_wallet {
        // At once, not when the code has loaded: "Connect wallet" must not show (nor be clicked)
        // while the remembered wallet is on its way back.
        wallet.status.set(WalletStatus::Reconnecting);
    }
    if remembered_wallet || js::has_remembered_sent() {
        leptos::task::spawn_local(actions::start(wallet));
    }
}

/// The wallet context that [`provide_wallet`] put in place.
pub fn use_wallet() -> Wallet {
    expect_context::<Wallet>()
}

impl Wallet {
    /// Remembers a sent transaction, in the page and in the browser's storage.
    #[cfg(feature = "hydrate")]
    pub(crate) fn remember_sent(&self, tx: sent::SentTx) {
        sent::watch(*self);
        js::remember_sent(&tx);
        self.sent.update(|all| {
            if !all.iter().any(|tracked| tracked.tx.hash == tx.hash) {
                all.push(sent::Tracked { tx, state: sent::SentState::Pending });
            }
        });
    }

    /// A remembered transaction was mined or dropped: the storage forgets it, the page shows how it
    /// ended until dismissed.
    #[cfg(feature = "hydrate")]
    pub(crate) fn settle_sent(&self, hash: alloy_primitives::B256, state: sent::SentState) {
        js::forget_sent(hash);
        self.sent.update(|all| {
            for tracked in all.iter_mut().filter(|tracked| tracked.tx.hash == hash) {
                tracked.state = state;
            }
        });
    }

    /// Takes a settled transaction off the page.
    pub fn dismiss_sent(&self, hash: alloy_primitives::B256) {
        self.sent
            .update(|all| all.retain(|tracked| tracked.tx.hash != hash || tracked.state == sent::SentState::Pending));
    }

    /// Whether the wallet is on Coop's chain. `true` while either is unknown: nothing to warn about yet.
    pub fn is_right_chain(&self) -> bool {
        match (self.chain_id.get(), self.chain.get()) {
            (Some(have), Some(want)) => have == want.chain_id,
            _ => true,
        }
    }

    pub fn is_connected(&self) -> bool {
        self.status.get() == WalletStatus::Connected
    }

    /// The name of Coop's chain, for messages ("Switch to ...").
    pub fn chain_name(&self) -> String {
        self.chain.get().map(|chain| chain.name).unwrap_or_else(|| "Coop's network".to_owned())
    }

    /// Who is signed in: what this page did, or else what the server rendered.
    pub fn signed_in(&self) -> Option<SignedInAs> {
        match self.sign_in.get() {
            SignInState::FromServer => self.signed_in_from_server(),
            SignInState::SignedIn(who) => Some(who),
            SignInState::SignedOut | SignInState::SigningIn => None,
        }
    }

    fn signed_in_from_server(&self) -> Option<SignedInAs> {
        #[cfg(feature = "ssr")]
        {
            self.rendered_as.get_value()
        }
        // In the browser the answer is in the page already: the server resolved it before rendering.
        #[cfg(not(feature = "ssr"))]
        {
            self.server_session.get().flatten()
        }
    }

    /// "Connect wallet": with several wallets in the browser, opens the list to choose from
    /// (`choosing`), else asks the only one for access.
    pub fn connect_or_choose(&self, choosing: RwSignal<bool>) {
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(actions::connect_or_choose(*self, choosing));
        #[cfg(not(feature = "hydrate"))]
        let _ = choosing;
    }

    /// Asks the wallet for access. With several wallets, `rdns` says which; `None` takes the only one
    /// (or the legacy `window.ethereum`).
    pub fn connect(&self, rdns: Option<String>) {
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(actions::connect(*self, rdns));
        #[cfg(not(feature = "hydrate"))]
        let _ = rdns;
    }

    /// Forgets the connection (and asks the wallet to forget it too, where it can), and signs out.
    pub fn disconnect(&self) {
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(actions::disconnect(*self));
    }

    /// Asks the wallet to switch to Coop's chain, adding it to the wallet first if it does not know it.
    pub fn switch_chain(&self) {
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(actions::switch_chain(*self));
    }

    /// Signs in with Ethereum: a nonce from the server, a message signed in the wallet, a session.
    pub fn sign_in(&self) {
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(actions::sign_in(*self));
    }

    pub fn sign_out(&self) {
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(actions::sign_out(*self));
    }

    /// Asks the wallet to sign `message` (EIP-191 `personal_sign`) with the connected account, on
    /// Coop's chain; the signature as `0x` and hex. Join requests are signed this way.
    pub async fn sign_message(&self, message: String) -> Result<String, WalletError> {
        #[cfg(feature = "hydrate")]
        {
            let Some(address) = self.address.get_untracked() else { return Err(WalletError::Unauthorized) };
            connection::ensure_right_chain(*self).await?;
            let hex_message = alloy_primitives::hex::encode_prefixed(message.as_bytes());
            let params = serde_json::json!([hex_message, address.to_checksum(None)]);
            let signature = connection::request(*self, "personal_sign", params).await?;
            signature.as_str().map(str::to_owned).ok_or(WalletError::Server)
        }
        #[cfg(not(feature = "hydrate"))]
        {
            let _ = message;
            Err(WalletError::NoWallet)
        }
    }

    /// Sends `tx` through the wallet and follows it; the returned signal reports each step.
    pub fn send_transaction(&self, tx: UnsignedTx) -> ReadSignal<TxProgress> {
        let (progress, set_progress) = signal(TxProgress::Idle);
        #[cfg(feature = "hydrate")]
        {
            let wallet = *self;
            leptos::task::spawn_local(async move {
                let _ = wallet.send_transaction_and_wait(tx, move |step| set_progress.set(step)).await;
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (tx, set_progress);
        progress
    }

    /// Sends `tx` and waits until it is mined, telling `report` each step; for flows of several
    /// transactions (approve, then buy). The result is the last step.
    pub async fn send_transaction_and_wait(
        &self,
        tx: UnsignedTx,
        report: impl Fn(TxProgress) + 'static,
    ) -> Result<transaction::Confirmed, TxFailure> {
        #[cfg(feature = "hydrate")]
        {
            transaction::send(*self, tx, report).await
        }
        #[cfg(not(feature = "hydrate"))]
        {
            let _ = (tx, &report);
            Err(TxFailure { hash: None, reason: WalletError::NoWallet.to_string() })
        }
    }

    /// Any other request to the connected wallet (`eth_signTypedData_v4` for a permit), on Coop's
    /// chain (switching first if needed); errors in plain words.
    #[cfg(feature = "hydrate")]
    pub async fn request(&self, method: &str, params: serde_json::Value) -> Result<serde_json::Value, WalletError> {
        connection::ensure_right_chain(*self).await?;
        connection::request(*self, method, params).await
    }
}

/// `0xf39F…2266`: an address short enough for a button.
pub fn short_address(address: &Address) -> String {
    let full = address.to_checksum(None);
    format!("{}…{}", &full[..6], &full[full.len() - 4..])
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::address;

    #[test]
    fn a_short_address_keeps_the_checksummed_ends() {
        assert_eq!(short_address(&address!("f39fd6e51aad88f6f4ce6ab8827279cfffb92266")), "0xf39F…2266");
    }

    #[test]
    fn a_chain_id_is_written_as_lowercase_hex() {
        let chain = ChainInfo {
            chain_id: 31337,
            name: "x".into(),
            rpc_url: None,
            native_currency: NativeCurrency { name: "Ether".into(), symbol: "ETH".into(), decimals: 18 },
            contracts: BTreeMap::new(),
            operator: None,
            join_agent: None,
            validator: None,
        };
        assert_eq!(chain.hex_id(), "0x7a69");
    }
}
