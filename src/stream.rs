//! Product streams: what a message is, the exact bytes its signature covers, and the authorisation a
//! member gives an app to publish in its name. The server checks with this code; a buyer's program and
//! the browser verify delivered messages with the same code, so "who published this" never depends on
//! trusting the server.
//!
//! A message is signed with EIP-191 (`personal_sign`) over [`Message::digest`], a Keccak-256 hash of
//! a fixed layout: the domain tag `coop-stream-message/1`, the product id (32 bytes), the stream
//! name (one length byte, then its bytes), the publisher (20 bytes), the sequence number and the
//! timestamp (8 bytes each, big-endian), and the Keccak-256 hash of the content's exact bytes. The
//! content travels as JSON text in a string, so nothing on the way can re-encode what was signed.

use std::fmt;
use std::str::FromStr;

use alloy_primitives::{Address, B256, Signature, keccak256};
use serde::{Deserialize, Serialize};

use crate::text::utc;

/// The largest message content, in bytes of JSON text.
pub const MAX_CONTENT_BYTES: usize = 64 * 1024;
/// The longest stream name.
pub const MAX_NAME_BYTES: usize = 40;
const DOMAIN: &[u8] = b"coop-stream-message/1";

/// What is wrong with a stream name, a message's content or a signature.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StreamError {
    #[error(
        "a stream name is 1 to {MAX_NAME_BYTES} lower-case letters, digits and dashes, not starting or ending with a dash"
    )]
    BadName,
    #[error("the content is {0} bytes; the most a message may carry is {MAX_CONTENT_BYTES}")]
    ContentTooLarge(usize),
    #[error("the content is not a JSON object: {0}")]
    ContentNotObject(String),
    #[error("the signature is not 65 bytes of ECDSA signature")]
    BadSignature,
}

/// A stream's name within its product: `gps`, `heart-rate`. Part of every URL and every signature.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct StreamName(String);

impl StreamName {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for StreamName {
    type Err = StreamError;

    fn from_str(text: &str) -> Result<Self, StreamError> {
        let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-';
        let fits = (1..=MAX_NAME_BYTES).contains(&text.len())
            && text.chars().all(allowed)
            && !text.starts_with('-')
            && !text.ends_with('-');
        if fits { Ok(Self(text.to_owned())) } else { Err(StreamError::BadName) }
    }
}

impl TryFrom<String> for StreamName {
    type Error = StreamError;

    fn try_from(text: String) -> Result<Self, StreamError> {
        text.parse()
    }
}

impl From<StreamName> for String {
    fn from(name: StreamName) -> String {
        name.0
    }
}

impl fmt::Display for StreamName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A message's content: the JSON text of one object, at most [`MAX_CONTENT_BYTES`], kept byte for
/// byte as the publisher signed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Content(String);

impl Content {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for Content {
    type Err = StreamError;

    fn from_str(text: &str) -> Result<Self, StreamError> {
        if text.len() > MAX_CONTENT_BYTES {
            return Err(StreamError::ContentTooLarge(text.len()));
        }
        match serde_json::from_str::<serde_json::Value>(text) {
            Ok(serde_json::Value::Object(_)) => Ok(Self(text.to_owned())),
            Ok(other) => Err(StreamError::ContentNotObject(format!("it is {}", kind_of(&other)))),
            Err(error) => Err(StreamError::ContentNotObject(error.to_string())),
        }
    }
}

fn kind_of(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

impl TryFrom<String> for Content {
    type Error = StreamError;

    fn try_from(text: String) -> Result<Self, StreamError> {
        text.parse()
    }
}

impl From<Content> for String {
    fn from(content: Content) -> String {
        content.0
    }
}

/// One message as its publisher signs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Message {
    pub product: B256,
    pub stream: StreamName,
    /// The account the message is from: the product's owner or a member of its Data Union.
    pub publisher: Address,
    /// Per publisher and stream, strictly increasing: a replay or a message sent twice is refused.
    pub sequence: u64,
    /// Milliseconds since the epoch, by the publisher's clock.
    pub timestamp: u64,
    pub content: Content,
}

impl Message {
    /// The hash the publisher (or its app key) signs with EIP-191.
    pub fn digest(&self) -> B256 {
        Unchecked {
            product: self.product,
            stream: &self.stream,
            publisher: self.publisher,
            sequence: self.sequence,
            timestamp: self.timestamp,
            content: self.content.as_str(),
        }
        .digest()
    }

