//! gRPC message framing: a 1-byte compressed flag, a 4-byte big-endian length, the message.

use bytes::{Buf, BufMut, Bytes, BytesMut};

use crate::codec::{Codec, Format};
use crate::error::{Code, Error, Result};

pub(crate) const HEADER: usize = 5;

/// The error for a message over the size limit: gRPC `RESOURCE_EXHAUSTED`, micro code 413.
pub(crate) fn too_large(id: &str, what: &str, len: usize, max: usize) -> Error {
    Error::too_large(
        id,
        format!("{what} of {len} bytes is larger than the limit of {max} bytes"),
    )
    .with_grpc_code(Code::ResourceExhausted)
}

/// Encode `msg` as one frame.
pub(crate) fn encode<T>(
    codec: &Codec<T>,
    msg: &T,
    format: Format,
    max: usize,
    id: &str,
    what: &str,
) -> Result<Bytes> {
    let mut buf = BytesMut::with_capacity(128);
    buf.put_u8(0);
    buf.put_u32(0);
    codec.encode(msg, format, &mut buf)?;
    let len = buf.len() - HEADER;
    if len > max {
        return Err(too_large(id, what, len, max));
    }
    let len32 = u32::try_from(len).map_err(|_| too_large(id, what, len, max))?;
    buf[1..HEADER].copy_from_slice(&len32.to_be_bytes());
    Ok(buf.freeze())
}

/// Splits a byte stream into messages, checking each length against the limit before
/// buffering the message.
#[derive(Debug)]
pub(crate) struct Decoder {
    /// The newest chunk, parsed in place while `buf` is empty (no copy in the common case).
    head: Bytes,
    /// Bytes of a message that spans chunks.
    buf: BytesMut,
    max: usize,
    id: &'static str,
    what: &'static str,
}

impl Decoder {
    pub(crate) fn new(max: usize, id: &'static str, what: &'static str) -> Decoder {
        Decoder {
            head: Bytes::new(),
            buf: BytesMut::new(),
            max,
            id,
            what,
        }
    }

    pub(crate) fn push(&mut self, data: Bytes) {
        if data.is_empty() {
            return;
        }
        if self.buf.is_empty() && self.head.is_empty() {
            self.head = data;
        } else {
            if !self.head.is_empty() {
                let head = std::mem::take(&mut self.head);
                self.buf.extend_from_slice(&head);
            }
            self.buf.extend_from_slice(&data);
        }
    }

    fn check_header(&self, flag: u8, len: usize) -> Result<()> {
        if flag == 1 {
            return Err(Error::internal(
                self.id,
                "compressed message received, but no compression was negotiated",
            )
            .with_grpc_code(Code::Internal));
        }
        if flag > 1 {
            return Err(Error::internal(
                self.id,
                format!("invalid gRPC frame: flag byte {flag}"),
            ));
        }
        if len > self.max {
            return Err(too_large(self.id, self.what, len, self.max));
        }
        Ok(())
    }

    /// The next complete message, if one is buffered.
    pub(crate) fn next(&mut self) -> Result<Option<Bytes>> {
        if self.buf.is_empty() && !self.head.is_empty() {
            if self.head.len() >= HEADER {
                let flag = self.head[0];
                let len =
                    u32::from_be_bytes([self.head[1], self.head[2], self.head[3], self.head[4]])
                        as usize;
                self.check_header(flag, len)?;
                if self.head.len() >= HEADER + len {
                    self.head.advance(HEADER);
                    return Ok(Some(self.head.split_to(len)));
                }
            }
            let head = std::mem::take(&mut self.head);
            self.buf.extend_from_slice(&head);
        }
        if self.buf.len() < HEADER {
            return Ok(None);
        }
        let flag = self.buf[0];
        let len = u32::from_be_bytes([self.buf[1], self.buf[2], self.buf[3], self.buf[4]]) as usize;
        self.check_header(flag, len)?;
        if self.buf.len() < HEADER + len {
            self.buf.reserve(HEADER + len - self.buf.len());
            return Ok(None);
        }
        self.buf.advance(HEADER);
        Ok(Some(self.buf.split_to(len).freeze()))
    }

    /// Bytes held that no complete message has taken yet.
    pub(crate) fn buffered(&self) -> usize {
        self.head.len() + self.buf.len()
    }

    /// Call at the end of the stream: leftover bytes mean a truncated message.
    pub(crate) fn finish(&self) -> Result<()> {
        let left = self.head.len() + self.buf.len();
        if left == 0 {
            Ok(())
        } else {
            Err(Error::internal(
                self.id,
                format!(
                    "truncated gRPC frame: stream ended with {left} bytes of an incomplete message"
                ),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(payload: &[u8]) -> Vec<u8> {
        let mut v = vec![0];
        v.extend_from_slice(&(payload.len() as u32).to_be_bytes());
        v.extend_from_slice(payload);
        v
    }

    #[test]
    fn splits_across_arbitrary_chunks() {
        let mut all = frame(b"hello");
        all.extend(frame(b""));
        all.extend(frame(&[7u8; 300]));
        for chunk in [1, 2, 3, 5, 7, 64, 1000] {
            let mut d = Decoder::new(1024, "t", "message");
            let mut out = Vec::new();
            for part in all.chunks(chunk) {
                d.push(Bytes::copy_from_slice(part));
                while let Some(m) = d.next().unwrap() {
                    out.push(m);
                }
            }
            d.finish().unwrap();
            assert_eq!(out.len(), 3, "chunk {chunk}");
            assert_eq!(&out[0][..], b"hello");
            assert!(out[1].is_empty());
            assert_eq!(out[2].len(), 300);
        }
    }

    #[test]
    fn oversized_length_is_rejected_before_buffering() {
        let mut d = Decoder::new(16, "t", "request message");
        d.push(Bytes::from_static(&[0, 0xff, 0xff, 0xff, 0xff]));
        let err = d.next().unwrap_err();
        assert_eq!(err.grpc_code(), Code::ResourceExhausted);
        assert!(
            err.detail().contains("limit of 16 bytes"),
            "{}",
            err.detail()
        );
    }

    #[test]
    fn compressed_flag_and_truncation_are_errors() {
        let mut d = Decoder::new(16, "t", "m");
        d.push(Bytes::from_static(&[1, 0, 0, 0, 1, 9]));
        assert_eq!(d.next().unwrap_err().grpc_code(), Code::Internal);

        let mut d = Decoder::new(16, "t", "m");
        d.push(Bytes::from_static(&[0, 0, 0, 0, 4, 1]));
        assert!(d.next().unwrap().is_none());
        assert!(d.finish().is_err());
    }
}
