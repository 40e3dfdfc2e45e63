//! Number and string literals as Go's parser reads them (`strconv.ParseInt` with base 0,
//! `ParseFloat`, `Unquote`, `UnquoteChar`).

/// A number literal: how it was written and the values Go derives from it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Number {
    pub text: String,
    /// The value as an integer, if it is one (`3`, `0x1F`, `'a'`, and also `3.0`).
    pub int: Option<i64>,
    /// The value as a float.
    pub float: f64,
    /// Whether an untyped context takes it as a float (Go's `idealConstant`): written with
    /// `.`, `e` or `p`, and neither hexadecimal integer nor character.
    pub is_float: bool,
}

impl Number {
    /// Go's `parse.NumberNode` rules, for the literals our lexer produces.
    pub(crate) fn parse(text: &str, is_char: bool) -> Result<Number, String> {
        if is_char {
            let c = char_constant(text)?;
            let v = i64::from(u32::from(c));
            #[allow(clippy::cast_precision_loss)] // A rune fits a float exactly.
            return Ok(Number {
                text: text.to_owned(),
                int: Some(v),
                float: v as f64,
                is_float: false,
            });
        }
        if text.ends_with('i') {
            return Err(format!(
                "complex numbers are not supported: {}",
                super::format::quote(text, false)
            ));
        }
        let illegal = || format!("illegal number syntax: {}", super::format::quote(text, false));
        let hex_int = (text.starts_with("0x") || text.starts_with("0X")) && !text.contains(['p', 'P']);
        let float_syntax = !hex_int && text.contains(['.', 'e', 'E', 'p', 'P']);
        if let Some(i) = parse_go_int(text) {
            if i < i128::from(i64::MIN) || i > i128::from(u64::MAX) {
                return Err(format!("integer overflow: {}", super::format::quote(text, false)));
            }
            // Between i64::MAX and u64::MAX Go has an unsigned constant, which it refuses to
            // use as an int when executing.
            #[allow(clippy::cast_precision_loss)] // Go's float64(int64) conversion.
            let float = i as f64;
            return Ok(Number {
                text: text.to_owned(),
                int: i64::try_from(i).ok(),
                float,
                is_float: false,
            });
        }
        if !float_syntax {
            // Go's quirk: what is no integer but still a float (`08`) "overflows".
            return Err(if text.parse::<f64>().is_ok() {
                format!("integer overflow: {}", super::format::quote(text, false))
            } else {
                illegal()
            });
        }
        if text.contains(['p', 'P']) {
            let float = parse_hex_float(text).ok_or_else(illegal)?;
            #[allow(clippy::cast_possible_truncation)] // Checked: only integral values in range.
            let int = (float.fract() == 0.0 && float.abs() < 9.2e18).then_some(float as i64);
            return Ok(Number {
                text: text.to_owned(),
                int,
                float,
                is_float: true,
            });
        }
        if hex_int {
            return Err(illegal());
        }
        let float: f64 = text.replace('_', "").parse().map_err(|_| illegal())?;
        #[allow(clippy::cast_possible_truncation)] // Checked: only integral values in range.
        let int = (float.fract() == 0.0 && float.abs() < 9.2e18).then_some(float as i64);
        Ok(Number {
            text: text.to_owned(),
            int,
            float,
            is_float: true,
        })
    }
}

/// A hexadecimal float such as `0x1.8p-2`: hex mantissa, binary exponent.
fn parse_hex_float(text: &str) -> Option<f64> {
    let (neg, body) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let body = body
        .strip_prefix("0x")
        .or_else(|| body.strip_prefix("0X"))?
        .replace('_', "");
    let (mantissa, exponent) = body.split_once(['p', 'P'])?;
    let exponent: i32 = exponent.parse().ok()?;
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    let mut value = 0f64;
    for c in int.chars() {
        value = value * 16.0 + f64::from(c.to_digit(16)?);
    }
    let mut scale = 1.0 / 16.0;
    for c in frac.chars() {
        value += f64::from(c.to_digit(16)?) * scale;
        scale /= 16.0;
    }
    let value = value * 2f64.powi(exponent);
    Some(if neg { -value } else { value })
}

/// Go's `strconv.ParseInt(text, 0, 64)`, widened so callers can tell "too big" from "not an
/// integer": a sign, then `0x`, `0o`, `0b` or a leading `0` (octal), with `_` between digits.
pub(crate) fn parse_go_int(text: &str) -> Option<i128> {
    let (neg, body) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let lower = body.to_ascii_lowercase();
    let (radix, digits, prefixed) = if let Some(d) = lower.strip_prefix("0x") {
        (16, d, true)
    } else if let Some(d) = lower.strip_prefix("0o") {
        (8, d, true)
    } else if let Some(d) = lower.strip_prefix("0b") {
        (2, d, true)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, &lower[1..], true)
    } else {
        (10, lower.as_str(), false)
    };
    if digits.is_empty()
        || digits.ends_with('_')
        || (!prefixed && digits.starts_with('_'))
        || digits.contains("__")
    {
        return None;
    }
    let mut value: i128 = 0;
    for c in digits.chars().filter(|c| *c != '_') {
        let d = c.to_digit(radix)?;
        value = value.checked_mul(i128::from(radix))?.checked_add(i128::from(d))?;
        if value > i128::from(u64::MAX) {
            return Some(value);
        }
    }
    Some(if neg { -value } else { value })
}

