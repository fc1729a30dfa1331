//! The trust gaps an audit found in the first version, each as the attack it allowed. Every test here
//! failed on the first version's contracts (the owner took over commits at once, the fee jumped at
//! once, a stranger's proof made a member's withdrawal revert, a freeze period overflowed, the union
//! could be its own member, a raised price or repointed beneficiary was paid) and passes now.

use alloy::primitives::{Address, B256, U256};
use coop::{
    book::Book,
    contracts::{
        DataUnion::{self, DataUnionErrors as UnionError},
        Marketplace::{self, MarketplaceErrors as MarketError},
    },
};

use crate::helpers::*;

const HOUR: u64 = 3600;

/// Commits the book of the latest block with these leaves, as `account`.
async fn commit_as(chain: &Chain, du: Address, account: usize, leaves: Vec<(Address, U256)>) -> Book {
    let book = Book::new(chain.block_number().await, leaves).unwrap();
    let hash = chain.block_hash(book.block()).await;
    send(chain.du(du, account).commit(U256::from(book.block()), hash, book.root(), book.book_hash())).await;
    book
}

#[tokio::test]
async fn an_owner_cannot_make_itself_operator_and_commit_at_once() {
    let chain = Chain::start().await;
    let du = chain.create_data_union(U256::ZERO, HOUR).await;
    let owner = chain.du(du, OWNER);

    send(owner.setOperator(chain.address(OWNER))).await;

    assert_eq!(owner.operator().call().await.unwrap(), chain.address(OPERATOR), "the change waits");
    chain.mint_data(du, tokens(100)).await;
    let theft = Book::new(chain.block_number().await, vec![(chain.address(OWNER), tokens(100))]).unwrap();
    let hash = chain.block_hash(theft.block()).await;
    let error =
        revert::<UnionError, _, _>(owner.commit(U256::from(theft.block()), hash, theft.root(), theft.book_hash()))
            .await;
    assert_eq!(error, UnionError::NotOperator(DataUnion::NotOperator { caller: chain.address(OWNER) }));
}

#[tokio::test]
async fn members_prove_from_the_last_good_commit_before_an_announced_operator_takes_over() {
    let chain = Chain::start().await;
    let du = chain.create_data_union(U256::ZERO, HOUR).await;
    let member = chain.address(MEMBER);
    chain.mint_data(du, tokens(100)).await;
    let good = commit_as(&chain, du, OPERATOR, vec![(member, tokens(100))]).await;
    send(chain.du(du, OWNER).setOperator(chain.address(OWNER))).await;

    // The good commit unfreezes before the owner may take over; anyone proves for the member then.
    chain.advance_time(HOUR + 1).await;
    send(chain.du(du, OTHER).prove(U256::from(good.block()), member, tokens(100), good.proof(0).unwrap())).await;
    send(chain.du(du, OTHER).applyOperatorChange()).await;
    let theft = commit_as(&chain, du, OWNER, vec![(chain.address(OWNER), tokens(100))]).await;
    chain.advance_time(HOUR + 1).await;

    // The bank-run guard keeps the member's proven share: the owner's root cannot take it.
    let error = revert::<UnionError, _, _>(chain.du(du, OWNER).withdrawAll(
        U256::from(theft.block()),
        tokens(100),
        theft.proof(0).unwrap(),
    ))
    .await;
    assert!(matches!(error, UnionError::InsufficientBalance(_)), "{error:?}");
    let before = chain.data_balance(member).await;
    send(chain.du(du, MEMBER).withdraw(tokens(100))).await;
    assert_eq!(chain.data_balance(member).await - before, tokens(100));
}

#[tokio::test]
async fn an_admin_fee_rise_waits_where_members_can_see_it() {
    let chain = Chain::start().await;
    let du = chain.create_data_union(U256::from(TOKEN / 10), HOUR).await;
    let owner = chain.du(du, OWNER);
    send(chain.du(du, AGENT).addMembers(vec![chain.address(MEMBER)])).await;

    let receipt = send(owner.setAdminFee(U256::from(TOKEN))).await;

    assert_eq!(owner.adminFee().call().await.unwrap(), U256::from(TOKEN / 10), "the rise waits");
    let announced = event::<DataUnion::AdminFeeChangeAnnounced>(&receipt);
    assert_eq!(announced.effectiveAt, U256::from(chain.timestamp().await + HOUR));
}

