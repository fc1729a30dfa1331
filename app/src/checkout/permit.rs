//! The EIP-2612 permit a DATA purchase is signed with (`eth_signTypedData_v4`), and the signature split
//! into the `v, r, s` that `buyWithDataPermit` takes.

use alloy_primitives::{Address, B256, U256};
use serde_json::{Value, json};

use super::port::PermitDomain;
use crate::wallet::typed_data::Domain;

/// The permit's fields: `owner` lets `spender` take `value` until `deadline`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Permit {
    pub owner: Address,
    pub spender: Address,
    pub value: U256,
    pub nonce: U256,
    pub deadline: U256,
}

/// The typed data as `eth_signTypedData_v4` takes it (numbers as decimal strings).
pub fn typed_data(domain: &PermitDomain, permit: &Permit) -> Value {
    let domain = Domain {
        name: &domain.name,
        version: &domain.version,
        chain_id: domain.chain_id,
        verifying_contract: domain.verifying_contract,
    };
    let fields = [
        ("owner", "address"),
        ("spender", "address"),
        ("value", "uint256"),
        ("nonce", "uint256"),
        ("deadline", "uint256"),
    ];
    let message = json!({
        "owner": permit.owner.to_checksum(None),
        "spender": permit.spender.to_checksum(None),
        "value": permit.value.to_string(),
        "nonce": permit.nonce.to_string(),
        "deadline": permit.deadline.to_string(),
    });
    crate::wallet::typed_data::typed_data(domain, "Permit", &fields, message)
}

/// A 65-byte signature (`r ‖ s ‖ v`) as `(v, r, s)`, `v` as 27 or 28 (some wallets write 0 or 1).
pub fn split_signature(hex: &str) -> Option<(u8, B256, B256)> {
    let bytes = alloy_primitives::hex::decode(hex.trim()).ok()?;
    if bytes.len() != 65 {
        return None;
    }
    let v = match bytes[64] {
        v @ (27 | 28) => v,
        v @ (0 | 1) => v + 27,
        _ => return None,
    };
    Some((v, B256::from_slice(&bytes[..32]), B256::from_slice(&bytes[32..64])))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_split_into_v_r_s() {
        let r = "11".repeat(32);
        let s = "22".repeat(32);
        let (v, got_r, got_s) = split_signature(&format!("0x{r}{s}1c")).unwrap();
        assert_eq!(v, 28);
        assert_eq!(got_r, B256::repeat_byte(0x11));
        assert_eq!(got_s, B256::repeat_byte(0x22));
        assert_eq!(split_signature(&format!("0x{r}{s}00")).unwrap().0, 27);
        assert_eq!(split_signature(&format!("0x{r}{s}05")), None);
        assert_eq!(split_signature("0x1234"), None);
    }

    #[test]
    fn the_typed_data_names_the_permit_and_its_domain() {
        let domain = PermitDomain {
            name: "Coop Test DATA".into(),
            version: "1".into(),
            chain_id: 31337,
            verifying_contract: Address::repeat_byte(1),
        };
        let permit = Permit {
            owner: Address::repeat_byte(2),
            spender: Address::repeat_byte(3),
            value: U256::from(10).pow(U256::from(30)),
            nonce: U256::ZERO,
            deadline: U256::from(1_700_000_000u64),
        };
        let data = typed_data(&domain, &permit);
        assert_eq!(data["primaryType"], "Permit");
        assert_eq!(data["domain"]["chainId"], 31337);
        assert_eq!(data["message"]["value"], "1000000000000000000000000000000");
    }
}
