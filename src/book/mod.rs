//! The book at a block: every leaf's `(address, lifetime earnings)`, its Merkle tree, proofs and
//! `bookHash`.
//!
//! The tree follows the rules in [`tree`]: leaves in leaf order (never sorted), sorted-pair parents, an odd
//! last node promoted unchanged, proofs without the missing siblings. Building costs O(n) hashes spread
//! over both cores; a proof is then O(log n) lookups.
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

use alloy_primitives::{Address, B256, U256, map::AddressMap};

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
    index: AddressMap<usize>,
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
        let (index, hashes) = join(
            || index_leaves(&leaves),
            || tree::hash_leaves(&leaves, block),
        );
        let index = index?;
        Ok(Book {
            block,
            leaves,
            levels: tree::build_levels(hashes),
            index,
        })
    }

    /// A book from leaves known to be non-empty and distinct (the engine's leaves).
    pub(crate) fn from_distinct(block: u64, leaves: Vec<(Address, U256)>) -> Book {
        debug_assert!(!leaves.is_empty(), "the engine always has the owner's leaf");
        let (index, hashes) = join(
            || {
                leaves
                    .iter()
                    .enumerate()
                    .map(|(i, (address, _))| (*address, i))
                    .collect()
            },
            || tree::hash_leaves(&leaves, block),
        );
        Book {
            block,
            leaves,
            levels: tree::build_levels(hashes),
            index,
        }
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

    /// The leaf index of `address`, in O(1).
    pub fn index_of(&self, address: &Address) -> Option<usize> {
        self.index.get(address).copied()
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

fn index_leaves(leaves: &[(Address, U256)]) -> Result<AddressMap<usize>, BookError> {
    let mut index = AddressMap::with_capacity_and_hasher(leaves.len(), Default::default());
    for (second, &(address, _)) in leaves.iter().enumerate() {
        if let Some(first) = index.insert(address, second) {
            return Err(BookError::DuplicateAddress {
                address,
                first,
                second,
            });
        }
    }
    Ok(index)
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
