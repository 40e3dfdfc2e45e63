//! Sprig's list, dict, default and reflection functions.
//!
//! Sprig's dicts are Go maps, so `keys` and `values` come out in random order there; here they
//! come out sorted, which is one of the orders Sprig could produce. `set`, `unset` and `merge`
//! are left out: they mutate a dict in place, which our values (copied, not shared) cannot
//! mirror faithfully.

// Every body has the function table's signature, whether or not it can fail.
#![allow(clippy::unnecessary_wraps)]

use std::borrow::Cow;

use super::numbers::to_int64;
use super::strval;
use crate::template::exec::V;
use crate::template::funcs::{Ctx, ok, str_at, take, value_at};
use crate::template::value::{Map, Value};

type Out<'d> = Result<V<'d>, String>;

fn take_value<'d>(v: &mut V<'d>) -> V<'d> {
    std::mem::replace(v, Cow::Owned(Value::Nil))
}

const NIL_DEREFERENCE: &str = "runtime error: invalid memory address or nil pointer dereference";

/// Go's `reflect.Kind` name of a value.
fn kind_name(v: &Value) -> &'static str {
    match v {
        Value::Nil => "invalid",
        Value::Bool(_) => "bool",
        Value::Int(_) => "int",
        Value::Float(_) => "float64",
        Value::String(_) => "string",
        Value::List(_) => "slice",
        Value::Map(_) => "map",
        Value::Struct(_) => "struct",
    }
}

/// The list argument of a Sprig list function; Sprig panics on nil and refuses other kinds.
fn list_arg<'a>(v: &'a Value, what: &str) -> Result<&'a [Value], String> {
    match v {
        Value::List(items) => Ok(items),
        Value::Nil => Err(NIL_DEREFERENCE.to_owned()),
        other => Err(format!("Cannot {what} type {}", kind_name(other))),
    }
}

pub(crate) fn list<'d>(_: &Ctx, args: &mut [V<'d>]) -> Out<'d> {
    ok(Value::List(
        args.iter_mut().map(|v| take_value(v).into_owned()).collect(),
    ))
}

/// The element at `i` of the list argument, borrowed when the list is.
fn element(list: V<'_>, i: impl FnOnce(usize) -> Option<usize>) -> V<'_> {
    match list {
        Cow::Borrowed(Value::List(items)) => i(items.len())
            .and_then(|i| items.get(i))
            .map_or(Cow::Owned(Value::Nil), Cow::Borrowed),
        Cow::Owned(Value::List(mut items)) => match i(items.len()) {
            Some(i) if i < items.len() => Cow::Owned(items.swap_remove(i)),
            _ => Cow::Owned(Value::Nil),
        },
        _ => Cow::Owned(Value::Nil),
    }
}

pub(crate) fn first<'d>(_: &Ctx, args: &mut [V<'d>]) -> Out<'d> {
    list_arg(value_at(args, 0), "find first on")?;
    Ok(element(take(args, 0), |_| Some(0)))
}

pub(crate) fn last<'d>(_: &Ctx, args: &mut [V<'d>]) -> Out<'d> {
    list_arg(value_at(args, 0), "find last on")?;
    Ok(element(take(args, 0), |len| len.checked_sub(1)))
}

pub(crate) fn rest<'d>(_: &Ctx, args: &mut [V<'d>]) -> Out<'d> {
    let items = list_arg(value_at(args, 0), "find rest on")?;
    ok(Value::List(items.iter().skip(1).cloned().collect()))
}

pub(crate) fn initial<'d>(_: &Ctx, args: &mut [V<'d>]) -> Out<'d> {
    let items = list_arg(value_at(args, 0), "find initial on")?;
    ok(Value::List(items[..items.len().saturating_sub(1)].to_vec()))
}

pub(crate) fn reverse<'d>(_: &Ctx, args: &mut [V<'d>]) -> Out<'d> {
    let items = list_arg(value_at(args, 0), "find reverse on")?;
    ok(Value::List(items.iter().rev().cloned().collect()))
}

pub(crate) fn compact<'d>(_: &Ctx, args: &mut [V<'d>]) -> Out<'d> {
    let items = list_arg(value_at(args, 0), "compact on")?;
    ok(Value::List(
        items.iter().filter(|v| !is_empty(v)).cloned().collect(),
    ))
}

pub(crate) fn uniq<'d>(_: &Ctx, args: &mut [V<'d>]) -> Out<'d> {
    let items = list_arg(value_at(args, 0), "find uniq on")?;
    let mut out: Vec<Value> = Vec::new();
    for item in items {
        if !out.contains(item) {
            out.push(item.clone());
        }
    }
    ok(Value::List(out))
}

