//! The Sign-in with Ethereum message (EIP-4361): written by the page, parsed and checked by the server,
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
//!
//! Times stay text here; the server reads them with its clock.

use std::fmt;
use std::str::FromStr;

use alloy_primitives::Address;
use coop::text::parse_address;

const PREAMBLE: &str = " wants you to sign in with your Ethereum account:";

/// One sign-in message. `Display` writes it exactly as EIP-4361 lays it out; `FromStr` reads it back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiweMessage {
    /// The host (and port) of the site asking, without a scheme.
    pub domain: String,
    pub address: Address,
    pub statement: Option<String>,
    pub uri: String,
    pub chain_id: u64,
    pub nonce: String,
    pub issued_at: String,
    pub expiration_time: Option<String>,
    pub not_before: Option<String>,
    pub request_id: Option<String>,
    pub resources: Vec<String>,
}

/// Why a text is not a sign-in message; `field` names the line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {problem}")]
pub struct SiweParseError {
    pub field: &'static str,
    pub problem: &'static str,
}

fn problem(field: &'static str, problem: &'static str) -> SiweParseError {
    SiweParseError { field, problem }
}

impl fmt::Display for SiweMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{PREAMBLE}\n{}\n\n", self.domain, self.address.to_checksum(None))?;
        if let Some(statement) = &self.statement {
            writeln!(f, "{statement}")?;
        }
        write!(
            f,
            "\nURI: {}\nVersion: 1\nChain ID: {}\nNonce: {}\nIssued At: {}",
            self.uri, self.chain_id, self.nonce, self.issued_at
        )?;
        if let Some(expiration) = &self.expiration_time {
            write!(f, "\nExpiration Time: {expiration}")?;
        }
        if let Some(not_before) = &self.not_before {
            write!(f, "\nNot Before: {not_before}")?;
        }
        if let Some(request_id) = &self.request_id {
            write!(f, "\nRequest ID: {request_id}")?;
        }
        if !self.resources.is_empty() {
            write!(f, "\nResources:")?;
            for resource in &self.resources {
                write!(f, "\n- {resource}")?;
            }
        }
        Ok(())
    }
}

/// Reads the lines of a message one at a time, each tagged or not.
struct Lines<'a> {
    lines: std::iter::Peekable<std::str::Split<'a, char>>,
}

impl<'a> Lines<'a> {
    fn next(&mut self, field: &'static str) -> Result<&'a str, SiweParseError> {
        self.lines.next().ok_or(problem(field, "is missing"))
    }

    fn tagged(&mut self, field: &'static str, tag: &str) -> Result<&'a str, SiweParseError> {
        let line = self.next(field)?;
        line.strip_prefix(tag).ok_or(problem(field, "is missing or out of order"))
    }

    fn optional(&mut self, tag: &str) -> Option<&'a str> {
        let value = self.lines.peek()?.strip_prefix(tag)?;
        self.lines.next();
        Some(value)
    }
}

impl FromStr for SiweMessage {
    type Err = SiweParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let mut lines = Lines { lines: text.split('\n').peekable() };
        let domain = lines
            .next("domain")?
            .strip_suffix(PREAMBLE)
            .ok_or(problem("domain", "the first line is not a sign-in request"))?;
        if domain.is_empty() || domain.contains(char::is_whitespace) || domain.contains('/') {
            return Err(problem("domain", "is not a host name"));
        }
        let address =
            parse_address(lines.next("address")?).map_err(|_| problem("address", "is not a valid address"))?;
        if !lines.next("statement")?.is_empty() {
            return Err(problem("address", "must be followed by an empty line"));
        }
        let statement = match lines.next("statement")? {
            "" => None,
            statement => {
                if !lines.next("statement")?.is_empty() {
                    return Err(problem("statement", "must be one line followed by an empty line"));
                }
                Some(statement.to_owned())
            }
        };
        let uri = lines.tagged("uri", "URI: ")?;
        if !uri.contains(':') || uri.contains(char::is_whitespace) {
            return Err(problem("uri", "is not a URI"));
        }
        if lines.tagged("version", "Version: ")? != "1" {
            return Err(problem("version", "must be 1"));
        }
        let chain_id = lines.tagged("chain_id", "Chain ID: ")?;
        let chain_id = chain_id
            .parse()
            .ok()
            .filter(|id| *id > 0 && !chain_id.starts_with('0'))
            .ok_or(problem("chain_id", "is not a chain id"))?;
        let nonce = lines.tagged("nonce", "Nonce: ")?;
        if nonce.len() < 8 || !nonce.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(problem("nonce", "must be at least 8 letters and digits"));
        }
        let issued_at = lines.tagged("issued_at", "Issued At: ")?.to_owned();
        let expiration_time = lines.optional("Expiration Time: ").map(str::to_owned);
        let not_before = lines.optional("Not Before: ").map(str::to_owned);
        let request_id = lines.optional("Request ID: ").map(str::to_owned);
        let mut resources = Vec::new();
        if lines.optional("Resources:").is_some_and(str::is_empty) {
            while let Some(resource) = lines.optional("- ") {
                resources.push(resource.to_owned());
            }
        }
        if lines.lines.next().is_some() {
            return Err(problem("message", "has unexpected lines at the end"));
        }
        Ok(Self {
            domain: domain.to_owned(),
            address,
            statement,
            uri: uri.to_owned(),
            chain_id,
            nonce: nonce.to_owned(),
            issued_at,
            expiration_time,
            not_before,
            request_id,
            resources,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::address;

    fn message() -> SiweMessage {
        SiweMessage {
            domain: "coop.example:3000".into(),
            address: address!("f39Fd6e51aad88F6F4ce6aB8827279cffFb92266"),
            statement: Some("Sign in to Coop.".into()),
            uri: "http://coop.example:3000".into(),
            chain_id: 31337,
            nonce: "abcdef0123456789".into(),
            issued_at: "2026-05-01T10:00:00Z".into(),
            expiration_time: Some("2026-05-01T10:10:00Z".into()),
            not_before: None,
            request_id: None,
            resources: vec![],
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
            not_before: Some("2026-05-01T09:59:00Z".into()),
            request_id: Some("r-1".into()),
            resources: vec!["https://coop.example/a".into(), "ipfs://b".into()],
            ..message()
        };
        let bare = SiweMessage { statement: None, expiration_time: None, ..message() };
        for original in [message(), full, bare] {
            assert_eq!(original.to_string().parse::<SiweMessage>(), Ok(original));
        }
    }

    #[test]
    fn each_broken_line_is_named() {
        let text = message().to_string();
        let cases = [
            (text.replace(" wants you", " would like you"), "domain"),
            (
                text.replace(
                    "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
                    "0xF39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
                ),
                "address",
            ),
            (text.replace("Version: 1", "Version: 2"), "version"),
            (text.replace("Chain ID: 31337", "Chain ID: x"), "chain_id"),
            (text.replace("Chain ID: 31337", "Chain ID: 0"), "chain_id"),
            (text.replace("abcdef0123456789", "abc"), "nonce"),
            (text.replace("abcdef0123456789", "abcdef01-3456789"), "nonce"),
            (text.replace("URI: ", "Url: "), "uri"),
            (format!("{text}\nsomething else"), "message"),
            (String::new(), "domain"),
        ];
        for (text, field) in cases {
            assert_eq!(text.parse::<SiweMessage>().map_err(|e| e.field), Err(field), "{text}");
        }
    }
}
