//! Values at the edges: addresses and wei amounts as people and files write them.
//!
//! Inside the core money is `U256`; it is text only here. An amount is a decimal string of wei: digits
//! only, no sign, no fraction, no exponent, no separators. An address is `0x` and 40 hex digits; when it
//! mixes upper and lower case, the case must be a valid EIP-55 checksum.
//!
//! # Invariants
//! - `parse_amount(&a.to_string()) == Ok(a)` for every `U256` `a`.
//! - `parse_address(&a.to_checksum(None)) == Ok(a)` and the same for the lowercase form.

use alloy_primitives::{Address, U256};

/// Why a piece of text is not an address or an amount.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    /// Not `0x` followed by 40 hex digits.
    #[error("{value:?} is not an address (0x and 40 hex digits)")]
    AddressFormat {
        /// The text, shortened if long.
        value: String,
    },
    /// Mixed case whose EIP-55 checksum is wrong (a typo is likely).
    #[error("address {value} has mixed case but a wrong EIP-55 checksum")]
    AddressChecksum {
        /// The text as given.
        value: String,
    },
    /// An empty amount.
    #[error("the amount is empty")]
    AmountEmpty,
    /// A minus sign.
    #[error("amount {value:?} is negative")]
    AmountNegative {
        /// The text, shortened if long.
        value: String,
    },
    /// A decimal point or an exponent.
    #[error("amount {value:?} is not a whole number of wei in plain digits")]
    AmountNotInteger {
        /// The text, shortened if long.
        value: String,
    },
    /// Anything else that is not a digit.
    #[error("amount {value:?} is not a decimal number")]
    AmountNotDecimal {
        /// The text, shortened if long.
        value: String,
    },
    /// More than 2^256 - 1.
    #[error("amount {value:?} does not fit in 256 bits")]
    AmountTooLarge {
        /// The text, shortened if long.
        value: String,
    },
}

/// Parses an address written as `0x` and 40 hex digits, checking the EIP-55 checksum when the case is mixed.
pub fn parse_address(text: &str) -> Result<Address, TextError> {
    let hex = text.strip_prefix("0x").filter(|hex| hex.len() == 40 && hex.bytes().all(|b| b.is_ascii_hexdigit()));
    let Some(hex) = hex else {
        return Err(TextError::AddressFormat { value: shorten(text) });
    };
    let has_lower = hex.bytes().any(|b| b.is_ascii_lowercase());
    let has_upper = hex.bytes().any(|b| b.is_ascii_uppercase());
    if has_lower && has_upper {
        return Address::parse_checksummed(text, None)
            .map_err(|_| TextError::AddressChecksum { value: text.to_owned() });
    }
    text.parse().map_err(|_| TextError::AddressFormat { value: shorten(text) })
}

/// Parses a decimal amount of wei (digits only; leading zeros are allowed).
pub fn parse_amount(text: &str) -> Result<U256, TextError> {
    if text.is_empty() {
        return Err(TextError::AmountEmpty);
    }
    if text.bytes().all(|b| b.is_ascii_digit()) {
        return U256::from_str_radix(text, 10).map_err(|_| TextError::AmountTooLarge { value: shorten(text) });
    }
    let value = shorten(text);
    let numeric = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit() || b"+-.eE".contains(&b));
    if text.starts_with('-') && numeric(&text[1..]) {
        Err(TextError::AmountNegative { value })
    } else if numeric(text) && text.bytes().any(|b| b"eE.".contains(&b)) {
        Err(TextError::AmountNotInteger { value })
    } else {
        Err(TextError::AmountNotDecimal { value })
    }
}

/// Lowercase `0x` hex of an address, the form used in canonical JSON.
pub fn lowercase_address(address: &Address) -> String {
    format!("{address:#x}")
}

/// Keeps error messages short when the input is long.
fn shorten(text: &str) -> String {
    const MAX: usize = 80;
    match text.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text.to_owned(),
    }
}

/// `2026-11-25 18:40 UTC` for seconds since the epoch.
pub fn utc(seconds: u64) -> String {
    let days = (seconds / 86_400) as i64;
    let (hour, minute) = ((seconds % 86_400) / 3600, (seconds % 3600) / 60);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!("{year}-{month:02}-{day:02} {hour:02}:{minute:02} UTC")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const CHECKSUMMED: &str = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed";

    #[test]
    fn a_checksummed_lowercase_or_uppercase_address_parses_to_the_same_value() {
        let expected = parse_address(CHECKSUMMED).unwrap();
        assert_eq!(parse_address(&CHECKSUMMED.to_lowercase()), Ok(expected));
        assert_eq!(parse_address(&format!("0x{}", CHECKSUMMED[2..].to_uppercase())), Ok(expected));
    }

    #[test]
    fn a_mixed_case_address_with_a_wrong_checksum_is_refused() {
        let wrong = CHECKSUMMED.replace("aA", "Aa");
        assert!(matches!(parse_address(&wrong), Err(TextError::AddressChecksum { .. })));
    }

    #[test]
    fn malformed_addresses_are_refused() {
        for text in [
            "",
            "0x",
            "5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
            "0x123",
            &format!("{CHECKSUMMED}00"),
            "0xzzaeb6053f3e94c9b9a09f33669435e7ef1beaed",
        ] {
            assert!(matches!(parse_address(text), Err(TextError::AddressFormat { .. })), "{text}");
        }
    }

    #[test]
    fn amounts_that_are_not_plain_non_negative_integers_are_refused_with_the_reason() {
        assert_eq!(parse_amount(""), Err(TextError::AmountEmpty));
        assert!(matches!(parse_amount("-5"), Err(TextError::AmountNegative { .. })));
        assert!(matches!(parse_amount("1.5"), Err(TextError::AmountNotInteger { .. })));
        assert!(matches!(parse_amount("1e18"), Err(TextError::AmountNotInteger { .. })));
        assert!(matches!(parse_amount("0x10"), Err(TextError::AmountNotDecimal { .. })));
        assert!(matches!(parse_amount(" 1"), Err(TextError::AmountNotDecimal { .. })));
        assert!(matches!(parse_amount("1_000"), Err(TextError::AmountNotDecimal { .. })));
        let too_large = format!("{}0", U256::MAX);
        assert!(matches!(parse_amount(&too_large), Err(TextError::AmountTooLarge { .. })));
    }

    #[test]
    fn the_largest_amount_and_leading_zeros_parse() {
        assert_eq!(parse_amount(&U256::MAX.to_string()), Ok(U256::MAX));
        assert_eq!(parse_amount("007"), Ok(U256::from(7)));
    }

    #[test]
    fn long_input_is_shortened_in_messages() {
        let long = "x".repeat(1000);
        let message = parse_amount(&long).unwrap_err().to_string();
        assert!(message.len() < 200, "{message}");
    }

    proptest! {
        #[test]
        fn every_amount_round_trips_through_its_decimal_text(limbs in any::<[u64; 4]>()) {
            let amount = U256::from_limbs(limbs);
            prop_assert_eq!(parse_amount(&amount.to_string()), Ok(amount));
        }

        #[test]
        fn every_address_round_trips_through_checksummed_and_lowercase_text(bytes in any::<[u8; 20]>()) {
            let address = Address::from(bytes);
            prop_assert_eq!(parse_address(&address.to_checksum(None)), Ok(address));
            prop_assert_eq!(parse_address(&lowercase_address(&address)), Ok(address));
        }
    }
}
