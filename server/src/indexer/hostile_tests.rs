//! The chain is public: anyone can deploy a union through the factory with any parameters, and a
//! union's owner or operator can emit any event its contract allows. These tests feed such logs
//! (and random ones) through decode and the read models, and check that nothing stops: a union
//! whose event cannot be applied is set aside alone, and every model stands at the last block.

use std::collections::HashSet;

use alloy::primitives::{Address, B256, Bytes, LogData, U256, keccak256};
use alloy::rpc::types::Log;
use alloy::sol_types::SolEvent;
use coop::contracts::{DataToken, DataUnion, DataUnionFactory, Marketplace};
use proptest::prelude::*;

use super::decode::{DecodeError, Watched, decode, position};
use crate::catalog::Catalog;
use crate::live::ReadModel;
use crate::store::StoredEvent;
use crate::unions::Unions;

const WATCHED: Watched = Watched {
    factory: Address::repeat_byte(0xfa),
    marketplace: Address::repeat_byte(0x3a),
    data_token: Address::repeat_byte(0xda),
};
const OWNER: Address = Address::repeat_byte(0x01);
const OPERATOR: Address = Address::repeat_byte(0x02);
const MEMBER: Address = Address::repeat_byte(0x04);
const UNION_A: Address = Address::repeat_byte(0xa0);
const UNION_B: Address = Address::repeat_byte(0xb0);

/// A mined log at `(block, log_index)` emitted by `address`, with its block's time.
fn log(block: u64, log_index: u64, address: Address, data: LogData) -> Log {
    Log {
        inner: alloy::primitives::Log { address, data },
        block_hash: Some(keccak256(block.to_be_bytes())),
        block_number: Some(block),
        block_timestamp: Some(1_000 + block * 12),
        transaction_hash: Some(B256::repeat_byte(0x77)),
        transaction_index: Some(0),
        log_index: Some(log_index),
        removed: false,
    }
}

fn created(union: Address, admin_fee: U256, freeze_period: U256) -> LogData {
    DataUnionFactory::DataUnionCreated {
        du: union,
        owner: OWNER,
        operator: OPERATOR,
        adminFee: admin_fee,
        freezePeriod: freeze_period,
    }
    .encode_log_data()
}

fn joined(member: Address) -> LogData {
    DataUnion::MemberJoined { member }.encode_log_data()
}

fn revenue(to: Address, value: U256) -> LogData {
    DataToken::Transfer { from: Address::ZERO, to, value }.encode_log_data()
}

fn commit(book_block: u64, root: B256) -> LogData {
    DataUnion::NewCommit { blockNumber: U256::from(book_block), root, bookHash: root }.encode_log_data()
}

/// Decodes the logs in order, as the indexer does, into what it would store.
fn stored(logs: &[Log]) -> Vec<StoredEvent> {
    let mut unions = HashSet::new();
    logs.iter()
        .filter_map(|log| {
            let at = position(log).expect("a mined log");
            decode(log, &at, &WATCHED, &mut unions).ok().flatten()
        })
        .collect()
}

#[test]
fn a_freeze_period_beyond_64_bits_is_a_legal_union_whose_commits_never_unlock() {
    let huge = U256::from(1u8) << 64;
    let logs = [
        log(10, 0, WATCHED.factory, created(UNION_A, U256::ZERO, huge)),
        log(11, 0, UNION_A, joined(MEMBER)),
        log(12, 0, WATCHED.data_token, revenue(UNION_A, U256::from(100u64))),
    ];

    let unions = Unions::build(&stored(&logs), 12);

    let union = unions.get(&UNION_A).expect("the union is served");
    assert_eq!(union.freeze_period, u64::MAX);
    assert_eq!(union.state().member(&MEMBER).unwrap().earnings, U256::from(100u64));
    assert_eq!(unions.as_of(), 12);
}