/// Go's `strconv.Unquote` for `"…"` and `` `…` `` literals. Bytes that are not UTF-8 (from `\x`
/// or octal escapes) become U+FFFD, since our strings are Rust strings.
pub(crate) fn unquote(quoted: &str) -> Option<String> {
    if let Some(raw) = quoted.strip_prefix('`').and_then(|q| q.strip_suffix('`')) {
        return Some(raw.replace('\r', ""));
    }
    let inner = quoted.strip_prefix('"')?.strip_suffix('"')?;
    let mut bytes = Vec::with_capacity(inner.len());
    let mut rest = inner;
    while !rest.is_empty() {
        let (unit, tail) = unquote_char(rest, '"')?;
        match unit {
            Unit::Char(c) => bytes.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes()),
            Unit::Byte(b) => bytes.push(b),
        }
        rest = tail;
    }
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

enum Unit {
    Char(char),
    Byte(u8),
}

/// Go's `strconv.UnquoteChar`: the first character or escape of `s`, and the rest.
fn unquote_char(s: &str, quote: char) -> Option<(Unit, &str)> {
    let mut chars = s.chars();
    let c = chars.next()?;
    if c == quote && (quote == '\'' || quote == '"') {
        return None;
    }
    if c != '\\' {
        return Some((Unit::Char(c), chars.as_str()));
    }
    let e = chars.next()?;
    let rest = chars.as_str();
    let simple = match e {
        'a' => Some('\u{7}'),
        'b' => Some('\u{8}'),
        'f' => Some('\u{c}'),
        'n' => Some('\n'),
        'r' => Some('\r'),
        't' => Some('\t'),
        'v' => Some('\u{b}'),
        '\\' => Some('\\'),
        '\'' | '"' if e == quote => Some(e),
        _ => None,
    };
    if let Some(c) = simple {
        return Some((Unit::Char(c), rest));
    }
    let hex = |n: usize| -> Option<(u32, &str)> {
        let digits = rest.get(..n)?;
        if !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        Some((u32::from_str_radix(digits, 16).ok()?, &rest[n..]))
    };
    match e {
        'x' => {
            let (v, tail) = hex(2)?;
            Some((Unit::Byte(u8::try_from(v).ok()?), tail))
        }
        'u' => {
            let (v, tail) = hex(4)?;
            Some((Unit::Char(char::from_u32(v)?), tail))
        }
        'U' => {
            let (v, tail) = hex(8)?;
            Some((Unit::Char(char::from_u32(v)?), tail))
        }
        '0'..='7' => {
            let digits = s.get(1..4)?;
            if !digits.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
                return None;
            }
            let v = u32::from_str_radix(digits, 8).ok()?;
            Some((Unit::Byte(u8::try_from(v).ok()?), &s[4..]))
        }
        _ => None,
    }
}

/// The value of a character literal such as `'a'` or `'\n'`, with Go's two errors.
fn char_constant(quoted: &str) -> Result<char, String> {
    let inner = quoted.strip_prefix('\'').ok_or("invalid syntax")?;
    let (unit, tail) = unquote_char(inner, '\'').ok_or("invalid syntax")?;
    if tail != "'" {
        return Err(format!("malformed character constant: {quoted}"));
    }
    Ok(match unit {
        Unit::Char(c) => c,
        Unit::Byte(b) => char::from(b),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unquotes_go_literals() {
        assert_eq!(
            unquote(r#""a\tb\x41\101\u00e9\U0001F600\"""#).as_deref(),
            Some("a\tbAAé\u{1F600}\"")
        );
        assert_eq!(unquote("`a\\n\r\nb`").as_deref(), Some("a\\n\nb"));
        assert_eq!(unquote(r#""\'""#), None);
        assert_eq!(char_constant(r"'\n'"), Ok('\n'));
        assert_eq!(char_constant("'é'"), Ok('é'));
        assert_eq!(
            char_constant("'ab'"),
            Err("malformed character constant: 'ab'".to_owned())
        );
        assert_eq!(char_constant("''"), Err("invalid syntax".to_owned()));
    }

    #[test]
    fn numbers_follow_go() {
        let n = Number::parse("0x1F", false).expect("parses");
        assert_eq!((n.int, n.is_float), (Some(31), false));
        let n = Number::parse("1_000", false).expect("parses");
        assert_eq!(n.int, Some(1000));
        let n = Number::parse("017", false).expect("parses");
        assert_eq!(n.int, Some(15));
        let n = Number::parse("3.0", false).expect("parses");
        assert_eq!((n.int, n.is_float), (Some(3), true));
        let n = Number::parse("0x1.8p1", false).expect("parses");
        assert_eq!((n.float, n.is_float), (3.0, true));
        let n = Number::parse("'\\n'", true).expect("parses");
        assert_eq!(n.int, Some(10));
        let n = Number::parse("9223372036854775808", false).expect("parses");
        assert_eq!(n.int, None);
        assert_eq!(
            Number::parse("99999999999999999999", false).expect_err("overflows"),
            "integer overflow: \"99999999999999999999\""
        );
        assert!(Number::parse("1i", false).is_err());
        assert!(Number::parse("1__0", false).is_err());
        assert_eq!(
            Number::parse("1_", false).expect_err("bad"),
            "illegal number syntax: \"1_\""
        );
        assert_eq!(
            Number::parse("08", false).expect_err("bad"),
            "integer overflow: \"08\""
        );
    }
}
