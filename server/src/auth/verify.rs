//! Checking a Sign-in with Ethereum message (read by `app::wallet::siwe::parse`) against what this
//! server expects: the domain the request came to, the chain it serves, the message's time bounds, and
//! the signature. The nonce is checked last, against the store, by the caller. Pure: the time comes in
//! as an argument.

use alloy::primitives::Bytes;
use app::wallet::siwe::{self, SiweMessage, SiweParseError};
use tower_sessions::cookie::time::format_description::well_known::Rfc3339;
use tower_sessions::cookie::time::{Duration, OffsetDateTime};
use url::Url;

use crate::http::ApiError;
use crate::http::ErrorCode;
use crate::signatures::{self, MAX_SIGNATURE_BYTES};
use crate::store::NonceUse;

/// How far a wallet's or browser's clock may run ahead of the server's.
const CLOCK_SKEW: Duration = Duration::minutes(5);
/// A message longer than this is not a sign-in message.
pub const MAX_MESSAGE_LEN: usize = 4096;

/// What a message must match to be accepted here.
#[derive(Debug, Clone, Copy)]
pub struct Expected<'a> {
    /// The `host[:port]` forms of this server's public origin (`PublicOrigin`), never the request's
    /// `Host`.
    pub domains: &'a [String],
    pub chain_id: u64,
    pub now: OffsetDateTime,
}

/// Why a sign-in is refused. Each has its own code, and names the field at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignInError {
    #[error("the request body is not JSON with the fields message and signature")]
    MalformedBody,
    #[error("the message is longer than {MAX_MESSAGE_LEN} characters")]
    MessageTooLong,
    #[error("the message is not a sign-in message ({0})")]
    MalformedMessage(SiweParseError),
    #[error("the {field} is not an RFC 3339 time")]
    MalformedTime { field: &'static str },
    #[error("the signature is not hex of 1 to {MAX_SIGNATURE_BYTES} bytes")]
    MalformedSignature,
    #[error("the message is for {got}, but this is {expected}")]
    WrongDomain { expected: String, got: String },
    #[error("the message's uri {uri} is not on {domain}")]
    WrongUri { uri: String, domain: String },
    #[error("the message is for chain {got}, but this server runs on chain {expected}")]
    WrongChain { expected: u64, got: u64 },
    #[error("the message expired; sign a new one")]
    Expired,
    #[error("the message is not valid yet")]
    NotYetValid,
    #[error("the message was issued in the future; check your clock")]
    IssuedInFuture,
    #[error("the signature is not by the address in the message")]
    BadSignature,
    #[error("the nonce was already used; ask for a new one")]
    NonceUsed,
    #[error("the nonce expired; ask for a new one")]
    NonceExpired,
    #[error("the nonce was not issued to this session by this server; ask for a new one")]
    NonceUnknown,
}

impl SignInError {
    pub fn code(&self) -> ErrorCode {
        match self {
            SignInError::MalformedBody => ErrorCode::MalformedBody,
            SignInError::MessageTooLong => ErrorCode::MessageTooLong,
            SignInError::MalformedMessage(_) => ErrorCode::MalformedMessage,
            SignInError::MalformedTime { .. } => ErrorCode::MalformedTime,
            SignInError::MalformedSignature => ErrorCode::MalformedSignature,
            SignInError::WrongDomain { .. } => ErrorCode::WrongDomain,
            SignInError::WrongUri { .. } => ErrorCode::WrongUri,
            SignInError::WrongChain { .. } => ErrorCode::WrongChain,
            SignInError::Expired => ErrorCode::MessageExpired,
            SignInError::NotYetValid => ErrorCode::MessageNotYetValid,
            SignInError::IssuedInFuture => ErrorCode::IssuedInFuture,
            SignInError::BadSignature => ErrorCode::BadSignature,
            SignInError::NonceUsed => ErrorCode::NonceUsed,
            SignInError::NonceExpired => ErrorCode::NonceExpired,
            SignInError::NonceUnknown => ErrorCode::NonceUnknown,
        }
    }

