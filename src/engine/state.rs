//! The state of one Data Union: who is a member, what everyone has earned, and the committed books.
//!
//! Every event costs O(1) whatever the member count. Equal shares make the accumulator simple: `acc` is
//! what one member active since creation would have earned from shares so far. A member stores `settled`
//! (earnings not covered by `acc`: shares from earlier memberships, admin fees, owner credits) and the
//! value of `acc` at its last join, so `earnings = settled + (acc - acc_at_join)` while active and
//! `settled` otherwise. Only a book costs O(n).
//!
//! # Invariants
//! - Revenue is conserved: the sum of every leaf's earnings plus `carry` equals `revenue + carried`,
//!   and `revenue == admin_fees + owner_without_members + member_shares + carry`.
//! - Carried earnings never exceed what the predecessor sent: `carried + reserve` is at most the sum
//!   of `fromPredecessor` amounts received while the carry was open.
//! - No leaf's earnings ever decrease, and leaves are never removed or reordered.
//! - One leaf per address, in order of first appearance; the owner at creation is leaf 0.
//! - The state after block N depends only on the events with block <= N, whether they were replayed at
//!   once, applied one at a time, or applied after restoring a snapshot.
//! - Events apply in strictly increasing key order, and never into a block already closed by
//!   [`UnionState::advance_to`].

use std::mem::take;

use alloy_primitives::{
    Address, U256,
    map::{AddressMap, Entry},
};

use super::{
    event::{Commit, Event, EventKey, EventKind},
    fee::AdminFee,
};
use crate::book::Book;

/// Why an event cannot be applied. The state is unchanged after an error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    /// The first event is not `created`.
    #[error("the first event must be `created`, got `{kind}` at {key}")]
    NotCreated {
        /// The first event's key.
        key: EventKey,
        /// The first event's name.
        kind: &'static str,
    },
    /// A second `created`.
    #[error("the union was already created; another `created` at {key}")]
    AlreadyCreated {
        /// The second `created` event's key.
        key: EventKey,
    },
    /// An event whose key is not after the previous one.
    #[error("event at {next} is not after the previous event at {previous}")]
    OutOfOrder {
        /// The last applied key.
        previous: EventKey,
        /// The refused key.
        next: EventKey,
    },
    /// An event in a block the state was already advanced past.
    #[error("event at {key} belongs to block {}, but the state already stands at the end of block {block}", key.block)]
    BlockClosed {
        /// The refused key.
        key: EventKey,
        /// The block the state stands at.
        block: u64,
    },
    /// `advance_to` a block before the current one.
    #[error("cannot go back from block {block} to block {to}")]
    Backwards {
        /// The block the state stands at.
        block: u64,
        /// The requested block.
        to: u64,
    },
    /// A replay asked for a block before the union existed.
    #[error("the union was created in block {created}, after the requested block {requested}")]
    BeforeCreation {
        /// The block of `created`.
        created: u64,
        /// The requested block.
        requested: u64,
    },
    /// A replay of no events.
    #[error("there are no events")]
    NoEvents,
    /// What the union ever received would pass 2^256 - 1.
    #[error("the amount at {key} would make what the union ever received overflow 256 bits")]
    RevenueOverflow {
        /// The refused revenue event's key.
        key: EventKey,
    },
}

/// One leaf's bookkeeping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Member {
    pub(crate) address: Address,
    pub(crate) settled: U256,
    pub(crate) acc_at_join: U256,
    pub(crate) active: bool,
}

/// Where revenue went, in wei.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Totals {
    /// Every revenue ever received.
    pub revenue: U256,
    /// Admin fees credited to owners.
    pub admin_fees: U256,
    /// Revenue (and carry) credited to the owner because no member was active.
    pub owner_without_members: U256,
    /// Equal shares credited to active members.
    pub member_shares: U256,
    /// Earnings carried over from the predecessor union (not revenue of this one).
    pub carried: U256,
}

/// One leaf as seen from outside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemberView {
    /// The leaf index, fixed forever.
    pub index: usize,
    /// The address.
    pub address: Address,
    /// Lifetime earnings in wei.
    pub earnings: U256,
    /// Whether it shares revenue now.
    pub active: bool,
}

