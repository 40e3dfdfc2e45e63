//! The function table: text/template's builtins plus the Sprig functions Flux adds
//! (`sprig.HermeticTxtFuncMap()`), with Go's parameter types.
//!
//! Parameter types matter because Go checks them before calling: `{{ 3 | lower }}` fails with
//! `expected string; found 3`, and `{{ .Values.missing | upper }}` with `invalid value; expected
//! string`. Sprig's `slice` replaces the builtin one, as it does in Flux (so it does not slice
//! strings).

// Every body has the function table's signature, whether or not it can fail.
#![allow(clippy::unnecessary_wraps)]

use std::borrow::Cow;
use std::fmt::Write as _;

use super::exec::V;
use super::format;
use super::sprig;
use super::value::Value;

/// A Go parameter type, as far as templates can tell them apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Param {
    /// `interface{}` (or `reflect.Value`): anything, nil included.
    Any,
    /// `string`.
    Str,
    /// `int`.
    Int,
    /// `bool`.
    Bool,
    /// `map[string]interface{}` (Sprig's dict functions); nil is an empty map.
    StrMap,
}

impl Param {
    /// Go's spelling of the type, for error messages.
    pub(crate) fn go_type(self) -> &'static str {
        match self {
            Param::Any => "interface {}",
            Param::Str => "string",
            Param::Int => "int",
            Param::Bool => "bool",
            Param::StrMap => "map[string]interface {}",
        }
    }
}

/// What a function may need besides its arguments.
pub(crate) struct Ctx {
    /// The output limit, which also bounds what `repeat` and friends may build.
    pub max_output: usize,
}

/// A function's body. Arguments arrive checked against the parameter types.
pub(crate) type Imp = for<'d> fn(&Ctx, &mut [V<'d>]) -> Result<V<'d>, String>;

/// A function: name, fixed parameters, the type of variadic ones, and the body.
#[derive(Clone, Copy)]
pub(crate) struct Func {
    pub name: &'static str,
    pub params: &'static [Param],
    pub variadic: Option<Param>,
    pub call: Imp,
}

use Param::{Any, Bool, Int, Str, StrMap};

const fn f(name: &'static str, params: &'static [Param], variadic: Option<Param>, call: Imp) -> Func {
    Func {
        name,
        params,
        variadic,
        call,
    }
}

