//! The `StreamStore` conformance suite: every implementation keeps one order, refuses sequence
//! numbers that do not go forward (in batches too), reads by offset and by time, trims by time and
//! by bytes without forgetting who sent what, and feeds live readers from any offset without a gap or a duplicate.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use alloy::primitives::{Address, B256, Bytes};
use coop::stream::{Message, SignedMessage};
use coop_server::streams::embedded::Embedded;
use coop_server::streams::nats::Nats;
use coop_server::streams::store::{AppendError, BatchError, Stored, StreamKey, StreamStore, following, live};
use futures::StreamExt;
use tokio::sync::broadcast;

#[path = "support/nats.rs"]
mod nats;

fn key(name: &str) -> StreamKey {
    StreamKey { product: B256::repeat_byte(1), name: name.parse().unwrap() }
}

/// A message as stored; the store does not check signatures (the service does, before).
fn message(stream: &StreamKey, publisher: u8, sequence: u64, timestamp: u64) -> SignedMessage {
    SignedMessage {
        message: Message {
            product: stream.product,
            stream: stream.name.clone(),
            publisher: Address::repeat_byte(publisher),
            sequence,
            timestamp,
            content: format!("{{\"n\":{sequence}}}").parse().unwrap(),
        },
        signer: Address::repeat_byte(publisher),
        signature: Bytes::from(vec![7u8; 65]),
    }
}

async fn conformance(store: Arc<dyn StreamStore>) {
    let gps = key("gps");
    let other = key("other");
    assert_eq!(store.next_offset(&gps).await.unwrap(), 0);
    assert_eq!(store.append(message(&gps, 1, 5, 1_000), 10).await.unwrap(), 0);
    assert_eq!(store.append(message(&gps, 2, 1, 2_000), 20).await.unwrap(), 1);
    assert_eq!(store.append(message(&other, 1, 1, 3_000), 30).await.unwrap(), 0, "offsets are per stream");
    for sequence in [5, 4] {
        match store.append(message(&gps, 1, sequence, 4_000), 40).await {
            Err(AppendError::SequenceNotAfter { last: 5, sent, .. }) => assert_eq!(sent, sequence),
            other => panic!("sequence {sequence} after 5: {other:?}"),
        }
    }
    assert_eq!(store.append(message(&gps, 1, 9, 5_000), 50).await.unwrap(), 2, "a gap in sequence numbers is fine");
    assert_eq!(store.next_offset(&gps).await.unwrap(), 3);
    assert_eq!(store.last_sequence(&gps, Address::repeat_byte(1)).await.unwrap(), Some(9));
    assert_eq!(store.last_sequence(&gps, Address::repeat_byte(3)).await.unwrap(), None);

    let all = store.read(&gps, 0, 100).await.unwrap();
    assert_eq!(all.iter().map(|s| s.offset).collect::<Vec<_>>(), [0, 1, 2]);
    assert_eq!(all[1].message, message(&gps, 2, 1, 2_000), "a message reads back as it was stored");
    assert_eq!(all[1].received_at, 20);
    assert_eq!(store.read(&gps, 1, 1).await.unwrap()[0].offset, 1);
    let between = store.read_between(&gps, 2_000, 5_000, 0, 100).await.unwrap();
    assert_eq!(between.iter().map(|s| s.offset).collect::<Vec<_>>(), [1], "since is in, until is out");

    // Live from offset 1: the log first, then what is stored meanwhile, each once.
    let mut feed = live(store.clone(), gps.clone(), 1);
    let mut seen = Vec::new();
    for _ in 0..2 {
        seen.push(feed.next().await.unwrap().unwrap().offset);
    }
    for sequence in 10..13 {
        store.append(message(&gps, 1, sequence, 6_000), 60).await.unwrap();
    }
    while seen.len() < 5 {
        let next = tokio::time::timeout(Duration::from_secs(5), feed.next()).await.expect("live within 5 s");
        seen.push(next.unwrap().unwrap().offset);
    }
    assert_eq!(seen, [1, 2, 3, 4, 5]);

    // Trimming forgets what was received before a time; offsets never go back.
    let trimmed = store.trim(&gps, 55).await.unwrap();
    assert_eq!(trimmed, 3, "offsets 0 to 2 were received before 55");
    let left = store.read(&gps, 0, 100).await.unwrap();
    assert_eq!(left.iter().map(|s| s.offset).collect::<Vec<_>>(), [3, 4, 5]);
    assert_eq!(store.next_offset(&gps).await.unwrap(), 6);
    assert_eq!(store.last_sequence(&gps, Address::repeat_byte(1)).await.unwrap(), Some(12), "still stored");
    assert_eq!(store.last_sequence(&gps, Address::repeat_byte(2)).await.unwrap(), None, "all forgotten");
    assert_eq!(store.append(message(&gps, 1, 13, 7_000), 70).await.unwrap(), 6, "offsets never go back");
    assert_eq!(store.read(&other, 0, 100).await.unwrap().len(), 1, "another stream is not trimmed");

    // A batch goes in order to consecutive offsets, and stops at a sequence number that does not go
    // forward: nothing after it is stored.
    let batch = key("batch");
    let first = vec![message(&batch, 1, 1, 8_000), message(&batch, 2, 1, 8_000), message(&batch, 1, 2, 8_000)];
    assert_eq!(store.append_all(first, 80).await.unwrap(), [0, 1, 2]);
    let replaying = vec![message(&batch, 2, 2, 9_000), message(&batch, 1, 2, 9_000), message(&batch, 1, 3, 9_000)];
    match store.append_all(replaying, 90).await {
        Err(BatchError { at: 1, error: AppendError::SequenceNotAfter { last: 2, sent: 2, .. } }) => {}
        other => panic!("a replay as the second of a batch: {other:?}"),
    }
    let stored = store.read(&batch, 0, 100).await.unwrap();
    assert!(stored.len() <= 4 && stored.iter().all(|s| s.message.message.sequence != 3), "nothing after the replay");
    assert_eq!(store.append_all(Vec::new(), 100).await.unwrap(), Vec::<u64>::new());
}

