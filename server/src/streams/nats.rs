//! The `StreamStore` on NATS JetStream, for several instances: a message published through one
//! instance reaches live readers on every other, and a JetStream cluster (streams with replicas)
//! carries the load when one machine is not enough.
//!
//! Each product stream is a JetStream stream (`coop_<product>_<name>`) whose subjects are
//! `coop.<product>.<name>.<publisher>`, one per publisher. A message's offset is its JetStream
//! sequence minus one. The sequence check is atomic across instances: an append reads the
//! publisher's last message, then publishes with `Nats-Expected-Last-Subject-Sequence` set to that
//! message's JetStream sequence, so of two racing appends one is refused by the server and looks
//! again. Messages older than the server's retention leave by the stream's `max_age`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use alloy::primitives::{Address, B256};
use anyhow::Context;
use async_nats::jetstream::{self, consumer::DeliverPolicy, consumer::push, context::PublishErrorKind};
use async_trait::async_trait;
use coop::stream::SignedMessage;
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

use super::store::{AppendError, Stored, StreamKey, StreamStore};

/// How many messages a slow live reader may fall behind before it goes back to reading the log.
const FEED_CAPACITY: usize = 1024;
/// How many times an append looks again after another instance's append to the same publisher won.
const RACES: usize = 8;
/// How long a read waits for the next message it knows is stored.
const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// What a JetStream message carries: the signed message and when it was received.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Envelope {
    received_at: u64,
    message: SignedMessage,
}

pub struct Nats {
    client: async_nats::Client,
    jetstream: jetstream::Context,
    /// How long JetStream keeps a message: the server's longest retention.
    max_age: Duration,
    /// Replicas of each JetStream stream (1 on a single NATS server; 3 in a cluster).
    replicas: usize,
    streams: tokio::sync::Mutex<HashMap<StreamKey, jetstream::stream::Stream>>,
    /// One NATS consumer per followed stream, shared by its readers on this instance.
    feeds: Arc<Mutex<HashMap<StreamKey, broadcast::Sender<Stored>>>>,
}

fn hex(product: &B256) -> String {
    alloy::primitives::hex::encode(product)
}

fn stream_name(key: &StreamKey) -> String {
    // A stream name has no dots; names have dashes but never underscores, so this cannot collide.
    format!("coop_{}_{}", hex(&key.product), key.name.as_str().replace('-', "_"))
}

fn subject(key: &StreamKey, publisher: &Address) -> String {
    format!("coop.{}.{}.{}", hex(&key.product), key.name, alloy::primitives::hex::encode(publisher))
}

fn all_subjects(key: &StreamKey) -> String {
    format!("coop.{}.{}.*", hex(&key.product), key.name)
}

fn decode(sequence: u64, payload: &[u8]) -> anyhow::Result<Stored> {
    let envelope: Envelope = serde_json::from_slice(payload).context("a stored message that is not one")?;
    Ok(Stored { offset: sequence - 1, received_at: envelope.received_at, message: envelope.message })
}

/// A message a consumer delivered, with its offset from the JetStream sequence.
fn delivered(
    message: Result<jetstream::Message, impl std::error::Error + Send + Sync + 'static>,
) -> anyhow::Result<Stored> {
    let message = message.context("reading a stream from NATS")?;
    let sequence = message.info().map_err(|error| anyhow::anyhow!("{error}"))?.stream_sequence;
    decode(sequence, &message.payload)
}

impl Nats {
    /// Connects to the NATS server at `url` (with JetStream enabled).
    pub async fn connect(url: &str, max_age: Duration, replicas: usize) -> anyhow::Result<Self> {
        let client = async_nats::connect(url).await.with_context(|| format!("connecting to NATS at {url}"))?;
        let jetstream = jetstream::new(client.clone());
        Ok(Self {
            client,
            jetstream,
            max_age,
            replicas,
            streams: tokio::sync::Mutex::new(HashMap::new()),
            feeds: Arc::new(Mutex::new(HashMap::new())),
        })
    }

    /// The JetStream stream of `key`, created on first use.
    async fn stream(&self, key: &StreamKey) -> anyhow::Result<jetstream::stream::Stream> {
        let mut streams = self.streams.lock().await;
        if let Some(stream) = streams.get(key) {
            return Ok(stream.clone());
        }
        let config = jetstream::stream::Config {
            name: stream_name(key),
            subjects: vec![all_subjects(key)],
            max_age: self.max_age,
            num_replicas: self.replicas,
            storage: jetstream::stream::StorageType::File,
            ..Default::default()
        };
        let stream =
            self.jetstream.get_or_create_stream(config).await.with_context(|| format!("opening {key} on NATS"))?;
        streams.insert(key.clone(), stream.clone());
        Ok(stream)
    }

