//! The indexer follows the chain into the store: factory, marketplace and DATA token logs, and the
//! logs of every Data Union the factory created.
//!
//! One [`Indexer::step`] reads one block range with `eth_getLogs` (its size shrinks when the RPC
//! refuses and grows back), and stores its events, the hashes of its blocks that are still inside
//! the reorg window, and the new checkpoint in one transaction. Before reading on, it checks that
//! the checkpoint block is still on the chain; if not, it walks back through the stored hashes to
//! the last common block and rolls everything above it back, together with the checkpoint. A crash
//! at any point resumes from the stored checkpoint: nothing is missed or counted twice.

pub mod decode;
#[cfg(test)]
mod hostile_tests;
mod span;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use alloy::eips::BlockNumberOrTag;
use alloy::primitives::{Address, B256};
use alloy::providers::{DynProvider, Provider};
use alloy::rpc::types::{Filter, Log};
use anyhow::{Context, anyhow};
use tokio::sync::watch;

pub use decode::{DecodeError, Watched};
pub use span::Span;

use crate::store::{Checkpoint, IndexedRange, Store};

/// The store stream the chain follower writes.
pub const STREAM: &str = "chain";
/// The most blocks one `eth_getLogs` asks for.
pub const MAX_SPAN: u64 = 2_000;
/// Block hashes kept below the confirmation depth, so a reorg as deep as it still finds its fork.
/// Blocks in this window are read one at a time, by hash.
const EXTRA_HASHES: u64 = 16;
/// Blocks of the reorg window one step reads, side by side.
const WINDOW_BLOCKS_PER_STEP: u64 = 16;
/// Union addresses one `eth_getLogs` names; more are asked for in several queries.
const ADDRESSES_PER_QUERY: usize = 500;

/// Logs of the watched contracts that could not be decoded and were passed over, since start.
pub static SKIPPED_LOGS: AtomicU64 = AtomicU64::new(0);

/// What one read of the chain gave: logs up to block `to` and the hash `to` had when they were read.
struct Read {
    to: u64,
    to_hash: B256,
    logs: Vec<Log>,
    /// Hashes of the blocks read one by one.
    block_hashes: Vec<(u64, B256)>,
}

#[derive(Debug, Clone, Copy)]
struct Header {
    number: u64,
    hash: B256,
    parent_hash: B256,
    timestamp: u64,
}

/// What one step did: what the caller decides on (sleep, go on, tell the state).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Nothing new: the checkpoint is the head.
    CaughtUp { head: u64 },
    /// Stored the blocks `from..=to`; `head` is how far the chain is.
    Indexed { from: u64, to: u64, head: u64, events: usize },
    /// A reorg: everything above `to` was forgotten.
    RolledBack { to: u64, removed: u64 },
    /// Nothing stored; try again at once (the range was refused and is smaller now, or the chain
    /// moved while it was read).
    Retry { reason: &'static str },
}

pub struct Indexer {
    store: Store,
    chain: DynProvider,
    watched: Watched,
    /// The first block to read when nothing is stored yet (the deployment's block).
    start_block: u64,
    confirmations: u64,
    span: Span,
    unions: HashSet<Address>,
}

impl Indexer {
    /// Loads the known Data Unions from the store, so a restart continues exactly where it stopped.
    pub async fn new(
        store: Store,
        chain: DynProvider,
        watched: Watched,
        start_block: u64,
        confirmations: u64,
    ) -> anyhow::Result<Self> {
        let unions = store.union_addresses().await.context("loading the known Data Unions")?;
        Ok(Self { store, chain, watched, start_block, confirmations, span: Span::new(MAX_SPAN), unions })
    }

    pub fn set_max_span(&mut self, max: u64) {
        self.span = Span::new(max);
    }

