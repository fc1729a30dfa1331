//! `coop migrate`: moves a union of the previous contracts (v1, `DataUnionV1`) to a union of the
//! current ones, with every member's earnings intact (docs/contracts.md, "Migration").
//!
//! Each [`Migration::step`] reads where the move stands from the chain and takes the next step, so
//! the command can stop at any point and be run again:
//!
//! 1. the new union names the old one (`startMigration`);
//! 2. the old union's operator commits a final book with one leaf: the new union, with everything
//!    no member has proven there;
//! 3. once that commit is out of its freeze period, the new union is paid it (`withdrawAllFor`);
//! 4. the owner declares, per member, the earnings the old book gave it beyond what it proved there
//!    (`carryEarnings`), computed by replaying the old union's events with the same engine;
//! 5. what members proved on the old union and did not withdraw is paid out to them there
//!    (`withdrawAllFor`, which pays only the member itself), so the old union is left empty;
//! 6. the carry is closed (`closeCarry`).
//!
//! Whatever reaches the old union later is forwarded by steps 2 and 3 again; after the close it is
//! revenue of the new union. Members withdraw everything else from the new union with one proof.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use alloy::primitives::{Address, U256};
use alloy::providers::{DynProvider, Provider};
use alloy::rpc::types::Filter;
use alloy::sol_types::{SolCall, SolEvent};
use anyhow::{Context, bail, ensure};
use coop::book::Book;
use coop::contracts::{DataToken, DataUnion, DataUnionV1};

use crate::indexer::{Indexer, Step, Watched};
use crate::live;
use crate::sender::{self, Patience};
use crate::store::Store;

/// How many members one `carryEarnings` transaction declares: about 4,000 gas each.
const CARRY_BATCH: usize = 250;

/// The two unions and what the migration reads and signs with.
pub struct Migration {
    /// Signs with the key of the owner of both unions.
    pub chain: DynProvider,
    pub owner: Address,
    /// The union of the previous contracts.
    pub previous: Address,
    /// The union of the current contracts that takes over.
    pub next: Address,
    /// The factory that created `previous`, whose `DataUnionCreated` starts its history.
    pub previous_factory: Address,
    pub data_token: Address,
    /// No log of either union is older than this block.
    pub from_block: u64,
    pub patience: Patience,
}

/// What one step did, or why it did nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// The new union now names the old one.
    Started,
    /// The old union's operator committed `amount` for the new union in the book of `block`.
    Committed { block: u64, amount: U256, provable_at: u64 },
    /// That commit is frozen until `provable_at` (chain seconds): nothing to do before.
    Waiting { provable_at: u64 },
    /// The new union was paid `amount` by the old one.
    Pulled { amount: U256 },
    /// Carried earnings declared for `members` members, `amount` wei in all.
    Carried { members: usize, amount: U256 },
    /// What `members` members had proven and not withdrawn on the old union was paid out to them.
    PaidOut { members: usize, amount: U256 },
    /// The carry is closed.
    Closed,
    /// Everything has moved.
    Done,
}

impl std::fmt::Display for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Progress::Started => write!(f, "the new union names the old one"),
            Progress::Committed { block, amount, provable_at } => write!(
                f,
                "final commit of block {block} on the old union: {amount} wei for the new union, provable from {provable_at}"
            ),
            Progress::Waiting { provable_at } => {
                write!(f, "waiting for the final commit's freeze to end at {provable_at}")
            }
            Progress::Pulled { amount } => write!(f, "the new union received {amount} wei from the old one"),
            Progress::Carried { members, amount } => {
                write!(f, "carried {amount} wei of earnings for {members} members")
            }
            Progress::PaidOut { members, amount } => {
                write!(f, "paid {amount} wei proven on the old union out to {members} members")
            }
            Progress::Closed => write!(f, "the carry is closed"),
            Progress::Done => write!(f, "everything has moved"),
        }
    }
}

impl Migration {
    /// Steps until everything has moved. While a commit is frozen it sleeps until it can be
    /// proven if `wait`, and otherwise returns the wait for the caller to run it again later.
    pub async fn run(&self, wait: bool, mut on_progress: impl FnMut(&Progress)) -> anyhow::Result<Progress> {
        loop {
            let progress = self.step().await?;
            on_progress(&progress);
            match progress {
                Progress::Done => return Ok(progress),
                Progress::Waiting { provable_at } if wait => {
                    let now = self.chain_time().await?;
                    tokio::time::sleep(Duration::from_secs(provable_at.saturating_sub(now).clamp(1, 60))).await;
                }
                Progress::Waiting { .. } => return Ok(progress),
                _ => {}
            }
        }
    }

