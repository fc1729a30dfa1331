//! EIP-712 typed data as `eth_signTypedData_v4` takes it: one domain shape for every signature the
//! pages ask for (a DATA permit, a relayed withdrawal), and numbers as decimal strings.

use alloy_primitives::Address;
use serde_json::{Map, Value, json};

/// Who checks the signature: the contract's name and version, its chain and its address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Domain<'a> {
    pub name: &'a str,
    pub version: &'a str,
    pub chain_id: u64,
    pub verifying_contract: Address,
}

/// The typed data of a `primary` struct with `fields` (name, Solidity type) in order, and the
/// `message` giving each field's value.
pub fn typed_data(domain: Domain<'_>, primary: &str, fields: &[(&str, &str)], message: Value) -> Value {
    let fields: Vec<Value> = fields.iter().map(|(name, kind)| json!({ "name": name, "type": kind })).collect();
    let mut types = Map::new();
    types.insert(
        "EIP712Domain".to_owned(),
        json!([
            { "name": "name", "type": "string" },
            { "name": "version", "type": "string" },
            { "name": "chainId", "type": "uint256" },
            { "name": "verifyingContract", "type": "address" },
        ]),
    );
    types.insert(primary.to_owned(), Value::Array(fields));
    json!({
        "types": types,
        "primaryType": primary,
        "domain": {
            "name": domain.name,
            "version": domain.version,
            "chainId": domain.chain_id,
            "verifyingContract": domain.verifying_contract.to_checksum(None),
        },
        "message": message,
    })
}
