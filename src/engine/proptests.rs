//! Property tests of the engine: they mirror the `# Invariants` sections of `state`, `snapshot` and the
//! book, and compare the O(1) engine with the naive reference.

use alloy_primitives::{Address, U256};
use proptest::prelude::*;

use super::{
    AdminFee, Commit, CommittedBook, Event, EventKey, EventKind, FEE_SCALE, UnionState, format_event, latest_commit,
    member_figures, parse_events, reference::Reference, unlocked_commit,
};
use crate::book::{leaf_hash, verify_proof};

/// Few addresses, so joins, parts, re-joins and owner changes collide often.
fn address(i: u8) -> Address {
    Address::with_last_byte(i + 1)
}

fn amount() -> impl Strategy<Value = U256> {
    prop_oneof![
        4 => (0u64..1_000).prop_map(U256::from),
        2 => any::<u128>().prop_map(U256::from),
        1 => any::<[u64; 3]>().prop_map(|[a, b, c]| U256::from_limbs([a, b, c >> 8, 0])),
    ]
}

fn admin_fee() -> impl Strategy<Value = AdminFee> {
    let fraction =
        prop_oneof![Just(U256::ZERO), Just(FEE_SCALE), (0u64..=1_000_000_000_000_000_000).prop_map(U256::from)];
    fraction.prop_map(|value| AdminFee::try_from(value).unwrap())
}

#[derive(Debug, Clone)]
enum Step {
    Join(u8),
    Part(u8),
    Revenue(U256),
    Fee(AdminFee),
    Owner(u8),
    Commit,
    NextBlock,
    FromPredecessor(U256),
    Carried(u8, U256),
    CarryClosed,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (0u8..6).prop_map(Step::Join),
        2 => (0u8..6).prop_map(Step::Part),
        5 => amount().prop_map(Step::Revenue),
        1 => admin_fee().prop_map(Step::Fee),
        1 => (0u8..8).prop_map(Step::Owner),
        1 => Just(Step::Commit),
        2 => Just(Step::NextBlock),
        1 => amount().prop_map(Step::FromPredecessor),
        1 => (0u8..8, amount()).prop_map(|(i, amount)| Step::Carried(i, amount)),
        1 => Just(Step::CarryClosed),
    ]
}

/// A `created` event followed by the steps, with increasing keys.
fn events() -> impl Strategy<Value = Vec<Event>> {
    (admin_fee(), 0u8..8, prop::collection::vec(step(), 0..60)).prop_map(|(admin_fee, owner, steps)| {
        let mut key = EventKey::new(100, 0, 0);
        let mut events = vec![Event { key, kind: EventKind::Created { owner: address(owner), admin_fee } }];
        for step in steps {
            let kind = match step {
                Step::NextBlock => {
                    key = EventKey::new(key.block + 1, 0, 0);
                    continue;
                }
                Step::Join(i) => EventKind::MemberJoined { member: address(i) },
                Step::Part(i) => EventKind::MemberParted { member: address(i) },
                Step::Revenue(amount) => EventKind::Revenue { amount },
                Step::Fee(admin_fee) => EventKind::AdminFeeChanged { admin_fee },
                Step::Owner(i) => EventKind::OwnerChanged { owner: address(i) },
                Step::FromPredecessor(amount) => EventKind::FromPredecessor { amount },
                Step::Carried(i, amount) => EventKind::Carried { member: address(i), amount },
                Step::CarryClosed => EventKind::CarryClosed,
                Step::Commit => EventKind::Committed {
                    book_block: key.block,
                    root: Default::default(),
                    book_hash: Default::default(),
                    timestamp: key.block * 12,
                },
            };
            key.log_index += 1;
            events.push(Event { key, kind });
        }
        events
    })
}

fn one_by_one(events: &[Event]) -> UnionState {
    let mut state = UnionState::from_created(&events[0]).unwrap();
    for event in &events[1..] {
        state.apply(event).unwrap();
    }
    state
}

