//! Go's `fmt` for template values: how `{{ . }}`, `print`, `println` and `printf` spell a value.
//!
//! Covers the verbs commit templates use (`%v %+v %#v %s %q %d %x %X %o %b %c %U %e %f %g %t %T
//! %%`) with flags, width and precision (including `*`), and Go's error spellings
//! (`%!d(string=x)`, `%!s(MISSING)`, `%!(EXTRA …)`). Not covered: explicit argument indexes
//! (`%[1]d`) and the hexadecimal and binary forms of floats (`%x`, `%b` on a float), which print
//! as bad verbs.

use std::fmt::Write as _;

use super::float;
use super::value::{Map, Struct, Value};

/// Flags, width and precision of one verb.
#[derive(Clone, Copy, Default)]
#[allow(clippy::struct_excessive_bools)] // Go's own flag set.
struct Spec {
    plus: bool,
    minus: bool,
    sharp: bool,
    space: bool,
    zero: bool,
    width: Option<usize>,
    prec: Option<usize>,
    /// `%+v`: field names in structs.
    plus_v: bool,
    /// `%#v`: Go syntax.
    sharp_v: bool,
}

/// Go's `fmt.Sprint`: operands formatted with `%v`, a space between two operands when neither
/// is a string.
pub(crate) fn sprint(args: &[&Value]) -> String {
    let mut out = String::new();
    let mut prev_string = false;
    for (i, arg) in args.iter().enumerate() {
        let is_string = matches!(arg, Value::String(_));
        if i > 0 && !is_string && !prev_string {
            out.push(' ');
        }
        print_arg(&mut out, arg, 'v', Spec::default());
        prev_string = is_string;
    }
    out
}

/// Go's `fmt.Sprintln`: operands formatted with `%v`, always separated by spaces, plus a newline.
pub(crate) fn sprintln(args: &[&Value]) -> String {
    let mut out = String::new();
    for (i, arg) in args.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        print_arg(&mut out, arg, 'v', Spec::default());
    }
    out.push('\n');
    out
}

/// `%v` of one value, as `fmt.Sprint(v)` spells it.
pub(crate) fn to_string(v: &Value) -> String {
    let mut out = String::new();
    print_arg(&mut out, v, 'v', Spec::default());
    out
}

/// Go's `fmt.Sprintf`.
pub(crate) fn sprintf(format: &str, args: &[&Value]) -> String {
    let mut out = String::new();
    let mut arg_num = 0;
    let mut chars = format.char_indices().peekable();
    while let Some((_, c)) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut spec = Spec::default();
        while let Some(&(_, f)) = chars.peek() {
            match f {
                '#' => spec.sharp = true,
                '0' => spec.zero = !spec.minus,
                '+' => spec.plus = true,
                '-' => {
                    spec.minus = true;
                    spec.zero = false;
                }
                ' ' => spec.space = true,
                _ => break,
            }
            chars.next();
        }
        // Width: digits or `*` taking an int operand.
        if chars.peek().is_some_and(|&(_, c)| c == '*') {
            chars.next();
            match args.get(arg_num) {
                Some(Value::Int(w)) if w.unsigned_abs() <= 1_000_000 => {
                    if *w < 0 {
                        spec.minus = true;
                        spec.zero = false;
                    }
                    spec.width = usize::try_from(w.unsigned_abs()).ok();
                }
                _ => out.push_str("%!(BADWIDTH)"),
            }
            arg_num += 1;
        } else {
            spec.width = parse_digits(&mut chars);
        }
        if chars.peek().is_some_and(|&(_, c)| c == '.') {
            chars.next();
            if chars.peek().is_some_and(|&(_, c)| c == '*') {
                chars.next();
                match args.get(arg_num) {
                    Some(Value::Int(p)) if (0..=1_000_000).contains(p) => {
                        spec.prec = usize::try_from(*p).ok();
                    }
                    _ => out.push_str("%!(BADPREC)"),
                }
                arg_num += 1;
            } else {
                spec.prec = Some(parse_digits(&mut chars).unwrap_or(0));
            }
        }
        let Some((_, verb)) = chars.next() else {
            out.push_str("%!(NOVERB)");
            break;
        };
        if verb == '%' {
            out.push('%');
            continue;
        }
        let Some(arg) = args.get(arg_num) else {
            out.push_str("%!");
            out.push(verb);
            out.push_str("(MISSING)");
            continue;
        };
        arg_num += 1;
        if verb == 'v' {
            spec.sharp_v = spec.sharp;
            spec.sharp = false;
            spec.plus_v = spec.plus;
            spec.plus = false;
        }
        print_arg(&mut out, arg, verb, spec);
    }
    if arg_num < args.len() {
        out.push_str("%!(EXTRA ");
        for (i, arg) in args[arg_num..].iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            if let Value::Nil = arg {
                out.push_str("<nil>");
            } else {
                out.push_str(&arg.type_name());
                out.push('=');
                print_arg(&mut out, arg, 'v', Spec::default());
            }
        }
        out.push(')');
    }
    out
}

