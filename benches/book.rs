//! Building the book and all its proofs at 10,000, 100,000 and 1,000,000 members, next to the raw keccak
//! throughput of one core measured in the same run.
//!
//! `cargo bench -p coop --bench book`

use std::hint::black_box;

use alloy_primitives::{Address, B256, U256, keccak256};
use coop::{
    book::{Book, hash_pair, leaf_hash},
    engine::{AdminFee, Event, EventKey, EventKind, UnionState},
};
use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

const SIZES: [usize; 3] = [10_000, 100_000, 1_000_000];

fn leaves(count: usize) -> Vec<(Address, U256)> {
    (0..count as u64)
        .map(|i| (Address::from_word(keccak256(i.to_be_bytes())), U256::from(i) * U256::from(1_000_000_007u64)))
        .collect()
}

/// Keccak-256 on one core: the 84-byte leaf preimage and the 64-byte pair preimage.
fn raw_keccak(c: &mut Criterion) {
    const BATCH: u64 = 10_000;
    let mut group = c.benchmark_group("keccak_one_core");
    group.throughput(Throughput::Elements(BATCH));
    let address = Address::repeat_byte(7);
    group.bench_function("leaf_84_bytes", |b| {
        b.iter(|| {
            for i in 0..BATCH {
                black_box(leaf_hash(address, U256::from(i), 1));
            }
        })
    });
    let node = B256::repeat_byte(3);
    group.bench_function("pair_64_bytes", |b| {
        b.iter(|| {
            let mut acc = node;
            for _ in 0..BATCH {
                acc = hash_pair(acc, node);
            }
            black_box(acc)
        })
    });
    group.finish();
}

fn build(c: &mut Criterion) {
    let mut group = c.benchmark_group("book");
    group.sample_size(10);
    for size in SIZES {
        let leaves = leaves(size);
        group.throughput(Throughput::Elements(size as u64));
        group.bench_with_input(BenchmarkId::new("build", size), &size, |b, _| {
            b.iter_batched(|| leaves.clone(), |leaves| Book::new(1, leaves).unwrap(), BatchSize::LargeInput)
        });
        let book = Book::new(1, leaves.clone()).unwrap();
        group.bench_with_input(BenchmarkId::new("all_proofs", size), &size, |b, _| {
            b.iter(|| {
                for i in 0..size {
                    black_box(book.proof(i));
                }
            })
        });
        group.bench_with_input(BenchmarkId::new("build_and_all_proofs", size), &size, |b, _| {
            b.iter_batched(
                || leaves.clone(),
                |leaves| {
                    let book = Book::new(1, leaves).unwrap();
                    for i in 0..size {
                        black_box(book.proof(i));
                    }
                    book
                },
                BatchSize::LargeInput,
            )
        });
        group.bench_with_input(BenchmarkId::new("book_hash", size), &size, |b, _| b.iter(|| book.book_hash()));
    }
    group.finish();
}

/// The engine's path: earnings of every leaf, then the book; and a snapshot round trip.
fn from_state(c: &mut Criterion) {
    let mut group = c.benchmark_group("state");
    group.sample_size(10);
    let size = 1_000_000u64;
    let mut state = UnionState::new(EventKey::new(1, 0, 0), Address::repeat_byte(0xee), AdminFee::ZERO);
    for i in 0..size {
        let member = Address::from_word(keccak256(i.to_be_bytes()));
        state.apply(&Event { key: EventKey::new(1, 1, i + 1), kind: EventKind::MemberJoined { member } }).unwrap();
    }
    state
        .apply(&Event {
            key: EventKey::new(2, 0, 0),
            kind: EventKind::Revenue { amount: U256::from(10).pow(U256::from(24)) },
        })
        .unwrap();
    group.bench_with_input(BenchmarkId::new("book", size), &size, |b, _| b.iter(|| state.book()));
    group.bench_with_input(BenchmarkId::new("to_snapshot", size), &size, |b, _| b.iter(|| state.to_snapshot()));
    let snapshot = state.to_snapshot();
    group.bench_with_input(BenchmarkId::new("from_snapshot", size), &size, |b, _| {
        b.iter(|| UnionState::from_snapshot(&snapshot).unwrap())
    });
    group.finish();
}

criterion_group!(benches, raw_keccak, build, from_state);
criterion_main!(benches);
