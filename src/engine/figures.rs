//! A member's figures: what it has earned, what is committed, frozen, withdrawable, and the proof to
//! withdraw with.
//!
//! Commits only give a block and a root; the earnings in them come from the books of those blocks
//! (rebuilt by replaying to the commit's block). [`CommittedBook`] pairs a commit with its book and checks
//! that they match, so figures are never computed from a book the chain did not commit.
//!
//! # Invariants
//! - `withdrawable == unlocked - withdrawn` (never negative) and `frozen == committed - unlocked` (never
//!   negative), where `unlocked` is the member's earnings in the withdrawable commit's book.
//! - The proof, when present, verifies against the withdrawable commit's root for the member's leaf.
//! - Parted members get the same figures as active ones: leaves are never removed.

use alloy_primitives::{Address, B256, U256};

use super::event::Commit;
use crate::book::Book;

/// Why a book does not belong to a commit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FiguresError {
    /// The book is for another block.
    #[error("the book is for block {book}, the commit for block {commit}")]
    BlockMismatch {
        /// The book's block.
        book: u64,
        /// The commit's book block.
        commit: u64,
    },
    /// The book's root differs from the committed one.
    #[error("the book of block {block} has root {computed}, but {committed} was committed")]
    RootMismatch {
        /// The block.
        block: u64,
        /// The book's root.
        computed: B256,
        /// The committed root.
        committed: B256,
    },
}

/// A commit with the book it committed; built only when the block and the root match.
#[derive(Debug, Clone, Copy)]
pub struct CommittedBook<'a> {
    commit: &'a Commit,
    book: &'a Book,
}

impl<'a> CommittedBook<'a> {
    /// Pairs `commit` with `book` after checking the block and the root.
    pub fn new(commit: &'a Commit, book: &'a Book) -> Result<Self, FiguresError> {
        if book.block() != commit.book_block {
            return Err(FiguresError::BlockMismatch { book: book.block(), commit: commit.book_block });
        }
        if book.root() != commit.root {
            return Err(FiguresError::RootMismatch {
                block: book.block(),
                computed: book.root(),
                committed: commit.root,
            });
        }
        Ok(CommittedBook { commit, book })
    }

    /// The commit.
    pub fn commit(&self) -> &'a Commit {
        self.commit
    }

    /// The committed book.
    pub fn book(&self) -> &'a Book {
        self.book
    }
}

/// The newest commit (highest book block; the later one on a tie).
pub fn latest_commit(commits: &[Commit]) -> Option<&Commit> {
    commits.iter().max_by_key(|commit| (commit.book_block, commit.key))
}

/// The newest commit whose freeze period has passed at `now` (seconds): the one members withdraw with.
pub fn unlocked_commit(commits: &[Commit], now: u64, freeze_period: u64) -> Option<&Commit> {
    commits
        .iter()
        .filter(|commit| commit.is_unlocked(now, freeze_period))
        .max_by_key(|commit| (commit.book_block, commit.key))
}

/// What a member passes to `withdrawAll(blockNumber, totalEarnings, proof)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WithdrawProof {
    /// The committed book's block.
    pub block: u64,
    /// The member's lifetime earnings in that book.
    pub earnings: U256,
    /// The Merkle proof of the member's leaf.
    pub proof: Vec<B256>,
}

/// A member's figures, in wei.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberFigures {
    /// Lifetime earnings now.
    pub earnings: U256,
    /// Lifetime earnings in the latest commit.
    pub committed: U256,
    /// Earnings in the withdrawable commit minus what was withdrawn on chain.
    pub withdrawable: U256,
    /// Committed earnings still in their freeze period.
    pub frozen: U256,
    /// Withdrawn on chain so far.
    pub withdrawn: U256,
    /// The proof for the withdrawable commit, if the member has a leaf in it.
    pub proof: Option<WithdrawProof>,
}