fn parse_digits(chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>) -> Option<usize> {
    let mut n: Option<usize> = None;
    while let Some(&(_, c)) = chars.peek() {
        let Some(d) = c.to_digit(10) else { break };
        chars.next();
        let d = usize::try_from(d).unwrap_or(0);
        n = Some(n.unwrap_or(0).saturating_mul(10).saturating_add(d).min(1_000_000));
    }
    n
}

fn print_arg(out: &mut String, arg: &Value, verb: char, spec: Spec) {
    match (arg, verb) {
        (Value::Nil, 'v' | 'T') => pad(out, "<nil>", spec),
        (Value::Nil, _) => bad_verb(out, verb, arg, spec),
        (_, 'T') => pad(out, &arg.type_name(), spec),
        _ => print_value(out, arg, verb, spec, 0),
    }
}

/// Go's `handleMethods`: a struct with a `String()` method prints through it for the verbs that
/// accept strings (but not for `%#v`, which wants Go syntax).
fn stringer(out: &mut String, v: &Value, verb: char, spec: Spec) -> bool {
    if let Value::Struct(Struct {
        display: Some(display),
        ..
    }) = v
        && !spec.sharp_v
        && matches!(verb, 'v' | 's' | 'x' | 'X' | 'q')
    {
        fmt_string(out, display, verb, spec);
        return true;
    }
    false
}

fn print_value(out: &mut String, v: &Value, verb: char, spec: Spec, depth: usize) {
    if stringer(out, v, verb, spec) {
        return;
    }
    match v {
        Value::Nil => {
            if spec.sharp_v {
                out.push_str("interface {}(nil)");
            } else {
                pad(out, "<nil>", spec);
            }
        }
        Value::Bool(b) => match verb {
            't' | 'v' => pad(out, if *b { "true" } else { "false" }, spec),
            _ => bad_verb(out, verb, v, spec),
        },
        Value::Int(i) => fmt_integer(out, *i, verb, spec, v),
        Value::Float(f) => fmt_float(out, *f, verb, spec, v),
        Value::String(s) => fmt_string(out, s, verb, spec),
        Value::List(items) => {
            if spec.sharp_v {
                out.push_str(&v.type_name());
                out.push('{');
            } else {
                out.push('[');
            }
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(if spec.sharp_v { ", " } else { " " });
                }
                print_value(out, item, verb, spec, depth + 1);
            }
            out.push(if spec.sharp_v { '}' } else { ']' });
        }
        Value::Map(map) => print_map(out, map, verb, spec, depth),
        Value::Struct(s) => {
            if spec.sharp_v {
                out.push_str(&s.type_name);
            }
            out.push('{');
            for (i, (name, field)) in s.fields.iter().enumerate() {
                if i > 0 {
                    out.push_str(if spec.sharp_v { ", " } else { " " });
                }
                if spec.plus_v || spec.sharp_v {
                    out.push_str(name);
                    out.push(':');
                }
                print_value(out, field, verb, spec, depth + 1);
            }
            out.push('}');
        }
    }
}