/// Past a number of bytes the oldest messages go first, except those received from a time on; the
/// newest are always kept and offsets never go back.
async fn keeps_the_newest_bytes(store: Arc<dyn StreamStore>) {
    let stream = key("sized");
    let padded = |sequence: u64| {
        let mut message = message(&stream, 1, sequence, 1_000);
        message.message.content = format!("{{\"pad\":\"{}\"}}", "x".repeat(1000)).parse().unwrap();
        message
    };
    for sequence in 1..=40 {
        // Received at 1 to 40.
        assert_eq!(store.append(padded(sequence), sequence).await.unwrap(), sequence - 1);
    }
    let offsets = |stored: Vec<Stored>| stored.iter().map(|s| s.offset).collect::<Vec<_>>();
    assert_eq!(store.keep_bytes(&stream, 1_000_000, u64::MAX).await.unwrap(), 0, "under the limit: nothing goes");

    let forgotten = store.keep_bytes(&stream, 10_000, u64::MAX).await.unwrap();
    let left = store.read(&stream, 0, 100).await.unwrap();
    assert_eq!(forgotten as usize + left.len(), 40);
    let kept: usize = left.iter().map(|s| s.message.message.content.as_str().len()).sum();
    assert!((5..=9).contains(&left.len()) && kept <= 10_000, "{} messages, {kept} bytes of content", left.len());
    assert_eq!(offsets(left), (forgotten..40).collect::<Vec<_>>(), "the newest, in order");

    // Whatever the limit, what was received from 36 on stays.
    store.keep_bytes(&stream, 1, 36).await.unwrap();
    assert_eq!(offsets(store.read(&stream, 0, 100).await.unwrap()), [35, 36, 37, 38, 39]);
    assert_eq!(store.next_offset(&stream).await.unwrap(), 40, "offsets never go back");
    assert_eq!(store.last_sequence(&stream, Address::repeat_byte(1)).await.unwrap(), Some(40));
}

/// A store that keeps a batch whole: a refused message leaves nothing of its batch.
async fn batches_are_whole(store: Arc<dyn StreamStore>) {
    let stream = key("whole");
    store.append(message(&stream, 1, 5, 1_000), 10).await.unwrap();
    let batch = vec![message(&stream, 2, 1, 2_000), message(&stream, 1, 5, 2_000)];
    assert!(store.append_all(batch, 20).await.is_err());
    assert_eq!(store.next_offset(&stream).await.unwrap(), 1, "the first of the refused batch was not kept");
    assert_eq!(store.last_sequence(&stream, Address::repeat_byte(2)).await.unwrap(), None);
}