pub(crate) fn without<'d>(_: &Ctx, args: &mut [V<'d>]) -> Out<'d> {
    let items = list_arg(value_at(args, 0), "find without on")?;
    let omit = &args[1..];
    ok(Value::List(
        items
            .iter()
            .filter(|i| !omit.iter().any(|o| **o == **i))
            .cloned()
            .collect(),
    ))
}

pub(crate) fn has<'d>(_: &Ctx, args: &mut [V<'d>]) -> Out<'d> {
    let needle = value_at(args, 0);
    match value_at(args, 1) {
        Value::Nil => ok(false),
        haystack => ok(list_arg(haystack, "find has on")?.contains(needle)),
    }
}

pub(crate) fn push<'d>(_: &Ctx, args: &mut [V<'d>]) -> Out<'d> {
    let mut items = list_arg(value_at(args, 0), "push on")?.to_vec();
    items.push(value_at(args, 1).clone());
    ok(Value::List(items))
}

pub(crate) fn prepend<'d>(_: &Ctx, args: &mut [V<'d>]) -> Out<'d> {
    let mut items = vec![value_at(args, 1).clone()];
    items.extend_from_slice(list_arg(value_at(args, 0), "prepend on")?);
    ok(Value::List(items))
}

pub(crate) fn concat<'d>(_: &Ctx, args: &mut [V<'d>]) -> Out<'d> {
    let mut items = Vec::new();
    for list in args.iter() {
        match &**list {
            Value::List(l) => items.extend_from_slice(l),
            Value::Nil => return Err(NIL_DEREFERENCE.to_owned()),
            other => return Err(format!("Cannot concat type {} as list", kind_name(other))),
        }
    }
    ok(Value::List(items))
}

/// Sprig's `slice` (which replaces text/template's in Flux): lists only, `slice l 1 3` is
/// `l[1:3]`, and an empty list gives nil.
pub(crate) fn slice<'d>(_: &Ctx, args: &mut [V<'d>]) -> Out<'d> {
    let items = match value_at(args, 0) {
        Value::List(items) => items,
        Value::Nil => return Err(NIL_DEREFERENCE.to_owned()),
        other => {
            return Err(format!(
                "list should be type of slice or array but {}",
                kind_name(other)
            ));
        }
    };
    if items.is_empty() {
        return ok(Value::Nil);
    }
    let index = |i: usize, default: usize| {
        args.get(i)
            .map_or(Some(default), |v| usize::try_from(to_int64(v)).ok())
    };
    match (index(1, 0), index(2, items.len())) {
        (Some(start), Some(end)) if start <= end && end <= items.len() => {
            ok(Value::List(items[start..end].to_vec()))
        }
        _ => Err("reflect.Value.Slice: slice index out of bounds".to_owned()),
    }
}

fn str_map(v: &Value) -> Option<&Map> {
    match v {
        Value::Map(m) => Some(m),
        _ => None,
    }
}

pub(crate) fn dict<'d>(_: &Ctx, args: &mut [V<'d>]) -> Out<'d> {
    let mut map = Map::new();
    for pair in args.chunks(2) {
        let key = Value::String(strval(&pair[0]));
        let value = pair
            .get(1)
            .map_or_else(|| Value::String(String::new()), |v| (**v).clone());
        map.insert(key, value);
    }
    ok(Value::Map(map))
}

pub(crate) fn get<'d>(_: &Ctx, args: &mut [V<'d>]) -> Out<'d> {
    let key = str_at(args, 1).to_owned();
    Ok(match take(args, 0) {
        Cow::Borrowed(Value::Map(m)) => m
            .get_str(&key)
            .map_or_else(|| Cow::Owned(Value::from("")), Cow::Borrowed),
        other => Cow::Owned(
            str_map(&other)
                .and_then(|m| m.get_str(&key))
                .cloned()
                .unwrap_or_else(|| Value::from("")),
        ),
    })
}

pub(crate) fn has_key<'d>(_: &Ctx, args: &mut [V<'d>]) -> Out<'d> {
    ok(str_map(value_at(args, 0)).is_some_and(|m| m.get_str(str_at(args, 1)).is_some()))
}

pub(crate) fn keys<'d>(_: &Ctx, args: &mut [V<'d>]) -> Out<'d> {
    let mut keys = Vec::new();
    for map in args.iter().filter_map(|v| str_map(v)) {
        keys.extend(map.sorted().into_iter().map(|(k, _)| k.clone()));
    }
    ok(Value::List(keys))
}

pub(crate) fn values<'d>(_: &Ctx, args: &mut [V<'d>]) -> Out<'d> {
    let map = str_map(value_at(args, 0));
    ok(Value::List(
        map.map(|m| m.sorted().into_iter().map(|(_, v)| v.clone()).collect())
            .unwrap_or_default(),
    ))
}

