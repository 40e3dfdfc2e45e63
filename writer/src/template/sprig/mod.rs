//! Sprig's functions (Masterminds/sprig v3, the hermetic set Flux registers), with Sprig's
//! argument order: the piped value comes last (`.Name | replace "a" "b"`).
//!
//! Strings are Rust strings, so where Sprig slices bytes (`substr`, `trunc`, `abbrev`) a cut
//! through a multi-byte character becomes U+FFFD instead of an invalid byte.

pub(crate) mod collections;
pub(crate) mod encoding;
pub(crate) mod numbers;
pub(crate) mod regex;
pub(crate) mod strings;

use super::format;
use super::value::{Struct, Value};

/// Sprig's `strval`: strings as they are, `String()` where there is one, else `%v`.
pub(crate) fn strval(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Struct(Struct { display: Some(d), .. }) => d.clone(),
        other => format::to_string(other),
    }
}

/// Sprig's `strslice`: the non-nil elements of a list as strings; nil is empty; anything else
/// is a one-element list.
pub(crate) fn strslice(v: &Value) -> Vec<String> {
    match v {
        Value::List(items) => items
            .iter()
            .filter(|i| !matches!(i, Value::Nil))
            .map(strval)
            .collect(),
        Value::Nil => Vec::new(),
        other => vec![strval(other)],
    }
}

/// Go's `s[start:end]` on bytes, with Go's panic text as the error.
fn byte_slice(s: &str, start: usize, end: usize) -> Result<String, String> {
    if end > s.len() {
        return Err(format!(
            "runtime error: slice bounds out of range [:{end}] with length {}",
            s.len()
        ));
    }
    if start > end {
        return Err(format!(
            "runtime error: slice bounds out of range [{start}:{end}]"
        ));
    }
    Ok(String::from_utf8_lossy(&s.as_bytes()[start..end]).into_owned())
}

fn to_usize(i: i64) -> usize {
    usize::try_from(i).unwrap_or(usize::MAX)
}

#[cfg(test)]
pub(crate) mod testing {
    use std::borrow::Cow;

    use crate::template::funcs::{Ctx, Imp};
    use crate::template::value::Value;

    /// Calls a function body as the executor would, with owned arguments.
    pub(crate) fn run(f: Imp, args: Vec<Value>) -> Result<Value, String> {
        let ctx = Ctx { max_output: 1 << 20 };
        f(&ctx, &mut args.into_iter().map(Cow::Owned).collect::<Vec<_>>()).map(Cow::into_owned)
    }

    /// Like [`run`], for functions that return strings.
    pub(crate) fn s(f: Imp, args: Vec<Value>) -> String {
        match run(f, args) {
            Ok(Value::String(s)) => s,
            other => panic!("not a string: {other:?}"),
        }
    }
}
