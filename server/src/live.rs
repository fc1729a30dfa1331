//! Keeps the in-memory read models (the unions and the Marketplace catalog) equal to the stored event
//! log: built from the log at start, then advanced by each indexed range, and rebuilt after a rollback.

use std::sync::Arc;

use anyhow::Context;
use tokio::sync::{RwLock, mpsc};

use crate::catalog::Catalog;
use crate::indexer::{STREAM, Step};
use crate::store::{Store, StoredEvent};
use crate::unions::Unions;

/// Builds the unions from everything stored up to the checkpoint.
pub async fn load(store: &Store) -> anyhow::Result<Unions> {
    let (events, as_of) = stored_events(store).await?;
    Ok(Unions::build(&events, as_of)?)
}

/// Builds the catalog from everything stored up to the checkpoint.
pub async fn load_catalog(store: &Store) -> anyhow::Result<Catalog> {
    let (events, as_of) = stored_events(store).await?;
    Ok(Catalog::build(&events, as_of)?)
}

async fn stored_events(store: &Store) -> anyhow::Result<(Vec<StoredEvent>, u64)> {
    let as_of = store.checkpoint(STREAM).await?.map_or(0, |c| c.block);
    let events = store.events(0, as_of).await.context("reading the event log")?;
    Ok((events, as_of))
}

/// Applies each step the indexer reports to the unions and the catalog, until the indexer goes away.
pub async fn follow(
    store: Store,
    unions: Arc<RwLock<Unions>>,
    catalog: Arc<RwLock<Catalog>>,
    mut steps: mpsc::UnboundedReceiver<Step>,
) {
    while let Some(step) = steps.recv().await {
        if let Err(error) = apply(&store, &unions, &catalog, &step).await {
            tracing::error!(target: "live", ?step, "could not apply indexed events, rebuilding: {error:#}");
            if let Err(error) = rebuild(&store, &unions, &catalog).await {
                tracing::error!(target: "live", "rebuilding failed: {error:#}");
            }
        }
    }
}

async fn apply(store: &Store, unions: &RwLock<Unions>, catalog: &RwLock<Catalog>, step: &Step) -> anyhow::Result<()> {
    match *step {
        Step::Indexed { from, to, .. } => {
            let events = store.events(from, to).await?;
            unions.write().await.apply(&events, to)?;
            catalog.write().await.apply(&events, to)?;
        }
        Step::RolledBack { .. } => rebuild(store, unions, catalog).await?,
        Step::CaughtUp { .. } | Step::Retry { .. } => {}
    }
    Ok(())
}

/// Replaces both models by fresh ones built from the log, reading it once.
async fn rebuild(store: &Store, unions: &RwLock<Unions>, catalog: &RwLock<Catalog>) -> anyhow::Result<()> {
    let (events, as_of) = stored_events(store).await?;
    let fresh_unions = Unions::build(&events, as_of)?;
    let fresh_catalog = Catalog::build(&events, as_of)?;
    *unions.write().await = fresh_unions;
    *catalog.write().await = fresh_catalog;
    Ok(())
}