pub(crate) fn pluck<'d>(_: &Ctx, args: &mut [V<'d>]) -> Out<'d> {
    let key = str_at(args, 0);
    let found = args[1..]
        .iter()
        .filter_map(|v| str_map(v)?.get_str(key).cloned())
        .collect();
    ok(Value::List(found))
}

fn pick_or_omit<'d>(args: &[V<'d>], keep: bool) -> Out<'d> {
    let names: Vec<&str> = args[1..].iter().filter_map(|v| v.as_str()).collect();
    let mut out = Map::new();
    if let Some(map) = str_map(value_at(args, 0)) {
        for (k, v) in map.entries() {
            if k.as_str().is_some_and(|k| names.contains(&k)) == keep {
                out.insert(k.clone(), v.clone());
            }
        }
    }
    ok(Value::Map(out))
}

pub(crate) fn pick<'d>(_: &Ctx, args: &mut [V<'d>]) -> Out<'d> {
    pick_or_omit(args, true)
}

pub(crate) fn omit<'d>(_: &Ctx, args: &mut [V<'d>]) -> Out<'d> {
    pick_or_omit(args, false)
}

/// Sprig's `empty`: nil, false, 0, and empty strings, lists and maps; structs never are.
fn is_empty(v: &Value) -> bool {
    match v {
        Value::Struct(_) => false,
        other => !other.is_true(),
    }
}

pub(crate) fn default<'d>(_: &Ctx, args: &mut [V<'d>]) -> Out<'d> {
    if args.len() < 2 || is_empty(value_at(args, 1)) {
        return Ok(take(args, 0));
    }
    Ok(take(args, 1))
}

pub(crate) fn empty<'d>(_: &Ctx, args: &mut [V<'d>]) -> Out<'d> {
    ok(is_empty(value_at(args, 0)))
}

pub(crate) fn coalesce<'d>(_: &Ctx, args: &mut [V<'d>]) -> Out<'d> {
    Ok(args
        .iter_mut()
        .find(|v| !is_empty(v))
        .map_or(Cow::Owned(Value::Nil), take_value))
}

pub(crate) fn all<'d>(_: &Ctx, args: &mut [V<'d>]) -> Out<'d> {
    ok(args.iter().all(|v| !is_empty(v)))
}

pub(crate) fn any<'d>(_: &Ctx, args: &mut [V<'d>]) -> Out<'d> {
    ok(args.iter().any(|v| !is_empty(v)))
}

pub(crate) fn ternary<'d>(_: &Ctx, args: &mut [V<'d>]) -> Out<'d> {
    if matches!(value_at(args, 2), Value::Bool(true)) {
        Ok(take(args, 0))
    } else {
        Ok(take(args, 1))
    }
}

pub(crate) fn deep_equal<'d>(_: &Ctx, args: &mut [V<'d>]) -> Out<'d> {
    ok(value_at(args, 0) == value_at(args, 1))
}

pub(crate) fn type_of<'d>(_: &Ctx, args: &mut [V<'d>]) -> Out<'d> {
    ok(value_at(args, 0).type_name())
}

pub(crate) fn type_is<'d>(_: &Ctx, args: &mut [V<'d>]) -> Out<'d> {
    ok(str_at(args, 0) == value_at(args, 1).type_name())
}

pub(crate) fn kind_of<'d>(_: &Ctx, args: &mut [V<'d>]) -> Out<'d> {
    match value_at(args, 0) {
        Value::Nil => Err(NIL_DEREFERENCE.to_owned()),
        v => ok(kind_name(v)),
    }
}

