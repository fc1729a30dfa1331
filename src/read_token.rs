//! Read tokens: how a program reads the streams its address may read without a browser session.
//!
//! The program makes the token itself: its key signs (EIP-191, `personal_sign`) [`ReadToken::text`],
//! which names the server's domain, the chain and when the token ends, at most
//! [`MAX_READ_TOKEN_SECONDS`] ahead. It sends `Authorization: Bearer coop-read.<reader>.<expires>.<signature>`
//! with each read. Nothing is stored on the server, so every replica accepts it; it reads only (no
//! owner's action takes it), for one server and one chain, and a leaked token is worth an hour at most.
//! A phishing site that gets one signed names its own domain in it, which this server refuses.

use std::fmt;
use std::str::FromStr;

use alloy_primitives::{Address, Bytes};

use crate::stream::recover;
use crate::text::utc;

/// The scheme's first part, which says what the rest is.
pub const READ_TOKEN_PREFIX: &str = "coop-read";
/// The longest a read token may last: short, since nothing revokes it before it ends.
pub const MAX_READ_TOKEN_SECONDS: u64 = 60 * 60;

/// A reader's token, as sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadToken {
    pub reader: Address,
    /// Seconds since the epoch; the token reads nothing after it.
    pub expires: u64,
    pub signature: Bytes,
}

/// Why a read token is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadTokenError {
    #[error(
        "a read token is `{READ_TOKEN_PREFIX}.<reader address>.<expires, seconds since the epoch>.<signature hex>`"
    )]
    Malformed,
    #[error("the read token ended at {when} ({0}); sign a new one", when = utc(*.0))]
    Expired(u64),
    #[error("the read token lasts until {when} ({0}): more than {most} minutes ahead", when = utc(*.0), most = MAX_READ_TOKEN_SECONDS / 60)]
    TooLong(u64),
    #[error("the read token's signature is not {0}'s over its text for this server and chain")]
    BadSignature(Address),
}

impl ReadToken {
    /// The text the reader's key signs: readable in a wallet's prompt, and naming the server's domain
    /// and the chain, so a token is good for this server only.
    pub fn text(reader: Address, domain: &str, chain_id: u64, expires: u64) -> String {
        format!(
            "Coop read token\n\n\
             I read the Coop streams my address may read on {domain}, until the time below.\n\n\
             Reader: {}\n\
             Chain ID: {chain_id}\n\
             Until: {} ({expires})",
            reader.to_checksum(None),
            utc(expires),
        )
    }

    /// Checks the token at `now` (seconds since the epoch) for a server reached at one of `domains`
    /// on `chain_id`: the address it reads as.
    pub fn check(&self, domains: &[String], chain_id: u64, now: u64) -> Result<Address, ReadTokenError> {
        if self.expires <= now {
            return Err(ReadTokenError::Expired(self.expires));
        }
        if self.expires > now.saturating_add(MAX_READ_TOKEN_SECONDS) {
            return Err(ReadTokenError::TooLong(self.expires));
        }
        let signed_for = |domain: &String| {
            let text = Self::text(self.reader, domain, chain_id, self.expires);
            recover(text.as_bytes(), &self.signature).is_ok_and(|signer| signer == self.reader)
        };
        if domains.iter().any(signed_for) { Ok(self.reader) } else { Err(ReadTokenError::BadSignature(self.reader)) }
    }
}

impl fmt::Display for ReadToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{READ_TOKEN_PREFIX}.{:#x}.{}.{}", self.reader, self.expires, self.signature)
    }
}

impl FromStr for ReadToken {
    type Err = ReadTokenError;

    fn from_str(token: &str) -> Result<Self, ReadTokenError> {
        let mut parts = token.trim().split('.');
        let (Some(READ_TOKEN_PREFIX), Some(reader), Some(expires), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(ReadTokenError::Malformed);
        };
        let reader = reader.parse().map_err(|_| ReadTokenError::Malformed)?;
        let expires = expires.parse().map_err(|_| ReadTokenError::Malformed)?;
        let signature: Bytes = signature.parse().map_err(|_| ReadTokenError::Malformed)?;
        if signature.len() != 65 {
            return Err(ReadTokenError::Malformed);
        }
        Ok(ReadToken { reader, expires, signature })
    }
}