#[test]
fn announced_changes_wait_until_applied_and_a_vetoed_commit_is_never_offered() {
    let announce_fee = DataUnion::AdminFeeChangeAnnounced {
        adminFee: U256::from(10u64).pow(U256::from(18)),
        effectiveAt: U256::from(5_000),
    };
    let announce_operator = DataUnion::OperatorChangeAnnounced { newOperator: OWNER, effectiveAt: U256::MAX };
    let logs = [
        log(10, 0, WATCHED.factory, created(UNION_A, U256::ZERO, U256::from(3_600))),
        log(10, 1, UNION_A, DataUnion::ValidatorAdded { validator: MEMBER }.encode_log_data()),
        log(11, 0, UNION_A, announce_fee.encode_log_data()),
        log(11, 1, UNION_A, announce_operator.encode_log_data()),
        log(12, 0, UNION_A, commit(11, B256::repeat_byte(1))),
        log(
            13,
            0,
            UNION_A,
            DataUnion::CommitVetoed { blockNumber: U256::from(11), validator: MEMBER }.encode_log_data(),
        ),
    ];

    let unions = Unions::build(&stored(&logs), 13);

    let union = unions.get(&UNION_A).expect("the union is served");
    assert_eq!(union.operator, OPERATOR, "an announced operator has not taken over");
    assert_eq!(union.announced_operator.map(|a| (a.value, a.effective_at)), Some((OWNER, u64::MAX)));
    assert_eq!(union.announced_admin_fee.map(|a| a.effective_at), Some(5_000));
    assert_eq!(union.state().admin_fee(), coop::engine::AdminFee::ZERO, "the fee has not risen");
    assert_eq!(union.validators.keys().copied().collect::<Vec<_>>(), vec![MEMBER]);
    assert!(union.state().commits().is_empty(), "the vetoed commit is gone");

    let applied = [
        log(14, 0, UNION_A, DataUnion::AdminFeeChanged { adminFee: announce_fee.adminFee }.encode_log_data()),
        log(
            14,
            1,
            UNION_A,
            DataUnion::OperatorChanged { previousOperator: OPERATOR, newOperator: OWNER }.encode_log_data(),
        ),
        log(14, 2, UNION_A, DataUnion::ValidatorRemoved { validator: MEMBER }.encode_log_data()),
    ];
    let unions = Unions::build(&stored(&[logs.as_slice(), applied.as_slice()].concat()), 14);
    let union = unions.get(&UNION_A).unwrap();
    assert_eq!((union.operator, union.announced_operator, union.announced_admin_fee), (OWNER, None, None));
    assert_eq!(union.state().admin_fee(), coop::engine::AdminFee::ALL);
    assert!(union.validators.is_empty());
}

#[test]
fn a_union_credits_carried_earnings_only_out_of_what_its_predecessor_sent() {
    let predecessor = UNION_B;
    let from = |from: Address, value: u64| DataToken::Transfer { from, to: UNION_A, value: U256::from(value) };
    let carried = |member: Address, amount: u64| DataUnion::EarningsCarried { member, amount: U256::from(amount) };
    let logs = [
        log(10, 0, WATCHED.factory, created(UNION_A, U256::ZERO, U256::ZERO)),
        log(11, 0, UNION_A, joined(OWNER)),
        // Before the union names its predecessor, what it sends is revenue like anyone's.
        log(11, 1, WATCHED.data_token, from(predecessor, 10).encode_log_data()),
        log(12, 0, UNION_A, DataUnion::MigrationStarted { predecessor }.encode_log_data()),
        log(13, 0, WATCHED.data_token, from(predecessor, 100).encode_log_data()),
        // A stranger's transfer is revenue, never backing for the carry.
        log(13, 1, WATCHED.data_token, from(MEMBER, 6).encode_log_data()),
        log(14, 0, UNION_A, carried(MEMBER, 70).encode_log_data()),
        // An owner declaring more than arrived gets only what is left.
        log(14, 1, UNION_A, carried(OPERATOR, 1_000).encode_log_data()),
    ];

    let unions = Unions::build(&stored(&logs), 14);

    let state = unions.get(&UNION_A).expect("the union is served").state();
    let earnings = |who: Address| state.member(&who).map(|m| m.earnings);
    assert_eq!(earnings(OWNER), Some(U256::from(16)), "revenue: 10 before the migration and the stranger's 6");
    assert_eq!((earnings(MEMBER), earnings(OPERATOR)), (Some(U256::from(70)), Some(U256::from(30))));
    assert_eq!((state.totals().carried, state.predecessor_reserve()), (U256::from(100), U256::ZERO));
}

