//! DataUnion: roles, commits, proofs, withdrawals and every revert path.

use alloy::{
    primitives::{Address, B256, U256},
    providers::ext::AnvilApi,
};
use coop::{
    book::Book,
    contracts::DataUnion::{self, DataUnionErrors as E},
};

use crate::helpers::*;

/// A DU with no admin fee and the given freeze period.
async fn setup(freeze_seconds: u64) -> (Chain, Address) {
    let chain = Chain::start().await;
    let du = chain.create_data_union(U256::ZERO, freeze_seconds).await;
    (chain, du)
}

const HOUR: u64 = 3600;

/// The book of the latest block with these leaves, committed by the operator; then the clock moves a
/// second on, so with no freeze period the commit is provable (it is frozen up to its own second).
async fn commit(chain: &Chain, du: Address, leaves: Vec<(Address, U256)>) -> Book {
    let book = Book::new(chain.block_number().await, leaves).unwrap();
    commit_book(chain, du, &book).await;
    book
}

/// Commits `book` as the operator, naming its block's hash, then moves the clock a second on.
async fn commit_book(chain: &Chain, du: Address, book: &Book) {
    let block = book.block();
    let hash = chain.block_hash(block).await;
    let receipt = send(chain.du(du, OPERATOR).commit(U256::from(block), hash, book.root(), book.book_hash())).await;
    report_gas("DataUnion.commit", &receipt);
    chain.advance_time(1).await;
}

fn proof(book: &Book, index: usize) -> Vec<B256> {
    book.proof(index).unwrap()
}

#[tokio::test]
async fn only_the_operator_commits() {
    let (chain, du) = setup(0).await;
    let number = chain.block_number().await;
    let (block, hash) = (U256::from(number), chain.block_hash(number).await);
    let root = B256::repeat_byte(7);

    let error = revert::<E, _, _>(chain.du(du, OWNER).commit(block, hash, root, B256::ZERO)).await;
    assert_eq!(error, E::NotOperator(DataUnion::NotOperator { caller: chain.address(OWNER) }));

    // Without a freeze period a new operator takes over at once and the old one is refused.
    let receipt = send(chain.du(du, OWNER).setOperator(chain.address(OTHER))).await;
    let changed = event::<DataUnion::OperatorChanged>(&receipt);
    assert_eq!((changed.previousOperator, changed.newOperator), (chain.address(OPERATOR), chain.address(OTHER)));
    assert!(events::<DataUnion::OperatorChangeAnnounced>(&receipt).is_empty());
    let error = revert::<E, _, _>(chain.du(du, OPERATOR).commit(block, hash, root, B256::ZERO)).await;
    assert_eq!(error, E::NotOperator(DataUnion::NotOperator { caller: chain.address(OPERATOR) }));
    send(chain.du(du, OTHER).commit(block, hash, root, B256::ZERO)).await;
}

#[tokio::test]
async fn a_commit_is_recorded_and_never_overwritten() {
    let (chain, du) = setup(0).await;
    let operator = chain.du(du, OPERATOR);
    let block = chain.block_number().await;
    let hash = chain.block_hash(block).await;
    let (root, book_hash) = (B256::repeat_byte(1), B256::repeat_byte(2));

    let receipt = send(operator.commit(U256::from(block), hash, root, book_hash)).await;

    let commit = event::<DataUnion::NewCommit>(&receipt);
    assert_eq!((commit.blockNumber, commit.root, commit.bookHash), (U256::from(block), root, book_hash));
    assert_eq!(operator.committedRoot(U256::from(block)).call().await.unwrap(), root);
    assert_eq!(operator.committedBookHash(U256::from(block)).call().await.unwrap(), book_hash);
    let committed_at = operator.commitTimestamp(U256::from(block)).call().await.unwrap();
    assert_eq!(committed_at, U256::from(chain.timestamp().await));
    assert_eq!(operator.latestCommitBlock().call().await.unwrap(), U256::from(block));

    let error = revert::<E, _, _>(operator.commit(U256::from(block), hash, B256::repeat_byte(9), book_hash)).await;
    assert_eq!(error, E::CommitExists(DataUnion::CommitExists { blockNumber: U256::from(block) }));
    assert_eq!(operator.committedRoot(U256::from(block)).call().await.unwrap(), root);
}

#[tokio::test]
async fn commits_come_in_block_order_for_mined_blocks_with_a_root() {
    let (chain, du) = setup(0).await;
    let operator = chain.du(du, OPERATOR);
    let latest = chain.block_number().await;
    send(operator.commit(U256::from(latest), chain.block_hash(latest).await, B256::repeat_byte(1), B256::ZERO)).await;

    let earlier = chain.block_hash(latest - 1).await;
    let error =
        revert::<E, _, _>(operator.commit(U256::from(latest - 1), earlier, B256::repeat_byte(1), B256::ZERO)).await;
    assert_eq!(
        error,
        E::CommitOutOfOrder(DataUnion::CommitOutOfOrder {
            blockNumber: U256::from(latest - 1),
            latestCommitBlock: U256::from(latest),
        })
    );
    // The block the commit itself is mined in (and any later one) is not final yet.
    let pending = U256::from(chain.block_number().await + 1);
    let error = revert::<E, _, _>(operator.commit(pending, B256::ZERO, B256::repeat_byte(1), B256::ZERO)).await;
    assert_eq!(error, E::BlockNotMined(DataUnion::BlockNotMined { blockNumber: pending }));
    let mined = chain.block_number().await;
    let hash = chain.block_hash(mined).await;
    let error = revert::<E, _, _>(operator.commit(U256::from(mined), hash, B256::ZERO, B256::ZERO)).await;
    assert_eq!(error, E::EmptyRoot(DataUnion::EmptyRoot {}));
}