pub(crate) fn kind_is<'d>(_: &Ctx, args: &mut [V<'d>]) -> Out<'d> {
    match value_at(args, 1) {
        Value::Nil => Err(NIL_DEREFERENCE.to_owned()),
        v => ok(str_at(args, 0) == kind_name(v)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::sprig::testing::run;
    use crate::template::value::Struct;

    #[test]
    fn lists() {
        let l: Value = vec!["b", "a", "b", ""].into();
        assert_eq!(run(first, vec![l.clone()]), Ok("b".into()));
        assert_eq!(run(last, vec![l.clone()]), Ok("".into()));
        assert_eq!(run(first, vec![Value::List(vec![])]), Ok(Value::Nil));
        assert_eq!(
            run(first, vec!["s".into()]),
            Err("Cannot find first on type string".into())
        );
        assert_eq!(run(first, vec![Value::Nil]), Err(NIL_DEREFERENCE.into()));
        assert_eq!(run(uniq, vec![l.clone()]), Ok(vec!["b", "a", ""].into()));
        assert_eq!(run(compact, vec![l.clone()]), Ok(vec!["b", "a", "b"].into()));
        assert_eq!(run(rest, vec![l.clone()]), Ok(vec!["a", "b", ""].into()));
        assert_eq!(run(initial, vec![l.clone()]), Ok(vec!["b", "a", "b"].into()));
        assert_eq!(run(reverse, vec![vec![1, 2].into()]), Ok(vec![2, 1].into()));
        assert_eq!(
            run(without, vec![l.clone(), "b".into(), "".into()]),
            Ok(vec!["a"].into())
        );
        assert_eq!(run(has, vec!["a".into(), l.clone()]), Ok(true.into()));
        assert_eq!(run(has, vec!["a".into(), Value::Nil]), Ok(false.into()));
        assert_eq!(run(push, vec![vec![1].into(), 2.into()]), Ok(vec![1, 2].into()));
        assert_eq!(
            run(prepend, vec![vec![1].into(), 2.into()]),
            Ok(vec![2, 1].into())
        );
        assert_eq!(
            run(concat, vec![vec![1].into(), vec![2].into()]),
            Ok(vec![1, 2].into())
        );
        assert_eq!(
            run(slice, vec![l.clone(), 1.into(), 3.into()]),
            Ok(vec!["a", "b"].into())
        );
        assert_eq!(run(slice, vec![l.clone(), 2.into()]), Ok(vec!["b", ""].into()));
        assert_eq!(
            run(slice, vec![l, 3.into(), 9.into()]),
            Err("reflect.Value.Slice: slice index out of bounds".into())
        );
        assert_eq!(
            run(slice, vec!["abc".into(), 1.into()]),
            Err("list should be type of slice or array but string".into())
        );
        assert_eq!(
            run(list, vec![1.into(), "a".into()]),
            Ok(Value::List(vec![1.into(), "a".into()]))
        );
    }

    #[test]
    fn dicts_and_defaults() {
        let d = run(
            dict,
            vec!["b".into(), 1.into(), "a".into(), 2.into(), "odd".into()],
        )
        .expect("dict");
        assert_eq!(run(get, vec![d.clone(), "a".into()]), Ok(2.into()));
        assert_eq!(run(get, vec![d.clone(), "zz".into()]), Ok("".into()));
        assert_eq!(run(has_key, vec![d.clone(), "odd".into()]), Ok(true.into()));
        assert_eq!(run(keys, vec![d.clone()]), Ok(vec!["a", "b", "odd"].into()));
        assert_eq!(
            run(values, vec![d.clone()]),
            Ok(Value::List(vec![2.into(), 1.into(), "".into()]))
        );
        assert_eq!(
            run(pluck, vec!["a".into(), d.clone(), Value::Map(Map::new())]),
            Ok(vec![2].into())
        );
        assert_eq!(
            run(keys, vec![run(pick, vec![d.clone(), "a".into()]).expect("pick")]),
            Ok(vec!["a"].into())
        );
        assert_eq!(
            run(keys, vec![run(omit, vec![d, "a".into()]).expect("omit")]),
            Ok(vec!["b", "odd"].into())
        );
        assert_eq!(run(default, vec!["d".into(), "".into()]), Ok("d".into()));
        assert_eq!(run(default, vec!["d".into()]), Ok("d".into()));
        assert_eq!(run(default, vec!["d".into(), "x".into()]), Ok("x".into()));
        assert_eq!(
            run(default, vec!["d".into(), Value::Struct(Struct::new("T"))]),
            Ok(Value::Struct(Struct::new("T")))
        );
        assert_eq!(run(empty, vec![0.into()]), Ok(true.into()));
        assert_eq!(
            run(coalesce, vec![Value::Nil, "".into(), "x".into()]),
            Ok("x".into())
        );
        assert_eq!(run(all, vec![1.into(), "".into()]), Ok(false.into()));
        assert_eq!(run(any, vec![0.into(), "a".into()]), Ok(true.into()));
        assert_eq!(
            run(ternary, vec!["y".into(), "n".into(), false.into()]),
            Ok("n".into())
        );
    }

    #[test]
    fn reflection() {
        assert_eq!(run(type_of, vec![vec!["a"].into()]), Ok("[]string".into()));
        assert_eq!(run(kind_of, vec![Value::Map(Map::new())]), Ok("map".into()));
        assert_eq!(
            run(kind_is, vec!["slice".into(), vec![1].into()]),
            Ok(true.into())
        );
        assert_eq!(run(type_is, vec!["int".into(), 1.into()]), Ok(true.into()));
        assert_eq!(
            run(deep_equal, vec![vec![1].into(), vec![1].into()]),
            Ok(true.into())
        );
    }
}
