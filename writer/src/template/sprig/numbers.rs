//! Sprig's arithmetic, with `spf13/cast`'s lenient conversions.

// Every body has the function table's signature, whether or not it can fail.
#![allow(clippy::unnecessary_wraps)]

use std::borrow::Cow;

use crate::template::exec::V;
use crate::template::funcs::{Ctx, int_at, ok, str_at, value_at};
use crate::template::value::Value;

type Out<'d> = Result<V<'d>, String>;

/// `spf13/cast`'s `ToInt64`, which Sprig's arithmetic uses: numbers truncate, strings parse as
/// Go integer literals (`"0x10"`, and `"3.0"` with its zero decimals dropped), anything else
/// is 0.
pub(crate) fn to_int64(v: &Value) -> i64 {
    match v {
        Value::Int(i) => *i,
        #[allow(clippy::cast_possible_truncation)] // Go's int64(float64) conversion.
        Value::Float(f) => *f as i64,
        Value::Bool(b) => i64::from(*b),
        Value::String(s) => {
            let trimmed = match s.rsplit_once('.') {
                Some((int, zeros)) if !zeros.is_empty() && zeros.bytes().all(|b| b == b'0') => int,
                _ => s,
            };
            crate::template::literal::parse_go_int(trimmed)
                .and_then(|i| i64::try_from(i).ok())
                .unwrap_or(0)
        }
        _ => 0,
    }
}

fn to_float64(v: &Value) -> f64 {
    match v {
        #[allow(clippy::cast_precision_loss)] // Go's float64(int64) conversion.
        Value::Int(i) => *i as f64,
        Value::Float(f) => *f,
        Value::Bool(b) => f64::from(u8::from(*b)),
        Value::String(s) => s.parse().unwrap_or(0.0),
        _ => 0.0,
    }
}

pub(crate) fn atoi<'d>(_: &Ctx, args: &mut [V<'d>]) -> Out<'d> {
    ok(str_at(args, 0).parse::<i64>().unwrap_or(0))
}

pub(crate) fn to_int<'d>(_: &Ctx, args: &mut [V<'d>]) -> Out<'d> {
    ok(to_int64(value_at(args, 0)))
}

pub(crate) fn to_float<'d>(_: &Ctx, args: &mut [V<'d>]) -> Out<'d> {
    ok(to_float64(value_at(args, 0)))
}

pub(crate) fn add1<'d>(_: &Ctx, args: &mut [V<'d>]) -> Out<'d> {
    ok(to_int64(value_at(args, 0)).wrapping_add(1))
}

pub(crate) fn add<'d>(_: &Ctx, args: &mut [V<'d>]) -> Out<'d> {
    ok(args.iter().fold(0i64, |sum, v| sum.wrapping_add(to_int64(v))))
}

pub(crate) fn sub<'d>(_: &Ctx, args: &mut [V<'d>]) -> Out<'d> {
    ok(to_int64(value_at(args, 0)).wrapping_sub(to_int64(value_at(args, 1))))
}

pub(crate) fn mul<'d>(_: &Ctx, args: &mut [V<'d>]) -> Out<'d> {
    ok(args
        .iter()
        .skip(1)
        .fold(to_int64(value_at(args, 0)), |p, v| p.wrapping_mul(to_int64(v))))
}

const DIVIDE_BY_ZERO: &str = "runtime error: integer divide by zero";

pub(crate) fn div<'d>(_: &Ctx, args: &mut [V<'d>]) -> Out<'d> {
    let (a, b) = (to_int64(value_at(args, 0)), to_int64(value_at(args, 1)));
    if b == 0 {
        return Err(DIVIDE_BY_ZERO.to_owned());
    }
    ok(a.wrapping_div(b))
}

