//! The arithmetic of a checkout, exact in wei: how long, what it costs with slippage, how far the trade
//! moves the pools, until when the offer stands, and whether the buyer can pay for it and the network fee.
//!
//! Everything is integer math on `U256` (basis points for percentages), so a maximum shown on the page
//! is the very number the transaction carries. The 2020 original added a float 5 % margin and a one-day
//! deadline; here the slippage is the buyer's (default 0.5 %) and the deadline 20 minutes.

use alloy_primitives::ruint::UintTryFrom;
use alloy_primitives::{U256, U512};
use coop::amount::{Period, format_units, format_units_short, parse_units};
use serde::{Deserialize, Serialize};

/// 1 basis point is 0.01 %.
pub const BPS: u64 = 10_000;
pub const DEFAULT_SLIPPAGE: &str = "0.5";
/// More than this is no longer slippage but a blank cheque.
pub const MAX_SLIPPAGE_BPS: u64 = 5_000;
pub const DEFAULT_DEADLINE_MINUTES: &str = "20";
pub const MAX_DEADLINE_MINUTES: u64 = 180;
/// From 3 % on, the page warns that the trade moves the price noticeably (as Uniswap's own interface).
pub const HIGH_IMPACT_BPS: u64 = 300;
/// Uniswap V2 takes 0.3 % of the input at each hop.
const FEE_NUMERATOR: u64 = 997;
const FEE_DENOMINATOR: u64 = 1_000;
/// The periods a buyer counts in.
pub const PERIODS: [Period; 4] = [Period::Hour, Period::Day, Period::Week, Period::Month];

/// What the buyer pays with. Every one has 18 decimals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum Currency {
    #[serde(rename = "DATA")]
    Data,
    #[serde(rename = "ETH")]
    Eth,
    #[serde(rename = "DAI")]
    Dai,
}

impl Currency {
    pub const ALL: [Currency; 3] = [Currency::Eth, Currency::Dai, Currency::Data];
    pub const DECIMALS: u8 = 18;

    pub const fn symbol(self) -> &'static str {
        match self {
            Currency::Data => "DATA",
            Currency::Eth => "ETH",
            Currency::Dai => "DAI",
        }
    }

    pub fn from_symbol(symbol: &str) -> Option<Currency> {
        Currency::ALL.into_iter().find(|currency| currency.symbol() == symbol)
    }

    /// An amount of this currency for the page: exact up to 6 decimals, `~` when rounded.
    pub fn show(self, amount: U256) -> String {
        format!("{} {}", format_units_short(amount, Self::DECIMALS, 6), self.symbol())
    }

    /// To the wei, for the amounts a transaction carries (the maximum).
    pub fn show_exact(self, amount: U256) -> String {
        format!("{} {}", format_units(amount, Self::DECIMALS), self.symbol())
    }
}

/// A form field the buyer got wrong, and why, in words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
}

fn field_error(field: &'static str, message: impl Into<String>) -> FieldError {
    FieldError { field, message: message.into() }
}

/// How many periods: a whole number from 1.
pub fn parse_count(text: &str) -> Result<u64, FieldError> {
    let text = text.trim();
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(field_error("period", "enter a whole number of periods, such as 3"));
    }
    match text.parse::<u64>() {
        Ok(0) => Err(field_error("period", "buy at least one period")),
        Ok(count) if count <= 1_000_000 => Ok(count),
        _ => Err(field_error("period", "that is more than a million periods")),
    }
}

/// The subscription length in seconds, checked against the product's minimum. A running subscription
/// extends by any length; a new one (or one that ended) needs at least the minimum, as the Marketplace says.
pub fn subscription_seconds(count: u64, period: Period, minimum: U256, running: bool) -> Result<U256, FieldError> {
    let seconds = U256::from(count) * U256::from(period.seconds());
    if !running && seconds < minimum {
        return Err(field_error(
            "period",
            format!("this product sells at least {}; choose a longer period", describe_seconds(minimum)),
        ));
    }
    Ok(seconds)
}

/// `"1 day"`, `"3 weeks"`, or `"5400 seconds"` when no period divides it.
pub fn describe_seconds(seconds: U256) -> String {
    for period in PERIODS.iter().rev() {
        let length = U256::from(period.seconds());
        if !seconds.is_zero() && (seconds % length).is_zero() {
            let count = seconds / length;
            let plural = if count == U256::from(1) { "" } else { "s" };
            return format!("{count} {}{plural}", period.name());
        }
    }
    format!("{seconds} seconds")
}