/// Every function a template may call.
static FUNCS: &[Func] = &[
    // text/template builtins (`and` and `or` are evaluated lazily by the executor).
    f("and", &[Any], Some(Any), not_called),
    f("or", &[Any], Some(Any), not_called),
    f("not", &[Any], None, not),
    f("eq", &[Any], Some(Any), eq),
    f("ne", &[Any, Any], None, ne),
    f("lt", &[Any, Any], None, lt),
    f("le", &[Any, Any], None, le),
    f("gt", &[Any, Any], None, gt),
    f("ge", &[Any, Any], None, ge),
    f("len", &[Any], None, len),
    f("index", &[Any], Some(Any), index),
    f("print", &[], Some(Any), print),
    f("printf", &[Str], Some(Any), printf),
    f("println", &[], Some(Any), println),
    f("html", &[], Some(Any), html),
    f("js", &[], Some(Any), js),
    f("urlquery", &[], Some(Any), urlquery),
    f("call", &[Any], Some(Any), call),
    // Sprig: strings.
    f("abbrev", &[Int, Str], None, sprig::strings::abbrev),
    f("trunc", &[Int, Str], None, sprig::strings::trunc),
    f("trim", &[Str], None, sprig::strings::trim),
    f("upper", &[Str], None, sprig::strings::upper),
    f("lower", &[Str], None, sprig::strings::lower),
    f("title", &[Str], None, sprig::strings::title),
    f("substr", &[Int, Int, Str], None, sprig::strings::substr),
    f("repeat", &[Int, Str], None, sprig::strings::repeat),
    f("trimall", &[Str, Str], None, sprig::strings::trim_all),
    f("trimAll", &[Str, Str], None, sprig::strings::trim_all),
    f("trimSuffix", &[Str, Str], None, sprig::strings::trim_suffix),
    f("trimPrefix", &[Str, Str], None, sprig::strings::trim_prefix),
    f("nospace", &[Str], None, sprig::strings::nospace),
    f("contains", &[Str, Str], None, sprig::strings::contains),
    f("hasPrefix", &[Str, Str], None, sprig::strings::has_prefix),
    f("hasSuffix", &[Str, Str], None, sprig::strings::has_suffix),
    f("quote", &[], Some(Any), sprig::strings::quote),
    f("squote", &[], Some(Any), sprig::strings::squote),
    f("cat", &[], Some(Any), sprig::strings::cat),
    f("indent", &[Int, Str], None, sprig::strings::indent),
    f("nindent", &[Int, Str], None, sprig::strings::nindent),
    f("replace", &[Str, Str, Str], None, sprig::strings::replace),
    f("plural", &[Str, Str, Int], None, sprig::strings::plural),
    f("sha1sum", &[Str], None, sprig::encoding::sha1sum),
    f("sha256sum", &[Str], None, sprig::encoding::sha256sum),
    f("adler32sum", &[Str], None, sprig::encoding::adler32sum),
    f("toString", &[Any], None, sprig::strings::to_string),
    f("split", &[Str, Str], None, sprig::strings::split),
    f("splitList", &[Str, Str], None, sprig::strings::split_list),
    f("splitn", &[Str, Int, Str], None, sprig::strings::splitn),
    f("toStrings", &[Any], None, sprig::strings::to_strings),
    f("join", &[Str, Any], None, sprig::strings::join),
    f("sortAlpha", &[Any], None, sprig::strings::sort_alpha),
    f("b64enc", &[Str], None, sprig::encoding::b64enc),
    f("b64dec", &[Str], None, sprig::encoding::b64dec),
    f("regexMatch", &[Str, Str], None, sprig::regex::regex_match),
    f(
        "mustRegexMatch",
        &[Str, Str],
        None,
        sprig::regex::must_regex_match,
    ),
    f("regexFind", &[Str, Str], None, sprig::regex::regex_find),
    f("mustRegexFind", &[Str, Str], None, sprig::regex::regex_find),
    f(
        "regexFindAll",
        &[Str, Str, Int],
        None,
        sprig::regex::regex_find_all,
    ),
    f(
        "mustRegexFindAll",
        &[Str, Str, Int],
        None,
        sprig::regex::regex_find_all,
    ),
    f(
        "regexReplaceAll",
        &[Str, Str, Str],
        None,
        sprig::regex::regex_replace_all,
    ),
    f(
        "mustRegexReplaceAll",
        &[Str, Str, Str],
        None,
        sprig::regex::regex_replace_all,
    ),
    f(
        "regexReplaceAllLiteral",
        &[Str, Str, Str],
        None,
        sprig::regex::regex_replace_all_literal,
    ),
    f(
        "mustRegexReplaceAllLiteral",
        &[Str, Str, Str],
        None,
        sprig::regex::regex_replace_all_literal,
    ),
    f("regexSplit", &[Str, Str, Int], None, sprig::regex::regex_split),
    f(
        "mustRegexSplit",
        &[Str, Str, Int],
        None,
        sprig::regex::regex_split,
    ),
    f("regexQuoteMeta", &[Str], None, sprig::regex::regex_quote_meta),
    f("base", &[Str], None, sprig::strings::path_base),
    f("dir", &[Str], None, sprig::strings::path_dir),
    f("clean", &[Str], None, sprig::strings::path_clean),
    f("ext", &[Str], None, sprig::strings::path_ext),
    f("isAbs", &[Str], None, sprig::strings::path_is_abs),
    f("fail", &[Str], None, sprig::strings::fail),
    // Sprig: numbers.
    f("atoi", &[Str], None, sprig::numbers::atoi),
    f("int", &[Any], None, sprig::numbers::to_int),
    f("int64", &[Any], None, sprig::numbers::to_int),
    f("float64", &[Any], None, sprig::numbers::to_float),
    f("add1", &[Any], None, sprig::numbers::add1),
    f("add", &[], Some(Any), sprig::numbers::add),
    f("sub", &[Any, Any], None, sprig::numbers::sub),
    f("div", &[Any, Any], None, sprig::numbers::div),
    f("mod", &[Any, Any], None, sprig::numbers::modulo),
    f("mul", &[Any], Some(Any), sprig::numbers::mul),
    f("max", &[Any], Some(Any), sprig::numbers::max),
    f("biggest", &[Any], Some(Any), sprig::numbers::max),
    f("min", &[Any], Some(Any), sprig::numbers::min),
    f("until", &[Int], None, sprig::numbers::until),
    f("untilStep", &[Int, Int, Int], None, sprig::numbers::until_step),
    // Sprig: lists.
    f("list", &[], Some(Any), sprig::collections::list),
    f("tuple", &[], Some(Any), sprig::collections::list),
    f("first", &[Any], None, sprig::collections::first),
    f("mustFirst", &[Any], None, sprig::collections::first),
    f("last", &[Any], None, sprig::collections::last),
    f("mustLast", &[Any], None, sprig::collections::last),
    f("rest", &[Any], None, sprig::collections::rest),
    f("mustRest", &[Any], None, sprig::collections::rest),
    f("initial", &[Any], None, sprig::collections::initial),
    f("mustInitial", &[Any], None, sprig::collections::initial),
    f("reverse", &[Any], None, sprig::collections::reverse),
    f("mustReverse", &[Any], None, sprig::collections::reverse),
    f("compact", &[Any], None, sprig::collections::compact),
    f("mustCompact", &[Any], None, sprig::collections::compact),
    f("uniq", &[Any], None, sprig::collections::uniq),
    f("mustUniq", &[Any], None, sprig::collections::uniq),
    f("without", &[Any], Some(Any), sprig::collections::without),
    f("mustWithout", &[Any], Some(Any), sprig::collections::without),
    f("has", &[Any, Any], None, sprig::collections::has),
    f("mustHas", &[Any, Any], None, sprig::collections::has),
    f("append", &[Any, Any], None, sprig::collections::push),
    f("push", &[Any, Any], None, sprig::collections::push),
    f("mustAppend", &[Any, Any], None, sprig::collections::push),
    f("mustPush", &[Any, Any], None, sprig::collections::push),
    f("prepend", &[Any, Any], None, sprig::collections::prepend),
    f("mustPrepend", &[Any, Any], None, sprig::collections::prepend),
    f("concat", &[], Some(Any), sprig::collections::concat),
    f("slice", &[Any], Some(Any), sprig::collections::slice),
    f("mustSlice", &[Any], Some(Any), sprig::collections::slice),
    // Sprig: dicts.
    f("dict", &[], Some(Any), sprig::collections::dict),
    f("get", &[StrMap, Str], None, sprig::collections::get),
    f("hasKey", &[StrMap, Str], None, sprig::collections::has_key),
    f("keys", &[], Some(StrMap), sprig::collections::keys),
    f("values", &[StrMap], None, sprig::collections::values),
    f("pluck", &[Str], Some(StrMap), sprig::collections::pluck),
    f("pick", &[StrMap], Some(Str), sprig::collections::pick),
    f("omit", &[StrMap], Some(Str), sprig::collections::omit),
    // Sprig: defaults, flow, JSON, reflection.
    f("default", &[Any], Some(Any), sprig::collections::default),
    f("empty", &[Any], None, sprig::collections::empty),
    f("coalesce", &[], Some(Any), sprig::collections::coalesce),
    f("all", &[], Some(Any), sprig::collections::all),
    f("any", &[], Some(Any), sprig::collections::any),
    f("ternary", &[Any, Any, Bool], None, sprig::collections::ternary),
    f("toJson", &[Any], None, sprig::encoding::to_json),
    f("mustToJson", &[Any], None, sprig::encoding::must_to_json),
    f("toPrettyJson", &[Any], None, sprig::encoding::to_pretty_json),
    f(
        "mustToPrettyJson",
        &[Any],
        None,
        sprig::encoding::must_to_pretty_json,
    ),
    f("toRawJson", &[Any], None, sprig::encoding::to_raw_json),
    f("mustToRawJson", &[Any], None, sprig::encoding::to_raw_json),
    f("deepEqual", &[Any, Any], None, sprig::collections::deep_equal),
    f("typeOf", &[Any], None, sprig::collections::type_of),
    f("typeIs", &[Str, Any], None, sprig::collections::type_is),
    f("kindOf", &[Any], None, sprig::collections::kind_of),
    f("kindIs", &[Str, Any], None, sprig::collections::kind_is),
];

