//! Small bridges to the browser: JSON across the boundary, timers, `localStorage`, the page's
//! location, and `fetch` against Coop's own API.

use js_sys::{JSON, Promise};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Headers, RequestInit, Response};

use super::WalletError;
use super::sent::SentTx;

/// The `localStorage` key that remembers the chosen wallet's rdns between visits.
const WALLET_KEY: &str = "coop.wallet";
/// The `localStorage` key of the transactions sent and not yet mined (JSON, see `sent::SentTx`).
const SENT_KEY: &str = "coop.sentTransactions";

pub fn to_js(value: &Value) -> JsValue {
    JSON::parse(&value.to_string()).unwrap_or(JsValue::UNDEFINED)
}

pub fn from_js(value: &JsValue) -> Value {
    if value.is_undefined() {
        return Value::Null;
    }
    JSON::stringify(value)
        .ok()
        .and_then(|text| text.as_string())
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or(Value::Null)
}

pub async fn sleep(ms: i32) {
    let promise = Promise::new(&mut |resolve, _| {
        if let Some(window) = web_sys::window() {
            let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = JsFuture::from(promise).await;
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

pub fn remembered_wallet() -> Option<String> {
    storage()?.get_item(WALLET_KEY).ok()?
}

pub fn remember_wallet(rdns: &str) {
    if let Some(storage) = storage() {
        let _ = storage.set_item(WALLET_KEY, rdns);
    }
}

/// Whether transactions are remembered, without reading them (the first page needs no more).
pub fn has_remembered_sent() -> bool {
    storage().and_then(|storage| storage.get_item(SENT_KEY).ok().flatten()).is_some_and(|text| text != "[]")
}

/// The transactions sent from these pages and not yet known to be mined or dropped; an entry the
/// page cannot read is left out.
pub fn remembered_sent() -> Vec<SentTx> {
    storage()
        .and_then(|storage| storage.get_item(SENT_KEY).ok().flatten())
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_default()
}

fn save_sent(all: &[SentTx]) {
    if let Some(storage) = storage() {
        let _ = match all.is_empty() {
            true => storage.remove_item(SENT_KEY),
            false => storage.set_item(SENT_KEY, &serde_json::to_string(all).unwrap_or_default()),
        };
    }
}

pub fn remember_sent(tx: &SentTx) {
    let mut all = remembered_sent();
    if !all.iter().any(|known| known.hash == tx.hash) {
        all.push(tx.clone());
        save_sent(&all);
    }
}

pub fn forget_sent(hash: alloy_primitives::B256) {
    let mut all = remembered_sent();
    all.retain(|known| known.hash != hash);
    save_sent(&all);
}

pub fn forget_wallet() {
    if let Some(storage) = storage() {
        let _ = storage.remove_item(WALLET_KEY);
    }
}

/// The page's `host` (with port) and `origin`, as a sign-in message names them.
pub struct Location {
    pub host: String,
    pub origin: String,
}

pub fn location() -> Option<Location> {
    let location = web_sys::window()?.location();
    Some(Location { host: location.host().ok()?, origin: location.origin().ok()? })
}

pub async fn get_json<T: DeserializeOwned>(path: &str) -> Result<T, WalletError> {
    let response = fetch(path, "GET", None).await?;
    read_json(response).await
}

pub async fn post_json<T: DeserializeOwned>(path: &str, body: &impl Serialize) -> Result<T, WalletError> {
    let body = serde_json::to_string(body).map_err(|_| WalletError::Server)?;
    let response = fetch(path, "POST", Some(body)).await?;
    read_json(response).await
}

pub async fn post_empty(path: &str) -> Result<(), WalletError> {
    let response = fetch(path, "POST", None).await?;
    if response.ok() { Ok(()) } else { Err(api_error(response).await) }
}

async fn fetch(path: &str, method: &str, body: Option<String>) -> Result<Response, WalletError> {
    let window = web_sys::window().ok_or(WalletError::Server)?;
    let init = RequestInit::new();
    init.set_method(method);
    let headers = Headers::new().map_err(|_| WalletError::Server)?;
    let _ = headers.set("accept", "application/json");
    if let Some(body) = body {
        let _ = headers.set("content-type", "application/json");
        init.set_body(&JsValue::from_str(&body));
    }
    init.set_headers(&headers);
    let response =
        JsFuture::from(window.fetch_with_str_and_init(path, &init)).await.map_err(|_| WalletError::Server)?;
    response.dyn_into().map_err(|_| WalletError::Server)
}

async fn read_json<T: DeserializeOwned>(response: Response) -> Result<T, WalletError> {
    if !response.ok() {
        return Err(api_error(response).await);
    }
    let text = text(&response).await.ok_or(WalletError::Server)?;
    serde_json::from_str(&text).map_err(|_| WalletError::Server)
}

/// The API's `{"error": {"code", "message"}}` as a [`WalletError::SignIn`].
async fn api_error(response: Response) -> WalletError {
    let body: Value = text(&response).await.and_then(|text| serde_json::from_str(&text).ok()).unwrap_or_default();
    match (body["error"]["code"].as_str(), body["error"]["message"].as_str()) {
        (Some(code), Some(message)) => WalletError::SignIn { code: code.to_owned(), message: message.to_owned() },
        _ => WalletError::Server,
    }
}

async fn text(response: &Response) -> Option<String> {
    JsFuture::from(response.text().ok()?).await.ok()?.as_string()
}
