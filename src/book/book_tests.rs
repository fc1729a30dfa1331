use alloy_primitives::{address, b256, keccak256};
use proptest::prelude::*;

use super::*;

/// Five leaves whose hashes, roots, proofs and book hash were computed independently (js-sha3 and
/// Monoplasma's original heap layout, with a power-of-two array and zero siblings skipped).
fn golden_leaves() -> Vec<(Address, U256)> {
    vec![
        (address!("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed"), U256::ZERO),
        (address!("0xfb6916095ca1df60bb79ce92ce3ea74c37c5d359"), U256::from(1000)),
        (address!("0xdbf03b407c01e7cd3cbea99509d93f8dddc8c6fb"), "123456789012345678901234567890".parse().unwrap()),
        (address!("0xd1220a0cf47c7b9be7a2e6ba89f429762e7b9adb"), U256::MAX),
        (address!("0x0000000000000000000000000000000000000001"), U256::from(7)),
    ]
}

const GOLDEN_BLOCK: u64 = 12_345_678;

#[test]
fn roots_and_proofs_match_independently_computed_vectors() {
    let leaves = golden_leaves();
    let leaf0 = b256!("0xcdaf33d1041b07078c85afe4c66fb645ad9b2fa8d2d6d1c0543c1fc382ffd335");
    let one = Book::new(GOLDEN_BLOCK, leaves[..1].to_vec()).unwrap();
    assert_eq!((one.root(), one.proof(0)), (leaf0, Some(vec![])));
    let two = Book::new(GOLDEN_BLOCK, leaves[..2].to_vec()).unwrap();
    assert_eq!(two.root(), b256!("0x044de6c35a267bca078e72302c93013fb4bac3af23364e3c6ec40fcda5ff9a40"));
    let three = Book::new(GOLDEN_BLOCK, leaves[..3].to_vec()).unwrap();
    assert_eq!(three.root(), b256!("0xb8b3003d2bb6ea58599a831a277e73f727a445c62f626edaa2160c5645dcbac0"));
    assert_eq!(three.proof(2), Some(vec![two.root()]));
    let five = Book::new(GOLDEN_BLOCK, leaves).unwrap();
    assert_eq!(five.root(), b256!("0x3915ac337f42fe0517bf688ad8fa5ca4eb6281defc7380bf443bced18ef75f0e"));
    assert_eq!(five.proof(4), Some(vec![b256!("0xe16e518ea21994d85034083bcbf9c6006b5880d5b033cbda072ddd16e97f02c7")]));
    assert_eq!(
        five.proof(2),
        Some(vec![
            b256!("0x9029ceebd2ddea0c91fd7c6c32a02c3f8446f1e2260b7db0737f125006dded4a"),
            b256!("0x044de6c35a267bca078e72302c93013fb4bac3af23364e3c6ec40fcda5ff9a40"),
            b256!("0xd76c03bcbb3f95aa01fab88b3cdcfa96ef21e45c2d9e24e6c1d1c525839d0647"),
        ])
    );
    assert_eq!(five.book_hash(), b256!("0x21d72440c4176d1d7dd24edc4bf81b30e5a3010aa5a61adeb71f18784a98df8f"));
}

#[test]
fn an_empty_book_is_an_error() {
    assert_eq!(Book::new(1, vec![]), Err(BookError::Empty));
}

#[test]
fn a_repeated_address_is_an_error_naming_both_leaves() {
    let mut leaves = golden_leaves();
    leaves.push((leaves[1].0, U256::from(1)));
    assert_eq!(
        Book::new(1, leaves.clone()),
        Err(BookError::DuplicateAddress { address: leaves[1].0, first: 1, second: 5 })
    );
}

#[test]
fn proofs_by_index_and_by_address_agree_and_unknown_ones_are_none() {
    let book = Book::new(GOLDEN_BLOCK, golden_leaves()).unwrap();
    for (i, (address, earnings)) in golden_leaves().into_iter().enumerate() {
        assert_eq!(book.proof_of(&address), book.proof(i));
        assert_eq!(book.earnings_of(&address), Some(earnings));
        assert_eq!(book.leaf_hash_at(i), Some(leaf_hash(address, earnings, GOLDEN_BLOCK)));
    }
    assert_eq!(book.proof(5), None);
    assert_eq!(book.proof_of(&Address::ZERO), None);
}