/// The function called `name`.
pub(crate) fn lookup(name: &str) -> Option<&'static Func> {
    FUNCS.iter().find(|f| f.name == name)
}

/// Whether a function called `name` exists (checked when parsing).
pub(crate) fn exists(name: &str) -> bool {
    lookup(name).is_some()
}

// Helpers for function bodies. Arguments were checked against the parameter types, so the
// fallbacks below are never taken.

pub(crate) fn ok<'d>(v: impl Into<Value>) -> Result<V<'d>, String> {
    Ok(Cow::Owned(v.into()))
}

pub(crate) fn str_at<'a>(args: &'a [V<'_>], i: usize) -> &'a str {
    match args.get(i).map(|v| &**v) {
        Some(Value::String(s)) => s,
        _ => "",
    }
}

pub(crate) fn int_at(args: &[V<'_>], i: usize) -> i64 {
    match args.get(i).map(|v| &**v) {
        Some(Value::Int(n)) => *n,
        _ => 0,
    }
}

pub(crate) fn value_at<'a>(args: &'a [V<'_>], i: usize) -> &'a Value {
    static NIL: Value = Value::Nil;
    args.get(i).map_or(&NIL, |v| &**v)
}

/// Takes argument `i` out of the list (leaving nil).
pub(crate) fn take<'d>(args: &mut [V<'d>], i: usize) -> V<'d> {
    args.get_mut(i).map_or(Cow::Owned(Value::Nil), |v| {
        std::mem::replace(v, Cow::Owned(Value::Nil))
    })
}

