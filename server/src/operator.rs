//! The operator commits the books of the unions it operates: the book of a **confirmed** block
//! (head minus the confirmation depth), never live state, and only when it changed since the last
//! commit, batched by a policy: every `commit_every_blocks` blocks, or sooner once the revenue not
//! yet committed passes `commit_revenue_threshold`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use alloy::primitives::{Address, U256};
use alloy::providers::{DynProvider, Provider};
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::SolCall;
use anyhow::Context;
use coop::book::Book;
use coop::contracts::DataUnion;
use tokio::sync::watch;
use url::Url;

use crate::live::ReadModels;
use crate::policy::{Key, Serving};
use crate::sender::{self, Patience, signing_provider};
use crate::store::{Store, StoredBook};
use crate::unions::Union;

/// When a union's book is worth a commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommitPolicy {
    pub every_blocks: u64,
    pub revenue_threshold: Option<U256>,
}

impl CommitPolicy {
    /// `since` is how many blocks passed since the last commit (None: never committed);
    /// `uncommitted` is the growth of all earnings since then. Nothing new is never committed.
    pub fn is_due(&self, since: Option<u64>, uncommitted: U256) -> bool {
        if uncommitted.is_zero() {
            return false;
        }
        let waited = since.is_none_or(|blocks| blocks >= self.every_blocks);
        let enough = self.revenue_threshold.is_some_and(|threshold| uncommitted >= threshold);
        waited || enough
    }
}

/// A commit the operator sent and saw mined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Committed {
    pub union: Address,
    pub block: u64,
    pub book: Arc<Book>,
}

pub struct Operator {
    store: Store,
    chain: DynProvider,
    address: Address,
    policy: CommitPolicy,
    confirmations: u64,
    /// The newest block committed per union, including commits the indexer has not seen yet.
    sent: HashMap<Address, u64>,
    patience: Patience,
    /// Which unions it commits for, and how often.
    serving: Serving,
}

impl Operator {
    pub fn new(store: Store, rpc_url: &Url, key: PrivateKeySigner, policy: CommitPolicy, confirmations: u64) -> Self {
        let address = key.address();
        let chain = signing_provider(rpc_url, key);
        Self {
            store,
            chain,
            address,
            policy,
            confirmations,
            sent: HashMap::new(),
            patience: Patience::default(),
            serving: Serving::default(),
        }
    }

    /// Commits only for the unions `serving`'s policy admits, within its quotas, accounted in it.
    pub fn serving(mut self, serving: Serving) -> Self {
        self.serving = serving;
        self
    }

    /// How long its commits wait to be mined before they are sent again with higher fees.
    pub fn with_patience(mut self, patience: Patience) -> Self {
        self.patience = patience;
        self
    }

    pub fn address(&self) -> Address {
        self.address
    }

    /// Commits every due book of the confirmed block; returns what it committed.
    pub async fn step(&mut self, models: &ReadModels) -> anyhow::Result<Vec<Committed>> {
        let head = self.chain.get_block_number().await.context("asking for the head block")?;
        let confirmed = {
            let unions = models.unions().await;
            head.saturating_sub(self.confirmations).min(unions.as_of())
        };
        let due = self.due_books(models, confirmed).await?;
        let mut committed = Vec::new();
        // One union's failed commit (a node hiccup, a revert) does not hold up the others'.
        for (union, book) in due {
            match self.commit(union, confirmed, &book).await {
                Ok(()) => committed.push(Committed { union, block: confirmed, book }),
                Err(error) => {
                    tracing::warn!(target: "operator", %union, block = confirmed, "commit failed, will retry: {error:#}");
                }
            }
        }
        Ok(committed)
    }

    /// Commits `book` (of block `confirmed`) to `union`, waits for it to be mined and stores it. The
    /// commit names the block's hash, so the union refuses it if a reorganisation replaced that block
    /// before it was mined.
    async fn commit(&mut self, union: Address, confirmed: u64, book: &Book) -> anyhow::Result<()> {
        let header = self
            .chain
            .get_block_by_number(confirmed.into())
            .await
            .context("asking for the committed block")?
            .with_context(|| format!("the node has no block {confirmed}"))?;
        let call = DataUnion::commitCall {
            blockNumber: U256::from(confirmed),
            blockHash: header.header.hash,
            root: book.root(),
            bookHash: book.book_hash(),
        };
        let what = format!("the commit of block {confirmed}");
        let mined = sender::send(&self.chain, self.address, union, call.abi_encode(), &what, self.patience).await?;
        self.serving.record(Key::Operator, union, 1, mined.cost);
        let stored =
            StoredBook { root: book.root(), book_hash: book.book_hash(), canonical_json: book.to_canonical_json() };
        self.store.save_book(union, confirmed, &stored).await?;
        self.sent.insert(union, confirmed);
        tracing::info!(target: "operator", %union, block = confirmed, root = %book.root(), leaves = book.len(), "committed");
        Ok(())
    }