/// The state of one Data Union after a sequence of events. Built from a `created` event, advanced by
/// [`apply`](Self::apply) and [`advance_to`](Self::advance_to), saved and restored by snapshots.
#[derive(Debug, PartialEq, Eq)]
pub struct UnionState {
    pub(crate) block: u64,
    pub(crate) block_closed: bool,
    pub(crate) last_key: EventKey,
    pub(crate) owner: usize,
    pub(crate) admin_fee: AdminFee,
    pub(crate) acc: U256,
    pub(crate) carry: U256,
    pub(crate) active_count: u64,
    pub(crate) totals: Totals,
    /// Sent by the predecessor and not yet carried to a member (held while the carry is open).
    pub(crate) reserve: U256,
    pub(crate) carry_closed: bool,
    pub(crate) commits: Vec<Commit>,
    pub(crate) members: Vec<Member>,
    pub(crate) index: AddressMap<usize>,
}

impl Clone for UnionState {
    fn clone(&self) -> Self {
        UnionState { commits: self.commits.clone(), members: self.members.clone(), index: self.index.clone(), ..*self }
    }

    /// Reuses this state's allocations, so refreshing a working copy of a large union does not allocate.
    fn clone_from(&mut self, source: &Self) {
        let (commits, members, index) = (take(&mut self.commits), take(&mut self.members), take(&mut self.index));
        *self = UnionState { commits, members, index, ..*source };
        self.commits.clone_from(&source.commits);
        self.members.clone_from(&source.members);
        self.index.clone_from(&source.index);
    }
}

impl UnionState {
    /// The state right after `created` at `key`: the owner is leaf 0, inactive, with no earnings.
    pub fn new(key: EventKey, owner: Address, admin_fee: AdminFee) -> Self {
        let mut state = UnionState {
            block: key.block,
            block_closed: false,
            last_key: key,
            owner: 0,
            admin_fee,
            acc: U256::ZERO,
            carry: U256::ZERO,
            active_count: 0,
            totals: Totals::default(),
            reserve: U256::ZERO,
            carry_closed: false,
            commits: Vec::new(),
            members: Vec::new(),
            index: AddressMap::default(),
        };
        state.owner = state.leaf_for(owner, false).0;
        state
    }

    /// The state from a `created` event.
    pub fn from_created(event: &Event) -> Result<Self, EngineError> {
        match event.kind {
            EventKind::Created { owner, admin_fee } => Ok(UnionState::new(event.key, owner, admin_fee)),
            ref other => Err(EngineError::NotCreated { key: event.key, kind: other.name() }),
        }
    }

