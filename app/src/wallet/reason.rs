//! Turns revert data into a reason a person can read: `Error(string)`, `Panic(uint256)`, or one of
//! Coop's contract errors, named in words ("product not found").

use alloy_sol_types::{Panic, Revert, SolError, SolInterface};
use coop::contracts::{DataToken, DataUnion, DataUnionFactory, Marketplace, UniswapAdapter};

/// The reason in `data`, or `None` when the data is empty or of no known error.
pub fn revert_reason(data: &[u8]) -> Option<String> {
    if data.len() < 4 {
        return None;
    }
    if let Ok(revert) = Revert::abi_decode(data) {
        return Some(revert.reason);
    }
    if let Ok(panic) = Panic::abi_decode(data) {
        return Some(match panic.kind() {
            Some(kind) => format!("the contract stopped: {kind}"),
            None => format!("the contract stopped with panic code {}", panic.code),
        });
    }
    let name = error_name::<DataUnion::DataUnionErrors>(data)
        .or_else(|| error_name::<Marketplace::MarketplaceErrors>(data))
        .or_else(|| error_name::<UniswapAdapter::UniswapAdapterErrors>(data))
        .or_else(|| error_name::<DataUnionFactory::DataUnionFactoryErrors>(data))
        .or_else(|| error_name::<DataToken::DataTokenErrors>(data))?;
    Some(words(&name))
}

/// The variant's name, from its `Debug` form (`ProductNotFound(ProductNotFound { .. })`).
fn error_name<E: SolInterface + std::fmt::Debug>(data: &[u8]) -> Option<String> {
    let error = E::abi_decode(data).ok()?;
    let debug = format!("{error:?}");
    Some(debug.split(['(', ' ', '{']).next().unwrap_or_default().to_owned())
}

/// `ProductNotFound` → `product not found`; `ERC20InsufficientBalance` → `ERC20 insufficient balance`.
fn words(name: &str) -> String {
    let mut out = String::new();
    let chars: Vec<char> = name.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
        let prev_lower = i > 0 && chars[i - 1].is_lowercase();
        if i > 0 && c.is_uppercase() && (prev_lower || next_lower) {
            out.push(' ');
        }
        out.push(c);
    }
    out.split(' ')
        .map(|word| if word.chars().skip(1).any(char::is_uppercase) { word.to_owned() } else { word.to_lowercase() })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::U256;

    #[test]
    fn a_require_message_is_read_as_is() {
        let data = Revert::from("not enough DATA").abi_encode();
        assert_eq!(revert_reason(&data).as_deref(), Some("not enough DATA"));
    }

    #[test]
    fn an_arithmetic_panic_is_named() {
        let data = Panic { code: U256::from(0x11) }.abi_encode();
        assert!(revert_reason(&data).unwrap().contains("overflow"));
    }

    #[test]
    fn a_coop_contract_error_is_named_in_words() {
        let data = Marketplace::ProductNotFound { productId: Default::default() }.abi_encode();
        assert_eq!(revert_reason(&data).as_deref(), Some("product not found"));
    }

    #[test]
    fn names_with_acronyms_keep_them() {
        assert_eq!(words("ERC20InsufficientBalance"), "ERC20 insufficient balance");
        assert_eq!(words("NotOperator"), "not operator");
    }

    #[test]
    fn unknown_or_empty_data_has_no_reason() {
        assert_eq!(revert_reason(&[]), None);
        assert_eq!(revert_reason(&[1, 2, 3, 4, 5]), None);
    }
}