/// Many publishers at once, each request its own all-or-none at consecutive offsets (what the
/// embedded store promises; NATS stores a batch message by message): the replays among them are
/// refused alone, and every other message is stored once and fed live in order.
async fn racing_requests_are_each_whole(store: Arc<dyn StreamStore>) {
    let stream = key("racing");
    let mut feed = store.watch(&stream).await.unwrap();
    for publisher in 1..=40u8 {
        store.append(message(&stream, publisher, 10, 1_000), 1).await.unwrap();
    }
    let requests = (1..=40u8).map(|publisher| {
        let store = store.clone();
        let stream = stream.clone();
        // Every fourth publisher replays its first message in the middle of its request.
        let sequences: Vec<u64> = if publisher % 4 == 0 { vec![11, 10, 12] } else { vec![11, 12, 13] };
        tokio::spawn(async move {
            let batch = sequences.into_iter().map(|sequence| message(&stream, publisher, sequence, 2_000)).collect();
            (publisher, store.append_all(batch, 2).await)
        })
    });
    let mut stored = 0;
    for request in futures::future::join_all(requests).await {
        let (publisher, placed) = request.unwrap();
        match placed {
            Ok(offsets) => {
                assert_ne!(publisher % 4, 0, "publisher {publisher}'s replay was taken");
                assert_eq!(offsets.windows(2).filter(|pair| pair[1] != pair[0] + 1).count(), 0, "{offsets:?}");
                stored += offsets.len();
            }
            Err(BatchError { at, error: AppendError::SequenceNotAfter { .. } }) => {
                assert_eq!((publisher % 4, at), (0, 1), "publisher {publisher} refused at message {at}");
            }
            Err(other) => panic!("publisher {publisher}: {other}"),
        }
    }
    assert_eq!(stored, 30 * 3);
    assert_eq!(store.next_offset(&stream).await.unwrap(), 40 + 90);
    for publisher in (4..=40u8).step_by(4) {
        let last = store.last_sequence(&stream, Address::repeat_byte(publisher)).await.unwrap();
        assert_eq!(last, Some(10), "nothing of publisher {publisher}'s refused request was kept");
    }
    let offsets: Vec<u64> = (0..130).map(|_| feed.try_recv().unwrap().offset).collect();
    assert_eq!(offsets, (0..130).collect::<Vec<_>>(), "live readers hear every message once, in order");
}

#[tokio::test]
async fn embedded_in_memory() {
    conformance(Arc::new(Embedded::in_memory().await.unwrap())).await;
    keeps_the_newest_bytes(Arc::new(Embedded::in_memory().await.unwrap())).await;
    batches_are_whole(Arc::new(Embedded::in_memory().await.unwrap())).await;
    racing_requests_are_each_whole(Arc::new(Embedded::in_memory().await.unwrap())).await;
}

#[tokio::test]
async fn embedded_on_disk_keeps_its_messages_across_a_restart() {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("streams.db");
    conformance(Arc::new(Embedded::open(&path).await.unwrap())).await;
    let reopened = Embedded::open(&path).await.unwrap();
    assert_eq!(reopened.next_offset(&key("gps")).await.unwrap(), 7);
    assert_eq!(reopened.read(&key("gps"), 6, 10).await.unwrap()[0].message.message.sequence, 13);
}

#[tokio::test]
async fn nats_jetstream() {
    let Some(server) = nats::TestNats::start() else { return };
    let store = Nats::connect(&server.url, Duration::from_secs(3600), 1).await.unwrap();
    conformance(Arc::new(store)).await;
    let store = Nats::connect(&server.url, Duration::from_secs(3600), 1).await.unwrap();
    keeps_the_newest_bytes(Arc::new(store)).await;
}

