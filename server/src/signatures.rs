//! Who signed a message (EIP-191 `personal_sign`): an account, by its ECDSA signature, or a
//! smart-contract account such as a Safe, by its own judgement through EIP-1271
//! `isValidSignature`, asked of the chain. Sign-in and join requests both accept either, so an
//! owner or a member whose wallet is a contract can sign in and join.

use std::time::Duration;

use alloy::primitives::{Address, Bytes, FixedBytes, Signature, eip191_hash_message, hex};
use alloy::providers::{DynProvider, Provider};
use alloy::sol;

use crate::http::ApiError;

sol! {
    #[sol(rpc)]
    interface IERC1271 {
        function isValidSignature(bytes32 hash, bytes signature) external view returns (bytes4 magicValue);
    }
}

/// What `isValidSignature` answers for a signature it accepts.
const MAGIC_VALUE: FixedBytes<4> = FixedBytes([0x16, 0x26, 0xba, 0x7e]);
/// The longest signature taken: a Safe's is 65 bytes per owner who signs, and 2 KiB holds 31.
pub const MAX_SIGNATURE_BYTES: usize = 2048;
/// How long the chain may take to judge a contract's signature.
const CHAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// A signature as sent: hex (with or without `0x`), 1 to [`MAX_SIGNATURE_BYTES`] bytes. `None` for
/// anything else.
pub fn parse(text: &str) -> Option<Bytes> {
    let text = text.trim();
    // Before decoding: a megabyte of hex is not worth reading.
    if text.len() > 2 + 2 * MAX_SIGNATURE_BYTES {
        return None;
    }
    let bytes = hex::decode(text).ok()?;
    (1..=MAX_SIGNATURE_BYTES).contains(&bytes.len()).then(|| bytes.into())
}

/// Whether `signature` is the ECDSA signature (65 bytes) of `message` by the account `signer`.
pub fn ecdsa_signs(signer: Address, message: &[u8], signature: &[u8]) -> bool {
    signature.len() == 65
        && Signature::from_raw(signature)
            .is_ok_and(|ecdsa| ecdsa.recover_address_from_msg(message).is_ok_and(|recovered| recovered == signer))
}

/// Whether `signature` is `signer`'s EIP-191 signature of `message`: its ECDSA signature, or, when
/// `signer` is a contract, one its `isValidSignature` accepts at the chain's latest block. A chain
/// that does not answer is a 503, never a refusal.
pub async fn is_signed_by(
    chain: &DynProvider,
    signer: Address,
    message: &[u8],
    signature: &[u8],
) -> Result<bool, ApiError> {
    if ecdsa_signs(signer, message, signature) {
        return Ok(true);
    }
    let judged = async {
        if chain.get_code_at(signer).await?.is_empty() {
            // An account without code signs only by ECDSA, and this is not its signature.
            return Ok(false);
        }
        let wallet = IERC1271::new(signer, chain);
        match wallet.isValidSignature(eip191_hash_message(message), Bytes::copy_from_slice(signature)).call().await {
            Ok(answer) => Ok(answer == MAGIC_VALUE),
            // The node answered: a revert, or an answer that is not a bytes4, is a refusal.
            Err(alloy::contract::Error::TransportError(error)) if error.as_error_resp().is_none() => Err(error),
            Err(_) => Ok(false),
        }
    };
    match tokio::time::timeout(CHAIN_TIMEOUT, judged).await {
        Ok(Ok(accepted)) => Ok(accepted),
        Ok(Err(error)) => {
            Err(ApiError::chain_unavailable(format_args!("asking {signer} to judge a signature: {error}")))
        }
        Err(_) => Err(ApiError::chain_unavailable(format_args!(
            "{signer} did not judge a signature within {} s",
            CHAIN_TIMEOUT.as_secs()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_is_bounded_hex() {
        assert_eq!(parse("0x0102").unwrap().as_ref(), [1, 2]);
        assert_eq!(parse(" 0102 ").unwrap().as_ref(), [1, 2]);
        for bad in ["", "0x", "not hex", "0x123"] {
            assert!(parse(bad).is_none(), "{bad:?}");
        }
        assert!(parse(&"ab".repeat(MAX_SIGNATURE_BYTES)).is_some());
        assert!(parse(&"ab".repeat(MAX_SIGNATURE_BYTES + 1)).is_none());
    }
}