    async fn due_books(&self, models: &ReadModels, confirmed: u64) -> anyhow::Result<Vec<(Address, Arc<Book>)>> {
        // Books are built under the read lock, beside the readers.
        let unions = models.unions().await;
        let mine = unions.iter().filter(|union| union.operator == self.address && union.created_block <= confirmed);
        let mut due = Vec::new();
        for union in mine {
            // One union's trouble (an earlier operator's commit of a book that cannot be built, say)
            // does not hold up the others'.
            match self.due_book(union, confirmed) {
                Ok(Some(book)) => due.push((union.address, book)),
                Ok(None) => {}
                Err(error) => {
                    tracing::warn!(target: "operator", union = %union.address, block = confirmed, "no commit: {error:#}");
                }
            }
        }
        Ok(due)
    }

    /// The book of `confirmed` if it is due for a commit to `union`.
    fn due_book(&self, union: &Union, confirmed: u64) -> anyhow::Result<Option<Arc<Book>>> {
        let on_chain = union.state().commits().iter().map(|c| c.book_block).max();
        let last = on_chain.max(self.sent.get(&union.address).copied());
        if last.is_some_and(|last| last >= confirmed) {
            return Ok(None);
        }
        let book = union.book_at(confirmed)?;
        // What was committed last, by whoever was operator then: a book before the union existed
        // counts as nothing committed.
        let before = match last.map(|block| union.book_at(block)) {
            Some(Ok(committed)) => total_earnings(&committed),
            Some(Err(_)) | None => U256::ZERO,
        };
        let uncommitted = total_earnings(&book).saturating_sub(before);
        if !self.policy.is_due(last.map(|block| confirmed - block), uncommitted) {
            return Ok(None);
        }
        let owner = union.state().owner();
        if let Err(refusal) = self.serving.allowance(Key::Operator, union.address, owner, 1) {
            tracing::debug!(target: "operator", union = %union.address, reason = refusal.name(), "commit held back");
            return Ok(None);
        }
        Ok(Some(book))
    }

    /// Steps every second until `stop` turns true; errors are logged and retried.
    pub async fn run(mut self, models: ReadModels, mut stop: watch::Receiver<bool>) {
        tracing::info!(target: "operator", address = %self.address, "operating");
        while !*stop.borrow() {
            // A stop does not wait for a transaction to be mined: what was sent is on its way, and
            // whoever takes over sees it on chain (or sends it again).
            tokio::select! {
                stepped = self.step(&models) => {
                    if let Err(error) = stepped {
                        tracing::warn!(target: "operator", "commit failed, will retry: {error:#}");
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

fn total_earnings(book: &Book) -> U256 {
    book.leaves().iter().fold(U256::ZERO, |sum, (_, earnings)| sum + *earnings)
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: CommitPolicy =
        CommitPolicy { every_blocks: 10, revenue_threshold: Some(U256::from_limbs([500, 0, 0, 0])) };

    #[test]
    fn nothing_new_is_never_committed() {
        assert!(!POLICY.is_due(None, U256::ZERO));
        assert!(!POLICY.is_due(Some(1_000), U256::ZERO));
    }

    #[test]
    fn a_first_book_with_earnings_is_committed_at_once() {
        assert!(POLICY.is_due(None, U256::from(1)));
    }

    #[test]
    fn small_changes_wait_for_the_batch_interval() {
        assert!(!POLICY.is_due(Some(9), U256::from(499)));
        assert!(POLICY.is_due(Some(10), U256::from(1)));
    }

    #[test]
    fn enough_uncommitted_revenue_commits_before_the_interval() {
        assert!(POLICY.is_due(Some(1), U256::from(500)));
        let without_threshold = CommitPolicy { revenue_threshold: None, ..POLICY };
        assert!(!without_threshold.is_due(Some(1), U256::from(10u64.pow(18))));
    }
}
