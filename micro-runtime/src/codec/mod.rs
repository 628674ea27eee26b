//! Codecs: how a message becomes bytes, chosen by content type.
//!
//! Every endpoint accepts every [`Format`] its message types support. Generated messages
//! speak protobuf and JSON (the canonical proto3 mapping), so the same endpoint answers a
//! stock gRPC client (`application/grpc`) and `micro call` (`application/grpc+json`).
//! Hand-written prost + serde types opt in with [`ProstSerde`]; `()` is
//! `google.protobuf.Empty`, and the well-known types of `prost-types` are messages too.
//!
//! ```
//! use micro::codec::{Format, Message, ProstSerde};
//!
//! #[derive(Clone, PartialEq, prost::Message, serde::Serialize, serde::Deserialize)]
//! struct Hello {
//!     #[prost(string, tag = "1")]
//!     name: String,
//! }
//! impl ProstSerde for Hello {}
//!
//! let msg = Hello { name: "John".into() };
//! let mut json = Vec::new();
//! msg.encode_as(Format::Json, &mut json).unwrap();
//! assert_eq!(json, br#"{"name":"John"}"#);
//! let back = Hello::decode_as(Format::Json, json.into()).unwrap();
//! assert_eq!(back, msg);
//! ```
//!
//! # One JSON rule
//!
//! Serde types (`#[micro::service]` messages, serde events) follow proto3 JSON's conventions,
//! as generated messages do:
//!
//! | | Writing | Reading |
//! |---|---|---|
//! | field names | lowerCamelCase (`order_id` is written `orderId`) | either form: `orderId` or `order_id` |
//! | numbers | as numbers | numbers, or strings holding them (`"qty": "2"`, as proto3 writes 64-bit integers) |
//! | unknown fields | — | ignored (a newer peer may send more), unless the type says `deny_unknown_fields` |
//!
//! So a serde type and a generated message with the same fields read each other's JSON, in
//! calls and in events. Errors name the field that did not fit (`JSON does not match the type
//! at items[0].qty: ...`). Hand-written [`ProstSerde`] types follow it too.

pub(crate) mod json;

pub use json::lower_camel;
pub mod reflect;
pub mod schema;
mod schema_rules;

use bytes::{BufMut, Bytes};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{Code, Error, Result};

pub use reflect::Descriptors;

const ID: &str = "micro.codec";

/// A wire format for message bodies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Format {
    /// Protocol buffers (`application/grpc`, `application/grpc+proto`, `application/protobuf`).
    Proto,
    /// JSON (`application/grpc+json`, `application/json`).
    Json,
    /// MessagePack (`application/grpc+msgpack`): compact binary for serde types.
    MsgPack,
}

impl Format {
    /// The gRPC content type for this format.
    pub const fn grpc_content_type(self) -> &'static str {
        match self {
            Format::Proto => "application/grpc",
            Format::Json => "application/grpc+json",
            Format::MsgPack => "application/grpc+msgpack",
        }
    }

    /// The plain (non-gRPC) content type for this format.
    pub const fn content_type(self) -> &'static str {
        match self {
            Format::Proto => "application/protobuf",
            Format::Json => "application/json",
            Format::MsgPack => "application/msgpack",
        }
    }

    /// The short name: `proto` or `json`.
    pub const fn name(self) -> &'static str {
        match self {
            Format::Proto => "proto",
            Format::Json => "json",
            Format::MsgPack => "msgpack",
        }
    }

    /// The format of a content type, plain (`application/json`, `application/protobuf`,
    /// `application/msgpack`) or gRPC; `None` for anything else.
    pub fn from_content_type(content_type: &str) -> Option<Format> {
        let ct = content_type.split(';').next().unwrap_or("").trim();
        match ct.to_ascii_lowercase().as_str() {
            "application/protobuf"
            | "application/x-protobuf"
            | "application/proto"
            | "application/grpc"
            | "application/grpc+proto" => Some(Format::Proto),
            "application/json" | "application/grpc+json" | "text/json" => Some(Format::Json),
            "application/msgpack" | "application/x-msgpack" | "application/grpc+msgpack" => {
                Some(Format::MsgPack)
            }
            _ => None,
        }
    }

    /// The format of a gRPC content type: `None` when it is not `application/grpc*` at all,
    /// `Some(Err)` for a gRPC sub-type micro does not speak.
    pub fn from_grpc_content_type(content_type: &str) -> Option<Result<Format>> {
        let ct = content_type.trim();
        let rest = ct.strip_prefix("application/grpc")?;
        let sub = rest.split(';').next().unwrap_or("").trim();
        Some(match sub {
            "" | "+proto" => Ok(Format::Proto),
            "+json" => Ok(Format::Json),
            "+msgpack" => Ok(Format::MsgPack),
            other if other.starts_with('+') => Err(Error::new(
                ID,
                format!(
                    "unsupported codec {:?}: micro speaks application/grpc+proto, application/grpc+json and application/grpc+msgpack",
                    &other[1..]
                ),
                415,
            )
            .with_grpc_code(Code::Unimplemented)),
            _ => return None,
        })
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A message that can be sent over micro: encodes to and decodes from one or more [`Format`]s.
///
/// Implemented for every type that is both a [`prost::Message`] and serde
/// `Serialize + DeserializeOwned` (protobuf and JSON). Implement it by hand for other types.
pub trait Message: Sized + Send + 'static {
    /// Append the encoding of `self` in `format` to `buf`.
    fn encode_as<B: BufMut>(&self, format: Format, buf: &mut B) -> Result<()>;

    /// Decode a message in `format` from `buf`.
    fn decode_as(format: Format, buf: Bytes) -> Result<Self>;

    /// The message's shape (field names and types) for the registry, when known. Generated
    /// messages know it from their descriptors.
    fn schema() -> Option<crate::registry::Value> {
        None
    }

    /// The protobuf full name of this message and the descriptors that define it, for
    /// generated messages: servers answer reflection for it and tools such as
    /// `micro subscribe` decode protobuf events with it.
    fn descriptor() -> Option<(&'static Descriptors, &'static str)> {
        None
    }

    /// The format a client uses when the caller does not choose one.
    fn default_format() -> Format {
        Format::Proto
    }

    /// Whether this type can be encoded in `format`.
    fn supports(format: Format) -> bool {
        matches!(format, Format::Proto | Format::Json)
    }
}

