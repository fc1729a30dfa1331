//! Moving a union of the previous contracts (`DataUnionV1`) to the current ones with `coop migrate`
//! (`coop_server::migrate`): the new union's checks, then a union of 1,000 members moved on anvil, to
//! the wei.

use std::collections::BTreeMap;
use std::time::Duration;

use alloy::primitives::{Address, U256};
use alloy::providers::Provider;
use coop::book::Book;
use coop::contracts::{
    DataUnion::{self, DataUnionErrors as UnionError},
    DataUnionFactoryV1, DataUnionV1,
};
use coop_server::indexer::Watched;
use coop_server::migrate::{Migration, Progress, index_unions};
use coop_server::sender::Patience;
use coop_server::unions::Union;

use crate::helpers::*;

const HOUR: u64 = 3600;

#[tokio::test]
async fn only_the_owner_starts_a_migration_once_before_any_commit_and_carries_no_more_than_it_received() {
    let chain = Chain::start().await;
    let du = chain.create_data_union(U256::ZERO, 0).await;
    let owner = chain.du(du, OWNER);
    let previous = chain.address(OTHER);

    let error = revert::<UnionError, _, _>(owner.carryEarnings(vec![chain.address(MEMBER)], vec![U256::from(1)])).await;
    assert!(matches!(error, UnionError::NoMigration(_)));
    assert!(matches!(revert::<UnionError, _, _>(owner.closeCarry()).await, UnionError::NoMigration(_)));
    let stranger = revert::<UnionError, _, _>(chain.du(du, OTHER).startMigration(previous)).await;
    assert!(matches!(stranger, UnionError::OwnableUnauthorizedAccount(_)));
    let itself = revert::<UnionError, _, _>(owner.startMigration(du)).await;
    assert!(matches!(itself, UnionError::InvalidRecipient(e) if e.recipient == du));
    assert!(matches!(
        revert::<UnionError, _, _>(owner.startMigration(Address::ZERO)).await,
        UnionError::ZeroAddress(_)
    ));

    // The predecessor must be a contract that says what it paid: a v1 union that paid nothing.
    let v1 = deploy_v1_union(&chain, U256::ZERO, 0).await;
    let receipt = send(owner.startMigration(v1.union)).await;
    assert_eq!(event::<DataUnion::MigrationStarted>(&receipt).predecessor, v1.union);
    let again = revert::<UnionError, _, _>(owner.startMigration(v1.union)).await;
    assert!(matches!(again, UnionError::MigrationAlreadyStarted(e) if e.predecessor == v1.union));

    let member = chain.address(MEMBER);
    let unpaid = revert::<UnionError, _, _>(owner.carryEarnings(vec![member], vec![U256::from(1)])).await;
    assert!(matches!(unpaid, UnionError::CarryNotReceived(e) if e.carried == U256::from(1) && e.received.is_zero()));
    let mismatch = revert::<UnionError, _, _>(owner.carryEarnings(vec![member], vec![])).await;
    assert!(matches!(mismatch, UnionError::LengthMismatch(_)));
    let to_itself = revert::<UnionError, _, _>(owner.carryEarnings(vec![du], vec![U256::ZERO])).await;
    assert!(matches!(to_itself, UnionError::InvalidRecipient(_)));
    let stranger = revert::<UnionError, _, _>(chain.du(du, OTHER).carryEarnings(vec![member], vec![U256::ZERO])).await;
    assert!(matches!(stranger, UnionError::OwnableUnauthorizedAccount(_)));

    send(owner.closeCarry()).await;
    let closed = revert::<UnionError, _, _>(owner.carryEarnings(vec![member], vec![U256::ZERO])).await;
    assert!(matches!(closed, UnionError::CarryIsClosed(_)));
    assert!(matches!(revert::<UnionError, _, _>(owner.closeCarry()).await, UnionError::CarryIsClosed(_)));
}

#[tokio::test]
async fn a_union_that_committed_cannot_start_a_migration() {
    let chain = Chain::start().await;
    let du = chain.create_data_union(U256::ZERO, 0).await;
    let book = Book::new(chain.block_number().await, vec![(chain.address(MEMBER), U256::from(1))]).unwrap();
    let hash = chain.block_hash(book.block()).await;
    send(chain.du(du, OPERATOR).commit(U256::from(book.block()), hash, book.root(), book.book_hash())).await;
    let error = revert::<UnionError, _, _>(chain.du(du, OWNER).startMigration(chain.address(OTHER))).await;
    assert!(matches!(error, UnionError::CommitExists(_)));
}

/// A v1 union made by a v1 factory, as deployed unions were: owned by `OWNER`, committed to by
/// `OPERATOR`, with `AGENT` adding members.
struct V1 {
    factory: Address,
    union: Address,
}

