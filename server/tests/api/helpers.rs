use std::net::SocketAddr;
use std::time::Duration;

use coop_server::config::{Config, Secret};
use coop_server::devnet::{DevChain, spawn_anvil};
use coop_server::startup::Server;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::Value;
use tokio::sync::oneshot;

use crate::chain::Chain;
use crate::faulty_rpc::{Fault, FaultyRpc};

/// A running server and what it runs on; everything stops when it is dropped.
pub struct TestApp {
    pub address: SocketAddr,
    pub client: reqwest::Client,
    pub chain: Option<DevChain>,
    /// The chain with every contract deployed, when the app was spawned with contracts.
    pub contracts: Option<Chain>,
    _data_dir: tempfile::TempDir,
    _stop: oneshot::Sender<()>,
}

/// One API answer: status, headers and the JSON body.
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Reply {
    /// The block in the `x-coop-block` header.
    pub fn as_of_header(&self) -> u64 {
        self.headers["x-coop-block"].to_str().unwrap().parse().unwrap()
    }

    /// The error's `(code, field)` of a 4xx answer.
    pub fn error(&self) -> (&str, Option<&str>) {
        let error = &self.body["error"];
        (error["code"].as_str().unwrap_or_else(|| panic!("no error code in {}", self.body)), error["field"].as_str())
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    /// The deployed chain; panics for an app spawned without contracts.
    pub fn chain(&self) -> &Chain {
        self.contracts.as_ref().expect("spawned with contracts")
    }

    pub async fn get(&self, path: &str) -> Reply {
        let response = self.client.get(self.url(path)).send().await.unwrap();
        let (status, headers) = (response.status(), response.headers().clone());
        let text = response.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or_else(|_| panic!("GET {path}: {status} not JSON: {text}"));
        Reply { status, headers, body }
    }

    /// GETs a path that must answer 200.
    pub async fn ok(&self, path: &str) -> Value {
        let reply = self.get(path).await;
        assert_eq!(reply.status, StatusCode::OK, "GET {path}: {}", reply.body);
        reply.body
    }

    /// Waits until the unions and the catalog both stand at the chain's latest block.
    pub async fn caught_up(&self) {
        let head = self.chain().block_number().await;
        for _ in 0..600 {
            let unions = self.ok("/api/v1/unions?limit=1").await["asOfBlock"].as_u64().unwrap();
            let products = self.ok("/api/v1/products?limit=1").await["asOfBlock"].as_u64().unwrap();
            if unions >= head && products >= head {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the server did not index up to block {head} within a minute");
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_configured(|_| {}).await
}

/// Like [`spawn_app`], with the config changed by `configure` first.
pub async fn spawn_app_configured(configure: impl FnOnce(&mut Config)) -> TestApp {
    let chain = spawn_anvil(None).expect("start anvil");
    let data_dir = tempfile::tempdir().unwrap();
    let endpoint = chain.endpoint();
    spawn_on(&endpoint, data_dir, Some(chain), None, false, configure).await
}

/// A server on a fresh anvil with every contract deployed, indexing it from the deployment's block.
pub async fn spawn_app_with_contracts() -> TestApp {
    spawn_with_contracts(false, |_| {}).await
}

/// Like [`spawn_app_with_contracts`], with the config changed by `configure` first.
pub async fn spawn_app_with_contracts_configured(configure: impl FnOnce(&mut Config)) -> TestApp {
    spawn_with_contracts(false, configure).await
}

/// Like [`spawn_app_with_contracts`], with the server holding the operator's and the join-part
/// agent's keys (the accounts `chain::OPERATOR` and `chain::AGENT`), so it commits and adds members.
pub async fn spawn_app_with_roles() -> TestApp {
    spawn_with_contracts(true, |_| {}).await
}

/// Like [`spawn_app_with_contracts`], with the server's chain behind a proxy that has `fault`.
pub async fn spawn_app_behind(fault: Fault) -> TestApp {
    let contracts = Chain::start().await;
    let data_dir = tempfile::tempdir().unwrap();
    contracts.deployment.save(&data_dir.path().join("deployment.json")).unwrap();
    let proxy = FaultyRpc::start(contracts.anvil.endpoint(), fault).await;
    spawn_on(&proxy.url, data_dir, None, Some(contracts), false, |_| {}).await
}

async fn spawn_with_contracts(roles: bool, configure: impl FnOnce(&mut Config)) -> TestApp {
    let contracts = Chain::start().await;
    let data_dir = tempfile::tempdir().unwrap();
    contracts.deployment.save(&data_dir.path().join("deployment.json")).unwrap();
    let endpoint = contracts.anvil.endpoint();
    spawn_on(&endpoint, data_dir, None, Some(contracts), roles, configure).await
}

async fn spawn_on(
    endpoint: &url::Url,
    data_dir: tempfile::TempDir,
    chain: Option<DevChain>,
    contracts: Option<Chain>,
    roles: bool,
    configure: impl FnOnce(&mut Config),
) -> TestApp {
    let key = |account: usize| {
        let signer = contracts.as_ref().expect("roles need the contracts").signer(account);
        Secret::new(alloy::primitives::hex::encode_prefixed(signer.to_bytes()))
    };
    let (operator_key, agent_key) =
        if roles { (Some(key(crate::chain::OPERATOR)), Some(key(crate::chain::AGENT))) } else { (None, None) };
    let mut config = Config {
        operator_key,
        agent_key,
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        data_dir: data_dir.path().to_owned(),
        rpc_url: Some(endpoint.clone()),
        // One test client makes hundreds of requests a second; the limits have tests of their own.
        requests_per_second_per_ip: 0,
        requests_per_second_per_account: 0,
        ..Config::default()
    };
    configure(&mut config);
    let server = Server::build(&config, endpoint).await.expect("build the server");
    let address = server.local_addr();
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(server.run(async {
        let _ = stopped.await;
    }));
    TestApp { address, client: http_client(), chain, contracts, _data_dir: data_dir, _stop: stop }
}

/// How long a test waits for one answer: a server that stops answering fails the test, naming the
/// request, instead of leaving it running with nothing said.
pub const ANSWER_TIMEOUT: Duration = Duration::from_secs(60);

/// An HTTP client whose requests fail after [`ANSWER_TIMEOUT`].
pub fn http_client() -> reqwest::Client {
    client_builder().build().expect("a plain HTTP client builds")
}

/// [`http_client`]'s settings, for a test that needs one more (no redirects, say).
pub fn client_builder() -> reqwest::ClientBuilder {
    reqwest::Client::builder().timeout(ANSWER_TIMEOUT)
}
