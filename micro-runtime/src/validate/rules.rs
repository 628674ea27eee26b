//! protovalidate's standard rules, as static tables the generated code fills in and
//! functions that check a value against them. Rule ids and messages are protovalidate's.

use std::fmt::{self, Display};

use super::Violations;
use super::formats::Format;
use super::pattern::Pattern;

/// `buf.validate.StringRules`.
#[derive(Debug)]
pub struct StringRules {
    /// `const`.
    pub const_: Option<&'static str>,
    /// `len` (characters).
    pub len: Option<u64>,
    /// `min_len` (characters).
    pub min_len: Option<u64>,
    /// `max_len` (characters).
    pub max_len: Option<u64>,
    /// `len_bytes`.
    pub len_bytes: Option<u64>,
    /// `min_bytes`.
    pub min_bytes: Option<u64>,
    /// `max_bytes`.
    pub max_bytes: Option<u64>,
    /// `pattern`.
    pub pattern: Option<Pattern>,
    /// `prefix`.
    pub prefix: Option<&'static str>,
    /// `suffix`.
    pub suffix: Option<&'static str>,
    /// `contains`.
    pub contains: Option<&'static str>,
    /// `not_contains`.
    pub not_contains: Option<&'static str>,
    /// `in`.
    pub in_: &'static [&'static str],
    /// `not_in`.
    pub not_in: &'static [&'static str],
    /// A well-known format (`email`, `uuid` ...).
    pub format: Option<Format>,
}

impl StringRules {
    /// No rule.
    pub const NONE: StringRules = StringRules {
        const_: None,
        len: None,
        min_len: None,
        max_len: None,
        len_bytes: None,
        min_bytes: None,
        max_bytes: None,
        pattern: None,
        prefix: None,
        suffix: None,
        contains: None,
        not_contains: None,
        in_: &[],
        not_in: &[],
        format: None,
    };
}

/// A list as CEL formats it: `[a, b]`.
struct List<'a, T>(&'a [T]);

impl<T: Display> Display for List<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[")?;
        for (i, item) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            item.fmt(f)?;
        }
        f.write_str("]")
    }
}

/// Check a string.
pub fn string(v: &mut Violations, value: &str, r: &StringRules) {
    if let Some(c) = r.const_
        && value != c
    {
        v.add("string.const", format!("must equal `{c}`"));
    }
    let chars = || value.chars().count() as u64;
    if let Some(n) = r.len
        && chars() != n
    {
        v.add("string.len", format!("must be {n} characters"));
    }
    if let Some(n) = r.min_len
        && chars() < n
    {
        v.add("string.min_len", format!("must be at least {n} characters"));
    }
    if let Some(n) = r.max_len
        && chars() > n
    {
        v.add("string.max_len", format!("must be at most {n} characters"));
    }
    let bytes = value.len() as u64;
    if let Some(n) = r.len_bytes
        && bytes != n
    {
        v.add("string.len_bytes", format!("must be {n} bytes"));
    }
    if let Some(n) = r.min_bytes
        && bytes < n
    {
        v.add("string.min_bytes", format!("must be at least {n} bytes"));
    }
    if let Some(n) = r.max_bytes
        && bytes > n
    {
        v.add("string.max_bytes", format!("must be at most {n} bytes"));
    }
    if let Some(p) = &r.pattern
        && !p.is_match(value)
    {
        v.add(
            "string.pattern",
            format!("does not match regex pattern `{}`", p.source()),
        );
    }
    if let Some(p) = r.prefix
        && !value.starts_with(p)
    {
        v.add("string.prefix", format!("does not have prefix `{p}`"));
    }
    if let Some(s) = r.suffix
        && !value.ends_with(s)
    {
        v.add("string.suffix", format!("does not have suffix `{s}`"));
    }
    if let Some(s) = r.contains
        && !value.contains(s)
    {
        v.add(
            "string.contains",
            format!("does not contain substring `{s}`"),
        );
    }
    if let Some(s) = r.not_contains
        && value.contains(s)
    {
        v.add("string.not_contains", format!("contains substring `{s}`"));
    }
    if !r.in_.is_empty() && !r.in_.contains(&value) {
        v.add("string.in", format!("must be in list {}", List(r.in_)));
    }
    if r.not_in.contains(&value) {
        v.add(
            "string.not_in",
            format!("must not be in list {}", List(r.not_in)),
        );
    }
    if let Some(format) = r.format {
        format.check(v, value);
    }
}