#[tokio::test]
async fn only_join_part_agents_add_and_part_members() {
    let (chain, du) = setup(0).await;
    let members = vec![chain.address(MEMBER), chain.address(OTHER)];

    for account in [OWNER, MEMBER] {
        let caller = chain.address(account);
        let error = revert::<E, _, _>(chain.du(du, account).addMembers(members.clone())).await;
        assert_eq!(error, E::NotJoinPartAgent(DataUnion::NotJoinPartAgent { caller }));
        let error = revert::<E, _, _>(chain.du(du, account).partMembers(members.clone())).await;
        assert_eq!(error, E::NotJoinPartAgent(DataUnion::NotJoinPartAgent { caller }));
    }

    let agent = chain.du(du, AGENT);
    let receipt = send(agent.addMembers(members.clone())).await;
    let joined: Vec<Address> = events::<DataUnion::MemberJoined>(&receipt).iter().map(|e| e.member).collect();
    assert_eq!(joined, members);
    // An active member joining again changes nothing and says nothing.
    let receipt = send(agent.addMembers(vec![chain.address(MEMBER)])).await;
    assert!(events::<DataUnion::MemberJoined>(&receipt).is_empty());
    assert_eq!(agent.activeMemberCount().call().await.unwrap(), U256::from(2));

    let receipt = send(agent.partMembers(vec![chain.address(MEMBER), chain.address(BUYER)])).await;
    let parted: Vec<Address> = events::<DataUnion::MemberParted>(&receipt).iter().map(|e| e.member).collect();
    assert_eq!(parted, vec![chain.address(MEMBER)]);
    assert!(!agent.isMember(chain.address(MEMBER)).call().await.unwrap());
    assert!(agent.isMember(chain.address(OTHER)).call().await.unwrap());
    assert_eq!(agent.activeMemberCount().call().await.unwrap(), U256::from(1));

    let error = revert::<E, _, _>(agent.addMembers(vec![Address::ZERO])).await;
    assert_eq!(error, E::ZeroAddress(DataUnion::ZeroAddress {}));
}

#[tokio::test]
async fn the_owner_manages_join_part_agents() {
    let (chain, du) = setup(0).await;
    let error = revert::<E, _, _>(chain.du(du, AGENT).addJoinPartAgent(chain.address(OTHER))).await;
    assert_eq!(
        error,
        E::OwnableUnauthorizedAccount(DataUnion::OwnableUnauthorizedAccount { account: chain.address(AGENT) })
    );

    let receipt = send(chain.du(du, OWNER).addJoinPartAgent(chain.address(OTHER))).await;
    assert_eq!(event::<DataUnion::JoinPartAgentAdded>(&receipt).agent, chain.address(OTHER));
    send(chain.du(du, OTHER).addMembers(vec![chain.address(MEMBER)])).await;

    let receipt = send(chain.du(du, OWNER).removeJoinPartAgent(chain.address(AGENT))).await;
    assert_eq!(event::<DataUnion::JoinPartAgentRemoved>(&receipt).agent, chain.address(AGENT));
    let error = revert::<E, _, _>(chain.du(du, AGENT).partMembers(vec![chain.address(MEMBER)])).await;
    assert_eq!(error, E::NotJoinPartAgent(DataUnion::NotJoinPartAgent { caller: chain.address(AGENT) }));

    let error = revert::<E, _, _>(chain.du(du, OWNER).addJoinPartAgent(Address::ZERO)).await;
    assert_eq!(error, E::ZeroAddress(DataUnion::ZeroAddress {}));
    let error = revert::<E, _, _>(chain.du(du, OWNER).setOperator(Address::ZERO)).await;
    assert_eq!(error, E::ZeroAddress(DataUnion::ZeroAddress {}));
}

#[tokio::test]
async fn the_admin_fee_is_checked_on_the_new_value() {
    let (chain, du) = setup(0).await;
    let owner = chain.du(du, OWNER);
    let full = U256::from(TOKEN);

    let receipt = send(owner.setAdminFee(full)).await;
    assert_eq!(event::<DataUnion::AdminFeeChanged>(&receipt).adminFee, full);
    // From 100 % down to 50 % is fine: only the new value is checked.
    send(owner.setAdminFee(full / U256::from(2))).await;
    let error = revert::<E, _, _>(owner.setAdminFee(full + U256::from(1))).await;
    assert_eq!(error, E::AdminFeeTooHigh(DataUnion::AdminFeeTooHigh { adminFee: full + U256::from(1) }));
    assert_eq!(owner.adminFee().call().await.unwrap(), full / U256::from(2));

    let error = revert::<E, _, _>(chain.du(du, OPERATOR).setAdminFee(U256::ZERO)).await;
    assert_eq!(
        error,
        E::OwnableUnauthorizedAccount(DataUnion::OwnableUnauthorizedAccount { account: chain.address(OPERATOR) })
    );
}

