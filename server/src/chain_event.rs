//! What a chain log means to Coop: decoded once by the indexer (`indexer::decode`), stored as it
//! is, and matched on by the read models. In the store an event is its serde tag (`kind`) and its
//! content (`payload`, JSON), amounts as decimal strings.

use alloy::primitives::{Address, B256, U256};
use coop::engine::{AdminFee, EventKey, EventKind};
use serde::{Deserialize, Serialize};

/// One decoded contract event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "payload", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum ChainEvent {
    /// The factory deployed a union (`DataUnionCreated`): always the union's first event.
    Created(UnionCreated),
    MemberJoined {
        member: Address,
    },
    MemberParted {
        member: Address,
    },
    AdminFeeChanged {
        #[serde(with = "text")]
        admin_fee: AdminFee,
    },
    /// The second step of the two-step ownership transfer.
    OwnerChanged {
        owner: Address,
    },
    /// A DATA `Transfer` to a known union. From its predecessor (`MigrationStarted`) it backs the
    /// carried earnings first (`EventKind::FromPredecessor`). Events stored before the sender was
    /// kept read as from the zero address, which is never a predecessor.
    Revenue {
        #[serde(with = "text")]
        amount: U256,
        #[serde(default)]
        from: Address,
    },
    /// `NewCommit`, with the time of its block: a commit's freeze starts then.
    Committed {
        book_block: u64,
        root: B256,
        book_hash: B256,
        timestamp: u64,
    },
    Withdrawn {
        member: Address,
        recipient: Address,
        #[serde(with = "text")]
        amount: U256,
    },
    /// Another address took the commit role (`setOperator` on a union without a freeze period, or
    /// `applyOperatorChange`).
    OperatorChanged {
        operator: Address,
    },
    /// The owner announced a new operator, who may take over from `effective_at` (seconds).
    OperatorChangeAnnounced {
        operator: Address,
        effective_at: u64,
    },
    /// The owner announced a higher admin fee, which may apply from `effective_at` (seconds).
    AdminFeeChangeAnnounced {
        #[serde(with = "text")]
        admin_fee: AdminFee,
        effective_at: u64,
    },
    ValidatorAdded {
        validator: Address,
    },
    /// The owner announced a validator's removal, which may apply from `effective_at` (seconds).
    ValidatorRemovalAnnounced {
        validator: Address,
        effective_at: u64,
    },
    ValidatorRemoved {
        validator: Address,
    },
    /// A validator stopped the frozen commit of `book_block`.
    CommitVetoed {
        book_block: u64,
        validator: Address,
    },
    /// The owner named the union this one takes over from, whose members' earnings it carries.
    MigrationStarted {
        predecessor: Address,
    },
    /// Earnings a member had in the predecessor and had not proven there.
    EarningsCarried {
        member: Address,
        #[serde(with = "text")]
        amount: U256,
    },
    /// No more carried earnings: what the predecessor sends is revenue from now on.
    CarryClosed {
        #[serde(with = "text")]
        carried_total: U256,
    },
    /// A log of a union that could not be decoded: stored, so every replica sets the union aside at
    /// the same point (`crate::unions::Quarantine`).
    Unreadable {
        reason: String,
    },
    ProductCreated(ProductFields),
    ProductUpdated(ProductFields),
    ProductDeleted(ProductFields),
    ProductRedeployed(ProductFields),
    ProductOwnerChanged {
        id: B256,
        owner: Address,
    },
    Subscribed {
        product: B256,
        subscriber: Address,
        #[serde(with = "text")]
        end_timestamp: U256,
    },
    Purchased {
        product: B256,
        subscriber: Address,
        payer: Address,
        #[serde(with = "text")]
        add_seconds: U256,
        #[serde(with = "text")]
        price: U256,
    },
}

/// What `DataUnionCreated` says: the engine's `created` input and what the engine does not hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UnionCreated {
    pub owner: Address,
    #[serde(with = "text")]
    pub admin_fee: AdminFee,
    /// Seconds a commit stays frozen, any `uint256` the chain holds.
    #[serde(with = "text")]
    pub freeze_period: U256,
    /// The address allowed to commit.
    pub operator: Address,
}

/// The fields the marketplace's four product events share.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductFields {
    pub id: B256,
    pub owner: Address,
    pub name: String,
    pub beneficiary: Address,
    #[serde(with = "text")]
    pub price_per_second: U256,
    #[serde(with = "text")]
    pub minimum_subscription_seconds: U256,
}