/// `buf.validate.BytesRules`.
#[derive(Debug)]
pub struct BytesRules {
    /// `const`.
    pub const_: Option<&'static [u8]>,
    /// `len`.
    pub len: Option<u64>,
    /// `min_len`.
    pub min_len: Option<u64>,
    /// `max_len`.
    pub max_len: Option<u64>,
    /// `prefix`.
    pub prefix: Option<&'static [u8]>,
    /// `suffix`.
    pub suffix: Option<&'static [u8]>,
    /// `contains`.
    pub contains: Option<&'static [u8]>,
    /// `in`.
    pub in_: &'static [&'static [u8]],
    /// `not_in`.
    pub not_in: &'static [&'static [u8]],
}

struct Hex<'a>(&'a [u8]);

impl Display for Hex<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

/// Check bytes.
pub fn bytes(v: &mut Violations, value: &[u8], r: &BytesRules) {
    if let Some(c) = r.const_
        && value != c
    {
        v.add("bytes.const", format!("must be {}", Hex(c)));
    }
    let n = value.len() as u64;
    if let Some(want) = r.len
        && n != want
    {
        v.add("bytes.len", format!("must be {want} bytes"));
    }
    if let Some(min) = r.min_len
        && n < min
    {
        v.add("bytes.min_len", format!("must be at least {min} bytes"));
    }
    if let Some(max) = r.max_len
        && n > max
    {
        v.add("bytes.max_len", format!("must be at most {max} bytes"));
    }
    if let Some(p) = r.prefix
        && !value.starts_with(p)
    {
        v.add("bytes.prefix", format!("does not have prefix {}", Hex(p)));
    }
    if let Some(s) = r.suffix
        && !value.ends_with(s)
    {
        v.add("bytes.suffix", format!("does not have suffix {}", Hex(s)));
    }
    if let Some(s) = r.contains
        && !value.windows(s.len().max(1)).any(|w| w == s)
        && !s.is_empty()
    {
        v.add("bytes.contains", format!("does not contain {}", Hex(s)));
    }
    if !r.in_.is_empty() && !r.in_.contains(&value) {
        v.add("bytes.in", "must be in list");
    }
    if r.not_in.contains(&value) {
        v.add("bytes.not_in", "must not be in list");
    }
}

/// `buf.validate.BoolRules`.
#[derive(Debug)]
pub struct BoolRules {
    /// `const`.
    pub const_: Option<bool>,
}

/// Check a bool.
pub fn boolean(v: &mut Violations, value: bool, r: &BoolRules) {
    if let Some(c) = r.const_
        && value != c
    {
        v.add("bool.const", format!("must equal {c}"));
    }
}

/// A number protovalidate has rules for.
pub trait Number: Copy + PartialOrd + Display + 'static {
    /// NaN (floats only).
    fn is_nan(self) -> bool {
        false
    }
    /// Neither NaN nor infinite (always, for integers).
    fn is_finite(self) -> bool {
        true
    }
}

macro_rules! integers {
    ($($t:ty)*) => {$(impl Number for $t {})*};
}
integers!(i32 i64 u32 u64);

impl Number for f32 {
    fn is_nan(self) -> bool {
        f32::is_nan(self)
    }
    fn is_finite(self) -> bool {
        f32::is_finite(self)
    }
}

impl Number for f64 {
    fn is_nan(self) -> bool {
        f64::is_nan(self)
    }
    fn is_finite(self) -> bool {
        f64::is_finite(self)
    }
}

/// The rules of one numeric type (`buf.validate.Int32Rules`, `DoubleRules` ...).
#[derive(Debug)]
pub struct NumberRules<T: 'static> {
    /// The rule-id prefix: `int32`, `uint64`, `sfixed32`, `double` ...
    pub kind: &'static str,
    /// `const`.
    pub const_: Option<T>,
    /// `lt`.
    pub lt: Option<T>,
    /// `lte`.
    pub lte: Option<T>,
    /// `gt`.
    pub gt: Option<T>,
    /// `gte`.
    pub gte: Option<T>,
    /// `in`.
    pub in_: &'static [T],
    /// `not_in`.
    pub not_in: &'static [T],
    /// `finite` (floats).
    pub finite: bool,
}

