//! The events file: one JSON object per line (JSON Lines), in chain order.
//!
//! Every line has `type`, `block`, `transactionIndex` and `logIndex`, plus the fields of its type:
//!
//! | `type` | fields |
//! |---|---|
//! | `created` | `owner` (address), `adminFee` (decimal, 1e18 = 100 %) |
//! | `memberJoined`, `memberParted` | `member` (address) |
//! | `adminFeeChanged` | `adminFee` |
//! | `ownerChanged` | `owner` |
//! | `revenue` | `amount` (decimal wei) |
//! | `commit` | `bookBlock` (integer), `root`, `bookHash` (0x and 64 hex digits), `timestamp` (seconds) |
//! | `commitVetoed` | `bookBlock` |
//! | `fromPredecessor` | `amount` (sent by the union this one took over from) |
//! | `carried` | `member`, `amount` (earnings carried over from the predecessor) |
//! | `carryClosed` | none |
//!
//! Block numbers, indexes and timestamps are JSON integers; amounts and fees are decimal strings (a JSON
//! number would lose precision above 2^53). Blank lines are skipped; unknown fields are errors, so a
//! misspelt field is never ignored.
//!
//! # Invariants
//! - Every error names the 1-based line and the field.
//! - `parse_events(&format_event(&e)) == Ok(vec![e])` for every event `e`.

use alloy_primitives::{Address, B256, U256};
use serde_json::{Map, Value, json};

use super::{
    event::{Event, EventKey, EventKind},
    fee::{AdminFee, AdminFeeError},
};
use crate::text::{TextError, parse_address, parse_amount};

const TYPES: &str = "created, memberJoined, memberParted, adminFeeChanged, ownerChanged, revenue, commit, \
                     commitVetoed, fromPredecessor, carried, carryClosed";

/// Why an events file cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum EventsFileError {
    /// Not a JSON object.
    #[error("line {line}: not a JSON object: {source}")]
    Json {
        /// 1-based line number.
        line: usize,
        /// The JSON error.
        source: serde_json::Error,
    },
    /// A required field is absent.
    #[error("line {line}: field `{field}` is missing")]
    Missing {
        /// 1-based line number.
        line: usize,
        /// The field.
        field: &'static str,
    },
    /// A block number, index or timestamp that is not a non-negative integer below 2^64.
    #[error("line {line}: field `{field}` must be a non-negative integer")]
    NotInteger {
        /// 1-based line number.
        line: usize,
        /// The field.
        field: &'static str,
    },
    /// A field that must be a string.
    #[error("line {line}: field `{field}` must be a string{hint}")]
    NotString {
        /// 1-based line number.
        line: usize,
        /// The field.
        field: &'static str,
        /// Extra advice for amounts.
        hint: &'static str,
    },
    /// A malformed address or amount.
    #[error("line {line}: field `{field}`: {source}")]
    Value {
        /// 1-based line number.
        line: usize,
        /// The field.
        field: &'static str,
        /// What is wrong with it.
        source: TextError,
    },
    /// An admin fee out of range.
    #[error("line {line}: field `{field}`: {source}")]
    AdminFee {
        /// 1-based line number.
        line: usize,
        /// The field.
        field: &'static str,
        /// What is wrong with it.
        source: AdminFeeError,
    },
    /// A malformed 32-byte hash.
    #[error("line {line}: field `{field}` must be 0x and 64 hex digits")]
    Hash {
        /// 1-based line number.
        line: usize,
        /// The field.
        field: &'static str,
    },
    /// An unknown `type`.
    #[error("line {line}: field `type`: unknown event type {value:?} (known: {TYPES})")]
    UnknownType {
        /// 1-based line number.
        line: usize,
        /// The type given.
        value: String,
    },
    /// A field this type does not have.
    #[error("line {line}: field `{field}` is not part of a `{kind}` event")]
    UnknownField {
        /// 1-based line number.
        line: usize,
        /// The unexpected field.
        field: String,
        /// The event type.
        kind: &'static str,
    },
}

