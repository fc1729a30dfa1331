//! Token amounts as people write them: decimal strings with a fixed number of decimals, converted to
//! and from integer wei with exact integer maths, and prices per period converted to per-second ones.
//!
//! # Invariants
//! - `parse_units(&format_units(a, d), d) == Ok(a)` for every `U256` `a` and `d <= 77`.
//! - `format_units` never rounds: every digit of `a` is written, trailing fractional zeros dropped.
//! - `per_second(p, period)` is `p / period.seconds()` rounded down; `per_period` multiplies back.

use alloy_primitives::U256;

/// DATA, like ETH, has 18 decimals.
pub const DATA_DECIMALS: u8 = 18;

/// Why a decimal string is not an amount.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    /// Nothing but blanks.
    #[error("enter an amount")]
    Empty,
    /// A character that is not a digit or one decimal point.
    #[error("{value:?} is not a number (digits and one decimal point)")]
    NotDecimal {
        /// The text as given, shortened if long.
        value: String,
    },
    /// More fractional digits than the token has decimals.
    #[error("at most {decimals} digits after the decimal point")]
    TooPrecise {
        /// The token's decimals.
        decimals: u8,
    },
    /// More than 2^256 - 1 wei.
    #[error("the amount is too large")]
    TooLarge,
}

/// Writes `amount` wei as a decimal number of tokens with `decimals` decimals, exactly: `1500000000000000000`
/// with 18 decimals is `"1.5"`, zero is `"0"`.
pub fn format_units(amount: U256, decimals: u8) -> String {
    let digits = amount.to_string();
    let decimals = usize::from(decimals);
    if decimals == 0 {
        return digits;
    }
    let padded =
        if digits.len() <= decimals { format!("{}{digits}", "0".repeat(decimals + 1 - digits.len())) } else { digits };
    let (whole, fraction) = padded.split_at(padded.len() - decimals);
    let fraction = fraction.trim_end_matches('0');
    if fraction.is_empty() { whole.to_owned() } else { format!("{whole}.{fraction}") }
}

/// Like [`format_units`] but rounded (half up) to at most `max_fraction` fractional digits, and marked
/// with a leading `≈` when it was rounded; for cards where space is short.
pub fn format_units_short(amount: U256, decimals: u8, max_fraction: u8) -> String {
    let Some(cut) = decimals.checked_sub(max_fraction).filter(|cut| *cut > 0) else {
        return format_units(amount, decimals);
    };
    let unit = U256::from(10u8).pow(U256::from(cut));
    let remainder = amount % unit;
    let down = amount - remainder;
    let rounded = if remainder >= unit - remainder { down.checked_add(unit).unwrap_or(down) } else { down };
    if rounded == amount { format_units(amount, decimals) } else { format!("≈{}", format_units(rounded, decimals)) }
}

/// Reads a decimal number of tokens (`"1.5"`, `"0.000001"`, `"12"`, `".5"`) as wei with `decimals`
/// decimals. Blanks around it are ignored; signs, exponents and separators are refused.
pub fn parse_units(text: &str, decimals: u8) -> Result<U256, AmountError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(AmountError::Empty);
    }
    let not_decimal = || AmountError::NotDecimal { value: text.chars().take(40).collect() };
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if (whole.is_empty() && fraction.is_empty())
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !fraction.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(not_decimal());
    }
    if fraction.len() > usize::from(decimals) {
        return Err(AmountError::TooPrecise { decimals });
    }
    let padded = format!("{whole}{fraction}{}", "0".repeat(usize::from(decimals) - fraction.len()));
    let padded = padded.trim_start_matches('0');
    if padded.is_empty() {
        return Ok(U256::ZERO);
    }
    U256::from_str_radix(padded, 10).map_err(|_| AmountError::TooLarge)
}

/// The periods a price may be given for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Period {
    Second,
    Hour,
    Day,
    Week,
    /// 30 days.
    Month,
}

