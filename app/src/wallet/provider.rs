//! One EIP-1193 provider object: `request({method, params})`, and its events. Parameters and results
//! cross into JavaScript as JSON.

use js_sys::{Function, Object, Promise, Reflect};
use serde_json::Value;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use super::WalletError;
use super::js::{from_js, to_js};

/// An EIP-1193 provider, as a wallet injected it.
#[derive(Clone, Debug)]
pub struct Provider(JsValue);

/// What a provider threw: its code, message and data, as EIP-1193 defines them.
#[derive(Debug, Clone)]
pub struct ProviderError {
    pub code: Option<i64>,
    pub message: String,
    pub data: Value,
}

impl ProviderError {
    fn from_js(thrown: JsValue) -> Self {
        let field = |name: &str| Reflect::get(&thrown, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED);
        let code = field("code").as_f64().filter(|code| code.fract() == 0.0).map(|code| code as i64);
        let message = field("message").as_string().or_else(|| thrown.as_string()).unwrap_or_default();
        Self { code, message, data: from_js(&field("data")) }
    }

    pub fn to_wallet_error(&self, chain: &str) -> WalletError {
        WalletError::from_provider(self.code, &self.message, chain)
    }

    /// Revert data, wherever this wallet put it: `data`, `data.data`, `data.originalError.data`.
    pub fn revert_data(&self) -> Option<Vec<u8>> {
        let candidates = [&self.data, &self.data["data"], &self.data["originalError"]["data"]];
        candidates.into_iter().filter_map(Value::as_str).find_map(|hex| alloy_primitives::hex::decode(hex).ok())
    }
}

impl Provider {
    /// Wraps `value` if it looks like a provider (it has a `request` function).
    pub fn new(value: JsValue) -> Option<Self> {
        let request = Reflect::get(&value, &JsValue::from_str("request")).ok()?;
        request.is_function().then_some(Self(value))
    }

    pub async fn request(&self, method: &str, params: &Value) -> Result<Value, ProviderError> {
        let thrown = |error: JsValue| ProviderError::from_js(error);
        let request: Function = Reflect::get(&self.0, &JsValue::from_str("request")).map_err(thrown)?.unchecked_into();
        let arguments = Object::new();
        Reflect::set(&arguments, &JsValue::from_str("method"), &JsValue::from_str(method)).map_err(thrown)?;
        Reflect::set(&arguments, &JsValue::from_str("params"), &to_js(params)).map_err(thrown)?;
        let promise: Promise = request.call1(&self.0, &arguments).map_err(thrown)?.dyn_into().map_err(thrown)?;
        let result = JsFuture::from(promise).await.map_err(thrown)?;
        Ok(from_js(&result))
    }

    /// Calls `provider.on(event, listener)`, if the provider has events.
    pub fn on(&self, event: &str, listener: &Function) {
        self.call_method("on", event, listener);
    }

    pub fn remove_listener(&self, event: &str, listener: &Function) {
        self.call_method("removeListener", event, listener);
    }

    fn call_method(&self, name: &str, event: &str, listener: &Function) {
        if let Ok(method) = Reflect::get(&self.0, &JsValue::from_str(name))
            && let Some(method) = method.dyn_ref::<Function>()
        {
            let _ = method.call2(&self.0, &JsValue::from_str(event), listener);
        }
    }
}