/// How values of one type become bytes and back: a set of functions picked when a route or a
/// call is built, so that streams and handlers need no trait bound on their message types.
///
/// [`Codec::message`] is for [`Message`] types (protobuf and JSON); [`Codec::serde`] for any
/// serde type (JSON and MessagePack), which is what `#[micro::service]` traits use.
pub struct Codec<T> {
    encode: fn(&T, Format, &mut bytes::BytesMut) -> Result<()>,
    decode: fn(Format, Bytes) -> Result<T>,
    supports: fn(Format) -> bool,
    schema: fn() -> Option<crate::registry::Value>,
    descriptor: fn() -> Option<(&'static Descriptors, &'static str)>,
    default: Format,
}

impl<T> Clone for Codec<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Codec<T> {}

impl<T> std::fmt::Debug for Codec<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Codec")
            .field("default", &self.default)
            .finish_non_exhaustive()
    }
}

impl<T> Codec<T> {
    /// Append the encoding of `msg` in `format` to `buf`.
    pub fn encode(&self, msg: &T, format: Format, buf: &mut bytes::BytesMut) -> Result<()> {
        if !(self.supports)(format) {
            return Err(unsupported(format));
        }
        (self.encode)(msg, format, buf)
    }

    /// Decode a message in `format`.
    pub fn decode(&self, format: Format, buf: Bytes) -> Result<T> {
        if !(self.supports)(format) {
            return Err(unsupported(format));
        }
        (self.decode)(format, buf)
    }

    /// Whether `format` is supported.
    pub fn supports(&self, format: Format) -> bool {
        (self.supports)(format)
    }

    /// The format clients use by default.
    pub fn default_format(&self) -> Format {
        self.default
    }

    /// The message's shape, when the codec knows it.
    pub fn schema(&self) -> Option<crate::registry::Value> {
        (self.schema)()
    }

    /// The protobuf full name of the message and its descriptors, for generated messages.
    pub fn descriptor(&self) -> Option<(&'static Descriptors, &'static str)> {
        (self.descriptor)()
    }
}

pub(crate) fn unsupported(format: Format) -> Error {
    Error::new(
        ID,
        format!("this message type has no {format} encoding"),
        415,
    )
    .with_grpc_code(Code::InvalidArgument)
}

impl<T: Message> Codec<T> {
    /// The codec of a [`Message`] type.
    pub fn message() -> Codec<T> {
        Codec {
            encode: |msg, format, buf| msg.encode_as(format, buf),
            decode: T::decode_as,
            supports: T::supports,
            schema: T::schema,
            descriptor: T::descriptor,
            default: T::default_format(),
        }
    }
}

