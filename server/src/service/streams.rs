//! Product streams: who may write and read, publishing, reading, and app keys.
//!
//! Access comes from the chain, never from a table someone edits (design, section 10):
//! - WRITE: the product's owner, or, for a Data Union product, a member active in the union at the
//!   block the read models stand at. A publisher signs with its own key or with an app key it
//!   granted for the union (not revoked, not expired at the chain time of that block).
//! - READ: the owner, or an address whose subscription ends after the chain time of that block.
//!   Anyone may read a stream's public preview: its newest `publicPreview` messages.
//!
//! Every replica answers the same, and a part, an expiry or a revocation takes effect at once.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use alloy::primitives::Bytes;
use alloy::primitives::{Address, B256};
use coop::stream::{AppKey, AppKeyGrant, Message, SignedMessage, StreamDefinition, StreamError, StreamName, Unchecked};
use governor::{DefaultKeyedRateLimiter, InsufficientCapacity, Quota, RateLimiter};

use crate::http::{ApiError, ErrorCode, Services};
use crate::live::Models;
use crate::service::unions::at_chain_time;
use crate::store::{Contribution, Store};
use crate::streams::store::{AppendError, BatchError, MAX_READ, Stored, StreamKey, StreamStore};

/// How far a message's timestamp may be from the server's clock.
pub const MAX_CLOCK_SKEW: Duration = Duration::from_secs(10 * 60);
/// The longest an app key may be granted for.
pub const MAX_GRANT: Duration = Duration::from_secs(366 * 24 * 60 * 60);

/// The messages and what limits their publishers; cheap to clone.
#[derive(Clone)]
pub struct Streams {
    pub store: Arc<dyn StreamStore>,
    /// Messages per second per publisher, across its streams.
    publishers: Arc<DefaultKeyedRateLimiter<Address>>,
    /// Turns `true` when the server stops, which ends every live feed.
    closing: Arc<tokio::sync::watch::Sender<bool>>,
    /// Each union's contributions as last read, and when: read again after [`TALLY_AGE`], or at once
    /// after this instance stored messages for the union. One entry per union the chain has shown.
    tallies: Arc<std::sync::Mutex<HashMap<Address, (std::time::Instant, Contributions)>>>,
    /// Contributions counted and not yet written, per union, day and publisher (see
    /// [`count_contributions`]).
    uncounted: Arc<std::sync::Mutex<Uncounted>>,
    /// Whether a write of them is waiting to start.
    write_scheduled: Arc<AtomicBool>,
    /// Held while writing them.
    writing: Arc<tokio::sync::Mutex<()>>,
    /// Each product's stream definitions as last read, and when: read again after
    /// [`DEFINITIONS_AGE`], or at once after this instance changed them. Every live reader checks
    /// its stream at each new block, all at once.
    definitions: Arc<std::sync::Mutex<HashMap<B256, ReadDefinitions>>>,
    /// Held while reading them, so that readers checking at once read once.
    reading_definitions: Arc<tokio::sync::Mutex<()>>,
}

/// How long a product's stream definitions are answered from memory: a change made through another
/// instance shows here within it.
const DEFINITIONS_AGE: Duration = Duration::from_secs(1);

/// A product's stream definitions, and when they were read.
type ReadDefinitions = (std::time::Instant, Arc<Vec<StreamDefinition>>);

/// Messages per (union, day, publisher).
type Uncounted = HashMap<(Address, u64, Address), u64>;

/// How long a union's contributions are answered from memory: every dashboard shows them, and the
/// store is asked twice for them.
const TALLY_AGE: Duration = Duration::from_secs(1);

impl Streams {
    pub fn new(store: Arc<dyn StreamStore>, per_publisher_per_second: NonZeroU32) -> Self {
        let quota = Quota::per_second(per_publisher_per_second).allow_burst(per_publisher_per_second);
        let closing = Arc::new(tokio::sync::watch::channel(false).0);
        Self {
            store,
            publishers: Arc::new(RateLimiter::keyed(quota)),
            closing,
            tallies: Arc::default(),
            uncounted: Arc::default(),
            write_scheduled: Arc::default(),
            writing: Arc::default(),
            definitions: Arc::default(),
            reading_definitions: Arc::default(),
        }
    }

    /// Ends every live feed, now and from now on.
    pub fn close(&self) {
        self.closing.send_replace(true);
    }

    /// Completes once [`Self::close`] was called.
    pub fn closed(&self) -> impl Future<Output = ()> + Send + 'static + use<> {
        let mut closing = self.closing.subscribe();
        async move {
            // An error means the sender is gone: the server is gone too.
            let _ = closing.wait_for(|closed| *closed).await;
        }
    }
}

fn unix_millis() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

fn not_found(product: &B256) -> ApiError {
    ApiError::NotFound(format!("no product {product}"))
}