#[cfg(test)]
mod tests {
    use alloy_primitives::{B256, Signature};
    use k256::ecdsa::SigningKey;

    use super::*;

    const NOW: u64 = 1_800_000_000;

    fn key() -> SigningKey {
        SigningKey::from_bytes(&B256::repeat_byte(7).0.into()).unwrap()
    }

    fn signed(domain: &str, chain_id: u64, expires: u64) -> ReadToken {
        let key = key();
        let reader = Address::from_private_key(&key);
        let text = ReadToken::text(reader, domain, chain_id, expires);
        let hash = alloy_primitives::eip191_hash_message(text.as_bytes());
        let (signature, parity) = key.sign_prehash_recoverable(hash.as_slice()).unwrap();
        let signature = Signature::from_signature_and_parity(signature, parity.is_y_odd());
        ReadToken { reader, expires, signature: Bytes::from(signature.as_bytes().to_vec()) }
    }

    fn domains() -> Vec<String> {
        vec!["coop.example".to_owned()]
    }

    #[test]
    fn a_token_signed_for_this_server_reads_as_its_signer_until_it_ends() {
        let token = signed("coop.example", 100, NOW + 600);
        let sent: ReadToken = token.to_string().parse().unwrap();
        assert_eq!(sent, token, "a token reads back as it was written");
        assert_eq!(sent.check(&domains(), 100, NOW), Ok(token.reader));
        assert_eq!(sent.check(&domains(), 100, NOW + 600), Err(ReadTokenError::Expired(NOW + 600)));
    }

    #[test]
    fn a_token_for_another_site_another_chain_or_too_long_is_refused() {
        let reader = signed("coop.example", 100, NOW + 600).reader;
        let phished = signed("c00p.example", 100, NOW + 600);
        assert_eq!(phished.check(&domains(), 100, NOW), Err(ReadTokenError::BadSignature(reader)));
        let other_chain = signed("coop.example", 1, NOW + 600);
        assert_eq!(other_chain.check(&domains(), 100, NOW), Err(ReadTokenError::BadSignature(reader)));
        let too_long = signed("coop.example", 100, NOW + MAX_READ_TOKEN_SECONDS + 1);
        assert_eq!(too_long.check(&domains(), 100, NOW), Err(ReadTokenError::TooLong(too_long.expires)));
        let mut claimed = signed("coop.example", 100, NOW + 600);
        claimed.reader = Address::repeat_byte(9);
        assert_eq!(claimed.check(&domains(), 100, NOW), Err(ReadTokenError::BadSignature(claimed.reader)));
    }

    #[test]
    fn the_text_is_the_one_the_protocol_document_shows() {
        let reader = alloy_primitives::address!("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266");
        let text = ReadToken::text(reader, "coop.example", 31337, 1_796_680_800);
        let document = include_str!("../docs/streams.md");
        let shown: Vec<&str> =
            document.lines().map(str::trim).skip_while(|line| *line != "Coop read token").take(7).collect();
        assert_eq!(shown.join("\n"), text);
    }

    #[test]
    fn anything_else_is_malformed() {
        let token = signed("coop.example", 100, NOW + 600).to_string();
        let malformed = [
            String::new(),
            token.replacen(READ_TOKEN_PREFIX, "coop-write", 1),
            format!("{token}.more"),
            token.rsplit_once('.').unwrap().0.to_owned(),
            token.replace(&format!(".{}.", NOW + 600), ".soon."),
            format!("{}00", token),
        ];
        for text in malformed {
            assert_eq!(text.parse::<ReadToken>(), Err(ReadTokenError::Malformed), "{text:?}");
        }
    }
}