    /// The last JetStream sequence assigned in `key`'s stream, and the first still kept.
    async fn bounds(&self, key: &StreamKey) -> anyhow::Result<(u64, u64)> {
        let mut stream = self.stream(key).await?;
        let state = &stream.info().await.context("asking NATS about a stream")?.state;
        Ok((state.first_sequence, state.last_sequence))
    }

    /// The publisher's last message: its JetStream sequence and its own sequence number.
    async fn last_of(&self, key: &StreamKey, publisher: &Address) -> anyhow::Result<Option<(u64, u64)>> {
        let stream = self.stream(key).await?;
        match stream.get_last_raw_message_by_subject(&subject(key, publisher)).await {
            Ok(raw) => Ok(Some((raw.sequence, decode(raw.sequence, &raw.payload)?.message.message.sequence))),
            Err(error) if error.kind() == jetstream::stream::LastRawMessageErrorKind::NoMessageFound => Ok(None),
            Err(error) => Err(anyhow::Error::new(error).context("asking NATS for a publisher's last message")),
        }
    }

    /// Messages from JetStream sequence `first` to `last`, in order, through an ordered consumer.
    async fn scan(
        &self,
        key: &StreamKey,
        first: u64,
        last: u64,
    ) -> anyhow::Result<impl futures::Stream<Item = anyhow::Result<Stored>> + use<>> {
        let stream = self.stream(key).await?;
        let consumer = stream
            .create_consumer(push::OrderedConfig {
                deliver_subject: self.client.new_inbox(),
                deliver_policy: DeliverPolicy::ByStartSequence { start_sequence: first },
                ..Default::default()
            })
            .await
            .context("reading a stream from NATS")?;
        let messages = consumer.messages().await.context("reading a stream from NATS")?;
        Ok(messages
            .map(delivered)
            .take_while(move |stored| std::future::ready(stored.as_ref().map_or(true, |s| s.offset < last))))
    }

    /// Up to `limit` messages from offset `from` that `keep` accepts, among those stored now.
    async fn collect(
        &self,
        key: &StreamKey,
        from: u64,
        limit: usize,
        keep: impl Fn(&Stored) -> bool,
    ) -> anyhow::Result<Vec<Stored>> {
        let (_, last) = self.bounds(key).await?;
        if from >= last || limit == 0 {
            return Ok(Vec::new());
        }
        let scan = self.scan(key, from + 1, last).await?;
        tokio::pin!(scan);
        let mut found = Vec::new();
        loop {
            let next =
                tokio::time::timeout(READ_TIMEOUT, scan.next()).await.context("NATS stopped answering a read")?;
            let Some(stored) = next else { break };
            let stored = stored?;
            let end = stored.offset + 1 >= last;
            if keep(&stored) {
                found.push(stored);
            }
            if end || found.len() == limit {
                break;
            }
        }
        Ok(found)
    }
}

#[async_trait]
impl StreamStore for Nats {
    async fn append(&self, message: SignedMessage, received_at: u64) -> Result<u64, AppendError> {
        let key = StreamKey::of(&message);
        let publisher = message.message.publisher;
        let sent = message.message.sequence;
        let payload = serde_json::to_vec(&Envelope { received_at, message }).map_err(anyhow::Error::from)?;
        for _ in 0..RACES {
            let last = self.last_of(&key, &publisher).await?;
            if let Some((_, last)) = last
                && sent <= last
            {
                return Err(AppendError::SequenceNotAfter { publisher, last, sent });
            }
            let publish = jetstream::message::PublishMessage::build()
                .payload(payload.clone().into())
                .expected_last_subject_sequence(last.map_or(0, |(at, _)| at));
            let acked = async { self.jetstream.send_publish(subject(&key, &publisher), publish).await?.await }.await;
            match acked {
                Ok(ack) => return Ok(ack.sequence - 1),
                // Another instance stored a message of this publisher meanwhile: look again.
                Err(error) if error.kind() == PublishErrorKind::WrongLastSequence => continue,
                Err(error) => return Err(anyhow::Error::new(error).context("publishing to NATS").into()),
            }
        }
        Err(anyhow::anyhow!("{RACES} racing appends for one publisher in a row").into())
    }

    async fn read(&self, stream: &StreamKey, from: u64, limit: usize) -> anyhow::Result<Vec<Stored>> {
        self.collect(stream, from, limit, |_| true).await
    }

    async fn read_between(
        &self,
        stream: &StreamKey,
        since: u64,
        until: u64,
        from: u64,
        limit: usize,
    ) -> anyhow::Result<Vec<Stored>> {
        let within = |stored: &Stored| (since..until).contains(&stored.message.message.timestamp);
        self.collect(stream, from, limit, within).await
    }