#[tokio::test]
async fn ownership_moves_in_two_steps_and_cannot_be_renounced() {
    let (chain, du) = setup(0).await;
    let (owner, next) = (chain.du(du, OWNER), chain.du(du, OTHER));

    let receipt = send(owner.transferOwnership(chain.address(OTHER))).await;
    let started = event::<DataUnion::OwnershipTransferStarted>(&receipt);
    assert_eq!((started.previousOwner, started.newOwner), (chain.address(OWNER), chain.address(OTHER)));
    assert_eq!(owner.owner().call().await.unwrap(), chain.address(OWNER));
    assert_eq!(owner.pendingOwner().call().await.unwrap(), chain.address(OTHER));

    let error = revert::<E, _, _>(chain.du(du, MEMBER).acceptOwnership()).await;
    assert_eq!(
        error,
        E::OwnableUnauthorizedAccount(DataUnion::OwnableUnauthorizedAccount { account: chain.address(MEMBER) })
    );
    let error = revert::<E, _, _>(next.setAdminFee(U256::ZERO)).await;
    assert_eq!(
        error,
        E::OwnableUnauthorizedAccount(DataUnion::OwnableUnauthorizedAccount { account: chain.address(OTHER) })
    );

    let receipt = send(next.acceptOwnership()).await;
    let moved = event::<DataUnion::OwnershipTransferred>(&receipt);
    assert_eq!((moved.previousOwner, moved.newOwner), (chain.address(OWNER), chain.address(OTHER)));
    assert_eq!(next.owner().call().await.unwrap(), chain.address(OTHER));
    assert_eq!(next.pendingOwner().call().await.unwrap(), Address::ZERO);
    let error = revert::<E, _, _>(owner.setAdminFee(U256::ZERO)).await;
    assert_eq!(
        error,
        E::OwnableUnauthorizedAccount(DataUnion::OwnableUnauthorizedAccount { account: chain.address(OWNER) })
    );

    let error = revert::<E, _, _>(next.renounceOwnership()).await;
    assert_eq!(error, E::RenounceOwnershipDisabled(DataUnion::RenounceOwnershipDisabled {}));
}

#[tokio::test]
async fn a_frozen_commit_cannot_be_proven() {
    let (chain, du) = setup(3600).await;
    let member = chain.address(MEMBER);
    chain.mint_data(du, tokens(10)).await;
    let book = commit(&chain, du, vec![(member, tokens(10))]).await;
    let block = U256::from(book.block());
    let committed_at: u64 = chain.du(du, MEMBER).commitTimestamp(block).call().await.unwrap().to();
    let provable_at = chain.du(du, MEMBER).provableAt(block).call().await.unwrap();
    assert_eq!(provable_at, U256::from(committed_at + 3601));

    let error = revert::<E, _, _>(chain.du(du, MEMBER).prove(block, member, tokens(10), proof(&book, 0))).await;
    assert_eq!(error, E::CommitFrozen(DataUnion::CommitFrozen { blockNumber: block, provableAt: provable_at }));

    // In a block at the last second of the freeze the proof still fails ...
    chain.set_next_timestamp(committed_at + 3600).await;
    let pending = chain.du(du, MEMBER).prove(block, member, tokens(10), proof(&book, 0)).gas(300_000).send().await;
    assert!(!pending.unwrap().get_receipt().await.unwrap().status(), "proven while frozen");
    // ... and one second later it succeeds.
    chain.set_next_timestamp(committed_at + 3601).await;
    let receipt = send(chain.du(du, MEMBER).prove(block, member, tokens(10), proof(&book, 0))).await;
    let proven = event::<DataUnion::EarningsProven>(&receipt);
    assert_eq!((proven.member, proven.blockNumber, proven.totalEarnings), (member, block, tokens(10)));
    assert_eq!(chain.du(du, MEMBER).earnings(member).call().await.unwrap(), tokens(10));
}

#[tokio::test]
async fn a_proof_must_match_a_commit() {
    let (chain, du) = setup(0).await;
    let (member, other) = (chain.address(MEMBER), chain.address(OTHER));
    chain.mint_data(du, tokens(30)).await;
    let book = commit(&chain, du, vec![(member, tokens(10)), (other, tokens(20))]).await;
    let block = U256::from(book.block());
    let du_member = chain.du(du, MEMBER);

    let unknown = block - U256::from(1);
    let error = revert::<E, _, _>(du_member.prove(unknown, member, tokens(10), proof(&book, 0))).await;
    assert_eq!(error, E::CommitNotFound(DataUnion::CommitNotFound { blockNumber: unknown }));
    for (account, earnings, path) in [
        (member, tokens(11), proof(&book, 0)),
        (other, tokens(10), proof(&book, 0)),
        (member, tokens(10), proof(&book, 1)),
        (member, tokens(10), vec![]),
    ] {
        let error = revert::<E, _, _>(du_member.prove(block, account, earnings, path)).await;
        assert_eq!(error, E::InvalidProof(DataUnion::InvalidProof {}));
    }
    assert!(du_member.proofIsValid(block, other, tokens(20), proof(&book, 1)).call().await.unwrap());
}

#[tokio::test]
async fn earnings_must_strictly_grow() {
    let (chain, du) = setup(0).await;
    let member = chain.address(MEMBER);
    chain.mint_data(du, tokens(10)).await;
    let first = commit(&chain, du, vec![(member, tokens(5))]).await;
    let du_other = chain.du(du, OTHER);
    // Anyone may prove for anyone.
    send(du_other.prove(U256::from(first.block()), member, tokens(5), proof(&first, 0))).await;

    let error = revert::<E, _, _>(du_other.prove(U256::from(first.block()), member, tokens(5), proof(&first, 0))).await;
    let same = DataUnion::EarningsNotIncreased { member, provenEarnings: tokens(5), claimedEarnings: tokens(5) };
    assert_eq!(error, E::EarningsNotIncreased(same));

    let lower = commit(&chain, du, vec![(member, tokens(4))]).await;
    let error = revert::<E, _, _>(du_other.prove(U256::from(lower.block()), member, tokens(4), proof(&lower, 0))).await;
    let less = DataUnion::EarningsNotIncreased { member, provenEarnings: tokens(5), claimedEarnings: tokens(4) };
    assert_eq!(error, E::EarningsNotIncreased(less));
}

