//! The join-part agent: sends approved joins to their unions in batches (`addMembers`), marks them
//! joined once the indexer has seen `MemberJoined`, and sends the removals the owners asked for
//! (`partMembers`). Only unions whose join-part agent is this key accept its transactions; a refused
//! batch is logged and retried.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use alloy::primitives::Address;
use alloy::providers::{DynProvider, Provider};
use alloy::rpc::types::TransactionRequest;
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::SolCall;
use anyhow::Context;
use coop::contracts::DataUnion;
use tokio::sync::{RwLock, watch};
use url::Url;

use crate::devnet::signing_provider;
use crate::store::Store;
use crate::unions::Unions;

/// At most this many members per transaction.
pub const BATCH: usize = 100;

/// What one step did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Step {
    /// Members sent in `addMembers`, by union.
    pub added: Vec<(Address, Vec<Address>)>,
    /// Members sent in `partMembers`, by union.
    pub parted: Vec<(Address, Vec<Address>)>,
    /// Requests marked joined.
    pub joined: usize,
}

pub struct Agent {
    store: Store,
    chain: DynProvider,
    address: Address,
}

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

impl Agent {
    pub fn new(store: Store, rpc_url: &Url, key: PrivateKeySigner) -> Self {
        let address = key.address();
        let chain = signing_provider(rpc_url, key);
        Self { store, chain, address }
    }

    pub fn address(&self) -> Address {
        self.address
    }

    pub async fn step(&self, unions: &RwLock<Unions>) -> anyhow::Result<Step> {
        let mut step = Step::default();
        // Sent or approved requests whose member the chain shows active are joined.
        let mut waiting: BTreeMap<Address, Vec<Address>> = BTreeMap::new();
        for status in ["sent", "approved"] {
            for request in self.store.join_requests_with_status(status).await? {
                let active = {
                    let unions = unions.read().await;
                    let Some(union) = unions.get(&request.union) else { continue };
                    union.state().member(&request.member).is_some_and(|m| m.active)
                };
                if active {
                    if self.store.move_join_request(request.union, request.member, &[status], "joined", now()).await? {
                        step.joined += 1;
                    }
                } else if status == "approved" {
                    waiting.entry(request.union).or_default().push(request.member);
                }
            }
        }
        for (union, members) in waiting {
            for batch in members.chunks(BATCH) {
                let call = DataUnion::addMembersCall { members: batch.to_vec() };
                self.send(union, "addMembers", call.abi_encode()).await?;
                for member in batch {
                    self.store.move_join_request(union, *member, &["approved"], "sent", now()).await?;
                }
                tracing::info!(target: "agent", %union, members = batch.len(), "members added");
                step.added.push((union, batch.to_vec()));
            }
        }
        let mut parting: BTreeMap<Address, Vec<Address>> = BTreeMap::new();
        for (union, member) in self.store.part_requests().await? {
            let active = {
                let unions = unions.read().await;
                unions.get(&union).and_then(|u| u.state().member(&member)).is_some_and(|m| m.active)
            };
            if active {
                parting.entry(union).or_default().push(member);
            } else {
                self.store.forget_part_request(union, member).await?;
            }
        }
        for (union, members) in parting {
            for batch in members.chunks(BATCH) {
                let call = DataUnion::partMembersCall { members: batch.to_vec() };
                self.send(union, "partMembers", call.abi_encode()).await?;
                for member in batch {
                    self.store.forget_part_request(union, *member).await?;
                }
                tracing::info!(target: "agent", %union, members = batch.len(), "members parted");
                step.parted.push((union, batch.to_vec()));
            }
        }
        Ok(step)
    }

    /// Sends `input` to `union` and waits for it to be mined successfully.
    async fn send(&self, union: Address, what: &str, input: Vec<u8>) -> anyhow::Result<()> {
        let request = TransactionRequest::default().to(union).input(input.into());
        let receipt = self
            .chain
            .send_transaction(request)
            .await
            .with_context(|| format!("sending {what} to {union}"))?
            .get_receipt()
            .await
            .with_context(|| format!("waiting for {what} to {union}"))?;
        anyhow::ensure!(receipt.status(), "{what} to {union} reverted");
        Ok(())
    }

    /// Steps every second until `stop` turns true; errors are logged and retried.
    pub async fn run(self, unions: Arc<RwLock<Unions>>, mut stop: watch::Receiver<bool>) {
        tracing::info!(target: "agent", address = %self.address, "join-part agent running");
        while !*stop.borrow() {
            if let Err(error) = self.step(&unions).await {
                tracing::warn!(target: "agent", "join-part batch failed, will retry: {error:#}");
            }
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                _ = stop.changed() => {}
            }
        }
    }
}
