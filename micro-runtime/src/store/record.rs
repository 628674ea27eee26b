//! A record: key, value, metadata and expiry.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::ID;
use crate::error::{Error, Result};

/// A record's metadata: JSON values by name (go-micro's `map[string]any`).
pub type Metadata = BTreeMap<String, serde_json::Value>;

/// One entry of a store (go-micro's `store.Record`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Record {
    /// The key.
    pub key: String,
    /// The value: any bytes.
    pub value: Bytes,
    /// Metadata stored with the value.
    pub metadata: Metadata,
    /// When the record stops existing; `None` keeps it until deleted.
    pub expiry: Option<SystemTime>,
}

impl Record {
    /// A record with this key and value, no metadata, no expiry.
    pub fn new(key: impl Into<String>, value: impl Into<Bytes>) -> Record {
        Record {
            key: key.into(),
            value: value.into(),
            metadata: Metadata::new(),
            expiry: None,
        }
    }

    /// A record holding `value` as JSON.
    pub fn encode<T: Serialize + ?Sized>(key: impl Into<String>, value: &T) -> Result<Record> {
        let key = key.into();
        let json = serde_json::to_vec(value).map_err(|e| {
            Error::bad_request(
                ID,
                format!("cannot encode the value of {key:?} as JSON: {e}"),
            )
        })?;
        Ok(Record::new(key, json))
    }

    /// The value decoded from JSON; the error names the key and where the JSON broke.
    pub fn decode<T: DeserializeOwned>(&self) -> Result<T> {
        let mut de = serde_json::Deserializer::from_slice(&self.value);
        serde_path_to_error::deserialize(&mut de).map_err(|e| {
            Error::bad_request(
                ID,
                format!(
                    "value of {:?} does not decode as {}: at {}: {}",
                    self.key,
                    std::any::type_name::<T>(),
                    e.path(),
                    e.inner()
                ),
            )
        })
    }

    /// Expire `ttl` from now (go-micro's `WriteTTL`; at most [`MAX_TTL`](super::MAX_TTL)).
    #[must_use]
    pub fn with_ttl(mut self, ttl: Duration) -> Record {
        self.expiry = Some(SystemTime::now() + ttl.min(super::MAX_TTL));
        self
    }

    /// Expire at `at` (go-micro's `WriteExpiry`).
    #[must_use]
    pub fn with_expiry(mut self, at: SystemTime) -> Record {
        self.expiry = Some(at);
        self
    }

    /// Add a metadata entry.
    #[must_use]
    pub fn with_metadata(
        mut self,
        key: impl Into<String>,
        value: impl Into<serde_json::Value>,
    ) -> Record {
        self.metadata.insert(key.into(), value.into());
        self
    }

    /// How long until it expires (zero once expired); `None` without an expiry.
    pub fn ttl(&self) -> Option<Duration> {
        self.expiry.map(|at| {
            at.duration_since(SystemTime::now())
                .unwrap_or(Duration::ZERO)
        })
    }

    /// Whether it has expired at `now`.
    pub fn is_expired(&self, now: SystemTime) -> bool {
        self.expiry.is_some_and(|at| at <= now)
    }
}

/// Milliseconds since the Unix epoch (0 for times before it).
pub(crate) fn millis(at: SystemTime) -> u64 {
    at.duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// The time `ms` milliseconds after the Unix epoch.
pub(crate) fn from_millis(ms: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_millis(ms)
}
