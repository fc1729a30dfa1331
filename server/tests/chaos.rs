//! Chaos: `coop serve` processes on one PostgreSQL database, and the one holding the chain role is
//! killed with SIGKILL at random points, again and again, while the cluster catches up over a chain
//! that keeps moving, reorganises inside the reorg window, and carries hostile unions. Afterwards
//! every instance answers, byte for byte, what an instance that indexed the same chain without a
//! single interruption answers: unions, members, commits and the book of every commit.
//!
//! `COOP_CHAOS_KILLS` sets the number of kills (20 by default, what `make test` runs) and
//! `COOP_CHAOS_SEED` the random seed. Needs `COOP_TEST_POSTGRES_URL` (see tests/support/postgres.rs).

#[allow(dead_code)]
#[path = "contracts/helpers.rs"]
mod chain;
#[path = "support/postgres.rs"]
mod test_database;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use alloy::primitives::{Address, B256, U256};
use alloy::providers::ext::AnvilApi;
use chain::{AGENT, Chain, DEPLOYER, MEMBER, OPERATOR, OTHER, Rng, send};
use serde_json::Value;

/// Blocks below the head that count as final; reorgs here stay inside the window.
const CONFIRMATIONS: u64 = 3;

/// One `coop serve` process.
struct Process {
    child: Child,
    port: u16,
}

