//! The values a template reads: Go's data model reduced to what Flux's commit templates see.
//!
//! Go templates walk arbitrary Go values through reflection. Flux hands them a handful of
//! structs, maps and slices of strings, so a small closed enum is enough. What has to match Go is
//! how these values behave in a template: which are "true", how map keys are ordered when ranged
//! over or printed (Go's `internal/fmtsort`), and what a missing map key yields.

use std::cmp::Ordering;

/// A value a template can read: the data passed to [`Template::render`](super::Template::render),
/// the values of literals, and the results of functions.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Value {
    /// Go's nil (or the "invalid" value a missing map key yields): prints as `<no value>` when
    /// an action prints it directly, and as `<nil>` inside `print`/`printf`.
    #[default]
    Nil,
    /// A `bool`.
    Bool(bool),
    /// An integer (Go's `int` and `int64` alike).
    Int(i64),
    /// A `float64`.
    Float(f64),
    /// A string.
    String(String),
    /// A slice, in its order.
    List(Vec<Value>),
    /// A map; see [`Map`].
    Map(Map),
    /// A struct; see [`Struct`].
    Struct(Struct),
}

/// A Go map: entries with unique keys (any [`Value`], structs included), plus the zero value of
/// its element type.
///
/// Entries keep insertion order here; templates see them in Go's sorted order (numbers
/// numerically, strings by bytes, structs field by field, `false` before `true`).
///
/// The element zero matters because Go treats a missing key differently depending on how it is
/// read: `.Values.missing` yields "no value" (printed `<no value>`) whatever the map's type,
/// while `index .Values "missing"` yields the zero value of the element type, which is `""` for
/// Flux's `map[string]string` and nil (printed `<no value>`) for a `map[string]interface{}`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Map {
    entries: Vec<(Value, Value)>,
    zero: Box<Value>,
}

/// A Go struct: a type name, named fields in declaration order, and optionally what its
/// `String()` method returns.
///
/// Methods that Flux's data exposes (`Changed.Objects`, `ImageRef.Repository`, …) are plain
/// fields here, computed before rendering.
#[derive(Debug, Clone, PartialEq)]
pub struct Struct {
    /// The type's name as error messages show it (`ObjectIdentifier`).
    pub type_name: String,
    /// The fields, in declaration order (which is also the order keys are compared in).
    pub fields: Vec<(String, Value)>,
    /// What Go's `String()` method returns, used whenever the struct is printed with `%v` or
    /// `%s`. When `None` the struct prints like Go's `%v` of a struct: `{v1 v2}`.
    pub display: Option<String>,
}

impl Struct {
    /// A struct of type `type_name` without fields.
    #[must_use]
    pub fn new(type_name: impl Into<String>) -> Self {
        Struct {
            type_name: type_name.into(),
            fields: Vec::new(),
            display: None,
        }
    }

    /// Adds (or replaces) field `name`.
    #[must_use]
    pub fn field(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        let name = name.into();
        let value = value.into();
        match self.fields.iter_mut().find(|(n, _)| *n == name) {
            Some((_, v)) => *v = value,
            None => self.fields.push((name, value)),
        }
        self
    }

    /// Sets what the struct's `String()` method returns.
    #[must_use]
    pub fn display(mut self, display: impl Into<String>) -> Self {
        self.display = Some(display.into());
        self
    }

    /// The value of field `name`, if the struct has it.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.fields.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }
}

impl Map {
    /// An empty map whose elements are `interface{}`: a missing key read with `index` is nil.
    #[must_use]
    pub fn new() -> Self {
        Map::default()
    }

    /// An empty map whose element type has `zero` as its zero value: `Value::from("")` for a
    /// `map[string]string`; Go's zero of a slice, map or interface element is `Value::Nil`.
    #[must_use]
    pub fn with_zero(zero: Value) -> Self {
        Map {
            entries: Vec::new(),
            zero: Box::new(zero),
        }
    }

