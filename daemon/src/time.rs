//! Wall-clock times as the state store keeps them (Unix milliseconds) and as Flux prints them
//! (RFC 3339), without a date-time crate: only UTC is ever printed.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch, now.
#[must_use]
pub fn now_millis() -> i64 {
    millis(SystemTime::now())
}

/// Milliseconds since the Unix epoch of `time` (0 before the epoch).
#[must_use]
pub fn millis(time: SystemTime) -> i64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// How long ago `then` (Unix milliseconds) was; zero when it is in the future.
#[must_use]
pub fn since(then: i64) -> Duration {
    Duration::from_millis(u64::try_from(now_millis().saturating_sub(then)).unwrap_or(0))
}

/// `2026-11-23T14:03:32Z` for a Unix-millisecond time.
#[must_use]
pub fn rfc3339(unix_millis: i64) -> String {
    let seconds = unix_millis.div_euclid(1000);
    let (days, second_of_day) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        second_of_day / 3600,
        second_of_day / 60 % 60,
        second_of_day % 60
    )
}

/// `2026-11-23T14:03:32.250Z`: [`rfc3339`] with milliseconds, for log lines.
#[must_use]
pub fn rfc3339_millis(unix_millis: i64) -> String {
    let seconds = rfc3339(unix_millis);
    format!(
        "{}.{:03}Z",
        &seconds[..seconds.len() - 1],
        unix_millis.rem_euclid(1000)
    )
}

/// Gregorian date of a day count since 1970-01-01 (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::rfc3339;

    #[test]
    fn formats_utc() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400_000), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_795_442_612_999), "2026-11-23T14:03:32Z");
    }
}