async fn deploy_v1_union(chain: &Chain, admin_fee: U256, freeze_seconds: u64) -> V1 {
    let factory =
        DataUnionFactoryV1::deploy(chain.wallet(DEPLOYER), chain.deployment.data_token, U256::ZERO).await.unwrap();
    let receipt = send(DataUnionFactoryV1::new(*factory.address(), chain.wallet(OWNER)).createDataUnion(
        chain.address(OPERATOR),
        vec![chain.address(AGENT)],
        admin_fee,
        U256::from(freeze_seconds),
    ))
    .await;
    V1 { factory: *factory.address(), union: event::<DataUnionFactoryV1::DataUnionCreated>(&receipt).du }
}

/// The union at `address` as the server's engine sees it, replayed from the chain.
async fn engine_view(chain: &Chain, factory: Address, address: Address) -> Union {
    let watched = Watched { factory, marketplace: Address::ZERO, data_token: chain.deployment.data_token };
    let models = index_unions(&chain.wallet(DEPLOYER), watched, 0).await.unwrap();
    models.unions.get(&address).expect("the union is indexed").clone()
}

fn sum(values: impl IntoIterator<Item = U256>) -> U256 {
    values.into_iter().fold(U256::ZERO, |sum, value| sum + value)
}

/// Sends `members` to `add` in batches the block gas limit allows.
async fn add_members(chain: &Chain, members: &[Address], add: impl Fn(Vec<Address>) -> Vec<u8>, union: Address) {
    for batch in members.chunks(250) {
        let request = alloy::rpc::types::TransactionRequest::default()
            .from(chain.address(AGENT))
            .to(union)
            .input(add(batch.to_vec()).into());
        let pending = chain.wallet(AGENT).send_transaction(request).await.unwrap();
        assert!(pending.get_receipt().await.unwrap().status(), "adding members");
    }
}

