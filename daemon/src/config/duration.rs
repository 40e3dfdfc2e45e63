//! Go durations (`1m`, `1m0s`, `90s`, `1.5h`, `500ms`), as Flux objects spell `interval` and
//! `timeout`.

use std::time::Duration;

/// Why a duration does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid duration {input:?}: {reason} (examples: 30s, 1m, 1m30s, 1.5h, 500ms)")]
pub struct Error {
    /// The text (truncated).
    pub input: String,
    /// What is wrong.
    pub reason: &'static str,
}

/// Parses a Go `time.ParseDuration` string without a sign: one or more `<number><unit>`
/// with units `ns`, `us` (`µs`), `ms`, `s`, `m`, `h`; `0` alone is zero.
pub fn parse(input: &str) -> Result<Duration, Error> {
    let fail = |reason| Error {
        input: input.chars().take(40).collect(),
        reason,
    };
    if input == "0" {
        return Ok(Duration::ZERO);
    }
    if input.is_empty() {
        return Err(fail("it is empty"));
    }
    let mut rest = input;
    let mut total = 0f64;
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let number = &rest[..number_len];
        if number.is_empty() || number == "." || number.matches('.').count() > 1 {
            return Err(fail("expected a number"));
        }
        let value: f64 = number.parse().map_err(|_| fail("expected a number"))?;
        rest = &rest[number_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let seconds_per_unit = match &rest[..unit_len] {
            "ns" => 1e-9,
            "us" | "µs" | "μs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            "" => return Err(fail("missing unit")),
            _ => return Err(fail("unknown unit")),
        };
        total += value * seconds_per_unit;
        rest = &rest[unit_len..];
    }
    Duration::try_from_secs_f64(total).map_err(|_| fail("out of range"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_forms() {
        assert_eq!(parse("1m"), Ok(Duration::from_mins(1)));
        assert_eq!(parse("1m0s"), Ok(Duration::from_mins(1)));
        assert_eq!(parse("1h30m"), Ok(Duration::from_mins(90)));
        assert_eq!(parse("1.5h"), Ok(Duration::from_mins(90)));
        assert_eq!(parse("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse("0"), Ok(Duration::ZERO));
        for bad in ["", "1", "m", "1x", "-1s", "1..5s", "1 s"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
