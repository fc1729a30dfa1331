//! What a flood does to honest readers: 32 clients read a member's figures with proof, as a member
//! app does (each 20 times a second), first alone (the baseline) and then while flooders ask for
//! sign-in nonces and books of ever other blocks as fast as they can; the honest latencies of every
//! phase are printed side by side.
//!
//! Runs the release `coop dev` (its own anvil, the demo marketplace) on a free loopback port with
//! its default limits. Every client comes through "a proxy" (`X-Forwarded-For`, loopback being a
//! trusted proxy), so each has its own address as behind the shipped nginx. Two floods: one client,
//! as fast as it can; then many clients (256 addresses), each under its rate limit, so that what
//! holds is the share sign-in and books get, not the per-address limit.
//!
//! ```sh
//! cargo bench -p coop-server --bench abuse   # COOP_ABUSE_SECONDS=10 per phase by default
//! ```

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::sync::Mutex;

const HONEST_CLIENTS: usize = 32;
/// Each honest client's pace: a member app refreshing, well within the per-address limit.
const HONEST_EVERY: Duration = Duration::from_millis(50);
const FLOODERS: usize = 8;
const FLOOD_ADDRESSES: usize = 256;

struct Dev {
    child: Child,
    url: String,
}

impl Drop for Dev {
    fn drop(&mut self) {
        // SIGTERM first: `coop dev` then stops its anvil too, which a kill would leave running.
        let _ = Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status();
        for _ in 0..100 {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `coop dev` on a free port, in a data folder of its own, once it listens.
fn start_dev(data_dir: &std::path::Path) -> Dev {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_owned();
    let path = format!("{}:{}", root.join("node_modules/.bin").display(), std::env::var("PATH").unwrap_or_default());
    let mut child = Command::new(env!("CARGO_BIN_EXE_coop"))
        .arg("dev")
        .current_dir(&root)
        .env("PATH", path)
        .env("COOP_LISTEN", "127.0.0.1:0")
        .env("COOP_DATA_DIR", data_dir)
        .env("RUST_LOG", "warn,startup=info")
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start coop dev (cargo build --release -p coop-server)");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let url = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|line| line.split("listening on ").nth(1).map(|url| url.trim().to_owned()))
        .expect("coop dev stopped before it listened");
    // Keep draining the log so the server never blocks on a full pipe.
    std::thread::spawn(move || lines.for_each(drop));
    Dev { child, url }
}

#[derive(Default)]
struct Tally {
    latencies: Vec<Duration>,
    statuses: BTreeMap<u16, u64>,
}

impl Tally {
    /// GETs `url` and counts its time and status (0: no answer).
    async fn get(&mut self, client: &reqwest::Client, url: &str) {
        let started = Instant::now();
        let status = match client.get(url).send().await {
            Ok(response) => {
                let status = response.status().as_u16();
                let _ = response.bytes().await;
                status
            }
            Err(_) => 0,
        };
        self.latencies.push(started.elapsed());
        *self.statuses.entry(status).or_default() += 1;
    }

    fn line(&mut self, name: &str, seconds: f64) -> String {
        self.latencies.sort_unstable();
        let at = |q: f64| {
            let i = ((self.latencies.len() as f64 * q).ceil() as usize).saturating_sub(1);
            self.latencies.get(i).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
        };
        format!(
            "{name:<28} {:>7} req {:>8.0} req/s  p50 {:>6.2} ms  p90 {:>6.2} ms  p99 {:>6.2} ms  max {:>7.2} ms  {:?}",
            self.latencies.len(),
            self.latencies.len() as f64 / seconds,
            at(0.5),
            at(0.9),
            at(0.99),
            self.latencies.last().map_or(0.0, |d| d.as_secs_f64() * 1000.0),
            self.statuses
        )
    }
}

fn client(forwarded_for: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("x-forwarded-for", forwarded_for.parse().unwrap());
    reqwest::Client::builder().default_headers(headers).timeout(Duration::from_secs(30)).build().unwrap()
}

/// 32 members' apps reading figures with proof, each every [`HONEST_EVERY`], until `stop`.
async fn honest(base: &str, union: &str, members: &[String], stop: Arc<AtomicBool>) -> Tally {
    let tally = Arc::new(Mutex::new(Tally::default()));
    let mut tasks = Vec::new();
    for i in 0..HONEST_CLIENTS {
        let client = client(&format!("10.0.1.{i}"));
        let url = format!("{base}/api/v1/unions/{union}/members/{}", members[i % members.len()]);
        let (tally, stop) = (tally.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let mut mine = Tally::default();
            let mut pace = tokio::time::interval(HONEST_EVERY);
            pace.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            while !stop.load(Ordering::Relaxed) {
                pace.tick().await;
                mine.get(&client, &url).await;
            }
            let mut tally = tally.lock().await;
            tally.latencies.extend(mine.latencies);
            for (status, count) in mine.statuses {
                *tally.statuses.entry(status).or_default() += count;
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    Arc::try_unwrap(tally).ok().unwrap().into_inner()
}

/// Flooders asking for nonces and books of random blocks until `stop`, from `addresses` addresses.
async fn flood(base: &str, union: &str, blocks: (u64, u64), addresses: usize, stop: Arc<AtomicBool>) -> Tally {
    let clients: Arc<Vec<reqwest::Client>> =
        Arc::new((0..addresses).map(|i| client(&format!("10.9.{}.{}", i / 256, i % 256))).collect());
    let mut tasks = Vec::new();
    for f in 0..FLOODERS {
        let (clients, stop, base, union) = (clients.clone(), stop.clone(), base.to_owned(), union.to_owned());
        tasks.push(tokio::spawn(async move {
            let mut tally = Tally::default();
            let mut n = f;
            while !stop.load(Ordering::Relaxed) {
                n += FLOODERS;
                let url = if n % 2 == 0 {
                    format!("{base}/api/v1/auth/nonce")
                } else {
                    // A different block each time, so most books must be built.
                    let (first, last) = blocks;
                    format!("{base}/api/v1/unions/{union}/books/{}", first + (n as u64 * 7919) % (last - first + 1))
                };
                tally.get(&clients[n % clients.len()], &url).await;
            }
            tally
        }));
    }
    let mut all = Tally::default();
    for task in tasks {
        let tally = task.await.unwrap();
        all.latencies.extend(tally.latencies);
        for (status, count) in tally.statuses {
            *all.statuses.entry(status).or_default() += count;
        }
    }
    all
}

#[tokio::main]
async fn main() {
    let seconds: u64 = std::env::var("COOP_ABUSE_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(10);
    let data_dir = tempfile::tempdir().unwrap();
    let dev = start_dev(data_dir.path());
    let base = dev.url.clone();
    let get = |path: String| {
        let base = base.clone();
        async move { client("10.0.0.1").get(format!("{base}{path}")).send().await.unwrap().json::<Value>().await.unwrap() }
    };
    // The server listens before it has indexed the demo: wait for its union.
    let mut unions = get("/api/v1/unions".into()).await;
    for _ in 0..600 {
        if unions["unions"][0]["address"].is_string() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        unions = get("/api/v1/unions".into()).await;
    }
    let union = unions["unions"][0]["address"].as_str().expect("the demo union, indexed within a minute").to_owned();
    let members = get(format!("/api/v1/unions/{union}/members")).await;
    let members: Vec<String> =
        members["members"].as_array().unwrap().iter().map(|m| m["address"].as_str().unwrap().to_owned()).collect();
    let blocks = (unions["unions"][0]["createdBlock"].as_u64().unwrap(), unions["asOfBlock"].as_u64().unwrap());
    println!(
        "{HONEST_CLIENTS} honest clients read {} members' figures with proof every {} ms each; {FLOODERS} flooders; \
         {seconds} s a phase; release coop dev, default limits",
        members.len(),
        HONEST_EVERY.as_millis()
    );

    let mut rows = Vec::new();
    for (name, flooders) in
        [("alone", None), ("one flooding client", Some(1)), ("flood from 256 addresses", Some(FLOOD_ADDRESSES))]
    {
        let stop = Arc::new(AtomicBool::new(false));
        let stopper = {
            let stop = stop.clone();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_secs(seconds)).await;
                stop.store(true, Ordering::Relaxed);
            })
        };
        let (mut readers, flooded) = match flooders {
            None => (honest(&base, &union, &members, stop.clone()).await, None),
            Some(addresses) => {
                let (readers, flooded) = tokio::join!(
                    honest(&base, &union, &members, stop.clone()),
                    flood(&base, &union, blocks, addresses, stop.clone())
                );
                (readers, Some(flooded))
            }
        };
        stopper.await.unwrap();
        rows.push(readers.line(&format!("honest, {name}"), seconds as f64));
        if let Some(mut flooded) = flooded {
            rows.push(flooded.line(&format!("  the flood ({name})"), seconds as f64));
        }
    }
    for row in rows {
        println!("{row}");
    }
}