#[test]
fn a_log_the_indexer_did_not_ask_for_is_passed_over_even_when_it_cannot_be_read() {
    // `JoinPartAgentAdded` is a Data Union event the indexer never asks for; a node that sends one
    // anyway, cut short so it cannot be decoded, must not set the union aside.
    let mut unasked = DataUnion::JoinPartAgentAdded { agent: OWNER }.encode_log_data();
    unasked = LogData::new_unchecked(unasked.topics()[..1].to_vec(), Bytes::new());
    let logs = [
        log(10, 0, WATCHED.factory, created(UNION_A, U256::ZERO, U256::ZERO)),
        log(11, 0, UNION_A, unasked),
        log(12, 0, UNION_A, joined(MEMBER)),
    ];

    let events = stored(&logs);
    let unions = Unions::build(&events, 12);

    assert_eq!(events.len(), 2, "{events:?}");
    assert!(unions.quarantine(&UNION_A).is_none());
    assert!(unions.get(&UNION_A).unwrap().state().member(&MEMBER).is_some());
}

#[test]
fn a_union_whose_event_cannot_be_applied_is_set_aside_and_the_others_go_on() {
    let logs = [
        log(10, 0, WATCHED.factory, created(UNION_A, U256::ZERO, U256::ZERO)),
        log(10, 1, WATCHED.factory, created(UNION_B, U256::ZERO, U256::ZERO)),
        log(11, 0, UNION_A, joined(MEMBER)),
        log(11, 1, UNION_B, joined(MEMBER)),
        // Total revenue past 2^256 - 1: the engine refuses it.
        log(12, 0, WATCHED.data_token, revenue(UNION_A, U256::MAX)),
        log(12, 1, WATCHED.data_token, revenue(UNION_A, U256::from(1u64))),
        log(13, 0, WATCHED.data_token, revenue(UNION_B, U256::from(7u64))),
        // An admin fee over 100 % cannot be read at all.
        log(14, 0, UNION_B, DataUnion::AdminFeeChanged { adminFee: U256::MAX }.encode_log_data()),
        log(15, 0, WATCHED.factory, created(Address::repeat_byte(0xc0), U256::ZERO, U256::ZERO)),
    ];
    let events = stored(&logs);

    let unions = Unions::build(&events, 15);

    let a = unions.quarantine(&UNION_A).expect("A is set aside");
    assert_eq!((a.block, a.log_index), (12, 1));
    assert!(a.reason.contains("overflow"), "{}", a.reason);
    let b = unions.quarantine(&UNION_B).expect("B is set aside at its unreadable fee");
    assert_eq!(b.block, 14);
    assert!(unions.get(&UNION_A).is_none() && unions.get(&UNION_B).is_none());
    assert!(unions.get(&Address::repeat_byte(0xc0)).is_some(), "a later union is served");
    assert_eq!(unions.as_of(), 15);

    // Range by range, as the live models go, sets the same unions aside at the same events.
    let mut live = Unions::default();
    for block in 10..=15 {
        let of_block: Vec<_> = events.iter().filter(|e| e.block == block).cloned().collect();
        live.apply(&of_block, block);
    }
    assert_eq!(live.quarantine(&UNION_A), Some(a));
    assert_eq!(live.quarantine(&UNION_B), Some(b));
}

#[test]
fn a_commit_of_a_block_before_the_union_existed_never_hides_a_good_commit_from_members() {
    let base = [
        log(10, 0, WATCHED.factory, created(UNION_A, U256::ZERO, U256::ZERO)),
        log(11, 0, UNION_A, joined(MEMBER)),
        log(12, 0, WATCHED.data_token, revenue(UNION_A, U256::from(100u64))),
    ];
    let good_root = Unions::build(&stored(&base), 12).get(&UNION_A).unwrap().book_at(12).unwrap().root();
    let mut logs = base.to_vec();
    logs.push(log(13, 0, UNION_A, commit(12, good_root)));
    // A hostile operator: the book of a block before the union, then a root nobody can match.
    logs.push(log(14, 0, UNION_A, commit(3, B256::repeat_byte(9))));
    logs.push(log(15, 0, UNION_A, commit(14, B256::repeat_byte(8))));

    let unions = Unions::build(&stored(&logs), 15);

    let union = unions.get(&UNION_A).expect("still served");
    assert_eq!(union.valid_commits().len(), 1);
    let figures = union.figures(&MEMBER, u64::MAX - 1);
    assert_eq!((figures.committed, figures.withdrawable), (U256::from(100u64), U256::from(100u64)));
    assert_eq!(figures.proof.expect("a proof of the good commit").block, 12);
    assert!(union.book_at(3).is_err(), "no book before the union: an error, not a panic");
}