/// Reads an events file into events with the 1-based line each came from.
pub fn parse_events(text: &str) -> Result<Vec<(usize, Event)>, EventsFileError> {
    let lines = text.lines().enumerate().map(|(i, content)| (i + 1, content.trim()));
    lines
        .filter(|(_, content)| !content.is_empty())
        .map(|(line, content)| Ok((line, parse_line(line, content)?)))
        .collect()
}

/// One event as a line of the events file (without the newline).
pub fn format_event(event: &Event) -> String {
    let mut object = json!({
        "block": event.key.block,
        "transactionIndex": event.key.transaction_index,
        "logIndex": event.key.log_index,
        "type": event.kind.name(),
    });
    let fields = match &event.kind {
        EventKind::Created { owner, admin_fee } => {
            json!({ "owner": owner.to_checksum(None), "adminFee": admin_fee.to_string() })
        }
        EventKind::MemberJoined { member } | EventKind::MemberParted { member } => {
            json!({ "member": member.to_checksum(None) })
        }
        EventKind::AdminFeeChanged { admin_fee } => json!({ "adminFee": admin_fee.to_string() }),
        EventKind::OwnerChanged { owner } => json!({ "owner": owner.to_checksum(None) }),
        EventKind::Revenue { amount } => json!({ "amount": amount.to_string() }),
        EventKind::Committed { book_block, root, book_hash, timestamp } => {
            json!({ "bookBlock": book_block, "root": root.to_string(), "bookHash": book_hash.to_string(), "timestamp": timestamp })
        }
        EventKind::CommitVetoed { book_block } => json!({ "bookBlock": book_block }),
        EventKind::FromPredecessor { amount } => json!({ "amount": amount.to_string() }),
        EventKind::Carried { member, amount } => {
            json!({ "member": member.to_checksum(None), "amount": amount.to_string() })
        }
        EventKind::CarryClosed => json!({}),
    };
    if let (Value::Object(object), Value::Object(fields)) = (&mut object, fields) {
        object.extend(fields);
    }
    object.to_string()
}

fn parse_line(line: usize, content: &str) -> Result<Event, EventsFileError> {
    let object: Map<String, Value> =
        serde_json::from_str(content).map_err(|source| EventsFileError::Json { line, source })?;
    let fields = Fields { line, object: &object };
    let key = EventKey {
        block: fields.integer("block")?,
        transaction_index: fields.integer("transactionIndex")?,
        log_index: fields.integer("logIndex")?,
    };
    let kind_name = fields.string("type", "")?;
    let (kind, own_fields): (EventKind, &[&str]) = match kind_name {
        "created" => (
            EventKind::Created { owner: fields.address("owner")?, admin_fee: fields.admin_fee("adminFee")? },
            &["owner", "adminFee"],
        ),
        "memberJoined" => (EventKind::MemberJoined { member: fields.address("member")? }, &["member"]),
        "memberParted" => (EventKind::MemberParted { member: fields.address("member")? }, &["member"]),
        "adminFeeChanged" => (EventKind::AdminFeeChanged { admin_fee: fields.admin_fee("adminFee")? }, &["adminFee"]),
        "ownerChanged" => (EventKind::OwnerChanged { owner: fields.address("owner")? }, &["owner"]),
        "revenue" => (EventKind::Revenue { amount: fields.amount("amount")? }, &["amount"]),
        "commit" => (
            EventKind::Committed {
                book_block: fields.integer("bookBlock")?,
                root: fields.hash("root")?,
                book_hash: fields.hash("bookHash")?,
                timestamp: fields.integer("timestamp")?,
            },
            &["bookBlock", "root", "bookHash", "timestamp"],
        ),
        "commitVetoed" => (EventKind::CommitVetoed { book_block: fields.integer("bookBlock")? }, &["bookBlock"]),
        "fromPredecessor" => (EventKind::FromPredecessor { amount: fields.amount("amount")? }, &["amount"]),
        "carried" => (
            EventKind::Carried { member: fields.address("member")?, amount: fields.amount("amount")? },
            &["member", "amount"],
        ),
        "carryClosed" => (EventKind::CarryClosed, &[]),
        other => {
            return Err(EventsFileError::UnknownType { line, value: other.to_owned() });
        }
    };
    let common = ["type", "block", "transactionIndex", "logIndex"];
    if let Some(field) =
        object.keys().find(|field| !common.contains(&field.as_str()) && !own_fields.contains(&field.as_str()))
    {
        return Err(EventsFileError::UnknownField { line, field: field.clone(), kind: kind.name() });
    }
    Ok(Event { key, kind })
}

