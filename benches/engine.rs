//! Cost of one event at 1,000, 100,000 and 1,000,000 members: it must not grow with the member count.
//!
//! `cargo bench -p coop --bench engine`

use std::{
    hint::black_box,
    time::{Duration, Instant},
};

use alloy_primitives::{Address, U256, keccak256};
use coop::engine::{AdminFee, Event, EventKey, EventKind, UnionState};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};

const SIZES: [u64; 3] = [1_000, 100_000, 1_000_000];

fn member(i: u64) -> Address {
    Address::from_word(keccak256(i.to_be_bytes()))
}

/// A union with `members` active members, standing in block 1; later events go in block 2.
fn union_with(members: u64) -> (UnionState, EventKey) {
    let fee = AdminFee::try_from(U256::from(100_000_000_000_000_000u64)).unwrap();
    let mut state = UnionState::new(EventKey::new(1, 0, 0), Address::repeat_byte(0xee), fee);
    for i in 0..members {
        let event = Event { key: EventKey::new(1, 1, i + 1), kind: EventKind::MemberJoined { member: member(i) } };
        state.apply(&event).unwrap();
    }
    (state, EventKey::new(2, 0, 0))
}

fn one_event(c: &mut Criterion) {
    let mut group = c.benchmark_group("engine");
    group.warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    for members in SIZES {
        let (base, start) = union_with(members);
        let mut state = base.clone();
        let mut key = start;
        let amount = U256::from(1_000_000_000_000_000_007u64);
        group.bench_with_input(BenchmarkId::new("revenue", members), &members, |b, _| {
            b.iter(|| {
                key.log_index += 1;
                state.apply(black_box(&Event { key, kind: EventKind::Revenue { amount } })).unwrap();
            })
        });
        let rejoining = member(members / 2);
        group.bench_with_input(BenchmarkId::new("part_and_rejoin", members), &members, |b, _| {
            b.iter(|| {
                key.log_index += 1;
                state.apply(&Event { key, kind: EventKind::MemberParted { member: rejoining } }).unwrap();
                key.log_index += 1;
                state.apply(&Event { key, kind: EventKind::MemberJoined { member: rejoining } }).unwrap();
            })
        });
        // New members make the state grow: it grows by at most a tenth between refreshes from the base.
        // Refreshing reuses the working copy's memory, and the addresses are made beforehand, so only the
        // joins are timed.
        let epoch = (members / 10).max(100);
        let mut working = base.clone();
        working.reserve(epoch as usize);
        let mut joins: Vec<Event> = Vec::with_capacity(epoch as usize);
        let mut fresh = 0u64;
        group.bench_with_input(BenchmarkId::new("join_new_member", members), &members, |b, _| {
            b.iter_custom(|iters| {
                let mut elapsed = Duration::ZERO;
                let mut left = iters;
                while left > 0 {
                    let n = left.min(epoch);
                    working.clone_from(&base);
                    joins.clear();
                    joins.extend((0..n).map(|i| {
                        fresh += 1;
                        let member = Address::left_padding_from(&fresh.to_be_bytes());
                        Event { key: EventKey::new(2, 0, i), kind: EventKind::MemberJoined { member } }
                    }));
                    let started = Instant::now();
                    for join in &joins {
                        working.apply(black_box(join)).unwrap();
                    }
                    elapsed += started.elapsed();
                    left -= n;
                }
                elapsed
            })
        });
    }
    group.finish();
}

criterion_group!(benches, one_event);
criterion_main!(benches);
