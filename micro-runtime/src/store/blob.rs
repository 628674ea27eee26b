//! How engines that hold bytes only (file, NATS) keep a record: a version byte, the expiry
//! in milliseconds since the Unix epoch (0: none), the metadata as JSON behind its length,
//! then the value.

use bytes::{Buf, BufMut, Bytes, BytesMut};

use super::record::{from_millis, millis};
use super::{ID, Metadata, Record};
use crate::error::{Error, Result};

const VERSION: u8 = 1;
const HEADER: usize = 1 + 8 + 4;

/// `record` as bytes.
pub(crate) fn encode(record: &Record) -> Result<Bytes> {
    let metadata = if record.metadata.is_empty() {
        Vec::new()
    } else {
        serde_json::to_vec(&record.metadata)
            .map_err(|e| Error::bad_request(ID, format!("metadata of {:?}: {e}", record.key)))?
    };
    let meta_len = u32::try_from(metadata.len())
        .map_err(|_| Error::too_large(ID, format!("metadata of {:?} is over 4 GiB", record.key)))?;
    let mut out = BytesMut::with_capacity(HEADER + metadata.len() + record.value.len());
    out.put_u8(VERSION);
    out.put_u64(record.expiry.map_or(0, |at| millis(at).max(1)));
    out.put_u32(meta_len);
    out.put_slice(&metadata);
    out.put_slice(&record.value);
    Ok(out.freeze())
}

/// The record `key` held as `bytes`; `what` names the engine and place for errors.
pub(crate) fn decode(key: &str, mut bytes: Bytes, what: &str) -> Result<Record> {
    let corrupt = |why: &str| {
        Error::internal(
            ID,
            format!("{what}: the record at {key:?} is corrupt ({why})"),
        )
    };
    if bytes.len() < HEADER {
        return Err(corrupt("shorter than its header"));
    }
    let version = bytes.get_u8();
    if version != VERSION {
        return Err(corrupt(&format!("unknown format version {version}")));
    }
    let expiry = bytes.get_u64();
    let meta_len = bytes.get_u32() as usize;
    if bytes.len() < meta_len {
        return Err(corrupt("metadata longer than the record"));
    }
    let meta = bytes.split_to(meta_len);
    let metadata: Metadata = if meta.is_empty() {
        Metadata::new()
    } else {
        serde_json::from_slice(&meta).map_err(|e| corrupt(&format!("metadata: {e}")))?
    };
    Ok(Record {
        key: key.to_owned(),
        value: bytes,
        metadata,
        expiry: (expiry != 0).then(|| from_millis(expiry)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn round_trips_value_metadata_and_expiry() {
        let record = Record::new("k", vec![0u8, 255, 7])
            .with_metadata("owner", "alice")
            .with_ttl(Duration::from_secs(60));
        let back = decode("k", encode(&record).unwrap(), "test").unwrap();
        assert_eq!(back.value, record.value);
        assert_eq!(back.metadata, record.metadata);
        let (a, b) = (millis(back.expiry.unwrap()), millis(record.expiry.unwrap()));
        assert_eq!(a, b);
    }

    #[test]
    fn empty_value_without_metadata_is_the_header_only() {
        let bytes = encode(&Record::new("k", "")).unwrap();
        assert_eq!(bytes.len(), HEADER);
        let back = decode("k", bytes, "test").unwrap();
        assert!(back.value.is_empty() && back.metadata.is_empty() && back.expiry.is_none());
    }

    #[test]
    fn corrupt_bytes_are_an_error_naming_the_key() {
        for bad in [
            &b""[..],
            &[9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0][..],
            &[1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 99][..],
        ] {
            let e = decode("the-key", Bytes::copy_from_slice(bad), "file store x").unwrap_err();
            assert!(
                e.detail().contains("\"the-key\"") && e.detail().contains("corrupt"),
                "{e}"
            );
        }
    }
}
