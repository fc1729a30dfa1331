//! Product streams under load, the embedded store and NATS JetStream side by side in one run, and
//! the floor: a bare NATS publish/subscribe of the same messages without Coop.
//!
//! For each store it runs the release `coop dev` (its own anvil, the demo marketplace; with
//! `COOP_NATS_URL` to a `nats-server --jetstream` of its own for NATS), adds 32 members to the demo
//! Data Union (anvil's accounts are unlocked: the agent's `addMembers` goes through
//! `eth_sendTransaction`), and measures:
//! - ingest: every member publishes its share of the messages, signed and encoded beforehand, one request at a
//!   time each (a publisher's sequence numbers must arrive in order), 32 at once; the server checks
//!   every signature and membership. Then as many again in batches of 100 messages a request;
//! - delivery: 1,000 live readers (Server-Sent Events, the owner's session) of the stream while
//!   messages are published at a steady pace; the time from just before a publish to each reader's
//!   receipt, p50 and p99;
//! - history: downloading the stream as JSON Lines, in MB/s.
//!
//! ```sh
//! cargo bench -p coop-server --bench streams   # COOP_STREAMS_MESSAGES=20000 by default
//! ```
//! Needs `nats-server` (scripts/setup.sh --test); everything runs on 127.0.0.1.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use alloy::primitives::{Address, B256, hex};
use alloy::signers::SignerSync;
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::SolCall;
use coop::contracts::DataUnion;
use coop::stream::Unchecked;
use futures::StreamExt;
use reqwest::header::CONTENT_TYPE;
use serde_json::{Value, json};

const PUBLISHERS: usize = 32;
/// Messages per request in the batched ingest.
const BATCH: usize = 100;
const READERS: usize = 1000;
/// Messages published while the readers listen, and their pace.
const PACED: usize = 200;
const PACE: Duration = Duration::from_millis(10);
/// anvil accounts of `coop dev`: 2 owns the demo union and its product, 8 is the union's join-part agent.
const OWNER: usize = 2;
const AGENT: usize = 8;

fn micros() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_micros() as u64
}

struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        // SIGTERM first: `coop dev` then stops its anvil too, which a kill would leave running.
        let _ = Command::new("kill").arg("-TERM").arg(self.0.id().to_string()).status();
        for _ in 0..100 {
            if matches!(self.0.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn start_nats(storage: &std::path::Path) -> (Process, String) {
    let port = free_port();
    let child = Command::new("nats-server")
        .args(["--jetstream", "--addr", "127.0.0.1", "--port", &port.to_string(), "--store_dir"])
        .arg(storage)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("nats-server (scripts/setup.sh --test installs it)");
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        std::thread::sleep(Duration::from_millis(20));
    }
    (Process(child), format!("nats://127.0.0.1:{port}"))
}

/// The release `coop dev` in `data_dir`, without per-client limits; its URL and its chain's URL.
fn start_dev(data_dir: &std::path::Path, nats: Option<&str>) -> (Process, String, String) {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_owned();
    let path = format!("{}:{}", root.join("node_modules/.bin").display(), std::env::var("PATH").unwrap_or_default());
    let mut command = Command::new(env!("CARGO_BIN_EXE_coop"));
    command
        .arg("dev")
        .current_dir(&root)
        .env("PATH", path)
        .env("COOP_LISTEN", "127.0.0.1:0")
        .env("COOP_DATA_DIR", data_dir)
        .env("COOP_REQUESTS_PER_SECOND_PER_IP", "0")
        .env("COOP_REQUESTS_PER_SECOND_PER_ACCOUNT", "0")
        .env("COOP_MESSAGES_PER_SECOND_PER_PUBLISHER", "1000000")
        .env("COOP_MAX_CONCURRENT_REQUESTS", "4096")
        .env("RUST_LOG", "warn,startup=info,dev=info")
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    if let Some(url) = nats {
        command.env("COOP_NATS_URL", url);
    }
    let mut child = command.spawn().expect("start coop dev (cargo build --release -p coop-server)");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let (mut chain, mut url) = (None, None);
    for line in lines.by_ref().map_while(Result::ok) {
        if let Some(rest) = line.split("started anvil url=").nth(1) {
            chain = rest.split_whitespace().next().map(str::to_owned);
        }
        if let Some(rest) = line.split("listening on ").nth(1) {
            url = Some(rest.trim().to_owned());
            break;
        }
    }
    std::thread::spawn(move || lines.for_each(drop));
    (Process(child), url.expect("coop dev listens"), chain.expect("coop dev starts anvil"))
}

async fn rpc(client: &reqwest::Client, chain: &str, method: &str, params: Value) -> Value {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
    let answer: Value = client.post(chain).json(&body).send().await.unwrap().json().await.unwrap();
    answer["result"].clone()
}

async fn get(client: &reqwest::Client, url: &str) -> Value {
    client.get(url).send().await.unwrap().json().await.unwrap()
}

/// The owner's session cookie, signed in through the API with anvil's `personal_sign`.
async fn sign_in(client: &reqwest::Client, url: &str, chain: &str, owner: Address) -> String {
    let granted = client.get(format!("{url}/api/v1/auth/nonce")).send().await.unwrap();
    let cookie = granted.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
    let grant: app::wallet::session::NonceGrant = granted.json().await.unwrap();
    let host = url.trim_start_matches("http://");
    let message = app::wallet::siwe::sign_in_message(host, url, owner, 31337, &grant).unwrap().to_string();
    let signature = rpc(client, chain, "personal_sign", json!([hex::encode_prefixed(message.as_bytes()), owner])).await;
    let signed_in = client
        .post(format!("{url}/api/v1/auth/sign-in"))
        .header("cookie", &cookie)
        .json(&json!({"message": message, "signature": signature}))
        .send()
        .await
        .unwrap();
    assert!(signed_in.status().is_success(), "sign-in: {}", signed_in.status());
    signed_in.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned()
}

fn body(product: B256, signer: &PrivateKeySigner, sequence: u64, content: &str) -> Value {
    let name = "journeys".parse().unwrap();
    let timestamp = micros() / 1000;
    let unchecked = Unchecked { product, stream: &name, publisher: signer.address(), sequence, timestamp, content };
    let signature = signer.sign_message_sync(unchecked.digest().as_slice()).unwrap();
    json!({
        "publisher": signer.address(), "sequence": sequence, "timestamp": timestamp, "content": content,
        "signer": signer.address(), "signature": hex::encode_prefixed(signature.as_bytes()),
    })
}

/// A request body as sent: encoded before the clock starts, so the load generator's own work on the
/// shared cores is not counted against the server.
fn encoded(body: &Value) -> Vec<u8> {
    serde_json::to_vec(body).unwrap()
}

const JSON: &str = "application/json";

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

struct Figures {
    ingest_per_second: f64,
    batched_per_second: f64,
    p50: Duration,
    p99: Duration,
    deliveries: usize,
    download_mb_per_second: f64,
    download_bytes: usize,
}

async fn measure(url: &str, chain: &str, messages: usize) -> Figures {
    let client = reqwest::Client::builder().pool_max_idle_per_host(256).build().unwrap();
    let accounts = rpc(&client, chain, "eth_accounts", json!([])).await;
    let account = |n: usize| -> Address { accounts[n].as_str().unwrap().parse().unwrap() };
    // The server indexes the demo chain after it starts listening.
    let union: Address = loop {
        let unions = get(&client, &format!("{url}/api/v1/unions")).await;
        if let Some(address) = unions["unions"][0]["address"].as_str() {
            break address.parse().unwrap();
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    // The marketplace derives a product's id from its owner and its salt (the name, as `coop dev` lists it).
    let product = app::products::product_id(account(OWNER), "Commuter journeys");

    // 32 members whose keys the bench holds.
    let members: Vec<PrivateKeySigner> = (0..PUBLISHERS).map(|_| PrivateKeySigner::random()).collect();
    let add = DataUnion::addMembersCall { members: members.iter().map(|m| m.address()).collect() }.abi_encode();
    let tx = json!([{"from": account(AGENT), "to": union, "data": hex::encode_prefixed(add)}]);
    rpc(&client, chain, "eth_sendTransaction", tx).await;
    loop {
        let stats = get(&client, &format!("{url}/api/v1/unions/{union}")).await;
        if stats["activeMembers"].as_u64() == Some(3 + PUBLISHERS as u64) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // Ingest: every message signed first, then 32 publishers at once.
    let per_publisher = messages / PUBLISHERS;
    let bodies: Vec<Vec<Vec<u8>>> = members
        .iter()
        .map(|member| {
            (1..=per_publisher as u64).map(|n| encoded(&body(product, member, n, &format!("{{\"n\":{n}}}")))).collect()
        })
        .collect();
    let target = format!("{url}/api/v1/products/{product}/streams/journeys/messages");
    let started = Instant::now();
    let tasks: Vec<_> = bodies
        .into_iter()
        .map(|bodies| {
            let (client, target) = (client.clone(), target.clone());
            tokio::spawn(async move {
                for body in bodies {
                    let status =
                        client.post(&target).header(CONTENT_TYPE, JSON).body(body).send().await.unwrap().status();
                    assert_eq!(status, reqwest::StatusCode::CREATED);
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let ingest_per_second = (per_publisher * PUBLISHERS) as f64 / started.elapsed().as_secs_f64();

    // As many again, each member sending batches of `BATCH`.
    let next = per_publisher as u64 + 1;
    let batches: Vec<Vec<Vec<u8>>> = members
        .iter()
        .map(|member| {
            let bodies: Vec<Value> = (next..next + per_publisher as u64)
                .map(|n| body(product, member, n, &format!("{{\"n\":{n}}}")))
                .collect();
            bodies.chunks(BATCH).map(|chunk| encoded(&json!({ "messages": chunk }))).collect()
        })
        .collect();
    let started = Instant::now();
    let tasks: Vec<_> = batches
        .into_iter()
        .map(|batches| {
            let (client, target) = (client.clone(), format!("{target}/batch"));
            tokio::spawn(async move {
                for batch in batches {
                    let status =
                        client.post(&target).header(CONTENT_TYPE, JSON).body(batch).send().await.unwrap().status();
                    assert_eq!(status, reqwest::StatusCode::CREATED);
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let batched_per_second = (per_publisher * PUBLISHERS) as f64 / started.elapsed().as_secs_f64();

    // Delivery to 1,000 live readers.
    let owner = sign_in(&client, url, chain, account(OWNER)).await;
    let live = format!("{url}/api/v1/products/{product}/streams/journeys/live");
    let latencies = Arc::new(tokio::sync::Mutex::new(Vec::new()));
    let mut readers = Vec::new();
    for _ in 0..READERS {
        let response = client.get(&live).header("cookie", &owner).send().await.unwrap();
        assert!(response.status().is_success());
        let latencies = latencies.clone();
        readers.push(tokio::spawn(async move {
            let mut bytes = response.bytes_stream();
            let (mut text, mut seen) = (String::new(), 0);
            while seen < PACED {
                let Some(Ok(chunk)) = bytes.next().await else { break };
                let now = micros();
                text.push_str(&String::from_utf8_lossy(&chunk));
                while let Some(end) = text.find("\n\n") {
                    let event: String = text.drain(..end + 2).collect();
                    let Some(data) = event.lines().find_map(|line| line.strip_prefix("data: ")) else { continue };
                    let message: Value = serde_json::from_str(data).unwrap();
                    let content: Value = serde_json::from_str(message["content"].as_str().unwrap()).unwrap();
                    let sent = content["sentAt"].as_u64().unwrap();
                    latencies.lock().await.push(Duration::from_micros(now.saturating_sub(sent)));
                    seen += 1;
                }
            }
        }));
    }
    let publisher = &members[0];
    for n in 0..PACED as u64 {
        let sent = micros();
        let body = body(product, publisher, 2 * per_publisher as u64 + 1 + n, &format!("{{\"sentAt\":{sent}}}"));
        let status = client.post(&target).json(&body).send().await.unwrap().status();
        assert_eq!(status, reqwest::StatusCode::CREATED);
        tokio::time::sleep(PACE).await;
    }
    for reader in readers {
        let _ = tokio::time::timeout(Duration::from_secs(30), reader).await;
    }
    let mut latencies = std::mem::take(&mut *latencies.lock().await);
    latencies.sort();

    // History: the whole stream as JSON Lines.
    let download = format!("{url}/api/v1/products/{product}/streams/journeys/download");
    let started = Instant::now();
    let bytes = client.get(&download).header("cookie", &owner).send().await.unwrap().bytes().await.unwrap();
    let elapsed = started.elapsed().as_secs_f64();
    Figures {
        ingest_per_second,
        batched_per_second,
        p50: percentile(&latencies, 0.5),
        p99: percentile(&latencies, 0.99),
        deliveries: latencies.len(),
        download_mb_per_second: bytes.len() as f64 / 1e6 / elapsed,
        download_bytes: bytes.len(),
    }
}

/// The floor: the same number of messages through bare NATS (JetStream publishes with acks from 32
/// tasks; core subjects to 1,000 subscribers for latency), without Coop.
async fn floor(nats: &str, messages: usize) -> (f64, Duration, Duration) {
    let client = async_nats::connect(nats).await.unwrap();
    let jetstream = async_nats::jetstream::new(client.clone());
    jetstream
        .get_or_create_stream(async_nats::jetstream::stream::Config {
            name: "floor".into(),
            subjects: vec!["floor.>".into()],
            ..Default::default()
        })
        .await
        .unwrap();
    let payload = vec![b'x'; 420];
    let started = Instant::now();
    let tasks: Vec<_> = (0..PUBLISHERS)
        .map(|n| {
            let (jetstream, payload) = (jetstream.clone(), payload.clone());
            tokio::spawn(async move {
                for _ in 0..messages / PUBLISHERS {
                    jetstream.publish(format!("floor.{n}"), payload.clone().into()).await.unwrap().await.unwrap();
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let rate = (messages / PUBLISHERS * PUBLISHERS) as f64 / started.elapsed().as_secs_f64();
    let latencies = Arc::new(tokio::sync::Mutex::new(Vec::new()));
    let mut readers = Vec::new();
    for _ in 0..READERS {
        let mut subscription = client.subscribe("live").await.unwrap();
        let latencies = latencies.clone();
        readers.push(tokio::spawn(async move {
            for _ in 0..PACED {
                let Some(message) = subscription.next().await else { break };
                let sent: u64 = std::str::from_utf8(&message.payload).unwrap().parse().unwrap();
                latencies.lock().await.push(Duration::from_micros(micros().saturating_sub(sent)));
            }
        }));
    }
    client.flush().await.unwrap();
    for _ in 0..PACED {
        client.publish("live", micros().to_string().into()).await.unwrap();
        tokio::time::sleep(PACE).await;
    }
    for reader in readers {
        let _ = tokio::time::timeout(Duration::from_secs(30), reader).await;
    }
    let mut latencies = std::mem::take(&mut *latencies.lock().await);
    latencies.sort();
    (rate, percentile(&latencies, 0.5), percentile(&latencies, 0.99))
}

#[tokio::main]
async fn main() {
    let messages: usize = std::env::var("COOP_STREAMS_MESSAGES").ok().and_then(|n| n.parse().ok()).unwrap_or(20_000);
    let folder = tempfile::tempdir().unwrap();
    let (_nats, nats_url) = start_nats(&folder.path().join("nats"));
    let mut rows = Vec::new();
    for (name, nats) in [("embedded (SQLite)", None), ("NATS JetStream", Some(nats_url.as_str()))] {
        let (dev, url, chain) = start_dev(&folder.path().join(name.split(' ').next().unwrap()), nats);
        let figures = measure(&url, &chain, messages).await;
        drop(dev);
        rows.push((name, figures));
    }
    let (rate, p50, p99) = floor(&nats_url, messages).await;
    println!(
        "{messages} signed messages from {PUBLISHERS} publishers; {READERS} live readers of {PACED} messages \
         published every {} ms",
        PACE.as_millis()
    );
    println!(
        "| store | ingest (messages/s) | ingest, {BATCH} a request | delivery p50 | delivery p99 | deliveries | download |"
    );
    println!("|---|---|---|---|---|---|---|");
    for (name, f) in rows {
        println!(
            "| {name} | {:.0} | {:.0} | {:.1} ms | {:.1} ms | {} | {:.1} MB/s ({} bytes) |",
            f.ingest_per_second,
            f.batched_per_second,
            f.p50.as_secs_f64() * 1000.0,
            f.p99.as_secs_f64() * 1000.0,
            f.deliveries,
            f.download_mb_per_second,
            f.download_bytes
        );
    }
    println!(
        "| bare NATS, no Coop | {rate:.0} (JetStream, acked) | | {:.1} ms | {:.1} ms | core subjects | |",
        p50.as_secs_f64() * 1000.0,
        p99.as_secs_f64() * 1000.0
    );
}