#[tokio::test]
async fn a_stranger_proving_first_cannot_make_a_members_withdraw_all_revert() {
    let chain = Chain::start().await;
    let du = chain.create_data_union(U256::ZERO, 0).await;
    let member = chain.address(MEMBER);
    chain.mint_data(du, tokens(100)).await;
    let older = commit_as(&chain, du, OPERATOR, vec![(member, tokens(50))]).await;
    let newer = commit_as(&chain, du, OPERATOR, vec![(member, tokens(100))]).await;
    chain.advance_time(1).await;
    let before = chain.data_balance(member).await;

    // The member signs a withdrawal with the older proof; a stranger proves the newer one first.
    send(chain.du(du, OTHER).prove(U256::from(newer.block()), member, tokens(100), newer.proof(0).unwrap())).await;
    send(chain.du(du, MEMBER).withdrawAll(U256::from(older.block()), tokens(50), older.proof(0).unwrap())).await;

    assert_eq!(chain.data_balance(member).await - before, tokens(100), "everything proven is paid");
}

#[tokio::test]
async fn a_freeze_period_that_would_overflow_is_refused() {
    let chain = Chain::start().await;
    let factory = chain.du_factory(OWNER);
    let call =
        factory.createDataUnion(chain.address(OPERATOR), vec![chain.address(AGENT)], vec![], U256::ZERO, U256::MAX);
    let error = revert::<UnionError, _, _>(call).await;
    assert!(matches!(error, UnionError::FreezePeriodTooLong(_)), "{error:?}");
}

#[tokio::test]
async fn the_union_is_never_its_own_member() {
    let chain = Chain::start().await;
    let du = chain.create_data_union(U256::ZERO, 0).await;

    send(chain.du(du, AGENT).addMembers(vec![du, chain.address(MEMBER)])).await;

    let union = chain.du(du, MEMBER);
    assert!(!union.isMember(du).call().await.unwrap(), "its earnings could never leave it");
    assert!(union.isMember(chain.address(MEMBER)).call().await.unwrap());
}

/// A product owned by `OWNER` paying `OTHER` 1 DATA a second, and a rich buyer who approved the
/// marketplace for everything, as wallets often suggest.
async fn shop() -> (Chain, B256) {
    let chain = Chain::start().await;
    let id = chain.create_product(OWNER, "Weather", chain.address(OTHER), U256::from(TOKEN), U256::ZERO).await;
    chain.mint_data(chain.address(BUYER), tokens(1_000_000)).await;
    send(chain.data(BUYER).approve(chain.deployment.marketplace, U256::MAX)).await;
    (chain, id)
}

#[tokio::test]
async fn a_price_raised_in_front_of_a_purchase_is_not_paid() {
    let (chain, id) = shop().await;
    let (price, beneficiary) = chain.terms(id).await;
    let before = chain.data_balance(chain.address(BUYER)).await;

    let raised = price * U256::from(10);
    send(chain.marketplace(OWNER).updateProduct(id, "Weather".into(), beneficiary, raised, U256::ZERO)).await;
    let error =
        revert::<MarketError, _, _>(chain.marketplace(BUYER).buy(id, U256::from(86_400), price, beneficiary)).await;

    let changed = Marketplace::TermsChanged { productId: id, pricePerSecond: raised, beneficiary };
    assert_eq!(error, MarketError::TermsChanged(changed));
    assert_eq!(chain.data_balance(chain.address(BUYER)).await, before, "nothing is paid");
}

#[tokio::test]
async fn a_beneficiary_repointed_in_front_of_a_purchase_is_not_paid() {
    let (chain, id) = shop().await;
    let (price, beneficiary) = chain.terms(id).await;

    let thief = chain.address(OWNER);
    let before = chain.data_balance(thief).await;
    send(chain.marketplace(OWNER).updateProduct(id, "Weather".into(), thief, price, U256::ZERO)).await;
    let error =
        revert::<MarketError, _, _>(chain.marketplace(BUYER).buy(id, U256::from(86_400), price, beneficiary)).await;

    let changed = Marketplace::TermsChanged { productId: id, pricePerSecond: price, beneficiary: thief };
    assert_eq!(error, MarketError::TermsChanged(changed));
    assert_eq!(chain.data_balance(thief).await, before, "only the agreed beneficiary is ever paid");
}
