//! Several `coop serve` instances on one PostgreSQL database, behind nginx, with an independent
//! validator on its own SQLite: one answer everywhere, a takeover when the indexing instance dies,
//! the same state after every instance restarts, and sessions and covers shared through the database.
//!
//! Needs `COOP_TEST_POSTGRES_URL` (see tests/support/postgres.rs) and Debian's nginx; skipped without them unless
//! `COOP_REQUIRE_POSTGRES=1`, as `make test` sets.

#[allow(dead_code)]
#[path = "contracts/helpers.rs"]
mod chain;
#[path = "support/cookies.rs"]
mod cookies;
#[path = "support/postgres.rs"]
mod test_database;
#[path = "support/nats.rs"]
mod test_nats;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use alloy::primitives::{Address, U256, hex};
use alloy::signers::SignerSync;
use app::wallet::session::NonceGrant;
use app::wallet::siwe;
use chain::{AGENT, Chain, OPERATOR, OWNER, send};
use cookies::session_cookie;
use coop_server::config::{Config, Secret};
use coop_server::startup::Server;
use reqwest::header::{CONTENT_TYPE, COOKIE};
use serde_json::{Value, json};
use tokio::sync::oneshot;

/// One instance in a runtime of its own, so that killing it stops everything it runs at once, as a
/// crash would: its database connections close and its lock is released.
struct Instance {
    address: SocketAddr,
    leading: std::sync::Arc<std::sync::atomic::AtomicBool>,
    kill: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Instance {
    fn start(config: Config, rpc_url: url::Url, validate: bool) -> Instance {
        let (ready, started) = std::sync::mpsc::channel();
        let (kill, killed) = oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
            runtime.block_on(async move {
                let server = Server::build(&config, &rpc_url).await.expect("the instance starts").validating(validate);
                ready.send((server.local_addr(), server.services().leading.clone())).unwrap();
                tokio::select! {
                    _ = server.run(std::future::pending()) => {}
                    _ = killed => {}
                }
            });
            runtime.shutdown_background();
        });
        let (address, leading) =
            started.recv_timeout(Duration::from_secs(60)).expect("the instance reports its address");
        Instance { address, leading, kill: Some(kill), thread: Some(thread) }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    fn kill(mut self) {
        let _ = self.kill.take().map(|kill| kill.send(()));
        let _ = self.thread.take().map(|thread| thread.join());
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.kill.take().map(|kill| kill.send(()));
    }
}

struct Cluster {
    chain: Chain,
    database: test_database::TestDatabase,
    deployment_file: PathBuf,
    dir: tempfile::TempDir,
    /// The port nginx listens on: the public origin sign-in messages name.
    proxy_port: u16,
}

impl Cluster {
    async fn start() -> Option<Cluster> {
        let database = test_database::TestDatabase::create("coop_cluster").await?;
        let chain = Chain::start().await;
        let dir = tempfile::tempdir().unwrap();
        let deployment_file = dir.path().join("deployment.json");
        chain.deployment.save(&deployment_file).unwrap();
        let proxy_port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        Some(Cluster { chain, database, deployment_file, dir, proxy_port })
    }

    fn config(&self, name: &str, database_url: Option<String>) -> Config {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            data_dir: self.dir.path().join(name),
            database_url,
            rpc_url: Some(self.chain.anvil.endpoint()),
            confirmations: 0,
            deployment_file: Some(self.deployment_file.clone()),
            operator_key: Some(Secret::new(self.chain.signer(OPERATOR).to_bytes().to_string())),
            commit_every_blocks: 3,
            log: "warn".into(),
            // People reach the instances through nginx, on a port of its own.
            public_origin: Some(format!("http://127.0.0.1:{}", self.proxy_port).parse().unwrap()),
            // Every client here is one test on loopback.
            requests_per_second_per_ip: 0,
            ..Config::default()
        }
    }

    fn replica(&self, name: &str) -> Instance {
        Instance::start(self.config(name, Some(self.database.url.clone())), self.chain.anvil.endpoint(), false)
    }

    /// The validator: its own SQLite, its own indexing, no operator key.
    fn validator(&self) -> Instance {
        let config = Config { operator_key: None, ..self.config("validator", None) };
        Instance::start(config, self.chain.anvil.endpoint(), true)
    }

    async fn finish(self) {
        self.database.drop().await;
    }
}