/// Check a number: `const`, the range (`gt`/`gte` with `lt`/`lte`, exclusive when the
/// bounds are reversed, as protovalidate reads them), `in`, `not_in`, `finite`.
pub fn number<T: Number>(v: &mut Violations, value: T, r: &NumberRules<T>) {
    let kind = r.kind;
    if let Some(c) = r.const_
        && (value != c || value.is_nan())
    {
        v.add(&format!("{kind}.const"), format!("must equal {c}"));
    }
    let lower = match (r.gt, r.gte) {
        (Some(g), _) => Some(("gt", "greater than", g, value.is_nan() || value <= g)),
        (None, Some(g)) => Some((
            "gte",
            "greater than or equal to",
            g,
            value.is_nan() || value < g,
        )),
        (None, None) => None,
    };
    let upper = match (r.lt, r.lte) {
        (Some(l), _) => Some(("lt", "less than", l, value.is_nan() || value >= l)),
        (None, Some(l)) => Some((
            "lte",
            "less than or equal to",
            l,
            value.is_nan() || value > l,
        )),
        (None, None) => None,
    };
    match (lower, upper) {
        (Some((gid, gtext, g, below)), Some((lid, ltext, l, above))) => {
            if l >= g {
                if below || above {
                    v.add(
                        &format!("{kind}.{gid}_{lid}"),
                        format!("must be {gtext} {g} and {ltext} {l}"),
                    );
                }
            } else if (below && above) || value.is_nan() {
                v.add(
                    &format!("{kind}.{gid}_{lid}_exclusive"),
                    format!("must be {gtext} {g} or {ltext} {l}"),
                );
            }
        }
        (Some((gid, gtext, g, below)), None) if below => {
            v.add(&format!("{kind}.{gid}"), format!("must be {gtext} {g}"));
        }
        (None, Some((lid, ltext, l, above))) if above => {
            v.add(&format!("{kind}.{lid}"), format!("must be {ltext} {l}"));
        }
        _ => {}
    }
    if !r.in_.is_empty() && !r.in_.contains(&value) {
        v.add(
            &format!("{kind}.in"),
            format!("must be in list {}", List(r.in_)),
        );
    }
    if r.not_in.contains(&value) {
        v.add(
            &format!("{kind}.not_in"),
            format!("must not be in list {}", List(r.not_in)),
        );
    }
    if r.finite && !value.is_finite() {
        v.add(&format!("{kind}.finite"), "must be finite");
    }
}

/// `buf.validate.EnumRules`.
#[derive(Debug)]
pub struct EnumRules {
    /// `const`.
    pub const_: Option<i32>,
    /// `defined_only`.
    pub defined_only: bool,
    /// `in`.
    pub in_: &'static [i32],
    /// `not_in`.
    pub not_in: &'static [i32],
}

/// Check an enum value; `defined` says whether the enum declares it.
pub fn enumeration(v: &mut Violations, value: i32, defined: bool, r: &EnumRules) {
    if let Some(c) = r.const_
        && value != c
    {
        v.add("enum.const", format!("must equal {c}"));
    }
    if r.defined_only && !defined {
        v.add(
            "enum.defined_only",
            "value must be one of the defined enum values",
        );
    }
    if !r.in_.is_empty() && !r.in_.contains(&value) {
        v.add("enum.in", format!("must be in list {}", List(r.in_)));
    }
    if r.not_in.contains(&value) {
        v.add(
            "enum.not_in",
            format!("must not be in list {}", List(r.not_in)),
        );
    }
}

/// `buf.validate.RepeatedRules` (the `items` rules are checked by the generated code).
#[derive(Debug)]
pub struct RepeatedRules {
    /// `min_items`.
    pub min_items: Option<u64>,
    /// `max_items`.
    pub max_items: Option<u64>,
    /// `unique`.
    pub unique: bool,
}

/// Check a list's size; `unique` is [`unique`] of its items when the rule is set.
pub fn repeated(v: &mut Violations, len: usize, unique: bool, r: &RepeatedRules) {
    let n = len as u64;
    if let Some(min) = r.min_items
        && n < min
    {
        v.add(
            "repeated.min_items",
            format!("must contain at least {min} item(s)"),
        );
    }
    if let Some(max) = r.max_items
        && n > max
    {
        v.add(
            "repeated.max_items",
            format!("must contain no more than {max} item(s)"),
        );
    }
    if r.unique && !unique {
        v.add(
            "repeated.unique",
            "repeated value must contain unique items",
        );
    }
}