/// The product's owner: 404 for a product the chain has not shown.
fn owner_of(models: &Models, product: &B256) -> Result<Address, ApiError> {
    models.catalog.product(product).map(|p| p.owner).ok_or_else(|| not_found(product))
}

/// A product's streams; 404 for a product the chain has not shown.
pub async fn definitions(services: &Services, product: B256) -> Result<Vec<StreamDefinition>, ApiError> {
    owner_of(&*services.models.read().await, &product)?;
    Ok(stored_definitions(services, product).await?.to_vec())
}

/// `product`'s stream definitions, from memory when read within [`DEFINITIONS_AGE`].
async fn stored_definitions(services: &Services, product: B256) -> Result<Arc<Vec<StreamDefinition>>, ApiError> {
    let streams = &services.streams;
    let fresh = || {
        let cached = streams.definitions.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        cached.get(&product).filter(|(read_at, _)| read_at.elapsed() < DEFINITIONS_AGE).map(|(_, kept)| kept.clone())
    };
    if let Some(kept) = fresh() {
        return Ok(kept);
    }
    let _reading = streams.reading_definitions.lock().await;
    if let Some(kept) = fresh() {
        return Ok(kept);
    }
    let read_at = std::time::Instant::now();
    let read = Arc::new(services.store.stream_definitions(&product).await?);
    let mut cached = streams.definitions.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    cached.insert(product, (read_at, read.clone()));
    Ok(read)
}

/// Forgets what memory holds of `product`'s definitions, after this instance changed them.
fn definitions_changed(services: &Services, product: &B256) {
    services.streams.definitions.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(product);
}

/// One stream's definition; 404 when the product or the stream is not there.
pub async fn definition(services: &Services, stream: &StreamKey) -> Result<StreamDefinition, ApiError> {
    let all = definitions(services, stream.product).await?;
    all.into_iter()
        .find(|definition| definition.name == stream.name)
        .ok_or_else(|| ApiError::NotFound(format!("product {} has no stream `{}`", stream.product, stream.name)))
}

fn invalid(message: String, field: &'static str) -> ApiError {
    ApiError::BadRequest { code: ErrorCode::InvalidBody, message, field: Some(field) }
}

/// Creates or changes a stream: the product's owner only.
pub async fn save_definition(
    services: &Services,
    who: Address,
    definition: StreamDefinition,
) -> Result<StreamDefinition, ApiError> {
    if let Some((field, message)) = definition.problem() {
        return Err(invalid(message, field));
    }
    owner_only(services, who, &definition.product).await?;
    let now = (unix_millis() / 1000) as i64;
    services.store.save_stream_definition(&definition, now).await?;
    definitions_changed(services, &definition.product);
    Ok(definition)
}

/// Removes a stream's definition (its messages age out with the store's retention): the owner only.
pub async fn delete_definition(services: &Services, who: Address, stream: &StreamKey) -> Result<(), ApiError> {
    owner_only(services, who, &stream.product).await?;
    if !services.store.delete_stream_definition(&stream.product, stream.name.as_str()).await? {
        return Err(ApiError::NotFound(format!("product {} has no stream `{}`", stream.product, stream.name)));
    }
    definitions_changed(services, &stream.product);
    Ok(())
}

async fn owner_only(services: &Services, who: Address, product: &B256) -> Result<(), ApiError> {
    let owner = owner_of(&*services.models.read().await, product)?;
    if owner != who {
        return Err(ApiError::Forbidden {
            code: ErrorCode::NotOwner,
            message: format!("only the owner of product {product} can change its streams, and {who} is not"),
        });
    }
    Ok(())
}

/// Who may publish to `product`'s streams at the models' block: its owner, or an active member of
/// the Data Union it pays.
fn may_write(models: &Models, product: &B256, publisher: Address) -> Result<bool, ApiError> {
    let found = models.catalog.product(product).ok_or_else(|| not_found(product))?;
    if found.owner == publisher {
        return Ok(true);
    }
    Ok(models
        .unions
        .get(&found.beneficiary)
        .and_then(|union| union.state().member(&publisher))
        .is_some_and(|member| member.active))
}

/// Whether `reader` may read `product`'s streams at chain time `now`: its owner, or a subscriber
/// whose subscription ends after `now`.
fn may_read(models: &Models, product: &B256, reader: Address, now: u64) -> Result<bool, ApiError> {
    let found = models.catalog.product(product).ok_or_else(|| not_found(product))?;
    if found.owner == reader {
        return Ok(true);
    }
    Ok(models.catalog.subscriptions_of(&reader).any(|subscription| {
        subscription.product == *product && subscription.end_timestamp > alloy::primitives::U256::from(now)
    }))
}