impl ChainEvent {
    /// The stored kind of a union's creation, which the store looks for to list the known unions.
    pub const CREATED: &str = "created";

    /// The stored kind (the serde tag), for logs and queries.
    pub fn kind(&self) -> &'static str {
        match self {
            ChainEvent::Created(_) => Self::CREATED,
            ChainEvent::MemberJoined { .. } => "memberJoined",
            ChainEvent::MemberParted { .. } => "memberParted",
            ChainEvent::AdminFeeChanged { .. } => "adminFeeChanged",
            ChainEvent::OwnerChanged { .. } => "ownerChanged",
            ChainEvent::Revenue { .. } => "revenue",
            ChainEvent::Committed { .. } => "committed",
            ChainEvent::Withdrawn { .. } => "withdrawn",
            ChainEvent::OperatorChanged { .. } => "operatorChanged",
            ChainEvent::OperatorChangeAnnounced { .. } => "operatorChangeAnnounced",
            ChainEvent::AdminFeeChangeAnnounced { .. } => "adminFeeChangeAnnounced",
            ChainEvent::ValidatorAdded { .. } => "validatorAdded",
            ChainEvent::ValidatorRemovalAnnounced { .. } => "validatorRemovalAnnounced",
            ChainEvent::ValidatorRemoved { .. } => "validatorRemoved",
            ChainEvent::CommitVetoed { .. } => "commitVetoed",
            ChainEvent::MigrationStarted { .. } => "migrationStarted",
            ChainEvent::EarningsCarried { .. } => "earningsCarried",
            ChainEvent::CarryClosed { .. } => "carryClosed",
            ChainEvent::Unreadable { .. } => "unreadable",
            ChainEvent::ProductCreated(_) => "productCreated",
            ChainEvent::ProductUpdated(_) => "productUpdated",
            ChainEvent::ProductDeleted(_) => "productDeleted",
            ChainEvent::ProductRedeployed(_) => "productRedeployed",
            ChainEvent::ProductOwnerChanged { .. } => "productOwnerChanged",
            ChainEvent::Subscribed { .. } => "subscribed",
            ChainEvent::Purchased { .. } => "purchased",
        }
    }

    /// The engine input this event is, if it is one. `predecessor` is the union's, if it names one.
    pub fn engine_input(&self, predecessor: Option<Address>) -> Option<EventKind> {
        Some(match *self {
            ChainEvent::Created(UnionCreated { owner, admin_fee, .. }) => EventKind::Created { owner, admin_fee },
            ChainEvent::MemberJoined { member } => EventKind::MemberJoined { member },
            ChainEvent::MemberParted { member } => EventKind::MemberParted { member },
            ChainEvent::AdminFeeChanged { admin_fee } => EventKind::AdminFeeChanged { admin_fee },
            ChainEvent::OwnerChanged { owner } => EventKind::OwnerChanged { owner },
            ChainEvent::Revenue { amount, from } if Some(from) == predecessor => EventKind::FromPredecessor { amount },
            ChainEvent::Revenue { amount, .. } => EventKind::Revenue { amount },
            ChainEvent::EarningsCarried { member, amount } => EventKind::Carried { member, amount },
            ChainEvent::CarryClosed { .. } => EventKind::CarryClosed,
            ChainEvent::Committed { book_block, root, book_hash, timestamp } => {
                EventKind::Committed { book_block, root, book_hash, timestamp }
            }
            ChainEvent::CommitVetoed { book_block, .. } => EventKind::CommitVetoed { book_block },
            _ => return None,
        })
    }
}

/// A stored event: a [`ChainEvent`] and where its log sits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    pub block: u64,
    pub tx_index: u64,
    pub log_index: u64,
    pub block_hash: B256,
    /// The block's time, seconds since 1970: what pages show instead of the block number.
    pub time: u64,
    pub contract: Address,
    pub event: ChainEvent,
}

impl StoredEvent {
    pub fn key(&self) -> EventKey {
        EventKey::new(self.block, self.tx_index, self.log_index)
    }
}

/// Values stored in their decimal text form (`Display` and `FromStr`): amounts and the admin fee,
/// which JSON numbers could not hold exactly.
mod text {
    use std::fmt::Display;
    use std::str::FromStr;

    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub fn serialize<T: Display, S: Serializer>(value: &T, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(value)
    }