fn not_called<'d>(_: &Ctx, _: &mut [V<'d>]) -> Result<V<'d>, String> {
    Err("and/or are evaluated by the executor".to_owned())
}

fn not<'d>(_: &Ctx, args: &mut [V<'d>]) -> Result<V<'d>, String> {
    ok(!value_at(args, 0).is_true())
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Basic {
    Bool,
    Int,
    Float,
    String,
}

fn basic_kind(v: &Value) -> Option<Basic> {
    match v {
        Value::Bool(_) => Some(Basic::Bool),
        Value::Int(_) => Some(Basic::Int),
        Value::Float(_) => Some(Basic::Float),
        Value::String(_) => Some(Basic::String),
        _ => None,
    }
}

const BAD_COMPARISON: &str = "incompatible types for comparison";
const BAD_COMPARISON_TYPE: &str = "invalid type for comparison";

/// Go's `eq` for one pair.
fn equal(a: &Value, b: &Value) -> Result<bool, String> {
    match (basic_kind(a), basic_kind(b)) {
        (Some(_), Some(_)) => match (a, b) {
            (Value::Bool(x), Value::Bool(y)) => Ok(x == y),
            (Value::Int(x), Value::Int(y)) => Ok(x == y),
            #[allow(clippy::float_cmp)] // Go compares floats exactly.
            (Value::Float(x), Value::Float(y)) => Ok(x == y),
            (Value::String(x), Value::String(y)) => Ok(x == y),
            _ => Err(BAD_COMPARISON.to_owned()),
        },
        (Some(_), None) | (None, Some(_)) => {
            if matches!(a, Value::Nil) || matches!(b, Value::Nil) {
                Ok(false)
            } else {
                Err(BAD_COMPARISON.to_owned())
            }
        }
        (None, None) => {
            let (a_nil, b_nil) = (matches!(a, Value::Nil), matches!(b, Value::Nil));
            if a_nil || b_nil {
                return Ok(a_nil == b_nil);
            }
            // Go formats these with `%s` (so `[%!s(int=1)]` for a list of ints).
            let type_name = Value::String;
            if std::mem::discriminant(a) != std::mem::discriminant(b) {
                let args = [a, &type_name(a.type_name()), &type_name(b.type_name()), b];
                return Err(format::sprintf("non-comparable types %s: %v, %s: %v", &args));
            }
            if !comparable(b) {
                return Err(format::sprintf(
                    "non-comparable type %s: %v",
                    &[b, &type_name(b.type_name())],
                ));
            }
            Ok(a == b)
        }
    }
}

