//! Read throughput of `coop serve` instances on one PostgreSQL database, straight and through nginx with
//! one and with three instances. Run by `scripts/load.sh`, which starts PostgreSQL and builds this and
//! the `coop` binary in release mode.
//!
//! It starts anvil, deploys the contracts, and fills one Data Union (`COOP_LOAD_MEMBERS` members, default
//! 10,000, added 100 per transaction, with revenue after each batch and some parts), a Data Union product
//! and a plain one with purchases. Then it starts `COOP_BIN` (the release `coop`) as separate processes:
//! one instance first, which indexes and commits, then two more. Once the chain stands still and every
//! instance answers as of its head, it sends the read mix below from `COOP_LOAD_CONNECTIONS` (default 32)
//! concurrent connections for `COOP_LOAD_SECONDS` (default 15) per run, and runs each setup three times,
//! interleaved, so that load from elsewhere on the machine spreads over all of them.
//!
//! The load generator runs on one thread; on a small machine it shares the cores with nginx and the
//! instances, which the figures include.
//!
//! With `COOP_BASELINE_BIN` (another build of `coop`, an earlier commit's, say) it compares the two
//! instead (`scripts/load.sh pages REV`): one instance of each on a database of its own, only the first
//! committing, then `wrk` on each page and answer in turn, the baseline first, `RUNS` rounds.

#[allow(dead_code)]
#[path = "../tests/contracts/helpers.rs"]
mod chain;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use alloy::primitives::{Address, U256};
use anyhow::{Context, bail};
use chain::{AGENT, BUYER, Chain, OPERATOR, OWNER, TOKEN, product_id, product_salt, send};
use sqlx::Connection;
use sqlx::postgres::PgConnection;

const RUNS: usize = 3;

fn main() -> anyhow::Result<()> {
    let settings = Settings::from_env()?;
    // Setting up uses the default runtime; the load itself runs on a single thread (see `measure`).
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    runtime.block_on(run(settings))
}

struct Settings {
    coop: PathBuf,
    baseline: Option<PathBuf>,
    admin_url: String,
    members: usize,
    connections: usize,
    seconds: u64,
    /// Seconds to keep one filled instance up instead of measuring (`COOP_LOAD_HOLD`).
    hold: Option<u64>,
}

impl Settings {
    fn from_env() -> anyhow::Result<Self> {
        let number = |name: &str, default: u64| -> anyhow::Result<u64> {
            match std::env::var(name) {
                Ok(text) => text.parse().with_context(|| format!("{name} is {text:?}, not a whole number")),
                Err(_) => Ok(default),
            }
        };
        Ok(Settings {
            coop: std::env::var_os("COOP_BIN")
                .map(PathBuf::from)
                .context("set COOP_BIN to the release `coop` binary")?,
            baseline: std::env::var_os("COOP_BASELINE_BIN").map(PathBuf::from),
            admin_url: std::env::var("COOP_TEST_POSTGRES_URL")
                .context("set COOP_TEST_POSTGRES_URL (see tests/store.rs)")?,
            members: number("COOP_LOAD_MEMBERS", 10_000)? as usize,
            connections: number("COOP_LOAD_CONNECTIONS", 32)? as usize,
            seconds: number("COOP_LOAD_SECONDS", 15)?,
            hold: std::env::var_os("COOP_LOAD_HOLD").map(|_| number("COOP_LOAD_HOLD", 0)).transpose()?,
        })
    }
}