    /// A `map[string]string`, like Flux's `.Values`.
    #[must_use]
    pub fn strings<K, V, I>(pairs: I) -> Self
    where
        K: Into<String>,
        V: Into<String>,
        I: IntoIterator<Item = (K, V)>,
    {
        let mut map = Map::with_zero(Value::String(String::new()));
        for (k, v) in pairs {
            map.insert(Value::String(k.into()), Value::String(v.into()));
        }
        map
    }

    /// Adds an entry (builder style); an existing equal key gets the new value.
    #[must_use]
    pub fn entry(mut self, key: impl Into<Value>, value: impl Into<Value>) -> Self {
        self.insert(key.into(), value.into());
        self
    }

    /// Adds an entry; an existing equal key gets the new value.
    pub fn insert(&mut self, key: Value, value: Value) {
        match self.entries.iter_mut().find(|(k, _)| *k == key) {
            Some((_, v)) => *v = value,
            None => self.entries.push((key, value)),
        }
    }

    /// The value stored under `key`.
    #[must_use]
    pub fn get(&self, key: &Value) -> Option<&Value> {
        self.entries.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// The value stored under the string key `key`.
    #[must_use]
    pub fn get_str(&self, key: &str) -> Option<&Value> {
        self.entries
            .iter()
            .find(|(k, _)| matches!(k, Value::String(s) if s == key))
            .map(|(_, v)| v)
    }

    /// The zero value of the element type.
    #[must_use]
    pub fn zero(&self) -> &Value {
        &self.zero
    }

    /// How many entries the map has.
    #[must_use]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the map has no entries.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entries in insertion order.
    #[must_use]
    pub fn entries(&self) -> &[(Value, Value)] {
        &self.entries
    }

    /// The entries in the order Go's templates range over and print them.
    #[must_use]
    pub fn sorted(&self) -> Vec<&(Value, Value)> {
        let mut sorted: Vec<&(Value, Value)> = self.entries.iter().collect();
        sorted.sort_by(|a, b| compare_keys(&a.0, &b.0));
        sorted
    }

    /// The entries in Go's order, taken out of the map.
    pub(crate) fn into_sorted(self) -> Vec<(Value, Value)> {
        let mut sorted = self.entries;
        sorted.sort_by(|a, b| compare_keys(&a.0, &b.0));
        sorted
    }

    /// Whether a field name (a string) can be used as a key: all keys are strings.
    pub(crate) fn has_string_keys(&self) -> bool {
        self.entries.iter().all(|(k, _)| matches!(k, Value::String(_)))
    }

    /// Go's type of the map, for error messages (`map[string]string`).
    pub(crate) fn type_name(&self) -> String {
        let key = self
            .entries
            .first()
            .map_or_else(|| "string".to_owned(), |(k, _)| k.type_name());
        let elem = match &*self.zero {
            Value::Nil => "interface {}".to_owned(),
            zero => zero.type_name(),
        };
        format!("map[{key}]{elem}")
    }

    /// Whether this is a `map[string]interface{}`, the type Sprig's dict functions take.
    pub(crate) fn is_string_interface_map(&self) -> bool {
        matches!(*self.zero, Value::Nil) && self.has_string_keys()
    }
}

impl Value {
    /// Go's truth: false, 0, nil, and empty strings, lists and maps are false; structs are
    /// always true.
    #[must_use]
    pub fn is_true(&self) -> bool {
        match self {
            Value::Nil => false,
            Value::Bool(b) => *b,
            Value::Int(i) => *i != 0,
            Value::Float(f) => *f != 0.0,
            Value::String(s) => !s.is_empty(),
            Value::List(l) => !l.is_empty(),
            Value::Map(m) => !m.is_empty(),
            Value::Struct(_) => true,
        }
    }

