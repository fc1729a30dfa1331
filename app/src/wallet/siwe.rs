//! The Sign-in with Ethereum message (EIP-4361), written and read by the `signinwithethereum` crate:
//! the page writes it with [`sign_in_message`], the server reads it back with [`parse`] and checks it,
//! so both sides share one definition of the text a person signs.
//!
//! ```text
//! {domain} wants you to sign in with your Ethereum account:
//! {address}
//!
//! {statement}
//!
//! URI: {uri}
//! Version: 1
//! Chain ID: {chain id}
//! Nonce: {nonce}
//! Issued At: {RFC 3339 time}
//! [Expiration Time: ...] [Not Before: ...] [Request ID: ...] [Resources: - ...]
//! ```

use alloy_primitives::Address;
use iri_string::types::UriString;
pub use signinwithethereum::{Message as SiweMessage, TimeStamp};
use signinwithethereum::{ParseError, Version};

use crate::wallet::session::{NonceGrant, STATEMENT};

/// Why a text is not a sign-in message; `field` names the line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {problem}")]
pub struct SiweParseError {
    pub field: &'static str,
    pub problem: String,
    /// The line is there, but its value is not an RFC 3339 time.
    time: bool,
}

impl SiweParseError {
    fn new(field: &'static str, problem: impl Into<String>) -> Self {
        SiweParseError { field, problem: problem.into(), time: false }
    }

    /// Whether `field` is a time whose value is not an RFC 3339 time.
    pub fn is_malformed_time(&self) -> bool {
        self.time
    }
}

/// The message Coop's page asks a wallet to sign: for the site at `domain` (`host[:port]`, as
/// `location.host` writes it) and `uri` (its `location.origin`), with Coop's statement and the
/// nonce and times the server granted.
pub fn sign_in_message(
    domain: &str,
    uri: &str,
    address: Address,
    chain_id: u64,
    grant: &NonceGrant,
) -> Result<SiweMessage, SiweParseError> {
    let time = |field, text: &str| {
        text.parse::<TimeStamp>().map_err(|error| SiweParseError { field, problem: error.to_string(), time: true })
    };
    Ok(SiweMessage {
        scheme: None,
        domain: domain.parse().map_err(|error| SiweParseError::new("domain", format!("{error}")))?,
        address: address.into_array(),
        address_raw: None,
        statement: Some(STATEMENT.to_owned()),
        uri: uri.parse().map_err(|error| SiweParseError::new("uri", format!("{error}")))?,
        version: Version::V1,
        chain_id,
        nonce: grant.nonce.clone(),
        issued_at: time("issued_at", &grant.issued_at)?,
        expiration_time: Some(time("expiration_time", &grant.expiration_time)?),
        not_before: None,
        request_id: None,
        resources: Vec::new(),
        warnings: Vec::new(),
    })
}

/// Reads a sign-in message. Beyond what EIP-4361 asks, it refuses what Coop's page never writes: a
/// scheme before the domain, chain 0, an empty statement, and any other spelling of a field than the
/// crate's own (`Chain ID: 01`), so the text signed is exactly the message read.
pub fn parse(text: &str) -> Result<SiweMessage, SiweParseError> {
    let message: SiweMessage = text.parse().map_err(|error| parse_error(text, &error))?;
    if message.scheme.is_some() {
        return Err(SiweParseError::new("domain", "must be a host without a scheme"));
    }
    if message.chain_id == 0 {
        return Err(SiweParseError::new("chain_id", "is not a chain id"));
    }
    if message.statement.as_deref() == Some("") {
        return Err(SiweParseError::new("statement", "is empty"));
    }
    let written = message.to_string();
    let (mut read_lines, mut written_lines) = (text.split('\n'), written.split('\n'));
    for index in 0.. {
        match (read_lines.next(), written_lines.next()) {
            (None, None) => break,
            (read, written) if read == written => {}
            (read, written) => {
                let field = read.or(written).map_or("message", |line| field_of_line(index, line));
                return Err(SiweParseError::new(field, "is not written as EIP-4361 lays it out"));
            }
        }
    }
    Ok(message)
}

