//! Chain timestamps as dates people read, the same on the server and in the browser (UTC, so a page
//! rendered on the server and hydrated says the same thing).

use alloy_primitives::U256;

/// `2025-11-25 14:05 UTC`.
pub fn show_utc(timestamp: U256) -> String {
    match civil(timestamp) {
        Some((year, month, day, hour, minute, _)) => {
            format!("{year:04}-{month:02}-{day:02} {hour:02}:{minute:02} UTC")
        }
        None => format!("{timestamp} (seconds since 1970)"),
    }
}

/// `2025-11-25T14:05:09Z`, for `<time datetime>`.
pub fn iso(timestamp: U256) -> String {
    match civil(timestamp) {
        Some((year, month, day, hour, minute, second)) => {
            format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}Z")
        }
        None => String::new(),
    }
}

/// Year, month, day, hour, minute, second of a Unix time (Howard Hinnant's `civil_from_days`).
fn civil(timestamp: U256) -> Option<(i64, u32, u32, u32, u32, u32)> {
    let seconds = i64::try_from(u64::try_from(timestamp).ok()?).ok()?;
    if seconds > 253_402_300_799 {
        return None; // past the year 9999
    }
    let (days, rest) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    Some((year, month, day, (rest / 3_600) as u32, (rest % 3_600 / 60) as u32, (rest % 60) as u32))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_read_as_utc_dates() {
        assert_eq!(show_utc(U256::ZERO), "1970-01-01 00:00 UTC");
        assert_eq!(iso(U256::from(1_700_000_000u64)), "2023-11-14T22:13:20Z");
        assert_eq!(show_utc(U256::from(951_782_400u64)), "2000-02-29 00:00 UTC");
        assert_eq!(iso(U256::MAX), "");
    }
}
