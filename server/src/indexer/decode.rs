//! Turns chain logs into [`ChainEvent`]s, each through its contract's `sol!` event enum, so a log is
//! read once, by the ABI, and never by name afterwards.

use std::collections::HashSet;

use alloy::primitives::{Address, B256};
use alloy::rpc::types::Log;
use alloy::sol_types::{SolEvent, SolEventInterface};
use coop::contracts::{DataToken, DataUnion, DataUnionFactory, Marketplace};
use coop::engine::{AdminFee, EventKey};

use crate::chain_event::{ChainEvent, ProductFields, StoredEvent, UnionCreated};

/// The contracts whose logs the indexer reads.
#[derive(Debug, Clone, Copy)]
pub struct Watched {
    pub factory: Address,
    pub marketplace: Address,
    pub data_token: Address,
}

#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("log without {0}; the node must return mined logs only")]
    Pending(&'static str),
    /// The log is kept, and the node left out its block's time: the indexer reads the block's
    /// header and decodes it again.
    #[error("log at block {block} without its block's time")]
    NoBlockTime { block: u64, block_hash: B256 },
    #[error("log at block {block} index {log_index} of event {event}: {reason}")]
    Malformed { block: u64, log_index: u64, event: &'static str, reason: String },
}

/// The Data Union events the indexer asks for, from the known unions only.
const UNION_TOPICS: [B256; 16] = [
    DataUnion::MemberJoined::SIGNATURE_HASH,
    DataUnion::MemberParted::SIGNATURE_HASH,
    DataUnion::AdminFeeChanged::SIGNATURE_HASH,
    DataUnion::AdminFeeChangeAnnounced::SIGNATURE_HASH,
    DataUnion::OwnershipTransferred::SIGNATURE_HASH,
    DataUnion::NewCommit::SIGNATURE_HASH,
    DataUnion::CommitVetoed::SIGNATURE_HASH,
    DataUnion::Withdrawn::SIGNATURE_HASH,
    DataUnion::OperatorChanged::SIGNATURE_HASH,
    DataUnion::OperatorChangeAnnounced::SIGNATURE_HASH,
    DataUnion::ValidatorAdded::SIGNATURE_HASH,
    DataUnion::ValidatorRemovalAnnounced::SIGNATURE_HASH,
    DataUnion::ValidatorRemoved::SIGNATURE_HASH,
    DataUnion::MigrationStarted::SIGNATURE_HASH,
    DataUnion::EarningsCarried::SIGNATURE_HASH,
    DataUnion::CarryClosed::SIGNATURE_HASH,
];

/// The events asked for from the factory, the marketplace and the DATA token.
const WATCHED_TOPICS: [B256; 9] = [
    DataUnionFactory::DataUnionCreated::SIGNATURE_HASH,
    DataToken::Transfer::SIGNATURE_HASH,
    Marketplace::ProductCreated::SIGNATURE_HASH,
    Marketplace::ProductUpdated::SIGNATURE_HASH,
    Marketplace::ProductDeleted::SIGNATURE_HASH,
    Marketplace::ProductRedeployed::SIGNATURE_HASH,
    Marketplace::ProductOwnershipChanged::SIGNATURE_HASH,
    Marketplace::Subscribed::SIGNATURE_HASH,
    Marketplace::Purchased::SIGNATURE_HASH,
];

pub fn union_topics() -> Vec<B256> {
    UNION_TOPICS.to_vec()
}

pub fn watched_topics() -> Vec<B256> {
    WATCHED_TOPICS.to_vec()
}

/// Whether the log is one of `topics`: only those are decoded, so a log the node sends unasked, well
/// formed or not, is passed over rather than held against its contract.
fn asked_for(log: &Log, topics: &[B256]) -> bool {
    log.topic0().is_some_and(|topic| topics.contains(topic))
}

/// The union a factory log announces, read before its logs are asked for.
pub fn created_union(log: &Log, watched: &Watched) -> Option<Address> {
    if log.address() != watched.factory || log.topic0() != Some(&DataUnionFactory::DataUnionCreated::SIGNATURE_HASH) {
        return None;
    }
    DataUnionFactory::DataUnionCreated::decode_log_data(log.data()).ok().map(|created| created.du)
}

/// Where a log sits; the key of the stored event.
pub struct Position {
    pub key: EventKey,
    pub block_hash: B256,
    /// The block's time in seconds: every kept event carries it (a commit's freeze starts then).
    /// `None` when the node left it out (many do); the indexer then reads it from the block.
    pub timestamp: Option<u64>,
}

pub fn position(log: &Log) -> Result<Position, DecodeError> {
    Ok(Position {
        key: EventKey::new(
            log.block_number.ok_or(DecodeError::Pending("block number"))?,
            log.transaction_index.ok_or(DecodeError::Pending("transaction index"))?,
            log.log_index.ok_or(DecodeError::Pending("log index"))?,
        ),
        block_hash: log.block_hash.ok_or(DecodeError::Pending("block hash"))?,
        timestamp: log.block_timestamp,
    })
}

/// Decodes one log. `unions` holds the known Data Unions and learns new ones from the factory.
/// Returns `None` for logs that matter to nobody (a DATA transfer between two wallets, a log of an
/// unknown contract that happens to share a topic).
pub fn decode(
    log: &Log,
    at: &Position,
    watched: &Watched,
    unions: &mut HashSet<Address>,
) -> Result<Option<StoredEvent>, DecodeError> {
    let emitter = log.address();
    let malformed = |event: &'static str, error: alloy::sol_types::Error| DecodeError::Malformed {
        block: at.key.block,
        log_index: at.key.log_index,
        event,
        reason: error.to_string(),
    };

    if emitter == watched.factory && log.topic0() == Some(&DataUnionFactory::DataUnionCreated::SIGNATURE_HASH) {
        let created = DataUnionFactory::DataUnionCreated::decode_log(&log.inner)
            .map_err(|e| malformed("DataUnionCreated", e))?
            .data;
        let union = created.du;
        let admin_fee = match AdminFee::try_from(created.adminFee) {
            Ok(fee) => fee,
            Err(error) => return unreadable(at, union, format!("DataUnionCreated: {error}")).map(Some),
        };
        let time = time_of(at)?;
        unions.insert(union);
        let created = UnionCreated {
            owner: created.owner,
            admin_fee,
            freeze_period: created.freezePeriod,
            operator: created.operator,
        };
        return Ok(Some(stored(at, time, union, ChainEvent::Created(created))));
    }
    if emitter == watched.data_token && log.topic0() == Some(&DataToken::Transfer::SIGNATURE_HASH) {
        let transfer = DataToken::Transfer::decode_log(&log.inner).map_err(|e| malformed("Transfer", e))?.data;
        if !unions.contains(&transfer.to) || transfer.value.is_zero() {
            return Ok(None);
        }
        let revenue = ChainEvent::Revenue { amount: transfer.value, from: transfer.from };
        return Ok(Some(stored(at, time_of(at)?, transfer.to, revenue)));
    }
    if emitter == watched.marketplace {
        let event = decode_marketplace(log).map_err(|e| malformed("Marketplace", e))?;
        return event.map(|event| Ok(stored(at, time_of(at)?, emitter, event))).transpose();
    }
    if !unions.contains(&emitter) {
        return Ok(None);
    }
    if !asked_for(log, &UNION_TOPICS) {
        return Ok(None);
    }
    // Every union event is kept (an unreadable one too), with its time; a commit's freeze starts
    // then, so a commit is never decoded with a time of 0.
    let time = time_of(at)?;
    // A union's log that cannot be read sets that union aside, and only it.
    Ok(match decode_union(log, time) {
        Ok(event) => event.map(|event| stored(at, time, emitter, event)),
        Err(reason) => Some(stored(at, time, emitter, ChainEvent::Unreadable { reason })),
    })
}