/// The field the crate's refusal is about.
fn parse_error(text: &str, error: &ParseError) -> SiweParseError {
    let field = match error {
        ParseError::Domain(_) => "domain",
        ParseError::Address(_) => "address",
        ParseError::ParseIntError(_) => "chain_id",
        ParseError::Uri(_) => first_broken(text, &["URI: ", "- "], |value| value.parse::<UriString>().is_err()),
        ParseError::TimeStamp(_) => {
            let tags = ["Issued At: ", "Expiration Time: ", "Not Before: "];
            let field = first_broken(text, &tags, |value| value.parse::<TimeStamp>().is_err());
            return SiweParseError { field, problem: error.to_string(), time: true };
        }
        ParseError::Format(what) => match *what {
            "Missing Preamble Line" | "Invalid scheme" => "domain",
            "0x" | "Address is not in EIP-55 format" | "Missing blank line after address" => "address",
            "No lines found after address"
            | "Statement contains invalid characters"
            | "Missing blank line after statement" => "statement",
            "URI: " => "uri",
            "Version: " | "Bad Version" => "version",
            "Chain ID: " => "chain_id",
            "Nonce: " | "Nonce must be at least 8 characters" | "Nonce must be alphanumeric" => "nonce",
            "Issued At: " => "issued_at",
            "- " => "resources",
            _ => "message",
        },
        _ => "message",
    };
    SiweParseError::new(field, error.to_string())
}

/// The field of the first line below the statement that has one of `tags` and a value `broken` says
/// is at fault; `message` if none has.
fn first_broken(text: &str, tags: &[&str], broken: impl Fn(&str) -> bool) -> &'static str {
    // The statement (line 3 at most) could look like any tagged line; the lines below it cannot.
    let mut lines = text.split('\n').enumerate().skip(4);
    lines
        .find_map(|(index, line)| {
            let value = tags.iter().find_map(|tag| line.strip_prefix(tag))?;
            broken(value).then(|| field_of_line(index, line))
        })
        .unwrap_or("message")
}

const TAGS: [(&str, &str); 10] = [
    ("URI: ", "uri"),
    ("Version: ", "version"),
    ("Chain ID: ", "chain_id"),
    ("Nonce: ", "nonce"),
    ("Issued At: ", "issued_at"),
    ("Expiration Time: ", "expiration_time"),
    ("Not Before: ", "not_before"),
    ("Request ID: ", "request_id"),
    ("Resources:", "resources"),
    ("- ", "resources"),
];