/// The period a form starts with: the product's minimum in the longest period that divides it
/// (1 day for a product without a minimum).
pub fn default_period(minimum: U256) -> (u64, Period) {
    if minimum.is_zero() {
        return (1, Period::Day);
    }
    for period in PERIODS.iter().rev() {
        let length = U256::from(period.seconds());
        if (minimum % length).is_zero() {
            return (u64::try_from(minimum / length).unwrap_or(1), *period);
        }
    }
    // An odd number of seconds: enough whole hours to cover it.
    let hours = minimum.div_ceil(U256::from(Period::Hour.seconds()));
    (u64::try_from(hours).unwrap_or(1), Period::Hour)
}

/// Slippage as a percentage with up to two decimals (`"0.5"`) in basis points.
pub fn parse_slippage(text: &str) -> Result<u64, FieldError> {
    let invalid = || field_error("slippage", "enter a percentage such as 0.5 (up to two decimals)");
    let bps = parse_units(text.trim().trim_end_matches('%').trim(), 2).map_err(|_| invalid())?;
    let bps = u64::try_from(bps).map_err(|_| invalid())?;
    if bps > MAX_SLIPPAGE_BPS {
        return Err(field_error("slippage", format!("at most {} %", MAX_SLIPPAGE_BPS / 100)));
    }
    Ok(bps)
}

/// Minutes the offer stands, from 1 to [`MAX_DEADLINE_MINUTES`].
pub fn parse_deadline_minutes(text: &str) -> Result<u64, FieldError> {
    match text.trim().parse::<u64>() {
        Ok(minutes) if (1..=MAX_DEADLINE_MINUTES).contains(&minutes) => Ok(minutes),
        _ => Err(field_error("deadline", format!("enter whole minutes from 1 to {MAX_DEADLINE_MINUTES}"))),
    }
}

/// `"0.5 %"` from 50 basis points.
pub fn show_bps(bps: u64) -> String {
    let fraction = bps % 100;
    if fraction == 0 {
        format!("{} %", bps / 100)
    } else {
        format!("{}.{} %", bps / 100, format!("{fraction:02}").trim_end_matches('0'))
    }
}

/// The most the buyer lets the swap take: the quote plus `slippage_bps`, rounded down, so the bound is
/// never looser than what was agreed. The quote itself is never cut.
pub fn maximum_in(amount_in: U256, slippage_bps: u64) -> U256 {
    let scaled = U512::from(amount_in) * U512::from(BPS + slippage_bps) / U512::from(BPS);
    U256::uint_try_from(scaled).unwrap_or(U256::MAX)
}

/// One Uniswap V2 hop's reserves, in the direction of the swap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hop {
    pub reserve_in: U256,
    pub reserve_out: U256,
}

/// How much worse than the pools' mid price this exact-output trade is, in basis points, not counting
/// the pools' 0.3 % fee (the measure Uniswap's interface shows). `None` without pools (DATA).
pub fn price_impact_bps(amount_in: U256, amount_out: U256, hops: &[Hop]) -> Option<u64> {
    if hops.is_empty() || amount_in.is_zero() {
        return None;
    }
    // mid_out = amount_in * (997/1000)^h * Π(reserve_out / reserve_in): the output at the mid price.
    let mut numerator = U512::from(amount_in);
    let mut denominator = U512::from(1u8);
    for hop in hops {
        if hop.reserve_in.is_zero() || hop.reserve_out.is_zero() {
            return None;
        }
        numerator = numerator * U512::from(FEE_NUMERATOR) * U512::from(hop.reserve_out);
        denominator = denominator * U512::from(FEE_DENOMINATOR) * U512::from(hop.reserve_in);
    }
    let actual = U512::from(amount_out) * denominator;
    if actual >= numerator {
        return Some(0);
    }
    let bps = (numerator - actual) * U512::from(BPS) / numerator;
    u64::try_from(bps).ok()
}

/// The deadline the transaction carries: `minutes` after the later of the chain's latest block time and
/// the buyer's clock (a quiet dev chain's last block may be hours old).
pub fn deadline(block_timestamp: u64, clock: u64, minutes: u64) -> u64 {
    block_timestamp.max(clock) + minutes * 60
}

/// Where the subscription will end: a running one is extended from its end, otherwise it starts now.
pub fn expected_end(current_end: U256, now: u64, seconds: U256) -> U256 {
    current_end.max(U256::from(now)).saturating_add(seconds)
}

/// Gas units, never to be mixed up with wei (the 2020 original did).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gas(pub u64);