#[test]
fn a_commit_without_its_block_time_is_not_decoded_with_a_time_of_zero() {
    let mut commit_log = log(13, 0, UNION_A, commit(12, B256::repeat_byte(1)));
    commit_log.block_timestamp = None;
    let mut unions = HashSet::from([UNION_A]);
    let at = position(&commit_log).unwrap();

    assert!(decode(&commit_log, &at, &WATCHED, &mut unions).is_err());
}

#[test]
fn every_kept_event_carries_its_block_time_and_a_log_without_one_asks_for_it() {
    let logs =
        [log(5, 0, WATCHED.factory, created(UNION_A, U256::ZERO, U256::ZERO)), log(6, 0, UNION_A, joined(MEMBER))];
    let times: Vec<u64> = stored(&logs).iter().map(|event| event.time).collect();
    assert_eq!(times, [1_060, 1_072]);

    let mut unions = HashSet::from([UNION_A]);
    let mut payment = log(7, 0, WATCHED.data_token, revenue(UNION_A, U256::from(5u64)));
    payment.block_timestamp = None;
    let at = position(&payment).unwrap();
    match decode(&payment, &at, &WATCHED, &mut unions) {
        Err(DecodeError::NoBlockTime { block: 7, block_hash }) => assert_eq!(block_hash, at.block_hash),
        other => panic!("a kept log without its time must ask for it, not be stored: {other:?}"),
    }
    // A transfer between two wallets is not kept: no block needs reading for it.
    let mut between_wallets = log(7, 1, WATCHED.data_token, revenue(MEMBER, U256::from(5u64)));
    between_wallets.block_timestamp = None;
    let at = position(&between_wallets).unwrap();
    assert!(matches!(decode(&between_wallets, &at, &WATCHED, &mut unions), Ok(None)));
}

/// The contracts and addresses a hostile log may come from.
fn emitter() -> impl Strategy<Value = Address> {
    prop_oneof![
        Just(WATCHED.factory),
        Just(WATCHED.marketplace),
        Just(WATCHED.data_token),
        Just(UNION_A),
        Just(UNION_B),
        any::<[u8; 20]>().prop_map(Address::from),
    ]
}

/// An amount, often at an edge.
fn amount() -> impl Strategy<Value = U256> {
    prop_oneof![
        Just(U256::ZERO),
        Just(U256::MAX),
        Just(U256::from(1u8) << 64),
        Just(U256::from(10u64).pow(U256::from(18))),
        any::<u64>().prop_map(U256::from),
        any::<[u64; 4]>().prop_map(U256::from_limbs),
    ]
}

fn address() -> impl Strategy<Value = Address> {
    prop_oneof![Just(OWNER), Just(MEMBER), Just(UNION_A), any::<[u8; 20]>().prop_map(Address::from)]
}

