//! How the Data Union pages write amounts and times.

use alloy_primitives::U256;
use coop::amount::{DATA_DECIMALS, format_units, format_units_short};

/// Every wei of it: member figures are shown exactly, so what a member sees is what it withdraws.
pub fn data_exact(amount: U256) -> String {
    format!("{} DATA", format_units(amount, DATA_DECIMALS))
}

/// Short enough for a tile (`"~12.3456 DATA"`).
pub fn data_short(amount: U256) -> String {
    format!("{} DATA", format_units_short(amount, DATA_DECIMALS, 4))
}

/// DATA as a float, for chart positions only.
pub fn data_float(amount: U256) -> f64 {
    f64::from(amount) / 10f64.powi(DATA_DECIMALS as i32)
}

/// A chart axis label in DATA.
pub fn data_axis(value: f64) -> String {
    if value >= 1000.0 { format!("{:.0}k", value / 1000.0) } else { format!("{value:.0}") }
}

/// A count for a chart axis.
pub fn count_axis(value: f64) -> String {
    if value.fract() == 0.0 { format!("{value:.0}") } else { format!("{value:.1}") }
}

pub use coop::text::utc;

/// `in 45 s`, `in 3 min`, `in 2 h 5 min`, `in 3 days`.
pub fn wait(seconds: u64) -> String {
    match seconds {
        0..60 => format!("in {seconds} s"),
        60..3600 => format!("in {} min", seconds.div_ceil(60)),
        3600..86_400 => format!("in {} h {} min", seconds / 3600, (seconds % 3600) / 60),
        86_400..172_800 => "in 1 day".to_owned(),
        _ => format!("in {} days", seconds / 86_400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_as_utc_dates() {
        assert_eq!(utc(0), "1970-01-01 00:00 UTC");
        assert_eq!(utc(1_764_086_400), "2025-11-25 16:00 UTC");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00 UTC");
    }

    #[test]
    fn waits_read_in_the_largest_useful_unit() {
        assert_eq!(wait(45), "in 45 s");
        assert_eq!(wait(61), "in 2 min");
        assert_eq!(wait(7500), "in 2 h 5 min");
        assert_eq!(wait(86_401), "in 1 day");
        assert_eq!(wait(3 * 86_400), "in 3 days");
    }

    #[test]
    fn chart_positions_are_close_to_the_amount() {
        assert_eq!(data_float(U256::ZERO), 0.0);
        assert_eq!(data_float(U256::from(1_500_000_000_000_000_000u128)), 1.5);
        let large = U256::from(123_456_789u64) * U256::from(10u64).pow(U256::from(18u64));
        assert!((data_float(large) - 123_456_789.0).abs() < 1e-6);
    }

    #[test]
    fn member_figures_are_exact() {
        assert_eq!(data_exact(U256::from(1_000_000_000_000_000_001u128)), "1.000000000000000001 DATA");
    }
}