    /// The string, if this is one.
    #[must_use]
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// Go's name of the value's type, as error messages show it.
    #[must_use]
    pub fn type_name(&self) -> String {
        match self {
            Value::Nil => "<nil>".to_owned(),
            Value::Bool(_) => "bool".to_owned(),
            Value::Int(_) => "int".to_owned(),
            Value::Float(_) => "float64".to_owned(),
            Value::String(_) => "string".to_owned(),
            Value::List(items) => match items.first() {
                Some(first) if items.iter().all(|i| same_type(i, first)) => {
                    format!("[]{}", first.type_name())
                }
                _ => "[]interface {}".to_owned(),
            },
            Value::Map(m) => m.type_name(),
            Value::Struct(s) => s.type_name.clone(),
        }
    }
}

fn same_type(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Struct(x), Value::Struct(y)) => x.type_name == y.type_name,
        _ => std::mem::discriminant(a) == std::mem::discriminant(b),
    }
}

/// Orders map keys as Go's `internal/fmtsort` does for keys of one type: numbers numerically
/// (`NaN` first), strings by bytes, `false` before `true`, structs and arrays element by element.
/// Keys of different kinds (only possible in `interface{}`-keyed maps, where Go orders by the
/// address of the type) are ordered by kind, which is at least deterministic.
#[must_use]
pub fn compare_keys(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Nil, Value::Nil) => Ordering::Equal,
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::Int(x), Value::Int(y)) => x.cmp(y),
        (Value::Float(x), Value::Float(y)) => compare_floats(*x, *y),
        #[allow(clippy::cast_precision_loss)] // Mixed keys only; an order is all we need.
        (Value::Int(x), Value::Float(y)) => compare_floats(*x as f64, *y),
        #[allow(clippy::cast_precision_loss)]
        (Value::Float(x), Value::Int(y)) => compare_floats(*x, *y as f64),
        (Value::String(x), Value::String(y)) => x.as_bytes().cmp(y.as_bytes()),
        (Value::List(x), Value::List(y)) => compare_seq(x.iter(), y.iter()),
        (Value::Struct(x), Value::Struct(y)) => x
            .type_name
            .cmp(&y.type_name)
            .then_with(|| compare_seq(x.fields.iter().map(|f| &f.1), y.fields.iter().map(|f| &f.1))),
        (Value::Map(x), Value::Map(y)) => x.len().cmp(&y.len()),
        _ => rank(a).cmp(&rank(b)),
    }
}

fn compare_floats(x: f64, y: f64) -> Ordering {
    match (x.is_nan(), y.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        (false, false) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
    }
}

fn compare_seq<'a>(
    mut x: impl Iterator<Item = &'a Value>,
    mut y: impl Iterator<Item = &'a Value>,
) -> Ordering {
    loop {
        match (x.next(), y.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(a), Some(b)) => match compare_keys(a, b) {
                Ordering::Equal => {}
                other => return other,
            },
        }
    }
}

fn rank(v: &Value) -> u8 {
    match v {
        Value::Nil => 0,
        Value::Bool(_) => 1,
        Value::Int(_) | Value::Float(_) => 2,
        Value::String(_) => 3,
        Value::Struct(_) => 4,
        Value::List(_) => 5,
        Value::Map(_) => 6,
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.to_owned())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s)
    }
}

impl From<&String> for Value {
    fn from(s: &String) -> Self {
        Value::String(s.clone())
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Int(i)
    }
}

impl From<i32> for Value {
    fn from(i: i32) -> Self {
        Value::Int(i64::from(i))
    }
}

impl From<u32> for Value {
    fn from(i: u32) -> Self {
        Value::Int(i64::from(i))
    }
}

impl From<usize> for Value {
    fn from(i: usize) -> Self {
        Value::Int(i64::try_from(i).unwrap_or(i64::MAX))
    }
}

impl From<f64> for Value {
    fn from(f: f64) -> Self {
        Value::Float(f)
    }
}

impl From<Struct> for Value {
    fn from(s: Struct) -> Self {
        Value::Struct(s)
    }
}

impl From<Map> for Value {
    fn from(m: Map) -> Self {
        Value::Map(m)
    }
}

