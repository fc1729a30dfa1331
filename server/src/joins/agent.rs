//! The join-part agent: sends approved joins to their unions in batches (`addMembers`), marks them
//! joined once the indexer has seen `MemberJoined`, and sends the removals the owners asked for
//! (`partMembers`). Only unions whose join-part agent is this key accept its transactions, so it asks
//! the union first (an owner may have removed it) and leaves the others' requests waiting; a union's
//! failed batch is logged and retried without holding up the other unions.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use alloy::primitives::Address;
use alloy::providers::DynProvider;
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::SolCall;
use coop::contracts::DataUnion;
use tokio::sync::watch;
use url::Url;

use crate::live::ReadModels;
use crate::policy::{Key, Serving};
use crate::sender::{self, Patience, signing_provider};
use crate::store::{JoinState, Store};
use crate::unions::Unions;

/// At most this many members per transaction.
pub const BATCH: usize = 100;

#[derive(Debug, Clone, Copy)]
enum Batch {
    Add,
    Part,
}

impl Batch {
    fn name(self) -> &'static str {
        match self {
            Batch::Add => "addMembers",
            Batch::Part => "partMembers",
        }
    }
}

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
    /// A join counts once its block is this deep: until then a reorg may still take it out.
    confirmations: u64,
    /// Unions already reported as not served, so the log says it once, not every second.
    reported: Mutex<HashSet<Address>>,
    /// Which unions it changes members of, and how many a day.
    serving: Serving,
}

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

impl Agent {
    pub fn new(store: Store, rpc_url: &Url, key: PrivateKeySigner, confirmations: u64) -> Self {
        let address = key.address();
        let chain = signing_provider(rpc_url, key);
        Self { store, chain, address, confirmations, reported: Mutex::default(), serving: Serving::default() }
    }

    /// Changes members only of the unions `serving`'s policy admits, within its quotas, accounted in
    /// it.
    pub fn serving(mut self, serving: Serving) -> Self {
        self.serving = serving;
        self
    }

    pub fn address(&self) -> Address {
        self.address
    }

    pub async fn step(&self, models: &ReadModels) -> anyhow::Result<Step> {
        let mut step = Step::default();
        self.settle_sent(models, &mut step).await?;
        // Approved requests whose member is active already (joined some other way) are joined once
        // that is confirmed; the others wait for an `addMembers`.
        let mut waiting: BTreeMap<Address, Vec<Address>> = BTreeMap::new();
        for request in self.store.join_requests_with_status(JoinState::Approved).await? {
            let (active, confirmed) = {
                let unions = models.unions().await;
                let Some(union) = unions.get(&request.union) else { continue };
                let active = union.state().member(&request.member).is_some_and(|m| m.active);
                (active, union.last_joined(&request.member).is_some_and(|block| self.is_confirmed(block, &unions)))
            };
            if !active {
                waiting.entry(request.union).or_default().push(request.member);
            } else if confirmed
                && self
                    .store
                    .move_join_request(request.union, request.member, &[JoinState::Approved], JoinState::Joined, now())
                    .await?
            {
                step.joined += 1;
            }
        }
        for (union, members) in waiting {
            if self.serves(union).await {
                let owner = models.unions().await.get(&union).map(|found| found.state().owner());
                let Some(owner) = owner else { continue };
                self.send_batches(union, owner, &members, Batch::Add, &mut step).await?;
            }
        }
        let mut parting: BTreeMap<Address, Vec<Address>> = BTreeMap::new();
        for (union, member) in self.store.part_requests().await? {
            let active = {
                let unions = models.unions().await;
                unions.get(&union).and_then(|u| u.state().member(&member)).is_some_and(|m| m.active)
            };
            if active {
                parting.entry(union).or_default().push(member);
            } else {
                self.store.forget_part_request(union, member).await?;
            }
        }
        for (union, members) in parting {
            if self.serves(union).await {
                let owner = models.unions().await.get(&union).map(|found| found.state().owner());
                let Some(owner) = owner else { continue };
                self.send_batches(union, owner, &members, Batch::Part, &mut step).await?;
            }
        }
        Ok(step)
    }

    /// Whether `block` is deep enough in what the unions have indexed for no reorg to undo it.
    fn is_confirmed(&self, block: u64, unions: &Unions) -> bool {
        unions.as_of() >= block.saturating_add(self.confirmations)
    }