async fn run(settings: Settings) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let started = Instant::now();
    let chain = Chain::start().await;
    let deployment_file = dir.path().join("deployment.json");
    chain.deployment.save(&deployment_file)?;
    let (union, members) = fill(&chain, settings.members).await;
    println!(
        "chain: {} members in one Data Union, ready at block {} after {:.0} s",
        members.len(),
        chain.block_number().await,
        started.elapsed().as_secs_f64()
    );

    if let Some(baseline) = &settings.baseline {
        return compare(&settings, baseline, &chain, dir.path(), &deployment_file, union, &members).await;
    }
    let database = Database::create(&settings.admin_url, "").await?;
    let instance =
        |name: &str| Instance::start(&settings.coop, dir.path(), name, &database.url, &chain, &deployment_file, true);
    let first = instance("first")?;
    let head = settle(&chain, &[&first], union).await?;
    if let Some(seconds) = settings.hold {
        // One instance over the filled chain, left up for a profiler or a browser, then stopped.
        println!("holding for {seconds} s: {} (the Data Union: {union})", first.url("/"));
        tokio::time::sleep(Duration::from_secs(seconds)).await;
        first.stop();
        return database.drop().await;
    }
    let others = [instance("second")?, instance("third")?];
    let all = [&first, &others[0], &others[1]];
    wait_for(&all, union, head).await?;
    println!(
        "instances: 3 on PostgreSQL, all as of block {head}, {:.0} s after the start",
        started.elapsed().as_secs_f64()
    );

    let mix = Mix::new(union, &members);
    let setups: [(&str, Vec<SocketAddr>, bool); 3] = [
        ("1 instance, direct", vec![first.address], false),
        ("1 instance behind nginx", vec![first.address], true),
        ("3 instances behind nginx", all.iter().map(|i| i.address).collect(), true),
    ];
    let mut results: Vec<Vec<Measured>> = vec![Vec::new(); setups.len()];
    for round in 1..=RUNS {
        for (setup, (name, upstreams, through_nginx)) in setups.iter().enumerate() {
            let nginx = if *through_nginx { Some(Nginx::start(dir.path(), upstreams)?) } else { None };
            let target = nginx.as_ref().map_or(upstreams[0], |nginx| nginx.address);
            let result = measure(target, &mix, settings.connections, Duration::from_secs(settings.seconds))?;
            println!("run {round}, {name}: {result}");
            results[setup].push(result);
        }
    }
    println!();
    println!(
        "{} members, {} connections, {} s per run, read mix: stats, members?limit=50, one member's figures, products",
        members.len(),
        settings.connections,
        settings.seconds
    );
    for ((name, ..), runs) in setups.iter().zip(&results) {
        println!("{name}:");
        for result in runs {
            println!("  {result}");
        }
    }
    for instance in [first].into_iter().chain(others) {
        instance.stop();
    }
    database.drop().await
}

/// The baseline and this build side by side: the same chain, a database each, the same requests.
async fn compare(
    settings: &Settings,
    baseline: &Path,
    chain: &Chain,
    dir: &Path,
    deployment_file: &Path,
    union: Address,
    members: &[Address],
) -> anyhow::Result<()> {
    let databases =
        [Database::create(&settings.admin_url, "_base").await?, Database::create(&settings.admin_url, "_new").await?];
    let builds = [("baseline", baseline), ("this build", settings.coop.as_path())];
    let instances = [
        Instance::start(builds[0].1, dir, "baseline", &databases[0].url, chain, deployment_file, true)?,
        Instance::start(builds[1].1, dir, "new", &databases[1].url, chain, deployment_file, false)?,
    ];
    let head = settle(chain, &[&instances[0], &instances[1]], union).await?;
    println!("instances: baseline and this build, both as of block {head}");

    let member = members[members.len() / 3];
    let product = product_id(chain.address(OWNER), "Commuter journeys");
    // Visitors without a session, and for each page a visitor with one: a session cookie (naming no
    // session here) is what a signed-in visitor sends, and pages asked for with one are rendered
    // every time.
    let session = Some("coop_session=none");
    let targets = [
        ("/healthz", "/healthz".to_owned(), None),
        ("member with proof", format!("/api/v1/unions/{union}/members/{member}"), None),
        ("home page", "/".to_owned(), None),
        ("home page, with a session", "/".to_owned(), session),
        ("product page", format!("/products/{product}"), None),
        ("product page, with a session", format!("/products/{product}"), session),
        ("union dashboard", format!("/unions/{union}"), None),
        ("union dashboard, with a session", format!("/unions/{union}"), session),
        // Two of the answers the dashboard is made of, without the page around them.
        ("union stats (API)", format!("/api/v1/unions/{union}"), None),
        ("20 members (API)", format!("/api/v1/unions/{union}/members?limit=20"), None),
    ];
    let client = reqwest::Client::new();
    for (name, path, _) in &targets {
        for instance in &instances {
            let response = client.get(instance.url(path)).send().await?;
            if !response.status().is_success() {
                bail!("{name}: {} answered {}", instance.address, response.status());
            }
        }
    }
    let mut rows: Vec<Vec<Vec<Wrk>>> = vec![vec![Vec::new(); builds.len()]; targets.len()];
    for round in 1..=RUNS {
        for (target, (name, path, cookie)) in targets.iter().enumerate() {
            for (build, instance) in instances.iter().enumerate() {
                let result = wrk(&instance.url(path), *cookie, settings.connections, settings.seconds)?;
                println!("run {round}, {name}, {}: {result}", builds[build].0);
                rows[target][build].push(result);
            }
        }
    }
    println!();
    println!(
        "wrk -t1 -c{} -d{}s, {} members; requests/s (p50) per round",
        settings.connections,
        settings.seconds,
        members.len()
    );
    println!("| answer | baseline | this build |");
    println!("|---|---|---|");
    for ((name, ..), row) in targets.iter().zip(&rows) {
        let cell = |runs: &Vec<Wrk>| runs.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
        println!("| {name} | {} | {} |", cell(&row[0]), cell(&row[1]));
    }
    drop(instances);
    for database in databases {
        database.drop().await?;
    }
    Ok(())
}

