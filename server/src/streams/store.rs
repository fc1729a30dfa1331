//! The `StreamStore` port: where messages are kept, in order, and fanned out live. Implementations:
//! [`super::embedded::Embedded`] (SQLite in the data folder, one instance) and
//! [`super::nats::Nats`] (NATS JetStream, shared by several instances).
//!
//! Each stream is an append-only log; the store gives each message the next offset (0, 1, 2, …) and
//! refuses a message whose sequence number is not after its publisher's last one, atomically, so two
//! instances or two racing requests cannot both store one sequence number.

use std::fmt;
use std::pin::Pin;

use alloy::primitives::{Address, B256};
use async_trait::async_trait;
use coop::stream::{SignedMessage, StreamName};
use futures::Stream;
use serde::Serialize;
use tokio::sync::broadcast;

/// One stream of one product.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StreamKey {
    pub product: B256,
    pub name: StreamName,
}

impl StreamKey {
    pub fn of(message: &SignedMessage) -> Self {
        Self { product: message.message.product, name: message.message.stream.clone() }
    }
}

impl fmt::Display for StreamKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.product, self.name)
    }
}

/// A message as stored: its place in the stream, when this server received it, and the message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Stored {
    pub offset: u64,
    /// Milliseconds since the epoch, by the clock of the server that stored it.
    pub received_at: u64,
    #[serde(flatten)]
    pub message: SignedMessage,
}

#[derive(Debug, thiserror::Error)]
pub enum AppendError {
    /// A replay, a message sent twice, or sequence numbers going backwards.
    #[error("sequence {sent} is not after {publisher}'s last one in this stream, {last}")]
    SequenceNotAfter { publisher: Address, last: u64, sent: u64 },
    #[error(transparent)]
    Store(#[from] anyhow::Error),
}

/// Why a batch was not stored whole: the error at message `at`, with every message before it stored.
#[derive(Debug, thiserror::Error)]
#[error("message {at}: {error}")]
pub struct BatchError {
    pub at: usize,
    pub error: AppendError,
}

/// Messages in offset order.
pub type MessageStream = Pin<Box<dyn Stream<Item = anyhow::Result<Stored>> + Send>>;

/// How many messages one read answers at most.
pub const MAX_READ: usize = 1000;

#[async_trait]
pub trait StreamStore: Send + Sync + 'static {
    /// Stores `message` at the stream's next offset and tells live readers; `received_at` is
    /// milliseconds since the epoch.
    async fn append(&self, message: SignedMessage, received_at: u64) -> Result<u64, AppendError>;

    /// Stores `messages`, all of one stream, at consecutive offsets of the stream as far as each is
    /// concerned (another writer's messages may come between), in order, and answers their offsets.
    /// Stops at the first that cannot be stored. A store that can stores all or none; this one
    /// stores message by message, so those before the one refused stay stored.
    async fn append_all(&self, messages: Vec<SignedMessage>, received_at: u64) -> Result<Vec<u64>, BatchError> {
        let mut offsets = Vec::with_capacity(messages.len());
        for (at, message) in messages.into_iter().enumerate() {
            offsets.push(self.append(message, received_at).await.map_err(|error| BatchError { at, error })?);
        }
        Ok(offsets)
    }

    /// Up to `limit` messages from offset `from` on.
    async fn read(&self, stream: &StreamKey, from: u64, limit: usize) -> anyhow::Result<Vec<Stored>>;

    /// Up to `limit` messages with offsets from `from` whose publisher timestamps are in
    /// `[since, until)` (milliseconds since the epoch), in offset order.
    async fn read_between(
        &self,
        stream: &StreamKey,
        since: u64,
        until: u64,
        from: u64,
        limit: usize,
    ) -> anyhow::Result<Vec<Stored>>;

    /// The offset the next message will get: how many the stream has ever had.
    async fn next_offset(&self, stream: &StreamKey) -> anyhow::Result<u64>;

    /// The last sequence number stored for `publisher`, if any.
    async fn last_sequence(&self, stream: &StreamKey, publisher: Address) -> anyhow::Result<Option<u64>>;

    /// Every message stored after this returns, as it is stored (see [`live`] for a gapless feed).
    async fn watch(&self, stream: &StreamKey) -> anyhow::Result<broadcast::Receiver<Stored>>;

    /// Forgets the messages received before `before` (milliseconds since the epoch); how many.
    /// Offsets never go back. A publisher whose messages are all forgotten has no last sequence
    /// number any more: replays of its old messages are then refused by their stale timestamps
    /// (the service takes none older than minutes; retention is at least a day).
    async fn trim(&self, stream: &StreamKey, before: u64) -> anyhow::Result<u64>;

    /// Forgets the oldest messages until what is left takes at most `most` bytes, as this store
    /// counts them (each message's content and signature with a fixed allowance for the rest; on
    /// NATS, the stream's stored bytes by its average message); how many. Messages received at or
    /// after `received_from` are kept whatever their size, so a publisher's last sequence number
    /// stays known for as long as a replay could still pass the timestamp check.
    async fn keep_bytes(&self, stream: &StreamKey, most: u64, received_from: u64) -> anyhow::Result<u64>;
}

/// Every message from offset `from` on, then each new one as it is stored, without a gap or a
/// duplicate: it watches before it reads, skips what it has already sent, and goes back to reading
/// when it falls behind the live feed.
pub fn live(store: std::sync::Arc<dyn StreamStore>, stream: StreamKey, from: u64) -> MessageStream {
    Box::pin(async_stream::try_stream! {
        let mut next = from;
        loop {
            let mut feed = store.watch(&stream).await?;
            // Catch up from the log.
            loop {
                let page = store.read(&stream, next, MAX_READ).await?;
                if page.is_empty() {
                    break;
                }
                for stored in page {
                    next = stored.offset + 1;
                    yield stored;
                }
            }
            // Then follow the feed until it lags.
            loop {
                match feed.recv().await {
                    Ok(stored) if stored.offset < next => continue,
                    Ok(stored) if stored.offset == next => {
                        next += 1;
                        yield stored;
                    }
                    // A gap (stored elsewhere before this watch began): read it from the log.
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => break,
                    Err(broadcast::error::RecvError::Closed) => return,
                }
            }
        }
    })
}

/// [`live`] that a failure does not end: after an error (a NATS consumer lost while another
/// instance dies, a store that does not answer for a moment) it follows again from the first offset
/// not yet sent, after a pause that grows while the failures go on. What a reader gets is still
/// every message once, in order. It never ends by itself: whoever reads it stops when done.
pub fn following(
    store: std::sync::Arc<dyn StreamStore>,
    stream: StreamKey,
    from: u64,
) -> impl Stream<Item = Stored> + Send {
    async_stream::stream! {
        let mut next = from;
        let mut failures = 0u32;
        loop {
            let mut messages = live(store.clone(), stream.clone(), next);
            while let Some(item) = futures::StreamExt::next(&mut messages).await {
                match item {
                    Ok(stored) => {
                        failures = 0;
                        next = stored.offset + 1;
                        yield stored;
                    }
                    Err(error) => {
                        tracing::warn!(target: "streams", %stream, next, %error, "a live feed follows again after an error");
                        break;
                    }
                }
            }
            failures += 1;
            tokio::time::sleep(retry_after(failures)).await;
        }
    }
}

/// The pause before the `attempt`-th try again: 100 ms, doubling, at most 5 s.
pub fn retry_after(attempt: u32) -> std::time::Duration {
    let millis = 100u64 << attempt.saturating_sub(1).min(6);
    std::time::Duration::from_millis(millis.min(5_000))
}
