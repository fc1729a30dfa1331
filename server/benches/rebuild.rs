//! How long a cold `coop serve` needs to rebuild its read models from the stored event log.
//!
//! Writes the log of one Data Union with `COOP_BENCH_MEMBERS` members (default 100,000) into a fresh
//! store, exactly as the indexer stores it: every event is an ABI-encoded chain log run through the
//! indexer's own decoder, and ranges are appended with their checkpoint like indexing steps. Beside the
//! joins there are purchases (a DATA transfer to the union, `Subscribed` and `Purchased`), parts, admin
//! fee changes and commits whose roots are the real books', so the validator finds nothing wrong.
//!
//! Then, three times, it does what a starting instance does in `live::load` (open the store, read the
//! log once, build the unions and the catalog from it) and times each step, and the first member
//! figures, which build the committed book. SQLite always; PostgreSQL too when
//! `COOP_TEST_POSTGRES_URL` is set (a database of its own is created and dropped).
//!
//! ```sh
//! cargo bench -p coop-server --bench rebuild
//! ```

use std::collections::HashSet;
use std::time::{Duration, Instant};

use alloy::primitives::{Address, B256, LogData, U256, keccak256};
use alloy::rpc::types::Log;
use alloy::sol_types::SolEvent;
use coop::contracts::{DataToken, DataUnion, DataUnionFactory, Marketplace};
use coop_server::catalog::Catalog;
use coop_server::indexer::STREAM;
use coop_server::indexer::decode::{self, Watched};
use coop_server::live::{self, ReadModel};
use coop_server::store::{Checkpoint, IndexedRange, Store, StoredEvent};
use coop_server::unions::Unions;
use sqlx::Connection;
use sqlx::postgres::PgConnection;

/// Members added per block: one `addMembers` of 100, as the join-part agent sends them.
const JOINS_PER_BLOCK: u64 = 100;
/// Blocks per stored range, like an indexing step.
const RANGE_BLOCKS: u64 = 50;
const FIRST_BLOCK: u64 = 10;
const GENESIS_TIME: u64 = 1_700_000_000;
const BLOCK_SECONDS: u64 = 12;
const FREEZE_SECONDS: u64 = 3_600;
const ROUNDS: usize = 3;
const DATA: u128 = 1_000_000_000_000_000_000;

fn main() -> anyhow::Result<()> {
    let members: u64 = match std::env::var("COOP_BENCH_MEMBERS") {
        Ok(text) => text.parse().map_err(|_| anyhow::anyhow!("COOP_BENCH_MEMBERS is {text:?}, not a count"))?,
        Err(_) => 100_000,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async {
        let started = Instant::now();
        let log = SyntheticLog::generate(members)?;
        println!(
            "log: {} events over blocks {}..={} ({} joins, {} parts, {} purchases, {} fee changes, {} commits), \
             generated in {}",
            log.events(),
            FIRST_BLOCK,
            log.last_block,
            log.counts.joins,
            log.counts.parts,
            log.counts.purchases,
            log.counts.fee_changes,
            log.counts.commits,
            secs(started.elapsed()),
        );
        let dir = tempfile::tempdir()?;
        let sqlite = format!("sqlite://{}?mode=rwc", dir.path().join("coop.db").display());
        bench("SQLite", &sqlite, &log).await?;
        if let Ok(admin_url) = std::env::var("COOP_TEST_POSTGRES_URL") {
            let database = format!("coop_rebuild_{}", std::process::id());
            let mut admin = PgConnection::connect(&admin_url).await?;
            let drop = format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)");
            sqlx::query(sqlx::AssertSqlSafe(drop.clone())).execute(&mut admin).await?;
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {database}"))).execute(&mut admin).await?;
            let url = format!("{}/{database}", admin_url.rsplit_once('/').map_or(admin_url.as_str(), |(base, _)| base));
            let result = bench("PostgreSQL", &url, &log).await;
            sqlx::query(sqlx::AssertSqlSafe(drop)).execute(&mut admin).await?;
            result?;
        } else {
            println!("PostgreSQL: skipped (COOP_TEST_POSTGRES_URL is not set)");
        }
        Ok(())
    })
}

/// Writes the log into the store at `url`, then rebuilds from it `ROUNDS` times.
async fn bench(backend: &str, url: &str, log: &SyntheticLog) -> anyhow::Result<()> {
    let started = Instant::now();
    let store = Store::open(url).await?;
    for range in &log.ranges {
        store.append_range(STREAM, range).await?;
    }
    store.close().await;
    println!("{backend}: stored in {}", secs(started.elapsed()));
    for round in 1..=ROUNDS {
        let timing = rebuild(url, log).await?;
        println!(
            "{backend} round {round}: open {} + read {} + unions {} + catalog {} = ready in {}; first member figures {}",
            secs(timing.open),
            secs(timing.read),
            secs(timing.unions),
            secs(timing.catalog),
            secs(timing.open + timing.read + timing.unions + timing.catalog),
            secs(timing.first_figures),
        );
    }
    Ok(())
}