impl<T: Serialize + DeserializeOwned + Send + 'static> Codec<T> {
    /// A serde type as JSON (the default) or MessagePack.
    pub fn serde() -> Codec<T> {
        Codec {
            encode: |msg, format, buf| match format {
                Format::Json => json::to_writer(buf.writer(), msg)
                    .map_err(|e| Error::internal(ID, format!("failed to encode JSON: {e}"))),
                Format::MsgPack => rmp_serde::encode::write_named(&mut buf.writer(), msg)
                    .map_err(|e| Error::internal(ID, format!("failed to encode MessagePack: {e}"))),
                other => Err(unsupported(other)),
            },
            decode: |format, buf| match format {
                Format::Json => json::from_slice(&buf).map_err(|e| mismatch(&e)),
                Format::MsgPack => rmp_serde::from_slice(&buf).map_err(|e| {
                    Error::bad_request(
                        ID,
                        format!("MessagePack does not match the request type: {e}"),
                    )
                }),
                other => Err(unsupported(other)),
            },
            supports: |format| matches!(format, Format::Json | Format::MsgPack),
            schema: || None,
            descriptor: || None,
            default: Format::Json,
        }
    }

    /// Like [`Codec::serde`], with MessagePack as what clients send by default.
    pub fn serde_msgpack() -> Codec<T> {
        Codec {
            default: Format::MsgPack,
            ..Codec::serde()
        }
    }
}

impl Codec<Bytes> {
    /// Bytes passed through as they are, in whatever format the call uses (for proxies,
    /// gateways and raw handlers).
    pub fn raw() -> Codec<Bytes> {
        Codec {
            encode: |msg, _format, buf| {
                buf.extend_from_slice(msg);
                Ok(())
            },
            decode: |_format, buf| Ok(buf),
            supports: |_format| true,
            schema: || None,
            descriptor: || None,
            default: Format::Json,
        }
    }
}

impl<T: schemars::JsonSchema> Codec<T> {
    /// This codec, with the registry shape of `T` from its JSON schema (serde types that
    /// derive `schemars::JsonSchema`): a subscriber or route built with it shows its fields in
    /// `micro describe`.
    #[must_use]
    pub fn with_json_schema(mut self) -> Codec<T> {
        self.schema = || Some(schema::json_schema_value::<T>());
        self
    }
}

/// A marker for hand-written messages that derive both [`prost::Message`] and serde: they
/// get [`Message`] with protobuf and plain serde JSON.
///
/// Generated code does not need this: it implements [`Message`] with the canonical proto3
/// JSON mapping.
///
/// ```
/// #[derive(Clone, PartialEq, prost::Message, serde::Serialize, serde::Deserialize)]
/// struct Ping {
///     #[prost(uint64, tag = "1")]
///     seq: u64,
/// }
/// impl micro::codec::ProstSerde for Ping {}
/// ```
pub trait ProstSerde:
    prost::Message + Default + Serialize + DeserializeOwned + Send + 'static
{
}

impl<T: ProstSerde> Message for T {
    fn encode_as<B: BufMut>(&self, format: Format, buf: &mut B) -> Result<()> {
        match format {
            Format::Proto => prost::Message::encode(self, buf)
                .map_err(|e| Error::internal(ID, format!("failed to encode protobuf: {e}"))),
            Format::Json => json::to_writer(buf.writer(), self)
                .map_err(|e| Error::internal(ID, format!("failed to encode JSON: {e}"))),
            other => Err(unsupported(other)),
        }
    }

    fn decode_as(format: Format, buf: Bytes) -> Result<Self> {
        match format {
            Format::Proto => <T as prost::Message>::decode(buf).map_err(|e| proto_error(&e)),
            Format::Json => json::from_slice(&buf).map_err(|e| mismatch(&e)),
            other => Err(unsupported(other)),
        }
    }
}

/// `()` is `google.protobuf.Empty`: no bytes in protobuf, `{}` in JSON.
impl Message for () {
    fn encode_as<B: BufMut>(&self, format: Format, buf: &mut B) -> Result<()> {
        match format {
            Format::Json => buf.put_slice(b"{}"),
            Format::MsgPack => buf.put_u8(0x80), // an empty map
            Format::Proto => {}
        }
        Ok(())
    }

    fn decode_as(format: Format, buf: Bytes) -> Result<()> {
        match format {
            Format::Proto => {
                // Unknown fields are ignored, as protobuf does for any message.
                <() as prost::Message>::decode(buf).map_err(|e| proto_error(&e))
            }
            Format::Json => {
                let value: serde_json::Value =
                    serde_json::from_slice(&buf).map_err(|e| json_error(&e))?;
                // Fields it does not know are ignored, as for any message.
                match value {
                    serde_json::Value::Object(_) => Ok(()),
                    _ => Err(Error::bad_request(
                        ID,
                        "expected {} for google.protobuf.Empty",
                    )),
                }
            }
            Format::MsgPack => Ok(()),
        }
    }
}

macro_rules! well_known {
    ($($ty:ty),* $(,)?) => {$(
        /// A well-known type: protobuf, and JSON as the proto3 mapping says.
        impl Message for $ty {
            fn encode_as<B: BufMut>(&self, format: Format, buf: &mut B) -> Result<()> {
                reflect::encode_reflect(self, format, buf)
            }

            fn decode_as(format: Format, buf: Bytes) -> Result<Self> {
                reflect::decode_reflect(format, buf)
            }
        }
    )*};
}