/// Typed access to one line's fields, with errors naming the line and the field.
struct Fields<'a> {
    line: usize,
    object: &'a Map<String, Value>,
}

impl Fields<'_> {
    fn get(&self, field: &'static str) -> Result<&Value, EventsFileError> {
        self.object.get(field).ok_or(EventsFileError::Missing { line: self.line, field })
    }

    fn integer(&self, field: &'static str) -> Result<u64, EventsFileError> {
        self.get(field)?.as_u64().ok_or(EventsFileError::NotInteger { line: self.line, field })
    }

    fn string(&self, field: &'static str, hint: &'static str) -> Result<&str, EventsFileError> {
        self.get(field)?.as_str().ok_or(EventsFileError::NotString { line: self.line, field, hint })
    }

    fn address(&self, field: &'static str) -> Result<Address, EventsFileError> {
        parse_address(self.string(field, "")?).map_err(|source| EventsFileError::Value {
            line: self.line,
            field,
            source,
        })
    }

    /// A decimal string; a JSON number gets the reason it is wrong when there is one.
    fn decimal(&self, field: &'static str) -> Result<U256, EventsFileError> {
        let line = self.line;
        let text = match self.get(field)? {
            Value::String(text) => text.as_str(),
            Value::Number(number) => {
                let text = number.to_string();
                return match parse_amount(&text) {
                    Err(source) => Err(EventsFileError::Value { line, field, source }),
                    Ok(_) => Err(EventsFileError::NotString { line, field, hint: " of decimal digits, like \"1000\"" }),
                };
            }
            _ => {
                return Err(EventsFileError::NotString { line, field, hint: " of decimal digits, like \"1000\"" });
            }
        };
        parse_amount(text).map_err(|source| EventsFileError::Value { line, field, source })
    }

    fn amount(&self, field: &'static str) -> Result<U256, EventsFileError> {
        self.decimal(field)
    }

    fn admin_fee(&self, field: &'static str) -> Result<AdminFee, EventsFileError> {
        AdminFee::try_from(self.decimal(field)?).map_err(|source| EventsFileError::AdminFee {
            line: self.line,
            field,
            source,
        })
    }

    fn hash(&self, field: &'static str) -> Result<B256, EventsFileError> {
        let text = self.string(field, "")?;
        let hex = text.strip_prefix("0x").filter(|hex| hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()));
        hex.and_then(|_| text.parse().ok()).ok_or(EventsFileError::Hash { line: self.line, field })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OWNER: &str = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed";

    fn error_of(line: &str) -> EventsFileError {
        parse_events(line).unwrap_err()
    }

    #[test]
    fn every_event_type_parses_and_formats_back() {
        let text = format!(
            r#"{{"block":1,"transactionIndex":0,"logIndex":0,"type":"created","owner":"{OWNER}","adminFee":"100000000000000000"}}

{{"block":2,"transactionIndex":1,"logIndex":3,"type":"memberJoined","member":"{OWNER}"}}
{{"block":2,"transactionIndex":1,"logIndex":4,"type":"memberParted","member":"{OWNER}"}}
{{"block":3,"transactionIndex":0,"logIndex":0,"type":"adminFeeChanged","adminFee":"0"}}
{{"block":3,"transactionIndex":0,"logIndex":1,"type":"ownerChanged","owner":"{OWNER}"}}
{{"block":4,"transactionIndex":0,"logIndex":0,"type":"revenue","amount":"1000"}}
{{"block":5,"transactionIndex":0,"logIndex":0,"type":"commit","bookBlock":4,"root":"0x{r}","bookHash":"0x{r}","timestamp":1700000000}}
"#,
            r = "ab".repeat(32)
        );
        let events = parse_events(&text).unwrap();
        assert_eq!(events.iter().map(|(line, _)| *line).collect::<Vec<_>>(), vec![1, 3, 4, 5, 6, 7, 8]);
        for (_, event) in &events {
            let again = parse_events(&format_event(event)).unwrap();
            assert_eq!(again, vec![(1, event.clone())]);
        }
    }

    #[test]
    fn an_unknown_event_type_names_the_line_and_the_field() {
        let error = error_of("\n{\"block\":1,\"transactionIndex\":0,\"logIndex\":0,\"type\":\"burn\"}");
        assert!(matches!(&error, EventsFileError::UnknownType { line: 2, value } if value == "burn"), "{error}");
        assert!(error.to_string().starts_with("line 2: field `type`"), "{error}");
    }

    #[test]
    fn a_malformed_address_names_the_field() {
        let error = error_of(r#"{"block":1,"transactionIndex":0,"logIndex":0,"type":"memberJoined","member":"0x12"}"#);
        assert!(
            matches!(
                error,
                EventsFileError::Value { line: 1, field: "member", source: TextError::AddressFormat { .. } }
            ),
            "{error}"
        );
    }

    #[test]
    fn negative_fractional_and_numeric_amounts_are_refused_with_the_reason() {
        let line = |amount: &str| {
            format!(r#"{{"block":1,"transactionIndex":0,"logIndex":0,"type":"revenue","amount":{amount}}}"#)
        };
        assert!(matches!(
            error_of(&line("\"-5\"")),
            EventsFileError::Value { field: "amount", source: TextError::AmountNegative { .. }, .. }
        ));
        assert!(matches!(
            error_of(&line("-5")),
            EventsFileError::Value { field: "amount", source: TextError::AmountNegative { .. }, .. }
        ));
        assert!(matches!(
            error_of(&line("\"2.5\"")),
            EventsFileError::Value { field: "amount", source: TextError::AmountNotInteger { .. }, .. }
        ));
        assert!(matches!(
            error_of(&line("2.5")),
            EventsFileError::Value { field: "amount", source: TextError::AmountNotInteger { .. }, .. }
        ));
        assert!(matches!(error_of(&line("1000")), EventsFileError::NotString { field: "amount", .. }));
    }

    #[test]
    fn missing_unknown_and_mistyped_fields_are_refused() {
        let missing = error_of(r#"{"block":1,"transactionIndex":0,"type":"revenue","amount":"1"}"#);
        assert!(matches!(missing, EventsFileError::Missing { line: 1, field: "logIndex" }), "{missing}");
        let unknown =
            error_of(r#"{"block":1,"transactionIndex":0,"logIndex":0,"type":"revenue","amount":"1","ammount":"2"}"#);
        assert!(
            matches!(&unknown, EventsFileError::UnknownField { field, kind: "revenue", .. } if field == "ammount"),
            "{unknown}"
        );
        let negative_block =
            error_of(r#"{"block":-1,"transactionIndex":0,"logIndex":0,"type":"revenue","amount":"1"}"#);
        assert!(matches!(negative_block, EventsFileError::NotInteger { field: "block", .. }), "{negative_block}");
        let fee = error_of(&format!(
            r#"{{"block":1,"transactionIndex":0,"logIndex":0,"type":"created","owner":"{OWNER}","adminFee":"1000000000000000001"}}"#
        ));
        assert!(
            matches!(fee, EventsFileError::AdminFee { field: "adminFee", source: AdminFeeError::AboveOne { .. }, .. }),
            "{fee}"
        );
        let hash = error_of(
            r#"{"block":1,"transactionIndex":0,"logIndex":0,"type":"commit","bookBlock":1,"root":"0x12","bookHash":"0x12","timestamp":0}"#,
        );
        assert!(matches!(hash, EventsFileError::Hash { field: "root", .. }), "{hash}");
        assert!(matches!(error_of("[1,2]"), EventsFileError::Json { line: 1, .. }));
    }
}