/// A message as a publisher sent it: its content still text, its signature not yet checked.
#[derive(Debug, Clone)]
pub struct Sent {
    pub publisher: Address,
    pub sequence: u64,
    pub timestamp: u64,
    pub content: String,
    pub signer: Address,
    /// 65 bytes.
    pub signature: Bytes,
}

/// The most messages one request may publish.
pub const MOST_IN_BATCH: usize = 500;

/// Where a published message went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placed {
    pub offset: u64,
    /// Milliseconds since the epoch, by this server's clock.
    pub received_at: u64,
}

/// Stores a message and answers where it went: [`publish_all`] of one.
pub async fn publish(services: &Services, stream: StreamKey, sent: Sent) -> Result<Placed, ApiError> {
    let mut placed = publish_all(services, stream, vec![sent]).await?;
    placed.pop().ok_or_else(|| ApiError::Unexpected(anyhow::anyhow!("one message published, none stored")))
}

/// Stores messages to one stream, in the order sent, and answers where each went. Every message is
/// checked before any is stored, cheapest first where the order does not matter: the stream exists,
/// each signature is its signer's over the bytes sent, each content is one JSON object within the
/// limit, each timestamp is near the server's time, each publisher's sequence numbers go up, each
/// signer is its publisher or one of the publisher's standing app keys for the product's union,
/// each publisher may write and is within its rate (a batch counts as many messages as it has), and
/// each sequence number is after the publisher's last stored one. A refusal names the message it is
/// about (`message 3: …`) when there are several.
pub async fn publish_all(services: &Services, stream: StreamKey, batch: Vec<Sent>) -> Result<Vec<Placed>, ApiError> {
    let several = batch.len() > 1;
    let about = |(at, error): (usize, ApiError)| if several { error.about(&format!("message {at}")) } else { error };
    if batch.len() > MOST_IN_BATCH {
        return Err(ApiError::BadRequest {
            code: ErrorCode::InvalidMessage,
            message: format!("{} messages in one batch; at most {MOST_IN_BATCH} are taken", batch.len()),
            field: Some("messages"),
        });
    }
    definition(services, &stream).await?;
    let now = unix_millis();
    let messages = check_all(&stream, batch, now).await.map_err(about)?;
    sequences_go_up(&messages).map_err(about)?;
    authorise(services, &stream.product, &messages).await.map_err(about)?;
    let counts = per_publisher(&messages);
    within_rate(services, &counts).map_err(about)?;
    let offsets = services.streams.store.append_all(messages, now).await.map_err(|BatchError { at, error }| {
        let stored = if at == 0 || !several { String::new() } else { format!(" (the {at} before it were stored)") };
        about((
            at,
            match error {
                AppendError::SequenceNotAfter { publisher, last, sent } => ApiError::Conflict {
                    code: ErrorCode::SequenceNotAfter,
                    message: format!(
                        "sequence {sent} is not after {publisher}'s last one in this stream, {last}: a replay?{stored}"
                    ),
                },
                AppendError::Store(error) => ApiError::Unexpected(error.context("storing messages")),
            },
        ))
    })?;
    let tally: Vec<(Address, u64)> =
        counts.iter().map(|&(publisher, _, count)| (publisher, u64::from(count))).collect();
    count_contributions(services, &stream.product, &tally, now).await;
    Ok(offsets.into_iter().map(|offset| Placed { offset, received_at: now }).collect())
}

/// Each publisher of `messages` once, with the index of its first message and how many it sent.
fn per_publisher(messages: &[SignedMessage]) -> Vec<(Address, usize, u32)> {
    let mut counts: Vec<(Address, usize, u32)> = Vec::new();
    for (at, message) in messages.iter().enumerate() {
        match counts.iter_mut().find(|(publisher, ..)| *publisher == message.message.publisher) {
            Some((.., count)) => *count += 1,
            None => counts.push((message.message.publisher, at, 1)),
        }
    }
    counts
}

/// Takes each publisher's messages from its rate, all or none: 429 for the first publisher over it.
fn within_rate(services: &Services, counts: &[(Address, usize, u32)]) -> Result<(), (usize, ApiError)> {
    for &(publisher, at, count) in counts {
        let Some(count) = NonZeroU32::new(count) else { continue };
        let refusal = match services.streams.publishers.check_key_n(&publisher, count) {
            Ok(Ok(())) => continue,
            Ok(Err(_)) => format!("{publisher} publishes faster than this server takes; slow down"),
            Err(InsufficientCapacity(most)) => format!(
                "a batch of {count} messages from {publisher} is more than this server takes from one publisher in a second ({most}); send smaller ones"
            ),
        };
        return Err((at, ApiError::TooManyRequests { message: refusal, retry_after: 1 }));
    }
    Ok(())
}

