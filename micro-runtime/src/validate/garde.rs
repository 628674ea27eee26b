//! Validation of serde types (the `#[micro::service]` front door) with `garde`: a request
//! type that derives `garde::Validate` is checked before the handler runs, and its report
//! becomes the same `INVALID_ARGUMENT` with one [`Violation`] per broken rule.
//!
//! The derive names `::garde`, so a project that derives it depends on `garde` itself, the
//! same 0.23 series as micro (`garde = { version = "0.23", features = ["derive", "email"] }`):
//! with another series the derived trait is another trait, and requests go unchecked. A type
//! whose garde context has no `Default` is not checked automatically either: call
//! `validate_with` in the handler.
//!
//! ```
//! use garde::Validate as _;
//!
//! #[derive(garde::Validate)]
//! struct Signup {
//!     #[garde(email)]
//!     email: String,
//!     #[garde(length(min = 1, max = 64))]
//!     name: String,
//! }
//!
//! let bad = Signup { email: "nope".into(), name: String::new() };
//! let err = micro::validate::garde_error(&bad.validate().unwrap_err());
//! assert_eq!(err.code(), 400);
//! let fields: Vec<&str> = err.violations().iter().map(|v| v.field.as_str()).collect();
//! assert_eq!(fields, ["email", "name"]);
//! ```

use crate::error::Error;

/// A `garde` report as micro's validation error: each entry a violation at its path, with
/// rule `garde` (garde's errors carry a message but no rule name).
/// At most 32 violations (or 2 KiB of their text) are kept, as for generated rules.
pub fn garde_error(report: &garde::Report) -> Error {
    let all = report.iter().map(|(path, err)| {
        (
            path.to_string(),
            "garde".to_owned(),
            err.message().to_string(),
        )
    });
    match super::capped(all) {
        Err(err) => err,
        Ok(()) => Error::invalid("", Vec::new()),
    }
}

/// Validate `value` with its garde rules (the context's default).
pub(crate) fn check<T>(value: &T) -> Result<(), Error>
where
    T: garde::Validate,
    T::Context: Default,
{
    value.validate().map_err(|report| garde_error(&report))
}
