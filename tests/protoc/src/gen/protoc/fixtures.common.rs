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
impl ::micro::codegen::prost::Name for Money {
    const NAME: &'static str = "Money";
    const PACKAGE: &'static str = "fixtures.common";
    fn full_name() -> ::micro::codegen::prost::alloc::string::String {
        "fixtures.common.Money".into()
    }
    fn type_url() -> ::micro::codegen::prost::alloc::string::String {
        "/fixtures.common.Money".into()
    }
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
/// The descriptors of package `fixtures.common` and its imports: JSON mapping, registry schemas, reflection.
pub static DESCRIPTORS: ::micro::codegen::Descriptors = ::micro::codegen::Descriptors::new(
    b"\n\xC7\x01\n\x1Bfixtures/common/types.proto\x12\x0Ffixtures.common\"O\n\x05Money\x12\x1A\n\x08currency\x18\x01 \x01(\tR\x08currency\x12\x14\n\x05units\x18\x02 \x01(\x03R\x05units\x12\x14\n\x05nanos\x18\x03 \x01(\x05R\x05nanos*>\n\x06Region\x12\x16\n\x12REGION_UNSPECIFIED\x10\0\x12\r\n\tREGION_EU\x10\x01\x12\r\n\tREGION_US\x10\x02b\x06proto3",
);
::micro::codegen::impl_messages!(DESCRIPTORS; Money => "fixtures.common.Money");