/// Each message checked on its own: its signature over the bytes sent (the costly part, spread over
/// the cores for a batch), its content, its timestamp. The first refusal, with its index.
async fn check_all(stream: &StreamKey, batch: Vec<Sent>, now: u64) -> Result<Vec<SignedMessage>, (usize, ApiError)> {
    let check = {
        let stream = stream.clone();
        move |(at, sent): (usize, Sent)| check_one(&stream, sent, now).map_err(|error| (at, error))
    };
    if batch.len() < 8 {
        return batch.into_iter().enumerate().map(check).collect();
    }
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let mut chunks: Vec<Vec<(usize, Sent)>> = Vec::new();
    let per_chunk = batch.len().div_ceil(threads);
    for (at, sent) in batch.into_iter().enumerate() {
        match chunks.last_mut() {
            Some(chunk) if chunk.len() < per_chunk => chunk.push((at, sent)),
            _ => chunks.push(vec![(at, sent)]),
        }
    }
    let tasks: Vec<_> = chunks
        .into_iter()
        .map(|chunk| {
            let check = check.clone();
            tokio::task::spawn_blocking(move || chunk.into_iter().map(check).collect::<Result<Vec<_>, _>>())
        })
        .collect();
    let mut messages = Vec::new();
    for task in tasks {
        let checked =
            task.await.map_err(|error| (0, ApiError::Unexpected(anyhow::anyhow!("checking signatures: {error}"))))?;
        messages.extend(checked?);
    }
    Ok(messages)
}

fn check_one(stream: &StreamKey, sent: Sent, now: u64) -> Result<SignedMessage, ApiError> {
    let unchecked = Unchecked {
        product: stream.product,
        stream: &stream.name,
        publisher: sent.publisher,
        sequence: sent.sequence,
        timestamp: sent.timestamp,
        content: &sent.content,
    };
    if unchecked.signer(&sent.signature) != Ok(sent.signer) {
        return Err(ApiError::Unauthorized {
            code: ErrorCode::BadSignature,
            message: format!("the signature is not {}'s over this message", sent.signer),
            field: Some("signature"),
        });
    }
    let content = sent.content.parse().map_err(|error: StreamError| ApiError::BadRequest {
        code: ErrorCode::InvalidMessage,
        message: format!("`content`: {error}"),
        field: Some("content"),
    })?;
    let skew = now.abs_diff(sent.timestamp);
    if skew > MAX_CLOCK_SKEW.as_millis() as u64 {
        return Err(ApiError::BadRequest {
            code: ErrorCode::StaleMessage,
            message: format!(
                "the timestamp is {} s from the server's clock; at most {} s is taken",
                skew / 1000,
                MAX_CLOCK_SKEW.as_secs()
            ),
            field: Some("timestamp"),
        });
    }
    Ok(SignedMessage {
        message: Message {
            product: stream.product,
            stream: stream.name.clone(),
            publisher: sent.publisher,
            sequence: sent.sequence,
            timestamp: sent.timestamp,
            content,
        },
        signer: sent.signer,
        signature: sent.signature,
    })
}

/// Within a batch, each publisher's sequence numbers go up (the store checks them against what it
/// has).
fn sequences_go_up(messages: &[SignedMessage]) -> Result<(), (usize, ApiError)> {
    let mut last: HashMap<Address, u64> = HashMap::new();
    for (at, message) in messages.iter().enumerate() {
        let Message { publisher, sequence, .. } = message.message;
        if let Some(previous) = last.insert(publisher, sequence)
            && sequence <= previous
        {
            return Err((
                at,
                ApiError::Conflict {
                    code: ErrorCode::SequenceNotAfter,
                    message: format!(
                        "sequence {sequence} is not after {previous}, {publisher}'s one before it in this batch"
                    ),
                },
            ));
        }
    }
    Ok(())
}

/// Each signer may speak for its publisher (an app key standing at chain time), and each publisher
/// may write, all at one block. The first refusal, with the index of the first message it is about.
async fn authorise(services: &Services, product: &B256, messages: &[SignedMessage]) -> Result<(), (usize, ApiError)> {
    // Each pair once, with its first message.
    let mut pairs: Vec<(usize, Address, Address)> = Vec::new();
    for (at, message) in messages.iter().enumerate() {
        let pair = (message.signer, message.message.publisher);
        if !pairs.iter().any(|(_, signer, publisher)| (*signer, *publisher) == pair) {
            pairs.push((at, pair.0, pair.1));
        }
    }
    let mut keys = Vec::new();
    for &(at, signer, publisher) in &pairs {
        if signer != publisher {
            keys.push((at, app_key_for(services, product, signer, publisher).await.map_err(|error| (at, error))?));
        }
    }
    at_chain_time(services, |models, chain_now| {
        for (at, key) in &keys {
            if !key.stands_at(chain_now) {
                let error = not_granted(key.grant.key, key.grant.publisher, "it was revoked or has expired");
                return Ok(Err((*at, error)));
            }
        }
        for &(at, _, publisher) in &pairs {
            match may_write(models, product, publisher) {
                Ok(true) => {}
                Ok(false) => {
                    return Ok(Err((
                        at,
                        ApiError::Forbidden {
                            code: ErrorCode::NotAPublisher,
                            message: format!(
                                "{publisher} may not publish to product {product}: it is neither its owner nor an active member of its Data Union"
                            ),
                        },
                    )));
                }
                Err(error) => return Ok(Err((at, error))),
            }
        }
        Ok(Ok(()))
    })
    .await
    .map_err(|error| (0, error))?
}