/// A client whose requests fail after a minute: an instance that stops answering fails the test,
/// naming the request, instead of leaving it running.
fn client() -> reqwest::Client {
    reqwest::Client::builder().timeout(Duration::from_secs(60)).build().expect("a plain HTTP client builds")
}

async fn get(url: &str) -> (u64, Value) {
    let response = client().get(url).send().await.unwrap();
    assert!(response.status().is_success(), "{url}: {}", response.status());
    let block = response.headers()["x-coop-block"].to_str().unwrap().parse().unwrap();
    (block, response.json().await.unwrap())
}

/// Waits until every instance answers as of `block` or later.
async fn wait_for(instances: &[&Instance], union: Address, block: u64) {
    let deadline = Instant::now() + Duration::from_secs(120);
    for instance in instances {
        loop {
            let response = client().get(instance.url(&format!("/api/v1/unions/{union}"))).send().await;
            // What the instance answered, for the message if it never gets there.
            let answer = match &response {
                Ok(response) => format!("{} as of {:?}", response.status(), response.headers().get("x-coop-block")),
                Err(error) => format!("no answer: {error}"),
            };
            let at: u64 = response
                .ok()
                .filter(|r| r.status().is_success())
                .and_then(|r| r.headers().get("x-coop-block")?.to_str().ok()?.parse().ok())
                .unwrap_or(0);
            if at >= block {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{} never reached block {block} (last answer: {answer})",
                instance.address
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

/// What every instance must answer identically once all stand at the same block.
async fn answers(instance: &Instance, union: Address, members: &[Address]) -> Vec<Value> {
    let mut all = vec![
        get(&instance.url(&format!("/api/v1/unions/{union}"))).await.1,
        get(&instance.url(&format!("/api/v1/unions/{union}/members?limit=1000"))).await.1,
        get(&instance.url(&format!("/api/v1/unions/{union}/members?offset=1000&limit=1000"))).await.1,
    ];
    for member in members {
        all.push(get(&instance.url(&format!("/api/v1/unions/{union}/members/{member}"))).await.1);
    }
    if let Some(commit) = all[0]["latestCommit"]["bookBlock"].as_u64() {
        all.push(get(&instance.url(&format!("/api/v1/unions/{union}/books/{commit}"))).await.1);
    }
    all
}

/// Waits until the chain stops moving (the operator's commits are mined too) and every instance
/// stands at its head; returns the head.
async fn settle(chain: &Chain, instances: &[&Instance], union: Address) -> u64 {
    loop {
        let head = chain.block_number().await;
        wait_for(instances, union, head).await;
        tokio::time::sleep(Duration::from_millis(2500)).await;
        if chain.block_number().await == head {
            return head;
        }
    }
}

async fn assert_same(instances: &[&Instance], union: Address, members: &[Address]) {
    let first = answers(instances[0], union, members).await;
    for other in &instances[1..] {
        let theirs = answers(other, union, members).await;
        assert_eq!(theirs.len(), first.len(), "{} and {} disagree on the commits", instances[0].address, other.address);
        for (mine, theirs) in first.iter().zip(&theirs) {
            assert_eq!(mine, theirs, "{} and {} disagree", instances[0].address, other.address);
        }
    }
}

fn addresses(seed: u64, count: usize) -> Vec<Address> {
    let mut rng = chain::Rng::new(seed);
    (0..count).map(|_| rng.address()).collect()
}

/// A round of chain activity: `joins` new members in batches of 100, revenue, some parts, a fee change.
/// Returns the members it added.
async fn activity(chain: &Chain, union: Address, round: u64, joins: usize) -> Vec<Address> {
    let members = addresses(round, joins);
    for batch in members.chunks(100) {
        send(chain.du(union, AGENT).addMembers(batch.to_vec())).await;
        chain.mint_data(union, U256::from(1_000_003u64 * (round + 1))).await;
    }
    send(chain.du(union, AGENT).partMembers(members.iter().step_by(10).copied().collect())).await;
    send(chain.du(union, OWNER).setAdminFee(U256::from(round * 10u64.pow(16)))).await;
    chain.mint_data(union, U256::from(999_999u64)).await;
    members
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_behind_nginx_agree_with_the_validator_through_a_takeover_and_a_restart() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(std::env::var("COOP_TEST_LOG").unwrap_or("warn".into()))
        .with_test_writer()
        .try_init();
    let Some(cluster) = Cluster::start().await else { return };
    let chain = &cluster.chain;
    let union = chain.create_data_union(U256::from(10u64.pow(17)), 0).await;
    let replicas: Vec<Instance> = (0..3).map(|i| cluster.replica(&format!("replica{i}"))).collect();
    let validator = cluster.validator();

    // 1,000 joins, 100 parts, 20 revenues and more: every instance and the validator agree.
    let mut sample = Vec::new();
    for round in 0..2 {
        let members = activity(chain, union, round, 500).await;
        sample.extend([members[0], members[1], members[499]]);
        let all: Vec<&Instance> = replicas.iter().chain([&validator]).collect();
        settle(chain, &all, union).await;
        assert_same(&all, union, &sample).await;
    }
    let (_, stats) = get(&validator.url(&format!("/api/v1/unions/{union}"))).await;
    assert_eq!(stats["totalMembers"], 1000);
    assert_eq!(stats["activeMembers"], 900);
    let (_, validation) = get(&validator.url("/api/v1/validation")).await;
    assert_eq!(validation["mismatches"].as_array().map(Vec::len), Some(0), "{validation}");

    // nginx spreads the reads over all three.
    let nginx =
        Nginx::start(cluster.dir.path(), &replicas.iter().map(|r| r.address).collect::<Vec<_>>(), cluster.proxy_port);
    let mut seen = std::collections::HashSet::new();
    for _ in 0..30 {
        let response = client().get(format!("http://{}/api/v1/unions/{union}", nginx.address)).send().await.unwrap();
        assert!(response.status().is_success());
        seen.insert(response.headers()["x-coop-instance"].to_str().unwrap().to_owned());
    }
    assert_eq!(seen.len(), 3, "the reads went to {seen:?}");

    what_one_instance_stores_every_instance_serves(chain, &replicas, nginx.address).await;
    drop(nginx);

    // The indexing instance dies in the middle of a burst; another takes over.
    let mut replicas = replicas;
    let leader = replicas.iter().position(|r| r.leading.load(Ordering::SeqCst)).expect("one instance leads");
    assert_eq!(replicas.iter().filter(|r| r.leading.load(Ordering::SeqCst)).count(), 1, "exactly one leads");
    let burst = activity(chain, union, 7, 200);
    let killed = replicas.remove(leader);
    let started = Instant::now();
    killed.kill();
    sample.extend(burst.await.into_iter().take(2));
    let all: Vec<&Instance> = replicas.iter().chain([&validator]).collect();
    let head = settle(chain, &all, union).await;
    eprintln!("takeover and catch-up took {:?}", started.elapsed());
    assert!(replicas.iter().any(|r| r.leading.load(Ordering::SeqCst)), "someone took over");
    assert_same(&all, union, &sample).await;

    // Every instance restarts at once and comes back to the same state.
    for replica in replicas {
        replica.kill();
    }
    let restarted: Vec<Instance> = (0..3).map(|i| cluster.replica(&format!("again{i}"))).collect();
    let all: Vec<&Instance> = restarted.iter().chain([&validator]).collect();
    wait_for(&all, union, head).await;
    assert_same(&all, union, &sample).await;

    drop(restarted);
    validator.kill();
    cluster.finish().await;
}

/// A sign-in made through nginx (the public origin, on another port than any instance) holds on
/// every instance, and a cover uploaded through one is served by all: sessions and covers live in
/// the shared database, not in an instance.
async fn what_one_instance_stores_every_instance_serves(chain: &Chain, replicas: &[Instance], proxy: SocketAddr) {
    let client = client();
    // The nonce is bound to the session it was handed to, which lives in the shared database.
    let origin = format!("http://{proxy}");
    let cookie = sign_in(&client, &origin, &origin, &chain.signer(OWNER)).await;

    // Uploaded through the last instance with the session opened through nginx.
    let image = [b"\x89PNG\r\n\x1a\n".as_slice(), b"a cover shared by every instance"].concat();
    let uploaded = client
        .post(replicas[2].url("/api/v1/covers"))
        .header(COOKIE, &cookie)
        .header(CONTENT_TYPE, "image/png")
        .body(image.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(uploaded.status(), reqwest::StatusCode::CREATED, "the session opened on another instance holds");
    let url = uploaded.json::<Value>().await.unwrap()["url"].as_str().unwrap().to_owned();
    for replica in replicas {
        let served = client.get(replica.url(&url)).send().await.unwrap();
        assert_eq!(served.status(), reqwest::StatusCode::OK, "{url} on {}", replica.address);
        assert_eq!(served.bytes().await.unwrap().as_ref(), image.as_slice(), "{url} on {}", replica.address);
    }
}

/// Signs `signer` in at `base` (an instance or nginx) with a message naming `origin`, the public
/// origin; answers the session cookie.
async fn sign_in(
    client: &reqwest::Client,
    base: &str,
    origin: &str,
    signer: &alloy::signers::local::PrivateKeySigner,
) -> String {
    let granted = client.get(format!("{base}/api/v1/auth/nonce")).send().await.unwrap();
    let nonce_session = session_cookie(granted.headers()).expect("a nonce comes with a session");
    let grant: NonceGrant = granted.json().await.unwrap();
    let host = origin.trim_start_matches("http://");
    let message = siwe::sign_in_message(host, origin, signer.address(), 31337, &grant).unwrap().to_string();
    let signature = hex::encode_prefixed(signer.sign_message_sync(message.as_bytes()).unwrap().as_bytes());
    let signed_in = client
        .post(format!("{base}/api/v1/auth/sign-in"))
        .header(COOKIE, nonce_session)
        .json(&json!({ "message": message, "signature": signature }))
        .send()
        .await
        .unwrap();
    assert!(signed_in.status().is_success(), "sign-in: {}", signed_in.status());
    session_cookie(signed_in.headers()).expect("a session cookie")
}

/// Product streams on NATS JetStream: what one instance stores, a reader following live on another
/// gets, every message once and in order; when the first instance dies mid-stream, nothing it
/// acknowledged is lost and publishing goes on through the other.
#[tokio::test]
async fn a_stream_published_through_one_instance_reaches_a_live_reader_on_another_through_a_crash() {
    let Some(cluster) = Cluster::start().await else { return };
    let Some(nats) = test_nats::TestNats::start() else {
        cluster.finish().await;
        return;
    };
    let chain = &cluster.chain;
    let owner = chain.signer(OWNER);
    let id = chain.create_product(OWNER, "Shared stream", owner.address(), U256::from(1u64), U256::ZERO).await;
    let config = |name: &str| Config {
        nats_url: Some(nats.url.clone()),
        messages_per_second_per_publisher: 10_000,
        ..cluster.config(name, Some(cluster.database.url.clone()))
    };
    let a = Instance::start(config("stream-a"), cluster.chain.anvil.endpoint(), false);
    let b = Instance::start(config("stream-b"), cluster.chain.anvil.endpoint(), false);
    let client = client();
    for instance in [&a, &b] {
        let deadline = Instant::now() + Duration::from_secs(60);
        while !client.get(instance.url(&format!("/api/v1/products/{id}"))).send().await.unwrap().status().is_success() {
            assert!(Instant::now() < deadline, "{} did not index the product", instance.address);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    let origin = format!("http://127.0.0.1:{}", cluster.proxy_port);
    let cookie = sign_in(&client, &b.url(""), &origin, &owner).await;
    let stream = format!("/api/v1/products/{id}/streams/shared");
    let saved = client
        .put(b.url(&stream))
        .header(COOKIE, &cookie)
        .json(&json!({"description": "shared"}))
        .send()
        .await
        .unwrap();
    assert!(saved.status().is_success(), "{}", saved.status());

    let mut feed = client.get(b.url(&format!("{stream}/live?from=0"))).header(COOKIE, &cookie).send().await.unwrap();
    assert!(feed.status().is_success(), "{}", feed.status());
    let publish = |instance: &Instance, sequence: u64| {
        let timestamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64;
        let content = format!("{{\"n\":{sequence}}}");
        let name = "shared".parse().unwrap();
        let unchecked = coop::stream::Unchecked {
            product: id,
            stream: &name,
            publisher: owner.address(),
            sequence,
            timestamp,
            content: &content,
        };
        let signature = owner.sign_message_sync(unchecked.digest().as_slice()).unwrap();
        let body = json!({
            "publisher": owner.address(), "sequence": sequence, "timestamp": timestamp, "content": content,
            "signer": owner.address(), "signature": hex::encode_prefixed(signature.as_bytes()),
        });
        client.post(instance.url(&format!("{stream}/messages"))).json(&body).send()
    };
    for sequence in 1..=40 {
        let response = publish(&a, sequence).await.unwrap();
        assert_eq!(response.status(), reqwest::StatusCode::CREATED, "message {sequence} through a");
    }
    a.kill();
    for sequence in 41..=60 {
        let response = publish(&b, sequence).await.unwrap();
        assert_eq!(response.status(), reqwest::StatusCode::CREATED, "message {sequence} through b");
    }
    let mut text = String::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while text.lines().filter(|line| line.starts_with("id: ")).count() < 60 {
        assert!(Instant::now() < deadline, "60 events within 30 s; got:\n{text}");
        let chunk = tokio::time::timeout(Duration::from_secs(10), feed.chunk()).await.expect("the feed goes on");
        text.push_str(&String::from_utf8_lossy(&chunk.unwrap().expect("the feed stays open")));
    }
    let ids: Vec<u64> = text.lines().filter_map(|line| line.strip_prefix("id: ")?.parse().ok()).collect();
    assert_eq!(ids, (0..60).collect::<Vec<u64>>(), "every acknowledged message once, in order");
    for (offset, line) in text.lines().filter_map(|line| line.strip_prefix("data: ")).enumerate() {
        let message: Value = serde_json::from_str(line).unwrap();
        assert_eq!(message["content"], format!("{{\"n\":{}}}", offset + 1));
    }
    drop(feed);
    b.kill();
    cluster.finish().await;
}

/// Debian's nginx on a free port in front of the given instances, stopped when dropped.
struct Nginx {
    address: SocketAddr,
    child: Child,
}

impl Nginx {
    fn start(dir: &Path, upstreams: &[SocketAddr], port: u16) -> Nginx {
        let prefix = dir.join("nginx");
        std::fs::create_dir_all(prefix.join("logs")).unwrap();
        let template = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../deploy/nginx.conf")).unwrap();
        let servers: String = upstreams.iter().map(|a| format!("    server {a};\n")).collect();
        let config = template
            .replace("    server 127.0.0.1:3001;\n    server 127.0.0.1:3002;\n    server 127.0.0.1:3003;\n", &servers)
            .replace("listen 127.0.0.1:8080;", &format!("listen 127.0.0.1:{port};"));
        let config_file = prefix.join("nginx.conf");
        std::fs::write(
            &config_file,
            format!(
                "daemon off;\nmaster_process off;\npid {}/nginx.pid;\nerror_log stderr;\n{config}",
                prefix.display()
            ),
        )
        .unwrap();
        let child = Command::new("/usr/sbin/nginx")
            .arg("-p")
            .arg(&prefix)
            .arg("-c")
            .arg(&config_file)
            .spawn()
            .expect("nginx (Debian's nginx-light) is installed");
        let address = SocketAddr::from(([127, 0, 0, 1], port));
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(address).is_err() {
            assert!(Instant::now() < deadline, "nginx did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Nginx { address, child }
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