impl Period {
    /// Every period, shortest first.
    pub const ALL: [Period; 5] = [Period::Second, Period::Hour, Period::Day, Period::Week, Period::Month];

    pub const fn seconds(self) -> u64 {
        match self {
            Period::Second => 1,
            Period::Hour => 3_600,
            Period::Day => 86_400,
            Period::Week => 604_800,
            Period::Month => 2_592_000,
        }
    }

    /// The name a form uses (`"day"`), and [`Period::from_name`] reads.
    pub const fn name(self) -> &'static str {
        match self {
            Period::Second => "second",
            Period::Hour => "hour",
            Period::Day => "day",
            Period::Week => "week",
            Period::Month => "month",
        }
    }

    pub fn from_name(name: &str) -> Option<Period> {
        Period::ALL.into_iter().find(|period| period.name() == name)
    }
}

/// The per-second price of `price` per `period`, rounded down to whole wei (the contract takes whole wei
/// per second, so a buyer never pays more than the price asked).
pub fn per_second(price: U256, period: Period) -> U256 {
    price / U256::from(period.seconds())
}

/// What `price_per_second` costs for a whole `period`; saturates at `U256::MAX`.
pub fn per_period(price_per_second: U256, period: Period) -> U256 {
    price_per_second.saturating_mul(U256::from(period.seconds()))
}