/// Adds what each publisher just published to the tally of the union the product pays, if it pays
/// one (the dashboard's "who contributes"). The tally is written after the answer, off the publish
/// path: a publish waits for its messages' commit, not for a second one. Requests arriving while a
/// write is under way share the next one, so many publishers sending one message at a time cost a
/// few writes, not one each. A dashboard read writes what is waiting first, and so does a server that
/// stops; a crash loses the counts not yet written, a moment's worth (the messages are kept).
async fn count_contributions(services: &Services, product: &B256, counts: &[(Address, u64)], now_millis: u64) {
    let union = {
        let models = services.models.read().await;
        let beneficiary = models.catalog.product(product).map(|found| found.beneficiary);
        beneficiary.filter(|beneficiary| models.unions.get(beneficiary).is_some())
    };
    let Some(union) = union else { return };
    services.streams.count(&services.store, union, now_millis / 86_400_000, counts);
}

impl Streams {
    /// Adds `counts` (messages per publisher) to `union`'s tally of `day`, and makes sure a write
    /// of everything counted is on its way.
    fn count(&self, store: &Store, union: Address, day: u64, counts: &[(Address, u64)]) {
        {
            let mut uncounted = self.uncounted.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            for &(publisher, messages) in counts {
                *uncounted.entry((union, day, publisher)).or_default() += messages;
            }
        }
        // One write waiting at a time; it takes whatever is counted by the time it starts.
        if !self.write_scheduled.swap(true, Ordering::AcqRel) {
            let (streams, store) = (self.clone(), store.clone());
            tokio::spawn(async move { write_contributions(&streams, &store).await });
        }
    }
}

/// Writes every contribution counted and not yet written, in one transaction.
pub async fn write_contributions(streams: &Streams, store: &Store) {
    let _writing = streams.writing.lock().await;
    // Cleared before taking the counts: a count added after the take schedules the next write.
    streams.write_scheduled.store(false, Ordering::Release);
    let batch: Vec<Contribution> =
        std::mem::take(&mut *streams.uncounted.lock().unwrap_or_else(std::sync::PoisonError::into_inner))
            .into_iter()
            .map(|((union, day, publisher), messages)| Contribution { union, day, publisher, messages })
            .collect();
    if batch.is_empty() {
        return;
    }
    if let Err(error) = store.count_contributions(&batch).await {
        tracing::warn!(target: "streams", "the contributions of {} publishers were not counted: {error}", batch.len());
    }
    // After the write, so the next dashboard reads it.
    let mut tallies = streams.tallies.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    for counted in &batch {
        tallies.remove(&counted.union);
    }
}

/// How many days of contributions the dashboard shows, today included.
pub const CONTRIBUTION_DAYS: u64 = 30;
/// How many of the most contributing publishers it names.
pub const TOP_CONTRIBUTORS: u64 = 10;

/// What a union's products' streams received, by day, and who sent the most.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contributions {
    /// The first day counted and today, in days since the epoch (UTC).
    pub first_day: u64,
    pub today: u64,
    /// `(day, messages, publishers)` of each day with messages, oldest first.
    pub days: Vec<(u64, u64, u64)>,
    /// At most [`TOP_CONTRIBUTORS`] publishers with how many messages, most first.
    pub top: Vec<(Address, u64)>,
}

/// What `union`'s products' streams received over the last [`CONTRIBUTION_DAYS`] days, by day, and
/// the publishers that sent the most: 404 for a union the chain has not shown.
pub async fn contributions(services: &Services, union: Address) -> Result<Contributions, ApiError> {
    if services.models.unions().await.get(&union).is_none() {
        return Err(ApiError::NotFound(format!("no Data Union {union}")));
    }
    write_contributions(&services.streams, &services.store).await;
    let tallies = || services.streams.tallies.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some((read_at, tally)) = tallies().get(&union)
        && read_at.elapsed() < TALLY_AGE
    {
        return Ok(tally.clone());
    }
    let read_at = std::time::Instant::now();
    let today = unix_millis() / 86_400_000;
    let first_day = today.saturating_sub(CONTRIBUTION_DAYS - 1);
    let days = services.store.contributions_by_day(union, first_day).await?;
    let top = services.store.top_contributors(union, first_day, TOP_CONTRIBUTORS).await?;
    let tally = Contributions { first_day, today, days, top };
    tallies().insert(union, (read_at, tally.clone()));
    Ok(tally)
}

