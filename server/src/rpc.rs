//! The chain's JSON-RPC over HTTP, with deadlines: a node that accepts a request and never answers
//! fails that request after [`REQUEST_TIMEOUT`] instead of stalling the indexer, the operator or a
//! page for good. Every provider the server builds starts from [`client`].

use std::time::Duration;

use alloy::rpc::client::{ClientBuilder, RpcClient};
use url::Url;

/// The longest one request may take; `eth_getLogs` over a whole indexing span fits well within it.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// How long to wait for the node to accept a connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// A JSON-RPC client for the node at `url` whose requests give up after [`REQUEST_TIMEOUT`].
pub fn client(url: &Url) -> RpcClient {
    let http = reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(REQUEST_TIMEOUT)
        .build()
        // Only a TLS backend or a DNS resolver can fail to initialise here, and this build has neither.
        .expect("a plain HTTP client builds");
    ClientBuilder::default().http_with_client(http, url.clone())
}