struct Timing {
    open: Duration,
    read: Duration,
    unions: Duration,
    catalog: Duration,
    first_figures: Duration,
}

/// What `live::load` does at start, step by step, then the first figures answer; checks that
/// the result is the log's.
async fn rebuild(url: &str, log: &SyntheticLog) -> anyhow::Result<Timing> {
    let started = Instant::now();
    let store = Store::open(url).await?;
    let open = started.elapsed();
    let started = Instant::now();
    let (events, position) = live::read_log(&store).await?;
    let as_of = position.block;
    let read = started.elapsed();
    store.close().await;
    let started = Instant::now();
    let mut unions = Unions::build(&events, as_of);
    let unions_time = started.elapsed();
    let started = Instant::now();
    let catalog = Catalog::build(&events, as_of);
    let catalog_time = started.elapsed();

    anyhow::ensure!(unions.as_of() == log.last_block, "rebuilt as of {}, not {}", unions.as_of(), log.last_block);
    let union = unions.get(&log.union).ok_or_else(|| anyhow::anyhow!("the union was not rebuilt"))?;
    let joined = union.history().last().map_or(0, |point| point.total_members);
    anyhow::ensure!(joined == log.counts.joins, "{joined} members rebuilt, {} joined", log.counts.joins);
    anyhow::ensure!(union.state().active_count() == log.counts.joins - log.counts.parts, "wrong active count");
    anyhow::ensure!(union.state().totals().revenue == log.revenue, "wrong revenue");
    let product = catalog.products().next().ok_or_else(|| anyhow::anyhow!("the product was not rebuilt"))?;
    anyhow::ensure!(product.purchases == log.counts.purchases, "{} purchases rebuilt", product.purchases);

    let now = GENESIS_TIME + (log.last_block + 1) * BLOCK_SECONDS;
    let started = Instant::now();
    let union = unions.get_mut(&log.union).expect("checked above");
    let figures = union.figures(&log.first_member, now);
    let first_figures = started.elapsed();
    anyhow::ensure!(figures.proof.is_some(), "no proof for the first member: the commits do not match their books");
    Ok(Timing { open, read, unions: unions_time, catalog: catalog_time, first_figures })
}

#[derive(Default)]
struct Counts {
    joins: u64,
    parts: u64,
    purchases: u64,
    fee_changes: u64,
    commits: u64,
}

/// The stored log of one Data Union and its product, as indexing ranges.
struct SyntheticLog {
    ranges: Vec<IndexedRange>,
    union: Address,
    first_member: Address,
    last_block: u64,
    revenue: U256,
    counts: Counts,
}

impl SyntheticLog {
    fn events(&self) -> usize {
        self.ranges.iter().map(|range| range.events.len()).sum()
    }

    /// One `addMembers` per block; every 10th block a purchase, every 20th a `partMembers` of 10, every
    /// 250th an admin fee change, and every 100th a commit of the previous block's book.
    fn generate(members: u64) -> anyhow::Result<Self> {
        let watched =
            Watched { factory: address("factory"), marketplace: address("marketplace"), data_token: address("DATA") };
        let (union, owner, operator, buyer) =
            (address("union"), address("owner"), address("operator"), address("buyer"));
        let product = coop::contracts::product_id(owner, keccak256("Commuter journeys"));
        let mut writer = Writer::new(watched);
        let mut counts = Counts::default();
        let mut revenue = U256::ZERO;
        let member = |n: u64| address(&format!("member {n}"));
        let last_block = FIRST_BLOCK + members.div_ceil(JOINS_PER_BLOCK);

        writer.log(
            FIRST_BLOCK,
            0,
            watched.factory,
            DataUnionFactory::DataUnionCreated {
                du: union,
                owner,
                operator,
                adminFee: U256::from(DATA / 10),
                freezePeriod: U256::from(FREEZE_SECONDS),
            },
        )?;
        writer.log(
            FIRST_BLOCK,
            1,
            watched.marketplace,
            Marketplace::ProductCreated {
                owner,
                id: product,
                name: "Commuter journeys".into(),
                beneficiary: union,
                pricePerSecond: U256::from(DATA / 86_400),
                minimumSubscriptionSeconds: U256::from(86_400u64),
            },
        )?;
        let mut subscription_end = U256::ZERO;
        for block in FIRST_BLOCK + 1..=last_block {
            let step = block - FIRST_BLOCK;
            if step.is_multiple_of(100) {
                // The operator commits the book of the block before.
                let book = writer.book_at(union, block - 1)?;
                writer.log(
                    block,
                    0,
                    union,
                    DataUnion::NewCommit { blockNumber: U256::from(block - 1), root: book.0, bookHash: book.1 },
                )?;
                counts.commits += 1;
            }
            let first = (step - 1) * JOINS_PER_BLOCK;
            for n in first..(first + JOINS_PER_BLOCK).min(members) {
                writer.log(block, 1, union, DataUnion::MemberJoined { member: member(n) })?;
                counts.joins += 1;
            }
            if step.is_multiple_of(20) {
                for n in (first.saturating_sub(1_000)..first).step_by(100).take(10) {
                    writer.log(block, 2, union, DataUnion::MemberParted { member: member(n) })?;
                    counts.parts += 1;
                }
            }
            if step.is_multiple_of(10) {
                let seconds = U256::from(86_400u64 * (1 + step % 7));
                let price = seconds * U256::from(DATA / 86_400);
                subscription_end = subscription_end.max(U256::from(GENESIS_TIME + block * BLOCK_SECONDS)) + seconds;
                writer.log(
                    block,
                    3,
                    watched.data_token,
                    DataToken::Transfer { from: buyer, to: union, value: price },
                )?;
                writer.log(
                    block,
                    3,
                    watched.marketplace,
                    Marketplace::Subscribed { productId: product, subscriber: buyer, endTimestamp: subscription_end },
                )?;
                writer.log(
                    block,
                    3,
                    watched.marketplace,
                    Marketplace::Purchased {
                        productId: product,
                        subscriber: buyer,
                        payer: buyer,
                        addSeconds: seconds,
                        price,
                    },
                )?;
                revenue += price;
                counts.purchases += 1;
            }
            if step.is_multiple_of(250) {
                let fee = U256::from(DATA / 100 * (5 + step / 250 % 10) as u128);
                writer.log(block, 4, union, DataUnion::AdminFeeChanged { adminFee: fee })?;
                counts.fee_changes += 1;
            }
            if step.is_multiple_of(RANGE_BLOCKS) || block == last_block {
                writer.close_range(block);
            }
        }
        Ok(SyntheticLog { ranges: writer.ranges, union, first_member: member(0), last_block, revenue, counts })
    }
}