fn print_map(out: &mut String, map: &Map, verb: char, spec: Spec, depth: usize) {
    if spec.sharp_v {
        out.push_str(&map.type_name());
        out.push('{');
    } else {
        out.push_str("map[");
    }
    for (i, (key, value)) in map.sorted().into_iter().enumerate() {
        if i > 0 {
            out.push_str(if spec.sharp_v { ", " } else { " " });
        }
        print_value(out, key, verb, spec, depth + 1);
        out.push(':');
        print_value(out, value, verb, spec, depth + 1);
    }
    out.push(if spec.sharp_v { '}' } else { ']' });
}

fn bad_verb(out: &mut String, verb: char, v: &Value, spec: Spec) {
    out.push_str("%!");
    out.push(verb);
    out.push('(');
    if let Value::Nil = v {
        out.push_str("<nil>");
    } else {
        out.push_str(&v.type_name());
        out.push('=');
        print_value(out, v, 'v', spec, 0);
    }
    out.push(')');
}

/// Pads `s` to the width, counting characters as Go counts runes.
fn pad(out: &mut String, s: &str, spec: Spec) {
    let len = s.chars().count();
    let fill = spec.width.map_or(0, |w| w.saturating_sub(len));
    if fill == 0 {
        out.push_str(s);
    } else if spec.minus {
        out.push_str(s);
        out.extend(std::iter::repeat_n(' ', fill));
    } else {
        out.extend(std::iter::repeat_n(if spec.zero { '0' } else { ' ' }, fill));
        out.push_str(s);
    }
}

fn fmt_string(out: &mut String, s: &str, verb: char, spec: Spec) {
    let truncated = |s: &str| -> String {
        match spec.prec {
            Some(p) => s.chars().take(p).collect(),
            None => s.to_owned(),
        }
    };
    match verb {
        'v' if spec.sharp_v => pad(out, &quote(s, false), spec),
        'v' | 's' => pad(out, &truncated(s), spec),
        'q' => {
            let s = truncated(s);
            let quoted = if spec.sharp && can_backquote(&s) {
                format!("`{s}`")
            } else {
                quote(&s, spec.plus)
            };
            pad(out, &quoted, spec);
        }
        'x' | 'X' => {
            let bytes = s.as_bytes();
            let bytes = &bytes[..spec.prec.map_or(bytes.len(), |p| p.min(bytes.len()))];
            let mut hex = String::new();
            for (i, b) in bytes.iter().enumerate() {
                if spec.space && i > 0 {
                    hex.push(' ');
                }
                if spec.sharp && (spec.space || i == 0) {
                    hex.push_str(if verb == 'x' { "0x" } else { "0X" });
                }
                if verb == 'x' {
                    _ = write!(hex, "{b:02x}");
                } else {
                    _ = write!(hex, "{b:02X}");
                }
            }
            pad(out, &hex, spec);
        }
        _ => bad_verb(out, verb, &Value::String(s.to_owned()), spec),
    }
}

