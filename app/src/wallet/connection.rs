//! The live connection to one wallet: connecting, restoring last visit's connection without a prompt,
//! following account and chain changes, switching (or adding) Coop's chain, and disconnecting.

use std::cell::{Cell, RefCell};

use alloy_primitives::Address;
use leptos::prelude::*;
use serde_json::{Value, json};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

use super::discovery;
use super::js;
use super::provider::{Provider, ProviderError};
use super::session::{SignInState, sign_out};
use super::{CHAIN_INFO_PATH, ChainInfo, Wallet, WalletError, WalletInfo, WalletStatus};

/// A function the page put on one of the provider's events.
type Listener = (&'static str, Closure<dyn FnMut(JsValue)>);

/// The provider in use and the listeners this page put on it (removed again on disconnect).
struct Current {
    provider: Provider,
    listeners: Vec<Listener>,
}

thread_local! {
    static CURRENT: RefCell<Option<Current>> = const { RefCell::new(None) };
    static STARTED: Cell<bool> = const { Cell::new(false) };
}

/// Starts discovery, learns Coop's chain, and restores last visit's wallet if there was one.
/// Once per page: the first connect, or a returning visitor's page after hydration, starts it.
pub fn start(wallet: Wallet) {
    if STARTED.replace(true) {
        return;
    }
    discovery::start(wallet);
    leptos::task::spawn_local(async move {
        let _ = load_chain(wallet).await;
    });
    if let Some(rdns) = js::remembered_wallet() {
        leptos::task::spawn_local(reconnect(wallet, rdns));
    }
}

async fn load_chain(wallet: Wallet) -> Result<ChainInfo, WalletError> {
    if let Some(chain) = wallet.chain.get_untracked() {
        return Ok(chain);
    }
    let chain: ChainInfo = js::get_json(CHAIN_INFO_PATH).await?;
    wallet.chain.set(Some(chain.clone()));
    Ok(chain)
}

async fn reconnect(wallet: Wallet, rdns: String) {
    wallet.status.set(WalletStatus::Reconnecting);
    // An extension may announce a moment after the page loads.
    let mut found = discovery::find(&rdns);
    for _ in 0..10 {
        if found.is_some() {
            break;
        }
        js::sleep(100).await;
        discovery::request_announcements();
        found = discovery::find(&rdns);
    }
    let Some((info, provider)) = found else {
        wallet.status.set(WalletStatus::Disconnected);
        return;
    };
    // `eth_accounts` never prompts: it answers only if the wallet still grants this site access.
    let accounts = provider.request("eth_accounts", &json!([])).await.map(|value| first_account(&value));
    match accounts {
        Ok(Some(address)) => {
            if let Err(error) = attach(wallet, info, provider, address).await {
                wallet.status.set(WalletStatus::Disconnected);
                wallet.error.set(Some(error));
            }
        }
        _ => {
            js::forget_wallet();
            wallet.status.set(WalletStatus::Disconnected);
        }
    }
}

pub async fn connect(wallet: Wallet, rdns: Option<String>) {
    wallet.error.set(None);
    let rdns = rdns.or_else(|| discovery::list().first().map(|info| info.rdns.clone()));
    let Some((info, provider)) = rdns.as_deref().and_then(discovery::find) else {
        wallet.error.set(Some(if rdns.is_some() { WalletError::WalletGone } else { WalletError::NoWallet }));
        return;
    };
    wallet.status.set(WalletStatus::Connecting);
    let outcome = match provider.request("eth_requestAccounts", &json!([])).await {
        Ok(accounts) => match first_account(&accounts) {
            Some(address) => attach(wallet, info, provider, address).await,
            None => Err(WalletError::Unauthorized),
        },
        Err(error) => Err(error.to_wallet_error(&wallet.chain_name())),
    };
    if let Err(error) = outcome {
        wallet.status.set(if CURRENT.with_borrow(Option::is_some) {
            WalletStatus::Connected
        } else {
            WalletStatus::Disconnected
        });
        wallet.error.set(Some(error));
    }
}

/// Makes `provider` the one in use for `address`, follows its events, and remembers the choice.
async fn attach(wallet: Wallet, info: WalletInfo, provider: Provider, address: Address) -> Result<(), WalletError> {
    let chain_id = provider.request("eth_chainId", &json!([])).await.map_err(|e| e.to_wallet_error(""))?;
    detach();
    let listeners = vec![
        ("accountsChanged", listener(move |accounts| accounts_changed(wallet, first_account(&accounts)))),
        ("chainChanged", listener(move |chain_id| wallet.chain_id.set(parse_chain_id(&chain_id)))),
        ("disconnect", listener(move |_| wallet.error.set(Some(WalletError::Disconnected)))),
    ];
    for (event, closure) in &listeners {
        provider.on(event, closure.as_ref().unchecked_ref());
    }
    CURRENT.with_borrow_mut(|current| *current = Some(Current { provider, listeners }));
    js::remember_wallet(&info.rdns);
    wallet.current.set(Some(info));
    wallet.chain_id.set(parse_chain_id(&chain_id));
    accounts_changed(wallet, Some(address));
    Ok(())
}

fn listener(mut on_event: impl FnMut(Value) + 'static) -> Closure<dyn FnMut(JsValue)> {
    Closure::new(move |payload: JsValue| on_event(js::from_js(&payload)))
}

/// The wallet's account changed (or was granted); an empty list means the wallet let go of this site.
fn accounts_changed(wallet: Wallet, address: Option<Address>) {
    match address {
        Some(address) => {
            wallet.address.set(Some(address));
            wallet.status.set(WalletStatus::Connected);
        }
        None => {
            detach();
            js::forget_wallet();
            wallet.address.set(None);
            wallet.current.set(None);
            wallet.status.set(WalletStatus::Disconnected);
        }
    }
    // A session proves one address: when the wallet moves to another, it no longer speaks for it.
    let signed_in = match wallet.sign_in.get_untracked() {
        SignInState::SignedIn(who) => Some(who.address),
        SignInState::FromServer => wallet.server_session.get_untracked().flatten().map(|who| who.address),
        SignInState::SignedOut | SignInState::SigningIn => None,
    };
    if let (Some(signed_in), Some(address)) = (signed_in, address)
        && signed_in != address
    {
        leptos::task::spawn_local(sign_out(wallet));
    }
}

fn detach() {
    if let Some(current) = CURRENT.with_borrow_mut(Option::take) {
        for (event, closure) in &current.listeners {
            current.provider.remove_listener(event, closure.as_ref().unchecked_ref());
        }
    }
}

pub async fn disconnect(wallet: Wallet) {
    wallet.error.set(None);
    // Not every wallet can forget a site; those that cannot are simply no longer listened to.
    let _ = request_raw(wallet, "wallet_revokePermissions", json!([{ "eth_accounts": {} }])).await;
    accounts_changed(wallet, None);
    if wallet.signed_in_untracked() {
        sign_out(wallet).await;
    }
}

/// Asks the wallet to switch to Coop's chain; adds the chain first when the wallet does not know it.
pub async fn switch_chain(wallet: Wallet) -> Result<ChainInfo, WalletError> {
    wallet.error.set(None);
    wallet.switching.set(true);
    let outcome = try_switch_chain(wallet).await;
    wallet.switching.set(false);
    if let Err(error) = &outcome {
        wallet.error.set(Some(error.clone()));
    }
    outcome
}

async fn try_switch_chain(wallet: Wallet) -> Result<ChainInfo, WalletError> {
    let chain = load_chain(wallet).await?;
    let switch = json!([{ "chainId": chain.hex_id() }]);
    match request_raw(wallet, "wallet_switchEthereumChain", switch.clone()).await {
        Ok(_) => {}
        Err(error) if is_unknown_chain(&error) => {
            let Some(rpc_url) = &chain.rpc_url else {
                return Err(WalletError::UnknownChain { chain: chain.name.clone() });
            };
            let add = json!([{
                "chainId": chain.hex_id(),
                "chainName": chain.name,
                "rpcUrls": [rpc_url],
                "nativeCurrency": chain.native_currency,
            }]);
            request_raw(wallet, "wallet_addEthereumChain", add).await.map_err(|e| e.to_wallet_error(&chain.name))?;
            // Most wallets switch as they add; the others need asking again.
            request_raw(wallet, "wallet_switchEthereumChain", switch)
                .await
                .map_err(|e| e.to_wallet_error(&chain.name))?;
        }
        Err(error) => return Err(error.to_wallet_error(&chain.name)),
    }
    let now = request(wallet, "eth_chainId", json!([])).await?;
    wallet.chain_id.set(parse_chain_id(&now));
    Ok(chain)
}

/// 4902, or (Coinbase Wallet) -32603 saying so in words.
fn is_unknown_chain(error: &ProviderError) -> bool {
    error.code == Some(4902)
        || (error.code == Some(-32603) && error.message.to_lowercase().contains("unrecognized chain"))
}

/// Coop's chain, after switching the wallet to it if it was on another.
pub async fn ensure_right_chain(wallet: Wallet) -> Result<ChainInfo, WalletError> {
    let chain = load_chain(wallet).await?;
    if wallet.chain_id.get_untracked() == Some(chain.chain_id) {
        return Ok(chain);
    }
    switch_chain(wallet).await
}

/// A request to the wallet in use, its errors in plain words.
pub async fn request(wallet: Wallet, method: &str, params: Value) -> Result<Value, WalletError> {
    request_raw(wallet, method, params).await.map_err(|error| error.to_wallet_error(&wallet.chain_name_untracked()))
}

/// A request to the wallet in use, its errors as the wallet gave them.
pub async fn request_raw(_wallet: Wallet, method: &str, params: Value) -> Result<Value, ProviderError> {
    let provider = CURRENT.with_borrow(|current| current.as_ref().map(|current| current.provider.clone()));
    let Some(provider) = provider else {
        return Err(ProviderError { code: Some(4100), message: "not connected".to_owned(), data: Value::Null });
    };
    provider.request(method, &params).await
}

fn first_account(accounts: &Value) -> Option<Address> {
    accounts.as_array()?.first()?.as_str()?.parse().ok()
}

fn parse_chain_id(value: &Value) -> Option<u64> {
    match value {
        Value::String(hex) => u64::from_str_radix(hex.trim_start_matches("0x"), 16).ok(),
        Value::Number(number) => number.as_u64(),
        _ => None,
    }
}

impl Wallet {
    fn signed_in_untracked(&self) -> bool {
        match self.sign_in.get_untracked() {
            SignInState::SignedIn(_) => true,
            SignInState::FromServer => self.server_session.get_untracked().flatten().is_some(),
            SignInState::SignedOut | SignInState::SigningIn => false,
        }
    }

    fn chain_name_untracked(&self) -> String {
        self.chain.get_untracked().map(|chain| chain.name).unwrap_or_else(|| "Coop's network".to_owned())
    }
}
