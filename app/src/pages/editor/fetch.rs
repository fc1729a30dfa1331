//! The few REST calls the editor makes from the browser (cover upload, Data Union secrets, finding a
//! deployed union), with the session cookie. Answers are JSON; a refusal carries the API's message.

use serde::de::DeserializeOwned;

/// A refusal or a failure, in words for the page.
pub type FetchError = String;

/// `GET path` as JSON.
pub async fn get_json<T: DeserializeOwned>(path: &str) -> Result<T, FetchError> {
    let text = send("GET", path, None, None).await?;
    serde_json::from_str(&text).map_err(|_| "the server's answer could not be read".to_owned())
}

/// `POST path` with a JSON body, answered with JSON.
pub async fn post_json<T: DeserializeOwned>(path: &str, body: &serde_json::Value) -> Result<T, FetchError> {
    let text = send("POST", path, Some(Body::Text(body.to_string())), Some("application/json")).await?;
    serde_json::from_str(&text).map_err(|_| "the server's answer could not be read".to_owned())
}

pub async fn delete(path: &str) -> Result<(), FetchError> {
    send("DELETE", path, None, None).await.map(drop)
}

/// What a request carries.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
pub enum Body {
    Text(String),
    /// A browser `File` or `Blob`, sent as it is.
    #[cfg(feature = "hydrate")]
    File(wasm_bindgen::JsValue),
}

/// Sends a request and answers the body of a 2xx, or the API's error message.
pub async fn send(
    method: &str,
    path: &str,
    body: Option<Body>,
    content_type: Option<&str>,
) -> Result<String, FetchError> {
    #[cfg(feature = "hydrate")]
    {
        browser::send(method, path, body, content_type).await
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = (method, path, body, content_type);
        Err("this needs the page's JavaScript".to_owned())
    }
}

#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
/// The message of an API error body (`{"error": {"message"}}`), or a generic one.
fn api_message(status: u16, text: &str) -> String {
    serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .and_then(|body| body["error"]["message"].as_str().map(str::to_owned))
        .unwrap_or_else(|| format!("the server answered {status}; try again in a moment"))
}

#[cfg(feature = "hydrate")]
mod browser {
    use wasm_bindgen::{JsCast, JsValue};
    use wasm_bindgen_futures::JsFuture;

    use super::{Body, FetchError, api_message};

    const OFFLINE: &str = "the server could not be reached; check your connection";

    pub async fn send(
        method: &str,
        path: &str,
        body: Option<Body>,
        content_type: Option<&str>,
    ) -> Result<String, FetchError> {
        let init = web_sys::RequestInit::new();
        init.set_method(method);
        let headers = web_sys::Headers::new().map_err(|_| OFFLINE.to_owned())?;
        let _ = headers.set("accept", "application/json");
        if let Some(content_type) = content_type {
            let _ = headers.set("content-type", content_type);
        }
        init.set_headers(&headers);
        match body {
            Some(Body::Text(text)) => init.set_body(&JsValue::from_str(&text)),
            Some(Body::File(file)) => init.set_body(&file),
            None => {}
        }
        let window = leptos::prelude::window();
        let response =
            JsFuture::from(window.fetch_with_str_and_init(path, &init)).await.map_err(|_| OFFLINE.to_owned())?;
        let response: web_sys::Response = response.dyn_into().map_err(|_| OFFLINE.to_owned())?;
        let text = match response.text() {
            Ok(promise) => JsFuture::from(promise).await.ok().and_then(|text| text.as_string()).unwrap_or_default(),
            Err(_) => String::new(),
        };
        if response.ok() { Ok(text) } else { Err(api_message(response.status(), &text)) }
    }
}
