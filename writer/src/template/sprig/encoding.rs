//! Sprig's hashes, base64 and JSON.

// Every body has the function table's signature, whether or not it can fail.
#![allow(clippy::unnecessary_wraps)]

use std::fmt::Write as _;

use base64::Engine as _;
use sha2::Digest as _;

use crate::template::exec::V;
use crate::template::format;
use crate::template::funcs::{Ctx, ok, str_at, value_at};
use crate::template::value::Value;

type Out<'d> = Result<V<'d>, String>;

pub(crate) fn sha256sum<'d>(_: &Ctx, args: &mut [V<'d>]) -> Out<'d> {
    ok(hex::encode(sha2::Sha256::digest(str_at(args, 0).as_bytes())))
}

pub(crate) fn sha1sum<'d>(_: &Ctx, args: &mut [V<'d>]) -> Out<'d> {
    ok(hex::encode(sha1(str_at(args, 0).as_bytes())))
}

/// SHA-1 (FIPS 180-4), for Sprig's `sha1sum` only: a checksum in a commit message, not a
/// security boundary, and not worth a dependency.
#[allow(clippy::many_single_char_names)] // The standard's names: h, w, a–e, f, k.
fn sha1(data: &[u8]) -> [u8; 20] {
    let mut h: [u32; 5] = [0x6745_2301, 0xEFCD_AB89, 0x98BA_DCFE, 0x1032_5476, 0xC3D2_E1F0];
    let mut message = data.to_vec();
    let bit_len = u64::try_from(data.len()).unwrap_or(u64::MAX).wrapping_mul(8);
    message.push(0x80);
    while message.len() % 64 != 56 {
        message.push(0);
    }
    message.extend_from_slice(&bit_len.to_be_bytes());
    for block in message.chunks_exact(64) {
        let mut w = [0u32; 80];
        for (i, word) in block.chunks_exact(4).enumerate() {
            w[i] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        }
        for i in 16..80 {
            w[i] = (w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]).rotate_left(1);
        }
        let [mut a, mut b, mut c, mut d, mut e] = h;
        for (i, wi) in w.iter().enumerate() {
            let (f, k) = match i {
                0..=19 => ((b & c) | (!b & d), 0x5A82_7999),
                20..=39 => (b ^ c ^ d, 0x6ED9_EBA1),
                40..=59 => ((b & c) | (b & d) | (c & d), 0x8F1B_BCDC),
                _ => (b ^ c ^ d, 0xCA62_C1D6),
            };
            let t = a
                .rotate_left(5)
                .wrapping_add(f)
                .wrapping_add(e)
                .wrapping_add(k)
                .wrapping_add(*wi);
            e = d;
            d = c;
            c = b.rotate_left(30);
            b = a;
            a = t;
        }
        for (x, y) in h.iter_mut().zip([a, b, c, d, e]) {
            *x = x.wrapping_add(y);
        }
    }
    let mut out = [0u8; 20];
    for (chunk, word) in out.chunks_exact_mut(4).zip(h) {
        chunk.copy_from_slice(&word.to_be_bytes());
    }
    out
}

pub(crate) fn adler32sum<'d>(_: &Ctx, args: &mut [V<'d>]) -> Out<'d> {
    let (mut a, mut b) = (1u32, 0u32);
    for byte in str_at(args, 0).bytes() {
        a = (a + u32::from(byte)) % 65521;
        b = (b + a) % 65521;
    }
    ok((b << 16 | a).to_string())
}

pub(crate) fn b64enc<'d>(_: &Ctx, args: &mut [V<'d>]) -> Out<'d> {
    ok(base64::engine::general_purpose::STANDARD.encode(str_at(args, 0)))
}