    /// The account whose key made `signature` over this message: the publisher itself or one of its
    /// app keys. Whether that key may speak for the publisher is the caller's question.
    pub fn signer(&self, signature: &[u8]) -> Result<Address, StreamError> {
        recover(self.digest().as_slice(), signature)
    }
}

/// A message as received, its content not yet read: the server checks the signature over the bytes
/// sent before it spends time on what they say.
#[derive(Debug, Clone, Copy)]
pub struct Unchecked<'a> {
    pub product: B256,
    pub stream: &'a StreamName,
    pub publisher: Address,
    pub sequence: u64,
    pub timestamp: u64,
    pub content: &'a str,
}

impl Unchecked<'_> {
    /// [`Message::digest`], over the content's bytes as they are.
    pub fn digest(&self) -> B256 {
        let name = self.stream.as_str().as_bytes();
        let mut bytes = Vec::with_capacity(DOMAIN.len() + 32 + 1 + name.len() + 20 + 8 + 8 + 32);
        bytes.extend_from_slice(DOMAIN);
        bytes.extend_from_slice(self.product.as_slice());
        // A name is at most MAX_NAME_BYTES (40), so its length fits one byte.
        bytes.push(name.len() as u8);
        bytes.extend_from_slice(name);
        bytes.extend_from_slice(self.publisher.as_slice());
        bytes.extend_from_slice(&self.sequence.to_be_bytes());
        bytes.extend_from_slice(&self.timestamp.to_be_bytes());
        bytes.extend_from_slice(keccak256(self.content).as_slice());
        keccak256(bytes)
    }

    /// Who made `signature` over this message.
    pub fn signer(&self, signature: &[u8]) -> Result<Address, StreamError> {
        recover(self.digest().as_slice(), signature)
    }
}

/// Who signed `message` with EIP-191.
pub fn recover(message: &[u8], signature: &[u8]) -> Result<Address, StreamError> {
    if signature.len() != 65 {
        return Err(StreamError::BadSignature);
    }
    let signature = Signature::from_raw(signature).map_err(|_| StreamError::BadSignature)?;
    signature.recover_address_from_msg(message).map_err(|_| StreamError::BadSignature)
}

/// A message with its signature, as stored and delivered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SignedMessage {
    #[serde(flatten)]
    pub message: Message,
    /// The key that signed: the publisher, or an app key it authorised.
    pub signer: Address,
    /// 65 bytes, hex.
    pub signature: alloy_primitives::Bytes,
}

impl SignedMessage {
    /// Whether the signature is `signer`'s over this message: what a buyer checks on every message it
    /// receives (and, for an app key, that the publisher authorised it: [`AppKeyGrant::text`]).
    pub fn is_signed(&self) -> bool {
        self.message.signer(&self.signature).is_ok_and(|signer| signer == self.signer)
    }
}

/// A member's (or a product owner's) authorisation for an app key to publish in its name, signed
/// once with the member's wallet (EIP-191 over [`AppKeyGrant::text`]); the app then signs each
/// message with the app key and never holds the member's wallet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppKeyGrant {
    /// The app's own key, which signs messages.
    pub key: Address,
    /// Whose name it publishes in.
    pub publisher: Address,
    /// The Data Union whose products' streams it may publish to.
    pub union: Address,
    pub chain_id: u64,
    /// Seconds since the epoch; the key publishes nothing after it.
    pub expires: u64,
}

impl AppKeyGrant {
    /// The text the publisher signs: readable in a wallet's prompt, and naming the chain so a grant
    /// cannot be carried to another.
    pub fn text(&self) -> String {
        format!(
            "Coop app key\n\n\
             I let the app key below publish data in my name to the streams of the Data Union below, until the time below.\n\n\
             App key: {}\n\
             Member: {}\n\
             Data Union: {}\n\
             Chain ID: {}\n\
             Until: {} ({})",
            self.key.to_checksum(None),
            self.publisher.to_checksum(None),
            self.union.to_checksum(None),
            self.chain_id,
            utc(self.expires),
            self.expires,
        )
    }

