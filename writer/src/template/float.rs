//! Go's `strconv.FormatFloat` for the forms `fmt` and `encoding/json` use (`e`, `E`, `f`, `g`,
//! `G`), built on Rust's correctly rounded digits: shortest (`{:e}`) or to a precision
//! (`{:.*e}`), which round half to even as Go does.

use std::fmt::Write as _;

/// Decimal digits of a float and the position of the decimal point (`0.0123` is digits `123`,
/// point `-1`).
struct Digits {
    neg: bool,
    /// ASCII digits, most significant first.
    ascii: Vec<u8>,
    point: i64,
}

impl Digits {
    /// From Rust's exponent form (`1.2345e-7`), which gives the shortest round-tripping digits
    /// (like Go's precision -1) or, with a precision, correctly rounded ones.
    fn from_exp(f: f64, prec: Option<usize>) -> Digits {
        let s = match prec {
            Some(p) => format!("{:.*e}", p, f.abs()),
            None => format!("{:e}", f.abs()),
        };
        let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
        let ascii: Vec<u8> = mantissa.bytes().filter(u8::is_ascii_digit).collect();
        let exp: i64 = exp.parse().unwrap_or(0);
        Digits {
            neg: f.is_sign_negative(),
            ascii,
            point: exp + 1,
        }
    }

    fn digit(&self, i: i64) -> u8 {
        usize::try_from(i)
            .ok()
            .and_then(|i| self.ascii.get(i).copied())
            .unwrap_or(b'0')
    }

    fn trim_zeros(&mut self) {
        while self.ascii.len() > 1 && self.ascii.last() == Some(&b'0') {
            self.ascii.pop();
        }
    }

    fn nd(&self) -> i64 {
        i64::try_from(self.ascii.len()).unwrap_or(i64::MAX)
    }

    fn is_zero(&self) -> bool {
        self.ascii.iter().all(|d| *d == b'0')
    }

    /// `d.ddde±xx` with `prec` digits after the point.
    fn write_e(&self, prec: i64, upper: bool) -> String {
        let mut s = String::new();
        if self.neg {
            s.push('-');
        }
        s.push(char::from(self.digit(0)));
        if prec > 0 {
            s.push('.');
            for i in 1..=prec {
                s.push(char::from(self.digit(i)));
            }
        }
        s.push(if upper { 'E' } else { 'e' });
        let exp = if self.is_zero() { 0 } else { self.point - 1 };
        s.push(if exp < 0 { '-' } else { '+' });
        _ = write!(s, "{:02}", exp.unsigned_abs());
        s
    }

    /// `ddd.ddd` with `prec` digits after the point.
    fn write_f(&self, prec: i64) -> String {
        let mut s = String::new();
        if self.neg {
            s.push('-');
        }
        if self.point > 0 {
            for i in 0..self.point {
                s.push(char::from(self.digit(i)));
            }
        } else {
            s.push('0');
        }
        if prec > 0 {
            s.push('.');
            for i in 0..prec {
                s.push(char::from(self.digit(self.point + i)));
            }
        }
        s
    }
}

/// Go's `strconv.FormatFloat(f, form, prec, 64)` for the forms `e`, `E`, `f`, `g`, `G` (prec
/// `None` is Go's -1, the shortest representation).
pub(crate) fn format_float(f: f64, form: char, prec: Option<usize>) -> String {
    let to_i64 = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
    match (form, prec) {
        ('f', Some(p)) => format!("{f:.p$}"),
        ('f', None) => format!("{f}"),
        ('e' | 'E', Some(p)) => Digits::from_exp(f, Some(p)).write_e(to_i64(p), form == 'E'),
        ('e' | 'E', None) => {
            let d = Digits::from_exp(f, None);
            d.write_e(d.nd() - 1, form == 'E')
        }
        _ => {
            let upper = form == 'G';
            let (mut d, eprec) = match prec {
                None => (Digits::from_exp(f, None), 6),
                Some(p) => {
                    let p = p.max(1);
                    (Digits::from_exp(f, Some(p - 1)), to_i64(p))
                }
            };
            d.trim_zeros();
            let shortest = prec.is_none();
            let mut eprec = eprec;
            if !shortest && eprec > d.nd() && d.nd() >= d.point {
                eprec = d.nd();
            }
            let exp = if d.is_zero() { 0 } else { d.point - 1 };
            let p = if shortest {
                d.nd()
            } else {
                to_i64(prec.unwrap_or(1).max(1))
            };
            if exp < -4 || exp >= eprec {
                d.write_e(p.min(d.nd()) - 1, upper)
            } else {
                let p = if p > d.point { d.nd() } else { p };
                d.write_f((p - d.point).max(0))
            }
        }
    }
}
