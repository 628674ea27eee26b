//! What generated code uses. Code emitted by `micro-gen` (from `.proto` files) and by the
//! `#[micro::service]` macro names only items of this module (as `::micro::codegen::*`), so
//! the runtime can change inside without breaking generated files.
//!
//! This module only re-exports; nothing inside the crate imports it. Nothing here is meant
//! to be called by hand, but everything is documented so generated code can be read.

pub use std::future::Future;
pub use std::sync::Arc;

pub use bytes::{BufMut, Bytes};
pub use prost;
pub use prost_reflect;
pub use prost_types;
pub use schemars;
pub use serde;

pub use crate::client::{
    CallOptions, Client, ClientStreaming, Streaming, call_options, forward_both, forward_requests,
    forward_responses,
};
pub use crate::codec::reflect::{
    Descriptors, decode_message, deserialize, encode_message, serialize,
};
pub use crate::codec::schema::{HasSchema, json_schema_value, schema};
pub use crate::codec::{Codec, Format, Message};
pub use crate::context::Context;
pub use crate::endpoint::{describe, describe_with};
pub use crate::error::{Error, Result};
pub use crate::registry::Value;
pub use crate::server::{IntoRouter, Route, Router};
pub use crate::stream::{StreamReceiver, StreamSender};
pub use crate::validate;
pub use crate::validate::{Validate, Violations};

/// The error of a typed error set's value: HTTP-style `code` (its gRPC code follows from
/// it), `reason` the value's name. The id is left for the server to fill in.
pub fn typed_error(reason: &'static str, code: i32, detail: impl Into<String>) -> Error {
    Error::new("", detail, code).with_reason(reason)
}

/// True when `err` is the typed error `reason` with `code`: the reason and the gRPC code
/// both match (so a reason reused by another error set with another code is not mistaken for
/// it, and an error that crossed a stock gRPC peer, which keeps only the gRPC code, still is).
pub fn is_typed_error(err: &Error, reason: &str, code: i32) -> bool {
    err.is_reason(reason) && err.grpc_code() == crate::error::Code::from_http_code(code)
}

/// The name generated code of micro 0.1 used for [`IntoRouter`]; kept so such files build.
#[doc(hidden)]
pub use crate::server::IntoRouter as Handler;

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

            fn descriptor() -> ::core::option::Option<(
                &'static $crate::codegen::Descriptors,
                &'static str,
            )> {
                ::core::option::Option::Some((&$descriptors, $name))
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

/// The registry schema of a message type of a `#[micro::service]` trait; a compile error
/// that says what to derive when the type has none ([`HasSchema`]).
#[macro_export]
macro_rules! schema_of {
    ($ty:ty) => {
        $crate::codegen::schema_of_type::<$ty>()
    };
}

pub use crate::codec::schema::schema_of as schema_of_type;
pub use crate::schema_of;