/// Whether Go could compare values of this type with `==`.
fn comparable(v: &Value) -> bool {
    match v {
        Value::List(_) | Value::Map(_) => false,
        Value::Struct(s) => s.fields.iter().all(|(_, f)| comparable(f)),
        _ => true,
    }
}

fn eq<'d>(_: &Ctx, args: &mut [V<'d>]) -> Result<V<'d>, String> {
    let Some((first, rest)) = args.split_first() else {
        return Err("missing argument for comparison".to_owned());
    };
    if rest.is_empty() {
        return Err("missing argument for comparison".to_owned());
    }
    for other in rest {
        if equal(first, other)? {
            return ok(true);
        }
    }
    ok(false)
}

fn ne<'d>(_: &Ctx, args: &mut [V<'d>]) -> Result<V<'d>, String> {
    ok(!equal(value_at(args, 0), value_at(args, 1))?)
}

fn less(a: &Value, b: &Value) -> Result<bool, String> {
    let (Some(ka), Some(kb)) = (basic_kind(a), basic_kind(b)) else {
        return Err(BAD_COMPARISON_TYPE.to_owned());
    };
    if ka != kb {
        return Err(BAD_COMPARISON.to_owned());
    }
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => Ok(x < y),
        (Value::Float(x), Value::Float(y)) => Ok(x < y),
        (Value::String(x), Value::String(y)) => Ok(x < y),
        _ => Err(BAD_COMPARISON_TYPE.to_owned()),
    }
}

fn lt<'d>(_: &Ctx, args: &mut [V<'d>]) -> Result<V<'d>, String> {
    ok(less(value_at(args, 0), value_at(args, 1))?)
}

fn less_or_equal(a: &Value, b: &Value) -> Result<bool, String> {
    Ok(less(a, b)? || equal(a, b)?)
}

fn le<'d>(_: &Ctx, args: &mut [V<'d>]) -> Result<V<'d>, String> {
    ok(less_or_equal(value_at(args, 0), value_at(args, 1))?)
}

fn gt<'d>(_: &Ctx, args: &mut [V<'d>]) -> Result<V<'d>, String> {
    ok(!less_or_equal(value_at(args, 0), value_at(args, 1))?)
}

fn ge<'d>(_: &Ctx, args: &mut [V<'d>]) -> Result<V<'d>, String> {
    ok(!less(value_at(args, 0), value_at(args, 1))?)
}

fn len<'d>(_: &Ctx, args: &mut [V<'d>]) -> Result<V<'d>, String> {
    match value_at(args, 0) {
        Value::String(s) => ok(s.len()),
        Value::List(l) => ok(l.len()),
        Value::Map(m) => ok(m.len()),
        Value::Nil => Err("reflect: call of reflect.Value.Type on zero Value".to_owned()),
        other => Err(format!("len of type {}", other.type_name())),
    }
}

/// `index x 1 2` is `x[1][2]`: lists by integer, strings by byte, maps by key (a missing key
/// gives the map's zero value).
fn index<'d>(_: &Ctx, args: &mut [V<'d>]) -> Result<V<'d>, String> {
    let mut item = take(args, 0);
    if let Value::Nil = *item {
        return Err("index of untyped nil".to_owned());
    }
    for key in &args[1..] {
        item = match item {
            Cow::Borrowed(v) => index_one(v, key)?,
            Cow::Owned(v) => Cow::Owned(index_one(&v, key)?.into_owned()),
        };
    }
    Ok(item)
}

fn index_position(key: &Value, len: usize) -> Result<usize, String> {
    match key {
        Value::Int(x) => usize::try_from(*x)
            .ok()
            .filter(|i| *i < len)
            .ok_or_else(|| format!("index out of range: {x}")),
        Value::Nil => Err("cannot index slice/array with nil".to_owned()),
        other => Err(format!(
            "cannot index slice/array with type {}",
            other.type_name()
        )),
    }
}