    /// Sent requests whose member joined since the `addMembers` are joined once that join is
    /// confirmed. One whose transaction the log has passed without the join (a reorg took it out),
    /// or that was left in flight (a leader that stopped mid-send), goes back to the approved ones and
    /// is sent again: `addMembers` skips members already active, so sending twice adds nobody twice.
    async fn settle_sent(&self, models: &ReadModels, step: &mut Step) -> anyhow::Result<()> {
        for request in self.store.join_requests_with_status(JoinState::Sent).await? {
            let (joined, confirmed, passed) = {
                let unions = models.unions().await;
                let Some(union) = unions.get(&request.union) else { continue };
                let since = request.sent_block.unwrap_or(u64::MAX);
                let joined = union.last_joined(&request.member).filter(|&block| block >= since);
                let confirmed = joined.is_some_and(|block| self.is_confirmed(block, &unions));
                (joined.is_some(), confirmed, request.sent_block.is_none_or(|block| unions.as_of() >= block))
            };
            if joined {
                if confirmed
                    && self
                        .store
                        .move_join_request(request.union, request.member, &[JoinState::Sent], JoinState::Joined, now())
                        .await?
                {
                    step.joined += 1;
                }
            } else if passed && self.store.unsend(request.union, request.member, now()).await? {
                tracing::warn!(
                    target: "agent",
                    union = %request.union,
                    member = %request.member,
                    sent_block = ?request.sent_block,
                    "a sent join is not on the chain (a reorg, or a send cut short); sending it again"
                );
            }
        }
        Ok(())
    }

    /// Whether this key is a join-part agent of `union` now; a union that cannot be asked is tried
    /// again next step.
    async fn serves(&self, union: Address) -> bool {
        match DataUnion::new(union, &self.chain).isJoinPartAgent(self.address).call().await {
            Ok(true) => {
                self.reported.lock().unwrap_or_else(PoisonError::into_inner).remove(&union);
                true
            }
            Ok(false) => {
                if self.reported.lock().unwrap_or_else(PoisonError::into_inner).insert(union) {
                    tracing::warn!(
                        target: "agent",
                        %union,
                        agent = %self.address,
                        "not a join-part agent of this union (the owner removed it or chose another); its requests wait"
                    );
                }
                false
            }
            Err(error) => {
                tracing::warn!(target: "agent", %union, "could not ask the union for its agents: {error:#}");
                false
            }
        }
    }

    /// Sends `members` to `union` in batches and records each in the store once mined. A join is
    /// claimed (approved to sent) before its batch goes out, so an owner's rejection that races it
    /// either comes first (and the member is not sent) or finds it sent and is refused: one clear
    /// state. A failed batch puts its joins back and stops this union's batches for this step; a
    /// store error stops the step.
    async fn send_batches(
        &self,
        union: Address,
        owner: Address,
        members: &[Address],
        batch: Batch,
        step: &mut Step,
    ) -> anyhow::Result<()> {
        for members in members.chunks(BATCH) {
            let wanted = u32::try_from(members.len()).unwrap_or(u32::MAX);
            let allowed = match self.serving.allowance(Key::Agent, union, owner, wanted) {
                Ok(allowed) => allowed as usize,
                Err(refusal) => {
                    tracing::debug!(target: "agent", %union, reason = refusal.name(), "{} held back", batch.name());
                    return Ok(());
                }
            };
            let members = &members[..allowed.min(members.len())];
            let members = match batch {
                Batch::Add => {
                    let mut claimed = Vec::new();
                    for member in members {
                        if self
                            .store
                            .move_join_request(union, *member, &[JoinState::Approved], JoinState::Sent, now())
                            .await?
                        {
                            claimed.push(*member);
                        }
                    }
                    claimed
                }
                Batch::Part => members.to_vec(),
            };
            if members.is_empty() {
                continue;
            }
            let input = match batch {
                Batch::Add => DataUnion::addMembersCall { members: members.clone() }.abi_encode(),
                Batch::Part => DataUnion::partMembersCall { members: members.clone() }.abi_encode(),
            };
            let mined =
                match sender::send(&self.chain, self.address, union, input, batch.name(), Patience::default()).await {
                    Ok(mined) => {
                        let count = u32::try_from(members.len()).unwrap_or(u32::MAX);
                        self.serving.record(Key::Agent, union, count, mined.cost);
                        mined.block
                    }
                    Err(error) => {
                        tracing::warn!(target: "agent", %union, "{} failed, will retry: {error:#}", batch.name());
                        if let Batch::Add = batch {
                            for member in &members {
                                self.store.unsend(union, *member, now()).await?;
                            }
                        }
                        return Ok(());
                    }
                };
            for member in &members {
                match batch {
                    Batch::Add => self.store.mark_sent(union, *member, mined).await?,
                    Batch::Part => self.store.forget_part_request(union, *member).await?,
                }
            }
            tracing::info!(target: "agent", %union, members = members.len(), block = mined, "{} sent", batch.name());
            match batch {
                Batch::Add => step.added.push((union, members)),
                Batch::Part => step.parted.push((union, members)),
            }
        }
        Ok(())
    }

    /// Steps every second until `stop` turns true; errors are logged and retried.
    pub async fn run(self, models: ReadModels, mut stop: watch::Receiver<bool>) {
        tracing::info!(target: "agent", address = %self.address, "join-part agent running");
        while !*stop.borrow() {
            // A stop does not wait for a transaction to be mined: what was sent is on its way, and
            // whoever takes over sees it on chain (or sends it again).
            tokio::select! {
                stepped = self.step(&models) => {
                    if let Err(error) = stepped {
                        tracing::warn!(target: "agent", "join-part batch failed, will retry: {error:#}");
                    }
                }
                _ = stop.changed() => break,
            }
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                _ = stop.changed() => {}
            }
        }
    }
}