    pub fn deserialize<'de, T, D>(deserializer: D) -> Result<T, D::Error>
    where
        T: FromStr<Err: Display>,
        D: Deserializer<'de>,
    {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        text.parse().map_err(D::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    fn every_kind() -> Vec<ChainEvent> {
        let a = Address::repeat_byte(1);
        let id = B256::repeat_byte(2);
        let fields = ProductFields {
            id,
            owner: a,
            name: "n".into(),
            beneficiary: a,
            price_per_second: U256::from(1),
            minimum_subscription_seconds: U256::ZERO,
        };
        vec![
            ChainEvent::Created(UnionCreated {
                owner: a,
                admin_fee: AdminFee::ALL,
                freeze_period: U256::MAX,
                operator: a,
            }),
            ChainEvent::MemberJoined { member: a },
            ChainEvent::MemberParted { member: a },
            ChainEvent::AdminFeeChanged { admin_fee: AdminFee::ZERO },
            ChainEvent::OwnerChanged { owner: a },
            ChainEvent::Revenue { amount: U256::MAX, from: a },
            ChainEvent::Committed { book_block: 3, root: id, book_hash: id, timestamp: 4 },
            ChainEvent::Withdrawn { member: a, recipient: a, amount: U256::from(5) },
            ChainEvent::OperatorChanged { operator: a },
            ChainEvent::OperatorChangeAnnounced { operator: a, effective_at: 9 },
            ChainEvent::AdminFeeChangeAnnounced { admin_fee: AdminFee::ALL, effective_at: 10 },
            ChainEvent::ValidatorAdded { validator: a },
            ChainEvent::ValidatorRemovalAnnounced { validator: a, effective_at: 11 },
            ChainEvent::ValidatorRemoved { validator: a },
            ChainEvent::CommitVetoed { book_block: 3, validator: a },
            ChainEvent::MigrationStarted { predecessor: a },
            ChainEvent::EarningsCarried { member: a, amount: U256::from(12) },
            ChainEvent::CarryClosed { carried_total: U256::from(13) },
            ChainEvent::Unreadable { reason: "r".into() },
            ChainEvent::ProductCreated(fields.clone()),
            ChainEvent::ProductUpdated(fields.clone()),
            ChainEvent::ProductDeleted(fields.clone()),
            ChainEvent::ProductRedeployed(fields),
            ChainEvent::ProductOwnerChanged { id, owner: a },
            ChainEvent::Subscribed { product: id, subscriber: a, end_timestamp: U256::from(6) },
            ChainEvent::Purchased {
                product: id,
                subscriber: a,
                payer: a,
                add_seconds: U256::from(7),
                price: U256::from(8),
            },
        ]
    }

    #[test]
    fn every_event_reads_back_as_itself_under_its_kind() {
        for event in every_kind() {
            let stored = serde_json::to_value(&event).unwrap();
            assert_eq!(stored["kind"], event.kind(), "{event:?}");
            assert_eq!(serde_json::from_value::<ChainEvent>(stored).unwrap(), event);
        }
    }

    #[test]
    fn revenue_stored_before_its_sender_was_kept_reads_as_from_nobody() {
        let old = json!({ "kind": "revenue", "payload": { "amount": "5" } });
        let expected = ChainEvent::Revenue { amount: U256::from(5), from: Address::ZERO };
        assert_eq!(serde_json::from_value::<ChainEvent>(old).unwrap(), expected);
    }

    #[test]
    fn amounts_are_stored_as_exact_decimal_text() {
        let stored = serde_json::to_value(ChainEvent::Revenue { amount: U256::MAX, from: Address::ZERO }).unwrap();
        assert_eq!(stored["payload"]["amount"], U256::MAX.to_string());
        let created = serde_json::to_value(&every_kind()[0]).unwrap();
        assert_eq!(created["payload"]["adminFee"], "1000000000000000000");
        assert_eq!(created["payload"]["freezePeriod"], U256::MAX.to_string());
    }

    #[test]
    fn a_payload_that_breaks_an_invariant_is_refused() {
        let refused = |kind: &str, payload: Value| {
            serde_json::from_value::<ChainEvent>(json!({ "kind": kind, "payload": payload })).is_err()
        };
        assert!(refused("adminFeeChanged", json!({ "adminFee": "1000000000000000001" })));
        assert!(refused("revenue", json!({ "amount": "-1" })));
        assert!(refused("revenue", json!({ "amount": 5 })));
        assert!(refused("memberJoined", json!({ "member": "0x12" })));
        assert!(refused("teleported", json!({})));
    }
}
