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
mod span;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use alloy::eips::BlockNumberOrTag;
use alloy::primitives::{Address, B256};
use alloy::providers::{DynProvider, Provider};
use alloy::rpc::types::{Filter, Log};
use anyhow::{Context, anyhow};
use tokio::sync::watch;

pub use decode::Watched;
pub use span::Span;

use crate::store::{Checkpoint, IndexedRange, Store};

/// The store stream the chain follower writes.
pub const STREAM: &str = "chain";
/// The most blocks one `eth_getLogs` asks for.
pub const MAX_SPAN: u64 = 2_000;
/// Block hashes kept below the confirmation depth, so a reorg as deep as it still finds its fork.
const EXTRA_HASHES: u64 = 16;

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
        if let Some(checkpoint) = checkpoint
            && self.block_hash(checkpoint.block).await? != Some(checkpoint.hash)
        {
            return self.roll_back(checkpoint).await;
        }
        let from = checkpoint.map_or(self.start_block, |c| c.block + 1);
        if from > head {
            return Ok(Step::CaughtUp { head });
        }
        let to = head.min(from + self.span.get() - 1);
        let logs = match self.logs(from, to).await {
            Ok(logs) => logs,
            Err(error) => {
                if self.span.shrink() {
                    tracing::debug!(target: "indexer", from, to, span = self.span.get(), "range refused, shrinking: {error:#}");
                    return Ok(Step::Retry { reason: "range refused" });
                }
                return Err(error.context(format!("reading logs of block {from}")));
            }
        };
        self.span.grow();
        let to_hash = self.block_hash(to).await?.ok_or_else(|| anyhow!("block {to} vanished"))?;

        let mut unions = self.unions.clone();
        let mut events = Vec::new();
        let mut block_hashes = vec![(to, to_hash)];
        let window_start = head.saturating_sub(self.confirmations + EXTRA_HASHES);
        for log in &logs {
            let at = decode::position(log)?;
            // Logs of the last block must come from the block we anchor the checkpoint to; if the
            // chain moved in between, the next step sees it and starts over.
            if at.key.block == to && at.block_hash != to_hash {
                return Ok(Step::Retry { reason: "the chain moved while reading" });
            }
            if at.key.block >= window_start {
                block_hashes.push((at.key.block, at.block_hash));
            }
            if let Some(event) = decode::decode(log, &at, &self.watched, &mut unions)? {
                events.push(event);
            }
        }
        block_hashes.sort_unstable();
        block_hashes.dedup();
        let count = events.len();
        let range = IndexedRange { events, block_hashes, checkpoint: Some(Checkpoint { block: to, hash: to_hash }) };
        self.store.append_range(STREAM, &range).await?;
        self.unions = unions;
        self.store.prune_block_hashes(STREAM, window_start.saturating_sub(1)).await?;
        Ok(Step::Indexed { from, to, head, events: count })
    }

    /// Reads the logs of `from..=to` in chain order: the watched contracts' and any Data Union's.
    async fn logs(&self, from: u64, to: u64) -> anyhow::Result<Vec<Log>> {
        let watched = Filter::new()
            .from_block(from)
            .to_block(to)
            .address(vec![self.watched.factory, self.watched.marketplace, self.watched.data_token])
            .event_signature(decode::watched_topics());
        let unions = Filter::new().from_block(from).to_block(to).event_signature(decode::union_topics());
        let (mut logs, union_logs) = tokio::try_join!(self.chain.get_logs(&watched), self.chain.get_logs(&unions))?;
        logs.extend(union_logs);
        logs.sort_by_key(|log| (log.block_number, log.log_index));
        Ok(logs)
    }

    async fn block_hash(&self, block: u64) -> anyhow::Result<Option<B256>> {
        let header = self
            .chain
            .get_block_by_number(BlockNumberOrTag::Number(block))
            .await
            .with_context(|| format!("reading block {block}"))?;
        Ok(header.map(|block| block.header.hash))
    }

    /// The checkpoint's block is no longer on the chain: finds the newest stored block that still is
    /// and forgets everything above it.
    async fn roll_back(&mut self, checkpoint: Checkpoint) -> anyhow::Result<Step> {
        let mut candidates = self.store.block_hashes(STREAM).await?;
        candidates.sort_unstable_by_key(|&(block, _)| std::cmp::Reverse(block));
        for (block, hash) in candidates {
            if block < checkpoint.block && self.block_hash(block).await? == Some(hash) {
                let removed = self.store.roll_back_to(STREAM, Checkpoint { block, hash }).await?;
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