    pub fn field(&self) -> &'static str {
        match self {
            SignInError::MalformedBody | SignInError::MessageTooLong => "message",
            SignInError::MalformedMessage(error) => error.field,
            SignInError::MalformedTime { field } => field,
            SignInError::MalformedSignature | SignInError::BadSignature => "signature",
            SignInError::WrongDomain { .. } => "domain",
            SignInError::WrongUri { .. } => "uri",
            SignInError::WrongChain { .. } => "chain_id",
            SignInError::Expired => "expiration_time",
            SignInError::NotYetValid => "not_before",
            SignInError::IssuedInFuture => "issued_at",
            SignInError::NonceUsed | SignInError::NonceExpired | SignInError::NonceUnknown => "nonce",
        }
    }

    /// The refusals a second try of the same message cannot fix, against input that is not even
    /// well formed.
    fn is_malformed(&self) -> bool {
        matches!(
            self,
            SignInError::MalformedBody
                | SignInError::MessageTooLong
                | SignInError::MalformedMessage(_)
                | SignInError::MalformedTime { .. }
                | SignInError::MalformedSignature
        )
    }

    /// The refusal for a nonce that is not fresh; `None` for a fresh one.
    pub fn from_nonce_use(used: NonceUse) -> Option<Self> {
        match used {
            NonceUse::Fresh => None,
            NonceUse::AlreadyUsed => Some(SignInError::NonceUsed),
            NonceUse::Expired => Some(SignInError::NonceExpired),
            NonceUse::Unknown => Some(SignInError::NonceUnknown),
        }
    }
}

impl From<SignInError> for ApiError {
    fn from(error: SignInError) -> Self {
        let (code, field, message) = (error.code(), Some(error.field()), error.to_string());
        if error.is_malformed() {
            ApiError::BadRequest { code, message, field }
        } else {
            ApiError::Unauthorized { code, message, field }
        }
    }
}

/// Parses the message text and checks it: domain, uri, chain and time bounds. The nonce and the
/// signature are checked separately.
pub fn check_message(text: &str, expected: Expected<'_>) -> Result<SiweMessage, SignInError> {
    if text.len() > MAX_MESSAGE_LEN {
        return Err(SignInError::MessageTooLong);
    }
    let message = siwe::parse(text).map_err(|error| {
        if error.is_malformed_time() {
            SignInError::MalformedTime { field: error.field }
        } else {
            SignInError::MalformedMessage(error)
        }
    })?;
    let Some(domain) = expected.domains.iter().find(|domain| message.domain.as_str().eq_ignore_ascii_case(domain))
    else {
        let got = message.domain.to_string();
        return Err(SignInError::WrongDomain { expected: expected.domains.join(" or "), got });
    };
    if authority(message.uri.as_str()).is_none_or(|authority| !authority.eq_ignore_ascii_case(domain)) {
        return Err(SignInError::WrongUri { uri: message.uri.to_string(), domain: domain.clone() });
    }
    if message.chain_id != expected.chain_id {
        return Err(SignInError::WrongChain { expected: expected.chain_id, got: message.chain_id });
    }
    if *message.issued_at.as_ref() > expected.now + CLOCK_SKEW {
        return Err(SignInError::IssuedInFuture);
    }
    if message.expiration_time.as_ref().is_some_and(|expiration| *expiration.as_ref() <= expected.now) {
        return Err(SignInError::Expired);
    }
    if message.not_before.as_ref().is_some_and(|not_before| *not_before.as_ref() > expected.now + CLOCK_SKEW) {
        return Err(SignInError::NotYetValid);
    }
    Ok(message)
}

/// The signature's bytes: hex of at most [`MAX_SIGNATURE_BYTES`] (whose signature it is, an account's
/// or a contract's, is for `signatures::is_signed_by`).
pub fn signature_bytes(signature: &str) -> Result<Bytes, SignInError> {
    signatures::parse(signature).ok_or(SignInError::MalformedSignature)
}

/// `host[:port]` of a URI, as written in a SIWE `domain`.
fn authority(uri: &str) -> Option<String> {
    super::origin::authority(&Url::parse(uri).ok()?)
}