well_known!(
    prost_types::Any,
    prost_types::Duration,
    prost_types::Timestamp,
    prost_types::FieldMask,
    prost_types::Struct,
    prost_types::Value,
    prost_types::ListValue,
    bool,
    String,
    f64,
    f32,
    i32,
    i64,
    u32,
    u64,
    Vec<u8>,
    bytes::Bytes,
);

/// The error for protobuf bytes that do not decode: gRPC `INTERNAL`, as the gRPC spec says.
pub fn proto_error(e: &prost::DecodeError) -> Error {
    Error::internal(ID, format!("failed to decode protobuf message: {e}"))
}

/// The error for JSON that does not read as the type: 400 naming the field that did not fit.
pub(crate) fn mismatch(e: &json::Mismatch) -> Error {
    Error::bad_request(ID, e.to_string())
}

/// The error for a JSON body that does not parse: 400 with serde's description of what and
/// where (line and column).
pub fn json_error(e: &serde_json::Error) -> Error {
    let what = match e.classify() {
        serde_json::error::Category::Syntax | serde_json::error::Category::Eof => "malformed JSON",
        serde_json::error::Category::Data => "JSON does not match the request type",
        serde_json::error::Category::Io => "could not read JSON",
    };
    Error::bad_request(ID, format!("{what}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, PartialEq, prost::Message, serde::Serialize, serde::Deserialize)]
    struct Msg {
        #[prost(string, tag = "1")]
        name: String,
        #[prost(int32, tag = "2")]
        count: i32,
    }
    impl ProstSerde for Msg {}

    #[test]
    fn empty_and_well_known_types() {
        let mut buf = Vec::new();
        ().encode_as(Format::Json, &mut buf).unwrap();
        assert_eq!(buf, b"{}");
        <() as Message>::decode_as(Format::Json, Bytes::from_static(b"{}")).unwrap();
        assert!(<() as Message>::decode_as(Format::Json, Bytes::from_static(b"[]")).is_err());

        let ts = prost_types::Timestamp {
            seconds: 1_700_000_000,
            nanos: 5_000_000,
        };
        let mut json = Vec::new();
        ts.encode_as(Format::Json, &mut json).unwrap();
        assert_eq!(json, br#""2023-11-14T22:13:20.005Z""#);
        let back =
            <prost_types::Timestamp as Message>::decode_as(Format::Json, json.into()).unwrap();
        assert_eq!(back, ts);

        let mut json = Vec::new();
        "hi".to_owned().encode_as(Format::Json, &mut json).unwrap();
        assert_eq!(json, br#""hi""#);
        let mut json = Vec::new();
        7i64.encode_as(Format::Json, &mut json).unwrap();
        assert_eq!(json, br#""7""#);
    }

    #[test]
    fn content_types() {
        assert_eq!(
            Format::from_grpc_content_type("application/grpc").map(|r| r.ok()),
            Some(Some(Format::Proto))
        );
        assert_eq!(
            Format::from_grpc_content_type("application/grpc+json; charset=utf-8").map(|r| r.ok()),
            Some(Some(Format::Json))
        );
        assert!(matches!(
            Format::from_grpc_content_type("application/grpc+thrift"),
            Some(Err(_))
        ));
        assert!(Format::from_grpc_content_type("application/json").is_none());
        assert!(Format::from_grpc_content_type("application/grpcx").is_none());
    }

    #[test]
    fn proto_round_trip() {
        let msg = Msg {
            name: "a".into(),
            count: 7,
        };
        let mut buf = Vec::new();
        Message::encode_as(&msg, Format::Proto, &mut buf).unwrap();
        assert_eq!(
            <Msg as Message>::decode_as(Format::Proto, buf.into()).unwrap(),
            msg
        );
    }

    #[test]
    fn malformed_json_is_a_400_that_says_where() {
        let err = <Msg as Message>::decode_as(Format::Json, Bytes::from_static(b"{\"name\": "))
            .unwrap_err();
        assert_eq!(err.code(), 400);
        assert!(
            err.detail().starts_with("malformed JSON"),
            "{}",
            err.detail()
        );
        assert!(err.detail().contains("line 1"), "{}", err.detail());
        let err =
            <Msg as Message>::decode_as(Format::Json, Bytes::from_static(b"{\"count\": \"x\"}"))
                .unwrap_err();
        assert_eq!(err.code(), 400);
        assert!(err.detail().contains("does not match"), "{}", err.detail());
    }

    #[test]
    fn garbage_protobuf_is_internal() {
        let err =
            <Msg as Message>::decode_as(Format::Proto, Bytes::from_static(&[0xff, 0xff, 0xff]))
                .unwrap_err();
        assert_eq!(err.grpc_code(), Code::Internal);
    }
}