    async fn next_offset(&self, stream: &StreamKey) -> anyhow::Result<u64> {
        Ok(self.bounds(stream).await?.1)
    }

    async fn last_sequence(&self, stream: &StreamKey, publisher: Address) -> anyhow::Result<Option<u64>> {
        Ok(self.last_of(stream, &publisher).await?.map(|(_, sequence)| sequence))
    }

    async fn watch(&self, key: &StreamKey) -> anyhow::Result<broadcast::Receiver<Stored>> {
        {
            let mut feeds = self.feeds.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            feeds.retain(|_, feed| feed.receiver_count() > 0);
            if let Some(feed) = feeds.get(key) {
                return Ok(feed.subscribe());
            }
        }
        // The consumer exists before this returns: whatever is stored from now on reaches the feed.
        let stream = self.stream(key).await?;
        let consumer = stream
            .create_consumer(push::OrderedConfig {
                deliver_subject: self.client.new_inbox(),
                deliver_policy: DeliverPolicy::New,
                ..Default::default()
            })
            .await
            .context("following a stream on NATS")?;
        let mut messages = consumer.messages().await.context("following a stream on NATS")?;
        let (feed, receiver) = broadcast::channel(FEED_CAPACITY);
        self.feeds.lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert(key.clone(), feed.clone());
        let (name, key, feeds) = (key.to_string(), key.clone(), self.feeds.clone());
        tokio::spawn(async move {
            let mut idle = tokio::time::interval(Duration::from_secs(30));
            loop {
                tokio::select! {
                    next = messages.next() => {
                        let Some(message) = next else { break };
                        match delivered(message) {
                            // Nobody listening is not an error.
                            Ok(stored) => { let _ = feed.send(stored); }
                            Err(error) => tracing::warn!(target: "streams", stream = %name, %error, "a message from NATS was passed over"),
                        }
                    }
                    _ = idle.tick() => {}
                }
                if feed.receiver_count() == 0 {
                    break;
                }
            }
            // Closing the channel tells its readers to watch again: a consumer NATS ended is not
            // left in the map, where new readers would wait on it forever.
            let mut feeds = feeds.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            if feeds.get(&key).is_some_and(|kept| kept.same_channel(&feed)) {
                feeds.remove(&key);
            }
        });
        Ok(receiver)
    }

    async fn trim(&self, key: &StreamKey, before: u64) -> anyhow::Result<u64> {
        let (first, last) = self.bounds(key).await?;
        if last == 0 || first > last {
            return Ok(0);
        }
        let keep_from = self.first_received_from(key, first, last, before).await?;
        self.purge_before(key, first, keep_from).await
    }

    async fn keep_bytes(&self, key: &StreamKey, most: u64, received_from: u64) -> anyhow::Result<u64> {
        let state = self.stream(key).await?.info().await.context("asking NATS about a stream")?.state.clone();
        if state.messages == 0 || state.bytes <= most {
            return Ok(0);
        }
        // JetStream tells a stream's bytes, not each message's: the newest `most` bytes' worth of
        // messages of the average size.
        let average = state.bytes.div_ceil(state.messages).max(1);
        let by_bytes = (state.last_sequence + 1).saturating_sub(most / average);
        let (first, last) = (state.first_sequence, state.last_sequence);
        let recent = self.first_received_from(key, first, last, received_from).await?;
        self.purge_before(key, first, by_bytes.min(recent)).await
    }
}

impl Nats {
    /// The JetStream sequence of the first message in `first..=last` received at or after `from`
    /// (milliseconds since the epoch), or `last + 1`: messages are kept in the order received, so
    /// by bisection.
    async fn first_received_from(&self, key: &StreamKey, first: u64, last: u64, from: u64) -> anyhow::Result<u64> {
        let stream = self.stream(key).await?;
        let received = |sequence: u64| {
            let stream = stream.clone();
            async move {
                let raw = stream.get_raw_message(sequence).await.context("reading a message from NATS")?;
                anyhow::Ok(decode(raw.sequence, &raw.payload)?.received_at)
            }
        };
        let (mut low, mut high) = (first, last + 1);
        while low < high {
            let middle = low + (high - low) / 2;
            if received(middle).await? < from { low = middle + 1 } else { high = middle }
        }
        Ok(low)
    }

    /// Forgets every message before JetStream sequence `keep_from`; how many.
    async fn purge_before(&self, key: &StreamKey, first: u64, keep_from: u64) -> anyhow::Result<u64> {
        if keep_from <= first {
            return Ok(0);
        }
        let stream = self.stream(key).await?;
        let purged = stream.purge().sequence(keep_from).await.context("trimming a stream on NATS")?;
        Ok(purged.purged)
    }
}