/// Like Sprig, a decoding failure is the result (`illegal base64 data at input byte N`), not
/// an error. Go skips line breaks in the input.
pub(crate) fn b64dec<'d>(_: &Ctx, args: &mut [V<'d>]) -> Out<'d> {
    let input: String = str_at(args, 0)
        .chars()
        .filter(|c| *c != '\r' && *c != '\n')
        .collect();
    match base64::engine::general_purpose::STANDARD.decode(&input) {
        Ok(bytes) => ok(String::from_utf8_lossy(&bytes).into_owned()),
        Err(e) => {
            let at = match e {
                base64::DecodeError::InvalidByte(at, _) | base64::DecodeError::InvalidLastSymbol(at, _) => at,
                // Go points at the start of the incomplete group of four.
                base64::DecodeError::InvalidLength(_) | base64::DecodeError::InvalidPadding => {
                    input.len().saturating_sub(1) / 4 * 4
                }
            };
            ok(format!("illegal base64 data at input byte {at}"))
        }
    }
}

/// How `encoding/json` spells a value: struct fields by name in declaration order, map keys
/// sorted, `<`, `>`, `&` escaped unless `raw`.
fn encode_json(
    v: &Value,
    raw: bool,
    indent: Option<&str>,
    depth: usize,
    out: &mut String,
) -> Result<(), String> {
    let newline = |out: &mut String, depth: usize| {
        if let Some(unit) = indent {
            out.push('\n');
            for _ in 0..depth {
                out.push_str(unit);
            }
        }
    };
    match v {
        Value::Nil => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => out.push_str(&i.to_string()),
        Value::Float(f) => {
            if !f.is_finite() {
                return Err(format!("json: unsupported value: {}", format::to_string(v)));
            }
            out.push_str(&json_float(*f));
        }
        Value::String(s) => json_string(s, raw, out),
        Value::List(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, depth + 1);
                encode_json(item, raw, indent, depth + 1, out)?;
            }
            if !items.is_empty() {
                newline(out, depth);
            }
            out.push(']');
        }
        Value::Map(map) => {
            let mut entries = Vec::with_capacity(map.len());
            for (k, v) in map.entries() {
                let key = match k {
                    Value::String(s) => s.clone(),
                    Value::Int(i) => i.to_string(),
                    _ => return Err(format!("json: unsupported type: {}", map.type_name())),
                };
                entries.push((key, v));
            }
            entries.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            let fields: Vec<(&str, &Value)> = entries.iter().map(|(k, v)| (k.as_str(), *v)).collect();
            encode_object(&fields, raw, indent, depth, out)?;
        }
        Value::Struct(s) => {
            let fields: Vec<(&str, &Value)> = s.fields.iter().map(|(k, v)| (k.as_str(), v)).collect();
            encode_object(&fields, raw, indent, depth, out)?;
        }
    }
    Ok(())
}

fn encode_object(
    fields: &[(&str, &Value)],
    raw: bool,
    indent: Option<&str>,
    depth: usize,
    out: &mut String,
) -> Result<(), String> {
    out.push('{');
    for (i, (key, value)) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        if let Some(unit) = indent {
            out.push('\n');
            out.push_str(&unit.repeat(depth + 1));
        }
        json_string(key, raw, out);
        out.push_str(if indent.is_some() { ": " } else { ":" });
        encode_json(value, raw, indent, depth + 1, out)?;
    }
    if let (Some(unit), false) = (indent, fields.is_empty()) {
        out.push('\n');
        out.push_str(&unit.repeat(depth));
    }
    out.push('}');
    Ok(())
}

/// `encoding/json`'s float format: shortest digits, exponent form outside [1e-6, 1e21).
fn json_float(f: f64) -> String {
    let abs = f.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        let s = crate::template::float::format_float(f, 'e', None);
        // Go writes e-7, not e-07.
        match s.split_once("e-0") {
            Some((mantissa, exp)) if exp.len() == 1 => format!("{mantissa}e-{exp}"),
            _ => s,
        }
    } else {
        crate::template::float::format_float(f, 'f', None)
    }
}

fn json_string(s: &str, raw: bool, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' if !raw => _ = write!(out, "\\u{:04x}", u32::from(c)),
            '\u{2028}' | '\u{2029}' => _ = write!(out, "\\u{:04x}", u32::from(c)),
            c if u32::from(c) < 0x20 => _ = write!(out, "\\u{:04x}", u32::from(c)),
            c => out.push(c),
        }
    }
    out.push('"');
}

fn json(v: &Value, raw: bool, indent: Option<&str>) -> Result<String, String> {
    let mut out = String::new();
    encode_json(v, raw, indent, 0, &mut out)?;
    Ok(out)
}