fn fmt_integer(out: &mut String, i: i64, verb: char, spec: Spec, v: &Value) {
    let (base, upper) = match verb {
        'v' | 'd' => (10, false),
        'b' => (2, false),
        'o' | 'O' => (8, false),
        'x' => (16, false),
        'X' => (16, true),
        'c' => {
            let c = u32::try_from(i)
                .ok()
                .and_then(char::from_u32)
                .unwrap_or('\u{FFFD}');
            return pad(out, c.encode_utf8(&mut [0; 4]), spec);
        }
        'q' => {
            let c = u32::try_from(i)
                .ok()
                .and_then(char::from_u32)
                .unwrap_or('\u{FFFD}');
            return pad(out, &quote_rune(c, spec.plus), spec);
        }
        'U' => {
            let mut s = format!("U+{:04X}", i.unsigned_abs());
            if spec.sharp
                && let Some(c) = u32::try_from(i)
                    .ok()
                    .and_then(char::from_u32)
                    .filter(|c| is_print(*c))
            {
                _ = write!(s, " '{c}'");
            }
            return pad(out, &s, spec);
        }
        _ => return bad_verb(out, verb, v, spec),
    };
    let magnitude = i.unsigned_abs();
    let mut digits = match (base, upper) {
        (2, _) => format!("{magnitude:b}"),
        (8, _) => format!("{magnitude:o}"),
        (16, false) => format!("{magnitude:x}"),
        (16, true) => format!("{magnitude:X}"),
        _ => magnitude.to_string(),
    };
    let has_sign = i < 0 || spec.plus || spec.space;
    let min_digits = match spec.prec {
        Some(0) if magnitude == 0 => {
            // Go prints nothing for a zero with precision 0, only the padding.
            return pad(out, "", Spec { zero: false, ..spec });
        }
        Some(p) => p,
        None if spec.zero && !spec.minus => spec.width.unwrap_or(0).saturating_sub(usize::from(has_sign)),
        None => 0,
    };
    if digits.len() < min_digits {
        digits = "0".repeat(min_digits - digits.len()) + &digits;
    }
    let mut s = String::new();
    if i < 0 {
        s.push('-');
    } else if spec.plus {
        s.push('+');
    } else if spec.space {
        s.push(' ');
    }
    if spec.sharp {
        match (base, upper) {
            (2, _) => s.push_str("0b"),
            (8, _) if !digits.starts_with('0') => s.push('0'),
            (16, false) => s.push_str("0x"),
            (16, true) => s.push_str("0X"),
            _ => {}
        }
    }
    if verb == 'O' {
        s.push_str("0o");
    }
    s.push_str(&digits);
    pad(out, &s, Spec { zero: false, ..spec });
}

fn fmt_float(out: &mut String, f: f64, verb: char, spec: Spec, v: &Value) {
    let (form, default_prec) = match verb {
        'v' | 'g' => ('g', None),
        'G' => ('G', None),
        'e' | 'E' => (verb, Some(6)),
        'f' | 'F' => ('f', Some(6)),
        _ => return bad_verb(out, verb, v, spec),
    };
    let prec = spec.prec.or(default_prec);
    let mut num = if f.is_nan() {
        "NaN".to_owned()
    } else if f.is_infinite() {
        if f > 0.0 { "+Inf" } else { "-Inf" }.to_owned()
    } else {
        float::format_float(f, form, prec)
    };
    if !num.starts_with('-') && !num.starts_with('+') && !f.is_nan() {
        num.insert(0, '+');
    }
    if f.is_nan() {
        if spec.plus {
            num.insert(0, '+');
        } else if spec.space {
            num.insert(0, ' ');
        }
        return pad(out, &num, Spec { zero: false, ..spec });
    }
    if spec.space && !spec.plus && num.starts_with('+') {
        num.replace_range(0..1, " ");
    }
    if f.is_infinite() {
        // Go keeps the sign of infinities: `+Inf`.
        return pad(out, &num, Spec { zero: false, ..spec });
    }
    let show_sign = spec.plus || !num.starts_with('+');
    if !show_sign {
        num.remove(0);
        return pad(out, &num, spec);
    }
    let len = num.chars().count();
    match spec.width {
        Some(w) if spec.zero && w > len => {
            out.push_str(&num[..1]);
            out.extend(std::iter::repeat_n('0', w - len));
            out.push_str(&num[1..]);
        }
        _ => pad(out, &num, spec),
    }
}

/// Go's `unicode.IsPrint`, approximated: Rust's standard library has no general categories, so
/// controls, non-ASCII spaces, the common format characters, private use and non-characters
/// count as unprintable; everything else as printable.
pub(crate) fn is_print(c: char) -> bool {
    if c.is_ascii() {
        return (' '..='~').contains(&c);
    }
    let u = u32::from(c);
    !(c.is_control()
        || c.is_whitespace()
        || matches!(u, 0xAD | 0x600..=0x605 | 0x61C | 0x6DD | 0x70F | 0x180E)
        || matches!(u, 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x206F | 0xFEFF)
        || matches!(u, 0xFFF9..=0xFFFB | 0xE000..=0xF8FF | 0xF_0000..)
        || (u & 0xFFFE) == 0xFFFE
        || (0xFDD0..=0xFDEF).contains(&u))
}