/// What one `wrk` run measured.
#[derive(Clone)]
struct Wrk {
    requests_per_second: f64,
    p50: String,
    /// Non-2xx answers and socket errors.
    errors: u64,
}

impl std::fmt::Display for Wrk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:.0} ({})", self.requests_per_second, self.p50)?;
        if self.errors > 0 {
            write!(f, " {} errors", self.errors)?;
        }
        Ok(())
    }
}

/// Runs `wrk` (Debian's package) against one URL, with `cookie` if given, and reads its summary.
fn wrk(url: &str, cookie: Option<&str>, connections: usize, seconds: u64) -> anyhow::Result<Wrk> {
    let mut command = Command::new("wrk");
    command.args(["-t1", &format!("-c{connections}"), &format!("-d{seconds}s"), "--latency", url]);
    if let Some(cookie) = cookie {
        command.args(["-H", &format!("Cookie: {cookie}")]);
    }
    let output = command.output().context("running wrk (Debian's package `wrk`)")?;
    let text = String::from_utf8_lossy(&output.stdout);
    let after =
        |label: &str| text.lines().find_map(|line| line.trim().strip_prefix(label).map(|rest| rest.trim().to_owned()));
    let requests_per_second = after("Requests/sec:")
        .and_then(|value| value.parse().ok())
        .with_context(|| format!("wrk printed no rate:\n{text}"))?;
    let p50 = after("50%").context("wrk printed no median")?;
    let count = |label: &str| -> u64 {
        let Some(rest) = after(label) else { return 0 };
        rest.split(|c: char| !c.is_ascii_digit()).filter_map(|n| n.parse::<u64>().ok()).sum()
    };
    let errors = count("Non-2xx or 3xx responses:") + count("Socket errors:");
    Ok(Wrk { requests_per_second, p50, errors })
}

/// A Data Union of `count` members with revenue, parts, a commit-worthy history, and two products
/// with purchases; returns it and its members.
async fn fill(chain: &Chain, count: usize) -> (Address, Vec<Address>) {
    let union = chain.create_data_union(U256::from(TOKEN / 10), 0).await;
    let mut rng = chain::Rng::new(7);
    let members: Vec<Address> = (0..count).map(|_| rng.address()).collect();
    for (n, batch) in members.chunks(100).enumerate() {
        send(chain.du(union, AGENT).addMembers(batch.to_vec())).await;
        chain.mint_data(union, U256::from(1_000_003u64 * (n as u64 + 1))).await;
    }
    send(chain.du(union, AGENT).partMembers(members.iter().step_by(50).copied().collect())).await;
    let market = chain.marketplace(OWNER);
    let per_day = U256::from(TOKEN / 86_400);
    for (name, beneficiary) in [("Commuter journeys", union), ("Helsinki weather stations", chain.address(OWNER))] {
        send(market.createProduct(product_salt(name), name.into(), beneficiary, per_day, U256::from(86_400u64))).await;
    }
    chain.mint_data(chain.address(BUYER), U256::from(100 * TOKEN)).await;
    send(chain.data(BUYER).approve(chain.deployment.marketplace, U256::MAX)).await;
    for (name, beneficiary) in [
        ("Commuter journeys", union),
        ("Helsinki weather stations", chain.address(OWNER)),
        ("Commuter journeys", union),
    ] {
        let id = product_id(chain.address(OWNER), name);
        send(chain.marketplace(BUYER).buy(id, U256::from(7 * 86_400u64), per_day, beneficiary)).await;
    }
    (union, members)
}

