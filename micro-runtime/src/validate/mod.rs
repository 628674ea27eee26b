//! Request validation from protovalidate's `buf.validate` rules.
//!
//! micro-gen reads the rules of a `.proto` and generates, per message, a [`Validate`] impl
//! that checks them with the functions of this module: every violation with its field path
//! (`items[2].name`), protovalidate's rule id (`string.min_len`) and message. A server runs
//! `validate()` before the handler of every request type that has rules and answers
//! `INVALID_ARGUMENT` with all of them ([`Error::invalid`]); a client can check before it
//! sends ([`CallOptions::validate`](crate::client::CallOptions::validate)).
//!
//! ```
//! use micro::validate::{Format, StringRules, Validate, Violations};
//!
//! struct Signup { email: String }
//!
//! static EMAIL: StringRules = StringRules { format: Some(Format::Email), ..StringRules::NONE };
//!
//! impl Validate for Signup {
//!     fn validate_into(&self, v: &mut Violations) {
//!         v.field("email");
//!         micro::validate::string(v, &self.email, &EMAIL);
//!         v.pop();
//!     }
//! }
//!
//! let err = Signup { email: "nope".into() }.validate().unwrap_err();
//! assert_eq!(err.code(), 400);
//! assert_eq!(err.violations()[0].field, "email");
//! assert_eq!(err.violations()[0].rule, "string.email");
//! ```

mod formats;
#[cfg(feature = "garde")]
mod garde;
mod pattern;
mod rules;

use std::fmt::{self, Write as _};

use crate::error::{Error, Violation};

pub use formats::Format;
#[cfg(feature = "garde")]
pub use garde::garde_error;
pub use pattern::{Pattern, re2_classes};
pub use rules::{
    BoolRules, BytesRules, EnumRules, FloatKey, MapRules, Number, NumberRules, RepeatedRules,
    StringRules, boolean, bytes, enumeration, map, number, repeated, string, unique, unique_floats,
};

/// A message that checks its own rules.
pub trait Validate {
    /// Add every violation of `self` to `v`, under the path `v` is at.
    fn validate_into(&self, v: &mut Violations);

    /// Every violation, as one `INVALID_ARGUMENT` error; `Ok` when there is none.
    fn validate(&self) -> Result<(), Error> {
        let mut v = Violations::new();
        self.validate_into(&mut v);
        v.into_result()
    }
}

/// True when `value` is its type's zero value (how a field without presence is "unset").
pub fn is_default<T: Default + PartialEq>(value: &T) -> bool {
    *value == T::default()
}

/// A boxed message (prost boxes recursive fields) validates as the message.
impl<T: Validate + ?Sized> Validate for Box<T> {
    fn validate_into(&self, v: &mut Violations) {
        (**self).validate_into(v);
    }
}

/// How generated servers find a request's validation at compile time: micro's
/// [`Validate`] (generated from `buf.validate` rules), else `garde::Validate` (serde types),
/// else none. Generated code writes `(&&&Check(&request)).micro_validate()` with the three
/// traits in scope; method resolution picks the first that applies.
#[doc(hidden)]
pub mod pick {
    use super::Validate;
    use crate::error::Error;

    /// A request to validate.
    pub struct Check<'a, T>(pub &'a T);

    impl<T> std::fmt::Debug for Check<'_, T> {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("Check")
        }
    }

    /// micro's generated validation.
    pub trait ViaMicro {
        /// Validate the request.
        fn micro_validate(&self) -> Result<(), Error>;
    }

    impl<T: Validate> ViaMicro for &&Check<'_, T> {
        fn micro_validate(&self) -> Result<(), Error> {
            self.0.validate()
        }
    }

    /// garde's derived validation.
    #[cfg(feature = "garde")]
    pub trait ViaGarde {
        /// Validate the request.
        fn micro_validate(&self) -> Result<(), Error>;
    }

    #[cfg(feature = "garde")]
    impl<T> ViaGarde for &Check<'_, T>
    where
        T: garde::Validate,
        T::Context: Default,
    {
        fn micro_validate(&self) -> Result<(), Error> {
            super::garde::check(self.0)
        }
    }

    /// No rules: nothing to check.
    pub trait ViaNothing {
        /// Nothing to validate.
        fn micro_validate(&self) -> Result<(), Error>;
    }

    impl<T> ViaNothing for Check<'_, T> {
        fn micro_validate(&self) -> Result<(), Error> {
            Ok(())
        }
    }
}

