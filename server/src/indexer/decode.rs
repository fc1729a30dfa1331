//! Turns chain logs into stored events. Data Union inputs of the engine are stored in the engine's
//! own events-file form (`coop::engine::format_event`), so the state is rebuilt by the same parser
//! that `coop replay` uses; other events (withdrawals, products, subscriptions) get a payload of
//! their own. Amounts are decimal strings.

use std::collections::HashSet;

use alloy::primitives::{Address, B256};
use alloy::rpc::types::Log;
use alloy::sol_types::SolEvent;
use coop::contracts::{DataToken, DataUnion, DataUnionFactory, Marketplace};
use coop::engine::{AdminFee, Event, EventKey, EventKind, format_event};
use serde_json::{Value, json};

use crate::store::StoredEvent;

/// The contracts whose logs the indexer reads.
#[derive(Debug, Clone, Copy)]
pub struct Watched {
    pub factory: Address,
    pub marketplace: Address,
    pub data_token: Address,
}

/// The extra field of a stored `created` event: the union's freeze period in seconds.
pub const FREEZE_PERIOD: &str = "freezePeriod";

/// The other extra field of a stored `created` event: the address allowed to commit. An
/// `operator_changed` event carries the new one under the same name.
pub const OPERATOR: &str = "operator";

/// The field of an `unreadable` event that says why.
pub const REASON: &str = "reason";

/// Kinds of the stored events that are not engine inputs.
pub mod kinds {
    pub const WITHDRAWN: &str = "withdrawn";
    /// A log of a union that could not be decoded into an event: stored, so every replica sets the
    /// union aside at the same point (`crate::unions::Quarantine`).
    pub const UNREADABLE: &str = "unreadable";
    /// The owner handed the commit role to another address (`setOperator`).
    pub const OPERATOR_CHANGED: &str = "operator_changed";
    pub const PRODUCT: &str = "product";
    pub const SUBSCRIBED: &str = "subscribed";
    pub const PURCHASED: &str = "purchased";
}

#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("log without {0}; the node must return mined logs only")]
    Pending(&'static str),
    #[error("log at block {block} index {log_index} of event {event}: {reason}")]
    Malformed { block: u64, log_index: u64, event: &'static str, reason: String },
}

/// Every topic0 the indexer asks for from any address: the Data Union events. Only logs of known
/// unions are kept.
pub fn union_topics() -> Vec<B256> {
    vec![
        DataUnion::MemberJoined::SIGNATURE_HASH,
        DataUnion::MemberParted::SIGNATURE_HASH,
        DataUnion::AdminFeeChanged::SIGNATURE_HASH,
        DataUnion::OwnershipTransferred::SIGNATURE_HASH,
        DataUnion::NewCommit::SIGNATURE_HASH,
        DataUnion::Withdrawn::SIGNATURE_HASH,
        DataUnion::OperatorChanged::SIGNATURE_HASH,
    ]
}

/// The topics asked for from the factory, the marketplace and the DATA token.
pub fn watched_topics() -> Vec<B256> {
    vec![
        DataUnionFactory::DataUnionCreated::SIGNATURE_HASH,
        DataToken::Transfer::SIGNATURE_HASH,
        Marketplace::ProductCreated::SIGNATURE_HASH,
        Marketplace::ProductUpdated::SIGNATURE_HASH,
        Marketplace::ProductDeleted::SIGNATURE_HASH,
        Marketplace::ProductRedeployed::SIGNATURE_HASH,
        Marketplace::ProductOwnershipChanged::SIGNATURE_HASH,
        Marketplace::Subscribed::SIGNATURE_HASH,
        Marketplace::Purchased::SIGNATURE_HASH,
    ]
}

/// The union a factory log announces, read before its logs are asked for.
pub fn created_union(log: &Log, watched: &Watched) -> Option<Address> {
    if log.address() != watched.factory || log.topic0() != Some(&DataUnionFactory::DataUnionCreated::SIGNATURE_HASH) {
        return None;
    }
    DataUnionFactory::DataUnionCreated::decode_log_data(log.data()).ok().map(|created| created.du)
}

/// Whether the log is a `NewCommit`, whose block time matters.
pub fn is_commit(log: &Log) -> bool {
    log.topic0() == Some(&DataUnion::NewCommit::SIGNATURE_HASH)
}

/// Where a log sits; the key of the stored event.
pub struct Position {
    pub key: EventKey,
    pub block_hash: B256,
    /// Seconds; the freeze of a commit starts at its block's time. `None` when the node left it
    /// out; the indexer fills it in for commits before decoding them.
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
    let topic = log.topic0().copied().unwrap_or_default();
    let malformed = |event: &'static str, error: alloy::sol_types::Error| DecodeError::Malformed {
        block: at.key.block,
        log_index: at.key.log_index,
        event,
        reason: error.to_string(),
    };
    let engine = |contract: Address, kind: EventKind| Some(engine_event(at, contract, kind));

    if emitter == watched.factory && topic == DataUnionFactory::DataUnionCreated::SIGNATURE_HASH {
        let created = DataUnionFactory::DataUnionCreated::decode_log_data(log.data())
            .map_err(|e| malformed("DataUnionCreated", e))?;
        let admin_fee = match AdminFee::try_from(created.adminFee) {
            Ok(fee) => fee,
            Err(error) => return Ok(Some(unreadable(at, created.du, format!("DataUnionCreated: {error}")))),
        };
        unions.insert(created.du);
        let mut event = engine_event(at, created.du, EventKind::Created { owner: created.owner, admin_fee });
        // Not an engine input, but members' withdrawable figures depend on it.
        event.payload[FREEZE_PERIOD] = json!(created.freezePeriod.to_string());
        event.payload[OPERATOR] = json!(created.operator);
        return Ok(Some(event));
    }
    if emitter == watched.data_token && topic == DataToken::Transfer::SIGNATURE_HASH {
        let transfer = DataToken::Transfer::decode_log_data(log.data()).map_err(|e| malformed("Transfer", e))?;
        if !unions.contains(&transfer.to) || transfer.value.is_zero() {
            return Ok(None);
        }
        return Ok(engine(transfer.to, EventKind::Revenue { amount: transfer.value }));
    }
    if emitter == watched.marketplace {
        return decode_marketplace(log, at, topic).map_err(|e| malformed("Marketplace", e));
    }
    if !unions.contains(&emitter) {
        return Ok(None);
    }
    if is_commit(log) && at.timestamp.is_none() {
        return Err(DecodeError::Pending("block timestamp"));
    }
    // A union's log that cannot be read sets that union aside, and only it.
    Ok(decode_union(log, at, topic).unwrap_or_else(|reason| Some(unreadable(at, emitter, reason))))
}