fn not_granted(signer: Address, publisher: Address, why: &str) -> ApiError {
    ApiError::Forbidden {
        code: ErrorCode::AppKeyNotGranted,
        message: format!("{signer} may not publish in {publisher}'s name: {why}"),
    }
}

/// The grant that lets `signer` publish for `publisher` to `product`, whose beneficiary is the union.
async fn app_key_for(
    services: &Services,
    product: &B256,
    signer: Address,
    publisher: Address,
) -> Result<AppKey, ApiError> {
    let union = {
        let models = services.models.read().await;
        models.catalog.product(product).ok_or_else(|| not_found(product))?.beneficiary
    };
    services
        .store
        .app_key(signer, publisher, union)
        .await?
        .ok_or_else(|| not_granted(signer, publisher, &format!("it has no app key grant for Data Union {union}")))
}

/// The reader's view of a stream: everything for a reader with access, the public preview for
/// anyone else (an empty one when the seller shows none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Full,
    /// Only offsets from this one on.
    PreviewFrom(u64),
}

impl Access {
    pub fn first_offset(self) -> u64 {
        match self {
            Access::Full => 0,
            Access::PreviewFrom(first) => first,
        }
    }
}

/// Whether `reader` (signed in, or not) reads everything of `product`'s streams at the server's block.
async fn reads_all(services: &Services, product: &B256, reader: Option<Address>) -> Result<bool, ApiError> {
    match reader {
        None => Ok(false),
        Some(reader) => at_chain_time(services, |models, now| may_read(models, product, reader, now)).await,
    }
}

/// What a reader may read of a stream whose next offset is `next`.
fn access_of(definition: &StreamDefinition, reads_all: bool, next: u64) -> Access {
    if reads_all {
        Access::Full
    } else {
        Access::PreviewFrom(next.saturating_sub(u64::from(definition.public_preview)))
    }
}

async fn next_offset(services: &Services, stream: &StreamKey) -> Result<u64, ApiError> {
    services.streams.store.next_offset(stream).await.map_err(ApiError::Unexpected)
}

/// What `reader` (signed in, or not) may read of `stream`.
pub async fn access(services: &Services, stream: &StreamKey, reader: Option<Address>) -> Result<Access, ApiError> {
    let definition = definition(services, stream).await?;
    if reads_all(services, &stream.product, reader).await? {
        return Ok(Access::Full);
    }
    Ok(access_of(&definition, false, next_offset(services, stream).await?))
}

/// Like [`access`], but refuses anyone without full access: for live feeds and downloads.
pub async fn full_access(services: &Services, stream: &StreamKey, reader: Option<Address>) -> Result<(), ApiError> {
    let Some(who) = reader else {
        return Err(crate::auth::SignedIn::required());
    };
    match access(services, stream, reader).await? {
        Access::Full => Ok(()),
        Access::PreviewFrom(_) => Err(no_read(who, stream)),
    }
}

fn no_read(who: Address, stream: &StreamKey) -> ApiError {
    ApiError::Forbidden {
        code: ErrorCode::NotAReader,
        message: format!(
            "{who} may not read product {}'s streams: it is not the owner and has no active subscription",
            stream.product
        ),
    }
}

/// The most a server keeps of any one stream (`stream_retention_days`, `stream_retention_bytes`);
/// a seller may choose less.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    pub days: u32,
    pub bytes: u64,
}

impl Retention {
    /// How many days `definition`'s messages are kept: the seller's choice, at most the server's,
    /// which is also what "0" (as long as the server keeps anything) means.
    pub fn days_of(&self, definition: &StreamDefinition) -> u32 {
        match definition.retention_days {
            0 => self.days,
            days => days.min(self.days),
        }
    }

    /// How many bytes of `definition`'s messages are kept, likewise.
    pub fn bytes_of(&self, definition: &StreamDefinition) -> u64 {
        match definition.retention_bytes {
            0 => self.bytes,
            bytes => bytes.min(self.bytes),
        }
    }
}

/// How long every message is kept whatever a stream's bytes: a replay is refused by its publisher's
/// last sequence number while its timestamp could still pass (received within [`MAX_CLOCK_SKEW`] of
/// its timestamp, replayed within it again).
const ALWAYS_KEPT: Duration = Duration::from_secs(2 * MAX_CLOCK_SKEW.as_secs());

/// Forgets, once an hour, the messages older than each stream's retention, and the oldest of a
/// stream past its bytes.
pub async fn trim_expired(services: Arc<Services>, most: Retention) {
    let mut every = tokio::time::interval(Duration::from_secs(3600));
    loop {
        every.tick().await;
        trim_all(&services, most).await;
    }
}

