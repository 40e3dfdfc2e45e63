//! Sprig's regex functions, on the `regex` crate (RE2 syntax, like Go's `regexp`), with Go's
//! replacement template rules.

// Every body has the function table's signature, whether or not it can fail.
#![allow(clippy::unnecessary_wraps)]

use super::to_usize;
use crate::template::exec::V;
use crate::template::format;
use crate::template::funcs::{Ctx, int_at, ok, str_at};
use crate::template::value::Value;

type Out<'d> = Result<V<'d>, String>;

/// Compiles with Go's error prefix; the reason is the `regex` crate's (Go's would read
/// "missing closing )" where ours reads "unclosed group").
fn compile(re: &str) -> Result<regex::Regex, String> {
    regex::Regex::new(re).map_err(|e| {
        let reason = match &e {
            regex::Error::Syntax(text) => text
                .lines()
                .rev()
                .find_map(|l| l.strip_prefix("error: "))
                .unwrap_or(text)
                .to_owned(),
            other => other.to_string(),
        };
        let quoted = if re.contains('`') {
            format::quote(re, false)
        } else {
            format!("`{re}`")
        };
        format!("regexp: Compile({quoted}): error parsing regexp: {reason}")
    })
}

pub(crate) fn regex_match<'d>(_: &Ctx, args: &mut [V<'d>]) -> Out<'d> {
    ok(compile(str_at(args, 0)).is_ok_and(|re| re.is_match(str_at(args, 1))))
}

pub(crate) fn must_regex_match<'d>(_: &Ctx, args: &mut [V<'d>]) -> Out<'d> {
    ok(compile(str_at(args, 0))?.is_match(str_at(args, 1)))
}

pub(crate) fn regex_find<'d>(_: &Ctx, args: &mut [V<'d>]) -> Out<'d> {
    let re = compile(str_at(args, 0))?;
    ok(re.find(str_at(args, 1)).map_or("", |m| m.as_str()))
}

pub(crate) fn regex_find_all<'d>(_: &Ctx, args: &mut [V<'d>]) -> Out<'d> {
    let re = compile(str_at(args, 0))?;
    let n = int_at(args, 2);
    let limit = if n < 0 { usize::MAX } else { to_usize(n) };
    let found: Vec<&str> = re
        .find_iter(str_at(args, 1))
        .take(limit)
        .map(|m| m.as_str())
        .collect();
    ok(found)
}

/// Go's `Regexp.Expand` template: `$1`, `${1}`, `$name`, `${name}`, `$$`. A name is the longest
/// run of letters, digits and `_`, so `$1x` is the group named `1x`; all digits means a group
/// number, except with a leading zero (`$01` is the group named `01`).
fn expand(template: &str, caps: &regex::Captures<'_>, re: &regex::Regex, out: &mut String) {
    let mut rest = template;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        rest = &rest[i + 1..];
        if let Some(tail) = rest.strip_prefix('$') {
            out.push('$');
            rest = tail;
            continue;
        }
        let (braced, body) = match rest.strip_prefix('{') {
            Some(b) => (true, b),
            None => (false, rest),
        };
        let len: usize = body
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .map(char::len_utf8)
            .sum();
        let name = &body[..len];
        let closed = !braced || body[len..].starts_with('}');
        if name.is_empty() || !closed {
            out.push('$');
            continue;
        }
        rest = &body[len + usize::from(braced)..];
        let number = (name.bytes().all(|b| b.is_ascii_digit())
            && !(name.starts_with('0') && name.len() > 1)
            && name.len() <= 8)
            .then(|| name.parse::<usize>().ok())
            .flatten();
        let group = match number {
            Some(n) => caps.get(n),
            None => re
                .capture_names()
                .position(|n| n == Some(name))
                .and_then(|i| caps.get(i)),
        };
        if let Some(m) = group {
            out.push_str(m.as_str());
        }
    }
    out.push_str(rest);
}

