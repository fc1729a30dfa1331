//! The engine's Merkle book and the DataUnion contract agree: every proof the core produces verifies on
//! chain, and members withdraw exactly their earnings.

use alloy::primitives::{Address, U256};
use coop::{
    book::{self, Book},
    contracts::DataUnion::{self, DataUnionErrors},
};

use crate::helpers::*;

/// Withdraw for every leaf up to this size; above it, for a spread sample (proofs are still all checked).
const WITHDRAW_ALL_UP_TO: usize = 100;

/// Random leaves; leaf 0 has no earnings when there are several (the owner's leaf before any fee), and
/// `MEMBER`, whose key we hold, sits in the middle so it can withdraw for itself.
fn random_leaves(chain: &Chain, n: usize, rng: &mut Rng) -> Vec<(Address, U256)> {
    let mut leaves: Vec<(Address, U256)> = (0..n).map(|_| (rng.address(), rng.amount())).collect();
    if n > 1 {
        leaves[0].1 = U256::ZERO;
    }
    leaves[n / 2].0 = chain.address(MEMBER);
    leaves
}

async fn agree_on_a_book_of(n: usize, seed: u64) {
    let chain = Chain::start().await;
    let du = chain.create_data_union(U256::ZERO, 0).await;
    let mut rng = Rng::new(seed);
    let leaves = random_leaves(&chain, n, &mut rng);
    let total = leaves.iter().map(|(_, earnings)| *earnings).fold(U256::ZERO, |a, b| a + b);
    chain.mint_data(du, total).await;
    let book = Book::new(chain.block_number().await, leaves.clone()).unwrap();
    let block = U256::from(book.block());
    let hash = chain.block_hash(book.block()).await;
    let receipt = send(chain.du(du, OPERATOR).commit(block, hash, book.root(), book.book_hash())).await;
    report_gas(&format!("DataUnion.commit ({n} leaves)"), &receipt);
    chain.advance_time(1).await;
    let viewer = chain.du(du, OTHER);

    for (index, &(address, earnings)) in leaves.iter().enumerate() {
        let proof = book.proof(index).unwrap();
        assert!(
            viewer.proofIsValid(block, address, earnings, proof).call().await.unwrap(),
            "leaf {index} of {n} does not verify"
        );
    }
    let (address, earnings) = leaves[n / 2];
    let on_chain = viewer.leafHash(address, earnings, block).call().await.unwrap();
    assert_eq!(on_chain, book::leaf_hash(address, earnings, book.block()));

    // The member withdraws for itself ...
    let member = chain.address(MEMBER);
    let before = chain.data_balance(member).await;
    let proof = book.proof_of(&member).unwrap();
    let receipt = send(chain.du(du, MEMBER).withdrawAll(block, earnings, proof)).await;
    report_gas(&format!("DataUnion.withdrawAll ({n} leaves)"), &receipt);
    assert_eq!(event::<DataUnion::Withdrawn>(&receipt).amount, earnings);
    assert_eq!(chain.data_balance(member).await, before + earnings);

    // ... and everyone else is paid out exactly what the book says.
    let step = if n <= WITHDRAW_ALL_UP_TO { 1 } else { n / 50 };
    let mut paid = earnings;
    let mut others: Vec<usize> = (0..n).step_by(step).chain([n - 1]).filter(|&i| i != n / 2).collect();
    others.dedup();
    for index in others {
        let (address, earnings) = leaves[index];
        let proof = book.proof(index).unwrap();
        let call = viewer.withdrawAllFor(address, block, earnings, proof);
        if earnings.is_zero() {
            assert_eq!(
                revert::<DataUnionErrors, _, _>(call).await,
                DataUnionErrors::ZeroWithdraw(DataUnion::ZeroWithdraw {})
            );
            continue;
        }
        send(call).await;
        assert_eq!(chain.data_balance(address).await, earnings, "leaf {index} of {n}");
        paid += earnings;
    }
    assert_eq!(chain.data_balance(du).await, total - paid);
    assert_eq!(viewer.totalWithdrawn().call().await.unwrap(), paid);
}

#[tokio::test]
async fn a_book_of_one_leaf_agrees_with_the_contract() {
    agree_on_a_book_of(1, 1).await;
}

#[tokio::test]
async fn a_book_of_two_leaves_agrees_with_the_contract() {
    agree_on_a_book_of(2, 2).await;
}

#[tokio::test]
async fn a_book_of_three_leaves_agrees_with_the_contract() {
    agree_on_a_book_of(3, 3).await;
}

#[tokio::test]
async fn a_book_of_five_leaves_agrees_with_the_contract() {
    agree_on_a_book_of(5, 5).await;
}

#[tokio::test]
async fn a_book_of_a_hundred_leaves_agrees_with_the_contract() {
    agree_on_a_book_of(100, 100).await;
}

#[tokio::test]
async fn a_book_of_a_thousand_leaves_agrees_with_the_contract() {
    agree_on_a_book_of(1000, 1000).await;
}