#[tokio::test]
async fn a_union_of_a_thousand_members_moves_with_every_members_earnings_to_the_wei() {
    use alloy::sol_types::SolCall;
    let chain = Chain::start().await;
    let fee = U256::from(10u64.pow(17)); // 10 %
    let v1 = deploy_v1_union(&chain, fee, HOUR).await;
    let old = DataUnionV1::new(v1.union, chain.wallet(BUYER));
    let mut rng = Rng::new(18);
    let members: Vec<Address> = (0..1_000).map(|_| rng.address()).collect();
    let add_v1 = |batch| DataUnionV1::addMembersCall { members: batch }.abi_encode();
    add_members(&chain, &members, add_v1, v1.union).await;
    chain.mint_data(v1.union, rng.amount()).await;
    // A hundred leave, and revenue comes in with them gone.
    let parted = members[..100].to_vec();
    send(DataUnionV1::new(v1.union, chain.wallet(AGENT)).partMembers(parted)).await;
    chain.mint_data(v1.union, rng.amount() + U256::from(7)).await;

    // The old operator commits; after the freeze, 200 members withdraw and 100 only prove.
    let book = engine_view(&chain, v1.factory, v1.union).await.book_at(chain.block_number().await).unwrap();
    send(DataUnionV1::new(v1.union, chain.wallet(OPERATOR)).commit(
        U256::from(book.block()),
        book.root(),
        book.book_hash(),
    ))
    .await;
    chain.advance_time(HOUR + 1).await;
    // Sent without waiting for each receipt (anvil mines each at once); all are checked after.
    let mut sent = Vec::new();
    for (i, member) in members[50..350].iter().enumerate() {
        let earnings = book.earnings_of(member).unwrap();
        let proof = book.proof_of(member).unwrap();
        let block = U256::from(book.block());
        let call = if i < 200 {
            old.withdrawAllFor(*member, block, earnings, proof).into_transaction_request()
        } else {
            old.prove(block, *member, earnings, proof).into_transaction_request()
        };
        sent.push(*chain.wallet(BUYER).send_transaction(call.gas_limit(300_000)).await.unwrap().tx_hash());
    }
    for hash in sent {
        let receipt = chain.wallet(BUYER).get_transaction_receipt(hash).await.unwrap().expect("mined");
        assert!(receipt.status(), "a withdrawal or proof on the old union");
    }
    // Revenue after the commit: nobody has proven it.
    chain.mint_data(v1.union, rng.amount()).await;

    // What each leaf (members and the owner) could withdraw before the move: its earnings in the
    // old book now, less what it withdrew.
    let before_view = engine_view(&chain, v1.factory, v1.union).await;
    let before_book = before_view.book_at(chain.block_number().await).unwrap();
    let mut before = BTreeMap::new();
    for &(leaf, earnings) in before_book.leaves() {
        before.insert(leaf, earnings - old.withdrawn(leaf).call().await.unwrap());
    }
    let undistributed = before_view.state().carry();
    let mut held = BTreeMap::new();
    for &leaf in before.keys() {
        held.insert(leaf, chain.data_balance(leaf).await);
    }
    let owed_on_old = old.totalProven().call().await.unwrap() - old.totalWithdrawn().call().await.unwrap();

    let next = chain.create_data_union(fee, HOUR).await;
    let migration = Migration {
        chain: chain.wallet(OWNER),
        owner: chain.address(OWNER),
        previous: v1.union,
        next,
        previous_factory: v1.factory,
        data_token: chain.deployment.data_token,
        from_block: 0,
        patience: Patience { deadline: Duration::from_secs(10), replacements: 0, poll: Duration::from_millis(50) },
    };
    let mut steps = Vec::new();
    let waiting = migration.run(false, |progress| steps.push(progress.clone())).await.unwrap();
    assert!(matches!(waiting, Progress::Waiting { .. }), "{steps:?}");
    assert!(
        matches!(steps[..], [Progress::Started, Progress::Committed { .. }, Progress::Waiting { .. }]),
        "{steps:?}"
    );
    chain.advance_time(HOUR + 1).await;
    steps.clear();
    assert_eq!(migration.run(false, |progress| steps.push(progress.clone())).await.unwrap(), Progress::Done);
    let [
        Progress::Pulled { amount: pulled },
        Progress::Carried { members: carried_members, amount: carried },
        Progress::PaidOut { members: 100, amount: paid_out },
        Progress::Closed,
        Progress::Done,
    ] = steps[..]
    else {
        panic!("unexpected steps: {steps:?}");
    };

    // After: what was paid out on the old union (proven there, not withdrawn) plus the new union's book.
    let after_view = engine_view(&chain, chain.deployment.data_union_factory, next).await;
    let after_book = after_view.book_at(chain.block_number().await).unwrap();
    let owner = chain.address(OWNER);
    let mut carrying = 0;
    for (&leaf, &could) in &before {
        let paid = chain.data_balance(leaf).await - held[&leaf];
        let on_new = after_book.earnings_of(&leaf).unwrap_or_default();
        // Nobody is active on the new union yet, so what the old engine had not split goes to its owner.
        let expected = if leaf == owner { could + undistributed } else { could };
        assert_eq!(paid + on_new, expected, "{leaf}");
        carrying += usize::from(could > paid);
    }
    assert_eq!(paid_out, owed_on_old);
    assert_eq!(carried, sum(before.values().copied()) - owed_on_old);
    assert_eq!(pulled, carried + undistributed);
    assert_eq!(chain.data_balance(v1.union).await, U256::ZERO, "the old union is left empty");
    assert_eq!(chain.data_balance(next).await, pulled);
    assert_eq!(after_view.state().predecessor_reserve(), U256::ZERO);
    // Parted members who withdrew everything before the last revenue carry nothing; all others do.
    assert_eq!((carried_members, carrying), (951, 951));

    // The members go on in the new union: new revenue, a commit, and each withdraws everything with
    // one proof (a stranger pays them out, since these members hold no keys here).
    let add_v2 = |batch| DataUnion::addMembersCall { members: batch }.abi_encode();
    add_members(&chain, &members[100..], add_v2, next).await;
    chain.mint_data(next, tokens(900)).await;
    let view = engine_view(&chain, chain.deployment.data_union_factory, next).await;
    let book = view.book_at(chain.block_number().await).unwrap();
    let hash = chain.block_hash(book.block()).await;
    send(chain.du(next, OPERATOR).commit(U256::from(book.block()), hash, book.root(), book.book_hash())).await;
    chain.advance_time(HOUR + 1).await;
    for member in [members[150], members[300], members[500], members[5]] {
        let held = chain.data_balance(member).await;
        let earnings = book.earnings_of(&member).unwrap();
        let proof = book.proof_of(&member).unwrap();
        send(chain.du(next, BUYER).withdrawAllFor(member, U256::from(book.block()), earnings, proof)).await;
        assert_eq!(chain.data_balance(member).await - held, earnings, "{member}");
        // 900 tokens less the 10 % fee, split among the 900 active members (not the parted one).
        let share = if member == members[5] { U256::ZERO } else { U256::from(9 * 10u64.pow(17)) };
        assert_eq!(earnings, after_book.earnings_of(&member).unwrap() + share, "{member}: carried plus its share");
    }

    // A stray transfer to the old union is forwarded, and is revenue of the new one.
    let stray = U256::from(123_456_789u64);
    chain.mint_data(v1.union, stray).await;
    steps.clear();
    migration.run(false, |progress| steps.push(progress.clone())).await.unwrap();
    assert!(matches!(steps[..], [Progress::Committed { .. }, Progress::Waiting { .. }]), "{steps:?}");
    chain.advance_time(HOUR + 1).await;
    steps.clear();
    migration.run(false, |progress| steps.push(progress.clone())).await.unwrap();
    assert_eq!(steps, [Progress::Pulled { amount: stray }, Progress::Done]);
    let forwarded = engine_view(&chain, chain.deployment.data_union_factory, next).await;
    assert_eq!(forwarded.state().totals().revenue, view.state().totals().revenue + stray);
    assert_eq!(forwarded.state().totals().carried, carried);
}
