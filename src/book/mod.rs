//! The book at a block: every leaf's `(address, lifetime earnings)`, its Merkle tree, proofs and
//! `bookHash`.
//!
//! The tree follows the rules in [`tree`]: leaves in leaf order (never sorted), sorted-pair parents, an odd
//! last node promoted unchanged, proofs without the missing siblings. Building costs O(n) hashes spread
//! over both cores; a proof is then O(log n) lookups. Finding a leaf by address uses a copy of the
//! addresses sorted once (cheaper to build than a hash map of a million entries, whose inserts are each a
//! cache miss); a book made by the engine sorts it only when first asked.
//!
//! # Invariants
//! - A book has at least one leaf and at most one leaf per address.
//! - `book.root()` is the single node of the top level; with one leaf it is that leaf's hash.
//! - For every index `i`, `verify_proof(book.root(), leaf_hash(address_i, earnings_i, book.block()),
//!   &book.proof(i).unwrap())` holds, and fails for any other earnings or block.
//! - A proof has at most `ceil(log2(len))` siblings.
//! - `book_hash()` is `keccak256` of `to_canonical_json()`; two books are equal exactly when their
//!   block and leaves are.

mod canonical;
mod file;
mod tree;

use std::sync::OnceLock;

use alloy_primitives::{Address, B256, U256};

pub use file::{BookFileError, parse_book};
pub use tree::{hash_pair, leaf_hash, verify_proof};

/// Why leaves do not make a book.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BookError {
    /// No leaves.
    #[error("a book needs at least one leaf")]
    Empty,
    /// The same address twice.
    #[error("address {address} appears twice, at leaves {first} and {second}")]
    DuplicateAddress {
        /// The repeated address.
        address: Address,
        /// Index of its first leaf.
        first: usize,
        /// Index of the repeat.
        second: usize,
    },
}

/// The book at a block with its Merkle tree.
#[derive(Debug, Clone)]
pub struct Book {
    block: u64,
    leaves: Vec<(Address, U256)>,
    /// Level 0 holds the leaf hashes, the last level holds the root.
    levels: Vec<Vec<B256>>,
    /// `(address, leaf index)` sorted by address, for lookups by address.
    by_address: OnceLock<Vec<(Address, usize)>>,
}

impl PartialEq for Book {
    fn eq(&self, other: &Self) -> bool {
        self.block == other.block && self.leaves == other.leaves
    }
}

impl Eq for Book {}

impl Book {
    /// The book of `block` with `leaves` in leaf order. Empty books and repeated addresses are refused.
    pub fn new(block: u64, leaves: Vec<(Address, U256)>) -> Result<Book, BookError> {
        if leaves.is_empty() {
            return Err(BookError::Empty);
        }
        let (by_address, hashes) = join(|| sort_by_address(&leaves), || tree::hash_leaves(&leaves, block));
        check_distinct(&by_address)?;
        Ok(Book { block, leaves, levels: tree::build_levels(hashes), by_address: OnceLock::from(by_address) })
    }

    /// A book from leaves known to be non-empty and distinct (the engine's leaves).
    pub(crate) fn from_distinct(block: u64, leaves: Vec<(Address, U256)>) -> Book {
        debug_assert!(!leaves.is_empty(), "the engine always has the owner's leaf");
        let levels = tree::build_levels(tree::hash_leaves(&leaves, block));
        Book { block, leaves, levels, by_address: OnceLock::new() }
    }

    /// The block the earnings are as of (it salts every leaf).
    pub fn block(&self) -> u64 {
        self.block
    }

    /// The Merkle root.
    pub fn root(&self) -> B256 {
        self.levels[self.levels.len() - 1][0]
    }

    /// The number of leaves.
    pub fn len(&self) -> usize {
        self.leaves.len()
    }

    /// Always false: a book has at least one leaf.
    pub fn is_empty(&self) -> bool {
        self.leaves.is_empty()
    }

    /// Every `(address, earnings)` in leaf order.
    pub fn leaves(&self) -> &[(Address, U256)] {
        &self.leaves
    }

    /// The leaf index of `address`, in O(log n).
    pub fn index_of(&self, address: &Address) -> Option<usize> {
        let by_address = self.by_address.get_or_init(|| sort_by_address(&self.leaves));
        let found = by_address.binary_search_by(|(candidate, _)| candidate.cmp(address)).ok()?;
        Some(by_address[found].1)
    }

    /// The earnings of `address` in this book.
    pub fn earnings_of(&self, address: &Address) -> Option<U256> {
        self.index_of(address).map(|i| self.leaves[i].1)
    }

    /// The hash of leaf `index`.
    pub fn leaf_hash_at(&self, index: usize) -> Option<B256> {
        self.levels[0].get(index).copied()
    }

    /// The proof of leaf `index`: siblings from the leaf upward, without the promoted levels.
    pub fn proof(&self, index: usize) -> Option<Vec<B256>> {
        (index < self.leaves.len()).then(|| tree::proof(&self.levels, index))
    }

    /// The proof of the leaf of `address`.
    pub fn proof_of(&self, address: &Address) -> Option<Vec<B256>> {
        self.index_of(address).and_then(|index| self.proof(index))
    }
}

/// `(address, leaf index)` sorted by address, then index.
fn sort_by_address(leaves: &[(Address, U256)]) -> Vec<(Address, usize)> {
    let mut by_address: Vec<(Address, usize)> =
        leaves.iter().enumerate().map(|(i, &(address, _))| (address, i)).collect();
    #[cfg(not(target_arch = "wasm32"))]
    rayon::slice::ParallelSliceMut::par_sort_unstable(&mut by_address[..]);
    #[cfg(target_arch = "wasm32")]
    by_address.sort_unstable();
    by_address
}

/// Refuses a repeated address, naming the earliest repeat in leaf order and its first leaf.
fn check_distinct(by_address: &[(Address, usize)]) -> Result<(), BookError> {
    let mut repeat: Option<(usize, usize, Address)> = None;
    let mut first = 0;
    for (i, &(address, index)) in by_address.iter().enumerate() {
        if i == 0 || by_address[i - 1].0 != address {
            first = index;
        } else if repeat.is_none_or(|(second, _, _)| index < second) {
            repeat = Some((index, first, address));
        }
    }
    match repeat {
        Some((second, first, address)) => Err(BookError::DuplicateAddress { address, first, second }),
        None => Ok(()),
    }
}

/// Runs both closures, on both cores where there are threads.
fn join<A: Send, B: Send>(a: impl FnOnce() -> A + Send, b: impl FnOnce() -> B + Send) -> (A, B) {
    #[cfg(not(target_arch = "wasm32"))]
    {
        rayon::join(a, b)
    }
    #[cfg(target_arch = "wasm32")]
    {
        (a(), b())
    }
}

#[cfg(test)]
#[path = "book_tests.rs"]
mod tests;
