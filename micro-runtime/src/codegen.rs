//! What generated code uses. Code emitted by `micro-gen` (from `.proto` files) and by the
//! `#[micro::service]` macro names only items of this module (as `::micro::codegen::*`), so
//! the runtime can change inside without breaking generated files.
//!
//! Nothing here is meant to be called by hand, but everything is documented so generated
//! code can be read.

use std::collections::HashSet;
use std::sync::OnceLock;

pub use std::future::Future;
pub use std::sync::Arc;

pub use bytes::{BufMut, Bytes};
pub use prost;
pub use prost_reflect;
pub use prost_types;
pub use serde;

pub use crate::client::{CallOptions, Client, ClientStreaming, Streaming};
pub use crate::codec::{Codec, Format, Message};
pub use crate::context::Context;
pub use crate::error::{Error, Result};
pub use crate::registry::Value;
pub use crate::server::{Handler, Route, Router};
pub use crate::stream::{StreamReceiver, StreamSender};

use prost_reflect::{
    DescriptorPool, DeserializeOptions, DynamicMessage, Kind, MessageDescriptor, ReflectMessage,
    SerializeOptions,
};

const ID: &str = "micro.codec";

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
    source: Source,
    decoded: OnceLock<Decoded>,
}

#[derive(Debug)]
enum Source {
    Bytes(&'static [u8]),
    Base64(&'static str),
}

impl Descriptors {
    /// Wrap an encoded `FileDescriptorSet` (decoded on first use).
    pub const fn new(bytes: &'static [u8]) -> Descriptors {
        Descriptors {
            source: Source::Bytes(bytes),
            decoded: OnceLock::new(),
        }
    }

    /// Wrap a base64-encoded `FileDescriptorSet` (what generated files hold: compact and
    /// plain text).
    pub const fn base64(text: &'static str) -> Descriptors {
        Descriptors {
            source: Source::Base64(text),
            decoded: OnceLock::new(),
        }
    }

    /// The bytes, and a pool of their own when they do not fit in the process-wide pool.
    fn decoded(&self) -> Result<&(std::borrow::Cow<'static, [u8]>, Option<DescriptorPool>)> {
        self.decoded
            .get_or_init(|| {
                let bytes: std::borrow::Cow<'static, [u8]> = match self.source {
                    Source::Bytes(b) => b.into(),
                    Source::Base64(text) => {
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

fn write_json<B: BufMut>(msg: &DynamicMessage, buf: &mut B) -> Result<()> {
    let mut ser = serde_json::Serializer::new(buf.writer());
    msg.serialize_with_options(&mut ser, &json_options())
        .map_err(|e| Error::internal(ID, format!("failed to encode JSON: {e}")))
}

fn read_json(desc: MessageDescriptor, buf: &[u8]) -> Result<DynamicMessage> {
    let mut de = serde_json::Deserializer::from_slice(buf);
    let msg = DynamicMessage::deserialize_with_options(desc, &mut de, &DeserializeOptions::new())
        .map_err(|e| crate::codec::json_error(&e))?;
    de.end().map_err(|e| crate::codec::json_error(&e))?;
    Ok(msg)
}

/// [`Message::encode_as`] for a generated message named `full_name`.
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
                .map_err(|e| crate::codec::proto_error(&e))?;
            write_json(&dynamic, buf)
        }
        other => Err(crate::codec::unsupported(other)),
    }
}

/// [`Message::decode_as`] for a generated message named `full_name`.
pub fn decode_message<T: prost::Message + Default>(
    format: Format,
    buf: Bytes,
    descriptors: &Descriptors,
    full_name: &str,
) -> Result<T> {
    match format {
        Format::Proto => T::decode(buf).map_err(|e| crate::codec::proto_error(&e)),
        Format::Json => read_json(descriptors.message(full_name)?, &buf)?
            .transcode_to::<T>()
            .map_err(|e| crate::codec::proto_error(&e)),
        other => Err(crate::codec::unsupported(other)),
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
    let dynamic =
        DynamicMessage::deserialize_with_options(desc, deserializer, &DeserializeOptions::new())?;
    dynamic.transcode_to::<T>().map_err(D::Error::custom)
}

/// [`Message::encode_as`] for types that know their descriptor (the well-known types).
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
        other => Err(crate::codec::unsupported(other)),
    }
}

/// [`Message::decode_as`] for types that know their descriptor (the well-known types).
pub(crate) fn decode_reflect<T: ReflectMessage + Default>(format: Format, buf: Bytes) -> Result<T> {
    match format {
        Format::Proto => T::decode(buf).map_err(|e| crate::codec::proto_error(&e)),
        Format::Json => read_json(T::default().descriptor(), &buf)?
            .transcode_to::<T>()
            .map_err(|e| crate::codec::proto_error(&e)),
        other => Err(crate::codec::unsupported(other)),
    }
}

/// The registry shape of message `full_name`: its fields, nested messages expanded (a
/// recursive message is expanded once).
pub fn schema(descriptors: &Descriptors, full_name: &str) -> Option<Value> {
    let desc = descriptors.message(full_name).ok()?;
    let mut seen = HashSet::new();
    Some(message_value(desc.name(), &desc, &mut seen, 0))
}

const MAX_DEPTH: usize = 8;

fn message_value(
    name: &str,
    desc: &MessageDescriptor,
    seen: &mut HashSet<String>,
    depth: usize,
) -> Value {
    let mut value = Value::new(name, desc.name());
    if depth >= MAX_DEPTH || !seen.insert(desc.full_name().to_owned()) {
        return value;
    }
    for field in desc.fields() {
        let kind = field.kind();
        let type_name = kind_name(&kind);
        let shown = if field.is_map() {
            match &kind {
                Kind::Message(entry) => {
                    let key = entry.map_entry_key_field().kind();
                    let val = entry.map_entry_value_field().kind();
                    format!("map<{}, {}>", kind_name(&key), kind_name(&val))
                }
                _ => type_name.clone(),
            }
        } else if field.is_list() {
            format!("repeated {type_name}")
        } else {
            type_name
        };
        let mut child = match &kind {
            Kind::Message(m)
                if !field.is_map() && !m.full_name().starts_with("google.protobuf.") =>
            {
                message_value(field.name(), m, seen, depth + 1)
            }
            _ => Value::new(field.name(), ""),
        };
        child.name = field.name().to_owned();
        child.kind = shown;
        value.values.push(child);
    }
    seen.remove(desc.full_name());
    value
}

fn kind_name(kind: &Kind) -> String {
    match kind {
        Kind::Double => "double".into(),
        Kind::Float => "float".into(),
        Kind::Int32 => "int32".into(),
        Kind::Int64 => "int64".into(),
        Kind::Uint32 => "uint32".into(),
        Kind::Uint64 => "uint64".into(),
        Kind::Sint32 => "sint32".into(),
        Kind::Sint64 => "sint64".into(),
        Kind::Fixed32 => "fixed32".into(),
        Kind::Fixed64 => "fixed64".into(),
        Kind::Sfixed32 => "sfixed32".into(),
        Kind::Sfixed64 => "sfixed64".into(),
        Kind::Bool => "bool".into(),
        Kind::String => "string".into(),
        Kind::Bytes => "bytes".into(),
        Kind::Message(m) => m.full_name().to_owned(),
        Kind::Enum(e) => e.full_name().to_owned(),
    }
}

/// Set the registry shapes of a route's request and response from descriptors, and attach
/// the descriptors (for reflection).
pub fn describe(
    route: Route,
    descriptors: &'static Descriptors,
    request: &str,
    response: &str,
) -> Route {
    let mut route = route.descriptors(descriptors);
    if let Some(v) = schema(descriptors, request) {
        route = route.request(v);
    }
    if let Some(v) = schema(descriptors, response) {
        route = route.response(v);
    }
    route
}

/// The options a generated client passes: the caller's, plus the protobuf package for the
/// gRPC path and the method's timeout when the caller did not set them.
pub fn call_options(
    options: &CallOptions,
    package: Option<&str>,
    timeout_ms: Option<u64>,
) -> CallOptions {
    let mut options = options.clone();
    if options.package.is_none() {
        options.package = package.map(str::to_owned);
    }
    if options.timeout.is_none() {
        options.timeout = timeout_ms.map(std::time::Duration::from_millis);
    }
    options
}

/// Set the registry shapes of a route's request and response (from the types' schemas).
pub fn describe_with(route: Route, request: Option<Value>, response: Option<Value>) -> Route {
    let mut route = route;
    if let Some(v) = request {
        route = route.request(v);
    }
    if let Some(v) = response {
        route = route.response(v);
    }
    route
}

/// Implement [`Message`] (protobuf, and JSON with the canonical proto3 mapping) and serde's
/// `Serialize`/`Deserialize` for generated prost messages:
///
/// ```ignore
/// ::micro::codegen::impl_messages!(FILE_DESCRIPTOR_SET;
///     HelloRequest => "greeter.HelloRequest",
///     hello_request::Detail => "greeter.HelloRequest.Detail");
/// ```
#[macro_export]
macro_rules! impl_messages {
    ($descriptors:path; $($ty:ty => $name:literal),* $(,)?) => {$(
        impl $crate::codegen::Message for $ty {
            fn encode_as<B: $crate::codegen::BufMut>(
                &self,
                format: $crate::codegen::Format,
                buf: &mut B,
            ) -> $crate::codegen::Result<()> {
                $crate::codegen::encode_message(self, format, buf, &$descriptors, $name)
            }

            fn decode_as(
                format: $crate::codegen::Format,
                buf: $crate::codegen::Bytes,
            ) -> $crate::codegen::Result<Self> {
                $crate::codegen::decode_message(format, buf, &$descriptors, $name)
            }

            fn schema() -> ::core::option::Option<$crate::registry::Value> {
                $crate::codegen::schema(&$descriptors, $name)
            }
        }

        impl $crate::codegen::serde::Serialize for $ty {
            fn serialize<S: $crate::codegen::serde::Serializer>(
                &self,
                serializer: S,
            ) -> ::core::result::Result<S::Ok, S::Error> {
                $crate::codegen::serialize(self, serializer, &$descriptors, $name)
            }
        }

        impl<'de> $crate::codegen::serde::Deserialize<'de> for $ty {
            fn deserialize<D: $crate::codegen::serde::Deserializer<'de>>(
                deserializer: D,
            ) -> ::core::result::Result<Self, D::Error> {
                $crate::codegen::deserialize(deserializer, &$descriptors, $name)
            }
        }
    )*};
}

pub use crate::impl_messages;

/// A client used through the service trait, server-streaming method: pass the responses on.
pub async fn forward_responses<T>(mut from: StreamReceiver<T>, to: StreamSender<T>) -> Result<()> {
    while let Some(msg) = from.recv().await? {
        to.send(&msg).await?;
    }
    Ok(())
}

/// A client used through the service trait, client-streaming method: pass the requests on,
/// then return the response.
pub async fn forward_requests<Req, Resp>(
    mut from: StreamReceiver<Req>,
    mut call: ClientStreaming<Req, Resp>,
) -> Result<Resp> {
    while let Some(msg) = from.recv().await? {
        call.send(&msg).await?;
    }
    call.finish().await
}

/// A client used through the service trait, bidirectional method: pass both directions on
/// until both end. The server's status wins over a send that failed because it ended early.
pub async fn forward_both<Req, Resp>(
    mut requests: StreamReceiver<Req>,
    responses: StreamSender<Resp>,
    stream: Streaming<Req, Resp>,
) -> Result<()> {
    let (sender, mut receiver) = stream.split();
    let send = async move {
        if let Some(sender) = sender {
            while let Some(msg) = requests.recv().await? {
                sender.send(&msg).await?;
            }
        }
        Ok::<(), Error>(())
    };
    let recv = async move {
        while let Some(msg) = receiver.recv().await? {
            responses.send(&msg).await?;
        }
        Ok::<(), Error>(())
    };
    let (sent, received) = futures_util::future::join(send, recv).await;
    received.and(sent)
}

pub use schemars;

/// Picks a registry schema for `T` when `T` implements `schemars::JsonSchema`, and none
/// otherwise (autoref specialization: call as `(&&SchemaProbe::<T>::new()).micro_schema()`,
/// which [`schema_of!`](crate::schema_of) does).
#[derive(Debug)]
pub struct SchemaProbe<T>(std::marker::PhantomData<fn() -> T>);

impl<T> SchemaProbe<T> {
    /// A probe for `T`.
    pub const fn new() -> SchemaProbe<T> {
        SchemaProbe(std::marker::PhantomData)
    }
}

impl<T> Default for SchemaProbe<T> {
    fn default() -> Self {
        SchemaProbe::new()
    }
}

/// The schema of a type that implements `schemars::JsonSchema`.
pub trait ViaJsonSchema {
    /// The registry shape.
    fn micro_schema(&self) -> Option<Value>;
}

impl<T: schemars::JsonSchema> ViaJsonSchema for &SchemaProbe<T> {
    fn micro_schema(&self) -> Option<Value> {
        Some(json_schema_value::<T>())
    }
}

/// No schema: the type does not implement `schemars::JsonSchema`.
pub trait WithoutSchema {
    /// Nothing.
    fn micro_schema(&self) -> Option<Value>;
}

impl<T> WithoutSchema for SchemaProbe<T> {
    fn micro_schema(&self) -> Option<Value> {
        None
    }
}

/// The registry schema of a type, if it implements `schemars::JsonSchema`.
#[macro_export]
macro_rules! schema_of {
    ($ty:ty) => {{
        #[allow(unused_imports)]
        use $crate::codegen::{ViaJsonSchema as _, WithoutSchema as _};
        (&&$crate::codegen::SchemaProbe::<$ty>::new()).micro_schema()
    }};
}

pub use crate::schema_of;

/// The registry shape of a `schemars::JsonSchema` type: its properties, nested types
/// expanded (a recursive type once).
pub fn json_schema_value<T: schemars::JsonSchema>() -> Value {
    let schema = schemars::schema_for!(T);
    let root = schema.as_value();
    let empty = serde_json::Map::new();
    let defs = root
        .get("$defs")
        .and_then(|d| d.as_object())
        .unwrap_or(&empty);
    let name = T::schema_name().into_owned();
    let mut seen = HashSet::new();
    let mut value = json_node(&name, root, defs, &mut seen, 0);
    value.kind = name;
    value
}

fn json_kind(node: &serde_json::Value) -> String {
    if let Some(r) = node.get("$ref").and_then(|r| r.as_str()) {
        return r.rsplit('/').next().unwrap_or(r).to_owned();
    }
    for key in ["anyOf", "oneOf", "allOf"] {
        if let Some(first) = node.get(key).and_then(|v| v.as_array()).and_then(|a| {
            a.iter()
                .find(|s| s.get("type").and_then(|t| t.as_str()) != Some("null"))
        }) {
            return json_kind(first);
        }
    }
    let ty = match node.get("type") {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(serde_json::Value::Array(types)) => types
            .iter()
            .filter_map(|t| t.as_str())
            .find(|t| *t != "null")
            .unwrap_or("null")
            .to_owned(),
        _ => String::new(),
    };
    match ty.as_str() {
        "array" => format!(
            "repeated {}",
            node.get("items").map(json_kind).unwrap_or_default()
        ),
        "integer" | "number" => node
            .get("format")
            .and_then(|f| f.as_str())
            .map(str::to_owned)
            .unwrap_or(ty),
        _ => ty,
    }
}

fn json_node(
    name: &str,
    node: &serde_json::Value,
    defs: &serde_json::Map<String, serde_json::Value>,
    seen: &mut HashSet<String>,
    depth: usize,
) -> Value {
    let mut value = Value::new(name, json_kind(node));
    let (target, def) = match node.get("$ref").and_then(|r| r.as_str()) {
        Some(r) => {
            let def = r.rsplit('/').next().unwrap_or(r).to_owned();
            (defs.get(&def), Some(def))
        }
        None => (Some(node), None),
    };
    let Some(target) = target else { return value };
    if depth >= MAX_DEPTH {
        return value;
    }
    if let Some(def) = &def
        && !seen.insert(def.clone())
    {
        return value;
    }
    if let Some(props) = target.get("properties").and_then(|p| p.as_object()) {
        for (field, schema) in props {
            value
                .values
                .push(json_node(field, schema, defs, seen, depth + 1));
        }
    }
    if let Some(def) = def {
        seen.remove(&def);
    }
    value
}