pub(crate) fn modulo<'d>(_: &Ctx, args: &mut [V<'d>]) -> Out<'d> {
    let (a, b) = (to_int64(value_at(args, 0)), to_int64(value_at(args, 1)));
    if b == 0 {
        return Err(DIVIDE_BY_ZERO.to_owned());
    }
    ok(a.wrapping_rem(b))
}

pub(crate) fn max<'d>(_: &Ctx, args: &mut [V<'d>]) -> Out<'d> {
    ok(args.iter().map(|v| to_int64(v)).max().unwrap_or(0))
}

pub(crate) fn min<'d>(_: &Ctx, args: &mut [V<'d>]) -> Out<'d> {
    ok(args.iter().map(|v| to_int64(v)).min().unwrap_or(0))
}

/// Sprig's `untilStep`, bounded like everything that grows with its arguments.
fn until_step_list(start: i64, end: i64, step: i64) -> Result<Value, String> {
    const LIMIT: usize = 1_000_000;
    let mut items = Vec::new();
    let mut i = start;
    let forward = end >= start;
    if (forward && step <= 0) || (!forward && step >= 0) {
        return Ok(Value::List(items));
    }
    while (forward && i < end) || (!forward && i > end) {
        if items.len() == LIMIT {
            return Err(format!("more than {LIMIT} items"));
        }
        items.push(Value::Int(i));
        let Some(next) = i.checked_add(step) else { break };
        i = next;
    }
    Ok(Value::List(items))
}

pub(crate) fn until<'d>(_: &Ctx, args: &mut [V<'d>]) -> Out<'d> {
    let count = int_at(args, 0);
    Ok(Cow::Owned(until_step_list(
        0,
        count,
        if count < 0 { -1 } else { 1 },
    )?))
}

pub(crate) fn until_step<'d>(_: &Ctx, args: &mut [V<'d>]) -> Out<'d> {
    Ok(Cow::Owned(until_step_list(
        int_at(args, 0),
        int_at(args, 1),
        int_at(args, 2),
    )?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::sprig::strings::to_string;
    use crate::template::sprig::testing::{run, s};
    use crate::template::value::Struct;

    #[test]
    fn arithmetic_casts_like_sprig() {
        assert_eq!(
            run(add, vec![1.into(), "2".into(), 3.9.into(), true.into()]),
            Ok(7.into())
        );
        assert_eq!(run(sub, vec![1.into(), "0x10".into()]), Ok((-15).into()));
        assert_eq!(run(mul, vec![2.into(), 3.into(), "4.0".into()]), Ok(24.into()));
        assert_eq!(run(div, vec![7.into(), 2.into()]), Ok(3.into()));
        assert_eq!(run(div, vec![7.into(), 0.into()]), Err(DIVIDE_BY_ZERO.into()));
        assert_eq!(run(modulo, vec![(-7).into(), 2.into()]), Ok((-1).into()));
        assert_eq!(run(max, vec![1.into(), 5.into(), "3".into()]), Ok(5.into()));
        assert_eq!(run(min, vec![1.into(), (-5).into()]), Ok((-5).into()));
        assert_eq!(run(atoi, vec!["42".into()]), Ok(42.into()));
        assert_eq!(run(atoi, vec!["4x".into()]), Ok(0.into()));
        assert_eq!(run(to_int, vec!["nope".into()]), Ok(0.into()));
        assert_eq!(run(to_float, vec!["2.5".into()]), Ok(2.5.into()));
        assert_eq!(run(until, vec![3.into()]), Ok(vec![0, 1, 2].into()));
        assert_eq!(
            run(until_step, vec![5.into(), 0.into(), (-2).into()]),
            Ok(vec![5, 3, 1].into())
        );
        assert!(run(until, vec![i64::MAX.into()]).is_err());
        assert_eq!(
            s(
                to_string,
                vec![Value::Struct(Struct::new("T").field("A", 1).display("t"))]
            ),
            "t"
        );
        assert_eq!(s(to_string, vec![Value::Nil]), "<nil>");
    }
}