fn index_one<'a>(item: &'a Value, key: &Value) -> Result<Cow<'a, Value>, String> {
    match item {
        Value::List(items) => Ok(Cow::Borrowed(&items[index_position(key, items.len())?])),
        Value::String(s) => Ok(Cow::Owned(Value::Int(i64::from(
            s.as_bytes()[index_position(key, s.len())?],
        )))),
        Value::Map(map) => {
            let key_type = map
                .entries()
                .first()
                .map_or_else(|| "string".to_owned(), |(k, _)| k.type_name());
            if let Value::Nil = key {
                return Err(format!("value is nil; should be of type {key_type}"));
            }
            if key.type_name() != key_type {
                return Err(format!(
                    "value has type {}; should be {key_type}",
                    key.type_name()
                ));
            }
            Ok(map
                .get(key)
                .map_or_else(|| Cow::Borrowed(map.zero()), Cow::Borrowed))
        }
        Value::Nil => Err("index of nil pointer".to_owned()),
        other => Err(format!("can't index item of type {}", other.type_name())),
    }
}

fn print<'d>(_: &Ctx, args: &mut [V<'d>]) -> Result<V<'d>, String> {
    let refs: Vec<&Value> = args.iter().map(|v| &**v).collect();
    ok(format::sprint(&refs))
}

fn println<'d>(_: &Ctx, args: &mut [V<'d>]) -> Result<V<'d>, String> {
    let refs: Vec<&Value> = args.iter().map(|v| &**v).collect();
    ok(format::sprintln(&refs))
}

fn printf<'d>(_: &Ctx, args: &mut [V<'d>]) -> Result<V<'d>, String> {
    let refs: Vec<&Value> = args[1..].iter().map(|v| &**v).collect();
    ok(format::sprintf(str_at(args, 0), &refs))
}

/// Go's `evalArgs`: one string as it is, anything else through `Sprint` (nil as `<no value>`).
fn eval_args(args: &[V<'_>]) -> String {
    if let [one] = args
        && let Value::String(s) = &**one
    {
        return s.clone();
    }
    let no_value = Value::String("<no value>".to_owned());
    let refs: Vec<&Value> = args
        .iter()
        .map(|v| if let Value::Nil = **v { &no_value } else { &**v })
        .collect();
    format::sprint(&refs)
}

fn html<'d>(_: &Ctx, args: &mut [V<'d>]) -> Result<V<'d>, String> {
    let mut out = String::new();
    for c in eval_args(args).chars() {
        match c {
            '"' => out.push_str("&#34;"),
            '\'' => out.push_str("&#39;"),
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\0' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    ok(out)
}

fn js<'d>(_: &Ctx, args: &mut [V<'d>]) -> Result<V<'d>, String> {
    let mut out = String::new();
    for c in eval_args(args).chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '"' => out.push_str("\\\""),
            '<' => out.push_str("\\u003C"),
            '>' => out.push_str("\\u003E"),
            '&' => out.push_str("\\u0026"),
            '=' => out.push_str("\\u003D"),
            c if u32::from(c) < 0x20 => _ = write!(out, "\\u{:04X}", u32::from(c)),
            c if !c.is_ascii() && !format::is_print(c) => _ = write!(out, "\\u{:04X}", u32::from(c)),
            c => out.push(c),
        }
    }
    ok(out)
}

fn urlquery<'d>(_: &Ctx, args: &mut [V<'d>]) -> Result<V<'d>, String> {
    let mut out = String::new();
    for b in eval_args(args).bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(char::from(b)),
            b' ' => out.push('+'),
            b => _ = write!(out, "%{b:02X}"),
        }
    }
    ok(out)
}

