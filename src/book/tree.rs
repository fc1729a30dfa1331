//! The Merkle rules, shared by the book and by anyone checking a proof: OpenZeppelin `MerkleProof`
//! compatible sorted pairs, Monoplasma's salted leaf, odd nodes promoted unchanged.
//!
//! Hashing uses both cores through rayon on native targets and runs sequentially on wasm32.
//!
//! # Invariants
//! - `leaf_hash` is `keccak256(abi.encodePacked(address, uint256 earnings, uint256 block))`.
//! - `hash_pair(a, b) == hash_pair(b, a) == keccak256(min(a, b) ‖ max(a, b))`.
//! - Each level has `ceil(len / 2)` nodes above it; the last node of an odd level is copied up unchanged.
//! - For every leaf, folding its proof with `hash_pair` gives the root.

use alloy_primitives::{Address, B256, U256, keccak256};

/// Levels below this many nodes are hashed on one thread: splitting them costs more than it saves.
#[cfg(not(target_arch = "wasm32"))]
const PARALLEL_MIN: usize = 1 << 12;

/// The leaf of `address` with lifetime `earnings` in the book of `block`:
/// `keccak256(abi.encodePacked(address, uint256 earnings, uint256 block))` over 20 + 32 + 32 bytes.
pub fn leaf_hash(address: Address, earnings: U256, block: u64) -> B256 {
    let mut packed = [0u8; 84];
    packed[..20].copy_from_slice(address.as_slice());
    packed[20..52].copy_from_slice(&earnings.to_be_bytes::<32>());
    packed[76..].copy_from_slice(&block.to_be_bytes());
    keccak256(packed)
}

/// The parent of two nodes: `keccak256(min(a, b) ‖ max(a, b))`, comparing them as big-endian integers.
pub fn hash_pair(a: B256, b: B256) -> B256 {
    let (low, high) = if a <= b { (a, b) } else { (b, a) };
    let mut packed = [0u8; 64];
    packed[..32].copy_from_slice(low.as_slice());
    packed[32..].copy_from_slice(high.as_slice());
    keccak256(packed)
}

/// Whether `proof` (siblings from the leaf upward) leads from `leaf` to `root`, as OpenZeppelin's
/// `MerkleProof.verify` decides it.
pub fn verify_proof(root: B256, leaf: B256, proof: &[B256]) -> bool {
    proof.iter().fold(leaf, |node, &sibling| hash_pair(node, sibling)) == root
}

/// Leaf hashes in leaf order.
pub(super) fn hash_leaves(leaves: &[(Address, U256)], block: u64) -> Vec<B256> {
    #[cfg(not(target_arch = "wasm32"))]
    {
        use rayon::prelude::*;
        leaves
            .par_iter()
            .with_min_len(PARALLEL_MIN)
            .map(|&(address, earnings)| leaf_hash(address, earnings, block))
            .collect()
    }
    #[cfg(target_arch = "wasm32")]
    {
        leaves.iter().map(|&(address, earnings)| leaf_hash(address, earnings, block)).collect()
    }
}

/// Every level from the leaves (first) to the root (last, one node). `leaves` must not be empty.
pub(super) fn build_levels(leaves: Vec<B256>) -> Vec<Vec<B256>> {
    let mut levels = vec![leaves];
    while let Some(level) = levels.last().filter(|level| level.len() > 1) {
        let parents = parent_level(level);
        levels.push(parents);
    }
    levels
}

fn parent(pair: &[B256]) -> B256 {
    match *pair {
        [a, b] => hash_pair(a, b),
        [promoted] => promoted,
        _ => unreachable!("chunks of two"),
    }
}

fn parent_level(level: &[B256]) -> Vec<B256> {
    #[cfg(not(target_arch = "wasm32"))]
    if level.len() >= PARALLEL_MIN {
        use rayon::prelude::*;
        return level.par_chunks(2).with_min_len(PARALLEL_MIN / 2).map(parent).collect();
    }
    level.chunks(2).map(parent).collect()
}

/// The siblings of leaf `index` from the bottom up, skipping the levels where the node was promoted.
pub(super) fn proof(levels: &[Vec<B256>], mut index: usize) -> Vec<B256> {
    let mut proof = Vec::with_capacity(levels.len().saturating_sub(1));
    for level in &levels[..levels.len() - 1] {
        if let Some(&sibling) = level.get(index ^ 1) {
            proof.push(sibling);
        }
        index /= 2;
    }
    proof
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::{address, b256};

    #[test]
    fn a_leaf_hashes_the_84_packed_bytes() {
        let owner = address!("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed");
        let mut packed = Vec::new();
        packed.extend_from_slice(owner.as_slice());
        packed.extend_from_slice(&U256::from(1000).to_be_bytes::<32>());
        packed.extend_from_slice(&U256::from(7).to_be_bytes::<32>());
        assert_eq!(packed.len(), 84);
        assert_eq!(leaf_hash(owner, U256::from(1000), 7), keccak256(&packed));
    }

    #[test]
    fn a_pair_hashes_the_smaller_node_first() {
        let small = b256!("0x0000000000000000000000000000000000000000000000000000000000000001");
        let large = b256!("0x0100000000000000000000000000000000000000000000000000000000000000");
        let expected = keccak256([small.as_slice(), large.as_slice()].concat());
        assert_eq!(hash_pair(small, large), expected);
        assert_eq!(hash_pair(large, small), expected);
    }

    #[test]
    fn an_odd_last_node_is_promoted_unchanged_and_left_out_of_proofs() {
        let nodes: Vec<B256> = (1u8..=3).map(B256::repeat_byte).collect();
        let levels = build_levels(nodes.clone());
        assert_eq!(levels[1], vec![hash_pair(nodes[0], nodes[1]), nodes[2]]);
        assert_eq!(proof(&levels, 2), vec![hash_pair(nodes[0], nodes[1])]);
        assert_eq!(proof(&levels, 0), vec![nodes[1], nodes[2]]);
    }

    #[test]
    fn a_single_leaf_is_its_own_root_with_an_empty_proof() {
        let levels = build_levels(vec![B256::repeat_byte(9)]);
        assert_eq!(levels.len(), 1);
        assert!(proof(&levels, 0).is_empty());
        assert!(verify_proof(B256::repeat_byte(9), B256::repeat_byte(9), &[]));
    }

    #[test]
    fn parallel_and_sequential_levels_agree_on_a_level_large_enough_to_split() {
        let nodes: Vec<B256> = (0..PARALLEL_MIN as u64 * 2 + 1).map(|i| keccak256(i.to_be_bytes())).collect();
        let sequential: Vec<B256> = nodes.chunks(2).map(parent).collect();
        assert_eq!(parent_level(&nodes), sequential);
    }
}
