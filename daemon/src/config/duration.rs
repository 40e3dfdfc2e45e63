//! Go durations (`1m`, `1m0s`, `90s`, `1.5h`, `500ms`), as Flux objects spell `interval` and
//! `timeout` and as `flux create … --export` writes them: Go's `time.ParseDuration` and
//! `Duration.String`, exactly.

use std::time::Duration;

/// Why a duration does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid duration {input:?}: {reason} (examples: 30s, 1m, 1m30s, 1.5h, 500ms)")]
pub struct Error {
    /// The text (truncated).
    pub input: String,
    /// What is wrong.
    pub reason: String,
}

/// Parses a duration for a Flux field: Go's syntax, and not negative.
pub fn parse(input: &str) -> Result<Duration, Error> {
    let fail = |reason: String| Error {
        input: input.chars().take(40).collect(),
        reason,
    };
    let nanos = parse_nanos(input).map_err(fail)?;
    let nanos = u64::try_from(nanos).map_err(|_| fail("negative durations are not allowed".to_owned()))?;
    Ok(Duration::from_nanos(nanos))
}

const NANOS_PER_SECOND: u64 = 1_000_000_000;
/// `1 << 63`: the magnitude of the most negative duration.
const LIMIT: u64 = 1 << 63;

/// Parses `[-+]?([0-9]*(\.[0-9]*)?[a-z]+)+` (and `0`), in nanoseconds.
pub fn parse_nanos(text: &str) -> Result<i64, String> {
    let mut rest = text;
    let negative = match rest.as_bytes().first() {
        Some(b'-') => {
            rest = &rest[1..];
            true
        }
        Some(b'+') => {
            rest = &rest[1..];
            false
        }
        _ => false,
    };
    if rest == "0" {
        return Ok(0);
    }
    if rest.is_empty() {
        return Err("it is empty".to_owned());
    }
    let mut total: u64 = 0;
    while !rest.is_empty() {
        if !rest.starts_with(|c: char| c == '.' || c.is_ascii_digit()) {
            return Err("expected a number".to_owned());
        }
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        let mut whole: u64 = 0;
        for b in rest[..digits].bytes() {
            whole = whole
                .checked_mul(10)
                .and_then(|w| w.checked_add(u64::from(b - b'0')))
                .filter(|w| *w <= LIMIT)
                .ok_or_else(|| "out of range".to_owned())?;
        }
        rest = &rest[digits..];
        let mut fraction: u64 = 0;
        let mut scale = 1.0_f64;
        let mut fraction_digits = 0;
        if let Some(after_point) = rest.strip_prefix('.') {
            rest = after_point;
            fraction_digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            let mut overflow = false;
            for b in rest[..fraction_digits].bytes() {
                if overflow {
                    continue;
                }
                match fraction
                    .checked_mul(10)
                    .and_then(|f| f.checked_add(u64::from(b - b'0')))
                    .filter(|f| *f <= LIMIT)
                {
                    Some(f) => {
                        fraction = f;
                        scale *= 10.0;
                    }
                    None => overflow = true,
                }
            }
            rest = &rest[fraction_digits..];
        }
        if digits == 0 && fraction_digits == 0 {
            return Err("expected a number".to_owned());
        }
        let unit_length = rest
            .find(|c: char| c == '.' || c.is_ascii_digit())
            .unwrap_or(rest.len());
        let unit = match &rest[..unit_length] {
            "ns" => 1,
            "us" | "\u{b5}s" | "\u{3bc}s" => 1_000,
            "ms" => 1_000_000,
            "s" => NANOS_PER_SECOND,
            "m" => 60 * NANOS_PER_SECOND,
            "h" => 3_600 * NANOS_PER_SECOND,
            "" => return Err("missing unit".to_owned()),
            other => return Err(format!("unknown unit {other:?}")),
        };
        rest = &rest[unit_length..];
        if whole > LIMIT / unit {
            return Err("out of range".to_owned());
        }
        let mut value = whole * unit;
        if fraction > 0 {
            // As Go: float64 keeps fractions of hours nanosecond-accurate.
            #[allow(
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss,
                reason = "the product is at most 3.6e12, positive"
            )]
            let part = (fraction as f64 * (unit as f64 / scale)) as u64;
            value += part;
            if value > LIMIT {
                return Err("out of range".to_owned());
            }
        }
        total = total
            .checked_add(value)
            .filter(|t| *t <= LIMIT)
            .ok_or_else(|| "out of range".to_owned())?;
    }
    if negative {
        // `total` is at most 1 << 63, so the negation fits.
        return Ok(0_i64.wrapping_sub_unsigned(total));
    }
    i64::try_from(total).map_err(|_| "out of range".to_owned())
}

/// Go's `Duration.String`: `1h2m3.5s`, `1m0s`, `0s`, `1.5ms`, `2µs`, `-1m0s`.
pub fn format(nanos: i64) -> String {
    let mut u = nanos.unsigned_abs();
    let sign = if nanos < 0 { "-" } else { "" };
    if u == 0 {
        return "0s".to_owned();
    }
    if u < NANOS_PER_SECOND {
        let (digits, unit) = match u {
            0..1_000 => (0, "ns"),
            1_000..1_000_000 => (3, "\u{b5}s"),
            _ => (6, "ms"),
        };
        let (whole, fraction) = split(u, digits);
        return format!("{sign}{whole}{fraction}{unit}");
    }
    let (seconds, fraction) = split(u, 9);
    u = seconds;
    let mut text = format!("{}{fraction}s", u % 60);
    u /= 60;
    if u > 0 {
        text = format!("{}m{text}", u % 60);
        u /= 60;
        if u > 0 {
            text = format!("{u}h{text}");
        }
    }
    format!("{sign}{text}")
}

/// `value / 10^digits` and the fraction as `.ddd` without trailing zeros (empty if zero).
fn split(value: u64, digits: u32) -> (u64, String) {
    let divisor = 10_u64.pow(digits);
    let (whole, fraction) = (value / divisor, value % divisor);
    if fraction == 0 {
        return (whole, String::new());
    }
    let padded = format!("{fraction:0width$}", width = digits as usize);
    (whole, format!(".{}", padded.trim_end_matches('0')))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flux_fields() {
        assert_eq!(parse("1m"), Ok(Duration::from_mins(1)));
        assert_eq!(parse("1m0s"), Ok(Duration::from_mins(1)));
        assert_eq!(parse("1h30m"), Ok(Duration::from_mins(90)));
        assert_eq!(parse("1.5h"), Ok(Duration::from_mins(90)));
        assert_eq!(parse("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse("0"), Ok(Duration::ZERO));
        for bad in ["", "1", "m", "1x", "-1s", "1 s"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        assert!(parse("5").is_err_and(|e| e.to_string().contains("missing unit")));
        assert!(parse("-1s").is_err_and(|e| e.to_string().contains("negative")));
    }
}