/// Turns events into chain logs and those into stored events with the indexer's decoder, grouping them
/// into ranges; keeps the unions up to date so that commits can carry the real roots.
struct Writer {
    watched: Watched,
    known: HashSet<Address>,
    ranges: Vec<IndexedRange>,
    open: Vec<StoredEvent>,
    unions: Unions,
    next_log_index: (u64, u64),
}

impl Writer {
    fn new(watched: Watched) -> Self {
        Writer {
            watched,
            known: HashSet::new(),
            ranges: Vec::new(),
            open: Vec::new(),
            unions: Unions::default(),
            next_log_index: (0, 0),
        }
    }

    fn log(&mut self, block: u64, tx_index: u64, emitter: Address, event: impl SolEvent) -> anyhow::Result<()> {
        let log_index = match self.next_log_index {
            (at, next) if at == block => next,
            _ => 0,
        };
        self.next_log_index = (block, log_index + 1);
        let log = chain_log(block, tx_index, log_index, emitter, event.encode_log_data());
        let at = decode::position(&log)?;
        let stored = decode::decode(&log, &at, &self.watched, &mut self.known)?
            .ok_or_else(|| anyhow::anyhow!("the indexer would not store the log at block {block} index {log_index}"))?;
        self.unions.apply(std::slice::from_ref(&stored), block);
        self.open.push(stored);
        Ok(())
    }

    fn close_range(&mut self, to: u64) {
        let after = self.ranges.last().and_then(|range| range.checkpoint);
        self.ranges.push(IndexedRange {
            after,
            events: std::mem::take(&mut self.open),
            block_hashes: Vec::new(),
            checkpoint: Some(Checkpoint { block: to, hash: block_hash(to) }),
        });
    }

    /// The root and book hash of `union` at the end of `block`, built by the server's own code.
    fn book_at(&mut self, union: Address, block: u64) -> anyhow::Result<(B256, B256)> {
        let union = self.unions.get_mut(&union).ok_or_else(|| anyhow::anyhow!("no union {union}"))?;
        let book = union.book_at(block)?;
        Ok((book.root(), book.book_hash()))
    }
}

fn chain_log(block: u64, tx_index: u64, log_index: u64, emitter: Address, data: LogData) -> Log {
    Log {
        inner: alloy::primitives::Log { address: emitter, data },
        block_hash: Some(block_hash(block)),
        block_number: Some(block),
        block_timestamp: Some(GENESIS_TIME + block * BLOCK_SECONDS),
        transaction_hash: Some(keccak256(format!("tx {block} {tx_index}"))),
        transaction_index: Some(tx_index),
        log_index: Some(log_index),
        removed: false,
    }
}

fn block_hash(block: u64) -> B256 {
    keccak256(format!("block {block}"))
}

fn address(name: &str) -> Address {
    Address::from_word(keccak256(name))
}

fn secs(duration: Duration) -> String {
    format!("{:.3} s", duration.as_secs_f64())
}
