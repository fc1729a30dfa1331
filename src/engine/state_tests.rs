use alloy_primitives::{Address, B256, U256, address};

use super::*;

const OWNER: Address = address!("0x00000000000000000000000000000000000000aa");
const NEW_OWNER: Address = address!("0x00000000000000000000000000000000000000ab");
const ALICE: Address = address!("0x00000000000000000000000000000000000000a1");
const BOB: Address = address!("0x00000000000000000000000000000000000000b0");
const CAROL: Address = address!("0x00000000000000000000000000000000000000c0");

fn wei(value: u64) -> U256 {
    U256::from(value)
}

fn fee(text: &str) -> AdminFee {
    text.parse().unwrap()
}

/// Events with increasing keys: one per transaction, a new block for each `next_block`.
struct Script {
    state: UnionState,
    key: EventKey,
}

impl Script {
    fn new(admin_fee: AdminFee) -> Self {
        let key = EventKey::new(1, 0, 0);
        Script { state: UnionState::new(key, OWNER, admin_fee), key }
    }

    fn apply(&mut self, kind: EventKind) -> &mut Self {
        self.key.transaction_index += 1;
        self.state.apply(&Event { key: self.key, kind }).unwrap();
        self
    }

    fn join(&mut self, member: Address) -> &mut Self {
        self.apply(EventKind::MemberJoined { member })
    }

    fn part(&mut self, member: Address) -> &mut Self {
        self.apply(EventKind::MemberParted { member })
    }

    fn revenue(&mut self, amount: u64) -> &mut Self {
        self.apply(EventKind::Revenue { amount: wei(amount) })
    }

    fn earnings(&self, address: Address) -> U256 {
        self.state.member(&address).unwrap().earnings
    }
}

#[test]
fn the_admin_fee_rounds_down_and_the_remainder_is_carried() {
    let mut s = Script::new(fee("300000000000000000"));
    s.join(ALICE).join(BOB).join(CAROL).revenue(1000);
    assert_eq!(s.earnings(OWNER), wei(300));
    assert_eq!([s.earnings(ALICE), s.earnings(BOB), s.earnings(CAROL)], [wei(233); 3]);
    assert_eq!(s.state.carry(), wei(1));
    assert_eq!(
        s.state.totals(),
        Totals {
            revenue: wei(1000),
            admin_fees: wei(300),
            owner_without_members: U256::ZERO,
            member_shares: wei(699),
            carried: U256::ZERO
        }
    );
}

#[test]
fn the_carry_joins_the_next_revenue_so_nothing_is_lost() {
    let mut s = Script::new(AdminFee::ZERO);
    s.join(ALICE).join(BOB).join(CAROL).revenue(10);
    assert_eq!((s.earnings(ALICE), s.state.carry()), (wei(3), wei(1)));
    s.revenue(2);
    assert_eq!(
        (s.earnings(ALICE), s.earnings(BOB), s.earnings(CAROL), s.state.carry()),
        (wei(4), wei(4), wei(4), wei(0))
    );
    s.revenue(1).revenue(1);
    assert_eq!((s.earnings(ALICE), s.state.carry()), (wei(4), wei(2)));
}

#[test]
fn the_fee_is_taken_from_the_amount_only_not_from_the_carry() {
    let mut s = Script::new(fee("500000000000000000"));
    s.join(ALICE).join(BOB).revenue(3);
    assert_eq!((s.earnings(OWNER), s.earnings(ALICE), s.state.carry()), (wei(1), wei(1), wei(0)));
    s.revenue(5);
    assert_eq!((s.earnings(OWNER), s.earnings(ALICE), s.state.carry()), (wei(3), wei(2), wei(1)));
    s.revenue(1);
    assert_eq!((s.earnings(OWNER), s.earnings(ALICE), s.state.carry()), (wei(3), wei(3), wei(0)));
}