impl<T: Into<Value>> From<Vec<T>> for Value {
    fn from(items: Vec<T>) -> Self {
        Value::List(items.into_iter().map(Into::into).collect())
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Nil, Into::into)
    }
}

impl<T: Into<Value>> FromIterator<T> for Value {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        Value::List(iter.into_iter().map(Into::into).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(api: &str, kind: &str, name: &str, ns: &str) -> Value {
        Struct::new("ObjectIdentifier")
            .field("APIVersion", api)
            .field("Kind", kind)
            .field("Name", name)
            .field("Namespace", ns)
            .into()
    }

    #[test]
    fn truth_follows_go() {
        for v in [
            Value::Nil,
            Value::Bool(false),
            Value::Int(0),
            Value::Float(0.0),
            Value::from(""),
            Value::List(vec![]),
            Value::Map(Map::new()),
        ] {
            assert!(!v.is_true(), "{v:?}");
        }
        for v in [
            Value::Bool(true),
            Value::Int(-1),
            Value::Float(0.5),
            Value::from("x"),
            Value::from(vec!["a"]),
            Value::Map(Map::new().entry("k", "v")),
            Value::Struct(Struct::new("Empty")),
        ] {
            assert!(v.is_true(), "{v:?}");
        }
    }

    #[test]
    fn struct_keys_sort_field_by_field_in_declaration_order() {
        let map = Map::new()
            .entry(object("v1", "B", "n", ""), 1)
            .entry(object("v1", "A", "z", "x"), 2)
            .entry(object("apps/v1", "Z", "a", ""), 3);
        let order: Vec<&Value> = map.sorted().into_iter().map(|(_, v)| v).collect();
        assert_eq!(order, [&Value::Int(3), &Value::Int(2), &Value::Int(1)]);
    }

    #[test]
    fn scalar_keys_sort_like_fmtsort() {
        let map = Map::new().entry(10, "a").entry(-2, "b").entry(3, "c");
        let keys: Vec<&Value> = map.sorted().into_iter().map(|(k, _)| k).collect();
        assert_eq!(keys, [&Value::Int(-2), &Value::Int(3), &Value::Int(10)]);
        let map = Map::new().entry("b", 1).entry("B", 2).entry("a", 3).entry("é", 4);
        let keys: Vec<&str> = map.sorted().into_iter().filter_map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["B", "a", "b", "é"]);
        let map = Map::new().entry(true, 1).entry(false, 2);
        assert_eq!(map.sorted()[0].0, Value::Bool(false));
        let map = Map::new().entry(f64::NAN, 1).entry(-1.5, 2).entry(0.5, 3);
        assert!(matches!(map.sorted()[0].0, Value::Float(f) if f.is_nan()));
        assert_eq!(map.sorted()[2].0, Value::Float(0.5));
    }

    #[test]
    fn insert_replaces_equal_keys() {
        let mut map = Map::strings([("a", "1")]);
        map.insert("a".into(), "2".into());
        assert_eq!(map.len(), 1);
        assert_eq!(map.get_str("a"), Some(&Value::from("2")));
        assert_eq!(map.zero(), &Value::from(""));
        assert_eq!(map.type_name(), "map[string]string");
        assert_eq!(Map::new().type_name(), "map[string]interface {}");
    }

    #[test]
    fn struct_builder_and_type_names() {
        let s = Struct::new("NamespacedName")
            .field("Namespace", "ns")
            .field("Name", "n")
            .field("Name", "m")
            .display("ns/m");
        assert_eq!(s.get("Name"), Some(&Value::from("m")));
        assert_eq!(s.fields.len(), 2);
        assert_eq!(Value::from(s).type_name(), "NamespacedName");
        assert_eq!(Value::from(vec!["a", "b"]).type_name(), "[]string");
        assert_eq!(
            Value::List(vec![Value::Int(1), "a".into()]).type_name(),
            "[]interface {}"
        );
        assert_eq!(Value::from(None::<i64>), Value::Nil);
        assert_eq!(Value::from(Some(2)), Value::Int(2));
    }
}
