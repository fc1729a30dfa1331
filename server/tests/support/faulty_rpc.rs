//! A JSON-RPC proxy in front of anvil that gets one thing wrong, as real nodes and load balancers do.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

/// What the proxy in front of anvil gets wrong.
#[derive(Debug, Clone, Copy)]
pub enum Fault {
    None,
    /// Logs come without `blockTimestamp`, as most nodes send them.
    NoBlockTimes,
    /// `eth_getLogs` is answered by a node `n` blocks behind the head: a range is cut short without
    /// a word, and a block it does not have yet is refused (EIP-234), as geth does.
    LaggingLogs(u64),
}

/// A JSON-RPC proxy in front of anvil with a [`Fault`], recording the filters of `eth_getLogs`.
pub struct FaultyRpc {
    pub url: url::Url,
    filters: Arc<Mutex<Vec<Value>>>,
}

#[derive(Clone)]
struct ProxyState {
    upstream: url::Url,
    fault: Fault,
    filters: Arc<Mutex<Vec<Value>>>,
}

impl FaultyRpc {
    pub async fn start(upstream: url::Url, fault: Fault) -> FaultyRpc {
        let filters = Arc::new(Mutex::new(Vec::new()));
        let state = ProxyState { upstream, fault, filters: filters.clone() };
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await.unwrap();
        let address = listener.local_addr().unwrap();
        let app = axum::Router::new().route("/", axum::routing::post(proxied)).with_state(state);
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        FaultyRpc { url: format!("http://{address}/").parse().unwrap(), filters }
    }

    pub fn log_queries(&self) -> Vec<Value> {
        self.filters.lock().unwrap().clone()
    }
}

async fn upstream_call(url: &url::Url, method: &str, params: Value) -> Value {
    let request = json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": params });
    let answer: Value =
        reqwest::Client::new().post(url.clone()).json(&request).send().await.unwrap().json().await.unwrap();
    answer["result"].clone()
}

fn hex_number(value: &Value) -> u64 {
    u64::from_str_radix(value.as_str().unwrap().trim_start_matches("0x"), 16).unwrap()
}

async fn proxied(State(state): State<ProxyState>, Json(mut request): Json<Value>) -> Json<Value> {
    let is_logs = request["method"] == "eth_getLogs";
    if is_logs {
        state.filters.lock().unwrap().push(request["params"][0].clone());
    }
    if let (true, Fault::LaggingLogs(lag)) = (is_logs, state.fault) {
        let lagging_head =
            hex_number(&upstream_call(&state.upstream, "eth_blockNumber", json!([])).await).saturating_sub(lag);
        let filter = &mut request["params"][0];
        if let Some(hash) = filter["blockHash"].as_str() {
            let block = upstream_call(&state.upstream, "eth_getBlockByHash", json!([hash, false])).await;
            if block.is_null() || hex_number(&block["number"]) > lagging_head {
                return Json(
                    json!({ "jsonrpc": "2.0", "id": request["id"], "error": { "code": -32000, "message": "unknown block" } }),
                );
            }
        } else if filter["toBlock"].is_string() && hex_number(&filter["toBlock"]) > lagging_head {
            if hex_number(&filter["fromBlock"]) > lagging_head {
                return Json(json!({ "jsonrpc": "2.0", "id": request["id"], "result": [] }));
            }
            filter["toBlock"] = json!(format!("{lagging_head:#x}"));
        }
    }
    let mut answer: Value =
        reqwest::Client::new().post(state.upstream.clone()).json(&request).send().await.unwrap().json().await.unwrap();
    if let (true, Fault::NoBlockTimes) = (is_logs, state.fault)
        && let Some(logs) = answer["result"].as_array_mut()
    {
        for log in logs {
            log.as_object_mut().unwrap().remove("blockTimestamp");
        }
    }
    Json(answer)
}
