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
impl ::micro::codegen::prost::Name for HttpRule {
    const NAME: &'static str = "HttpRule";
    const PACKAGE: &'static str = "google.api";
    fn full_name() -> ::micro::codegen::prost::alloc::string::String {
        "google.api.HttpRule".into()
    }
    fn type_url() -> ::micro::codegen::prost::alloc::string::String {
        "/google.api.HttpRule".into()
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
impl ::micro::codegen::prost::Name for CustomHttpPattern {
    const NAME: &'static str = "CustomHttpPattern";
    const PACKAGE: &'static str = "google.api";
    fn full_name() -> ::micro::codegen::prost::alloc::string::String {
        "google.api.CustomHttpPattern".into()
    }
    fn type_url() -> ::micro::codegen::prost::alloc::string::String {
        "/google.api.CustomHttpPattern".into()
    }
}
/// The descriptors of package `google.api` and its imports: JSON mapping, registry schemas, reflection.
pub static DESCRIPTORS: ::micro::codegen::Descriptors = ::micro::codegen::Descriptors::new(
    b"\n\xC5\x03\n\x15google/api/http.proto\x12\ngoogle.api\"\xDA\x02\n\x08HttpRule\x12\x1A\n\x08selector\x18\x01 \x01(\tR\x08selector\x12\x12\n\x03get\x18\x02 \x01(\tH\0R\x03get\x12\x12\n\x03put\x18\x03 \x01(\tH\0R\x03put\x12\x14\n\x04post\x18\x04 \x01(\tH\0R\x04post\x12\x18\n\x06delete\x18\x05 \x01(\tH\0R\x06delete\x12\x16\n\x05patch\x18\x06 \x01(\tH\0R\x05patch\x127\n\x06custom\x18\x08 \x01(\x0B2\x1D.google.api.CustomHttpPatternH\0R\x06custom\x12\x12\n\x04body\x18\x07 \x01(\tR\x04body\x12#\n\rresponse_body\x18\x0C \x01(\tR\x0CresponseBody\x12E\n\x13additional_bindings\x18\x0B \x03(\x0B2\x14.google.api.HttpRuleR\x12additionalBindingsB\t\n\x07pattern\";\n\x11CustomHttpPattern\x12\x12\n\x04kind\x18\x01 \x01(\tR\x04kind\x12\x12\n\x04path\x18\x02 \x01(\tR\x04pathb\x06proto3\n\xB8\x01\n\x1Cgoogle/api/annotations.proto\x12\ngoogle.api\x1A\x15google/api/http.proto\x1A google/protobuf/descriptor.proto:K\n\x04http\x12\x1E.google.protobuf.MethodOptions\x18\xB0\xCA\xBC\" \x01(\x0B2\x14.google.api.HttpRuleR\x04httpb\x06proto3",
);
::micro::codegen::impl_messages!(
    DESCRIPTORS; HttpRule => "google.api.HttpRule", CustomHttpPattern =>
    "google.api.CustomHttpPattern"
);