#[test]
fn with_no_active_member_the_owner_gets_the_amount_and_the_carry() {
    let mut s = Script::new(fee("100000000000000000"));
    s.revenue(50);
    assert_eq!(s.earnings(OWNER), wei(50));
    s.join(ALICE).join(BOB).revenue(11);
    assert_eq!((s.earnings(OWNER), s.earnings(ALICE), s.state.carry()), (wei(51), wei(5), wei(0)));
    s.revenue(3);
    assert_eq!((s.earnings(ALICE), s.state.carry()), (wei(6), wei(1)));
    s.part(ALICE).part(BOB).revenue(7);
    assert_eq!(s.earnings(OWNER), wei(51 + 7 + 1));
    assert_eq!(s.state.carry(), U256::ZERO);
    let totals = s.state.totals();
    assert_eq!(totals.revenue, wei(71));
    assert_eq!(totals.owner_without_members, wei(50 + 8));
}

#[test]
fn a_rejoining_member_keeps_its_earnings_and_its_leaf() {
    let mut s = Script::new(AdminFee::ZERO);
    s.join(ALICE).join(BOB).revenue(10).part(ALICE).revenue(10);
    assert_eq!((s.earnings(ALICE), s.earnings(BOB)), (wei(5), wei(15)));
    s.join(CAROL).join(ALICE).revenue(9);
    assert_eq!((s.earnings(ALICE), s.earnings(BOB), s.earnings(CAROL)), (wei(8), wei(18), wei(3)));
    let order: Vec<Address> = s.state.members().map(|m| m.address).collect();
    assert_eq!(order, vec![OWNER, ALICE, BOB, CAROL]);
}

#[test]
fn parted_members_keep_their_earnings_and_stop_sharing() {
    let mut s = Script::new(AdminFee::ZERO);
    s.join(ALICE).join(BOB).revenue(100).part(BOB).revenue(100);
    let bob = s.state.member(&BOB).unwrap();
    assert_eq!((bob.earnings, bob.active, bob.index), (wei(50), false, 2));
    assert_eq!(s.earnings(ALICE), wei(150));
    assert_eq!(s.state.active_count(), 1);
}

#[test]
fn joining_twice_or_parting_a_stranger_changes_nothing() {
    let mut s = Script::new(AdminFee::ZERO);
    s.join(ALICE).revenue(10);
    let before = s.state.clone();
    s.join(ALICE).part(BOB);
    assert_eq!(s.state.members().collect::<Vec<_>>(), before.members().collect::<Vec<_>>());
    assert_eq!(s.state.active_count(), 1);
    assert_eq!(s.state.member(&BOB), None);
}

#[test]
fn an_owner_change_moves_where_the_fee_goes_and_gives_the_new_owner_a_leaf() {
    let mut s = Script::new(fee("100000000000000000"));
    s.join(ALICE).revenue(100);
    s.apply(EventKind::OwnerChanged { owner: NEW_OWNER }).revenue(100);
    assert_eq!((s.earnings(OWNER), s.earnings(NEW_OWNER), s.earnings(ALICE)), (wei(10), wei(10), wei(180)));
    assert_eq!(s.state.owner(), NEW_OWNER);
    assert_eq!(s.state.member(&NEW_OWNER).map(|m| (m.index, m.active)), Some((2, false)));
    s.apply(EventKind::OwnerChanged { owner: ALICE }).revenue(100);
    assert_eq!(s.state.leaf_count(), 3, "an existing leaf is reused");
    assert_eq!(s.earnings(ALICE), wei(180 + 10 + 90));
}

#[test]
fn an_admin_fee_change_applies_to_later_revenue_only() {
    let mut s = Script::new(AdminFee::ZERO);
    s.join(ALICE).revenue(100);
    s.apply(EventKind::AdminFeeChanged { admin_fee: AdminFee::ALL }).revenue(100);
    assert_eq!((s.earnings(OWNER), s.earnings(ALICE)), (wei(100), wei(100)));
}

