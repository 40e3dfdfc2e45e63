//! Sprig's string functions, plus its `path` ones (file paths in commit messages).

// Every body has the function table's signature, whether or not it can fail.
#![allow(clippy::unnecessary_wraps)]

use super::{byte_slice, strslice, strval, to_usize};
use crate::template::exec::V;
use crate::template::format;
use crate::template::funcs::{Ctx, int_at, ok, str_at, value_at};
use crate::template::value::{Map, Value};

type Out<'d> = Result<V<'d>, String>;

pub(crate) fn abbrev<'d>(_: &Ctx, args: &mut [V<'d>]) -> Out<'d> {
    let (width, s) = (int_at(args, 0), str_at(args, 1));
    if width < 4 || s.len() <= to_usize(width) {
        return ok(s);
    }
    ok(byte_slice(s, 0, to_usize(width - 3))? + "...")
}

pub(crate) fn trunc<'d>(_: &Ctx, args: &mut [V<'d>]) -> Out<'d> {
    let (c, s) = (int_at(args, 0), str_at(args, 1));
    let len = i64::try_from(s.len()).unwrap_or(i64::MAX);
    if c < 0 && len + c > 0 {
        return ok(byte_slice(s, to_usize(len + c), s.len())?);
    }
    if c >= 0 && len > c {
        return ok(byte_slice(s, 0, to_usize(c))?);
    }
    ok(s)
}

pub(crate) fn trim<'d>(_: &Ctx, args: &mut [V<'d>]) -> Out<'d> {
    ok(str_at(args, 0).trim())
}

/// Go's `unicode.ToUpper` per character: a character whose upper case is several characters
/// (`ß`) stays as it is.
fn upper_char(c: char) -> char {
    let mut up = c.to_uppercase();
    match (up.next(), up.next()) {
        (Some(u), None) => u,
        _ => c,
    }
}

fn lower_char(c: char) -> char {
    if c == '\u{130}' {
        return 'i';
    }
    let mut low = c.to_lowercase();
    match (low.next(), low.next()) {
        (Some(l), None) => l,
        _ => c,
    }
}

pub(crate) fn upper<'d>(_: &Ctx, args: &mut [V<'d>]) -> Out<'d> {
    ok(str_at(args, 0).chars().map(upper_char).collect::<String>())
}

pub(crate) fn lower<'d>(_: &Ctx, args: &mut [V<'d>]) -> Out<'d> {
    ok(str_at(args, 0).chars().map(lower_char).collect::<String>())
}

/// Go's `strings.Title`: upper-cases each letter that follows a separator.
pub(crate) fn title<'d>(_: &Ctx, args: &mut [V<'d>]) -> Out<'d> {
    let is_separator = |c: char| {
        if c.is_ascii() {
            return !(c.is_ascii_alphanumeric() || c == '_');
        }
        !c.is_alphanumeric() && c.is_whitespace()
    };
    let mut prev = ' ';
    let out: String = str_at(args, 0)
        .chars()
        .map(|c| {
            let mapped = if is_separator(prev) { upper_char(c) } else { c };
            prev = c;
            mapped
        })
        .collect();
    ok(out)
}

pub(crate) fn substr<'d>(_: &Ctx, args: &mut [V<'d>]) -> Out<'d> {
    let (start, end, s) = (int_at(args, 0), int_at(args, 1), str_at(args, 2));
    let len = i64::try_from(s.len()).unwrap_or(i64::MAX);
    if start < 0 {
        if end < 0 {
            return Err(format!("runtime error: slice bounds out of range [:{end}]"));
        }
        return ok(byte_slice(s, 0, to_usize(end))?);
    }
    if end < 0 || end > len {
        return ok(byte_slice(s, to_usize(start), s.len())?);
    }
    ok(byte_slice(s, to_usize(start), to_usize(end))?)
}

fn repeat_checked(ctx: &Ctx, s: &str, count: i64) -> Result<String, String> {
    if count < 0 {
        return Err("strings: negative Repeat count".to_owned());
    }
    let count = to_usize(count);
    if s.len().saturating_mul(count) > ctx.max_output {
        return Err(format!("result would exceed {} bytes", ctx.max_output));
    }
    Ok(s.repeat(count))
}

pub(crate) fn repeat<'d>(ctx: &Ctx, args: &mut [V<'d>]) -> Out<'d> {
    ok(repeat_checked(ctx, str_at(args, 1), int_at(args, 0))?)
}