/// Two instances on one NATS: what one stores, the other reads and follows live, in order, once;
/// two racing appends of one publisher cannot both take a sequence number.
#[tokio::test]
async fn nats_instances_share_one_log() {
    let Some(server) = nats::TestNats::start() else { return };
    let a: Arc<dyn StreamStore> = Arc::new(Nats::connect(&server.url, Duration::from_secs(3600), 1).await.unwrap());
    let b: Arc<dyn StreamStore> = Arc::new(Nats::connect(&server.url, Duration::from_secs(3600), 1).await.unwrap());
    let gps = key("gps");
    a.append(message(&gps, 1, 1, 1_000), 1).await.unwrap();
    let mut feed = live(b.clone(), gps.clone(), 0);
    for sequence in 2..=50 {
        a.append(message(&gps, 1, sequence, 1_000), 1).await.unwrap();
    }
    let mut offsets = Vec::new();
    while offsets.len() < 50 {
        let next = tokio::time::timeout(Duration::from_secs(10), feed.next()).await.expect("live within 10 s");
        offsets.push(next.unwrap().unwrap().offset);
    }
    assert_eq!(offsets, (0..50).collect::<Vec<u64>>(), "every message once, in order");

    let (one, other) = tokio::join!(a.append(message(&gps, 2, 7, 1_000), 2), b.append(message(&gps, 2, 7, 1_000), 2));
    let stored = [one.is_ok(), other.is_ok()];
    assert_eq!(stored.iter().filter(|ok| **ok).count(), 1, "one of two racing appends of sequence 7: {stored:?}");
    assert_eq!(b.next_offset(&gps).await.unwrap(), 51);
}

/// A store whose reads and watches fail every third time, as a NATS store's may while another
/// instance dies or the network hiccups.
struct Flaky {
    inner: Embedded,
    calls: AtomicU32,
}

impl Flaky {
    fn fails(&self, what: &str) -> anyhow::Result<()> {
        match self.calls.fetch_add(1, Ordering::Relaxed) % 3 {
            2 => anyhow::bail!("{what} failed for a moment"),
            _ => Ok(()),
        }
    }
}

#[async_trait::async_trait]
impl StreamStore for Flaky {
    async fn append(&self, message: SignedMessage, received_at: u64) -> Result<u64, AppendError> {
        self.inner.append(message, received_at).await
    }
    async fn read(&self, stream: &StreamKey, from: u64, limit: usize) -> anyhow::Result<Vec<Stored>> {
        self.fails("a read")?;
        // One message at a time, so that a feed reads often.
        self.inner.read(stream, from, limit.min(1)).await
    }
    async fn read_between(
        &self,
        stream: &StreamKey,
        since: u64,
        until: u64,
        from: u64,
        limit: usize,
    ) -> anyhow::Result<Vec<Stored>> {
        self.inner.read_between(stream, since, until, from, limit).await
    }
    async fn next_offset(&self, stream: &StreamKey) -> anyhow::Result<u64> {
        self.inner.next_offset(stream).await
    }
    async fn last_sequence(&self, stream: &StreamKey, publisher: Address) -> anyhow::Result<Option<u64>> {
        self.inner.last_sequence(stream, publisher).await
    }
    async fn watch(&self, stream: &StreamKey) -> anyhow::Result<broadcast::Receiver<Stored>> {
        self.fails("a watch")?;
        self.inner.watch(stream).await
    }
    async fn trim(&self, stream: &StreamKey, before: u64) -> anyhow::Result<u64> {
        self.inner.trim(stream, before).await
    }
    async fn keep_bytes(&self, stream: &StreamKey, most: u64, received_from: u64) -> anyhow::Result<u64> {
        self.inner.keep_bytes(stream, most, received_from).await
    }
}

/// A reader's feed outlives a store that fails now and then: every message once, in order, from
/// the log and then live, however often reading or watching fails on the way.
#[tokio::test]
async fn a_feed_follows_again_after_the_store_fails() {
    let store = Arc::new(Flaky { inner: Embedded::in_memory().await.unwrap(), calls: AtomicU32::new(0) });
    let gps = key("gps");
    for sequence in 1..=10 {
        store.append(message(&gps, 1, sequence, 1_000), 1).await.unwrap();
    }
    let mut feed = std::pin::pin!(following(store.clone(), gps.clone(), 0));
    let mut offsets = Vec::new();
    while offsets.len() < 10 {
        let next = tokio::time::timeout(Duration::from_secs(10), feed.next()).await.expect("from the log within 10 s");
        offsets.push(next.expect("the feed goes on").offset);
    }
    for sequence in 11..=20 {
        store.append(message(&gps, 1, sequence, 1_000), 1).await.unwrap();
    }
    while offsets.len() < 20 {
        let next = tokio::time::timeout(Duration::from_secs(10), feed.next()).await.expect("live within 10 s");
        offsets.push(next.expect("the feed goes on").offset);
    }
    assert_eq!(offsets, (0..20).collect::<Vec<u64>>(), "every message once, in order");
}