#[tokio::test]
async fn the_bank_run_guard_never_proves_more_than_the_balance() {
    let (chain, du) = setup(0).await;
    let (member, other) = (chain.address(MEMBER), chain.address(OTHER));
    // A bad root promises 15 DATA out of 10 held: the first prover is paid, the second refused.
    chain.mint_data(du, tokens(10)).await;
    let book = commit(&chain, du, vec![(member, tokens(6)), (other, tokens(9))]).await;
    let block = U256::from(book.block());

    send(chain.du(du, MEMBER).withdrawAll(block, tokens(6), proof(&book, 0))).await;
    let error = revert::<E, _, _>(chain.du(du, OTHER).prove(block, other, tokens(9), proof(&book, 1))).await;
    assert_eq!(error, E::InsufficientBalance(DataUnion::InsufficientBalance { owed: tokens(9), balance: tokens(4) }));
    assert_eq!(chain.data_balance(member).await, tokens(10_000 + 6));
    assert_eq!(chain.du(du, OTHER).totalProven().call().await.unwrap(), tokens(6));
}

#[tokio::test]
async fn withdrawing_pays_exactly_the_proven_earnings() {
    let (chain, du) = setup(0).await;
    let (member, other, buyer) = (chain.address(MEMBER), chain.address(OTHER), chain.address(BUYER));
    chain.mint_data(du, tokens(100)).await;
    let book = commit(&chain, du, vec![(member, tokens(10)), (other, tokens(20)), (buyer, tokens(30))]).await;
    let block = U256::from(book.block());
    let before = chain.data_balance(member).await;

    // Prove, then take part of it, then the rest.
    send(chain.du(du, MEMBER).prove(block, member, tokens(10), proof(&book, 0))).await;
    let receipt = send(chain.du(du, MEMBER).withdraw(tokens(4))).await;
    let withdrawn = event::<DataUnion::Withdrawn>(&receipt);
    assert_eq!((withdrawn.member, withdrawn.recipient, withdrawn.amount), (member, member, tokens(4)));
    let error = revert::<E, _, _>(chain.du(du, MEMBER).withdraw(tokens(7))).await;
    let overdraft = DataUnion::Overdraft { member, amount: tokens(7), available: tokens(6) };
    assert_eq!(error, E::Overdraft(overdraft));
    // Proven already: withdrawAll with the same claim needs no new proof.
    send(chain.du(du, MEMBER).withdrawAll(block, tokens(10), vec![])).await;
    assert_eq!(chain.data_balance(member).await, before + tokens(10));
    let error = revert::<E, _, _>(chain.du(du, MEMBER).withdraw(U256::ZERO)).await;
    assert_eq!(error, E::ZeroWithdraw(DataUnion::ZeroWithdraw {}));
    let error = revert::<E, _, _>(chain.du(du, MEMBER).withdrawAll(block, tokens(10), vec![])).await;
    assert_eq!(error, E::ZeroWithdraw(DataUnion::ZeroWithdraw {}));

    // Anyone may pay a member out, to the member only.
    let before = chain.data_balance(other).await;
    let receipt = send(chain.du(du, BUYER).withdrawAllFor(other, block, tokens(20), proof(&book, 1))).await;
    assert_eq!(event::<DataUnion::Withdrawn>(&receipt).recipient, other);
    assert_eq!(chain.data_balance(other).await, before + tokens(20));

    // A member may send its earnings elsewhere, but not back into the DU (that would look like revenue).
    let error = revert::<E, _, _>(chain.du(du, BUYER).withdrawAllTo(du, block, tokens(30), proof(&book, 2))).await;
    assert_eq!(error, E::InvalidRecipient(DataUnion::InvalidRecipient { recipient: du }));
    let error =
        revert::<E, _, _>(chain.du(du, BUYER).withdrawAllTo(Address::ZERO, block, tokens(30), proof(&book, 2))).await;
    assert_eq!(error, E::InvalidRecipient(DataUnion::InvalidRecipient { recipient: Address::ZERO }));
    let before = chain.data_balance(chain.address(DEPLOYER)).await;
    let receipt =
        send(chain.du(du, BUYER).withdrawAllTo(chain.address(DEPLOYER), block, tokens(30), proof(&book, 2))).await;
    let withdrawn = event::<DataUnion::Withdrawn>(&receipt);
    assert_eq!((withdrawn.member, withdrawn.recipient), (buyer, chain.address(DEPLOYER)));
    assert_eq!(chain.data_balance(chain.address(DEPLOYER)).await, before + tokens(30));

    let du_view = chain.du(du, OTHER);
    assert_eq!(du_view.totalProven().call().await.unwrap(), tokens(60));
    assert_eq!(du_view.totalWithdrawn().call().await.unwrap(), tokens(60));
    assert_eq!(du_view.withdrawn(other).call().await.unwrap(), tokens(20));
    assert_eq!(du_view.withdrawable(other).call().await.unwrap(), U256::ZERO);
    assert_eq!(chain.data_balance(du).await, tokens(40));
}