/// True when no two items are equal (linear time: a request's list can be long).
pub fn unique<T: std::hash::Hash + Eq>(items: &[T]) -> bool {
    let mut seen = std::collections::HashSet::with_capacity(items.len());
    items.iter().all(|item| seen.insert(item))
}

/// A float as a key for [`unique_floats`]: `-0.0` equals `0.0`; NaN equals nothing.
pub trait FloatKey: Copy {
    /// The bits that compare equal for equal values; `None` for NaN.
    fn key(self) -> Option<u64>;
}

impl FloatKey for f32 {
    fn key(self) -> Option<u64> {
        f64::from(self).key()
    }
}

impl FloatKey for f64 {
    fn key(self) -> Option<u64> {
        if self.is_nan() {
            None
        } else if self == 0.0 {
            Some(0)
        } else {
            Some(self.to_bits())
        }
    }
}

/// [`unique`] for floats, with IEEE equality as CEL has it.
pub fn unique_floats<T: FloatKey>(items: &[T]) -> bool {
    let mut seen = std::collections::HashSet::with_capacity(items.len());
    items
        .iter()
        .all(|item| item.key().is_none_or(|key| seen.insert(key)))
}

/// `buf.validate.MapRules` (`keys` and `values` are checked by the generated code).
#[derive(Debug)]
pub struct MapRules {
    /// `min_pairs`.
    pub min_pairs: Option<u64>,
    /// `max_pairs`.
    pub max_pairs: Option<u64>,
}

/// Check a map's size.
pub fn map(v: &mut Violations, len: usize, r: &MapRules) {
    let n = len as u64;
    if let Some(min) = r.min_pairs
        && n < min
    {
        v.add(
            "map.min_pairs",
            format!("map must be at least {min} entries"),
        );
    }
    if let Some(max) = r.max_pairs
        && n > max
    {
        v.add(
            "map.max_pairs",
            format!("map must be at most {max} entries"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(f: impl FnOnce(&mut Violations)) -> Vec<String> {
        let mut v = Violations::new();
        f(&mut v);
        v.into_vec().into_iter().map(|x| x.rule).collect()
    }

    const RANGE: NumberRules<i32> = NumberRules {
        kind: "int32",
        const_: None,
        lt: None,
        lte: Some(150),
        gt: None,
        gte: Some(13),
        in_: &[],
        not_in: &[],
        finite: false,
    };

    #[test]
    fn ranges_and_exclusive_ranges_use_protovalidates_ids() {
        assert!(ids(|v| number(v, 13, &RANGE)).is_empty());
        assert_eq!(ids(|v| number(v, 12, &RANGE)), ["int32.gte_lte"]);
        assert_eq!(ids(|v| number(v, 151, &RANGE)), ["int32.gte_lte"]);
        let exclusive = NumberRules {
            lte: Some(0),
            gte: Some(10),
            ..RANGE
        };
        // Valid: <= 0 or >= 10.
        assert!(ids(|v| number(v, -5, &exclusive)).is_empty());
        assert!(ids(|v| number(v, 10, &exclusive)).is_empty());
        assert_eq!(
            ids(|v| number(v, 5, &exclusive)),
            ["int32.gte_lte_exclusive"]
        );
        let nan = NumberRules::<f64> {
            kind: "double",
            const_: None,
            lt: None,
            lte: None,
            gt: Some(0.0),
            gte: None,
            in_: &[],
            not_in: &[],
            finite: true,
        };
        assert_eq!(
            ids(|v| number(v, f64::NAN, &nan)),
            ["double.gt", "double.finite"]
        );
    }

    #[test]
    fn strings_count_characters_not_bytes() {
        let r = StringRules {
            max_len: Some(2),
            max_bytes: Some(3),
            ..StringRules::NONE
        };
        assert_eq!(ids(|v| string(v, "éé", &r)), ["string.max_bytes"]);
        assert!(unique(&[1, 2, 3]) && !unique(&["a", "b", "a"]));
        assert!(!unique_floats(&[0.0, -0.0]) && unique_floats(&[f64::NAN, f64::NAN]));
    }
}
