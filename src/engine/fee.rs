//! The admin fee: the owner's share of each revenue, as a fraction scaled by 1e18.
//!
//! # Invariants
//! - An `AdminFee` is always in `0..=1e18` (0 % to 100 %); nothing else can be built.
//! - `fee.fee_on(amount) == floor(amount * fee / 1e18)` exactly, for every `U256` amount (no overflow,
//!   no intermediate rounding), so `fee.fee_on(amount) <= amount`.

use std::{fmt, str::FromStr};

use alloy_primitives::U256;

use crate::amount::{AmountError, format_units, parse_units};
use crate::text::{TextError, parse_amount};

/// 1e18: the fee that takes all of a revenue.
pub const FEE_SCALE: U256 = U256::from_limbs([1_000_000_000_000_000_000, 0, 0, 0]);

/// Why a value is not an admin fee.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AdminFeeError {
    /// Above 1e18 (more than 100 %).
    #[error("admin fee {value} is above 1e18 (100 %)")]
    AboveOne {
        /// The refused value.
        value: U256,
    },
    /// A percentage above 100.
    #[error("admin fee: at most 100 %")]
    PercentAboveHundred,
    /// Not a decimal integer.
    #[error("admin fee: {0}")]
    Text(#[from] TextError),
    /// Not a percentage (digits, at most one point, at most 16 decimals).
    #[error("admin fee: {0}")]
    Percent(#[from] AmountError),
}

/// 1 % of [`FEE_SCALE`]: a percentage is a decimal with 16 decimals.
const PERCENT_DECIMALS: u8 = 16;

/// A fraction of revenue in `0..=1e18`, where 1e18 is 100 %. Built by `TryFrom<U256>` or `parse`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct AdminFee(U256);

impl AdminFee {
    /// No fee.
    pub const ZERO: AdminFee = AdminFee(U256::ZERO);
    /// The whole revenue.
    pub const ALL: AdminFee = AdminFee(FEE_SCALE);

    /// The fraction scaled by 1e18.
    pub fn value(self) -> U256 {
        self.0
    }

    /// A percentage as people write it (`"12.5"`), exact to its 16th decimal: the one reading of
    /// percent for the editor, the owner's form and anything else that takes one.
    pub fn from_percent(text: &str) -> Result<AdminFee, AdminFeeError> {
        AdminFee::try_from(parse_units(text, PERCENT_DECIMALS)?).map_err(|_| AdminFeeError::PercentAboveHundred)
    }

    /// The percentage as an exact decimal without trailing zeros (`"12.5"`); [`AdminFee::from_percent`]
    /// reads it back to the same fee.
    pub fn percent(self) -> String {
        format_units(self.0, PERCENT_DECIMALS)
    }

    /// `floor(amount * fee / 1e18)`, exact for any amount.
    pub fn fee_on(self, amount: U256) -> U256 {
        // amount = q * 1e18 + r, so amount * fee / 1e18 = q * fee + r * fee / 1e18, where r * fee < 1e36.
        let (q, r) = amount.div_rem(FEE_SCALE);
        q * self.0 + r * self.0 / FEE_SCALE
    }
}

impl TryFrom<U256> for AdminFee {
    type Error = AdminFeeError;

    fn try_from(value: U256) -> Result<Self, Self::Error> {
        if value > FEE_SCALE { Err(AdminFeeError::AboveOne { value }) } else { Ok(AdminFee(value)) }
    }
}

impl FromStr for AdminFee {
    type Err = AdminFeeError;

    /// Parses the decimal integer form, for example `"300000000000000000"` for 30 %.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        AdminFee::try_from(parse_amount(text)?)
    }
}

impl fmt::Display for AdminFee {
    /// The decimal integer form, scaled by 1e18.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::aliases::U512;
    use proptest::prelude::*;

    fn fee(text: &str) -> AdminFee {
        text.parse().unwrap()
    }

    #[test]
    fn a_fee_rounds_down_to_the_wei() {
        let thirty_percent = fee("300000000000000000");
        assert_eq!(thirty_percent.fee_on(U256::from(1000)), U256::from(300));
        assert_eq!(thirty_percent.fee_on(U256::from(9)), U256::from(2));
        assert_eq!(thirty_percent.fee_on(U256::from(3)), U256::ZERO);
        assert_eq!(fee("1").fee_on(U256::from(999_999_999_999_999_999u64)), U256::ZERO);
        assert_eq!(fee("1").fee_on(FEE_SCALE), U256::from(1));
    }

    #[test]
    fn a_percentage_is_read_and_written_exactly() {
        assert_eq!(AdminFee::from_percent("12.5").unwrap(), fee("125000000000000000"));
        assert_eq!(AdminFee::from_percent(" 100 ").unwrap(), AdminFee::ALL);
        assert_eq!(fee("125000000000000000").percent(), "12.5");
        assert_eq!(fee("1").percent(), "0.0000000000000001");
        assert_eq!((AdminFee::ZERO.percent(), AdminFee::ALL.percent()), ("0".to_owned(), "100".to_owned()));
        assert!(matches!(AdminFee::from_percent("100.1"), Err(AdminFeeError::PercentAboveHundred)));
        for bad in ["", "ten", "-1", "1.00000000000000001"] {
            assert!(matches!(AdminFee::from_percent(bad), Err(AdminFeeError::Percent(_))), "{bad:?}");
        }
    }

    proptest! {
        #[test]
        fn every_fee_reads_back_from_its_percentage(value in 0u128..=1_000_000_000_000_000_000) {
            let fee = AdminFee::try_from(U256::from(value)).unwrap();
            prop_assert_eq!(AdminFee::from_percent(&fee.percent()).unwrap(), fee);
        }
    }

    #[test]
    fn zero_and_all_are_the_bounds() {
        assert_eq!(AdminFee::ZERO.fee_on(U256::MAX), U256::ZERO);
        assert_eq!(AdminFee::ALL.fee_on(U256::MAX), U256::MAX);
        assert_eq!(AdminFee::try_from(FEE_SCALE), Ok(AdminFee::ALL));
    }

    #[test]
    fn a_fee_above_one_hundred_percent_is_refused() {
        let above = FEE_SCALE + U256::from(1);
        assert_eq!(AdminFee::try_from(above), Err(AdminFeeError::AboveOne { value: above }));
        assert!(matches!("2000000000000000000".parse::<AdminFee>(), Err(AdminFeeError::AboveOne { .. })));
        assert!(matches!("0.3".parse::<AdminFee>(), Err(AdminFeeError::Text(TextError::AmountNotInteger { .. }))));
    }

    proptest! {
        #[test]
        fn the_fee_equals_the_exact_512_bit_floor(limbs in any::<[u64; 4]>(), fraction in 0u64..=1_000_000_000_000_000_000) {
            let amount = U256::from_limbs(limbs);
            let admin_fee = AdminFee::try_from(U256::from(fraction)).unwrap();
            let exact = U512::from(amount) * U512::from(fraction) / U512::from(FEE_SCALE);
            prop_assert_eq!(U512::from(admin_fee.fee_on(amount)), exact);
            prop_assert!(admin_fee.fee_on(amount) <= amount);
        }
    }
}