    /// Takes the next step of the migration.
    pub async fn step(&self) -> anyhow::Result<Progress> {
        let next = DataUnion::new(self.next, &self.chain);
        let previous = DataUnionV1::new(self.previous, &self.chain);
        let predecessor = next.predecessor().call().await.context("reading the new union's predecessor")?;
        if predecessor.is_zero() {
            let owner = next.owner().call().await?;
            ensure!(owner == self.owner, "the new union {} is owned by {owner}, not by {}", self.next, self.owner);
            let call = DataUnion::startMigrationCall { previousUnion: self.previous };
            self.send(self.next, call.abi_encode(), "startMigration").await?;
            return Ok(Progress::Started);
        }
        ensure!(
            predecessor == self.previous,
            "the new union {} migrates from {predecessor}, not {}",
            self.next,
            self.previous
        );

        let unproven = self.unproven().await?;
        if !unproven.is_zero() {
            return self.move_unproven(&previous, unproven).await;
        }
        if next.carryClosed().call().await? {
            return Ok(Progress::Done);
        }
        let book = self.previous_book().await?;
        let carried = self.carry(&book).await?;
        if carried.members > 0 {
            return Ok(Progress::Carried { members: carried.members, amount: carried.amount });
        }
        let paid = self.pay_out_proven(&book).await?;
        if paid.members > 0 {
            return Ok(Progress::PaidOut { members: paid.members, amount: paid.amount });
        }
        self.send(self.next, DataUnion::closeCarryCall {}.abi_encode(), "closeCarry").await?;
        Ok(Progress::Closed)
    }

    /// What the old union holds that no member proved: the balance minus what is proven and not
    /// yet withdrawn.
    async fn unproven(&self) -> anyhow::Result<U256> {
        let previous = DataUnionV1::new(self.previous, &self.chain);
        let balance = DataToken::new(self.data_token, &self.chain).balanceOf(self.previous).call().await?;
        let owed = previous.totalProven().call().await? - previous.totalWithdrawn().call().await?;
        Ok(balance.saturating_sub(owed))
    }

    /// Steps 2 and 3: commits a one-leaf book giving the new union all that is unproven (on top of
    /// what it was given before), or proves and withdraws that commit once its freeze is over.
    async fn move_unproven(
        &self,
        previous: &DataUnionV1::DataUnionV1Instance<&DynProvider>,
        unproven: U256,
    ) -> anyhow::Result<Progress> {
        let leaf = previous.earnings(self.next).call().await? + unproven;
        if previous.commitCount().call().await? > U256::ZERO {
            let block = u64::try_from(previous.latestCommitBlock().call().await?).context("commit block")?;
            let root = previous.committedRoot(U256::from(block)).call().await?;
            if root == Book::new(block, vec![(self.next, leaf)])?.root() {
                let provable_at = u64::try_from(previous.provableAt(U256::from(block)).call().await?)?;
                if self.chain_time().await? < provable_at {
                    return Ok(Progress::Waiting { provable_at });
                }
                let call = DataUnionV1::withdrawAllForCall {
                    member: self.next,
                    blockNumber: U256::from(block),
                    totalEarnings: leaf,
                    proof: vec![],
                };
                self.send(self.previous, call.abi_encode(), "withdrawAllFor on the old union").await?;
                return Ok(Progress::Pulled { amount: unproven });
            }
        }
        // A new final commit: something arrived (or was proven) since the last one.
        let operator = previous.operator().call().await?;
        if operator != self.owner {
            let owner = previous.owner().call().await?;
            ensure!(owner == self.owner, "the old union {} is owned by {owner}, not by {}", self.previous, self.owner);
            let call = DataUnionV1::setOperatorCall { newOperator: self.owner };
            self.send(self.previous, call.abi_encode(), "setOperator on the old union").await?;
        }
        let block = self.chain.get_block_number().await?;
        let book = Book::new(block, vec![(self.next, leaf)])?;
        let call =
            DataUnionV1::commitCall { blockNumber: U256::from(block), root: book.root(), bookHash: book.book_hash() };
        self.send(self.previous, call.abi_encode(), "the final commit on the old union").await?;
        let provable_at = u64::try_from(previous.provableAt(U256::from(block)).call().await?)?;
        Ok(Progress::Committed { block, amount: leaf, provable_at })
    }

    /// Step 4: declares the carried earnings not declared yet, in batches: each member of the old
    /// union's final book carries what that book gives it beyond what it proved on the old union.
    async fn carry(&self, book: &Book) -> anyhow::Result<Carried> {
        let previous = DataUnionV1::new(self.previous, &self.chain);
        let final_block = book.block();
        let declared = self.declared_members().await?;
        let mut due = Vec::new();
        for &(member, earnings) in book.leaves() {
            // The new union cannot be its own member: it is paid its share as the one-leaf book's leaf.
            if declared.contains(&member) || member == self.next {
                continue;
            }
            let proven = previous.earnings(member).call().await?;
            let Some(carry) = earnings.checked_sub(proven) else {
                bail!(
                    "{member} proved {proven} on the old union, more than its {earnings} in the book of {final_block}"
                );
            };
            if !carry.is_zero() {
                due.push((member, carry));
            }
        }
        let amount = due.iter().fold(U256::ZERO, |sum, (_, carry)| sum + carry);
        for batch in due.chunks(CARRY_BATCH) {
            let (members, amounts) = batch.iter().copied().unzip();
            let call = DataUnion::carryEarningsCall { members, amounts };
            self.send(self.next, call.abi_encode(), "carryEarnings").await?;
        }
        Ok(Carried { members: due.len(), amount })
    }

