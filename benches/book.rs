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

/// CPU seconds used by this process so far, all threads (Linux `/proc/self/stat`, 100 ticks a second).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat.rsplit(')').next().unwrap_or_default().split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

/// Wall time only shows what the other processes on the machine leave over; CPU time shows the work
/// itself. Prints the CPU time of a 1,000,000-leaf build (both threads) next to the CPU time of the same
/// number of bare hashes on one thread (1,000,000 leaves and 999,999 pairs).
fn cpu_per_build(_: &mut Criterion) {
    const ROUNDS: u32 = 5;
    const SIZE: usize = 1_000_000;
    let leaves = leaves(SIZE);
    let (mut build_cpu, mut build_wall, mut raw_cpu) = (0.0, std::time::Duration::ZERO, 0.0);
    for _ in 0..ROUNDS {
        let copy = leaves.clone();
        let (before, started) = (cpu_seconds(), std::time::Instant::now());
        black_box(Book::new(1, copy).unwrap());
        build_wall += started.elapsed();
        build_cpu += cpu_seconds() - before;
        let before = cpu_seconds();
        for &(address, earnings) in &leaves {
            black_box(leaf_hash(address, earnings, 1));
        }
        let mut node = B256::repeat_byte(3);
        for _ in 1..SIZE {
            node = hash_pair(node, B256::repeat_byte(5));
        }
        black_box(node);
        raw_cpu += cpu_seconds() - before;
    }
    let rounds = f64::from(ROUNDS);
    eprintln!(
        "book/build/{SIZE}: {:.3} CPU s per build (all threads), {:.3} s wall; bare hashes on one thread: {:.3} CPU s \
         ({:.2} M hashes per CPU second); mean of {ROUNDS}",
        build_cpu / rounds,
        build_wall.as_secs_f64() / rounds,
        raw_cpu / rounds,
        (2 * SIZE - 1) as f64 / (raw_cpu / rounds) / 1e6,
    );
}

criterion_group!(benches, raw_keccak, build, from_state, cpu_per_build);
criterion_main!(benches);
