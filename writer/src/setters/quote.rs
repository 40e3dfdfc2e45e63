//! Writing a new value in the style of the scalar it replaces.
//!
//! Flux (kyaml) keeps the style and double-quotes a plain value that a YAML 1.1 parser would
//! read as something other than a string (flux-automation.md §3.4, vector C1). imagebump does
//! the same and is stricter in two ways: it also quotes what YAML 1.2 or PyYAML-style 1.1
//! resolvers read as non-strings (sexagesimal numbers, timestamps, `1e3`), and it quotes any
//! value that would not survive as a plain scalar at all (an empty value, a leading indicator,
//! `: `, ` #`, flow indicators inside a flow collection). A value that stays plain is written
//! verbatim; `5.0.3`, `v1.2.3`, `sha256:…` and image references all stay plain.

use std::fmt::Write as _;

use saphyr_parser::ScalarStyle;

/// Renders `value` for a scalar written in `style`; `flow` says whether the scalar sits in a
/// flow collection. Returns the text and the style it is written in.
pub(crate) fn render(value: &str, style: ScalarStyle, flow: bool) -> (String, ScalarStyle) {
    match style {
        ScalarStyle::Plain if plain_ok(value, flow) => (value.to_owned(), ScalarStyle::Plain),
        ScalarStyle::SingleQuoted if value.chars().all(|c| c == '\t' || printable(c)) => (
            format!("'{}'", value.replace('\'', "''")),
            ScalarStyle::SingleQuoted,
        ),
        _ => (double_quoted(value), ScalarStyle::DoubleQuoted),
    }
}

/// `"…"` with YAML's escapes for `"`, `\` and everything not printable.
pub(crate) fn double_quoted(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\0' => out.push_str("\\0"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\u{85}' => out.push_str("\\N"),
            '\u{2028}' => out.push_str("\\L"),
            '\u{2029}' => out.push_str("\\P"),
            c if printable(c) => out.push(c),
            // Writing to a `String` cannot fail.
            c if u32::from(c) <= 0xFF => drop(write!(out, "\\x{:02X}", u32::from(c))),
            c => drop(write!(out, "\\u{:04X}", u32::from(c))),
        }
    }
    out.push('"');
    out
}

/// YAML's `c-printable` minus the byte-order mark and the line separators that YAML 1.1
/// treats as line breaks.
fn printable(c: char) -> bool {
    matches!(c, ' '..='~' | '\u{A0}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
        && !matches!(c, '\u{2028}' | '\u{2029}' | '\u{FEFF}')
}

/// Whether `value`, written plain, reads back as exactly this string everywhere.
pub(crate) fn plain_ok(value: &str, flow: bool) -> bool {
    let Some(first) = value.chars().next() else {
        return false; // empty plain is null
    };
    if "-?:,[]{}#&*!|>'\"%@`".contains(first) || value.starts_with("...") {
        return false;
    }
    if !value.chars().all(printable) || value.ends_with(' ') || value.starts_with(' ') {
        return false;
    }
    if value.contains(": ") || value.contains(" #") || value.ends_with(':') {
        return false;
    }
    if flow && value.contains([',', '[', ']', '{', '}']) {
        return false;
    }
    !non_string(value)
}

/// Whether a plain scalar `value` resolves to something other than a string under YAML 1.2's
/// core schema, YAML 1.1's types (as go-yaml v2, which kyaml and Kubernetes use, and `PyYAML`
/// implement them), or go-yaml v3.
pub(crate) fn non_string(value: &str) -> bool {
    const WORDS: &[&str] = &[
        // null
        "~", "null", "Null", "NULL", //
        // YAML 1.1 and 1.2 booleans
        "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "true", "True", "TRUE", "false", "False",
        "FALSE", "on", "On", "ON", "off", "Off", "OFF", //
        // YAML 1.1 merge and value keys
        "<<", "=", //
        // not-a-number
        ".nan", ".NaN", ".NAN",
    ];
    WORDS.contains(&value) || number(value) || timestamp(value)
}

/// Integers and floats of YAML 1.1 (with `_` separators, `0b`, leading-zero octal,
/// sexagesimal), YAML 1.2 (`0o`, `0x`, `1e3`) and Go's `ParseInt` base 0 as go-yaml calls it
/// (upper-case prefixes).
fn number(value: &str) -> bool {
    let unsigned = value.strip_prefix(['+', '-']).unwrap_or(value);
    if matches!(unsigned, ".inf" | ".Inf" | ".INF" | ".nan" | ".NaN" | ".NAN") {
        return true;
    }
    if !unsigned.starts_with(|c: char| c.is_ascii_digit() || c == '.') {
        return false;
    }
    let digits = unsigned.replace('_', "");
    let all = |s: &str, radix: u32| !s.is_empty() && s.chars().all(|c| c.is_digit(radix));
    let prefixed = |p: [&str; 2], radix| {
        p.iter()
            .any(|p| digits.strip_prefix(p).is_some_and(|rest| all(rest, radix)))
    };
    all(&digits, 10)
        || prefixed(["0x", "0X"], 16)
        || prefixed(["0o", "0O"], 8)
        || prefixed(["0b", "0B"], 2)
        || float(&digits)
        || sexagesimal(unsigned)
}

/// `(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?` (YAML 1.2 core and go-yaml's
/// `yamlStyleFloat`, which also covers `PyYAML`'s 1.1 floats once `_` is removed).
fn float(digits: &str) -> bool {
    let (mantissa, exponent) = match digits.find(['e', 'E']) {
        Some(i) => (&digits[..i], Some(&digits[i + 1..])),
        None => (digits, None),
    };
    let ok_exponent = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        !e.is_empty() && e.chars().all(|c| c.is_ascii_digit())
    });
    let ok_mantissa = match mantissa.split_once('.') {
        Some((int, frac)) => {
            int.chars().all(|c| c.is_ascii_digit())
                && frac.chars().all(|c| c.is_ascii_digit())
                && !(int.is_empty() && frac.is_empty())
        }
        None => !mantissa.is_empty() && mantissa.chars().all(|c| c.is_ascii_digit()),
    };
    ok_mantissa && ok_exponent
}

