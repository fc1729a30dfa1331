//! Keeps the in-memory read models (the unions and the Marketplace catalog) equal to the stored event
//! log: built from one read of the log at start, then advanced by each indexed range, and rebuilt after
//! a rollback.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::Context;
use std::time::Duration;

use tokio::sync::{Notify, RwLock, RwLockReadGuard, watch};

use crate::catalog::Catalog;
use crate::indexer::STREAM;
use crate::store::{LogPosition, Store, StoredEvent};
use crate::unions::Unions;

/// A model of the chain made from the stored event log, one event at a time in chain order, so that
/// building it from the whole log and advancing it range by range give the same model.
pub trait ReadModel: Default {
    /// Applies one stored event, the next in chain order. Never fails: the chain is public, so an
    /// event anyone could cause must not stop the model; what cannot be applied is set aside and said.
    fn apply_one(&mut self, stored: &StoredEvent);

    /// Records that the model is complete up to the end of `block` (it never moves back).
    fn stand_at(&mut self, block: u64);

    /// Builds the model from the stored events, in chain order, up to block `as_of`.
    fn build(events: &[StoredEvent], as_of: u64) -> Self {
        let mut model = Self::default();
        model.apply(events, as_of);
        model
    }

    /// Applies the events of the blocks after the model's block up to `to` (in chain order) and
    /// stands at `to`.
    fn apply(&mut self, events: &[StoredEvent], to: u64) {
        for stored in events {
            self.apply_one(stored);
        }
        self.stand_at(to);
    }
}

/// Every read model an instance keeps, at one block.
#[derive(Default)]
pub struct Models {
    pub unions: Unions,
    pub catalog: Catalog,
}

impl Models {
    pub fn build(events: &[StoredEvent], as_of: u64) -> Self {
        Models { unions: Unions::build(events, as_of), catalog: Catalog::build(events, as_of) }
    }

    /// The block both models stand at.
    pub fn as_of(&self) -> u64 {
        self.unions.as_of()
    }

    fn apply(&mut self, events: &[StoredEvent], to: u64) {
        self.unions.apply(events, to);
        self.catalog.apply(events, to);
    }
}

/// The read models under one lock: they change together, so every answer that reads both (a
/// product with its union's figures, say) is of one block.
#[derive(Clone, Default)]
pub struct ReadModels {
    models: Arc<RwLock<Models>>,
    /// Bumped under the write lock at each change; see [`Self::version`].
    version: Arc<AtomicU64>,
}

impl ReadModels {
    pub fn new(models: Models) -> Self {
        Self { models: Arc::new(RwLock::new(models)), version: Arc::default() }
    }

    /// Counts the models' changes: equal versions, equal models. (A block number would not do: after
    /// a reorg the models stand at a block they stood at before, with other contents.)
    pub fn version(&self) -> u64 {
        self.version.load(Ordering::Acquire)
    }

    /// Both models, at one block.
    pub async fn read(&self) -> RwLockReadGuard<'_, Models> {
        self.models.read().await
    }

    pub async fn unions(&self) -> RwLockReadGuard<'_, Unions> {
        RwLockReadGuard::map(self.models.read().await, |models| &models.unions)
    }

    pub async fn catalog(&self) -> RwLockReadGuard<'_, Catalog> {
        RwLockReadGuard::map(self.models.read().await, |models| &models.catalog)
    }

    /// The block the models stand at.
    pub async fn as_of(&self) -> u64 {
        self.models.read().await.as_of()
    }

    async fn apply(&self, events: &[StoredEvent], to: u64) {
        let mut models = self.models.write().await;
        models.apply(events, to);
        // Under the write lock: whoever reads the new version after it is released reads these models.
        self.version.fetch_add(1, Ordering::AcqRel);
    }

    /// Swaps in models built afresh.
    pub async fn replace(&self, fresh: Models) {
        let mut models = self.models.write().await;
        *models = fresh;
        self.version.fetch_add(1, Ordering::AcqRel);
    }
}

/// Builds the models from everything stored up to the checkpoint, reading the log once, and says
/// where the log stood: where [`follow`] goes on from.
pub async fn load(store: &Store) -> anyhow::Result<(Models, LogPosition)> {
    let (events, loaded) = read_log(store).await?;
    Ok((Models::build(&events, loaded.block), loaded))
}

/// Everything stored up to the checkpoint, and where the log stood when it was read.
pub async fn read_log(store: &Store) -> anyhow::Result<(Vec<StoredEvent>, LogPosition)> {
    let position = store.log_position(STREAM).await?.unwrap_or_default();
    let events = store.events(0, position.block).await.context("reading the event log")?;
    Ok((events, position))
}