pub(crate) fn trim_all<'d>(_: &Ctx, args: &mut [V<'d>]) -> Out<'d> {
    let cutset = str_at(args, 0);
    ok(str_at(args, 1).trim_matches(|c| cutset.contains(c)))
}

pub(crate) fn trim_suffix<'d>(_: &Ctx, args: &mut [V<'d>]) -> Out<'d> {
    let s = str_at(args, 1);
    ok(s.strip_suffix(str_at(args, 0)).unwrap_or(s))
}

pub(crate) fn trim_prefix<'d>(_: &Ctx, args: &mut [V<'d>]) -> Out<'d> {
    let s = str_at(args, 1);
    ok(s.strip_prefix(str_at(args, 0)).unwrap_or(s))
}

pub(crate) fn nospace<'d>(_: &Ctx, args: &mut [V<'d>]) -> Out<'d> {
    ok(str_at(args, 0)
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>())
}

pub(crate) fn contains<'d>(_: &Ctx, args: &mut [V<'d>]) -> Out<'d> {
    ok(str_at(args, 1).contains(str_at(args, 0)))
}

pub(crate) fn has_prefix<'d>(_: &Ctx, args: &mut [V<'d>]) -> Out<'d> {
    ok(str_at(args, 1).starts_with(str_at(args, 0)))
}

pub(crate) fn has_suffix<'d>(_: &Ctx, args: &mut [V<'d>]) -> Out<'d> {
    ok(str_at(args, 1).ends_with(str_at(args, 0)))
}

pub(crate) fn quote<'d>(_: &Ctx, args: &mut [V<'d>]) -> Out<'d> {
    let quoted: Vec<String> = args
        .iter()
        .filter(|v| !matches!(***v, Value::Nil))
        .map(|v| format::quote(&strval(v), false))
        .collect();
    ok(quoted.join(" "))
}

pub(crate) fn squote<'d>(_: &Ctx, args: &mut [V<'d>]) -> Out<'d> {
    let quoted: Vec<String> = args
        .iter()
        .filter(|v| !matches!(***v, Value::Nil))
        .map(|v| format!("'{}'", format::to_string(v)))
        .collect();
    ok(quoted.join(" "))
}

pub(crate) fn cat<'d>(_: &Ctx, args: &mut [V<'d>]) -> Out<'d> {
    let parts: Vec<String> = args
        .iter()
        .filter(|v| !matches!(***v, Value::Nil))
        .map(|v| format::to_string(v))
        .collect();
    ok(parts.join(" "))
}

fn indent_checked(ctx: &Ctx, spaces: i64, s: &str) -> Result<String, String> {
    let pad = repeat_checked(ctx, " ", spaces)?;
    let lines = s.matches('\n').count() + 1;
    if pad.len().saturating_mul(lines).saturating_add(s.len()) > ctx.max_output {
        return Err(format!("result would exceed {} bytes", ctx.max_output));
    }
    Ok(format!("{pad}{}", s.replace('\n', &format!("\n{pad}"))))
}

pub(crate) fn indent<'d>(ctx: &Ctx, args: &mut [V<'d>]) -> Out<'d> {
    ok(indent_checked(ctx, int_at(args, 0), str_at(args, 1))?)
}

pub(crate) fn nindent<'d>(ctx: &Ctx, args: &mut [V<'d>]) -> Out<'d> {
    ok(format!(
        "\n{}",
        indent_checked(ctx, int_at(args, 0), str_at(args, 1))?
    ))
}

pub(crate) fn replace<'d>(ctx: &Ctx, args: &mut [V<'d>]) -> Out<'d> {
    let (old, new, src) = (str_at(args, 0), str_at(args, 1), str_at(args, 2));
    let matches = if old.is_empty() {
        src.chars().count() + 1
    } else {
        src.matches(old).count()
    };
    if new.len().saturating_mul(matches).saturating_add(src.len()) > ctx.max_output {
        return Err(format!("result would exceed {} bytes", ctx.max_output));
    }
    ok(src.replace(old, new))
}

pub(crate) fn plural<'d>(_: &Ctx, args: &mut [V<'d>]) -> Out<'d> {
    ok(if int_at(args, 2) == 1 {
        str_at(args, 0)
    } else {
        str_at(args, 1)
    })
}

pub(crate) fn to_string<'d>(_: &Ctx, args: &mut [V<'d>]) -> Out<'d> {
    ok(strval(value_at(args, 0)))
}