/// The price per `period` a seller most likely typed, recovered from the chain's price per second:
/// of all prices that [`per_second`] turns into `price_per_second` (one period's seconds of them),
/// the one with the most trailing zeros. "20 DATA per day" is stored as 231,481,481,481,481 wei per
/// second, which buyers pay as 19.9999999999999584 DATA a day; this gives the 20 back, so an
/// edit form shows what was entered and saving it again changes nothing.
pub fn entered_price(price_per_second: U256, period: Period) -> U256 {
    let seconds = U256::from(period.seconds());
    let lowest = price_per_second.saturating_mul(seconds);
    let highest = lowest.saturating_add(seconds - U256::from(1));
    let ten = U256::from(10);
    let mut roundest = lowest;
    let mut unit = ten;
    loop {
        let up = match lowest % unit {
            remainder if remainder.is_zero() => Some(lowest),
            remainder => lowest.checked_add(unit - remainder),
        };
        match up {
            Some(candidate) if candidate <= highest => roundest = candidate,
            _ => return roundest,
        }
        match unit.checked_mul(ten) {
            Some(next) => unit = next,
            None => return roundest,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ETHER: u128 = 1_000_000_000_000_000_000;

    #[test]
    fn amounts_are_formatted_exactly() {
        let cases: [(U256, u8, &str); 8] = [
            (U256::ZERO, 18, "0"),
            (U256::from(1u8), 18, "0.000000000000000001"),
            (U256::from(ETHER), 18, "1"),
            (U256::from(ETHER * 3 / 2), 18, "1.5"),
            (U256::from(123_456_789u64), 6, "123.456789"),
            (U256::from(1_000u64), 0, "1000"),
            (U256::from(10u8), 1, "1"),
            (U256::MAX, 18, "115792089237316195423570985008687907853269984665640564039457.584007913129639935"),
        ];
        for (amount, decimals, text) in cases {
            assert_eq!(format_units(amount, decimals), text, "{amount} with {decimals} decimals");
            assert_eq!(parse_units(text, decimals), Ok(amount), "{text} with {decimals} decimals");
        }
    }

    #[test]
    fn short_formatting_rounds_half_up_and_marks_what_it_rounded() {
        assert_eq!(format_units_short(U256::from(ETHER * 3 / 2), 18, 4), "1.5");
        assert_eq!(format_units_short(U256::from(57_870_370_370_370u64), 18, 4), "≈0.0001");
        assert_eq!(format_units_short(U256::from(40_000_000_000_000u64), 18, 4), "≈0");
        assert_eq!(format_units_short(U256::from(4_999_999_999_999_980_800u64), 18, 4), "≈5");
        assert_eq!(format_units_short(U256::from(1_230_000_000_000_000_001u64), 18, 4), "≈1.23");
        assert_eq!(format_units_short(U256::from(123u8), 2, 4), "1.23");
        assert_eq!(format_units_short(U256::MAX, 0, 4), U256::MAX.to_string());
    }

    #[test]
    fn decimal_text_is_parsed_or_refused_with_a_reason() {
        assert_eq!(parse_units(" 0.5 ", 18), Ok(U256::from(ETHER / 2)));
        assert_eq!(parse_units(".5", 18), Ok(U256::from(ETHER / 2)));
        assert_eq!(parse_units("2.", 18), Ok(U256::from(2 * ETHER)));
        assert_eq!(parse_units("000", 18), Ok(U256::ZERO));
        assert_eq!(parse_units("", 18), Err(AmountError::Empty));
        assert_eq!(parse_units("   ", 18), Err(AmountError::Empty));
        for bad in [".", "-1", "+1", "1e18", "1,5", "1.2.3", "abc", "1 000"] {
            assert!(matches!(parse_units(bad, 18), Err(AmountError::NotDecimal { .. })), "{bad}");
        }
        assert_eq!(parse_units("0.0000000000000000001", 18), Err(AmountError::TooPrecise { decimals: 18 }));
        assert_eq!(parse_units("1.5", 0), Err(AmountError::TooPrecise { decimals: 0 }));
        let too_large = format!("{}0", U256::MAX);
        assert_eq!(parse_units(&too_large, 0), Err(AmountError::TooLarge));
    }

    #[test]
    fn the_entered_price_comes_back_from_the_price_per_second() {
        let twenty = U256::from(20 * ETHER);
        let stored = per_second(twenty, Period::Day);
        assert_eq!(per_period(stored, Period::Day), U256::from(19_999_999_999_999_958_400u128));
        assert_eq!(entered_price(stored, Period::Day), twenty);
        for (typed, period) in [(5 * ETHER, Period::Day), (ETHER / 3, Period::Hour), (123_456_789, Period::Week)] {
            let stored = per_second(U256::from(typed), period);
            let back = entered_price(stored, period);
            assert_eq!(per_second(back, period), stored, "{typed} per {}", period.name());
            assert!(back.to_string().trim_end_matches('0').len() <= typed.to_string().trim_end_matches('0').len());
        }
        // 7 wei a second is any price from 4,233,600 to 4,838,399 wei a week: the roundest is shown.
        assert_eq!(entered_price(U256::from(7), Period::Week), U256::from(4_300_000u64));
        // Nothing overflows at the top.
        assert_eq!(entered_price(U256::MAX, Period::Month), U256::MAX);
        assert_eq!(entered_price(U256::ZERO, Period::Day), U256::ZERO);
    }

    #[test]
    fn prices_per_period_become_whole_wei_per_second_rounded_down() {
        assert_eq!(per_second(U256::from(86_400u64 * 7), Period::Day), U256::from(7));
        assert_eq!(per_second(U256::from(5 * ETHER), Period::Day), U256::from(57_870_370_370_370u64));
        assert_eq!(per_second(U256::from(3_599u64), Period::Hour), U256::ZERO);
        assert_eq!(per_period(U256::from(7), Period::Week), U256::from(7 * 604_800u64));
        assert_eq!(per_period(U256::MAX, Period::Month), U256::MAX);
        for period in Period::ALL {
            assert_eq!(Period::from_name(period.name()), Some(period));
        }
        assert_eq!(Period::from_name("year"), None);
    }

    #[test]
    fn every_amount_round_trips_through_text() {
        let limbs = [[0, 0, 0, 0], [1, 0, 0, 0], [u64::MAX, 7, 0, 0], [3, 0, 0, 1 << 63], [u64::MAX; 4]];
        for limbs in limbs {
            let amount = U256::from_limbs(limbs);
            for decimals in [0, 1, 6, 18, 77] {
                assert_eq!(parse_units(&format_units(amount, decimals), decimals), Ok(amount));
            }
        }
    }
}