/// Follows the stored log until `stop`, from `loaded`, the point the models were built from: every
/// instance, the one indexing included, reads what was stored since it last looked (woken by
/// `nudge` or every quarter second), and rebuilds after a rollback. Replicas on one database so give
/// the same answers block for block.
pub async fn follow(
    store: Store,
    models: ReadModels,
    loaded: LogPosition,
    nudge: Arc<Notify>,
    mut stop: watch::Receiver<bool>,
) {
    // Not the log's position now: what was stored since the models were read must be applied too.
    let mut applied = loaded;
    while !*stop.borrow() {
        match catch_up(&store, &models, applied).await {
            Ok(position) => applied = position,
            Err(error) => {
                tracing::error!(target: "live", "could not apply the stored log, rebuilding: {error:#}");
                match resync(&store, &models).await {
                    Ok(position) => applied = position,
                    Err(error) => tracing::error!(target: "live", "rebuilding failed: {error:#}"),
                }
            }
        }
        tokio::select! {
            _ = nudge.notified() => {}
            _ = tokio::time::sleep(POLL) => {}
            _ = stop.changed() => {}
        }
    }
}

const POLL: Duration = Duration::from_millis(250);

/// Brings the models from `applied` to the log's current end.
async fn catch_up(store: &Store, models: &ReadModels, applied: LogPosition) -> anyhow::Result<LogPosition> {
    let Some(now) = store.log_position(STREAM).await? else { return Ok(applied) };
    if now.rollbacks != applied.rollbacks || now.block < applied.block {
        return resync(store, models).await;
    } else if now.block > applied.block {
        let events = store.events(applied.block + 1, now.block).await?;
        models.apply(&events, now.block).await;
    }
    Ok(now)
}

/// Replaces both models by fresh ones built from the whole log, and says where the log ended.
async fn resync(store: &Store, models: &ReadModels) -> anyhow::Result<LogPosition> {
    let (events, position) = read_log(store).await?;
    models.replace(Models::build(&events, position.block)).await;
    Ok(position)
}

#[cfg(test)]
mod tests {
    use alloy::primitives::U256;
    use alloy::primitives::{Address, B256};
    use coop::engine::AdminFee;

    use super::*;
    use crate::chain_event::{ChainEvent, UnionCreated};
    use crate::store::{Checkpoint, IndexedRange};

    const UNION: Address = Address::repeat_byte(0xd0);
    const MEMBER: Address = Address::repeat_byte(0x04);

    fn stored(block: u64, event: ChainEvent) -> StoredEvent {
        let block_hash = B256::repeat_byte(block as u8);
        StoredEvent { block, tx_index: 0, log_index: 0, block_hash, time: 1_000 + 12 * block, contract: UNION, event }
    }

    fn checkpoint(block: u64) -> Checkpoint {
        Checkpoint { block, hash: B256::repeat_byte(block as u8) }
    }

    #[tokio::test]
    async fn what_is_stored_between_loading_and_following_is_applied() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&format!("sqlite://{}?mode=rwc", dir.path().join("coop.db").display())).await.unwrap();
        let created = UnionCreated {
            owner: Address::ZERO,
            admin_fee: AdminFee::ZERO,
            freeze_period: U256::ZERO,
            operator: Address::ZERO,
        };
        let created = stored(1, ChainEvent::Created(created));
        let first =
            IndexedRange { after: None, events: vec![created], block_hashes: vec![], checkpoint: Some(checkpoint(1)) };
        store.append_range(STREAM, &first).await.unwrap();
        let (models, loaded) = load(&store).await.unwrap();
        // The leader stores a range before this instance starts following.
        let joined = stored(2, ChainEvent::MemberJoined { member: MEMBER });
        let second = IndexedRange {
            after: Some(checkpoint(1)),
            events: vec![joined],
            block_hashes: vec![],
            checkpoint: Some(checkpoint(2)),
        };
        store.append_range(STREAM, &second).await.unwrap();
        let models = ReadModels::new(models);
        let (stop, stopped) = watch::channel(false);
        let following = tokio::spawn(follow(store.clone(), models.clone(), loaded, Arc::default(), stopped));

        for _ in 0..100 {
            if models.as_of().await == 2 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let _ = stop.send(true);
        following.await.unwrap();

        let unions = models.unions().await;
        assert_eq!(unions.as_of(), 2);
        assert!(unions.get(&UNION).unwrap().state().member(&MEMBER).is_some_and(|m| m.active));
    }
}