    /// Whether `signature` is the publisher's own ECDSA signature of [`Self::text`].
    pub fn is_signed(&self, signature: &[u8]) -> bool {
        recover(self.text().as_bytes(), signature).is_ok_and(|signer| signer == self.publisher)
    }
}

/// What a seller says about one of its product's streams.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StreamDefinition {
    pub product: B256,
    pub name: StreamName,
    pub description: String,
    /// What a message looks like, for buyers and app developers.
    pub example: Option<Content>,
    /// Days a message is kept; 0 keeps it as long as the server keeps anything.
    pub retention_days: u32,
    /// The most bytes of messages kept, as the store counts them (each message's JSON text with its
    /// signature and envelope): past it the oldest go first. 0 keeps as much as the server keeps.
    #[serde(default)]
    pub retention_bytes: u64,
    /// How many of the newest messages anyone may read, on the product page, without a subscription.
    pub public_preview: u32,
}

/// The longest stream description, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 2000;
/// The most messages a seller may show as a public preview.
pub const MAX_PUBLIC_PREVIEW: u32 = 100;
/// The longest retention a seller may set, in days.
pub const MAX_RETENTION_DAYS: u32 = 3650;
/// The least a seller may keep of a stream, in bytes, unless it keeps as much as the server does.
pub const MIN_RETENTION_BYTES: u64 = 1_000_000;
/// The most bytes a seller may name: 2^53 - 1, which every JSON reader keeps exactly (8 PiB).
pub const MAX_RETENTION_BYTES: u64 = (1 << 53) - 1;

impl StreamDefinition {
    /// What is wrong with what the seller set, with the field's API name; `None` when it is fine.
    pub fn problem(&self) -> Option<(&'static str, String)> {
        if self.description.chars().count() > MAX_DESCRIPTION_CHARS {
            return Some(("description", format!("a description is at most {MAX_DESCRIPTION_CHARS} characters")));
        }
        if self.retention_days > MAX_RETENTION_DAYS {
            return Some(("retentionDays", format!("retention is at most {MAX_RETENTION_DAYS} days")));
        }
        if self.retention_bytes != 0 && self.retention_bytes < MIN_RETENTION_BYTES {
            return Some((
                "retentionBytes",
                format!("keep at least {MIN_RETENTION_BYTES} bytes (1 MB), or 0 for as much as the server keeps"),
            ));
        }
        if self.retention_bytes > MAX_RETENTION_BYTES {
            return Some(("retentionBytes", format!("at most {MAX_RETENTION_BYTES} bytes")));
        }
        if self.public_preview > MAX_PUBLIC_PREVIEW {
            return Some(("publicPreview", format!("a preview shows at most {MAX_PUBLIC_PREVIEW} messages")));
        }
        None
    }
}

/// An app key as the server keeps it: the grant, the publisher's signature of it, and whether it
/// was revoked (seconds since the epoch).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppKey {
    #[serde(flatten)]
    pub grant: AppKeyGrant,
    pub signature: alloy_primitives::Bytes,
    pub created_at: u64,
    pub revoked_at: Option<u64>,
}

