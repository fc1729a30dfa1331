//! The chain role: indexing the chain, committing books and sending joins. Any number of instances can share one
//! PostgreSQL database; exactly one holds the role at a time (an advisory lock, see
//! `store::Lease`). When it dies, another takes the role over and resumes from the stored
//! checkpoint. Every instance, leader or not, answers reads from the log it follows (`live`).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use alloy::providers::DynProvider;
use alloy::signers::local::PrivateKeySigner;
use tokio::sync::{Notify, watch};
use url::Url;

use crate::guard::Guard;
use crate::indexer::{Indexer, Watched};
use crate::joins::agent::Agent;
use crate::live::ReadModels;
use crate::operator::{CommitPolicy, Operator};
use crate::policy::Serving;
use crate::store::{Lease, Store};

/// How often a follower tries to take the role, and the leader checks it still has it.
const CHECK_EVERY: Duration = Duration::from_secs(1);

/// What the holder of the role runs.
pub struct ChainRole {
    pub store: Store,
    pub chain: DynProvider,
    pub watched: Watched,
    pub start_block: u64,
    pub confirmations: u64,
    pub operator: Option<OperatorSettings>,
    /// The join-part agent's key: approved joins and removals go on chain from the role's holder only.
    pub agent: Option<(Url, PrivateKeySigner)>,
    /// The validator's key: wrong frozen commits are vetoed from the role's holder only.
    pub validator: Option<(Url, PrivateKeySigner)>,
    /// What the operator, the agent and the validator may spend gas on, and what they spent.
    pub serving: Serving,
}

pub struct OperatorSettings {
    pub rpc_url: Url,
    pub key: PrivateKeySigner,
    pub policy: CommitPolicy,
}

impl ChainRole {
    /// Takes the role whenever it is free, and runs it while it is held, until `stop`.
    pub async fn run(
        self,
        models: ReadModels,
        nudge: Arc<Notify>,
        leading: Arc<AtomicBool>,
        mut stop: watch::Receiver<bool>,
    ) {
        while !*stop.borrow() {
            match self.store.try_lead().await {
                Ok(Some(lease)) => {
                    leading.store(true, Ordering::SeqCst);
                    let led = self.lead(lease, &models, &nudge, stop.clone()).await;
                    leading.store(false, Ordering::SeqCst);
                    if let Err(error) = led {
                        tracing::warn!(target: "role", "gave up the chain role: {error:#}");
                    }
                }
                Ok(None) => {}
                Err(error) => tracing::warn!(target: "role", "could not ask for the chain role: {error:#}"),
            }
            tokio::select! {
                _ = tokio::time::sleep(CHECK_EVERY) => {}
                _ = stop.changed() => {}
            }
        }
    }

    async fn lead(
        &self,
        mut lease: Lease,
        models: &ReadModels,
        nudge: &Arc<Notify>,
        mut stop: watch::Receiver<bool>,
    ) -> anyhow::Result<()> {
        let indexer =
            Indexer::new(self.store.clone(), self.chain.clone(), self.watched, self.start_block, self.confirmations)
                .await?;
        tracing::info!(target: "role", "took the chain role: indexing and committing");
        let (end, ended) = watch::channel(false);
        let mut workers = Vec::new();
        let nudge = nudge.clone();
        workers.push(tokio::spawn(indexer.run(ended.clone(), move |_| nudge.notify_one())));
        if let Some(settings) = &self.operator {
            let operator = Operator::new(
                self.store.clone(),
                &settings.rpc_url,
                settings.key.clone(),
                settings.policy,
                self.confirmations,
            )
            .serving(self.serving.clone());
            workers.push(tokio::spawn(operator.run(models.clone(), ended.clone())));
        }
        if let Some((rpc_url, key)) = &self.agent {
            let agent =
                Agent::new(self.store.clone(), rpc_url, key.clone(), self.confirmations).serving(self.serving.clone());
            workers.push(tokio::spawn(agent.run(models.clone(), ended.clone())));
        }
        if let Some((rpc_url, key)) = &self.validator {
            let guard = Guard::new(rpc_url, key.clone()).serving(self.serving.clone());
            workers.push(tokio::spawn(guard.run(models.clone(), ended.clone())));
        }
        let lost = loop {
            tokio::select! {
                _ = tokio::time::sleep(CHECK_EVERY) => {
                    if !lease.is_held().await {
                        break true;
                    }
                }
                _ = stop.changed() => break false,
            }
        };
        let _ = end.send(true);
        for worker in workers {
            let _ = worker.await;
        }
        drop(lease);
        if lost {
            anyhow::bail!("the database connection holding the role was lost");
        }
        Ok(())
    }
}
