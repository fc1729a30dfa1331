//! The events a Data Union's state is computed from, and their chain order.
//!
//! # Invariants
//! - Events are ordered by their [`EventKey`] `(block, transaction_index, log_index)`, compared in that
//!   order; two events never share a key.

use std::fmt;

use alloy_primitives::{Address, B256, U256};

use super::fee::AdminFee;

/// Where a log sits in the chain: the order in which events apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct EventKey {
    /// Block number.
    pub block: u64,
    /// Position of the transaction in its block.
    pub transaction_index: u64,
    /// Position of the log in its block.
    pub log_index: u64,
}

impl EventKey {
    /// The key of the log at `(block, transaction_index, log_index)`.
    pub const fn new(block: u64, transaction_index: u64, log_index: u64) -> Self {
        EventKey { block, transaction_index, log_index }
    }
}

impl fmt::Display for EventKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "({}, {}, {})", self.block, self.transaction_index, self.log_index)
    }
}

/// One input of the engine: what happened, and where in the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// The log's position, which orders events.
    pub key: EventKey,
    /// What happened.
    pub kind: EventKind,
}

/// What happened in a Data Union.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventKind {
    /// The union was deployed (the factory's `DataUnionCreated`). Always the first event.
    Created {
        /// The owner, who receives the admin fee; it is leaf 0 of every book.
        owner: Address,
        /// The admin fee at creation.
        admin_fee: AdminFee,
    },
    /// `MemberJoined(member)`.
    MemberJoined {
        /// The joining address.
        member: Address,
    },
    /// `MemberParted(member)`.
    MemberParted {
        /// The leaving address.
        member: Address,
    },
    /// `AdminFeeChanged(adminFee)`: applies to later revenue only.
    AdminFeeChanged {
        /// The new fee.
        admin_fee: AdminFee,
    },
    /// Ownership moved (the second step of the two-step transfer): later fees go to the new owner.
    OwnerChanged {
        /// The new owner.
        owner: Address,
    },
    /// A DATA `Transfer` whose `to` is the union.
    Revenue {
        /// The transferred amount in wei.
        amount: U256,
    },
    /// `NewCommit(blockNumber, root, bookHash)`: the operator committed the book of `book_block`.
    Committed {
        /// The block whose book was committed.
        book_block: u64,
        /// The committed Merkle root.
        root: B256,
        /// The committed hash of the book's canonical JSON.
        book_hash: B256,
        /// The timestamp (seconds) of the block holding the commit: the freeze period starts here.
        timestamp: u64,
    },
    /// `CommitVetoed(blockNumber, validator)`: a validator stopped the frozen commit of `book_block`,
    /// which can no longer be proven; the operator may commit that block again.
    CommitVetoed {
        /// The block whose commit was vetoed.
        book_block: u64,
    },
    /// A DATA `Transfer` into the union from the union it took over from (`MigrationStarted`): it
    /// backs the carried earnings while the carry is open, and is revenue once it is closed.
    FromPredecessor {
        /// The transferred amount in wei.
        amount: U256,
    },
    /// `EarningsCarried(member, amount)`: earnings the member had in the predecessor's book and had
    /// not proven there. They are credited out of what the predecessor sent, never beyond it.
    Carried {
        /// The member (a new leaf if unknown, inactive until it joins).
        member: Address,
        /// The carried earnings in wei.
        amount: U256,
    },
    /// `CarryClosed`: no more carried earnings; what the predecessor sent beyond them becomes revenue.
    CarryClosed,
}

impl EventKind {
    /// The event's name in the events file (`"created"`, `"memberJoined"`, ...).
    pub fn name(&self) -> &'static str {
        match self {
            EventKind::Created { .. } => "created",
            EventKind::MemberJoined { .. } => "memberJoined",
            EventKind::MemberParted { .. } => "memberParted",
            EventKind::AdminFeeChanged { .. } => "adminFeeChanged",
            EventKind::OwnerChanged { .. } => "ownerChanged",
            EventKind::Revenue { .. } => "revenue",
            EventKind::Committed { .. } => "commit",
            EventKind::CommitVetoed { .. } => "commitVetoed",
            EventKind::FromPredecessor { .. } => "fromPredecessor",
            EventKind::Carried { .. } => "carried",
            EventKind::CarryClosed => "carryClosed",
        }
    }
}

/// A commit recorded by the state: the committed book's block, root and hash, and when it was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Commit {
    /// Where the `NewCommit` log sits.
    pub key: EventKey,
    /// The block whose book was committed.
    pub book_block: u64,
    /// The committed Merkle root.
    pub root: B256,
    /// The committed book hash.
    pub book_hash: B256,
    /// The timestamp (seconds) of the block holding the commit.
    pub timestamp: u64,
}

impl Commit {
    /// Whether the freeze period has passed at `now` (seconds): `now > timestamp + freeze_period`, as the
    /// contract checks it.
    pub fn is_unlocked(&self, now: u64, freeze_period: u64) -> bool {
        u128::from(now) > u128::from(self.timestamp) + u128::from(freeze_period)
    }

    /// The first chain time (seconds) it is unlocked at: the contract's `provableAt`,
    /// `timestamp + freeze_period + 1`. `u64::MAX` stands for never (no chain time is past it).
    pub fn provable_at(&self, freeze_period: u64) -> u64 {
        self.timestamp.saturating_add(freeze_period).saturating_add(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_order_by_block_then_transaction_then_log() {
        let mut keys =
            vec![EventKey::new(2, 0, 0), EventKey::new(1, 3, 9), EventKey::new(1, 3, 2), EventKey::new(1, 0, 7)];
        keys.sort();
        assert_eq!(
            keys,
            vec![EventKey::new(1, 0, 7), EventKey::new(1, 3, 2), EventKey::new(1, 3, 9), EventKey::new(2, 0, 0)]
        );
    }

    /// A commit of block 4's book, made at second 1000.
    fn commit() -> Commit {
        Commit { key: EventKey::new(5, 0, 0), book_block: 4, root: B256::ZERO, book_hash: B256::ZERO, timestamp: 1000 }
    }

    #[test]
    fn a_commit_unlocks_strictly_after_its_freeze_period() {
        let commit = commit();
        assert!(!commit.is_unlocked(1060, 60));
        assert!(commit.is_unlocked(1061, 60));
        assert!(!commit.is_unlocked(u64::MAX, u64::MAX));
    }

    #[test]
    fn a_commit_is_provable_from_the_first_second_it_unlocks_at() {
        let commit = commit();
        for freeze in [0, 60, 86_400] {
            let at = commit.provable_at(freeze);
            assert!(!commit.is_unlocked(at - 1, freeze) && commit.is_unlocked(at, freeze), "freeze {freeze}");
        }
        assert_eq!(commit.provable_at(u64::MAX), u64::MAX);
    }
}