/// Decodes a log of a known union; the error says why it cannot be.
fn decode_union(log: &Log, time: u64) -> Result<Option<ChainEvent>, String> {
    use DataUnion::DataUnionEvents as Union;
    let decoded = Union::decode_log(&log.inner).map_err(|error| format!("DataUnion: {error}"))?.data;
    Ok(Some(match decoded {
        Union::MemberJoined(e) => ChainEvent::MemberJoined { member: e.member },
        Union::MemberParted(e) => ChainEvent::MemberParted { member: e.member },
        Union::AdminFeeChanged(e) => {
            let admin_fee = AdminFee::try_from(e.adminFee).map_err(|error| format!("AdminFeeChanged: {error}"))?;
            ChainEvent::AdminFeeChanged { admin_fee }
        }
        // The constructor's transfer from the zero address is the creation, which the factory's
        // `DataUnionCreated` already carries.
        Union::OwnershipTransferred(e) if e.previousOwner == Address::ZERO => return Ok(None),
        Union::OwnershipTransferred(e) => ChainEvent::OwnerChanged { owner: e.newOwner },
        Union::NewCommit(e) => {
            let book_block = u64::try_from(e.blockNumber)
                .map_err(|_| format!("NewCommit: block number {} does not fit 64 bits", e.blockNumber))?;
            ChainEvent::Committed { book_block, root: e.root, book_hash: e.bookHash, timestamp: time }
        }
        Union::Withdrawn(e) => ChainEvent::Withdrawn { member: e.member, recipient: e.recipient, amount: e.amount },
        Union::OperatorChanged(e) => ChainEvent::OperatorChanged { operator: e.newOperator },
        Union::OperatorChangeAnnounced(e) => {
            ChainEvent::OperatorChangeAnnounced { operator: e.newOperator, effective_at: seconds(e.effectiveAt) }
        }
        Union::AdminFeeChangeAnnounced(e) => {
            let admin_fee =
                AdminFee::try_from(e.adminFee).map_err(|error| format!("AdminFeeChangeAnnounced: {error}"))?;
            ChainEvent::AdminFeeChangeAnnounced { admin_fee, effective_at: seconds(e.effectiveAt) }
        }
        Union::ValidatorAdded(e) => ChainEvent::ValidatorAdded { validator: e.validator },
        Union::ValidatorRemovalAnnounced(e) => {
            ChainEvent::ValidatorRemovalAnnounced { validator: e.validator, effective_at: seconds(e.effectiveAt) }
        }
        Union::ValidatorRemoved(e) => ChainEvent::ValidatorRemoved { validator: e.validator },
        Union::CommitVetoed(e) => {
            let book_block = u64::try_from(e.blockNumber)
                .map_err(|_| format!("CommitVetoed: block number {} does not fit 64 bits", e.blockNumber))?;
            ChainEvent::CommitVetoed { book_block, validator: e.validator }
        }
        Union::MigrationStarted(e) => ChainEvent::MigrationStarted { predecessor: e.predecessor },
        Union::EarningsCarried(e) => ChainEvent::EarningsCarried { member: e.member, amount: e.amount },
        Union::CarryClosed(e) => ChainEvent::CarryClosed { carried_total: e.carriedTotal },
        _ => return Ok(None),
    }))
}