/// Gas limits to reserve ETH for: the measured figures of docs/contracts.md with a third more headroom.
pub const GAS_BUY_WITH_ETH: Gas = Gas(250_000);
pub const GAS_BUY_WITH_DAI: Gas = Gas(420_000);
pub const GAS_APPROVE: Gas = Gas(65_000);
pub const GAS_BUY_WITH_PERMIT: Gas = Gas(200_000);

/// The network fee of `steps` at `gas_price` wei per gas unit.
pub fn network_fee(steps: &[Gas], gas_price: U256) -> U256 {
    let units: u64 = steps.iter().map(|gas| gas.0).sum();
    U256::from(units).saturating_mul(gas_price)
}

/// What the buyer holds, read at the quote's block.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Funds {
    /// ETH wei.
    pub eth: U256,
    /// Wei of the currency paid with (ETH again for ETH).
    pub token: U256,
    /// What the adapter may already take of the currency (DAI; DATA with an earlier approve).
    pub allowance: U256,
}

/// The steps and the money of one purchase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// What the buyer pays at most, in the currency.
    pub maximum: U256,
    /// DAI only: an `approve` of `maximum` goes first.
    pub approve: bool,
    /// ETH the network fee may take.
    pub fee: U256,
    /// Why the buyer cannot pay, said before anything is signed.
    pub shortfall: Option<String>,
}