/// Go's `strings.Split`/`SplitN` (`n < 0` for all; an empty separator splits into characters).
fn go_split(s: &str, sep: &str, n: i64) -> Vec<String> {
    if n == 0 {
        return Vec::new();
    }
    let limit = if n < 0 { usize::MAX } else { to_usize(n) };
    if sep.is_empty() {
        let chars: Vec<char> = s.chars().collect();
        if chars.len() <= limit {
            return chars.into_iter().map(String::from).collect();
        }
        let mut parts: Vec<String> = chars[..limit - 1].iter().map(ToString::to_string).collect();
        parts.push(chars[limit - 1..].iter().collect());
        return parts;
    }
    s.splitn(limit, sep).map(str::to_owned).collect()
}

fn numbered(parts: Vec<String>) -> Value {
    let mut map = Map::with_zero(Value::String(String::new()));
    for (i, part) in parts.into_iter().enumerate() {
        map.insert(Value::String(format!("_{i}")), Value::String(part));
    }
    Value::Map(map)
}

pub(crate) fn split<'d>(_: &Ctx, args: &mut [V<'d>]) -> Out<'d> {
    ok(numbered(go_split(str_at(args, 1), str_at(args, 0), -1)))
}

pub(crate) fn splitn<'d>(_: &Ctx, args: &mut [V<'d>]) -> Out<'d> {
    ok(numbered(go_split(
        str_at(args, 2),
        str_at(args, 0),
        int_at(args, 1),
    )))
}

pub(crate) fn split_list<'d>(_: &Ctx, args: &mut [V<'d>]) -> Out<'d> {
    ok(go_split(str_at(args, 1), str_at(args, 0), -1))
}

pub(crate) fn to_strings<'d>(_: &Ctx, args: &mut [V<'d>]) -> Out<'d> {
    ok(strslice(value_at(args, 0)))
}

pub(crate) fn join<'d>(_: &Ctx, args: &mut [V<'d>]) -> Out<'d> {
    ok(strslice(value_at(args, 1)).join(str_at(args, 0)))
}

pub(crate) fn sort_alpha<'d>(_: &Ctx, args: &mut [V<'d>]) -> Out<'d> {
    let v = value_at(args, 0);
    let mut items = match v {
        Value::List(_) => strslice(v),
        other => vec![strval(other)],
    };
    items.sort_unstable_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    ok(items)
}

/// Go's `path.Clean`: the shortest equivalent slash-separated path.
pub(crate) fn clean(path: &str) -> String {
    if path.is_empty() {
        return ".".to_owned();
    }
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|p| *p != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            part => parts.push(part),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_owned(),
        (false, false) => joined,
    }
}

pub(crate) fn path_base<'d>(_: &Ctx, args: &mut [V<'d>]) -> Out<'d> {
    let path = str_at(args, 0);
    if path.is_empty() {
        return ok(".");
    }
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() {
        return ok("/");
    }
    ok(trimmed.rsplit('/').next().unwrap_or(trimmed))
}

pub(crate) fn path_dir<'d>(_: &Ctx, args: &mut [V<'d>]) -> Out<'d> {
    let path = str_at(args, 0);
    let dir = path.rfind('/').map_or("", |i| &path[..=i]);
    ok(clean(dir))
}

pub(crate) fn path_clean<'d>(_: &Ctx, args: &mut [V<'d>]) -> Out<'d> {
    ok(clean(str_at(args, 0)))
}

pub(crate) fn path_ext<'d>(_: &Ctx, args: &mut [V<'d>]) -> Out<'d> {
    let path = str_at(args, 0);
    let name = path.rsplit('/').next().unwrap_or(path);
    ok(name.rfind('.').map_or("", |i| &name[i..]))
}

pub(crate) fn path_is_abs<'d>(_: &Ctx, args: &mut [V<'d>]) -> Out<'d> {
    ok(str_at(args, 0).starts_with('/'))
}

