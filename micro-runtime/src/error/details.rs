//! What an error carries beyond go-micro's four fields: a machine-readable **reason** (the
//! value of a typed error set, such as `USER_NOT_FOUND`), string **metadata** about it, and
//! the **violations** of a request that failed validation.
//!
//! They travel with the error over every path: in its JSON (native, gRPC's
//! `micro-error-bin`, the gateway's body, Connect), and for stock gRPC clients as
//! `google.rpc.ErrorInfo` and `google.rpc.BadRequest` in `grpc-status-details-bin`.
//!
//! ```
//! let err = micro::error::not_found("no user 7")
//!     .with_reason("USER_NOT_FOUND")
//!     .with_metadata("id", "7");
//! assert_eq!(err.reason(), Some("USER_NOT_FOUND"));
//! assert_eq!(err.metadata().get("id").map(String::as_str), Some("7"));
//! let back = micro::Error::parse(&err.to_json());
//! assert!(back.is_reason("USER_NOT_FOUND"));
//! ```

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

/// One rule a request broke: where (a field path such as `items[2].name`), which rule
/// (protovalidate's rule id, such as `string.min_len`) and what it says.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violation {
    /// The path of the field, dotted, with `[index]` or `["key"]` for list and map elements;
    /// empty for a rule of the whole message.
    #[serde(default)]
    pub field: String,
    /// The rule's id (`string.email`, `required`, `int32.gte` ...).
    #[serde(default)]
    pub rule: String,
    /// The human-readable message (`value must be a valid email address`).
    #[serde(default)]
    pub message: String,
}

impl Violation {
    /// A violation of `rule` at `field`.
    pub fn new(
        field: impl Into<String>,
        rule: impl Into<String>,
        message: impl Into<String>,
    ) -> Violation {
        Violation {
            field: field.into(),
            rule: rule.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            write!(f, "{} [{}]", self.message, self.rule)
        } else {
            write!(f, "{}: {} [{}]", self.field, self.message, self.rule)
        }
    }
}

/// The typed part of an error (absent on most errors, so it costs them one pointer).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Details {
    pub(crate) reason: String,
    pub(crate) metadata: BTreeMap<String, String>,
    pub(crate) violations: Vec<Violation>,
}

impl Details {
    pub(crate) fn is_empty(&self) -> bool {
        self.reason.is_empty() && self.metadata.is_empty() && self.violations.is_empty()
    }
}

/// The detail text of a validation error: the first three violations, one per clause, and
/// how many more there are (all of them are in [`Error::violations`](super::Error::violations)).
pub(crate) fn summary(violations: &[Violation]) -> String {
    const SHOWN: usize = 3;
    let mut text = String::from("invalid request: ");
    for (i, v) in violations.iter().take(SHOWN).enumerate() {
        if i > 0 {
            text.push_str("; ");
        }
        text.push_str(&v.to_string());
    }
    if violations.len() > SHOWN {
        text.push_str(&format!(" (and {} more)", violations.len() - SHOWN));
    }
    text
}

/// A field of an error's JSON that another implementation may write differently (`null`, a
/// number where a string is expected): read when it has micro's shape, else empty, so the
/// error itself (id, code, detail) is never lost over it.
pub(crate) fn lenient<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: serde::de::DeserializeOwned + Default,
{
    let value = serde_json::Value::deserialize(deserializer)?;
    Ok(serde_json::from_value(value).unwrap_or_default())
}