/// An RFC 3339 time to the second, as the nonce endpoint hands them out.
pub fn format_time(time: OffsetDateTime) -> String {
    let time = time.replace_nanosecond(0).unwrap_or(time);
    time.format(&Rfc3339).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::primitives::hex;
    use alloy::signers::SignerSync;
    use alloy::signers::local::PrivateKeySigner;
    use app::wallet::session::NonceGrant;
    use app::wallet::siwe::TimeStamp;

    const NOW: i64 = 1_777_777_777;

    fn expected() -> Expected<'static> {
        static DOMAINS: std::sync::LazyLock<Vec<String>> = std::sync::LazyLock::new(|| vec!["127.0.0.1:3000".into()]);
        Expected { domains: &DOMAINS, chain_id: 31337, now: OffsetDateTime::from_unix_timestamp(NOW).unwrap() }
    }

    fn message(signer: &PrivateKeySigner) -> SiweMessage {
        let now = expected().now;
        let grant = NonceGrant {
            nonce: "0123456789abcdef".into(),
            issued_at: format_time(now - Duration::seconds(30)),
            expiration_time: format_time(now + Duration::minutes(9)),
        };
        siwe::sign_in_message("127.0.0.1:3000", "http://127.0.0.1:3000", signer.address(), 31337, &grant).unwrap()
    }

    fn time(time: OffsetDateTime) -> Option<TimeStamp> {
        Some(format_time(time).parse().unwrap())
    }

    fn sign(signer: &PrivateKeySigner, text: &str) -> String {
        hex::encode_prefixed(signer.sign_message_sync(text.as_bytes()).unwrap().as_bytes())
    }

    fn refusal(message: SiweMessage) -> Option<ErrorCode> {
        check_message(&message.to_string(), expected()).err().map(|error| error.code())
    }

    #[test]
    fn a_well_formed_signed_message_for_this_domain_and_chain_is_accepted() {
        let signer = PrivateKeySigner::random();
        let text = message(&signer).to_string();
        let parsed = check_message(&text, expected()).unwrap();
        let signature = signature_bytes(&sign(&signer, &text)).unwrap();
        assert!(signatures::ecdsa_signs(parsed.address.into(), text.as_bytes(), &signature));
    }

    #[test]
    fn each_mismatch_is_refused_with_its_own_code() {
        let signer = PrivateKeySigner::random();
        let now = expected().now;
        let base = message(&signer);
        let evil = SiweMessage { domain: "evil.example".parse().unwrap(), ..base.clone() };
        assert_eq!(refusal(evil), Some(ErrorCode::WrongDomain));
        assert_eq!(
            refusal(SiweMessage { uri: "http://evil.example/".parse().unwrap(), ..base.clone() }),
            Some(ErrorCode::WrongUri)
        );
        assert_eq!(refusal(SiweMessage { chain_id: 1, ..base.clone() }), Some(ErrorCode::WrongChain));
        assert_eq!(
            refusal(SiweMessage { expiration_time: time(now - Duration::seconds(1)), ..base.clone() }),
            Some(ErrorCode::MessageExpired)
        );
        assert_eq!(
            refusal(SiweMessage { not_before: time(now + Duration::hours(1)), ..base.clone() }),
            Some(ErrorCode::MessageNotYetValid)
        );
        assert_eq!(
            refusal(SiweMessage { issued_at: time(now + Duration::hours(1)).unwrap(), ..base.clone() }),
            Some(ErrorCode::IssuedInFuture)
        );
        let yesterday = base.to_string().replace(&base.issued_at.to_string(), "yesterday");
        let malformed = check_message(&yesterday, expected()).unwrap_err();
        assert_eq!((malformed.code(), malformed.field()), (ErrorCode::MalformedTime, "issued_at"));
        assert_eq!(refusal(SiweMessage { domain: "127.0.0.1:3000".parse().unwrap(), ..base }), None);
    }

    #[test]
    fn a_signature_by_someone_else_or_of_other_text_is_refused() {
        let (signer, other) = (PrivateKeySigner::random(), PrivateKeySigner::random());
        let text = message(&signer).to_string();
        let signs = |signature: &str| {
            signatures::ecdsa_signs(signer.address(), text.as_bytes(), &signature_bytes(signature).unwrap())
        };
        assert!(!signs(&sign(&other, &text)));
        assert!(!signs(&sign(&signer, "other")));
        assert!(!signs("0x1234"), "too short for an account, though a contract may take it");
        assert_eq!(signature_bytes("not hex"), Err(SignInError::MalformedSignature));
        assert_eq!(signature_bytes(""), Err(SignInError::MalformedSignature));
    }

    #[test]
    fn malformed_input_is_a_bad_request_and_a_refusal_is_unauthorized() {
        let malformed: ApiError = SignInError::MalformedSignature.into();
        let refused: ApiError = SignInError::NonceUsed.into();
        assert!(matches!(
            malformed,
            ApiError::BadRequest { code: ErrorCode::MalformedSignature, field: Some("signature"), .. }
        ));
        assert!(matches!(refused, ApiError::Unauthorized { code: ErrorCode::NonceUsed, field: Some("nonce"), .. }));
    }
}