/// Decodes a log of a known union; the error says why it cannot be.
fn decode_union(log: &Log, at: &Position, topic: B256) -> Result<Option<StoredEvent>, String> {
    let (emitter, data) = (log.address(), log.data());
    let kind = match topic {
        t if t == DataUnion::MemberJoined::SIGNATURE_HASH => {
            let e = DataUnion::MemberJoined::decode_log_data(data).map_err(abi("MemberJoined"))?;
            EventKind::MemberJoined { member: e.member }
        }
        t if t == DataUnion::MemberParted::SIGNATURE_HASH => {
            let e = DataUnion::MemberParted::decode_log_data(data).map_err(abi("MemberParted"))?;
            EventKind::MemberParted { member: e.member }
        }
        t if t == DataUnion::AdminFeeChanged::SIGNATURE_HASH => {
            let e = DataUnion::AdminFeeChanged::decode_log_data(data).map_err(abi("AdminFeeChanged"))?;
            let admin_fee = AdminFee::try_from(e.adminFee).map_err(|error| format!("AdminFeeChanged: {error}"))?;
            EventKind::AdminFeeChanged { admin_fee }
        }
        t if t == DataUnion::OwnershipTransferred::SIGNATURE_HASH => {
            let e = DataUnion::OwnershipTransferred::decode_log_data(data).map_err(abi("OwnershipTransferred"))?;
            // The constructor's transfer from the zero address is the creation, which the
            // factory's `DataUnionCreated` already carries.
            if e.previousOwner == Address::ZERO {
                return Ok(None);
            }
            EventKind::OwnerChanged { owner: e.newOwner }
        }
        t if t == DataUnion::NewCommit::SIGNATURE_HASH => {
            let e = DataUnion::NewCommit::decode_log_data(data).map_err(abi("NewCommit"))?;
            let book_block = u64::try_from(e.blockNumber)
                .map_err(|_| format!("NewCommit: block number {} does not fit 64 bits", e.blockNumber))?;
            // `decode` refused a commit without a time before this.
            let timestamp = at.timestamp.ok_or("NewCommit: no block time")?;
            EventKind::Committed { book_block, root: e.root, book_hash: e.bookHash, timestamp }
        }
        t if t == DataUnion::Withdrawn::SIGNATURE_HASH => {
            let e = DataUnion::Withdrawn::decode_log_data(data).map_err(abi("Withdrawn"))?;
            return Ok(Some(stored(
                at,
                emitter,
                kinds::WITHDRAWN,
                json!({ "member": e.member, "recipient": e.recipient, "amount": e.amount.to_string() }),
            )));
        }
        t if t == DataUnion::OperatorChanged::SIGNATURE_HASH => {
            let e = DataUnion::OperatorChanged::decode_log_data(data).map_err(abi("OperatorChanged"))?;
            let mut payload = json!({});
            payload[OPERATOR] = json!(e.newOperator);
            return Ok(Some(stored(at, emitter, kinds::OPERATOR_CHANGED, payload)));
        }
        // Not asked for; a node that sends it anyway is not the union's fault.
        _ => return Ok(None),
    };
    Ok(Some(engine_event(at, emitter, kind)))
}

