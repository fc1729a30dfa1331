//! The REST API asked in process, as the web app's ports do: a request goes through the same router
//! (and checks) as over HTTP, and comes back as its status and body, with the API's error message
//! when it refused.

use anyhow::Context;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::StatusCode;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use tower::ServiceExt;

/// Bodies larger than this are not read (the largest answers are pages of products or members).
const MAX_BODY: usize = 16 << 20;

/// What the API answered.
pub struct Reply {
    pub status: StatusCode,
    pub body: Bytes,
}

impl Reply {
    /// The body as `T`; `uri` names the request in the error.
    pub fn json<T: DeserializeOwned>(&self, uri: &str) -> anyhow::Result<T> {
        serde_json::from_slice(&self.body).with_context(|| format!("reading the answer to {uri}"))
    }

    /// The API's own words for a refusal (`error.message`), if the body has them.
    pub fn message(&self) -> Option<String> {
        #[derive(Deserialize)]
        struct Refusal {
            error: Message,
        }
        #[derive(Deserialize)]
        struct Message {
            message: String,
        }
        serde_json::from_slice::<Refusal>(&self.body).ok().map(|refusal| refusal.error.message)
    }
}

/// Sends `request` through `api` and reads the whole answer.
pub async fn call(api: &Router, request: Request<Body>) -> anyhow::Result<Reply> {
    let uri = request.uri().clone();
    let response = api.clone().oneshot(request).await.with_context(|| format!("asking the API for {uri}"))?;
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), MAX_BODY)
        .await
        .with_context(|| format!("reading the answer to {uri}"))?;
    Ok(Reply { status, body })
}

/// `GET uri`.
pub async fn get(api: &Router, uri: &str) -> anyhow::Result<Reply> {
    call(api, Request::get(uri).body(Body::empty()).context("building the request")?).await
}
