//! Finding wallets: EIP-6963 announcements (every wallet that is installed says so when asked), and
//! the legacy `window.ethereum` when none announces.

use std::cell::RefCell;

use js_sys::Reflect;
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

use super::provider::Provider;
use super::{Wallet, WalletInfo};

/// The rdns under which the legacy `window.ethereum` provider is remembered.
pub const LEGACY_RDNS: &str = "window.ethereum";

thread_local! {
    /// Every announced wallet with its provider, in the order they announced.
    static ANNOUNCED: RefCell<Vec<(WalletInfo, Provider)>> = const { RefCell::new(Vec::new()) };
}

/// Listens for announcements (for the page's lifetime) and asks the installed wallets to announce.
pub fn start(wallet: Wallet) {
    let Some(window) = web_sys::window() else { return };
    let on_announce = Closure::<dyn FnMut(web_sys::Event)>::new(move |event: web_sys::Event| {
        let Some(event) = event.dyn_ref::<web_sys::CustomEvent>() else { return };
        let detail = event.detail();
        let Some(info) = read_info(&Reflect::get(&detail, &JsValue::from_str("info")).unwrap_or_default()) else {
            return;
        };
        let Some(provider) = Reflect::get(&detail, &JsValue::from_str("provider")).ok().and_then(Provider::new) else {
            return;
        };
        let changed = ANNOUNCED.with_borrow_mut(|announced| {
            // A wallet announces again on every request; keep the first of each uuid.
            if announced.iter().any(|(known, _)| known.uuid == info.uuid) {
                return false;
            }
            announced.push((info, provider));
            true
        });
        if changed {
            wallet.wallets.set(list());
        }
    });
    let _ = window.add_event_listener_with_callback("eip6963:announceProvider", on_announce.as_ref().unchecked_ref());
    // Discovery lasts as long as the page: the listener is never removed.
    on_announce.forget();
    request_announcements();
}

/// Asks every wallet to announce itself (again).
pub fn request_announcements() {
    if let (Some(window), Ok(event)) = (web_sys::window(), web_sys::Event::new("eip6963:requestProvider")) {
        let _ = window.dispatch_event(&event);
    }
}

/// The wallets found: the announced ones, or else the legacy one if there is one.
pub fn list() -> Vec<WalletInfo> {
    let announced: Vec<WalletInfo> =
        ANNOUNCED.with_borrow(|announced| announced.iter().map(|(i, _)| i.clone()).collect());
    if !announced.is_empty() {
        return announced;
    }
    legacy().map(|(info, _)| vec![info]).unwrap_or_default()
}

/// The provider of the wallet with this rdns (or the legacy one for [`LEGACY_RDNS`]).
pub fn find(rdns: &str) -> Option<(WalletInfo, Provider)> {
    if rdns == LEGACY_RDNS {
        return legacy();
    }
    ANNOUNCED.with_borrow(|announced| announced.iter().find(|(info, _)| info.rdns == rdns).cloned())
}

/// `window.ethereum`, for wallets too old for EIP-6963.
fn legacy() -> Option<(WalletInfo, Provider)> {
    let window = web_sys::window()?;
    let provider = Provider::new(Reflect::get(&window, &JsValue::from_str("ethereum")).ok()?)?;
    let info = WalletInfo {
        uuid: LEGACY_RDNS.to_owned(),
        name: "Browser wallet".to_owned(),
        icon: String::new(),
        rdns: LEGACY_RDNS.to_owned(),
    };
    Some((info, provider))
}

fn read_info(info: &JsValue) -> Option<WalletInfo> {
    let text = |name: &str| Reflect::get(info, &JsValue::from_str(name)).ok()?.as_string();
    let icon = text("icon").unwrap_or_default();
    Some(WalletInfo {
        uuid: text("uuid")?,
        name: text("name")?,
        // Only images inline as data URIs: an announced URL could track or be anything.
        icon: if icon.starts_with("data:image/") { icon } else { String::new() },
        rdns: text("rdns")?,
    })
}