fn decode_marketplace(log: &Log, at: &Position, topic: B256) -> Result<Option<StoredEvent>, alloy::sol_types::Error> {
    let data = log.data();
    // The four product events carry the same fields; `state` says which one it was.
    macro_rules! product {
        ($event:ty, $state:literal) => {{
            let e = <$event>::decode_log_data(data)?;
            json!({
                "state": $state,
                "id": e.id,
                "owner": e.owner,
                "name": e.name,
                "beneficiary": e.beneficiary,
                "pricePerSecond": e.pricePerSecond.to_string(),
                "minimumSubscriptionSeconds": e.minimumSubscriptionSeconds.to_string(),
            })
        }};
    }
    let (kind, payload) = match topic {
        t if t == Marketplace::ProductCreated::SIGNATURE_HASH => {
            (kinds::PRODUCT, product!(Marketplace::ProductCreated, "created"))
        }
        t if t == Marketplace::ProductUpdated::SIGNATURE_HASH => {
            (kinds::PRODUCT, product!(Marketplace::ProductUpdated, "updated"))
        }
        t if t == Marketplace::ProductDeleted::SIGNATURE_HASH => {
            (kinds::PRODUCT, product!(Marketplace::ProductDeleted, "deleted"))
        }
        t if t == Marketplace::ProductRedeployed::SIGNATURE_HASH => {
            (kinds::PRODUCT, product!(Marketplace::ProductRedeployed, "redeployed"))
        }
        t if t == Marketplace::ProductOwnershipChanged::SIGNATURE_HASH => {
            let e = Marketplace::ProductOwnershipChanged::decode_log_data(data)?;
            (kinds::PRODUCT, json!({ "state": "ownerChanged", "id": e.id, "owner": e.newOwner }))
        }
        t if t == Marketplace::Subscribed::SIGNATURE_HASH => {
            let e = Marketplace::Subscribed::decode_log_data(data)?;
            let end = e.endTimestamp.to_string();
            (kinds::SUBSCRIBED, json!({ "productId": e.productId, "subscriber": e.subscriber, "endTimestamp": end }))
        }
        t if t == Marketplace::Purchased::SIGNATURE_HASH => {
            let e = Marketplace::Purchased::decode_log_data(data)?;
            (
                kinds::PURCHASED,
                json!({
                    "productId": e.productId,
                    "subscriber": e.subscriber,
                    "payer": e.payer,
                    "addSeconds": e.addSeconds.to_string(),
                    "price": e.price.to_string(),
                }),
            )
        }
        _ => return Ok(None),
    };
    Ok(Some(stored(at, log.address(), kind, payload)))
}

fn engine_event(at: &Position, union: Address, kind: EventKind) -> StoredEvent {
    let name = kind.name();
    let line = format_event(&Event { key: at.key, kind });
    let payload: Value = serde_json::from_str(&line).expect("format_event writes a JSON object");
    stored(at, union, name, payload)
}

/// Says which event a log failed to decode as.
fn abi(event: &'static str) -> impl Fn(alloy::sol_types::Error) -> String {
    move |error| format!("{event}: {error}")
}

fn unreadable(at: &Position, union: Address, reason: String) -> StoredEvent {
    stored(at, union, kinds::UNREADABLE, json!({ REASON: reason }))
}

fn stored(at: &Position, contract: Address, kind: &str, payload: Value) -> StoredEvent {
    StoredEvent {
        block: at.key.block,
        tx_index: at.key.transaction_index,
        log_index: at.key.log_index,
        block_hash: at.block_hash,
        contract,
        kind: kind.to_owned(),
        payload,
    }
}