pub(crate) fn regex_replace_all<'d>(ctx: &Ctx, args: &mut [V<'d>]) -> Out<'d> {
    let re = compile(str_at(args, 0))?;
    let (src, repl) = (str_at(args, 1), str_at(args, 2));
    let mut out = String::new();
    let mut last = 0;
    for caps in re.captures_iter(src) {
        let Some(m) = caps.get(0) else { continue };
        out.push_str(&src[last..m.start()]);
        expand(repl, &caps, &re, &mut out);
        last = m.end();
        if out.len() > ctx.max_output {
            return Err(format!("result would exceed {} bytes", ctx.max_output));
        }
    }
    out.push_str(&src[last..]);
    ok(out)
}

pub(crate) fn regex_replace_all_literal<'d>(_: &Ctx, args: &mut [V<'d>]) -> Out<'d> {
    let re = compile(str_at(args, 0))?;
    ok(re
        .replace_all(str_at(args, 1), regex::NoExpand(str_at(args, 2)))
        .into_owned())
}

/// Go's `Regexp.Split`.
pub(crate) fn regex_split<'d>(_: &Ctx, args: &mut [V<'d>]) -> Out<'d> {
    let (pattern, s, n) = (str_at(args, 0), str_at(args, 1), int_at(args, 2));
    let re = compile(pattern)?;
    if n == 0 {
        return ok(Value::List(Vec::new()));
    }
    if !pattern.is_empty() && s.is_empty() {
        return ok(vec![""]);
    }
    let limit = if n < 0 { usize::MAX } else { to_usize(n) };
    let mut parts = Vec::new();
    let (mut beg, mut end) = (0, 0);
    for m in re.find_iter(s).take(limit) {
        if n > 0 && parts.len() == limit - 1 {
            break;
        }
        end = m.start();
        if m.end() != 0 {
            parts.push(s[beg..end].to_owned());
        }
        beg = m.end();
    }
    if end != s.len() {
        parts.push(s[beg..].to_owned());
    }
    ok(parts)
}

pub(crate) fn regex_quote_meta<'d>(_: &Ctx, args: &mut [V<'d>]) -> Out<'d> {
    let mut out = String::new();
    for c in str_at(args, 0).chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::sprig::testing::{run, s};

    #[test]
    fn regexes_expand_like_go() {
        assert_eq!(
            s(
                regex_replace_all,
                vec!["(a)(b)?".into(), "ab a".into(), "[$1$2${1}x$1x$01$$]".into()]
            ),
            "[abax$] [aax$]"
        );
        assert_eq!(
            s(regex_replace_all, vec!["a*".into(), "baaac".into(), "X".into()]),
            "XbXcX"
        );
        assert_eq!(
            s(
                regex_replace_all,
                vec!["(?P<v>\\d+)".into(), "v12".into(), "<$v>".into()]
            ),
            "v<12>"
        );
        assert_eq!(
            s(
                regex_replace_all_literal,
                vec!["a".into(), "ba".into(), "$1".into()]
            ),
            "b$1"
        );
        assert_eq!(
            run(regex_find_all, vec!["x*".into(), "axbxx".into(), (-1).into()]),
            Ok(vec!["", "x", "xx"].into())
        );
        assert_eq!(
            run(regex_split, vec!["x*".into(), "axbxx".into(), (-1).into()]),
            Ok(vec!["a", "b", ""].into())
        );
        assert_eq!(
            run(regex_split, vec![",".into(), "a,b,c".into(), 2.into()]),
            Ok(vec!["a", "b,c"].into())
        );
        assert_eq!(s(regex_find, vec!["[0-9]+".into(), "v12.3".into()]), "12");
        assert_eq!(
            run(regex_match, vec!["(".into(), "x".into()]),
            Ok(Value::Bool(false))
        );
        assert!(run(must_regex_match, vec!["(".into(), "x".into()]).is_err());
        assert_eq!(s(regex_quote_meta, vec!["1.2+[x]".into()]), "1\\.2\\+\\[x\\]");
    }
}