    pub async fn step(&mut self) -> anyhow::Result<Step> {
        let head = self.chain.get_block_number().await.context("asking for the head block")?;
        let checkpoint = self.store.checkpoint(STREAM).await?;
        if let Some(checkpoint) = checkpoint {
            match self.header(checkpoint.block).await? {
                Some(header) if header.hash == checkpoint.hash => {}
                Some(_) => return self.roll_back(checkpoint).await,
                // A node behind the one that gave the head (a load balancer's): wait for it.
                None => return Ok(Step::Retry { reason: "the node does not have the checkpoint's block yet" }),
            }
        }
        let from = checkpoint.map_or(self.start_block, |c| c.block + 1);
        if from > head {
            return Ok(Step::CaughtUp { head });
        }
        let window_start = head.saturating_sub(self.confirmations + EXTRA_HASHES);
        let read = if from < window_start {
            self.read_settled(from, head.min(from + self.span.get() - 1).min(window_start - 1)).await?
        } else {
            let after = checkpoint.filter(|c| c.block + 1 == from).map(|c| c.hash);
            self.read_window(from, head.min(from + WINDOW_BLOCKS_PER_STEP - 1), after).await?
        };
        let Read { to, to_hash, logs, mut block_hashes } = match read {
            Ok(read) => read,
            Err(reason) => return Ok(Step::Retry { reason }),
        };
        let mut unions = self.unions.clone();
        let mut events = Vec::new();
        let mut times = HashMap::new();
        for log in &logs {
            let mut at = decode::position(log)?;
            let mut decoded = decode::decode(log, &at, &self.watched, &mut unions);
            if let Err(DecodeError::NoBlockTime { block_hash, .. }) = decoded {
                at.timestamp = Some(self.block_time(block_hash, &mut times).await?);
                decoded = decode::decode(log, &at, &self.watched, &mut unions);
            }
            match decoded {
                Ok(Some(event)) => events.push(event),
                Ok(None) => {}
                Err(error @ DecodeError::Malformed { .. }) => {
                    // Not a union's log (those set their union aside instead): one of the watched
                    // contracts'. Passed over, so one odd log cannot stop every union.
                    SKIPPED_LOGS.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(target: "indexer", "log passed over: {error}");
                }
                Err(error) => return Err(error.into()),
            }
        }
        block_hashes.push((to, to_hash));
        block_hashes.retain(|&(block, _)| block >= window_start);
        block_hashes.sort_unstable();
        block_hashes.dedup();
        let count = events.len();
        let range = IndexedRange {
            after: checkpoint,
            events,
            block_hashes,
            checkpoint: Some(Checkpoint { block: to, hash: to_hash }),
        };
        self.store.append_range(STREAM, &range).await?;
        self.unions = unions;
        self.store.prune_block_hashes(STREAM, window_start.saturating_sub(1)).await?;
        Ok(Step::Indexed { from, to, head, events: count })
    }