#[test]
fn a_vetoed_commit_is_forgotten_and_its_block_may_be_committed_again() {
    let commit = |book_block: u64, byte: u8| EventKind::Committed {
        book_block,
        root: B256::repeat_byte(byte),
        book_hash: B256::repeat_byte(byte),
        timestamp: 100,
    };
    let mut s = Script::new(AdminFee::ZERO);
    s.apply(commit(1, 1)).apply(commit(2, 2)).apply(EventKind::CommitVetoed { book_block: 2 });
    let roots = |s: &Script| s.state.commits().iter().map(|c| (c.book_block, c.root)).collect::<Vec<_>>();
    assert_eq!(roots(&s), vec![(1, B256::repeat_byte(1))], "the older commit stays provable");

    s.apply(commit(2, 3));
    assert_eq!(roots(&s), vec![(1, B256::repeat_byte(1)), (2, B256::repeat_byte(3))]);
    // A veto of a block never committed changes nothing.
    s.apply(EventKind::CommitVetoed { book_block: 9 });
    assert_eq!(roots(&s).len(), 2);
}

#[test]
fn the_owner_who_joins_shares_revenue_on_its_single_leaf() {
    let mut s = Script::new(fee("500000000000000000"));
    s.join(OWNER).join(ALICE).revenue(100);
    assert_eq!((s.earnings(OWNER), s.earnings(ALICE)), (wei(75), wei(25)));
    assert_eq!(s.state.leaf_count(), 2);
}

#[test]
fn events_out_of_order_or_repeated_are_refused_and_change_nothing() {
    let mut s = Script::new(AdminFee::ZERO);
    s.join(ALICE);
    let before = s.state.clone();
    let last = s.state.last_key();
    let revenue = |key| Event { key, kind: EventKind::Revenue { amount: wei(5) } };
    assert_eq!(s.state.apply(&revenue(last)), Err(EngineError::OutOfOrder { previous: last, next: last }));
    let earlier = EventKey::new(1, 0, 0);
    assert_eq!(s.state.apply(&revenue(earlier)), Err(EngineError::OutOfOrder { previous: last, next: earlier }));
    assert_eq!(s.state, before);
}

#[test]
fn a_closed_block_takes_no_more_events() {
    let mut s = Script::new(AdminFee::ZERO);
    s.join(ALICE);
    s.state.advance_to(5).unwrap();
    let key = EventKey::new(5, 99, 0);
    assert_eq!(
        s.state.apply(&Event { key, kind: EventKind::Revenue { amount: wei(1) } }),
        Err(EngineError::BlockClosed { key, block: 5 })
    );
    assert_eq!(s.state.advance_to(4), Err(EngineError::Backwards { block: 5, to: 4 }));
    s.state.apply(&Event { key: EventKey::new(6, 0, 0), kind: EventKind::Revenue { amount: wei(1) } }).unwrap();
    assert_eq!((s.state.block(), s.state.is_block_closed()), (6, false));
}

#[test]
fn a_second_created_or_a_first_event_that_is_not_created_is_refused() {
    let mut s = Script::new(AdminFee::ZERO);
    let key = EventKey::new(9, 0, 0);
    let created = Event { key, kind: EventKind::Created { owner: ALICE, admin_fee: AdminFee::ZERO } };
    assert_eq!(s.state.apply(&created), Err(EngineError::AlreadyCreated { key }));
    let join = Event { key, kind: EventKind::MemberJoined { member: ALICE } };
    assert_eq!(UnionState::from_created(&join), Err(EngineError::NotCreated { key, kind: "memberJoined" }));
    assert_eq!(UnionState::replay([], None), Err(EngineError::NoEvents));
}

#[test]
fn revenue_that_would_overflow_the_total_is_refused_and_changes_nothing() {
    let mut s = Script::new(AdminFee::ZERO);
    s.apply(EventKind::Revenue { amount: U256::MAX });
    let before = s.state.clone();
    let key = EventKey::new(2, 0, 0);
    assert_eq!(
        s.state.apply(&Event { key, kind: EventKind::Revenue { amount: wei(1) } }),
        Err(EngineError::RevenueOverflow { key })
    );
    assert_eq!(s.state, before);
}

