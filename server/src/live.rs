//! Keeps the in-memory unions equal to the stored event log: built from the log at start, then
//! advanced by each indexed range, and rebuilt after a rollback.

use std::sync::Arc;

use anyhow::Context;
use tokio::sync::{RwLock, mpsc};

use crate::indexer::{STREAM, Step};
use crate::store::Store;
use crate::unions::Unions;

/// Builds the unions from everything stored up to the checkpoint.
pub async fn load(store: &Store) -> anyhow::Result<Unions> {
    let as_of = store.checkpoint(STREAM).await?.map_or(0, |c| c.block);
    let events = store.events(0, as_of).await.context("reading the event log")?;
    Ok(Unions::build(&events, as_of)?)
}

/// Applies each step the indexer reports, until the indexer goes away.
pub async fn follow(store: Store, unions: Arc<RwLock<Unions>>, mut steps: mpsc::UnboundedReceiver<Step>) {
    while let Some(step) = steps.recv().await {
        if let Err(error) = apply(&store, &unions, &step).await {
            tracing::error!(target: "live", ?step, "could not apply indexed events, rebuilding: {error:#}");
            match load(&store).await {
                Ok(fresh) => *unions.write().await = fresh,
                Err(error) => tracing::error!(target: "live", "rebuilding failed: {error:#}"),
            }
        }
    }
}

async fn apply(store: &Store, unions: &RwLock<Unions>, step: &Step) -> anyhow::Result<()> {
    match *step {
        Step::Indexed { from, to, .. } => {
            let events = store.events(from, to).await?;
            unions.write().await.apply(&events, to)?;
        }
        Step::RolledBack { .. } => {
            let fresh = load(store).await?;
            *unions.write().await = fresh;
        }
        Step::CaughtUp { .. } | Step::Retry { .. } => {}
    }
    Ok(())
}