/// The figures of `address`, given its earnings now, the latest and the withdrawable committed books,
/// and what it has withdrawn on chain.
pub fn member_figures(
    address: &Address,
    earnings: U256,
    latest: Option<CommittedBook<'_>>,
    unlocked: Option<CommittedBook<'_>>,
    withdrawn: U256,
) -> MemberFigures {
    let in_book =
        |committed: Option<CommittedBook<'_>>| committed.and_then(|c| c.book.earnings_of(address)).unwrap_or_default();
    let committed = in_book(latest);
    let unlocked_earnings = in_book(unlocked);
    let proof = unlocked.and_then(|c| {
        let proof = c.book.proof_of(address)?;
        Some(WithdrawProof { block: c.commit.book_block, earnings: unlocked_earnings, proof })
    });
    MemberFigures {
        earnings,
        committed,
        withdrawable: unlocked_earnings.saturating_sub(withdrawn),
        frozen: committed.saturating_sub(unlocked_earnings),
        withdrawn,
        proof,
    }
}

#[cfg(test)]
mod tests {
    use alloy_primitives::address;

    use super::*;
    use crate::{
        book::{leaf_hash, verify_proof},
        engine::EventKey,
    };

    const ALICE: Address = address!("0x00000000000000000000000000000000000000a1");
    const BOB: Address = address!("0x00000000000000000000000000000000000000b0");

    fn commit_of(book: &Book, timestamp: u64) -> Commit {
        Commit {
            key: EventKey::new(book.block() + 1, 0, 0),
            book_block: book.block(),
            root: book.root(),
            book_hash: book.book_hash(),
            timestamp,
        }
    }

    #[test]
    fn figures_split_committed_earnings_into_frozen_and_withdrawable() {
        let old = Book::new(10, vec![(ALICE, U256::from(100)), (BOB, U256::from(5))]).unwrap();
        let new = Book::new(20, vec![(ALICE, U256::from(250)), (BOB, U256::from(5))]).unwrap();
        let commits = [commit_of(&old, 1000), commit_of(&new, 2000)];
        let (freeze, now) = (500, 1600);
        let unlocked = unlocked_commit(&commits, now, freeze).unwrap();
        assert_eq!(unlocked.book_block, 10);
        let latest = latest_commit(&commits).unwrap();
        let figures = member_figures(
            &ALICE,
            U256::from(300),
            Some(CommittedBook::new(latest, &new).unwrap()),
            Some(CommittedBook::new(unlocked, &old).unwrap()),
            U256::from(40),
        );
        assert_eq!(
            (figures.earnings, figures.committed, figures.withdrawable, figures.frozen, figures.withdrawn),
            (U256::from(300), U256::from(250), U256::from(60), U256::from(150), U256::from(40))
        );
        let proof = figures.proof.unwrap();
        assert_eq!((proof.block, proof.earnings), (10, U256::from(100)));
        assert!(verify_proof(old.root(), leaf_hash(ALICE, proof.earnings, 10), &proof.proof));
    }

    #[test]
    fn before_any_commit_unlocks_nothing_is_withdrawable() {
        let book = Book::new(10, vec![(ALICE, U256::from(100))]).unwrap();
        let commits = [commit_of(&book, 1000)];
        assert_eq!(unlocked_commit(&commits, 1000 + 60, 60), None);
        let latest = CommittedBook::new(&commits[0], &book).unwrap();
        let figures = member_figures(&ALICE, U256::from(100), Some(latest), None, U256::ZERO);
        assert_eq!(
            (figures.committed, figures.frozen, figures.withdrawable, figures.proof),
            (U256::from(100), U256::from(100), U256::ZERO, None)
        );
    }

    #[test]
    fn a_book_that_does_not_match_its_commit_is_refused() {
        let book = Book::new(10, vec![(ALICE, U256::from(100))]).unwrap();
        let other = Book::new(10, vec![(ALICE, U256::from(101))]).unwrap();
        let commit = commit_of(&book, 0);
        assert!(matches!(CommittedBook::new(&commit, &other), Err(FiguresError::RootMismatch { block: 10, .. })));
        let later = Book::new(11, vec![(ALICE, U256::from(100))]).unwrap();
        assert_eq!(
            CommittedBook::new(&commit, &later).unwrap_err(),
            FiguresError::BlockMismatch { book: 11, commit: 10 }
        );
    }
}