/// A database of its own on the PostgreSQL server, dropped at the end.
struct Database {
    admin_url: String,
    name: String,
    url: String,
}

impl Database {
    async fn create(admin_url: &str, suffix: &str) -> anyhow::Result<Self> {
        let name = format!("coop_load_{}{suffix}", std::process::id());
        let mut admin = PgConnection::connect(admin_url).await.context("connecting to PostgreSQL")?;
        sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")))
            .execute(&mut admin)
            .await?;
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&mut admin).await?;
        let base = admin_url.rsplit_once('/').map_or(admin_url, |(base, _)| base);
        Ok(Database { admin_url: admin_url.to_owned(), url: format!("{base}/{name}"), name })
    }

    async fn drop(self) -> anyhow::Result<()> {
        let mut admin = PgConnection::connect(&self.admin_url).await?;
        let drop = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        sqlx::query(sqlx::AssertSqlSafe(drop)).execute(&mut admin).await?;
        Ok(())
    }
}

/// A `coop serve` process; killed when dropped.
struct Instance {
    address: SocketAddr,
    child: Child,
}

impl Instance {
    fn start(
        coop: &Path,
        dir: &Path,
        name: &str,
        database_url: &str,
        chain: &Chain,
        deployment_file: &Path,
        commits: bool,
    ) -> anyhow::Result<Instance> {
        let address = free_address()?;
        let log = std::fs::File::create(dir.join(format!("{name}.log")))?;
        let mut command = Command::new(coop);
        if commits {
            command.env("COOP_OPERATOR_KEY", chain.signer(OPERATOR).to_bytes().to_string());
        }
        let child = command
            .arg("serve")
            .env("DATABASE_URL", database_url)
            .env("COOP_LISTEN", address.to_string())
            .env("COOP_DATA_DIR", dir.join(name))
            .env("COOP_RPC_URL", chain.anvil.endpoint().as_str())
            .env("COOP_DEPLOYMENT_FILE", deployment_file)
            .env("COOP_CONFIRMATIONS", "0")
            .env("COOP_COMMIT_EVERY_BLOCKS", "5")
            // Throughput, not the per-client limit: every request comes from one loopback address.
            .env("COOP_REQUESTS_PER_SECOND_PER_IP", "0")
            .env("COOP_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .with_context(|| format!("starting {}", coop.display()))?;
        Ok(Instance { address, child })
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

fn free_address() -> anyhow::Result<SocketAddr> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?)
}

/// The block an instance's union answer is as of, once it answers.
async fn answered_block(client: &reqwest::Client, instance: &Instance, union: Address) -> Option<u64> {
    let response = client.get(instance.url(&format!("/api/v1/unions/{union}"))).send().await.ok()?;
    if !response.status().is_success() {
        return None;
    }
    response.headers().get("x-coop-block")?.to_str().ok()?.parse().ok()
}

async fn wait_for(instances: &[&Instance], union: Address, block: u64) -> anyhow::Result<()> {
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(300);
    for instance in instances {
        while answered_block(&client, instance, union).await.is_none_or(|at| at < block) {
            if Instant::now() > deadline {
                bail!("the instance at {} never reached block {block}", instance.address);
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    Ok(())
}

/// Waits until the chain stops moving (the operator's commit is mined too) and the instances stand at
/// its head.
async fn settle(chain: &Chain, instances: &[&Instance], union: Address) -> anyhow::Result<u64> {
    loop {
        let head = chain.block_number().await;
        wait_for(instances, union, head).await?;
        tokio::time::sleep(Duration::from_secs(3)).await;
        if chain.block_number().await == head {
            return Ok(head);
        }
    }
}

/// nginx with `deploy/nginx.conf`, its upstreams and port replaced; stopped when dropped.
struct Nginx {
    address: SocketAddr,
    child: Child,
}

impl Nginx {
    fn start(dir: &Path, upstreams: &[SocketAddr]) -> anyhow::Result<Nginx> {
        let address = free_address()?;
        let prefix = dir.join("nginx");
        std::fs::create_dir_all(prefix.join("logs"))?;
        let template = include_str!("../../deploy/nginx.conf");
        let servers: String = upstreams.iter().map(|upstream| format!("    server {upstream};\n")).collect();
        let config = template
            .replace("    server 127.0.0.1:3001;\n    server 127.0.0.1:3002;\n    server 127.0.0.1:3003;\n", &servers)
            .replace("listen 127.0.0.1:8080;", &format!("listen {address};"));
        let file = prefix.join("nginx.conf");
        let pid = prefix.join("nginx.pid");
        std::fs::write(
            &file,
            format!("daemon off;\nmaster_process off;\npid {};\nerror_log stderr;\n{config}", pid.display()),
        )?;
        let child = Command::new("/usr/sbin/nginx")
            .arg("-p")
            .arg(&prefix)
            .arg("-c")
            .arg(&file)
            .spawn()
            .context("starting nginx (Debian's nginx-light)")?;
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(address).is_err() {
            if Instant::now() > deadline {
                bail!("nginx did not start on {address}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(Nginx { address, child })
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The read mix, in equal parts: a union's stats, a page of 50 members at a varying offset, one
/// member's figures with their proof, and the product list.
struct Mix {
    paths: Vec<String>,
}

impl Mix {
    fn new(union: Address, members: &[Address]) -> Self {
        let mut paths = Vec::new();
        let pages = members.len().div_ceil(50).max(1);
        for n in 0..997 {
            paths.push(format!("/api/v1/unions/{union}"));
            paths.push(format!("/api/v1/unions/{union}/members?offset={}&limit=50", (n * 37 % pages) * 50));
            paths.push(format!("/api/v1/unions/{union}/members/{}", members[n * 7919 % members.len()]));
            paths.push("/api/v1/products".to_owned());
        }
        Mix { paths }
    }
}

#[derive(Clone)]
struct Measured {
    requests: usize,
    errors: usize,
    seconds: f64,
    /// Microseconds, sorted.
    latencies: Vec<u64>,
}

impl std::fmt::Display for Measured {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let at = |q: f64| {
            let index = ((self.latencies.len() as f64 * q) as usize).min(self.latencies.len().saturating_sub(1));
            self.latencies.get(index).copied().unwrap_or_default() as f64 / 1000.0
        };
        write!(
            f,
            "{:.0} requests/s ({} in {:.1} s, {} errors), latency p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
            self.requests as f64 / self.seconds,
            self.requests,
            self.seconds,
            self.errors,
            at(0.50),
            at(0.90),
            at(0.99),
            at(1.0),
        )
    }
}

/// Sends the mix to `target` from `connections` concurrent keep-alive connections for `duration`, on a
/// single-threaded runtime of its own.
fn measure(target: SocketAddr, mix: &Mix, connections: usize, duration: Duration) -> anyhow::Result<Measured> {
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                // Built and dropped on this thread: a runtime may not be dropped inside another one.
                let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
                runtime.block_on(async {
                    let client = reqwest::Client::builder().pool_max_idle_per_host(connections).build()?;
                    let started = Instant::now();
                    let deadline = started + duration;
                    let mut tasks = tokio::task::JoinSet::new();
                    for connection in 0..connections {
                        let client = client.clone();
                        let urls: Vec<String> = mix.paths.iter().map(|path| format!("http://{target}{path}")).collect();
                        tasks.spawn(async move {
                            let (mut latencies, mut errors) = (Vec::new(), 0);
                            let mut next = connection * 101;
                            while Instant::now() < deadline {
                                let url = &urls[next % urls.len()];
                                next += 1;
                                let sent = Instant::now();
                                let ok = match client.get(url).send().await {
                                    Ok(response) => response.status().is_success() && response.bytes().await.is_ok(),
                                    Err(_) => false,
                                };
                                latencies.push(sent.elapsed().as_micros() as u64);
                                errors += usize::from(!ok);
                            }
                            (latencies, errors)
                        });
                    }
                    let (mut latencies, mut errors) = (Vec::new(), 0);
                    while let Some(done) = tasks.join_next().await {
                        let (mine, failed) = done?;
                        latencies.extend(mine);
                        errors += failed;
                    }
                    let seconds = started.elapsed().as_secs_f64();
                    latencies.sort_unstable();
                    Ok(Measured { requests: latencies.len(), errors, seconds, latencies })
                })
            })
            .join()
            .map_err(|_| anyhow::anyhow!("the load thread panicked"))?
    })
}