/// YAML 1.1 base 60: `[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?` (`190:20:30`).
fn sexagesimal(unsigned: &str) -> bool {
    let (int, frac) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    let mut parts = int.split(':');
    let head = parts.next().unwrap_or("");
    let mut sixties = 0;
    for part in parts {
        let ok = matches!(part.len(), 1 | 2)
            && part.chars().all(|c| c.is_ascii_digit())
            && (part.len() == 1 || part.as_bytes()[0] <= b'5');
        if !ok {
            return false;
        }
        sixties += 1;
    }
    sixties > 0
        && head.starts_with(|c: char| c.is_ascii_digit())
        && head.chars().all(|c| c.is_ascii_digit() || c == '_')
        && frac.chars().all(|c| c.is_ascii_digit() || c == '_')
}

/// YAML 1.1 timestamps start `YYYY-M-D` and either end there or continue with a time
/// (`T`, `t` or blanks); `PyYAML` and go-yaml v3 read them as dates.
fn timestamp(value: &str) -> bool {
    let mut parts = value.splitn(3, '-');
    let (Some(year), Some(month), Some(rest)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    let day_len = rest.chars().take_while(char::is_ascii_digit).count();
    let digits = |s: &str, lens: &[usize]| lens.contains(&s.len()) && s.chars().all(|c| c.is_ascii_digit());
    digits(year, &[4])
        && digits(month, &[1, 2])
        && matches!(day_len, 1 | 2)
        && (rest.len() == day_len || rest[day_len..].starts_with(['T', 't', ' ', '\t']))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_what_would_not_read_back_as_a_string() {
        for v in [
            "1.1",
            "1.10",
            "10",
            "0",
            "-1",
            "+1",
            "1_000",
            "0x1F",
            "0X1f",
            "0o17",
            "0b101",
            "017",
            "1e3",
            "1E-3",
            "1.",
            ".5",
            ".inf",
            "-.Inf",
            ".nan",
            "190:20:30",
            "1:30.5",
            "true",
            "yes",
            "Y",
            "n",
            "on",
            "OFF",
            "null",
            "~",
            "<<",
            "=",
            "2024-01-15",
            "2024-1-5T10:00:00Z",
            "",
            " lead",
            "trail ",
            "-x",
            "?x",
            ":x",
            "#x",
            "&a",
            "*a",
            "!t",
            "|x",
            ">x",
            "'x",
            "\"x",
            "%x",
            "@x",
            "`x",
            "a: b",
            "a #b",
            "a:",
            "...x",
            "a\tb",
            "a\nb",
        ] {
            assert!(!plain_ok(v, false), "{v:?} must be quoted");
        }
        for v in [
            "5.0.3",
            "v1.0.1",
            "1.2.3",
            "latest",
            "image:v1.0.0",
            "index.repo.fake/updated",
            "sha256:6745aaad46d795c9836632e1fb62f24b7e7f4c843144da8e47a5465c411a14be",
            "localhost:5000/app:1.0@sha256:abc",
            "a,b",
            "a#b",
            "ünïcode",
            "2024-01-15-abc",
            "1.2.3-rc.1",
            "1e3x",
            "0x",
            "0xZZ",
            "12:70",
            "nullable",
            "1_000_a",
        ] {
            assert!(plain_ok(v, false), "{v:?} may stay plain");
        }
        assert!(!plain_ok("a,b", true));
        assert!(!plain_ok("a]", true));
    }

    #[test]
    fn renders_in_the_original_style() {
        use ScalarStyle::{DoubleQuoted, Plain, SingleQuoted};
        assert_eq!(render("1.1", Plain, false), ("\"1.1\"".into(), DoubleQuoted));
        assert_eq!(render("5.0.3", Plain, false), ("5.0.3".into(), Plain));
        assert_eq!(render("1.1", SingleQuoted, false), ("'1.1'".into(), SingleQuoted));
        assert_eq!(
            render("it's", SingleQuoted, false),
            ("'it''s'".into(), SingleQuoted)
        );
        assert_eq!(
            render("a\"b\\c", DoubleQuoted, false),
            (r#""a\"b\\c""#.into(), DoubleQuoted)
        );
        assert_eq!(render("", Plain, false), ("\"\"".into(), DoubleQuoted));
        assert_eq!(render("", SingleQuoted, false), ("''".into(), SingleQuoted));
        assert_eq!(
            render("a\nb", SingleQuoted, false),
            ("\"a\\nb\"".into(), DoubleQuoted)
        );
        assert_eq!(
            render("\u{1}\u{FEFF}", DoubleQuoted, false),
            ("\"\\x01\\uFEFF\"".into(), DoubleQuoted)
        );
    }
}