    /// Step 5: pays each member of the old book what it proved there and has not withdrawn. A claim
    /// equal to what is proven needs no proof, and the old union pays only the member itself.
    async fn pay_out_proven(&self, book: &Book) -> anyhow::Result<Carried> {
        let previous = DataUnionV1::new(self.previous, &self.chain);
        let mut paid = Carried { members: 0, amount: U256::ZERO };
        for &(member, _) in book.leaves() {
            let proven = previous.earnings(member).call().await?;
            let left = proven - previous.withdrawn(member).call().await?;
            if left.is_zero() || member == self.next {
                continue;
            }
            let call = DataUnionV1::withdrawAllForCall {
                member,
                blockNumber: U256::from(book.block()),
                totalEarnings: proven,
                proof: vec![],
            };
            self.send(self.previous, call.abi_encode(), "paying out proven earnings on the old union").await?;
            paid.members += 1;
            paid.amount += left;
        }
        Ok(paid)
    }

    /// The old union's book at its latest commit's block (the final one), replayed from its events.
    async fn previous_book(&self) -> anyhow::Result<Arc<Book>> {
        let previous = DataUnionV1::new(self.previous, &self.chain);
        let block = u64::try_from(previous.latestCommitBlock().call().await?).context("commit block")?;
        let watched =
            Watched { factory: self.previous_factory, marketplace: Address::ZERO, data_token: self.data_token };
        let models = index_unions(&self.chain, watched, self.from_block).await?;
        let union = models.unions.get(&self.previous).with_context(|| {
            format!(
                "the factory {} created no union {} after block {}",
                self.previous_factory, self.previous, self.from_block
            )
        })?;
        Ok(union.book_at(block)?)
    }

    /// The members the new union has already carried earnings for (an earlier run's batches).
    async fn declared_members(&self) -> anyhow::Result<HashSet<Address>> {
        let filter = Filter::new()
            .address(self.next)
            .event_signature(DataUnion::EarningsCarried::SIGNATURE_HASH)
            .from_block(self.from_block);
        let logs = self.chain.get_logs(&filter).await.context("reading the carried earnings")?;
        logs.iter()
            .map(|log| Ok(DataUnion::EarningsCarried::decode_log(&log.inner)?.data.member))
            .collect::<Result<_, alloy::sol_types::Error>>()
            .context("decoding EarningsCarried")
    }

    async fn chain_time(&self) -> anyhow::Result<u64> {
        let head = self.chain.get_block_by_number(Default::default()).await?.context("no head block")?;
        Ok(head.header.timestamp)
    }

    async fn send(&self, to: Address, input: Vec<u8>, what: &str) -> anyhow::Result<()> {
        sender::send(&self.chain, self.owner, to, input, what, self.patience).await.map(drop)
    }
}

struct Carried {
    members: usize,
    amount: U256,
}

/// The read models of the unions `watched.factory` created, from the chain's logs since
/// `from_block`, indexed into a scratch store by the server's own indexer: the same engine, the same
/// books, whichever version of the contracts emitted them.
pub async fn index_unions(chain: &DynProvider, watched: Watched, from_block: u64) -> anyhow::Result<live::Models> {
    let dir = tempfile::tempdir().context("a scratch folder for the indexed events")?;
    let store = Store::open(&format!("sqlite://{}?mode=rwc", dir.path().join("unions.db").display())).await?;
    let mut indexer = Indexer::new(store.clone(), chain.clone(), watched, from_block, 0).await?;
    while !matches!(indexer.step().await?, Step::CaughtUp { .. }) {}
    let (models, _) = live::load(&store).await?;
    Ok(models)
}

/// `coop migrate`'s options. The owner of both unions signs (key in COOP_OWNER_KEY); the DATA token
/// is the deployment file's.
#[derive(Debug, Clone, clap::Args)]
pub struct MigrateArgs {
    /// The union of the previous contracts (`DataUnionV1`).
    #[arg(long, value_name = "ADDRESS", value_parser = crate::deploy::parse_address)]
    pub previous: Address,
    /// The union of the current contracts that takes over, created by the owner beforehand.
    #[arg(long, value_name = "ADDRESS", value_parser = crate::deploy::parse_address)]
    pub next: Address,
    /// The previous contracts' factory, which created `--previous`.
    #[arg(long, value_name = "ADDRESS", value_parser = crate::deploy::parse_address)]
    pub previous_factory: Address,
    /// The block the previous factory was deployed in (its logs are read from there).
    #[arg(long, value_name = "BLOCK", default_value_t = 0)]
    pub from_block: u64,
    /// Wait for the final commit's freeze period in the command, rather than exit and be run again.
    #[arg(long)]
    pub wait: bool,
}