    /// The state at the end of block `through` (default: the last event's block) from the events in chain
    /// order, the first being `created`. Events after `through` are not read.
    pub fn replay<'a>(events: impl IntoIterator<Item = &'a Event>, through: Option<u64>) -> Result<Self, EngineError> {
        UnionState::replay_tagged(events.into_iter().map(|event| ((), event)), through).map_err(|(_, error)| error)
    }

    /// [`replay`](Self::replay) over events that carry a tag (a line number, say); an error comes back
    /// with the tag of the event that caused it (none when there are no events).
    pub fn replay_tagged<'a, T>(
        events: impl IntoIterator<Item = (T, &'a Event)>,
        through: Option<u64>,
    ) -> Result<Self, (Option<T>, EngineError)> {
        let mut events = events.into_iter().peekable();
        let (tag, first) = events.next().ok_or((None, EngineError::NoEvents))?;
        if let Some(requested) = through.filter(|&block| block < first.key.block) {
            return Err((Some(tag), EngineError::BeforeCreation { created: first.key.block, requested }));
        }
        let mut state = UnionState::from_created(first).map_err(|error| (Some(tag), error))?;
        while let Some((tag, event)) = events.next_if(|(_, event)| through.is_none_or(|block| event.key.block <= block))
        {
            state.apply(event).map_err(|error| (Some(tag), error))?;
        }
        let block = through.unwrap_or(state.block);
        state.block = block;
        state.block_closed = true;
        Ok(state)
    }

    /// Applies one event in O(1). Its key must be after the last one, and its block not closed.
    pub fn apply(&mut self, event: &Event) -> Result<(), EngineError> {
        let key = event.key;
        if key <= self.last_key {
            return Err(EngineError::OutOfOrder { previous: self.last_key, next: key });
        }
        if key.block < self.block || (key.block == self.block && self.block_closed) {
            return Err(EngineError::BlockClosed { key, block: self.block });
        }
        match event.kind {
            EventKind::Created { .. } => return Err(EngineError::AlreadyCreated { key }),
            EventKind::MemberJoined { member } => self.join(member),
            EventKind::MemberParted { member } => self.part(member),
            EventKind::AdminFeeChanged { admin_fee } => self.admin_fee = admin_fee,
            EventKind::OwnerChanged { owner } => self.owner = self.leaf_for(owner, false).0,
            EventKind::Revenue { amount } => self.add_revenue(key, amount)?,
            EventKind::Committed { book_block, root, book_hash, timestamp } => {
                self.commits.push(Commit { key, book_block, root, book_hash, timestamp });
            }
            // Vetoes are rare and a union's commits few, so a linear search is fine.
            EventKind::CommitVetoed { book_block } => self.commits.retain(|commit| commit.book_block != book_block),
            EventKind::FromPredecessor { amount } if self.carry_closed => self.add_revenue(key, amount)?,
            EventKind::FromPredecessor { amount } => {
                self.check_total(key, amount)?;
                self.reserve += amount;
            }
            EventKind::Carried { member, amount } => self.carry_over(member, amount),
            EventKind::CarryClosed => self.close_carry(key)?,
        }
        self.last_key = key;
        self.block = key.block;
        self.block_closed = false;
        Ok(())
    }

    /// Declares that every event of blocks up to `block` has been applied: the state now stands at the
    /// end of `block`, and later events must come from later blocks.
    pub fn advance_to(&mut self, block: u64) -> Result<(), EngineError> {
        if block < self.block {
            return Err(EngineError::Backwards { block: self.block, to: block });
        }
        self.block = block;
        self.block_closed = true;
        Ok(())
    }

    /// Makes room for `additional` new leaves, so a batch of joins does not reallocate midway.
    pub fn reserve(&mut self, additional: usize) {
        self.members.reserve(additional);
        self.index.reserve(additional);
    }

    /// The block the state stands at (see [`is_block_closed`](Self::is_block_closed)).
    pub fn block(&self) -> u64 {
        self.block
    }

    /// Whether every event of [`block`](Self::block) is known to be applied.
    pub fn is_block_closed(&self) -> bool {
        self.block_closed
    }

    /// The key of the last applied event.
    pub fn last_key(&self) -> EventKey {
        self.last_key
    }

    /// The current owner.
    pub fn owner(&self) -> Address {
        self.members[self.owner].address
    }

    /// The current admin fee.
    pub fn admin_fee(&self) -> AdminFee {
        self.admin_fee
    }

    /// The remainder of the last split, waiting for the next revenue.
    pub fn carry(&self) -> U256 {
        self.carry
    }

    /// Where revenue went.
    pub fn totals(&self) -> Totals {
        self.totals
    }

    /// What the predecessor sent that is not yet carried to a member (zero once the carry is closed).
    pub fn predecessor_reserve(&self) -> U256 {
        self.reserve
    }

    /// Whether the carry from a predecessor is closed (`CarryClosed`).
    pub fn is_carry_closed(&self) -> bool {
        self.carry_closed
    }

    /// The number of active members.
    pub fn active_count(&self) -> u64 {
        self.active_count
    }

    /// The number of leaves (members ever, plus owners that never joined).
    pub fn leaf_count(&self) -> usize {
        self.members.len()
    }

    /// The commits seen so far, in chain order.
    pub fn commits(&self) -> &[Commit] {
        &self.commits
    }

    /// One leaf by address, in O(1).
    pub fn member(&self, address: &Address) -> Option<MemberView> {
        self.index.get(address).map(|&index| self.view(index))
    }

    /// Every leaf in leaf order.
    pub fn members(&self) -> impl ExactSizeIterator<Item = MemberView> + '_ {
        (0..self.members.len()).map(|index| self.view(index))
    }

    /// The book at [`block`](Self::block): every leaf's lifetime earnings, in O(n).
    pub fn book(&self) -> Book {
        let leaves = self.members.iter().map(|m| (m.address, self.earnings(m))).collect();
        Book::from_distinct(self.block, leaves)
    }

    fn view(&self, index: usize) -> MemberView {
        let member = &self.members[index];
        MemberView { index, address: member.address, earnings: self.earnings(member), active: member.active }
    }

    fn earnings(&self, member: &Member) -> U256 {
        if member.active { member.settled + (self.acc - member.acc_at_join) } else { member.settled }
    }

    /// The leaf of `address`, appended (with the given activity) if unknown; one hash lookup either way.
    fn leaf_for(&mut self, address: Address, active: bool) -> (usize, bool) {
        match self.index.entry(address) {
            Entry::Occupied(entry) => (*entry.get(), false),
            Entry::Vacant(entry) => {
                let index = self.members.len();
                entry.insert(index);
                self.members.push(Member { address, settled: U256::ZERO, acc_at_join: self.acc, active });
                self.active_count += u64::from(active);
                (index, true)
            }
        }
    }

    fn join(&mut self, address: Address) {
        let (index, appended) = self.leaf_for(address, true);
        let member = &mut self.members[index];
        if !appended && !member.active {
            member.active = true;
            member.acc_at_join = self.acc;
            self.active_count += 1;
        }
    }

    fn part(&mut self, address: Address) {
        let Some(&index) = self.index.get(&address) else {
            return;
        };
        let member = &mut self.members[index];
        if member.active {
            member.settled += self.acc - member.acc_at_join;
            member.active = false;
            self.active_count -= 1;
        }
    }

    /// Credits carried earnings out of the reserve, never beyond it: a predecessor that sent less than
    /// was declared leaves the rest uncredited rather than paid out of this union's revenue.
    fn carry_over(&mut self, member: Address, amount: U256) {
        if self.carry_closed {
            return;
        }
        let credit = amount.min(self.reserve);
        let (index, _) = self.leaf_for(member, false);
        self.members[index].settled += credit;
        self.reserve -= credit;
        self.totals.carried += credit;
    }

    /// Ends the carry: what the predecessor sent beyond the carried earnings is revenue now.
    fn close_carry(&mut self, key: EventKey) -> Result<(), EngineError> {
        if self.carry_closed {
            return Ok(());
        }
        self.carry_closed = true;
        let rest = take(&mut self.reserve);
        self.add_revenue(key, rest)
    }

    /// Refuses an amount that would make the sum of everything the union ever received overflow.
    fn check_total(&self, key: EventKey, amount: U256) -> Result<(), EngineError> {
        let received =
            self.totals.revenue.checked_add(self.totals.carried).and_then(|sum| sum.checked_add(self.reserve));
        received.and_then(|sum| sum.checked_add(amount)).map(drop).ok_or(EngineError::RevenueOverflow { key })
    }

    fn add_revenue(&mut self, key: EventKey, amount: U256) -> Result<(), EngineError> {
        // Every other sum is bounded by what the union received, so this is the only check needed.
        self.check_total(key, amount)?;
        self.totals.revenue += amount;
        if self.active_count == 0 {
            let credit = amount + self.carry;
            self.members[self.owner].settled += credit;
            self.totals.owner_without_members += credit;
            self.carry = U256::ZERO;
            return Ok(());
        }
        let fee = self.admin_fee.fee_on(amount);
        self.members[self.owner].settled += fee;
        self.totals.admin_fees += fee;
        let active = U256::from(self.active_count);
        let (share, carry) = (amount - fee + self.carry).div_rem(active);
        self.acc += share;
        self.carry = carry;
        self.totals.member_shares += share * active;
        Ok(())
    }
}

#[cfg(test)]
#[path = "state_tests.rs"]
mod tests;