/// The plan for paying `amount_in` of `currency` with `slippage_bps`, given the buyer's `funds`.
pub fn plan(currency: Currency, amount_in: U256, slippage_bps: u64, gas_price: U256, funds: &Funds) -> Plan {
    // DATA is taken at the price itself, with a permit for exactly that: nothing can slip.
    let maximum = if currency == Currency::Data { amount_in } else { maximum_in(amount_in, slippage_bps) };
    let approve = currency == Currency::Dai && funds.allowance < maximum;
    let steps: &[Gas] = match (currency, approve) {
        (Currency::Eth, _) => &[GAS_BUY_WITH_ETH],
        (Currency::Dai, true) => &[GAS_APPROVE, GAS_BUY_WITH_DAI],
        (Currency::Dai, false) => &[GAS_BUY_WITH_DAI],
        (Currency::Data, _) => &[GAS_BUY_WITH_PERMIT],
    };
    let fee = network_fee(steps, gas_price);
    let eth = Currency::Eth;
    let shortfall = if currency == Currency::Eth {
        let need = maximum.saturating_add(fee);
        (funds.eth < need).then(|| {
            format!(
                "Not enough ETH: you have {}, and this needs up to {} (at most {} for the purchase and about {} \
                 for the network fee).",
                eth.show(funds.eth),
                eth.show(need),
                eth.show(maximum),
                eth.show(fee)
            )
        })
    } else if funds.token < maximum {
        Some(format!(
            "Not enough {}: you have {}, and this needs up to {}.",
            currency.symbol(),
            currency.show(funds.token),
            currency.show(maximum)
        ))
    } else if funds.eth < fee {
        Some(format!(
            "Not enough ETH for the network fee: you have {}, and the fee may be up to {}.",
            eth.show(funds.eth),
            eth.show(fee)
        ))
    } else {
        None
    };
    Plan { maximum, approve, fee, shortfall }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ETHER: u128 = 1_000_000_000_000_000_000;

    fn wei(value: u128) -> U256 {
        U256::from(value)
    }

    #[test]
    fn slippage_is_read_in_basis_points_exactly() {
        assert_eq!(parse_slippage("0.5"), Ok(50));
        assert_eq!(parse_slippage(" 1 % "), Ok(100));
        assert_eq!(parse_slippage("0.05"), Ok(5));
        assert_eq!(parse_slippage("0"), Ok(0));
        assert_eq!(parse_slippage("50"), Ok(5_000));
        for bad in ["", "-1", "0.001", "abc", "1e2", "50.01"] {
            assert_eq!(parse_slippage(bad).unwrap_err().field, "slippage", "{bad:?}");
        }
        assert_eq!(show_bps(50), "0.5 %");
        assert_eq!(show_bps(5), "0.05 %");
        assert_eq!(show_bps(300), "3 %");
    }

    #[test]
    fn the_maximum_adds_the_slippage_and_rounds_down() {
        assert_eq!(maximum_in(wei(10_000), 50), wei(10_050));
        // 199 * 1.005 = 199.995: the bound stays at 199, never above what was agreed.
        assert_eq!(maximum_in(wei(199), 50), wei(199));
        assert_eq!(maximum_in(wei(ETHER), 0), wei(ETHER));
        assert_eq!(maximum_in(U256::MAX, 50), U256::MAX);
        assert_eq!(maximum_in(wei(3 * ETHER), 100), wei(303 * ETHER / 100));
    }

    #[test]
    fn the_deadline_counts_from_the_later_clock() {
        assert_eq!(deadline(1_000, 900, 20), 2_200);
        assert_eq!(deadline(1_000, 5_000, 20), 6_200);
        assert_eq!(parse_deadline_minutes("20"), Ok(20));
        for bad in ["0", "", "181", "1.5", "-3"] {
            assert_eq!(parse_deadline_minutes(bad).unwrap_err().field, "deadline", "{bad:?}");
        }
    }

    #[test]
    fn periods_respect_the_minimum_unless_extending() {
        let day = U256::from(86_400);
        assert_eq!(subscription_seconds(2, Period::Day, day, false), Ok(wei(172_800)));
        assert!(subscription_seconds(3, Period::Hour, day, false).is_err());
        assert_eq!(subscription_seconds(3, Period::Hour, day, true), Ok(wei(10_800)));
        assert_eq!(parse_count("3"), Ok(3));
        for bad in ["0", "", "1.5", "x", "-2", "99999999999"] {
            assert!(parse_count(bad).is_err(), "{bad:?}");
        }
        assert_eq!(default_period(day), (1, Period::Day));
        assert_eq!(default_period(wei(14 * 86_400)), (2, Period::Week));
        assert_eq!(default_period(wei(5_400)), (2, Period::Hour));
        assert_eq!(default_period(U256::ZERO), (1, Period::Day));
        assert_eq!(describe_seconds(wei(7_200)), "2 hours");
        assert_eq!(describe_seconds(day), "1 day");
    }

    #[test]
    fn price_impact_matches_uniswap_without_the_fee() {
        // 100 ETH : 100,000 DATA. Buying 1,000 DATA: getAmountIn = 100*1000*1000 / (99,000*997) + 1.
        let hop = Hop { reserve_in: wei(100 * ETHER), reserve_out: wei(100_000 * ETHER) };
        let out = wei(1_000 * ETHER);
        let amount_in = hop.reserve_in * out * wei(1000) / ((hop.reserve_out - out) * wei(997)) + wei(1);
        // The output at the mid price of what was paid (after the fee) is 1,010.1 DATA: 1 % impact.
        assert_eq!(price_impact_bps(amount_in, out, &[hop]), Some(100));
        // A tiny trade barely moves the pool.
        let small = wei(ETHER);
        let small_in = hop.reserve_in * small * wei(1000) / ((hop.reserve_out - small) * wei(997)) + wei(1);
        assert_eq!(price_impact_bps(small_in, small, &[hop]), Some(0));
        assert_eq!(price_impact_bps(amount_in, out, &[]), None);
    }

    #[test]
    fn funds_are_checked_with_the_network_fee_in_eth() {
        let gwei = wei(1_000_000_000);
        let funds = Funds { eth: wei(ETHER), token: wei(10 * ETHER), allowance: U256::ZERO };
        let dai = plan(Currency::Dai, wei(3 * ETHER), 50, gwei, &funds);
        assert_eq!(dai.maximum, wei(3_015 * ETHER / 1000));
        assert!(dai.approve);
        assert_eq!(dai.fee, wei(485_000) * gwei);
        assert_eq!(dai.shortfall, None);

        let approved = Funds { allowance: wei(4 * ETHER), ..funds.clone() };
        assert!(!plan(Currency::Dai, wei(3 * ETHER), 50, gwei, &approved).approve);

        let poor = plan(Currency::Dai, wei(20 * ETHER), 50, gwei, &funds);
        assert!(poor.shortfall.unwrap().starts_with("Not enough DAI"));

        // ETH pays the purchase and the fee from one balance: 1 ETH is not enough for 0.9999 ETH + fee.
        let eth = plan(Currency::Eth, wei(ETHER - ETHER / 10_000), 0, gwei, &funds);
        assert!(eth.shortfall.unwrap().starts_with("Not enough ETH:"));

        let no_gas = Funds { eth: wei(1_000), ..funds };
        let data = plan(Currency::Data, wei(ETHER), 50, gwei, &no_gas);
        assert_eq!(data.maximum, wei(ETHER), "DATA pays the price, no slippage");
        assert!(data.shortfall.unwrap().starts_with("Not enough ETH for the network fee"));
    }

    #[test]
    fn a_running_subscription_extends_from_its_end() {
        assert_eq!(expected_end(wei(5_000), 1_000, wei(100)), wei(5_100));
        assert_eq!(expected_end(wei(500), 1_000, wei(100)), wei(1_100));
    }
}