/// One round of [`trim_expired`].
pub async fn trim_all(services: &Services, most: Retention) {
    let definitions = match services.store.all_stream_definitions().await {
        Ok(definitions) => definitions,
        Err(error) => {
            tracing::warn!(target: "streams", %error, "reading the streams to trim failed");
            return;
        }
    };
    for definition in definitions {
        let now = unix_millis();
        let before = now.saturating_sub(u64::from(most.days_of(&definition)) * 86_400_000);
        let bytes = most.bytes_of(&definition);
        let stream = StreamKey { product: definition.product, name: definition.name };
        let store = &services.streams.store;
        let by_age = store.trim(&stream, before).await;
        let by_bytes = store.keep_bytes(&stream, bytes, now.saturating_sub(ALWAYS_KEPT.as_millis() as u64)).await;
        match (by_age, by_bytes) {
            (Ok(0), Ok(0)) => {}
            (Ok(old), Ok(over)) => tracing::info!(target: "streams", %stream, old, over, "messages forgotten"),
            (Err(error), _) | (_, Err(error)) => tracing::warn!(target: "streams", %stream, %error, "trimming failed"),
        }
    }
}

/// Which messages a history read asks for.
#[derive(Debug, Clone, Copy)]
pub struct HistoryQuery {
    pub from: u64,
    pub limit: usize,
    /// Publisher timestamps in `[since, until)`, milliseconds since the epoch.
    pub between: Option<(u64, u64)>,
}

/// A page of history: up to `limit` messages from `from`, within what the reader may read.
pub async fn history(
    services: &Services,
    stream: &StreamKey,
    reader: Option<Address>,
    query: HistoryQuery,
) -> Result<(Access, Vec<Stored>), ApiError> {
    let access = access(services, stream, reader).await?;
    let from = query.from.max(access.first_offset());
    let limit = query.limit.clamp(1, MAX_READ);
    let store = &services.streams.store;
    let page = match query.between {
        Some((since, until)) => store.read_between(stream, since, until, from, limit).await,
        None => store.read(stream, from, limit).await,
    };
    Ok((access, page.map_err(ApiError::Unexpected)?))
}

/// One stream as a product's page shows it.
pub struct Overview {
    pub definition: StreamDefinition,
    pub access: Access,
    /// How many messages the stream has ever had.
    pub count: u64,
    /// Its newest `latest` messages the reader may read, oldest first.
    pub messages: Vec<Stored>,
}

/// Every stream of `product` with its newest `latest` messages the reader may read: the streams and
/// the reader's access are looked up once for all of them.
pub async fn overview(
    services: &Services,
    product: B256,
    reader: Option<Address>,
    latest: usize,
) -> Result<Vec<Overview>, ApiError> {
    let definitions = definitions(services, product).await?;
    let reads_all = reads_all(services, &product, reader).await?;
    let mut overviews = Vec::with_capacity(definitions.len());
    for definition in definitions {
        let stream = StreamKey { product, name: definition.name.clone() };
        let count = next_offset(services, &stream).await?;
        let access = access_of(&definition, reads_all, count);
        let from = count.saturating_sub(latest as u64).max(access.first_offset());
        let messages = services.streams.store.read(&stream, from, latest).await.map_err(ApiError::Unexpected)?;
        overviews.push(Overview { definition, access, count, messages });
    }
    Ok(overviews)
}

/// The grant `publisher` would sign to let `key` publish to `union`'s streams for `days` days: this
/// server's chain, the expiry counted from the server's clock. Nothing is kept until [`grant`].
pub fn prepare_grant(
    services: &Services,
    union: Address,
    publisher: Address,
    key: Address,
    days: u32,
) -> Result<AppKeyGrant, ApiError> {
    let most = MAX_GRANT.as_secs() / 86_400;
    let days = u64::from(days);
    if !(1..=most).contains(&days) {
        let message = format!("an app key is granted for 1 to {most} days");
        return Err(ApiError::BadRequest { code: ErrorCode::InvalidGrant, message, field: Some("days") });
    }
    let expires = unix_millis() / 1000 + days * 86_400;
    Ok(AppKeyGrant { key, publisher, union, chain_id: services.chain_id, expires })
}