#[test]
fn a_replay_through_a_block_ignores_later_events_and_closes_the_block() {
    let events = vec![
        Event { key: EventKey::new(10, 0, 0), kind: EventKind::Created { owner: OWNER, admin_fee: AdminFee::ZERO } },
        Event { key: EventKey::new(11, 0, 0), kind: EventKind::MemberJoined { member: ALICE } },
        Event { key: EventKey::new(12, 0, 0), kind: EventKind::Revenue { amount: wei(7) } },
        Event { key: EventKey::new(14, 0, 0), kind: EventKind::Revenue { amount: wei(7) } },
    ];
    let at_13 = UnionState::replay(&events, Some(13)).unwrap();
    assert_eq!((at_13.block(), at_13.is_block_closed(), at_13.totals().revenue), (13, true, wei(7)));
    let at_end = UnionState::replay(&events, None).unwrap();
    assert_eq!((at_end.block(), at_end.totals().revenue), (14, wei(14)));
    assert_eq!(UnionState::replay(&events, Some(9)), Err(EngineError::BeforeCreation { created: 10, requested: 9 }));
}

#[test]
fn the_book_lists_every_leaf_in_order_at_the_states_block() {
    let mut s = Script::new(fee("100000000000000000"));
    s.join(ALICE).join(BOB).revenue(100).part(ALICE);
    s.state.advance_to(3).unwrap();
    let book = s.state.book();
    assert_eq!(book.block(), 3);
    assert_eq!(book.leaves(), &[(OWNER, wei(10)), (ALICE, wei(45)), (BOB, wei(45))]);
}

#[test]
fn a_working_copy_refreshed_from_a_source_equals_it() {
    let mut source = Script::new(fee("100000000000000000"));
    source.join(ALICE).join(BOB).revenue(100);
    let mut copy = Script::new(AdminFee::ZERO);
    copy.join(CAROL).revenue(5).part(CAROL);
    copy.state.clone_from(&source.state);
    assert_eq!(copy.state, source.state);
    assert_eq!(copy.state.to_snapshot(), source.state.to_snapshot());
    assert_eq!(source.state.clone(), source.state);
}

#[test]
fn carried_earnings_come_out_of_what_the_predecessor_sent_and_the_rest_is_revenue_once_closed() {
    let mut s = Script::new(AdminFee::ZERO);
    s.join(ALICE).join(BOB);
    s.apply(EventKind::FromPredecessor { amount: wei(100) });
    // Held, not split: the reserve backs the carry that is about to be declared.
    assert_eq!([s.earnings(ALICE), s.earnings(BOB)], [wei(0); 2]);
    s.apply(EventKind::Carried { member: ALICE, amount: wei(60) });
    s.apply(EventKind::Carried { member: CAROL, amount: wei(30) });
    assert_eq!(s.state.predecessor_reserve(), wei(10));
    // Carol was a member of the old union only: a leaf, inactive until she joins.
    assert_eq!(s.state.member(&CAROL).map(|m| (m.earnings, m.active)), Some((wei(30), false)));
    // More than is left is credited only up to what is left.
    s.apply(EventKind::Carried { member: BOB, amount: wei(50) });
    assert_eq!(s.earnings(BOB), wei(10));
    s.apply(EventKind::FromPredecessor { amount: wei(4) }).apply(EventKind::CarryClosed);
    // The 4 left in the reserve is revenue, split between the active members.
    assert_eq!([s.earnings(ALICE), s.earnings(BOB)], [wei(62), wei(12)]);
    // After the close, what the predecessor sends is revenue, and carrying does nothing.
    s.apply(EventKind::FromPredecessor { amount: wei(8) }).apply(EventKind::Carried { member: CAROL, amount: wei(5) });
    assert_eq!([s.earnings(ALICE), s.earnings(BOB), s.earnings(CAROL)], [wei(66), wei(16), wei(30)]);
    let totals = s.state.totals();
    assert_eq!((totals.carried, totals.revenue, s.state.predecessor_reserve()), (wei(100), wei(12), wei(0)));
}