/// A time from the chain (any `uint256`) in seconds; past `u64::MAX` it never comes, as the saturated
/// value also says.
fn seconds(time: alloy::primitives::U256) -> u64 {
    u64::try_from(time).unwrap_or(u64::MAX)
}

fn decode_marketplace(log: &Log) -> Result<Option<ChainEvent>, alloy::sol_types::Error> {
    use Marketplace::MarketplaceEvents as Market;
    if !asked_for(log, &WATCHED_TOPICS) {
        return Ok(None);
    }
    // The four product events carry the same fields.
    macro_rules! fields {
        ($e:expr) => {
            ProductFields {
                id: $e.id,
                owner: $e.owner,
                name: $e.name,
                beneficiary: $e.beneficiary,
                price_per_second: $e.pricePerSecond,
                minimum_subscription_seconds: $e.minimumSubscriptionSeconds,
            }
        };
    }
    Ok(Some(match Market::decode_log(&log.inner)?.data {
        Market::ProductCreated(e) => ChainEvent::ProductCreated(fields!(e)),
        Market::ProductUpdated(e) => ChainEvent::ProductUpdated(fields!(e)),
        Market::ProductDeleted(e) => ChainEvent::ProductDeleted(fields!(e)),
        Market::ProductRedeployed(e) => ChainEvent::ProductRedeployed(fields!(e)),
        Market::ProductOwnershipChanged(e) => ChainEvent::ProductOwnerChanged { id: e.id, owner: e.newOwner },
        Market::Subscribed(e) => {
            ChainEvent::Subscribed { product: e.productId, subscriber: e.subscriber, end_timestamp: e.endTimestamp }
        }
        Market::Purchased(e) => ChainEvent::Purchased {
            product: e.productId,
            subscriber: e.subscriber,
            payer: e.payer,
            add_seconds: e.addSeconds,
            price: e.price,
        },
        _ => return Ok(None),
    }))
}

fn unreadable(at: &Position, union: Address, reason: String) -> Result<StoredEvent, DecodeError> {
    Ok(stored(at, time_of(at)?, union, ChainEvent::Unreadable { reason }))
}

/// The time of the log's block, which every kept event carries.
fn time_of(at: &Position) -> Result<u64, DecodeError> {
    at.timestamp.ok_or(DecodeError::NoBlockTime { block: at.key.block, block_hash: at.block_hash })
}

fn stored(at: &Position, time: u64, contract: Address, event: ChainEvent) -> StoredEvent {
    StoredEvent {
        block: at.key.block,
        tx_index: at.key.transaction_index,
        log_index: at.key.log_index,
        block_hash: at.block_hash,
        time,
        contract,
        event,
    }
}
