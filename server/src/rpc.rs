//! The chain's JSON-RPC over HTTP, with deadlines and without secrets in its errors.
//!
//! A node that accepts a request and never answers fails that request after [`REQUEST_TIMEOUT`]
//! instead of stalling the indexer, the operator or a page for good. A node's URL often carries an
//! API key (`https://node.example/v3/<key>`), and the HTTP client names the URL in its errors; the
//! errors of every client built by [`client`] name only its [`Redacted`] form, so no answer and no
//! log line can leak the key. Every provider the server builds starts from [`client`].

use std::fmt;
use std::task::{Context, Poll};
use std::time::Duration;

use alloy::rpc::client::{ClientBuilder, RpcClient};
use alloy::rpc::json_rpc::{RequestPacket, ResponsePacket};
use alloy::transports::{RpcError, TransportError, TransportErrorKind, TransportFut};
use tower::{Layer, Service};
use url::Url;

/// The longest one request may take; `eth_getLogs` over a whole indexing span fits well within it.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// How long to wait for the node to accept a connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// A JSON-RPC client for the node at `url` whose requests give up after [`REQUEST_TIMEOUT`] and
/// whose errors never carry more of `url` than its [`Redacted`] form.
pub fn client(url: &Url) -> RpcClient {
    let http = reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(REQUEST_TIMEOUT)
        .build()
        // Only a TLS backend or a DNS resolver can fail to initialise here, and this build has neither.
        .expect("a plain HTTP client builds");
    ClientBuilder::default().layer(RedactLayer { secrets: secrets_of(url) }).http_with_client(http, url.clone())
}

/// A node's URL as it may be shown: scheme, host and port. A path, query or credentials (where API
/// keys live) show as `…`.
#[derive(Debug, Clone, Copy)]
pub struct Redacted<'a>(pub &'a Url);

impl fmt::Display for Redacted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let url = self.0;
        write!(f, "{}://{}", url.scheme(), url.host_str().unwrap_or_default())?;
        if let Some(port) = url.port() {
            write!(f, ":{port}")?;
        }
        f.write_str(if hides_anything(url) { "/…" } else { "/" })
    }
}

/// Whether `url` has a path, a query or credentials: where API keys live.
fn hides_anything(url: &Url) -> bool {
    !url.path().trim_matches('/').is_empty()
        || url.query().is_some()
        || url.password().is_some()
        || !url.username().is_empty()
}

/// The texts of `url` that must not be shown, longest first, each paired with what shows instead;
/// none when the URL is only a scheme, a host and a port.
fn secrets_of(url: &Url) -> Vec<(String, String)> {
    if !hides_anything(url) {
        return Vec::new();
    }
    let shown = Redacted(url).to_string();
    let mut secrets =
        vec![(url.as_str().to_owned(), shown.clone()), (url.as_str().trim_end_matches('/').to_owned(), shown)];
    secrets.extend(
        [
            url.path().trim_matches('/'),
            url.query().unwrap_or_default(),
            url.password().unwrap_or_default(),
            url.username(),
        ]
        .into_iter()
        .filter(|part| part.len() >= 4)
        .map(|part| (part.to_owned(), "…".to_owned())),
    );
    secrets.sort_by_key(|(secret, _)| std::cmp::Reverse(secret.len()));
    secrets.dedup();
    secrets
}

/// Rewrites the transport's errors so that they do not carry the node's URL.
#[derive(Debug, Clone)]
struct RedactLayer {
    secrets: Vec<(String, String)>,
}

impl<S> Layer<S> for RedactLayer {
    type Service = RedactService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RedactService { inner, secrets: self.secrets.clone().into() }
    }
}

#[derive(Debug, Clone)]
struct RedactService<S> {
    inner: S,
    secrets: std::sync::Arc<[(String, String)]>,
}

impl<S> Service<RequestPacket> for RedactService<S>
where
    S: Service<RequestPacket, Response = ResponsePacket, Error = TransportError, Future = TransportFut<'static>>
        + Send
        + 'static,
{
    type Response = ResponsePacket;
    type Error = TransportError;
    type Future = TransportFut<'static>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(|error| redact(error, &self.secrets))
    }

    fn call(&mut self, request: RequestPacket) -> Self::Future {
        let secrets = self.secrets.clone();
        let answer = self.inner.call(request);
        Box::pin(async move { answer.await.map_err(|error| redact(error, &secrets)) })
    }
}

/// The error, with every secret text replaced; an error that names none is kept as it is (its kind
/// matters to callers that retry).
fn redact(error: TransportError, secrets: &[(String, String)]) -> TransportError {
    let RpcError::Transport(kind) = &error else { return error };
    let text = kind.to_string();
    let debug = format!("{kind:?}");
    if !secrets.iter().any(|(secret, _)| text.contains(secret.as_str()) || debug.contains(secret.as_str())) {
        return error;
    }
    let redacted = secrets.iter().fold(text, |text, (secret, shown)| text.replace(secret.as_str(), shown));
    TransportErrorKind::custom_str(&redacted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_redacted_url_shows_where_the_node_is_and_nothing_of_its_key() {
        let shown = |url: &str| Redacted(&url.parse().unwrap()).to_string();
        assert_eq!(shown("https://node.example/v3/0123abcd"), "https://node.example/…");
        assert_eq!(shown("https://user:pass@node.example:8545/"), "https://node.example:8545/…");
        assert_eq!(shown("http://127.0.0.1:8545?key=s3cret"), "http://127.0.0.1:8545/…");
        assert_eq!(shown("http://127.0.0.1:8545/"), "http://127.0.0.1:8545/");
    }

    /// The HTTP client says "error sending request for url (...)" with the whole URL in it.
    #[tokio::test]
    async fn a_failed_request_names_the_node_but_not_its_key() {
        // Port 1 on loopback refuses the connection at once.
        let url: Url = "http://user:hunter22@127.0.0.1:1/v3/secret-api-key?apikey=s3cr3t-query".parse().unwrap();
        let error = client(&url).request_noparams::<String>("eth_chainId").await.unwrap_err();
        let text = format!("{error} {error:?}");
        for secret in ["secret-api-key", "s3cr3t-query", "hunter22"] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
        assert!(text.contains("127.0.0.1:1"), "the node is still named: {text}");
    }
}