impl AppKey {
    /// Whether the key may publish at `now` (seconds since the epoch).
    pub fn stands_at(&self, now: u64) -> bool {
        self.revoked_at.is_none() && now < self.grant.expires
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::{address, b256};

    fn message() -> Message {
        Message {
            product: b256!("0x1111111111111111111111111111111111111111111111111111111111111111"),
            stream: "gps".parse().unwrap(),
            publisher: address!("0x2222222222222222222222222222222222222222"),
            sequence: 7,
            timestamp: 1_790_000_000_000,
            content: r#"{"lat":60.17,"lon":24.94}"#.parse().unwrap(),
        }
    }

    #[test]
    fn names_are_slugs() {
        for good in ["gps", "heart-rate", "a", "x1-2", &"a".repeat(MAX_NAME_BYTES)] {
            assert!(good.parse::<StreamName>().is_ok(), "{good}");
        }
        for bad in ["", "GPS", "-gps", "gps-", "g ps", "gps/1", "ä", &"a".repeat(MAX_NAME_BYTES + 1)] {
            assert_eq!(bad.parse::<StreamName>(), Err(StreamError::BadName), "{bad}");
        }
    }

    #[test]
    fn content_is_one_json_object_within_the_limit() {
        assert!(r#"{"a":1}"#.parse::<Content>().is_ok());
        assert!(matches!("[1]".parse::<Content>(), Err(StreamError::ContentNotObject(why)) if why == "it is an array"));
        assert!(matches!("{".parse::<Content>(), Err(StreamError::ContentNotObject(_))));
        let padding = "x".repeat(MAX_CONTENT_BYTES - 8);
        assert!(format!(r#"{{"a":"{padding}"}}"#).parse::<Content>().is_ok());
        let over = format!(r#"{{"a":"{padding}x"}}"#);
        assert_eq!(over.parse::<Content>(), Err(StreamError::ContentTooLarge(MAX_CONTENT_BYTES + 1)));
    }

    #[test]
    fn every_field_is_in_the_digest() {
        let base = message();
        let digest = base.digest();
        let changed = [
            Message { product: B256::ZERO, ..base.clone() },
            Message { stream: "gps2".parse().unwrap(), ..base.clone() },
            Message { publisher: Address::ZERO, ..base.clone() },
            Message { sequence: 8, ..base.clone() },
            Message { timestamp: base.timestamp + 1, ..base.clone() },
            Message { content: r#"{"lat":60.17, "lon":24.94}"#.parse().unwrap(), ..base.clone() },
        ];
        for other in changed {
            assert_ne!(other.digest(), digest, "{other:?}");
        }
    }

    /// The digest's layout, pinned: the value was computed apart from this code, by the JavaScript
    /// of docs/streams.md (ethers 6), which every other implementation must match.
    #[test]
    fn the_digest_is_pinned() {
        assert_eq!(
            message().digest(),
            b256!("0x928196640f35e98590d0641e66be2a108b00dbcb1152e0e1e5f214a6b95b78ca"),
            "the layout changed: a signature made before no longer verifies"
        );
    }

    /// A signature made by ethers 6 (`wallet.signMessage(getBytes(digest))`, the docs' example) with
    /// the first well-known development key verifies here.
    #[test]
    fn a_signature_made_in_javascript_names_its_signer() {
        let signature = alloy_primitives::hex!(
            "0f842592782c5185bea6ecc722c06f9203f20542cb26af49f5f51bfc081a551719c349955649af6c042cf4787334e14c1af7fe1ad408b4a5935ccc0a6bef88f91b"
        );
        assert_eq!(message().signer(&signature), Ok(address!("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266")));
        let signed = SignedMessage {
            message: message(),
            signer: address!("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"),
            signature: signature.into(),
        };
        assert!(signed.is_signed());
        let other = SignedMessage { message: Message { sequence: 8, ..message() }, ..signed };
        assert!(!other.is_signed(), "the signature is of sequence 7 only");
    }

    #[test]
    fn a_signature_names_its_signer_and_nothing_else() {
        assert_eq!(message().signer(&[0u8; 64]), Err(StreamError::BadSignature));
        assert_eq!(message().signer(&[0u8; 65]), Err(StreamError::BadSignature));
    }

    #[test]
    fn grant_text_names_everything_it_grants() {
        let grant = AppKeyGrant {
            key: address!("0x3333333333333333333333333333333333333333"),
            publisher: address!("0x2222222222222222222222222222222222222222"),
            union: address!("0x4444444444444444444444444444444444444444"),
            chain_id: 31337,
            expires: 1_800_000_000,
        };
        let text = grant.text();
        for part in [
            "App key: 0x3333333333333333333333333333333333333333",
            "Member: 0x2222222222222222222222222222222222222222",
            "Data Union: 0x4444444444444444444444444444444444444444",
            "Chain ID: 31337",
            "Until: 2027-01-15 08:00 UTC (1800000000)",
        ] {
            assert!(text.contains(part), "{part} missing from:\n{text}");
        }
        assert!(!grant.is_signed(&[1u8; 65]));
    }
}