/// Sprig's `toJson` swallows errors and gives an empty string.
pub(crate) fn to_json<'d>(_: &Ctx, args: &mut [V<'d>]) -> Out<'d> {
    ok(json(value_at(args, 0), false, None).unwrap_or_default())
}

pub(crate) fn must_to_json<'d>(_: &Ctx, args: &mut [V<'d>]) -> Out<'d> {
    ok(json(value_at(args, 0), false, None)?)
}

pub(crate) fn to_pretty_json<'d>(_: &Ctx, args: &mut [V<'d>]) -> Out<'d> {
    ok(json(value_at(args, 0), false, Some("  ")).unwrap_or_default())
}

pub(crate) fn must_to_pretty_json<'d>(_: &Ctx, args: &mut [V<'d>]) -> Out<'d> {
    ok(json(value_at(args, 0), false, Some("  "))?)
}

pub(crate) fn to_raw_json<'d>(_: &Ctx, args: &mut [V<'d>]) -> Out<'d> {
    ok(json(value_at(args, 0), true, None)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::sprig::testing::{run, s};
    use crate::template::value::{Map, Struct};

    #[test]
    fn hashes_and_encodings() {
        assert_eq!(
            s(sha256sum, vec!["abc".into()]),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            s(sha1sum, vec!["abc".into()]),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        assert_eq!(
            s(sha1sum, vec!["".into()]),
            "da39a3ee5e6b4b0d3255bfef95601890afd80709"
        );
        assert_eq!(
            s(sha1sum, vec!["a".repeat(1000).into()]),
            "291e9a6c66994949b57ba5e650361e98fc36b1ba"
        );
        assert_eq!(s(adler32sum, vec!["Wikipedia".into()]), "300286872");
        assert_eq!(s(b64enc, vec!["hello".into()]), "aGVsbG8=");
        assert_eq!(s(b64dec, vec!["aGVs\nbG8=".into()]), "hello");
        assert!(s(b64dec, vec!["a*b".into()]).starts_with("illegal base64 data at input byte"));
    }

    #[test]
    fn json_matches_encoding_json() {
        let v = Value::Map(
            Map::new()
                .entry("s", "<a&b>\n\u{2028}")
                .entry("i", 3)
                .entry("f", 2.5)
                .entry("l", Value::List(vec![1.into(), "a".into(), true.into()]))
                .entry("n", Value::Nil)
                .entry("m", Map::new().entry("z", 1).entry("a", "x")),
        );
        assert_eq!(
            run(to_json, vec![v.clone()]),
            Ok(r#"{"f":2.5,"i":3,"l":[1,"a",true],"m":{"a":"x","z":1},"n":null,"s":"\u003ca\u0026b\u003e\n\u2028"}"#.into())
        );
        assert_eq!(run(to_raw_json, vec![Value::from("<&>")]), Ok(r#""<&>""#.into()));
        let named = Value::Struct(
            Struct::new("NamespacedName")
                .field("Namespace", "flux-system")
                .field("Name", "flux-system")
                .display("x"),
        );
        assert_eq!(
            run(to_json, vec![named]),
            Ok(r#"{"Namespace":"flux-system","Name":"flux-system"}"#.into())
        );
        assert_eq!(
            run(
                to_pretty_json,
                vec![Value::Map(
                    Map::new().entry("a", vec![1, 2]).entry("b", Map::new())
                )]
            ),
            Ok("{\n  \"a\": [\n    1,\n    2\n  ],\n  \"b\": {}\n}".into())
        );
        for (f, want) in [
            (1e-7, "1e-7"),
            (1e21, "1e+21"),
            (123_456_789.0, "123456789"),
            (0.000_001, "0.000001"),
            (-0.0, "-0"),
        ] {
            assert_eq!(json_float(f), want);
        }
        assert_eq!(run(to_json, vec![f64::NAN.into()]), Ok("".into()));
        assert!(run(must_to_json, vec![f64::NAN.into()]).is_err());
        let struct_keys = Value::Map(Map::new().entry(Value::Struct(Struct::new("K")), 1));
        assert_eq!(run(to_json, vec![struct_keys]), Ok("".into()));
    }
}
