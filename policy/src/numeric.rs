//! Numbers as Go's `strconv.ParseFloat(s, 64)` reads them, which is what a Flux numerical
//! policy accepts.
//!
//! Go is more liberal than Rust's `f64::from_str` in some places (hex floats `0x1p4`, digit
//! separators `1_000`) and stricter in others (`+nan` and out-of-range values such as `1e400`
//! are errors). The difference matters because one unparsable tag fails the whole policy.

/// Parses `s` as Go's `ParseFloat` does; `None` where Go returns an error (syntax or range).
#[must_use]
pub fn parse_go_float(s: &str) -> Option<f64> {
    if let Some(special) = special(s) {
        return Some(special);
    }
    let bytes = s.as_bytes();
    let (negative, body) = match bytes.first() {
        Some(b'+') => (false, &s[1..]),
        Some(b'-') => (true, &s[1..]),
        _ => (false, s),
    };
    let hex = body.len() >= 2 && body.as_bytes()[0] == b'0' && matches!(body.as_bytes()[1], b'x' | b'X');
    if body.contains('_') && !underscores_ok(body, hex) {
        return None;
    }
    let value = if hex {
        parse_hex(&body[2..])?
    } else {
        parse_decimal(body)?
    };
    // Go reports overflow as an error (ErrRange); Rust would quietly give infinity.
    if value.is_infinite() {
        return None;
    }
    Some(if negative { -value } else { value })
}

/// `inf`, `infinity` (any case, optional sign) and `nan` (any case, no sign).
fn special(s: &str) -> Option<f64> {
    let (sign, rest) = match s.as_bytes().first() {
        Some(b'+') => (1.0, &s[1..]),
        Some(b'-') => (-1.0, &s[1..]),
        _ => {
            if s.eq_ignore_ascii_case("nan") {
                return Some(f64::NAN);
            }
            (1.0, s)
        }
    };
    (rest.eq_ignore_ascii_case("inf") || rest.eq_ignore_ascii_case("infinity"))
        .then_some(sign * f64::INFINITY)
}

/// Go's rule: an underscore must sit between digits (or right after a base prefix).
fn underscores_ok(body: &str, hex: bool) -> bool {
    #[derive(PartialEq)]
    enum Saw {
        Start,
        Digit,
        Underscore,
        Other,
    }
    let mut saw = Saw::Start;
    let mut bytes = body.as_bytes();
    if hex {
        bytes = &bytes[2..];
        saw = Saw::Digit;
    }
    for &b in bytes {
        if b.is_ascii_digit() || (hex && b.is_ascii_hexdigit()) {
            saw = Saw::Digit;
        } else if b == b'_' {
            if saw != Saw::Digit {
                return false;
            }
            saw = Saw::Underscore;
        } else if saw == Saw::Underscore {
            return false;
        } else {
            saw = Saw::Other;
        }
    }
    saw != Saw::Underscore
}

/// `digits [. digits] [e [sign] digits]` with at least one mantissa digit.
fn parse_decimal(body: &str) -> Option<f64> {
    let cleaned: std::borrow::Cow<'_, str> = if body.contains('_') {
        body.chars().filter(|&c| c != '_').collect::<String>().into()
    } else {
        body.into()
    };
    let bytes = cleaned.as_bytes();
    let mut i = 0;
    let mut digits = 0;
    let mut dot = false;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'0'..=b'9' => digits += 1,
            b'.' if !dot => dot = true,
            _ => break,
        }
        i += 1;
    }
    if digits == 0 {
        return None;
    }
    if matches!(bytes.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(bytes.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let start = i;
        while bytes.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return None;
        }
    }
    if i != bytes.len() {
        return None;
    }
    cleaned.parse().ok()
}

/// Hex mantissa (digits with an optional point) and a mandatory binary exponent `p±N`.
fn parse_hex(body: &str) -> Option<f64> {
    let mut mantissa: u64 = 0;
    let mut exponent: i64 = 0;
    let mut digits = 0;
    let mut dot = false;
    let mut chars = body.bytes().filter(|&b| b != b'_').peekable();
    while let Some(&b) = chars.peek() {
        let nibble = match b {
            b'.' if !dot => {
                dot = true;
                chars.next();
                continue;
            }
            _ => match char::from(b).to_digit(16) {
                Some(n) => u64::from(n),
                None => break,
            },
        };
        chars.next();
        digits += 1;
        if mantissa >> 60 == 0 {
            mantissa = (mantissa << 4) | nibble;
            if dot {
                exponent -= 4;
            }
        } else if !dot {
            // Further digits only scale the value; their bits are below f64 precision.
            exponent += 4;
        }
    }
    if digits == 0 || !matches!(chars.next(), Some(b'p' | b'P')) {
        return None;
    }
    let rest: String = chars.map(char::from).collect();
    let (sign, num) = match rest.as_bytes().first() {
        Some(b'+') => (1, &rest[1..]),
        Some(b'-') => (-1, &rest[1..]),
        _ => (1, rest.as_str()),
    };
    if num.is_empty() || !num.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let exp: i64 = num.parse::<i64>().unwrap_or(i64::MAX / 2).saturating_mul(sign);
    let total = exp.saturating_add(exponent).clamp(-2000, 2000);
    #[allow(clippy::cast_possible_truncation)] // clamped to ±2000 just above
    let scale = 2f64.powi(total as i32);
    Some(mantissa as f64 * scale)
}

#[cfg(test)]
mod tests {
    use super::parse_go_float as p;

    #[test]
    fn accepted_like_go() {
        assert_eq!(p("-5"), Some(-5.0));
        assert_eq!(p("+5"), Some(5.0));
        assert_eq!(p(".5"), Some(0.5));
        assert_eq!(p("5."), Some(5.0));
        assert_eq!(p("1e3"), Some(1000.0));
        assert_eq!(p("007"), Some(7.0));
        assert_eq!(p("0x1p4"), Some(16.0));
        assert_eq!(p("0x1.8p1"), Some(3.0));
        assert_eq!(p("1_000"), Some(1000.0));
        assert_eq!(p("-Inf"), Some(f64::NEG_INFINITY));
        assert_eq!(p("infinity"), Some(f64::INFINITY));
        assert!(p("NaN").is_some_and(f64::is_nan));
    }

    #[test]
    fn refused_like_go() {
        for bad in [
            "1.2.3",
            "v1",
            "0x10",
            " 1",
            "1,5",
            "",
            ".",
            "1e",
            "+nan",
            "1__0",
            "_1",
            "1_",
            "1e400",
            "0x",
            "0xp1",
            "1.0.0-rc.1",
            "--1",
            "inf1",
        ] {
            assert_eq!(p(bad), None, "{bad:?}");
        }
    }
}
