/// A money amount.
#[allow(missing_docs)]
#[derive(Clone, PartialEq, Eq, Hash, ::micro::codegen::prost::Message)]
#[prost(prost_path = "::micro::codegen::prost")]
pub struct Money {
    #[prost(string, tag = "1")]
    pub currency: ::micro::codegen::prost::alloc::string::String,
    #[prost(int64, tag = "2")]
    pub units: i64,
    #[prost(int32, tag = "3")]
    pub nanos: i32,
}
/// Where something is.
#[allow(missing_docs)]
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    ::micro::codegen::prost::Enumeration
)]
#[prost(prost_path = "::micro::codegen::prost")]
#[repr(i32)]
pub enum Region {
    Unspecified = 0,
    Eu = 1,
    Us = 2,
}
impl Region {
    /// String value of the enum field names used in the ProtoBuf definition.
    ///
    /// The values are not transformed in any way and thus are considered stable
    /// (if the ProtoBuf definition does not change) and safe for programmatic use.
    pub fn as_str_name(&self) -> &'static str {
        match self {
            Self::Unspecified => "REGION_UNSPECIFIED",
            Self::Eu => "REGION_EU",
            Self::Us => "REGION_US",
        }
    }
    /// Creates an enum from field names used in the ProtoBuf definition.
    pub fn from_str_name(value: &str) -> ::core::option::Option<Self> {
        match value {
            "REGION_UNSPECIFIED" => Some(Self::Unspecified),
            "REGION_EU" => Some(Self::Eu),
            "REGION_US" => Some(Self::Us),
            _ => None,
        }
    }
}
impl ::micro::codegen::Validate for Money {
    #[allow(unused_variables)]
    fn validate_into(&self, v: &mut ::micro::codegen::Violations) {}
}
/// The descriptors of package `fixtures.common` and its imports (base64): JSON mapping,
/// registry schemas, reflection.
pub static DESCRIPTORS: ::micro::codegen::Descriptors = ::micro::codegen::Descriptors::base64(
    "CscBChtmaXh0dXJlcy9jb21tb24vdHlwZXMucHJvdG8SD2ZpeHR1cmVzLmNvbW1vbiJPCgVNb25leRIaCghjdXJyZW5jeRgBIAEoCVIIY3VycmVuY3kSFAoFdW5pdHMYAiABKANSBXVuaXRzEhQKBW5hbm9zGAMgASgFUgVuYW5vcyo+CgZSZWdpb24SFgoSUkVHSU9OX1VOU1BFQ0lGSUVEEAASDQoJUkVHSU9OX0VVEAESDQoJUkVHSU9OX1VTEAJiBnByb3RvMw==",
);
// Protobuf and proto3 JSON for every message of this package.
::micro::codegen::impl_messages!(
    DESCRIPTORS;
    Money => "fixtures.common.Money",
);