impl Process {
    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// How an instance is started: its database (none: SQLite in its data folder) and folder.
struct Setup {
    rpc_url: url::Url,
    deployment_file: PathBuf,
    log_dir: PathBuf,
}

impl Setup {
    fn spawn(&self, name: &str, database_url: Option<&str>, data_dir: &Path) -> Process {
        let port = free_port();
        let log = std::fs::File::create(self.log_dir.join(format!("{name}-{port}.log"))).unwrap();
        let mut command = Command::new(env!("CARGO_BIN_EXE_coop"));
        command
            .arg("serve")
            .env("COOP_LISTEN", format!("127.0.0.1:{port}"))
            .env("COOP_RPC_URL", self.rpc_url.as_str())
            .env("COOP_DEPLOYMENT_FILE", &self.deployment_file)
            .env("COOP_CONFIRMATIONS", CONFIRMATIONS.to_string())
            .env("COOP_DATA_DIR", data_dir)
            .env("COOP_LOG", "warn")
            .env_remove("DATABASE_URL")
            .env_remove("RUST_LOG")
            .stdout(Stdio::null())
            .stderr(log);
        if let Some(url) = database_url {
            command.env("DATABASE_URL", url);
        }
        Process { child: command.spawn().expect("coop starts"), port }
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap()
}

/// The body and the as-of block of a GET, or `None` while the instance does not answer.
async fn get(process: &Process, path: &str) -> Option<(u16, u64, String)> {
    let response = client().get(process.url(path)).send().await.ok()?;
    let status = response.status().as_u16();
    let block = response.headers().get("x-coop-block")?.to_str().ok()?.parse().ok()?;
    Some((status, block, response.text().await.ok()?))
}

/// Whether the process holds the chain role now, as its `/metrics` says.
async fn leads(process: &Process) -> bool {
    let Ok(response) = client().get(process.url("/metrics")).send().await else { return false };
    response.text().await.is_ok_and(|text| text.lines().any(|line| line == "coop_chain_role 1"))
}

/// Waits until every process answers as of `block` or later.
async fn caught_up(processes: &[&Process], block: u64) {
    let deadline = Instant::now() + Duration::from_secs(120);
    for process in processes {
        loop {
            if let Some((_, at, _)) = get(process, "/api/v1/unions?limit=1").await
                && at >= block
            {
                break;
            }
            assert!(Instant::now() < deadline, "{} never reached block {block}", process.url(""));
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// Counts of what the chain went through, for the report.
#[derive(Debug, Default)]
struct Tally {
    kills: u32,
    reorgs: u32,
    hostile: u32,
    transactions: u32,
}

/// A union of OWNER's with OPERATOR committing and AGENT adding members.
async fn union(chain: &Chain) -> Address {
    chain.create_data_union(U256::from(10u64).pow(U256::from(17)), 0).await
}

/// Hostile unions: the longest freeze period there is (a year; a longer one is refused), and an operator
/// that commits the book of a block before its union existed and roots that match nothing.
async fn hostile_unions(chain: &Chain, tally: &mut Tally) -> Address {
    chain.create_data_union_as(OTHER, U256::from(365 * 86_400u64)).await;
    let hostile = chain.create_data_union_as(OTHER, U256::ZERO).await;
    send(chain.du(hostile, AGENT).addMembers(vec![chain.address(MEMBER)])).await;
    let first = chain.block_hash(1).await;
    send(chain.du(hostile, OPERATOR).commit(U256::from(1u64), first, B256::repeat_byte(7), B256::repeat_byte(7))).await;
    tally.hostile += 3;
    hostile
}

/// One random step of activity on `unions`.
async fn activity(chain: &Chain, unions: &[Address], rng: &mut Rng, tally: &mut Tally) {
    let union = unions[(rng.next_u64() % unions.len() as u64) as usize];
    match rng.next_u64() % 4 {
        0 | 1 => chain.mint_data(union, U256::from(1 + rng.next_u64() % 1_000_000)).await,
        2 => {
            let members = (0..1 + rng.next_u64() % 5).map(|_| rng.address()).collect();
            send(chain.du(union, AGENT).addMembers(members)).await;
        }
        _ => {
            let block = chain.block_number().await - 1;
            let root = B256::from(U256::from(rng.next_u64()));
            let hash = chain.block_hash(block).await;
            send(chain.du(union, OPERATOR).commit(U256::from(block), hash, root, root)).await;
            tally.hostile += 1;
        }
    }
    tally.transactions += 1;
}

/// A reorg inside the window: a few blocks of activity, taken back and replaced by a longer fork.
async fn reorg(chain: &Chain, unions: &[Address], rng: &mut Rng, tally: &mut Tally) {
    let rpc = chain.wallet(DEPLOYER);
    let fork = rpc.anvil_snapshot().await.unwrap();
    for _ in 0..2 {
        activity(chain, unions, rng, tally).await;
    }
    tokio::time::sleep(Duration::from_millis(rng.next_u64() % 400)).await;
    assert!(rpc.anvil_revert(fork).await.unwrap());
    activity(chain, unions, rng, tally).await;
    rpc.anvil_mine(Some(2), None).await.unwrap();
    tally.reorgs += 1;
}

/// What must be the same everywhere: the list of unions, every union's stats, members and history,
/// the book of every commit, and the validation report.
async fn answers(process: &Process) -> Vec<(String, u16, String)> {
    let mut all = Vec::new();
    let ask = |path: String| async move {
        let (status, _, body) = get(process, &path).await.unwrap_or_else(|| panic!("{path} answers"));
        (path, status, body)
    };
    let list = ask("/api/v1/unions?limit=1000".to_owned()).await;
    let addresses: Vec<String> = serde_json::from_str::<Value>(&list.2).unwrap()["unions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|union| union["address"].as_str().unwrap().to_owned())
        .collect();
    all.push(list);
    all.push(ask("/api/v1/validation".to_owned()).await);
    for union in addresses {
        let stats = ask(format!("/api/v1/unions/{union}")).await;
        let commits: Vec<u64> = serde_json::from_str::<Value>(&stats.2).unwrap()["commits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|commit| commit["bookBlock"].as_u64().unwrap())
            .collect();
        all.push(stats);
        all.push(ask(format!("/api/v1/unions/{union}/members?limit=1000")).await);
        all.push(ask(format!("/api/v1/unions/{union}/history")).await);
        for block in commits {
            all.push(ask(format!("/api/v1/unions/{union}/books/{block}")).await);
        }
    }
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_the_leader_at_random_leaves_every_instance_with_the_uninterrupted_answers() {
    let Some(database) = test_database::TestDatabase::create("coop_chaos").await else { return };
    let kills: u32 = std::env::var("COOP_CHAOS_KILLS").ok().and_then(|n| n.parse().ok()).unwrap_or(20);
    let seed: u64 = std::env::var("COOP_CHAOS_SEED").ok().and_then(|n| n.parse().ok()).unwrap_or(7);
    let mut rng = Rng::new(seed);
    let mut tally = Tally::default();
    let chain = Chain::start().await;
    let dir = tempfile::tempdir().unwrap();
    let deployment_file = dir.path().join("deployment.json");
    chain.deployment.save(&deployment_file).unwrap();
    let setup = Setup { rpc_url: chain.anvil.endpoint(), deployment_file, log_dir: dir.path().to_owned() };

    // A history to catch up on: unions of OWNER's with members and revenue, and hostile ones.
    let mut unions = vec![union(&chain).await, union(&chain).await];
    send(chain.du(unions[0], AGENT).addMembers(vec![chain.address(MEMBER), chain.address(OTHER)])).await;
    unions.push(hostile_unions(&chain, &mut tally).await);
    for _ in 0..40 {
        activity(&chain, &unions, &mut rng, &mut tally).await;
    }

    let names = ["a", "b", "c"];
    let mut cluster: Vec<Process> =
        names.iter().map(|name| setup.spawn(name, Some(&database.url), &dir.path().join(name))).collect();
    let started = Instant::now();
    while tally.kills < kills {
        // The chain moves on, now and then by a reorg, while the leader is killed mid-work.
        activity(&chain, &unions, &mut rng, &mut tally).await;
        if rng.next_u64().is_multiple_of(4) {
            reorg(&chain, &unions, &mut rng, &mut tally).await;
        }
        tokio::time::sleep(Duration::from_millis(rng.next_u64() % 700)).await;
        let mut leader = None;
        for (index, process) in cluster.iter().enumerate() {
            if leads(process).await {
                leader = Some(index);
            }
        }
        let Some(index) = leader else { continue };
        cluster[index].child.kill().unwrap();
        cluster[index].child.wait().unwrap();
        tally.kills += 1;
        let name = names[index];
        cluster[index] = setup.spawn(name, Some(&database.url), &dir.path().join(name));
        assert!(started.elapsed() < Duration::from_secs(600), "{tally:?}: the kills took too long");
    }

    // The chain stops; everything up to the head becomes final; a fresh instance indexes it all at once.
    chain.wallet(DEPLOYER).anvil_mine(Some(CONFIRMATIONS + 1), None).await.unwrap();
    let head = chain.block_number().await;
    let fresh = setup.spawn("fresh", None, &dir.path().join("fresh"));
    let all: Vec<&Process> = cluster.iter().chain([&fresh]).collect();
    caught_up(&all, head).await;

    let expected = answers(&fresh).await;
    assert!(expected.iter().any(|(path, _, _)| path.contains("/books/")), "some commits were checked");
    let validation: Value = serde_json::from_str(&expected[1].2).unwrap();
    assert!(!validation["mismatches"].as_array().unwrap().is_empty(), "the hostile commits are reported");
    for process in &cluster {
        let theirs = answers(process).await;
        assert_eq!(theirs.len(), expected.len(), "{} sees other commits", process.url(""));
        for (mine, fresh) in theirs.iter().zip(&expected) {
            assert_eq!(mine, fresh, "{} differs from the uninterrupted instance", process.url(""));
        }
    }
    eprintln!("chaos: {tally:?}, head {head}, {} answers compared per instance", expected.len());
    drop(cluster);
    drop(fresh);
    database.drop().await;
}