#[tokio::test]
async fn later_commits_pay_only_the_growth() {
    let (chain, du) = setup(0).await;
    let member = chain.address(MEMBER);
    chain.mint_data(du, tokens(10)).await;
    let first = commit(&chain, du, vec![(member, tokens(3))]).await;
    send(chain.du(du, MEMBER).withdrawAll(U256::from(first.block()), tokens(3), proof(&first, 0))).await;
    let second = commit(&chain, du, vec![(member, tokens(8))]).await;
    let before = chain.data_balance(member).await;

    let receipt =
        send(chain.du(du, MEMBER).withdrawAll(U256::from(second.block()), tokens(8), proof(&second, 0))).await;

    assert_eq!(event::<DataUnion::Withdrawn>(&receipt).amount, tokens(5));
    assert_eq!(chain.data_balance(member).await, before + tokens(5));
}

#[tokio::test]
async fn a_commit_must_name_the_hash_of_its_block() {
    let (chain, du) = setup(0).await;
    let operator = chain.du(du, OPERATOR);
    let number = chain.block_number().await;
    let (real, root) = (chain.block_hash(number).await, B256::repeat_byte(1));

    // Another block's hash, or one that no block has (as after a reorganisation), is refused with the real one.
    for wrong in [chain.block_hash(number - 1).await, B256::repeat_byte(0xee), B256::ZERO] {
        let error = revert::<E, _, _>(operator.commit(U256::from(number), wrong, root, B256::ZERO)).await;
        let mismatch = DataUnion::BlockHashMismatch { blockNumber: U256::from(number), expected: wrong, actual: real };
        assert_eq!(error, E::BlockHashMismatch(mismatch));
    }
    assert_eq!(operator.commitCount().call().await.unwrap(), U256::ZERO);
    send(operator.commit(U256::from(number), real, root, B256::ZERO)).await;

    // A block older than the last 256 has no hash on chain any more: its book can no longer be committed.
    let old = chain.block_number().await;
    let old_hash = chain.block_hash(old).await;
    chain.advance_time(1).await;
    chain.wallet(DEPLOYER).anvil_mine(Some(300), None).await.unwrap();
    let error = revert::<E, _, _>(operator.commit(U256::from(old), old_hash, root, B256::ZERO)).await;
    let mismatch =
        DataUnion::BlockHashMismatch { blockNumber: U256::from(old), expected: old_hash, actual: B256::ZERO };
    assert_eq!(error, E::BlockHashMismatch(mismatch));
}

#[tokio::test]
async fn an_operator_change_waits_a_freeze_period_and_the_old_operator_commits_until_it_is_applied() {
    let (chain, du) = setup(HOUR).await;
    let (owner, anyone) = (chain.du(du, OWNER), chain.du(du, MEMBER));
    let (operator, next) = (chain.address(OPERATOR), chain.address(OTHER));

    let receipt = send(owner.setOperator(next)).await;
    let announced = event::<DataUnion::OperatorChangeAnnounced>(&receipt);
    let effective_at = U256::from(chain.timestamp().await + HOUR);
    assert_eq!((announced.newOperator, announced.effectiveAt), (next, effective_at));
    assert!(events::<DataUnion::OperatorChanged>(&receipt).is_empty());
    assert_eq!(anyone.operator().call().await.unwrap(), operator, "the change waits");
    assert_eq!(anyone.pendingOperator().call().await.unwrap(), next);
    assert_eq!(anyone.operatorChangeAt().call().await.unwrap(), effective_at);

    // Until then the old operator commits and the announced one is refused.
    chain.mint_data(du, tokens(10)).await;
    commit(&chain, du, vec![(chain.address(MEMBER), tokens(10))]).await;
    let number = chain.block_number().await;
    let hash = chain.block_hash(number).await;
    let (old_operator, new_operator) = (chain.du(du, OPERATOR), chain.du(du, OTHER));
    let early = new_operator.commit(U256::from(number), hash, B256::repeat_byte(1), B256::ZERO);
    assert_eq!(revert::<E, _, _>(early).await, E::NotOperator(DataUnion::NotOperator { caller: next }));
    let E::ChangeNotDue(not_due) = revert::<E, _, _>(anyone.applyOperatorChange()).await else {
        panic!("expected ChangeNotDue");
    };
    assert_eq!(not_due.effectiveAt, effective_at);
    assert!(not_due.timestamp < effective_at);

    // Once due, anyone applies it: the announced operator commits and the old one is refused.
    chain.advance_time(HOUR).await;
    let receipt = send(anyone.applyOperatorChange()).await;
    let changed = event::<DataUnion::OperatorChanged>(&receipt);
    assert_eq!((changed.previousOperator, changed.newOperator), (operator, next));
    assert_eq!(anyone.operator().call().await.unwrap(), next);
    assert_eq!(anyone.pendingOperator().call().await.unwrap(), Address::ZERO);
    assert_eq!(anyone.operatorChangeAt().call().await.unwrap(), U256::ZERO);
    let number = chain.block_number().await;
    let hash = chain.block_hash(number).await;
    let late = old_operator.commit(U256::from(number), hash, B256::repeat_byte(2), B256::ZERO);
    assert_eq!(revert::<E, _, _>(late).await, E::NotOperator(DataUnion::NotOperator { caller: operator }));
    send(new_operator.commit(U256::from(number), hash, B256::repeat_byte(2), B256::ZERO)).await;
    let error = revert::<E, _, _>(anyone.applyOperatorChange()).await;
    assert_eq!(error, E::NoChangeAnnounced(DataUnion::NoChangeAnnounced {}));

    // Announcing the current operator cancels a pending change.
    send(owner.setOperator(chain.address(BUYER))).await;
    send(owner.setOperator(next)).await;
    assert_eq!(anyone.pendingOperator().call().await.unwrap(), Address::ZERO);
    assert_eq!(anyone.operatorChangeAt().call().await.unwrap(), U256::ZERO);
    chain.advance_time(HOUR).await;
    let error = revert::<E, _, _>(anyone.applyOperatorChange()).await;
    assert_eq!(error, E::NoChangeAnnounced(DataUnion::NoChangeAnnounced {}));
    assert_eq!(anyone.operator().call().await.unwrap(), next);
    let error = revert::<E, _, _>(chain.du(du, MEMBER).setOperator(chain.address(MEMBER))).await;
    let unauthorized = DataUnion::OwnableUnauthorizedAccount { account: chain.address(MEMBER) };
    assert_eq!(error, E::OwnableUnauthorizedAccount(unauthorized));
}