fn sum_of_earnings(state: &UnionState) -> U256 {
    state.members().map(|m| m.earnings).fold(U256::ZERO, |sum, e| sum + e)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(192))]

    #[test]
    fn the_engine_equals_the_naive_reference_after_every_event(events in events()) {
        let mut state = UnionState::from_created(&events[0]).unwrap();
        let mut reference = Reference::default();
        reference.apply(&events[0]);
        for event in &events[1..] {
            state.apply(event).unwrap();
            reference.apply(event);
            let leaves: Vec<_> = state.members().map(|m| (m.address, m.earnings, m.active)).collect();
            let expected: Vec<_> = reference.leaves.iter().map(|l| (l.address, l.earnings, l.active)).collect();
            prop_assert_eq!(leaves, expected);
            prop_assert_eq!(state.carry(), reference.carry);
            prop_assert_eq!(state.totals().revenue, reference.total_revenue);
            prop_assert_eq!(state.predecessor_reserve(), reference.reserve);
            prop_assert_eq!(state.is_carry_closed(), reference.carry_closed);
            prop_assert_eq!(state.owner(), reference.owner);
            prop_assert_eq!(state.admin_fee().value(), reference.admin_fee);
        }
    }

    #[test]
    fn revenue_is_conserved_and_no_earnings_ever_decrease(events in events()) {
        let mut state = UnionState::from_created(&events[0]).unwrap();
        let mut previous: Vec<U256> = vec![];
        let mut sent_while_open = U256::ZERO;
        for event in &events[1..] {
            if let (EventKind::FromPredecessor { amount }, false) = (&event.kind, state.is_carry_closed()) {
                sent_while_open += *amount;
            }
            state.apply(event).unwrap();
            let totals = state.totals();
            prop_assert!(totals.carried + state.predecessor_reserve() <= sent_while_open);
            prop_assert_eq!(sum_of_earnings(&state) + state.carry(), totals.revenue + totals.carried);
            prop_assert_eq!(totals.admin_fees + totals.owner_without_members + totals.member_shares + state.carry(), totals.revenue);
            let earnings: Vec<U256> = state.members().map(|m| m.earnings).collect();
            prop_assert!(earnings.len() >= previous.len());
            for (before, now) in previous.iter().zip(&earnings) {
                prop_assert!(now >= before);
            }
            previous = earnings;
        }
    }

    #[test]
    fn replaying_resuming_from_any_snapshot_and_applying_one_by_one_give_identical_bytes(events in events(), split in any::<prop::sample::Index>()) {
        let whole = UnionState::replay(&events, None).unwrap();
        let mut stepwise = one_by_one(&events);
        stepwise.advance_to(events.last().unwrap().key.block).unwrap();
        prop_assert_eq!(&stepwise, &whole);

        let split = 1 + split.index(events.len());
        let snapshot = one_by_one(&events[..split]).to_snapshot();
        let mut resumed = UnionState::from_snapshot(&snapshot).unwrap();
        prop_assert_eq!(resumed.to_snapshot(), snapshot);
        for event in &events[split..] {
            resumed.apply(event).unwrap();
        }
        resumed.advance_to(events.last().unwrap().key.block).unwrap();
        prop_assert_eq!(resumed.to_snapshot(), whole.to_snapshot());
        prop_assert_eq!(&resumed, &whole);
        prop_assert_eq!(resumed.book().root(), whole.book().root());
    }

    #[test]
    fn the_state_at_a_block_depends_only_on_events_up_to_it(events in events(), cut in any::<prop::sample::Index>()) {
        let blocks: Vec<u64> = events.iter().map(|e| e.key.block).collect();
        let block = blocks[cut.index(blocks.len())];
        let prefix: Vec<Event> = events.iter().filter(|e| e.key.block <= block).cloned().collect();
        prop_assert_eq!(UnionState::replay(&events, Some(block)).unwrap().to_snapshot(), UnionState::replay(&prefix, Some(block)).unwrap().to_snapshot());
    }

    #[test]
    fn every_leaf_proof_verifies_and_a_changed_amount_or_block_does_not(events in events()) {
        let book = UnionState::replay(&events, None).unwrap().book();
        let block = book.block();
        for (i, &(address, earnings)) in book.leaves().iter().enumerate() {
            let proof = book.proof(i).unwrap();
            prop_assert!(verify_proof(book.root(), leaf_hash(address, earnings, block), &proof));
            prop_assert!(!verify_proof(book.root(), leaf_hash(address, earnings + U256::from(1), block), &proof));
            prop_assert!(!verify_proof(book.root(), leaf_hash(address, earnings, block + 1), &proof));
        }
    }

    #[test]
    fn every_event_formats_to_a_line_that_parses_back(events in events()) {
        let text: Vec<String> = events.iter().map(format_event).collect();
        let parsed = parse_events(&text.join("\n")).unwrap();
        prop_assert_eq!(parsed.into_iter().map(|(_, event)| event).collect::<Vec<_>>(), events);
    }

    #[test]
    fn member_figures_split_committed_earnings_and_prove_the_withdrawable_ones(
        events in events(),
        cut in any::<prop::sample::Index>(),
        withdrawn in 0u64..2_000,
        freeze in 0u64..150,
        now in 0u64..400,
    ) {
        let (first, last) = (events[0].key.block, events.last().unwrap().key.block);
        let early_block = first + cut.index((last - first + 1) as usize) as u64;
        let early = UnionState::replay(&events, Some(early_block)).unwrap().book();
        let state = UnionState::replay(&events, None).unwrap();
        let late = state.book();
        let commit = |book: &crate::book::Book, log_index, timestamp| Commit {
            key: EventKey::new(last + 1, 0, log_index),
            book_block: book.block(),
            root: book.root(),
            book_hash: book.book_hash(),
            timestamp,
        };
        let commits = [commit(&early, 0, 100), commit(&late, 1, 200)];
        let paired = |c: Option<&Commit>| c.map(|c| (*c, if c.key.log_index == 0 { &early } else { &late }));
        let (latest, unlocked) = (paired(latest_commit(&commits)), paired(unlocked_commit(&commits, now, freeze)));
        let latest = latest.as_ref().map(|(c, book)| CommittedBook::new(c, book).unwrap());
        let unlocked = unlocked.as_ref().map(|(c, book)| CommittedBook::new(c, book).unwrap());
        let withdrawn = U256::from(withdrawn);
        for member in state.members() {
            let figures = member_figures(&member.address, member.earnings, latest, unlocked, withdrawn);
            let unlocked_earnings = unlocked.and_then(|c| c.book().earnings_of(&member.address)).unwrap_or_default();
            prop_assert_eq!(figures.committed, late.earnings_of(&member.address).unwrap());
            prop_assert_eq!(figures.withdrawable, unlocked_earnings.saturating_sub(withdrawn));
            prop_assert_eq!(figures.frozen + unlocked_earnings, figures.committed);
            prop_assert!(figures.committed <= figures.earnings);
            if let (Some(proof), Some(book)) = (&figures.proof, unlocked.map(|c| c.book())) {
                prop_assert!(verify_proof(book.root(), leaf_hash(member.address, proof.earnings, proof.block), &proof.proof));
            }
        }
    }
}