/// One step of a field path.
#[derive(Clone, Debug)]
enum Segment {
    Field(&'static str),
    Index(usize),
    Key(String),
}

/// The most violations one error carries, and the most bytes of their text: an error
/// travels in response trailers (three times: `grpc-message`, micro's JSON and
/// `google.rpc.BadRequest`), which peers cap at 8–16 KiB.
const MAX_VIOLATIONS: usize = 32;
const MAX_TEXT: usize = 2048;
/// The longest map key shown in a path (user input: cut).
const MAX_PART: usize = 64;

/// `text` cut to at most `max` bytes at a character boundary.
fn cut(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// `violations` within the limits of one error (see [`Violations`]): the rest counted in
/// the error's `omitted_violations` metadata.
#[cfg(feature = "garde")]
pub(crate) fn capped(
    violations: impl IntoIterator<Item = (String, String, String)>,
) -> Result<(), Error> {
    let mut v = Violations::new();
    for (field, rule, message) in violations {
        if v.found.len() >= MAX_VIOLATIONS || v.text >= MAX_TEXT {
            v.omitted += 1;
            continue;
        }
        v.path.clear();
        v.add_at(field, &rule, message);
    }
    v.into_result()
}

/// The violations found so far, and the path the checks are at.
#[derive(Debug, Default)]
pub struct Violations {
    path: Vec<Segment>,
    found: Vec<Violation>,
    text: usize,
    /// Violations found past the limits, counted but not kept.
    omitted: usize,
}

impl Violations {
    /// None yet, at the root.
    pub fn new() -> Violations {
        Violations::default()
    }

    /// Step into field `name`.
    pub fn field(&mut self, name: &'static str) {
        self.path.push(Segment::Field(name));
    }

    /// Step into element `index` of a list.
    pub fn index(&mut self, index: usize) {
        self.path.push(Segment::Index(index));
    }

    /// Step into the entry of a map with a string key (shown quoted: `labels["env"]`).
    pub fn key_str(&mut self, key: &str) {
        let mut text = String::with_capacity(key.len().min(MAX_PART) + 2);
        text.push('"');
        for c in cut(key, MAX_PART).chars() {
            match c {
                '"' => text.push_str("\\\""),
                '\\' => text.push_str("\\\\"),
                c => text.push(c),
            }
        }
        if key.len() > MAX_PART {
            text.push('…');
        }
        text.push('"');
        self.path.push(Segment::Key(text));
    }

    /// Step into the entry of a map with a number or bool key (`counts[7]`).
    pub fn key(&mut self, key: impl fmt::Display) {
        self.path.push(Segment::Key(key.to_string()));
    }

    /// Step back out.
    pub fn pop(&mut self) {
        self.path.pop();
    }

    /// Record that the value at the current path broke `rule` (past 32 violations or 2 KiB
    /// of their text, only counted).
    pub fn add(&mut self, rule: &str, message: impl Into<String>) {
        if self.found.len() >= MAX_VIOLATIONS || self.text >= MAX_TEXT {
            self.omitted += 1;
            return;
        }
        let mut field = self.path_text();
        let mut message = message.into();
        // One violation is a bounded part of the budget, whatever the input put in it.
        for part in [&mut field, &mut message] {
            if part.len() > MAX_PART * 4 {
                let kept = cut(part, MAX_PART * 4).len();
                part.truncate(kept);
                part.push('…');
            }
        }
        self.text += field.len() + rule.len() + message.len();
        self.found.push(Violation::new(field, rule, message));
    }

    /// [`Violations::add`] at a path given as text (a report of another validator).
    #[cfg(feature = "garde")]
    fn add_at(&mut self, field: String, rule: &str, message: String) {
        let mut field = field;
        if field.len() > MAX_PART * 4 {
            let kept = cut(&field, MAX_PART * 4).len();
            field.truncate(kept);
            field.push('…');
        }
        let message = cut(&message, MAX_PART * 4).to_owned();
        self.text += field.len() + rule.len() + message.len();
        self.found.push(Violation::new(field, rule, message));
    }

    /// How many violations were found past the limits and left out.
    pub fn omitted(&self) -> usize {
        self.omitted
    }

    /// Record a `required` violation at the current path.
    pub fn required(&mut self) {
        self.add("required", "value is required");
    }

    /// True when nothing was found.
    pub fn is_empty(&self) -> bool {
        self.found.is_empty() && self.omitted == 0
    }

    /// The violations found.
    pub fn into_vec(self) -> Vec<Violation> {
        self.found
    }

    /// `Ok` with no violation, else [`Error::invalid`] with all of them (the id is left for
    /// the server to fill in).
    pub fn into_result(self) -> Result<(), Error> {
        if self.is_empty() {
            return Ok(());
        }
        let mut err = Error::invalid("", self.found);
        if self.omitted > 0 {
            err = err.with_metadata("omitted_violations", self.omitted.to_string());
        }
        Err(err)
    }

    fn path_text(&self) -> String {
        let mut text = String::new();
        for segment in &self.path {
            match segment {
                Segment::Field(name) => {
                    if !text.is_empty() {
                        text.push('.');
                    }
                    text.push_str(name);
                }
                Segment::Index(i) => {
                    let _ = write!(text, "[{i}]");
                }
                Segment::Key(k) => {
                    let _ = write!(text, "[{k}]");
                }
            }
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_read_like_protovalidates() {
        let mut v = Violations::new();
        v.field("items");
        v.index(2);
        v.field("name");
        v.required();
        v.pop();
        v.pop();
        v.pop();
        v.field("labels");
        v.key_str("e\"v");
        v.add("string.min_len", "must be at least 1 characters");
        v.pop();
        v.pop();
        let found = v.into_vec();
        assert_eq!(found[0].field, "items[2].name");
        let mut many = Violations::new();
        many.field("tags");
        for i in 0..1000 {
            many.index(i);
            many.add("string.min_len", "must be at least 2 characters");
            many.pop();
        }
        assert_eq!(many.omitted(), 1000 - 32);
        let err = many.into_result().unwrap_err();
        assert_eq!(err.violations().len(), 32);
        assert!(err.detail().len() < 512, "{}", err.detail());
        assert_eq!(err.metadata()["omitted_violations"], "968");
        // A long key in the path is cut.
        let mut long = Violations::new();
        long.field("labels");
        long.key_str(&"k".repeat(100_000));
        long.required();
        let cut_key = long.into_vec();
        assert!(cut_key[0].field.len() < 100, "{}", cut_key[0].field.len());
        assert_eq!(found[1].field, r#"labels["e\"v"]"#);
    }
}
