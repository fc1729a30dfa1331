use std::net::SocketAddr;

use coop_server::config::Config;
use coop_server::devnet::{DevChain, spawn_anvil};
use coop_server::startup::Server;
use tokio::sync::oneshot;

/// A running server and what it runs on; everything stops when it is dropped.
pub struct TestApp {
    pub address: SocketAddr,
    pub client: reqwest::Client,
    pub chain: Option<DevChain>,
    _data_dir: tempfile::TempDir,
    _stop: oneshot::Sender<()>,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }
}

pub async fn spawn_app() -> TestApp {
    let chain = spawn_anvil(None).expect("start anvil");
    let data_dir = tempfile::tempdir().unwrap();
    let config = Config {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        data_dir: data_dir.path().to_owned(),
        rpc_url: Some(chain.endpoint()),
        ..Config::default()
    };
    let server = Server::build(&config, &chain.endpoint()).await.expect("build the server");
    let address = server.local_addr();
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(server.run(async {
        let _ = stopped.await;
    }));
    TestApp { address, client: reqwest::Client::new(), chain: Some(chain), _data_dir: data_dir, _stop: stop }
}