/// A log's data: a well-formed event of any kind the indexer reads, with hostile values, or noise.
fn data() -> impl Strategy<Value = LogData> {
    let id = any::<[u8; 32]>().prop_map(B256::from);
    prop_oneof![
        (address(), amount(), amount()).prop_map(|(du, fee, freeze)| created(du, fee, freeze)),
        address().prop_map(joined),
        address().prop_map(|member| DataUnion::MemberParted { member }.encode_log_data()),
        amount().prop_map(|fee| DataUnion::AdminFeeChanged { adminFee: fee }.encode_log_data()),
        (address(), address()).prop_map(|(from, to)| {
            DataUnion::OwnershipTransferred { previousOwner: from, newOwner: to }.encode_log_data()
        }),
        (amount(), id.clone()).prop_map(|(block, root)| {
            DataUnion::NewCommit { blockNumber: block, root, bookHash: root }.encode_log_data()
        }),
        (address(), amount()).prop_map(|(member, amount)| {
            DataUnion::Withdrawn { member, recipient: member, amount }.encode_log_data()
        }),
        (address(), address()).prop_map(|(from, to)| {
            DataUnion::OperatorChanged { previousOperator: from, newOperator: to }.encode_log_data()
        }),
        (address(), amount()).prop_map(|(to, at)| {
            DataUnion::OperatorChangeAnnounced { newOperator: to, effectiveAt: at }.encode_log_data()
        }),
        (amount(), amount()).prop_map(|(fee, at)| {
            DataUnion::AdminFeeChangeAnnounced { adminFee: fee, effectiveAt: at }.encode_log_data()
        }),
        (amount(), address()).prop_map(|(block, validator)| {
            DataUnion::CommitVetoed { blockNumber: block, validator }.encode_log_data()
        }),
        (address(), amount()).prop_map(|(validator, at)| {
            DataUnion::ValidatorRemovalAnnounced { validator, effectiveAt: at }.encode_log_data()
        }),
        address().prop_map(|validator| DataUnion::ValidatorAdded { validator }.encode_log_data()),
        address().prop_map(|validator| DataUnion::ValidatorRemoved { validator }.encode_log_data()),
        (address(), amount()).prop_map(|(to, value)| revenue(to, value)),
        (address(), address(), amount())
            .prop_map(|(from, to, value)| DataToken::Transfer { from, to, value }.encode_log_data()),
        address().prop_map(|predecessor| DataUnion::MigrationStarted { predecessor }.encode_log_data()),
        (address(), amount())
            .prop_map(|(member, amount)| DataUnion::EarningsCarried { member, amount }.encode_log_data()),
        amount().prop_map(|total| DataUnion::CarryClosed { carriedTotal: total }.encode_log_data()),
        (id.clone(), address(), amount()).prop_map(|(id, owner, price)| {
            Marketplace::ProductCreated {
                owner,
                id,
                name: "x".repeat(3),
                beneficiary: owner,
                pricePerSecond: price,
                minimumSubscriptionSeconds: price,
            }
            .encode_log_data()
        }),
        (id.clone(), address(), amount()).prop_map(|(product, subscriber, end)| {
            Marketplace::Subscribed { productId: product, subscriber, endTimestamp: end }.encode_log_data()
        }),
        (id, address(), amount()).prop_map(|(product, subscriber, price)| {
            Marketplace::Purchased { productId: product, subscriber, payer: subscriber, addSeconds: price, price }
                .encode_log_data()
        }),
        // Noise under a real event's topic, or under none.
        (
            prop::sample::select(vec![
                DataUnion::NewCommit::SIGNATURE_HASH,
                DataUnion::MemberJoined::SIGNATURE_HASH,
                DataUnionFactory::DataUnionCreated::SIGNATURE_HASH,
                DataToken::Transfer::SIGNATURE_HASH,
                Marketplace::ProductCreated::SIGNATURE_HASH,
                B256::repeat_byte(0x42),
            ]),
            prop::collection::vec(any::<[u8; 32]>().prop_map(B256::from), 0..4),
            prop::collection::vec(any::<u8>(), 0..200),
        )
            .prop_map(|(topic, more, bytes)| {
                LogData::new_unchecked([vec![topic], more].concat(), Bytes::from(bytes))
            }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Whatever the logs, the models are built and advanced range by range without stopping, stand at
    /// the last block, and agree with a build from the whole log.
    #[test]
    fn no_log_stops_the_read_models(
        mut entries in prop::collection::vec((emitter(), data(), 0u64..3), 1..60),
    ) {
        // Two unions exist from the start, so their events are read.
        entries.insert(0, (WATCHED.factory, created(UNION_A, U256::ZERO, U256::ZERO), 0));
        entries.insert(1, (WATCHED.factory, created(UNION_B, U256::from(5u64), U256::from(60u64)), 0));
        let mut block = 1;
        let logs: Vec<Log> = entries
            .into_iter()
            .enumerate()
            .map(|(index, (address, data, gap))| {
                block += gap;
                log(block, index as u64, address, data)
            })
            .collect();
        let events = stored(&logs);

        let whole = Unions::build(&events, block);
        let catalog = Catalog::build(&events, block);

        prop_assert_eq!(whole.as_of(), block);
        prop_assert_eq!(catalog.as_of(), block);
        let mut live = Unions::default();
        for at in 1..=block {
            let of_block: Vec<_> = events.iter().filter(|e| e.block == at).cloned().collect();
            live.apply(&of_block, at);
        }
        prop_assert_eq!(live.as_of(), block);
        for union in [UNION_A, UNION_B] {
            prop_assert_eq!(live.quarantine(&union), whole.quarantine(&union));
            let (a, b) = (live.get(&union), whole.get(&union));
            prop_assert_eq!(a.map(|u| u.state().totals()), b.map(|u| u.state().totals()));
            prop_assert_eq!(a.map(|u| u.state().leaf_count()), b.map(|u| u.state().leaf_count()));
            if let Some(union) = b {
                // Figures and books answer, whatever was committed.
                let _ = union.figures(&MEMBER, u64::MAX);
                for commit in union.state().commits() {
                    let _ = union.root_at(commit.book_block);
                }
            }
        }
    }
}
