//! Keeps the in-memory read models (the unions and the Marketplace catalog) equal to the stored event
//! log: built from one read of the log at start, then advanced by each indexed range, and rebuilt after
//! a rollback.

use std::sync::Arc;

use anyhow::Context;
use std::time::Duration;

use tokio::sync::{Notify, RwLock, watch};

use crate::catalog::Catalog;
use crate::indexer::{STREAM, Step};
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

/// Every read model an instance keeps.
pub struct Models {
    pub unions: Unions,
    pub catalog: Catalog,
}

impl Models {
    pub fn build(events: &[StoredEvent], as_of: u64) -> Self {
        Models { unions: Unions::build(events, as_of), catalog: Catalog::build(events, as_of) }
    }
}

/// Builds the models from everything stored up to the checkpoint, reading the log once.
pub async fn load(store: &Store) -> anyhow::Result<Models> {
    let (events, as_of) = read_log(store).await?;
    Ok(Models::build(&events, as_of))
}

/// Everything stored up to the checkpoint, and the checkpoint's block.
pub async fn read_log(store: &Store) -> anyhow::Result<(Vec<StoredEvent>, u64)> {
    let as_of = store.checkpoint(STREAM).await?.map_or(0, |c| c.block);
    let events = store.events(0, as_of).await.context("reading the event log")?;
    Ok((events, as_of))
}

/// Follows the stored log until `stop`: every instance, the one indexing included, reads what was
/// stored since it last looked (woken by `nudge` or every quarter second), and rebuilds after a
/// rollback. Replicas on one database so give the same answers block for block.
pub async fn follow(
    store: Store,
    unions: Arc<RwLock<Unions>>,
    catalog: Arc<RwLock<Catalog>>,
    nudge: Arc<Notify>,
    mut stop: watch::Receiver<bool>,
) {
    let mut applied = store.log_position(STREAM).await.ok().flatten().unwrap_or_default();
    applied.block = applied.block.max(unions.read().await.as_of());
    while !*stop.borrow() {
        match catch_up(&store, &unions, &catalog, applied).await {
            Ok(position) => applied = position,
            Err(error) => {
                tracing::error!(target: "live", "could not apply the stored log, rebuilding: {error:#}");
                match resync(&store, &unions, &catalog).await {
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
async fn catch_up(
    store: &Store,
    unions: &RwLock<Unions>,
    catalog: &RwLock<Catalog>,
    applied: LogPosition,
) -> anyhow::Result<LogPosition> {
    let Some(now) = store.log_position(STREAM).await? else { return Ok(applied) };
    if now.rollbacks != applied.rollbacks || now.block < applied.block {
        return resync(store, unions, catalog).await;
    } else if now.block > applied.block {
        apply(
            store,
            unions,
            catalog,
            &Step::Indexed { from: applied.block + 1, to: now.block, head: now.block, events: 0 },
        )
        .await?;
    }
    Ok(now)
}

async fn apply(store: &Store, unions: &RwLock<Unions>, catalog: &RwLock<Catalog>, step: &Step) -> anyhow::Result<()> {
    match *step {
        Step::Indexed { from, to, .. } => {
            let events = store.events(from, to).await?;
            unions.write().await.apply(&events, to);
            catalog.write().await.apply(&events, to);
        }
        Step::RolledBack { .. } => {
            resync(store, unions, catalog).await?;
        }
        Step::CaughtUp { .. } | Step::Retry { .. } => {}
    }
    Ok(())
}

/// Replaces both models by fresh ones built from the whole log, and says where the log ended.
async fn resync(store: &Store, unions: &RwLock<Unions>, catalog: &RwLock<Catalog>) -> anyhow::Result<LogPosition> {
    let position = store.log_position(STREAM).await?.unwrap_or_default();
    let events = store.events(0, position.block).await.context("reading the event log")?;
    replace(unions, catalog, &events, position.block).await;
    Ok(position)
}

async fn replace(unions: &RwLock<Unions>, catalog: &RwLock<Catalog>, events: &[StoredEvent], as_of: u64) {
    let fresh = Models::build(events, as_of);
    *unions.write().await = fresh.unions;
    *catalog.write().await = fresh.catalog;
}
