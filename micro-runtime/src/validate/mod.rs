//! Request validation from protovalidate's `buf.validate` rules.
//!
//! micro-gen reads the rules of a `.proto` and generates, per message, a [`Validate`] impl
//! that checks them with the functions of this module: every violation with its field path
//! (`items[2].name`), protovalidate's rule id (`string.min_len`) and message. A server runs
//! `validate()` before the handler of every request type that has rules and answers
//! `INVALID_ARGUMENT` with all of them ([`Error::invalid`]); a client can check before it
//! sends ([`crate::client::CallOptions`]'s `validate`).
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
mod rules;

use std::fmt::{self, Write as _};

use crate::error::{Error, Violation};

pub use formats::Format;
pub use rules::{
    BoolRules, BytesRules, EnumRules, MapRules, Number, NumberRules, Pattern, RepeatedRules,
    StringRules, boolean, bytes, enumeration, map, number, repeated, string, unique,
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

/// One step of a field path.
#[derive(Clone, Debug)]
enum Segment {
    Field(&'static str),
    Index(usize),
    Key(String),
}

/// The violations found so far, and the path the checks are at.
#[derive(Debug, Default)]
pub struct Violations {
    path: Vec<Segment>,
    found: Vec<Violation>,
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
        let mut text = String::with_capacity(key.len() + 2);
        text.push('"');
        for c in key.chars() {
            match c {
                '"' => text.push_str("\\\""),
                '\\' => text.push_str("\\\\"),
                c => text.push(c),
            }
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

    /// Record that the value at the current path broke `rule`.
    pub fn add(&mut self, rule: &str, message: impl Into<String>) {
        let field = self.path_text();
        self.found.push(Violation::new(field, rule, message));
    }

    /// Record a `required` violation at the current path.
    pub fn required(&mut self) {
        self.add("required", "value is required");
    }

    /// True when nothing was found.
    pub fn is_empty(&self) -> bool {
        self.found.is_empty()
    }

    /// The violations found.
    pub fn into_vec(self) -> Vec<Violation> {
        self.found
    }

    /// `Ok` with no violation, else [`Error::invalid`] with all of them (the id is left for
    /// the server to fill in).
    pub fn into_result(self) -> Result<(), Error> {
        if self.found.is_empty() {
            Ok(())
        } else {
            Err(Error::invalid("", self.found))
        }
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
        assert_eq!(found[1].field, r#"labels["e\"v"]"#);
    }
}