fn push_escaped(out: &mut String, c: char, quote: char, ascii_only: bool) {
    if c == quote || c == '\\' {
        out.push('\\');
        out.push(c);
        return;
    }
    if (!ascii_only || c.is_ascii()) && is_print(c) {
        out.push(c);
        return;
    }
    match c {
        '\u{7}' => out.push_str("\\a"),
        '\u{8}' => out.push_str("\\b"),
        '\u{c}' => out.push_str("\\f"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\u{b}' => out.push_str("\\v"),
        c if u32::from(c) < 0x20 || c == '\u{7f}' => _ = write!(out, "\\x{:02x}", u32::from(c)),
        c if u32::from(c) < 0x10000 => _ = write!(out, "\\u{:04x}", u32::from(c)),
        c => _ = write!(out, "\\U{:08x}", u32::from(c)),
    }
}

/// Go's `strconv.Quote` (or `QuoteToASCII`).
pub(crate) fn quote(s: &str, ascii_only: bool) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        push_escaped(&mut out, c, '"', ascii_only);
    }
    out.push('"');
    out
}

fn quote_rune(c: char, ascii_only: bool) -> String {
    let mut out = String::from("'");
    push_escaped(&mut out, c, '\'', ascii_only);
    out.push('\'');
    out
}

fn can_backquote(s: &str) -> bool {
    s.chars()
        .all(|c| c != '`' && c != '\u{FEFF}' && (c == '\t' || !c.is_control()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(format: &str, args: &[Value]) -> String {
        let refs: Vec<&Value> = args.iter().collect();
        sprintf(format, &refs)
    }

    #[test]
    fn sprint_spaces_only_between_non_strings() {
        let args = [
            Value::Int(1),
            Value::Int(2),
            "a".into(),
            Value::Int(3),
            "b".into(),
            "c".into(),
            Value::Float(4.5),
            Value::Bool(true),
            Value::Bool(false),
            Value::Nil,
        ];
        let refs: Vec<&Value> = args.iter().collect();
        assert_eq!(sprint(&refs), "1 2a3bc4.5 true false <nil>");
        assert_eq!(sprintln(&refs[..3]), "1 2 a\n");
    }

    #[test]
    fn printf_matches_go_for_common_verbs() {
        // Expected strings produced by Go 1.19's fmt.
        assert_eq!(
            f(
                "%5s|%-5s|%05d|%x|%X|%q|%.2f|%t|%%|%d",
                &[
                    "ab".into(),
                    "cd".into(),
                    42.into(),
                    "hi".into(),
                    255.into(),
                    "q\"".into(),
                    3.14359.into(),
                    true.into(),
                    "s".into()
                ]
            ),
            "   ab|cd   |00042|6869|FF|\"q\\\"\"|3.14|true|%|%!d(string=s)"
        );
        assert_eq!(
            f(
                "%.2f %.1f %.0f %.0f %.1e %v %g %.3g %8.3f|%-8.2f|%+d|% d|%x",
                &[
                    0.125.into(),
                    0.25.into(),
                    0.5.into(),
                    2.5.into(),
                    125.0.into(),
                    0.1.into(),
                    123_456_789.0.into(),
                    1234.5678.into(),
                    3.14359.into(),
                    2.5.into(),
                    5.into(),
                    5.into(),
                    (-255).into()
                ]
            ),
            "0.12 0.2 0 2 1.2e+02 0.1 1.23456789e+08 1.23e+03    3.144|2.50    |+5| 5|-ff"
        );
        assert_eq!(f("%d %s", &[1.into()]), "1 %!s(MISSING)");
        assert_eq!(
            f("%d", &[1.into(), "x".into(), Value::Nil]),
            "1%!(EXTRA string=x, <nil>)"
        );
        assert_eq!(
            f(
                "%*d|%-*d|%.*f",
                &[4.into(), 7.into(), 3.into(), 1.into(), 1.into(), 2.5.into()]
            ),
            "   7|1  |2.5"
        );
        assert_eq!(
            f(
                "%c%c %q %U %#x %#o %b",
                &[
                    72.into(),
                    105.into(),
                    'x'.to_string().into(),
                    0x1F600.into(),
                    255.into(),
                    8.into(),
                    5.into()
                ]
            ),
            "Hi \"x\" U+1F600 0xff 010 101"
        );
        assert_eq!(
            f("%q %#q %+q", &["é\n".into(), "a`b".into(), "é".into()]),
            "\"é\\n\" \"a`b\" \"\\u00e9\""
        );
        assert_eq!(
            f("%v %d %s", &[Value::Nil, Value::Nil, Value::Nil]),
            "<nil> %!d(<nil>) %!s(<nil>)"
        );
        assert_eq!(
            f("%T %T %T", &[1.into(), "a".into(), vec!["a"].into()]),
            "int string []string"
        );
        assert_eq!(
            f(
                "%6.2f|%-8.3e|%+.1f|%08.3f",
                &[3.14359.into(), 1234.5.into(), 2.0.into(), (-3.5).into()]
            ),
            "  3.14|1.234e+03|+2.0|-003.500"
        );
        assert_eq!(
            f("%x % x %#x", &["hi".into(), "hi".into(), "hi".into()]),
            "6869 68 69 0x6869"
        );
        assert_eq!(
            f("%.0d|%5.3d|%.1s", &[0.into(), 7.into(), "héllo".into()]),
            "|  007|h"
        );
    }

    #[test]
    fn floats_print_like_go_v() {
        for (v, want) in [
            (1.5, "1.5"),
            (1e21, "1e+21"),
            (1e6, "1e+06"),
            (123_456.0, "123456"),
            (1_234_567.0, "1.234567e+06"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (0.0, "0"),
            (-2.0, "-2"),
            (100.0, "100"),
        ] {
            assert_eq!(to_string(&Value::Float(v)), want, "{v}");
        }
        assert_eq!(
            f(
                "%v %v %5.1f",
                &[f64::INFINITY.into(), f64::NAN.into(), f64::NEG_INFINITY.into()]
            ),
            "+Inf NaN  -Inf"
        );
        assert_eq!(
            f(
                "%g %G %.2g %e",
                &[1e-7.into(), 1e-7.into(), 100.0.into(), 0.0.into()]
            ),
            "1e-07 1E-07 1e+02 0.000000e+00"
        );
    }

    #[test]
    fn composites_print_like_go() {
        let s = Value::Struct(
            Struct::new("Change")
                .field("OldValue", "a:1")
                .field("NewValue", "a:2"),
        );
        let named = Value::Struct(
            Struct::new("NamespacedName")
                .field("Namespace", "ns")
                .field("Name", "n")
                .display("ns/n"),
        );
        let map = Value::Map(
            Map::new()
                .entry("z", 1)
                .entry("a", Value::Nil)
                .entry("m", vec!["x", "y"]),
        );
        assert_eq!(to_string(&s), "{a:1 a:2}");
        assert_eq!(f("%+v", std::slice::from_ref(&s)), "{OldValue:a:1 NewValue:a:2}");
        assert_eq!(
            f("%#v", std::slice::from_ref(&s)),
            "Change{OldValue:\"a:1\", NewValue:\"a:2\"}"
        );
        assert_eq!(to_string(&named), "ns/n");
        assert_eq!(
            f(
                "%+v %s %q %d",
                &[named.clone(), named.clone(), named.clone(), named]
            ),
            "ns/n ns/n \"ns/n\" {%!d(string=ns) %!d(string=n)}"
        );
        assert_eq!(to_string(&map), "map[a:<nil> m:[x y] z:1]");
        assert_eq!(f("%q", &[vec!["a", "b"].into()]), "[\"a\" \"b\"]");
        assert_eq!(f("%5v|", &[vec![1, 2].into()]), "[    1     2]|");
    }

    #[test]
    fn quote_escapes_like_strconv() {
        assert_eq!(
            quote("a\"b\\c\t\u{7}\u{1}\u{7f}é\u{200b}\u{1F600}", false),
            "\"a\\\"b\\\\c\\t\\a\\x01\\x7fé\\u200b\u{1F600}\""
        );
        assert_eq!(quote("é\u{1F600}", true), "\"\\u00e9\\U0001f600\"");
        assert_eq!(quote_rune('\'', false), "'\\''");
    }
}