/// The original Monoplasma layout: a 1-indexed heap with a power-of-two leaf row, where a missing right
/// node promotes the left one and proofs skip the missing siblings. Independent of `tree`'s levels.
fn heap_root_and_proofs(hashes: &[B256]) -> (B256, Vec<Vec<B256>>) {
    let n = hashes.len();
    let branch = (n + n % 2).next_power_of_two();
    let mut heap: Vec<Option<B256>> = vec![None; 2 * branch];
    for (i, hash) in hashes.iter().enumerate() {
        heap[branch + i] = Some(*hash);
    }
    for i in (1..branch).rev() {
        heap[i] = match (heap[2 * i], heap[2 * i + 1]) {
            (Some(left), Some(right)) => Some(hash_pair(left, right)),
            (left, _) => left,
        };
    }
    let proof = |index: usize| {
        let mut i = branch + index;
        let mut proof = vec![];
        while i > 1 {
            proof.extend(heap[i ^ 1]);
            i /= 2;
        }
        proof
    };
    let root = if n == 1 { hashes[0] } else { heap[1].unwrap() };
    (root, (0..n).map(proof).collect())
}

fn leaves(count: usize, seed: u64) -> Vec<(Address, U256)> {
    (0..count as u64)
        .map(|i| {
            let word = keccak256([seed.to_be_bytes(), i.to_be_bytes()].concat());
            (Address::from_word(word), U256::from_be_bytes(word.0) >> (i % 256))
        })
        .collect()
}

proptest! {
    // Keccak is slow in debug builds: few cases, small books; the benchmarks cover large ones.
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn the_tree_equals_the_original_heap_layout(count in 1usize..300, seed in any::<u64>(), block in any::<u64>()) {
        let book = Book::new(block, leaves(count, seed)).unwrap();
        let hashes: Vec<B256> = (0..count).map(|i| book.leaf_hash_at(i).unwrap()).collect();
        let (root, proofs) = heap_root_and_proofs(&hashes);
        prop_assert_eq!(book.root(), root);
        for (i, proof) in proofs.into_iter().enumerate() {
            prop_assert_eq!(book.proof(i).unwrap(), proof);
        }
    }

    #[test]
    fn every_proof_verifies_is_short_and_fails_for_other_earnings_or_blocks(count in 1usize..130, seed in any::<u64>(), block in 0u64..u64::MAX) {
        let book = Book::new(block, leaves(count, seed)).unwrap();
        let depth = usize::BITS - (count - 1).leading_zeros();
        for (i, &(address, earnings)) in book.leaves().iter().enumerate() {
            let proof = book.proof(i).unwrap();
            prop_assert!(proof.len() <= depth as usize);
            prop_assert!(verify_proof(book.root(), leaf_hash(address, earnings, block), &proof));
            prop_assert!(!verify_proof(book.root(), leaf_hash(address, earnings ^ U256::from(1), block), &proof));
            prop_assert!(!verify_proof(book.root(), leaf_hash(address, earnings, block + 1), &proof));
        }
    }

    #[test]
    fn the_book_hash_is_the_keccak_of_the_canonical_json_which_parses_back(count in 1usize..50, seed in any::<u64>(), block in any::<u64>()) {
        let book = Book::new(block, leaves(count, seed)).unwrap();
        let json = book.to_canonical_json();
        prop_assert_eq!(book.book_hash(), keccak256(json.as_bytes()));
        prop_assert_eq!(parse_book(&json, None).unwrap(), book);
    }
}

#[test]
fn the_earliest_repeat_in_leaf_order_is_named() {
    let [a, b] = [Address::repeat_byte(0xbb), Address::repeat_byte(0x11)];
    let leaves = vec![(a, U256::ZERO), (b, U256::ZERO), (a, U256::ZERO), (b, U256::ZERO), (a, U256::ZERO)];
    assert_eq!(Book::new(1, leaves), Err(BookError::DuplicateAddress { address: a, first: 0, second: 2 }));
}

#[test]
fn an_engine_book_finds_leaves_by_address_without_an_index_built_up_front() {
    let leaves = golden_leaves();
    let book = Book::from_distinct(GOLDEN_BLOCK, leaves.clone());
    assert_eq!(book, Book::new(GOLDEN_BLOCK, leaves.clone()).unwrap());
    assert_eq!(book.index_of(&leaves[3].0), Some(3));
    assert_eq!(book.index_of(&Address::ZERO), None);
}