#[tokio::test]
async fn an_admin_fee_rise_waits_a_freeze_period_while_a_cut_applies_at_once() {
    let chain = Chain::start().await;
    let tenth = U256::from(TOKEN / 10);
    let du = chain.create_data_union(tenth, HOUR).await;
    let (owner, anyone) = (chain.du(du, OWNER), chain.du(du, MEMBER));
    // With nobody to share revenue with, a rise applies at once: it could hurt no member.
    let receipt = send(owner.setAdminFee(tenth + U256::from(1))).await;
    assert_eq!(event::<DataUnion::AdminFeeChanged>(&receipt).adminFee, tenth + U256::from(1));
    send(owner.setAdminFee(tenth)).await;
    send(chain.du(du, AGENT).addMembers(vec![chain.address(MEMBER)])).await;

    // A rise is announced, and the fee stays until it is due.
    let half = U256::from(TOKEN / 2);
    let receipt = send(owner.setAdminFee(half)).await;
    let announced = event::<DataUnion::AdminFeeChangeAnnounced>(&receipt);
    let effective_at = U256::from(chain.timestamp().await + HOUR);
    assert_eq!((announced.adminFee, announced.effectiveAt), (half, effective_at));
    assert!(events::<DataUnion::AdminFeeChanged>(&receipt).is_empty());
    assert_eq!(anyone.adminFee().call().await.unwrap(), tenth, "the rise waits");
    assert_eq!(anyone.pendingAdminFee().call().await.unwrap(), half);
    assert_eq!(anyone.adminFeeChangeAt().call().await.unwrap(), effective_at);
    let E::ChangeNotDue(not_due) = revert::<E, _, _>(anyone.applyAdminFeeChange()).await else {
        panic!("expected ChangeNotDue");
    };
    assert_eq!(not_due.effectiveAt, effective_at);
    let error = revert::<E, _, _>(owner.setAdminFee(U256::from(TOKEN) + U256::from(1))).await;
    assert_eq!(error, E::AdminFeeTooHigh(DataUnion::AdminFeeTooHigh { adminFee: U256::from(TOKEN) + U256::from(1) }));

    // A cut (or the same fee) applies at once and drops the announced rise.
    let twentieth = U256::from(TOKEN / 20);
    let receipt = send(owner.setAdminFee(twentieth)).await;
    assert_eq!(event::<DataUnion::AdminFeeChanged>(&receipt).adminFee, twentieth);
    assert_eq!(anyone.adminFee().call().await.unwrap(), twentieth);
    assert_eq!(anyone.adminFeeChangeAt().call().await.unwrap(), U256::ZERO);
    let receipt = send(owner.setAdminFee(twentieth)).await;
    assert_eq!(event::<DataUnion::AdminFeeChanged>(&receipt).adminFee, twentieth);
    chain.advance_time(HOUR).await;
    let error = revert::<E, _, _>(anyone.applyAdminFeeChange()).await;
    assert_eq!(error, E::NoChangeAnnounced(DataUnion::NoChangeAnnounced {}));
    assert_eq!(anyone.adminFee().call().await.unwrap(), twentieth);

    // A rise applied once due, by anyone.
    send(owner.setAdminFee(tenth)).await;
    assert_eq!(anyone.adminFee().call().await.unwrap(), twentieth);
    chain.advance_time(HOUR).await;
    let receipt = send(anyone.applyAdminFeeChange()).await;
    assert_eq!(event::<DataUnion::AdminFeeChanged>(&receipt).adminFee, tenth);
    assert_eq!(anyone.adminFee().call().await.unwrap(), tenth);
    assert_eq!(
        (anyone.pendingAdminFee().call().await.unwrap(), anyone.adminFeeChangeAt().call().await.unwrap()),
        (U256::ZERO, U256::ZERO)
    );
}

