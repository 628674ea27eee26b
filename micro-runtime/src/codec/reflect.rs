//! Descriptor-driven protobuf: the embedded `FileDescriptorSet`s of generated packages, and
//! the canonical proto3 JSON mapping computed from them (prost messages know only the binary
//! form; [`prost_reflect`] reads the descriptors to give them JSON).

use std::sync::OnceLock;

use bytes::{BufMut, Bytes};
use prost_reflect::{
    DescriptorPool, DeserializeOptions, DynamicMessage, MessageDescriptor, ReflectMessage,
    SerializeOptions,
};

use super::{Format, ID, json_error, proto_error, unsupported};
use crate::error::{Error, Result};

/// Decoded descriptors: the bytes and, when they do not fit in the process-wide pool, a pool
/// of their own; or why they did not decode.
type Decoded =
    std::result::Result<(std::borrow::Cow<'static, [u8]>, Option<DescriptorPool>), String>;

/// The encoded `FileDescriptorSet` of a generated package (its files and what they import,
/// except the well-known types), decoded on first use.
///
/// It gives generated messages the canonical JSON mapping, endpoints their registry schemas,
/// and the server reflection.
#[derive(Debug)]
pub struct Descriptors {
    source: Encoded,
    decoded: OnceLock<Decoded>,
}

#[derive(Debug)]
enum Encoded {
    Bytes(&'static [u8]),
    Base64(&'static str),
}

impl Descriptors {
    /// Wrap an encoded `FileDescriptorSet` (decoded on first use).
    pub const fn new(bytes: &'static [u8]) -> Descriptors {
        Descriptors {
            source: Encoded::Bytes(bytes),
            decoded: OnceLock::new(),
        }
    }

    /// Wrap a base64-encoded `FileDescriptorSet` (what generated files hold: compact and
    /// plain text).
    pub const fn base64(text: &'static str) -> Descriptors {
        Descriptors {
            source: Encoded::Base64(text),
            decoded: OnceLock::new(),
        }
    }

    /// The bytes, and a pool of their own when they do not fit in the process-wide pool.
    fn decoded(&self) -> Result<&(std::borrow::Cow<'static, [u8]>, Option<DescriptorPool>)> {
        self.decoded
            .get_or_init(|| {
                let bytes: std::borrow::Cow<'static, [u8]> = match self.source {
                    Encoded::Bytes(b) => b.into(),
                    Encoded::Base64(text) => {
                        use base64::Engine as _;
                        base64::engine::general_purpose::STANDARD
                            .decode(text)
                            .map_err(|e| e.to_string())?
                            .into()
                    }
                };
                // One process-wide pool: the well-known types and files shared by several
                // services (google/api, descriptor.proto ...) are held once.
                if DescriptorPool::decode_global_file_descriptor_set(&*bytes).is_ok() {
                    return Ok((bytes, None));
                }
                // A file of the same name but other content is already there: keep these
                // files apart.
                let mut pool = DescriptorPool::global();
                pool.decode_file_descriptor_set(&*bytes)
                    .map_err(|e| e.to_string())?;
                Ok((bytes, Some(pool)))
            })
            .as_ref()
            .map_err(|e| Error::internal(ID, format!("invalid embedded descriptors: {e}")))
    }

    /// The encoded `FileDescriptorSet`.
    pub fn bytes(&self) -> Result<&[u8]> {
        Ok(&self.decoded()?.0)
    }

    /// A descriptor pool holding the well-known types and these files (a cheap handle).
    pub fn pool(&self) -> Result<DescriptorPool> {
        Ok(match &self.decoded()?.1 {
            Some(own) => own.clone(),
            None => DescriptorPool::global(),
        })
    }

    /// The descriptor of the message `full_name` (`greeter.HelloRequest`).
    pub fn message(&self, full_name: &str) -> Result<MessageDescriptor> {
        self.pool()?
            .get_message_by_name(full_name)
            .ok_or_else(|| Error::internal(ID, format!("no descriptor for message {full_name}")))
    }
}

fn json_options() -> SerializeOptions {
    // The canonical mapping: lowerCamelCase names, 64-bit integers as strings, enums by
    // name, default values omitted (as protobuf's own JSON printers do).
    SerializeOptions::new()
}

pub(crate) fn write_json<B: BufMut>(msg: &DynamicMessage, buf: &mut B) -> Result<()> {
    let mut ser = serde_json::Serializer::new(buf.writer());
    msg.serialize_with_options(&mut ser, &json_options())
        .map_err(|e| Error::internal(ID, format!("failed to encode JSON: {e}")))
}

/// How micro reads proto3 JSON: either field name, numbers in strings (as the mapping says),
/// unknown fields ignored (as in the binary form, and as micro reads serde types: see
/// [`super::json`]).
fn read_options() -> DeserializeOptions {
    DeserializeOptions::new().deny_unknown_fields(false)
}

pub(crate) fn read_json(desc: MessageDescriptor, buf: &[u8]) -> Result<DynamicMessage> {
    let mut de = serde_json::Deserializer::from_slice(buf);
    let mut track = serde_path_to_error::Track::new();
    let tracked = serde_path_to_error::Deserializer::new(&mut de, &mut track);
    let msg = match DynamicMessage::deserialize_with_options(desc, tracked, &read_options()) {
        Ok(msg) => msg,
        Err(e) if e.is_data() => {
            let path = track.path().to_string();
            return Err(super::mismatch(&super::json::Mismatch::Data {
                path,
                error: e,
            }));
        }
        Err(e) => return Err(json_error(&e)),
    };
    de.end().map_err(|e| json_error(&e))?;
    Ok(msg)
}

/// [`Message::encode_as`](super::Message::encode_as) for a generated message named `full_name`.
pub fn encode_message<T: prost::Message, B: BufMut>(
    msg: &T,
    format: Format,
    buf: &mut B,
    descriptors: &Descriptors,
    full_name: &str,
) -> Result<()> {
    match format {
        Format::Proto => msg
            .encode(buf)
            .map_err(|e| Error::internal(ID, format!("failed to encode protobuf: {e}"))),
        Format::Json => {
            let desc = descriptors.message(full_name)?;
            let dynamic = DynamicMessage::decode(desc, msg.encode_to_vec().as_slice())
                .map_err(|e| proto_error(&e))?;
            write_json(&dynamic, buf)
        }
        other => Err(unsupported(other)),
    }
}

/// [`Message::decode_as`](super::Message::decode_as) for a generated message named `full_name`.
pub fn decode_message<T: prost::Message + Default>(
    format: Format,
    buf: Bytes,
    descriptors: &Descriptors,
    full_name: &str,
) -> Result<T> {
    match format {
        Format::Proto => T::decode(buf).map_err(|e| proto_error(&e)),
        Format::Json => read_json(descriptors.message(full_name)?, &buf)?
            .transcode_to::<T>()
            .map_err(|e| proto_error(&e)),
        other => Err(unsupported(other)),
    }
}

/// `serde::Serialize` for a generated message: the canonical JSON mapping.
pub fn serialize<T: prost::Message, S: serde::Serializer>(
    msg: &T,
    serializer: S,
    descriptors: &Descriptors,
    full_name: &str,
) -> std::result::Result<S::Ok, S::Error> {
    use serde::ser::Error as _;
    let desc = descriptors.message(full_name).map_err(S::Error::custom)?;
    let dynamic =
        DynamicMessage::decode(desc, msg.encode_to_vec().as_slice()).map_err(S::Error::custom)?;
    dynamic.serialize_with_options(serializer, &json_options())
}

/// `serde::Deserialize` for a generated message: the canonical JSON mapping (both the JSON
/// name and the proto field name are accepted).
pub fn deserialize<'de, T: prost::Message + Default, D: serde::Deserializer<'de>>(
    deserializer: D,
    descriptors: &Descriptors,
    full_name: &str,
) -> std::result::Result<T, D::Error> {
    use serde::de::Error as _;
    let desc = descriptors.message(full_name).map_err(D::Error::custom)?;
    let dynamic = DynamicMessage::deserialize_with_options(desc, deserializer, &read_options())?;
    dynamic.transcode_to::<T>().map_err(D::Error::custom)
}

/// [`Message::encode_as`](super::Message::encode_as) for types that know their descriptor (the well-known types).
pub(crate) fn encode_reflect<T: ReflectMessage, B: BufMut>(
    msg: &T,
    format: Format,
    buf: &mut B,
) -> Result<()> {
    match format {
        Format::Proto => msg
            .encode(buf)
            .map_err(|e| Error::internal(ID, format!("failed to encode protobuf: {e}"))),
        Format::Json => write_json(&msg.transcode_to_dynamic(), buf),
        other => Err(unsupported(other)),
    }
}

/// [`Message::decode_as`](super::Message::decode_as) for types that know their descriptor (the well-known types).
pub(crate) fn decode_reflect<T: ReflectMessage + Default>(format: Format, buf: Bytes) -> Result<T> {
    match format {
        Format::Proto => T::decode(buf).map_err(|e| proto_error(&e)),
        Format::Json => read_json(T::default().descriptor(), &buf)?
            .transcode_to::<T>()
            .map_err(|e| proto_error(&e)),
        other => Err(unsupported(other)),
    }
}