    /// Reads `from..=to`, blocks below the reorg window, with range queries that shrink when the RPC
    /// refuses them. Every log of a block must carry one hash, and the node must have `to`'s logs.
    async fn read_settled(&mut self, from: u64, to: u64) -> anyhow::Result<Result<Read, &'static str>> {
        let range = Filter::new().from_block(from).to_block(to);
        let logs = match self.logs(&range).await {
            Ok(logs) => logs,
            Err(error) => {
                if self.span.shrink() {
                    tracing::debug!(target: "indexer", from, to, span = self.span.get(), "range refused, shrinking: {error:#}");
                    return Ok(Err("range refused"));
                }
                return Err(error.context(format!("reading logs of block {from}")));
            }
        };
        let Some(header) = self.header(to).await? else {
            return Ok(Err("the node does not have the range's last block"));
        };
        // A node behind the one that gave the head may answer a range with what it has, cut short
        // without a word; asked for the last block's logs by its hash, it refuses (EIP-234). Then the
        // range shrinks, as for a refused range, until it ends where that node is.
        let probe = Filter::new().at_block_hash(header.hash).address(self.watched.factory);
        if let Err(error) = self.chain.get_logs(&probe).await {
            tracing::debug!(target: "indexer", to, "logs of the range's last block refused: {error:#}");
            self.span.shrink();
            return Ok(Err("the node does not have the range's last block's logs yet"));
        }
        self.span.grow();
        let mut hashes: HashMap<u64, B256> = HashMap::from([(to, header.hash)]);
        for log in &logs {
            let at = decode::position(log)?;
            if *hashes.entry(at.key.block).or_insert(at.block_hash) != at.block_hash {
                return Ok(Err("the chain moved while reading"));
            }
        }
        Ok(Ok(Read { to, to_hash: header.hash, logs, block_hashes: Vec::new() }))
    }

    /// Reads blocks `from..=to` inside the reorg window, each by its hash and side by side, so their
    /// logs, their hashes and the checkpoint are one view of the chain whichever node of a
    /// load-balanced RPC answers: a node that does not have a block refuses (EIP-234) instead of
    /// answering with no logs. Each block must be the child of the one before (`after` is the hash
    /// of the block before `from`, when it is the checkpoint); the longest run of blocks that
    /// reads so is taken.
    async fn read_window(&self, from: u64, to: u64, after: Option<B256>) -> anyhow::Result<Result<Read, &'static str>> {
        let blocks = from..=to;
        let watched = futures::future::try_join_all(blocks.clone().map(|block| self.read_watched(block))).await?;
        // The unions created in these blocks, so that their first blocks' logs are asked for too.
        let unions = self.unions_and_those_created_in(watched.iter().flatten().flat_map(|(_, logs)| logs));
        let of_unions = watched.iter().map(|read| async {
            match read {
                Ok((header, _)) => self.union_logs(&Filter::new().at_block_hash(header.hash), &unions).await.map(Some),
                Err(_) => Ok(None),
            }
        });
        let of_unions = futures::future::join_all(of_unions).await;
        let mut taken: Option<Read> = None;
        let mut parent = after;
        for (read, union_logs) in watched.into_iter().zip(of_unions) {
            let block = match (read, union_logs) {
                (Ok((header, mut logs)), Ok(Some(union_logs))) => {
                    logs.extend(union_logs);
                    match check_block(&header, &mut logs)? {
                        Err(reason) => Err(reason),
                        Ok(()) if parent.is_some_and(|parent| parent != header.parent_hash) => {
                            Err("the chain moved while reading")
                        }
                        Ok(()) => Ok((header, logs)),
                    }
                }
                (Err(reason), _) => Err(reason),
                (Ok(_), _) => Err("the node does not have the block's logs yet"),
            };
            let (header, mut logs) = match block {
                Ok(block) => block,
                // The blocks before it make a consistent run: they are taken, it is read next step.
                Err(_) if taken.is_some() => break,
                Err(reason) => return Ok(Err(reason)),
            };
            parent = Some(header.hash);
            logs.sort_by_key(|log| log.log_index);
            let read = taken.get_or_insert_with(|| Read {
                to: header.number,
                to_hash: header.hash,
                logs: Vec::new(),
                block_hashes: Vec::new(),
            });
            read.to = header.number;
            read.to_hash = header.hash;
            read.logs.extend(logs);
            read.block_hashes.push((header.number, header.hash));
        }
        Ok(taken.ok_or("nothing to read"))
    }

    /// One block of the window: its header, and the watched contracts' logs asked for by its hash.
    async fn read_watched(&self, block: u64) -> anyhow::Result<Result<(Header, Vec<Log>), &'static str>> {
        let Some(header) = self.header(block).await? else { return Ok(Err("the node does not have the block yet")) };
        match self.watched_logs(&Filter::new().at_block_hash(header.hash)).await {
            Ok(logs) => Ok(Ok((header, logs))),
            Err(error) => {
                tracing::debug!(target: "indexer", block, "logs by block hash refused: {error:#}");
                Ok(Err("the node does not have the block's logs yet"))
            }
        }
    }

    /// The logs `filter` selects, in chain order: the watched contracts', then those of every union
    /// known or created among them.
    async fn logs(&self, filter: &Filter) -> anyhow::Result<Vec<Log>> {
        let mut logs = self.watched_logs(filter).await?;
        let unions = self.unions_and_those_created_in(&logs);
        logs.extend(self.union_logs(filter, &unions).await?);
        logs.sort_by_key(|log| (log.block_number, log.log_index));
        Ok(logs)
    }

    /// The known unions, and those the factory created in `logs`.
    fn unions_and_those_created_in<'a>(&self, logs: impl IntoIterator<Item = &'a Log>) -> Vec<Address> {
        let created = logs.into_iter().filter_map(|log| decode::created_union(log, &self.watched));
        self.unions.iter().copied().chain(created).collect()
    }

    /// The factory's, the Marketplace's and the DATA token's logs `filter` selects.
    async fn watched_logs(&self, filter: &Filter) -> anyhow::Result<Vec<Log>> {
        let watched = filter
            .clone()
            .address(vec![self.watched.factory, self.watched.marketplace, self.watched.data_token])
            .event_signature(decode::watched_topics());
        Ok(self.chain.get_logs(&watched).await?)
    }

    /// The logs of `unions` that `filter` selects. Only the unions' own addresses are asked for: on a
    /// public chain every Ownable contract emits `OwnershipTransferred`.
    async fn union_logs(&self, filter: &Filter, unions: &[Address]) -> anyhow::Result<Vec<Log>> {
        let mut unions = unions.to_vec();
        unions.sort_unstable();
        unions.dedup();
        let mut logs = Vec::new();
        for addresses in unions.chunks(ADDRESSES_PER_QUERY) {
            let of_unions = filter.clone().address(addresses.to_vec()).event_signature(decode::union_topics());
            logs.extend(self.chain.get_logs(&of_unions).await?);
        }
        Ok(logs)
    }

    /// The time of the block `hash`, for logs the node gave without it (most nodes leave
    /// `blockTimestamp` out); `times` keeps what was read, so a block is read once a step.
    async fn block_time(&self, hash: B256, times: &mut HashMap<B256, u64>) -> anyhow::Result<u64> {
        if let Some(&time) = times.get(&hash) {
            return Ok(time);
        }
        let block = self
            .chain
            .get_block_by_hash(hash)
            .await
            .with_context(|| format!("reading block {hash}"))?
            .ok_or_else(|| anyhow!("block {hash} of a log is not known to the node"))?;
        times.insert(hash, block.header.timestamp);
        Ok(block.header.timestamp)
    }

    async fn header(&self, block: u64) -> anyhow::Result<Option<Header>> {
        let found = self
            .chain
            .get_block_by_number(BlockNumberOrTag::Number(block))
            .await
            .with_context(|| format!("reading block {block}"))?;
        Ok(found.map(|block| Header {
            number: block.header.number,
            hash: block.header.hash,
            parent_hash: block.header.parent_hash,
            timestamp: block.header.timestamp,
        }))
    }

    async fn block_hash(&self, block: u64) -> anyhow::Result<Option<B256>> {
        Ok(self.header(block).await?.map(|header| header.hash))
    }

    /// The checkpoint's block is no longer on the chain: finds the newest stored block that still is
    /// and forgets everything above it.
    async fn roll_back(&mut self, checkpoint: Checkpoint) -> anyhow::Result<Step> {
        let mut candidates = self.store.block_hashes(STREAM).await?;
        candidates.sort_unstable_by_key(|&(block, _)| std::cmp::Reverse(block));
        for (block, hash) in candidates {
            if block < checkpoint.block && self.block_hash(block).await? == Some(hash) {
                let removed = self.store.roll_back_to(STREAM, checkpoint, Checkpoint { block, hash }).await?;
                self.unions = self.store.union_addresses().await?;
                tracing::warn!(target: "indexer::reorg", from = checkpoint.block, to = block, removed, "chain reorganised; rolled back");
                return Ok(Step::RolledBack { to: block, removed });
            }
        }
        Err(anyhow!(
            "the chain reorganised below block {} and no stored block is still on it; \
             the confirmation depth is too small for this chain",
            checkpoint.block
        ))
    }

    /// Steps until `stop` turns true: quickly while behind, once a second when caught up, with
    /// backoff on errors. `on_progress` hears every step that changed something.
    pub async fn run(mut self, mut stop: watch::Receiver<bool>, on_progress: impl Fn(&Step) + Send) {
        let mut progress = Progress::new();
        let mut backoff = Duration::from_millis(200);
        while !*stop.borrow() {
            let pause = match self.step().await {
                Ok(step) => {
                    backoff = Duration::from_millis(200);
                    progress.report(&step);
                    let pause = match step {
                        Step::CaughtUp { .. } => Duration::from_secs(1),
                        _ => Duration::ZERO,
                    };
                    if matches!(step, Step::Indexed { .. } | Step::RolledBack { .. }) {
                        on_progress(&step);
                    }
                    pause
                }
                Err(error) => {
                    tracing::warn!(target: "indexer", retry_in = ?backoff, "indexing failed: {error:#}");
                    let pause = backoff;
                    backoff = (backoff * 2).min(Duration::from_secs(30));
                    pause
                }
            };
            if !pause.is_zero() {
                tokio::select! {
                    _ = tokio::time::sleep(pause) => {}
                    _ = stop.changed() => {}
                }
            }
        }
    }
}

/// Every log must be of `header`'s block; gives each the block's time.
fn check_block(header: &Header, logs: &mut [Log]) -> anyhow::Result<Result<(), &'static str>> {
    for log in logs {
        let at = decode::position(log)?;
        if at.key.block != header.number || at.block_hash != header.hash {
            return Ok(Err("a log of another block came back"));
        }
        log.block_timestamp.get_or_insert(header.timestamp);
    }
    Ok(Ok(()))
}

/// The catching-up line: blocks per second and blocks left, every few seconds.
struct Progress {
    since: Instant,
    blocks: u64,
}

impl Progress {
    const EVERY: Duration = Duration::from_secs(5);

    fn new() -> Self {
        Self { since: Instant::now(), blocks: 0 }
    }

    fn report(&mut self, step: &Step) {
        let Step::Indexed { from, to, head, .. } = *step else { return };
        self.blocks += (to + 1).saturating_sub(from);
        let elapsed = self.since.elapsed();
        if elapsed >= Self::EVERY {
            let rate = self.blocks as f64 / elapsed.as_secs_f64();
            tracing::info!(target: "indexer", at = to, blocks_per_second = format!("{rate:.0}"), blocks_left = head - to, "catching up");
            *self = Self::new();
        }
    }
}