#[tokio::test]
async fn a_validator_vetoes_a_frozen_commit_which_the_operator_then_commits_again() {
    let chain = Chain::start().await;
    let validator = chain.address(BUYER);
    let du = chain.create_data_union_with_validators(U256::ZERO, HOUR, vec![validator]).await;
    let member = chain.address(MEMBER);
    chain.mint_data(du, tokens(100)).await;
    let older = commit(&chain, du, vec![(member, tokens(40))]).await;
    chain.advance_time(HOUR).await;
    let bad = commit(&chain, du, vec![(member, tokens(100))]).await;
    let (older_block, bad_block) = (U256::from(older.block()), U256::from(bad.block()));
    let union = chain.du(du, MEMBER);
    assert!(union.isValidator(validator).call().await.unwrap());

    // Only a validator vetoes, only a commit there is, and only while it is frozen.
    for account in [OWNER, OPERATOR, MEMBER] {
        let error = revert::<E, _, _>(chain.du(du, account).vetoCommit(bad_block)).await;
        assert_eq!(error, E::NotValidator(DataUnion::NotValidator { caller: chain.address(account) }));
    }
    let vetoer = chain.du(du, BUYER);
    let missing = bad_block - U256::from(1);
    let error = revert::<E, _, _>(vetoer.vetoCommit(missing)).await;
    assert_eq!(error, E::CommitNotFound(DataUnion::CommitNotFound { blockNumber: missing }));
    let error = revert::<E, _, _>(vetoer.vetoCommit(older_block)).await;
    assert_eq!(error, E::CommitNotFrozen(DataUnion::CommitNotFrozen { blockNumber: older_block }));

    let receipt = send(vetoer.vetoCommit(bad_block)).await;
    report_gas("DataUnion.vetoCommit", &receipt);
    let vetoed = event::<DataUnion::CommitVetoed>(&receipt);
    assert_eq!((vetoed.blockNumber, vetoed.validator), (bad_block, validator));
    assert_eq!(union.committedRoot(bad_block).call().await.unwrap(), B256::ZERO, "the root is gone");
    assert_eq!(union.committedBookHash(bad_block).call().await.unwrap(), B256::ZERO);
    assert_eq!(union.provableAt(bad_block).call().await.unwrap(), U256::ZERO);
    let error = revert::<E, _, _>(vetoer.vetoCommit(bad_block)).await;
    assert_eq!(error, E::CommitNotFound(DataUnion::CommitNotFound { blockNumber: bad_block }));
    chain.advance_time(HOUR).await;
    let error = revert::<E, _, _>(union.prove(bad_block, member, tokens(100), proof(&bad, 0))).await;
    assert_eq!(error, E::CommitNotFound(DataUnion::CommitNotFound { blockNumber: bad_block }));

    // Members still prove against the older commit meanwhile.
    let before = chain.data_balance(member).await;
    send(union.withdrawAll(older_block, tokens(40), proof(&older, 0))).await;
    assert_eq!(chain.data_balance(member).await, before + tokens(40));

    // The operator commits a correct book of the same block again, which is proven once unfrozen.
    let good = Book::new(bad.block(), vec![(member, tokens(60))]).unwrap();
    commit_book(&chain, du, &good).await;
    assert_eq!(union.committedRoot(bad_block).call().await.unwrap(), good.root());
    let error = revert::<E, _, _>(union.prove(bad_block, member, tokens(60), proof(&good, 0))).await;
    assert!(matches!(error, E::CommitFrozen(_)), "{error:?}");
    chain.advance_time(HOUR).await;
    send(union.withdrawAll(bad_block, tokens(60), proof(&good, 0))).await;
    assert_eq!(chain.data_balance(member).await, before + tokens(60));
    assert_eq!(chain.data_balance(du).await, tokens(40));
}