/// Keeps a publisher's grant for an app key, after checking it: its publisher signed its text (an
/// account's ECDSA signature, or a contract account's EIP-1271 one), it names this chain and an
/// indexed Data Union, and it expires in the future but within [`MAX_GRANT`].
pub async fn grant(services: &Services, grant: AppKeyGrant, signature: &str) -> Result<AppKey, ApiError> {
    let bad = |message: String, field: &'static str| ApiError::BadRequest {
        code: ErrorCode::InvalidGrant,
        message,
        field: Some(field),
    };
    if services.models.unions().await.get(&grant.union).is_none() {
        return Err(ApiError::NotFound(format!("no Data Union at {}", grant.union)));
    }
    let signature = crate::signatures::parse(signature)
        .ok_or_else(|| bad("the signature is not hex of 1 to 2048 bytes".to_owned(), "signature"))?;
    // The signature first: what it covers is checked only for grants their publisher made.
    if !crate::signatures::is_signed_by(&services.chain, grant.publisher, grant.text().as_bytes(), &signature).await? {
        return Err(ApiError::Unauthorized {
            code: ErrorCode::BadSignature,
            message: format!("the signature is not {}'s over the grant's text", grant.publisher),
            field: Some("signature"),
        });
    }
    if grant.chain_id != services.chain_id {
        let message =
            format!("the grant names chain {}; this server is on chain {}", grant.chain_id, services.chain_id);
        return Err(bad(message, "chainId"));
    }
    let now = unix_millis() / 1000;
    if grant.expires <= now || grant.expires > now + MAX_GRANT.as_secs() {
        let message = format!("a grant expires in the future and within {} days", MAX_GRANT.as_secs() / 86_400);
        return Err(bad(message, "expires"));
    }
    if grant.key == grant.publisher {
        let message = "the app key is the member's own address: a member signs with its own key without a grant";
        return Err(bad(message.to_owned(), "key"));
    }
    let key = AppKey { grant, signature, created_at: now, revoked_at: None };
    services.store.save_app_key(&key).await?;
    Ok(key)
}

/// A publisher's app keys, newest first.
pub async fn app_keys(services: &Services, publisher: Address) -> Result<Vec<AppKey>, ApiError> {
    Ok(services.store.app_keys(publisher).await?)
}

/// Revokes the signed-in publisher's grants of `key`, at once: its next message is refused.
pub async fn revoke(services: &Services, who: Address, key: Address) -> Result<(), ApiError> {
    let now = unix_millis() / 1000;
    if services.store.revoke_app_key(key, who, now).await? == 0 {
        return Err(ApiError::NotFound(format!("{who} has no standing app key {key}")));
    }
    Ok(())
}

/// Parses a stream name from a path, naming the segment when it is not one.
pub fn stream_name(text: &str) -> Result<StreamName, ApiError> {
    text.parse().map_err(|error: coop::stream::StreamError| ApiError::BadRequest {
        code: ErrorCode::InvalidName,
        message: error.to_string(),
        field: Some("stream"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_contribution_counted_at_once_is_written_once() {
        let folder = tempfile::tempdir().unwrap();
        let store =
            Store::open(&format!("sqlite://{}?mode=rwc", folder.path().join("coop.db").display())).await.unwrap();
        let messages = Arc::new(crate::streams::embedded::Embedded::in_memory().await.unwrap());
        let streams = Streams::new(messages, NonZeroU32::new(10).unwrap());
        let (union, day) = (Address::repeat_byte(0xdd), 20_000);
        let publishers: Vec<Address> = (1..=4).map(Address::repeat_byte).collect();
        let tasks: Vec<_> = (0..200u64)
            .map(|n| {
                let (streams, store) = (streams.clone(), store.clone());
                let publisher = publishers[n as usize % publishers.len()];
                tokio::spawn(async move { streams.count(&store, union, day, &[(publisher, n % 3 + 1)]) })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        write_contributions(&streams, &store).await;
        let expected: u64 = (0..200u64).map(|n| n % 3 + 1).sum();
        let days = store.contributions_by_day(union, day).await.unwrap();
        assert_eq!(days, [(day, expected, 4)], "every count written, none twice");
        assert!(streams.uncounted.lock().unwrap().is_empty());
    }

    #[test]
    fn a_stream_keeps_its_messages_as_long_and_as_much_as_its_seller_says_and_the_server_allows() {
        let definition = |days, bytes| StreamDefinition {
            product: B256::ZERO,
            name: "gps".parse().unwrap(),
            description: String::new(),
            example: None,
            retention_days: days,
            retention_bytes: bytes,
            public_preview: 0,
        };
        let most = Retention { days: 365, bytes: 1 << 30 };
        assert_eq!(most.days_of(&definition(0, 0)), 365, "0: as long as the server keeps anything");
        assert_eq!(most.days_of(&definition(30, 0)), 30);
        assert_eq!(most.days_of(&definition(3650, 0)), 365, "never past the server's maximum");
        assert_eq!(most.bytes_of(&definition(0, 0)), 1 << 30, "0: as much as the server keeps");
        assert_eq!(most.bytes_of(&definition(0, 5 << 20)), 5 << 20);
        assert_eq!(most.bytes_of(&definition(0, 1 << 40)), 1 << 30, "never past the server's maximum");
    }
}