/// Templates here have no function values, so `call` always fails as Go's does on a
/// non-function.
fn call<'d>(_: &Ctx, args: &mut [V<'d>]) -> Result<V<'d>, String> {
    match value_at(args, 0) {
        Value::Nil => Err("call of nil".to_owned()),
        other => Err(format!("non-function of type {}", other.type_name())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(name: &str, args: Vec<Value>) -> Result<Value, String> {
        let func = lookup(name).expect("function exists");
        let ctx = Ctx { max_output: 1 << 20 };
        (func.call)(&ctx, &mut args.into_iter().map(Cow::Owned).collect::<Vec<_>>()).map(Cow::into_owned)
    }

    #[test]
    fn comparisons_follow_go() {
        assert_eq!(
            run("eq", vec!["a".into(), "b".into(), "a".into()]),
            Ok(Value::Bool(true))
        );
        assert_eq!(run("eq", vec![1.into(), "1".into()]), Err(BAD_COMPARISON.into()));
        assert_eq!(run("eq", vec![Value::Nil, "x".into()]), Ok(Value::Bool(false)));
        assert_eq!(run("eq", vec![Value::Nil, Value::Nil]), Ok(Value::Bool(true)));
        assert_eq!(
            run("eq", vec![1.into()]),
            Err("missing argument for comparison".into())
        );
        assert_eq!(
            run("eq", vec![vec!["a"].into(), vec!["a"].into()]),
            Err("non-comparable type [a]: []string".into())
        );
        assert_eq!(
            run("eq", vec![vec![1].into(), vec![1].into()]),
            Err("non-comparable type [%!s(int=1)]: []int".into())
        );
        assert_eq!(run("lt", vec![1.into(), 2.into()]), Ok(Value::Bool(true)));
        assert_eq!(run("ge", vec!["b".into(), "a".into()]), Ok(Value::Bool(true)));
        assert_eq!(run("gt", vec![2.5.into(), 2.5.into()]), Ok(Value::Bool(false)));
        assert_eq!(run("le", vec![2.5.into(), 2.5.into()]), Ok(Value::Bool(true)));
        assert_eq!(
            run("lt", vec![true.into(), false.into()]),
            Err(BAD_COMPARISON_TYPE.into())
        );
        assert_eq!(run("lt", vec![1.into(), 1.5.into()]), Err(BAD_COMPARISON.into()));
        assert_eq!(run("ne", vec!["a".into(), "b".into()]), Ok(Value::Bool(true)));
    }

    #[test]
    fn index_and_len() {
        let map = Value::Map(super::super::Map::strings([("a", "1")]));
        assert_eq!(run("index", vec![map.clone(), "a".into()]), Ok("1".into()));
        assert_eq!(run("index", vec![map.clone(), "zz".into()]), Ok("".into()));
        assert_eq!(
            run("index", vec![map, 1.into()]),
            Err("value has type int; should be string".into())
        );
        let nested: Value = vec![vec!["x", "y"], vec!["z"]].into();
        assert_eq!(
            run("index", vec![nested.clone(), 0.into(), 1.into()]),
            Ok("y".into())
        );
        assert_eq!(
            run("index", vec![nested.clone(), 2.into()]),
            Err("index out of range: 2".into())
        );
        assert_eq!(run("index", vec!["abc".into(), 1.into()]), Ok(98.into()));
        assert_eq!(
            run("index", vec![Value::Nil, 1.into()]),
            Err("index of untyped nil".into())
        );
        assert_eq!(run("len", vec![nested]), Ok(2.into()));
        assert_eq!(run("len", vec!["héllo".into()]), Ok(6.into()));
        assert_eq!(run("len", vec![3.into()]), Err("len of type int".into()));
    }

    #[test]
    fn escapers() {
        assert_eq!(
            run("html", vec!["<a href=\"x\">'&'</a>".into()]),
            Ok("&lt;a href=&#34;x&#34;&gt;&#39;&amp;&#39;&lt;/a&gt;".into())
        );
        assert_eq!(
            run("js", vec!["a'b\"<=>&\\\n".into()]),
            Ok("a\\'b\\\"\\u003C\\u003D\\u003E\\u0026\\\\\\u000A".into())
        );
        assert_eq!(
            run("urlquery", vec!["a b&c=d/é".into()]),
            Ok("a+b%26c%3Dd%2F%C3%A9".into())
        );
        assert_eq!(
            run("urlquery", vec![1.into(), 2.into()]),
            Ok("1 2".replace(' ', "+").into())
        );
        assert_eq!(run("html", vec![Value::Nil]), Ok("&lt;no value&gt;".into()));
    }

    #[test]
    fn call_is_not_supported() {
        assert_eq!(
            run("call", vec!["x".into()]),
            Err("non-function of type string".into())
        );
        assert_eq!(run("not", vec![Value::Nil]), Ok(Value::Bool(true)));
    }
}