#[tokio::test]
async fn a_validator_is_added_at_once_but_removed_only_a_freeze_period_after_it_is_announced() {
    let chain = Chain::start().await;
    let validator = chain.address(BUYER);
    let du = chain.create_data_union_with_validators(U256::ZERO, HOUR, vec![validator]).await;
    let (owner, anyone) = (chain.du(du, OWNER), chain.du(du, MEMBER));

    let error = revert::<E, _, _>(anyone.removeValidator(validator)).await;
    let unauthorized = DataUnion::OwnableUnauthorizedAccount { account: chain.address(MEMBER) };
    assert_eq!(error, E::OwnableUnauthorizedAccount(unauthorized));
    let error = revert::<E, _, _>(owner.removeValidator(chain.address(OTHER))).await;
    assert_eq!(error, E::NotValidator(DataUnion::NotValidator { caller: chain.address(OTHER) }));

    let receipt = send(owner.removeValidator(validator)).await;
    let announced = event::<DataUnion::ValidatorRemovalAnnounced>(&receipt);
    let effective_at = U256::from(chain.timestamp().await + HOUR);
    assert_eq!((announced.validator, announced.effectiveAt), (validator, effective_at));
    assert!(events::<DataUnion::ValidatorRemoved>(&receipt).is_empty());
    assert!(anyone.isValidator(validator).call().await.unwrap(), "the removal waits");
    assert_eq!(anyone.validatorRemovalAt(validator).call().await.unwrap(), effective_at);
    let E::ChangeNotDue(not_due) = revert::<E, _, _>(anyone.applyValidatorRemoval(validator)).await else {
        panic!("expected ChangeNotDue");
    };
    assert_eq!(not_due.effectiveAt, effective_at);

    // Meanwhile it still vetoes a bad commit made right after the announcement.
    chain.mint_data(du, tokens(10)).await;
    let bad = commit(&chain, du, vec![(chain.address(OWNER), tokens(10))]).await;
    send(chain.du(du, BUYER).vetoCommit(U256::from(bad.block()))).await;

    // Once due, anyone applies the removal, and the validator's vetoes are refused.
    chain.advance_time(HOUR).await;
    let receipt = send(anyone.applyValidatorRemoval(validator)).await;
    assert_eq!(event::<DataUnion::ValidatorRemoved>(&receipt).validator, validator);
    assert!(!anyone.isValidator(validator).call().await.unwrap());
    assert_eq!(anyone.validatorRemovalAt(validator).call().await.unwrap(), U256::ZERO);
    let error = revert::<E, _, _>(anyone.applyValidatorRemoval(validator)).await;
    assert_eq!(error, E::NoChangeAnnounced(DataUnion::NoChangeAnnounced {}));
    let next = commit(&chain, du, vec![(chain.address(MEMBER), tokens(10))]).await;
    let error = revert::<E, _, _>(chain.du(du, BUYER).vetoCommit(U256::from(next.block()))).await;
    assert_eq!(error, E::NotValidator(DataUnion::NotValidator { caller: validator }));

    // Adding one is at once, and adding it again drops its announced removal.
    let receipt = send(owner.addValidator(chain.address(OTHER))).await;
    assert_eq!(event::<DataUnion::ValidatorAdded>(&receipt).validator, chain.address(OTHER));
    send(owner.removeValidator(chain.address(OTHER))).await;
    let receipt = send(owner.addValidator(chain.address(OTHER))).await;
    assert!(events::<DataUnion::ValidatorAdded>(&receipt).is_empty(), "it still was one");
    chain.advance_time(HOUR).await;
    let error = revert::<E, _, _>(anyone.applyValidatorRemoval(chain.address(OTHER))).await;
    assert_eq!(error, E::NoChangeAnnounced(DataUnion::NoChangeAnnounced {}));
    let error = revert::<E, _, _>(owner.addValidator(Address::ZERO)).await;
    assert_eq!(error, E::ZeroAddress(DataUnion::ZeroAddress {}));
    let newest = commit(&chain, du, vec![(chain.address(MEMBER), tokens(10))]).await;
    send(chain.du(du, OTHER).vetoCommit(U256::from(newest.block()))).await;

    // Without a freeze period a removal applies at once.
    let quick = chain.create_data_union_with_validators(U256::ZERO, 0, vec![validator]).await;
    let receipt = send(chain.du(quick, OWNER).removeValidator(validator)).await;
    assert_eq!(event::<DataUnion::ValidatorRemoved>(&receipt).validator, validator);
    assert!(!chain.du(quick, OWNER).isValidator(validator).call().await.unwrap());
}

#[tokio::test]
async fn a_withdrawal_claiming_less_than_is_proven_pays_what_is_proven() {
    let (chain, du) = setup(0).await;
    let (member, other) = (chain.address(MEMBER), chain.address(OTHER));
    chain.mint_data(du, tokens(100)).await;
    let older = commit(&chain, du, vec![(member, tokens(5)), (other, tokens(10))]).await;
    let newer = commit(&chain, du, vec![(member, tokens(8)), (other, tokens(20))]).await;
    let (older_block, newer_block) = (U256::from(older.block()), U256::from(newer.block()));

    // A stranger proves the newer commit first; the members' withdrawals with the older one still pay.
    let stranger = chain.du(du, BUYER);
    send(stranger.prove(newer_block, member, tokens(8), proof(&newer, 0))).await;
    send(stranger.prove(newer_block, other, tokens(20), proof(&newer, 1))).await;
    let before = chain.data_balance(member).await;
    let receipt = send(chain.du(du, MEMBER).withdrawAll(older_block, tokens(5), proof(&older, 0))).await;
    assert!(events::<DataUnion::EarningsProven>(&receipt).is_empty(), "nothing proven again");
    assert_eq!(event::<DataUnion::Withdrawn>(&receipt).amount, tokens(8));
    assert_eq!(chain.data_balance(member).await, before + tokens(8));
    let before = chain.data_balance(chain.address(DEPLOYER)).await;
    send(chain.du(du, OTHER).withdrawAllTo(chain.address(DEPLOYER), older_block, tokens(10), proof(&older, 1))).await;
    assert_eq!(chain.data_balance(chain.address(DEPLOYER)).await, before + tokens(20));

    // An older claim with nothing left to pay is a zero withdrawal; `prove` itself still refuses it.
    let error = revert::<E, _, _>(stranger.withdrawAllFor(member, older_block, tokens(5), proof(&older, 0))).await;
    assert_eq!(error, E::ZeroWithdraw(DataUnion::ZeroWithdraw {}));
    let error = revert::<E, _, _>(stranger.prove(older_block, member, tokens(5), proof(&older, 0))).await;
    let older_claim = DataUnion::EarningsNotIncreased { member, provenEarnings: tokens(8), claimedEarnings: tokens(5) };
    assert_eq!(error, E::EarningsNotIncreased(older_claim));
}

#[tokio::test]
async fn the_union_itself_is_skipped_when_added_as_a_member() {
    let (chain, du) = setup(0).await;

    let receipt = send(chain.du(du, AGENT).addMembers(vec![du, chain.address(MEMBER)])).await;

    let joined: Vec<Address> = events::<DataUnion::MemberJoined>(&receipt).iter().map(|e| e.member).collect();
    assert_eq!(joined, vec![chain.address(MEMBER)]);
    let union = chain.du(du, MEMBER);
    assert!(!union.isMember(du).call().await.unwrap(), "its earnings could never leave it");
    assert_eq!(union.activeMemberCount().call().await.unwrap(), U256::from(1));
}