pub(crate) fn fail<'d>(_: &Ctx, args: &mut [V<'d>]) -> Out<'d> {
    Err(str_at(args, 0).to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::sprig::testing::{run, s};

    #[test]
    fn string_functions_match_sprig() {
        assert_eq!(s(abbrev, vec![5.into(), "hello world".into()]), "he...");
        assert_eq!(s(abbrev, vec![3.into(), "hello world".into()]), "hello world");
        assert_eq!(s(trunc, vec![5.into(), "hello world".into()]), "hello");
        assert_eq!(s(trunc, vec![(-5).into(), "hello world".into()]), "world");
        assert_eq!(s(upper, vec!["straße é".into()]), "STRAßE É");
        assert_eq!(s(lower, vec!["ÀB İ".into()]), "àb i");
        assert_eq!(s(title, vec!["hello wide_world-x".into()]), "Hello Wide_world-X");
        assert_eq!(s(substr, vec![1.into(), 3.into(), "hello".into()]), "el");
        assert_eq!(s(substr, vec![(-1).into(), 2.into(), "hello".into()]), "he");
        assert_eq!(s(substr, vec![2.into(), 99.into(), "hello".into()]), "llo");
        assert!(run(substr, vec![9.into(), 99.into(), "hello".into()]).is_err());
        assert_eq!(s(repeat, vec![3.into(), "ab".into()]), "ababab");
        assert!(run(repeat, vec![(-1).into(), "ab".into()]).is_err());
        assert!(run(repeat, vec![i64::MAX.into(), "ab".into()]).is_err());
        assert_eq!(s(trim_all, vec!["$".into(), "$$5.00$".into()]), "5.00");
        assert_eq!(s(trim_prefix, vec!["v".into(), "v1.0".into()]), "1.0");
        assert_eq!(s(trim_suffix, vec!["-rc".into(), "1.0-rc".into()]), "1.0");
        assert_eq!(s(nospace, vec![" a b\tc\n".into()]), "abc");
        assert_eq!(
            s(quote, vec!["a\"b".into(), Value::Nil, 3.into()]),
            "\"a\\\"b\" \"3\""
        );
        assert_eq!(s(squote, vec!["a".into(), 3.into()]), "'a' '3'");
        assert_eq!(
            s(cat, vec!["a".into(), Value::Nil, 3.into(), vec!["x"].into()]),
            "a 3 [x]"
        );
        assert_eq!(s(indent, vec![2.into(), "a\nb".into()]), "  a\n  b");
        assert_eq!(s(nindent, vec![2.into(), "a".into()]), "\n  a");
        assert_eq!(s(replace, vec!["-".into(), "_".into(), "a-b-c".into()]), "a_b_c");
        assert_eq!(s(replace, vec!["".into(), "-".into(), "ab".into()]), "-a-b-");
        assert_eq!(s(plural, vec!["one".into(), "many".into(), 1.into()]), "one");
        assert_eq!(s(plural, vec!["one".into(), "many".into(), 2.into()]), "many");
        assert_eq!(
            s(
                join,
                vec![", ".into(), Value::List(vec!["a".into(), Value::Nil, 2.into()])]
            ),
            "a, 2"
        );
        assert_eq!(s(join, vec![", ".into(), "solo".into()]), "solo");
        assert_eq!(
            run(sort_alpha, vec![vec!["b", "B", "a"].into()]),
            Ok(vec!["B", "a", "b"].into())
        );
        assert_eq!(
            run(split_list, vec!["/".into(), "a/b/c".into()]),
            Ok(vec!["a", "b", "c"].into())
        );
        assert_eq!(
            run(split_list, vec!["".into(), "ab".into()]),
            Ok(vec!["a", "b"].into())
        );
        let Ok(Value::Map(parts)) = run(split, vec!["/".into(), "a/b".into()]) else {
            panic!("map")
        };
        assert_eq!(parts.get_str("_1"), Some(&Value::from("b")));
        let Ok(Value::Map(parts)) = run(splitn, vec!["/".into(), 2.into(), "a/b/c".into()]) else {
            panic!("map")
        };
        assert_eq!(parts.get_str("_1"), Some(&Value::from("b/c")));
    }

    #[test]
    fn paths_follow_go() {
        for (path, want) in [
            ("a/b/../c/./d/", "a/c/d"),
            ("/../a", "/a"),
            ("../../a", "../../a"),
            ("", "."),
            ("//", "/"),
        ] {
            assert_eq!(clean(path), want, "{path}");
        }
        assert_eq!(s(path_base, vec!["clusters/prod/app.yaml".into()]), "app.yaml");
        assert_eq!(s(path_base, vec!["a/b/".into()]), "b");
        assert_eq!(
            s(path_dir, vec!["clusters/prod/app.yaml".into()]),
            "clusters/prod"
        );
        assert_eq!(s(path_dir, vec!["app.yaml".into()]), ".");
        assert_eq!(s(path_ext, vec!["a.b/c.yaml".into()]), ".yaml");
        assert_eq!(s(path_ext, vec!["a.b/c".into()]), "");
    }
}
