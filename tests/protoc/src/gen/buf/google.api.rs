#[allow(missing_docs)]
#[derive(Clone, PartialEq, ::micro::codegen::prost::Message)]
#[prost(prost_path = "::micro::codegen::prost")]
pub struct HttpRule {
    #[prost(string, tag = "1")]
    pub selector: ::micro::codegen::prost::alloc::string::String,
    #[prost(string, tag = "7")]
    pub body: ::micro::codegen::prost::alloc::string::String,
    #[prost(string, tag = "12")]
    pub response_body: ::micro::codegen::prost::alloc::string::String,
    #[prost(message, repeated, tag = "11")]
    pub additional_bindings: ::micro::codegen::prost::alloc::vec::Vec<HttpRule>,
    #[prost(oneof = "http_rule::Pattern", tags = "2, 3, 4, 5, 6, 8")]
    pub pattern: ::core::option::Option<http_rule::Pattern>,
}
/// Nested message and enum types in `HttpRule`.
pub mod http_rule {
    #[allow(missing_docs)]
    #[derive(Clone, PartialEq, Eq, Hash, ::micro::codegen::prost::Oneof)]
    #[prost(prost_path = "::micro::codegen::prost")]
    pub enum Pattern {
        #[prost(string, tag = "2")]
        Get(::micro::codegen::prost::alloc::string::String),
        #[prost(string, tag = "3")]
        Put(::micro::codegen::prost::alloc::string::String),
        #[prost(string, tag = "4")]
        Post(::micro::codegen::prost::alloc::string::String),
        #[prost(string, tag = "5")]
        Delete(::micro::codegen::prost::alloc::string::String),
        #[prost(string, tag = "6")]
        Patch(::micro::codegen::prost::alloc::string::String),
        #[prost(message, tag = "8")]
        Custom(super::CustomHttpPattern),
    }
}
#[allow(missing_docs)]
#[derive(Clone, PartialEq, Eq, Hash, ::micro::codegen::prost::Message)]
#[prost(prost_path = "::micro::codegen::prost")]
pub struct CustomHttpPattern {
    #[prost(string, tag = "1")]
    pub kind: ::micro::codegen::prost::alloc::string::String,
    #[prost(string, tag = "2")]
    pub path: ::micro::codegen::prost::alloc::string::String,
}
impl ::micro::codegen::Validate for HttpRule {
    #[allow(unused_variables)]
    fn validate_into(&self, v: &mut ::micro::codegen::Violations) {}
}
impl ::micro::codegen::Validate for CustomHttpPattern {
    #[allow(unused_variables)]
    fn validate_into(&self, v: &mut ::micro::codegen::Violations) {}
}
/// The descriptors of package `google.api` and its imports (base64): JSON mapping,
/// registry schemas, reflection.
pub static DESCRIPTORS: ::micro::codegen::Descriptors = ::micro::codegen::Descriptors::base64(
    "CsUDChVnb29nbGUvYXBpL2h0dHAucHJvdG8SCmdvb2dsZS5hcGki2gIKCEh0dHBSdWxlEhoKCHNlbGVjdG9yGAEgASgJUghzZWxlY3RvchISCgNnZXQYAiABKAlIAFIDZ2V0EhIKA3B1dBgDIAEoCUgAUgNwdXQSFAoEcG9zdBgEIAEoCUgAUgRwb3N0EhgKBmRlbGV0ZRgFIAEoCUgAUgZkZWxldGUSFgoFcGF0Y2gYBiABKAlIAFIFcGF0Y2gSNwoGY3VzdG9tGAggASgLMh0uZ29vZ2xlLmFwaS5DdXN0b21IdHRwUGF0dGVybkgAUgZjdXN0b20SEgoEYm9keRgHIAEoCVIEYm9keRIjCg1yZXNwb25zZV9ib2R5GAwgASgJUgxyZXNwb25zZUJvZHkSRQoTYWRkaXRpb25hbF9iaW5kaW5ncxgLIAMoCzIULmdvb2dsZS5hcGkuSHR0cFJ1bGVSEmFkZGl0aW9uYWxCaW5kaW5nc0IJCgdwYXR0ZXJuIjsKEUN1c3RvbUh0dHBQYXR0ZXJuEhIKBGtpbmQYASABKAlSBGtpbmQSEgoEcGF0aBgCIAEoCVIEcGF0aGIGcHJvdG8zCrgBChxnb29nbGUvYXBpL2Fubm90YXRpb25zLnByb3RvEgpnb29nbGUuYXBpGhVnb29nbGUvYXBpL2h0dHAucHJvdG8aIGdvb2dsZS9wcm90b2J1Zi9kZXNjcmlwdG9yLnByb3RvOksKBGh0dHASHi5nb29nbGUucHJvdG9idWYuTWV0aG9kT3B0aW9ucxiwyrwiIAEoCzIULmdvb2dsZS5hcGkuSHR0cFJ1bGVSBGh0dHBiBnByb3RvMw==",
);
// Protobuf and proto3 JSON for every message of this package.
::micro::codegen::impl_messages!(
    DESCRIPTORS;
    HttpRule => "google.api.HttpRule",
    CustomHttpPattern => "google.api.CustomHttpPattern",
);