/// The field a line of a message holds, by its place (the first two) or its tag.
fn field_of_line(index: usize, line: &str) -> &'static str {
    match index {
        0 => "domain",
        1 => "address",
        _ => TAGS.iter().find(|(tag, _)| line.starts_with(tag)).map_or("message", |(_, field)| field),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::address;

    fn grant() -> NonceGrant {
        NonceGrant {
            nonce: "abcdef0123456789".into(),
            issued_at: "2026-05-01T10:00:00Z".into(),
            expiration_time: "2026-05-01T10:10:00Z".into(),
        }
    }

    fn message() -> SiweMessage {
        let address = address!("f39Fd6e51aad88F6F4ce6aB8827279cffFb92266");
        SiweMessage {
            statement: Some("Sign in to Coop.".into()),
            ..sign_in_message("coop.example:3000", "http://coop.example:3000", address, 31337, &grant()).unwrap()
        }
    }

    #[test]
    fn a_message_is_written_in_the_eip_4361_layout() {
        assert_eq!(
            message().to_string(),
            "coop.example:3000 wants you to sign in with your Ethereum account:\n\
             0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266\n\n\
             Sign in to Coop.\n\n\
             URI: http://coop.example:3000\nVersion: 1\nChain ID: 31337\nNonce: abcdef0123456789\n\
             Issued At: 2026-05-01T10:00:00Z\nExpiration Time: 2026-05-01T10:10:00Z"
        );
    }

    #[test]
    fn a_written_message_reads_back_the_same_with_and_without_optional_lines() {
        let full = SiweMessage {
            not_before: Some("2026-05-01T09:59:00Z".parse().unwrap()),
            request_id: Some("r-1".into()),
            resources: vec!["https://coop.example/a".parse().unwrap(), "ipfs://b".parse().unwrap()],
            ..message()
        };
        let bare = SiweMessage { statement: None, expiration_time: None, ..message() };
        for original in [message(), full, bare] {
            assert_eq!(parse(&original.to_string()), Ok(original));
        }
    }

    #[test]
    fn the_page_writes_coops_statement_and_the_granted_nonce_and_times() {
        let address = address!("f39Fd6e51aad88F6F4ce6aB8827279cffFb92266");
        let message = sign_in_message("127.0.0.1:3000", "http://127.0.0.1:3000", address, 1, &grant()).unwrap();
        assert_eq!(message.statement.as_deref(), Some(STATEMENT));
        assert_eq!((message.nonce.as_str(), message.chain_id), ("abcdef0123456789", 1));
        assert_eq!(parse(&message.to_string()), Ok(message));
        let late = NonceGrant { issued_at: "soon".into(), ..grant() };
        let refused = sign_in_message("127.0.0.1:3000", "http://127.0.0.1:3000", address, 1, &late).unwrap_err();
        assert_eq!((refused.field, refused.is_malformed_time()), ("issued_at", true));
    }

    #[test]
    fn each_broken_line_is_named() {
        let text = message().to_string();
        let cases = [
            (text.replace(" wants you", " would like you"), "domain"),
            (text.replace("coop.example:3000 wants", "https://coop.example:3000 wants"), "domain"),
            (text.replace("coop.example:3000 wants", "coop example wants"), "domain"),
            (
                text.replace(
                    "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
                    "0xF39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
                ),
                "address",
            ),
            (text.replace("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266", "0xf39Fd6"), "address"),
            (text.replace("Sign in to Coop.", "Sign in to Coop.\nAnd more."), "statement"),
            (text.replace("Sign in to Coop.", ""), "statement"),
            (text.replace("URI: ", "Url: "), "uri"),
            (text.replace("URI: http://coop.example:3000", "URI: not a uri"), "uri"),
            (text.replace("Version: 1", "Version: 2"), "version"),
            (text.replace("Chain ID: 31337", "Chain ID: x"), "chain_id"),
            (text.replace("Chain ID: 31337", "Chain ID: 0"), "chain_id"),
            (text.replace("Chain ID: 31337", "Chain ID: 031337"), "chain_id"),
            (text.replace("Chain ID: 31337", "Chain ID: +31337"), "chain_id"),
            (text.replace("abcdef0123456789", "abc"), "nonce"),
            (text.replace("abcdef0123456789", "abcdef01-3456789"), "nonce"),
            (text.replace("Issued At: 2026-05-01T10:00:00Z", "Issued At: soon"), "issued_at"),
            (text.replace("Expiration Time: 2026-05-01T10:10:00Z", "Expiration Time: later"), "expiration_time"),
            (format!("{text}\nResources:"), "resources"),
            (format!("{text}\nResources:\n- not a uri"), "resources"),
            (format!("{text}\nResources:\nhttps://coop.example"), "resources"),
            (format!("{text}\nsomething else"), "message"),
            (format!("{text}\n"), "message"),
            (String::new(), "domain"),
        ];
        for (text, field) in cases {
            assert_eq!(parse(&text).map_err(|e| e.field), Err(field), "{text}");
        }
    }

    #[test]
    fn only_a_bad_time_is_a_malformed_time() {
        let text = message().to_string();
        let bad_time = parse(&text.replace("2026-05-01T10:10:00Z", "later")).unwrap_err();
        let no_time = parse(&text.replace("Issued At: ", "Issued: ")).unwrap_err();
        assert_eq!((bad_time.field, bad_time.is_malformed_time()), ("expiration_time", true));
        assert_eq!((no_time.field, no_time.is_malformed_time()), ("issued_at", false));
    }
}
