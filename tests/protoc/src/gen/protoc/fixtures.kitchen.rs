/// The kitchen sink: one field of every kind.
///
/// Indented text in comments must not become a doctest:
///
/// ```text
/// let this = not_rust(at all);
/// ```
///
/// and neither must a fenced block:
///
/// ```text,
/// fn nope( {
/// ```
#[allow(missing_docs)]
#[derive(Clone, PartialEq, ::micro::codegen::prost::Message)]
#[prost(prost_path = "::micro::codegen::prost")]
pub struct Everything {
    #[prost(double, tag = "1")]
    pub f_double: f64,
    #[prost(float, tag = "2")]
    pub f_float: f32,
    #[prost(int32, tag = "3")]
    pub f_int32: i32,
    #[prost(int64, tag = "4")]
    pub f_int64: i64,
    #[prost(uint32, tag = "5")]
    pub f_uint32: u32,
    #[prost(uint64, tag = "6")]
    pub f_uint64: u64,
    #[prost(sint32, tag = "7")]
    pub f_sint32: i32,
    #[prost(sint64, tag = "8")]
    pub f_sint64: i64,
    #[prost(fixed32, tag = "9")]
    pub f_fixed32: u32,
    #[prost(fixed64, tag = "10")]
    pub f_fixed64: u64,
    #[prost(sfixed32, tag = "11")]
    pub f_sfixed32: i32,
    #[prost(sfixed64, tag = "12")]
    pub f_sfixed64: i64,
    #[prost(bool, tag = "13")]
    pub f_bool: bool,
    #[prost(string, tag = "14")]
    pub f_string: ::micro::codegen::prost::alloc::string::String,
    #[prost(bytes = "vec", tag = "15")]
    pub f_bytes: ::micro::codegen::prost::alloc::vec::Vec<u8>,
    #[prost(enumeration = "Color", tag = "16")]
    pub color: i32,
    #[prost(message, optional, tag = "17")]
    pub nested: ::core::option::Option<everything::Nested>,
    #[prost(string, repeated, tag = "18")]
    pub tags: ::micro::codegen::prost::alloc::vec::Vec<
        ::micro::codegen::prost::alloc::string::String,
    >,
    #[prost(int64, repeated, tag = "19")]
    pub numbers: ::micro::codegen::prost::alloc::vec::Vec<i64>,
    #[prost(message, repeated, tag = "20")]
    pub items: ::micro::codegen::prost::alloc::vec::Vec<everything::Nested>,
    #[prost(map = "string, int64", tag = "21")]
    pub counts: ::std::collections::HashMap<
        ::micro::codegen::prost::alloc::string::String,
        i64,
    >,
    #[prost(map = "int32, message", tag = "22")]
    pub by_id: ::std::collections::HashMap<i32, everything::Nested>,
    #[prost(int32, optional, tag = "26")]
    pub maybe: ::core::option::Option<i32>,
    #[prost(string, optional, tag = "27")]
    pub maybe_text: ::core::option::Option<
        ::micro::codegen::prost::alloc::string::String,
    >,
    #[prost(message, optional, tag = "28")]
    pub at: ::core::option::Option<::micro::codegen::prost_types::Timestamp>,
    #[prost(message, optional, tag = "29")]
    pub took: ::core::option::Option<::micro::codegen::prost_types::Duration>,
    #[prost(message, optional, tag = "30")]
    pub extra: ::core::option::Option<::micro::codegen::prost_types::Struct>,
    #[prost(message, optional, tag = "31")]
    pub anything: ::core::option::Option<::micro::codegen::prost_types::Value>,
    #[prost(message, optional, tag = "32")]
    pub packed: ::core::option::Option<::micro::codegen::prost_types::Any>,
    #[prost(message, optional, tag = "33")]
    pub wrapped_int: ::core::option::Option<i64>,
    #[prost(message, optional, tag = "34")]
    pub wrapped_text: ::core::option::Option<
        ::micro::codegen::prost::alloc::string::String,
    >,
    #[prost(message, optional, tag = "35")]
    pub mask: ::core::option::Option<::micro::codegen::prost_types::FieldMask>,
    #[prost(message, optional, tag = "36")]
    pub nothing: ::core::option::Option<()>,
    #[prost(message, optional, tag = "37")]
    pub price: ::core::option::Option<super::common::Money>,
    #[prost(enumeration = "super::common::Region", tag = "38")]
    pub region: i32,
    #[prost(enumeration = "Color", repeated, tag = "39")]
    pub colors: ::micro::codegen::prost::alloc::vec::Vec<i32>,
    #[deprecated]
    #[prost(string, tag = "40")]
    pub deprecated_field: ::micro::codegen::prost::alloc::string::String,
    #[prost(oneof = "everything::Choice", tags = "23, 24, 25")]
    pub choice: ::core::option::Option<everything::Choice>,
}
/// Nested message and enum types in `Everything`.
pub mod everything {
    /// A message inside a message.
    #[allow(missing_docs)]
    #[derive(Clone, PartialEq, Eq, Hash, ::micro::codegen::prost::Message)]
    #[prost(prost_path = "::micro::codegen::prost")]
    pub struct Nested {
        #[prost(string, tag = "1")]
        pub name: ::micro::codegen::prost::alloc::string::String,
        #[prost(enumeration = "nested::Level", tag = "2")]
        pub level: i32,
    }
    /// Nested message and enum types in `Nested`.
    pub mod nested {
        /// An enum inside a nested message.
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
        pub enum Level {
            Unspecified = 0,
            High = 1,
        }
        impl Level {
            /// String value of the enum field names used in the ProtoBuf definition.
            ///
            /// The values are not transformed in any way and thus are considered stable
            /// (if the ProtoBuf definition does not change) and safe for programmatic use.
            pub fn as_str_name(&self) -> &'static str {
                match self {
                    Self::Unspecified => "LEVEL_UNSPECIFIED",
                    Self::High => "LEVEL_HIGH",
                }
            }
            /// Creates an enum from field names used in the ProtoBuf definition.
            pub fn from_str_name(value: &str) -> ::core::option::Option<Self> {
                match value {
                    "LEVEL_UNSPECIFIED" => Some(Self::Unspecified),
                    "LEVEL_HIGH" => Some(Self::High),
                    _ => None,
                }
            }
        }
    }
    impl ::micro::codegen::prost::Name for Nested {
        const NAME: &'static str = "Nested";
        const PACKAGE: &'static str = "fixtures.kitchen";
        fn full_name() -> ::micro::codegen::prost::alloc::string::String {
            "fixtures.kitchen.Everything.Nested".into()
        }
        fn type_url() -> ::micro::codegen::prost::alloc::string::String {
            "/fixtures.kitchen.Everything.Nested".into()
        }
    }
    #[allow(missing_docs)]
    #[derive(Clone, PartialEq, Eq, Hash, ::micro::codegen::prost::Oneof)]
    #[prost(prost_path = "::micro::codegen::prost")]
    pub enum Choice {
        #[prost(string, tag = "23")]
        ChoiceText(::micro::codegen::prost::alloc::string::String),
        #[prost(int32, tag = "24")]
        ChoiceNumber(i32),
        #[prost(message, tag = "25")]
        ChoiceNested(Nested),
    }
}
impl ::micro::codegen::prost::Name for Everything {
    const NAME: &'static str = "Everything";
    const PACKAGE: &'static str = "fixtures.kitchen";
    fn full_name() -> ::micro::codegen::prost::alloc::string::String {
        "fixtures.kitchen.Everything".into()
    }
    fn type_url() -> ::micro::codegen::prost::alloc::string::String {
        "/fixtures.kitchen.Everything".into()
    }
}
/// A recursive message.
#[allow(missing_docs)]
#[derive(Clone, PartialEq, ::micro::codegen::prost::Message)]
#[prost(prost_path = "::micro::codegen::prost")]
pub struct Tree {
    #[prost(string, tag = "1")]
    pub label: ::micro::codegen::prost::alloc::string::String,
    #[prost(message, repeated, tag = "2")]
    pub children: ::micro::codegen::prost::alloc::vec::Vec<Tree>,
    #[prost(message, optional, boxed, tag = "3")]
    pub parent: ::core::option::Option<::micro::codegen::prost::alloc::boxed::Box<Tree>>,
}
impl ::micro::codegen::prost::Name for Tree {
    const NAME: &'static str = "Tree";
    const PACKAGE: &'static str = "fixtures.kitchen";
    fn full_name() -> ::micro::codegen::prost::alloc::string::String {
        "fixtures.kitchen.Tree".into()
    }
    fn type_url() -> ::micro::codegen::prost::alloc::string::String {
        "/fixtures.kitchen.Tree".into()
    }
}
/// One number.
#[allow(missing_docs)]
#[derive(Clone, Copy, PartialEq, Eq, Hash, ::micro::codegen::prost::Message)]
#[prost(prost_path = "::micro::codegen::prost")]
pub struct Num {
    #[prost(int64, tag = "1")]
    pub value: i64,
}
impl ::micro::codegen::prost::Name for Num {
    const NAME: &'static str = "Num";
    const PACKAGE: &'static str = "fixtures.kitchen";
    fn full_name() -> ::micro::codegen::prost::alloc::string::String {
        "fixtures.kitchen.Num".into()
    }
    fn type_url() -> ::micro::codegen::prost::alloc::string::String {
        "/fixtures.kitchen.Num".into()
    }
}
/// Colors.
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
pub enum Color {
    Unspecified = 0,
    Red = 1,
    Green = 2,
}
impl Color {
    /// String value of the enum field names used in the ProtoBuf definition.
    ///
    /// The values are not transformed in any way and thus are considered stable
    /// (if the ProtoBuf definition does not change) and safe for programmatic use.
    pub fn as_str_name(&self) -> &'static str {
        match self {
            Self::Unspecified => "COLOR_UNSPECIFIED",
            Self::Red => "COLOR_RED",
            Self::Green => "COLOR_GREEN",
        }
    }
    /// Creates an enum from field names used in the ProtoBuf definition.
    pub fn from_str_name(value: &str) -> ::core::option::Option<Self> {
        match value {
            "COLOR_UNSPECIFIED" => Some(Self::Unspecified),
            "COLOR_RED" => Some(Self::Red),
            "COLOR_GREEN" => Some(Self::Green),
            _ => None,
        }
    }
}
/// An item.
#[allow(missing_docs)]
#[derive(Clone, PartialEq, Eq, Hash, ::micro::codegen::prost::Message)]
#[prost(prost_path = "::micro::codegen::prost")]
pub struct Item {
    #[prost(string, tag = "1")]
    pub name: ::micro::codegen::prost::alloc::string::String,
}
impl ::micro::codegen::prost::Name for Item {
    const NAME: &'static str = "Item";
    const PACKAGE: &'static str = "fixtures.kitchen";
    fn full_name() -> ::micro::codegen::prost::alloc::string::String {
        "fixtures.kitchen.Item".into()
    }
    fn type_url() -> ::micro::codegen::prost::alloc::string::String {
        "/fixtures.kitchen.Item".into()
    }
}
/// The descriptors of package `fixtures.kitchen` and its imports: JSON mapping, registry schemas, reflection.
pub static DESCRIPTORS: ::micro::codegen::Descriptors = ::micro::codegen::Descriptors::new(
    b"\n\xC7\x01\n\x1Bfixtures/common/types.proto\x12\x0Ffixtures.common\"O\n\x05Money\x12\x1A\n\x08currency\x18\x01 \x01(\tR\x08currency\x12\x14\n\x05units\x18\x02 \x01(\x03R\x05units\x12\x14\n\x05nanos\x18\x03 \x01(\x05R\x05nanos*>\n\x06Region\x12\x16\n\x12REGION_UNSPECIFIED\x10\0\x12\r\n\tREGION_EU\x10\x01\x12\r\n\tREGION_US\x10\x02b\x06proto3\n\xC5\x03\n\x15google/api/http.proto\x12\ngoogle.api\"\xDA\x02\n\x08HttpRule\x12\x1A\n\x08selector\x18\x01 \x01(\tR\x08selector\x12\x12\n\x03get\x18\x02 \x01(\tH\0R\x03get\x12\x12\n\x03put\x18\x03 \x01(\tH\0R\x03put\x12\x14\n\x04post\x18\x04 \x01(\tH\0R\x04post\x12\x18\n\x06delete\x18\x05 \x01(\tH\0R\x06delete\x12\x16\n\x05patch\x18\x06 \x01(\tH\0R\x05patch\x127\n\x06custom\x18\x08 \x01(\x0B2\x1D.google.api.CustomHttpPatternH\0R\x06custom\x12\x12\n\x04body\x18\x07 \x01(\tR\x04body\x12#\n\rresponse_body\x18\x0C \x01(\tR\x0CresponseBody\x12E\n\x13additional_bindings\x18\x0B \x03(\x0B2\x14.google.api.HttpRuleR\x12additionalBindingsB\t\n\x07pattern\";\n\x11CustomHttpPattern\x12\x12\n\x04kind\x18\x01 \x01(\tR\x04kind\x12\x12\n\x04path\x18\x02 \x01(\tR\x04pathb\x06proto3\n\xB8\x01\n\x1Cgoogle/api/annotations.proto\x12\ngoogle.api\x1A\x15google/api/http.proto\x1A google/protobuf/descriptor.proto:K\n\x04http\x12\x1E.google.protobuf.MethodOptions\x18\xB0\xCA\xBC\" \x01(\x0B2\x14.google.api.HttpRuleR\x04httpb\x06proto3\n\xF9\x16\n\x16fixtures/kitchen.proto\x12\x10fixtures.kitchen\x1A\x1Bfixtures/common/types.proto\x1A\x1Cgoogle/api/annotations.proto\x1A\x19google/protobuf/any.proto\x1A\x1Egoogle/protobuf/duration.proto\x1A\x1Bgoogle/protobuf/empty.proto\x1A google/protobuf/field_mask.proto\x1A\x1Cgoogle/protobuf/struct.proto\x1A\x1Fgoogle/protobuf/timestamp.proto\x1A\x1Egoogle/protobuf/wrappers.proto\"\xA2\x0F\n\nEverything\x12\x19\n\x08f_double\x18\x01 \x01(\x01R\x07fDouble\x12\x17\n\x07f_float\x18\x02 \x01(\x02R\x06fFloat\x12\x17\n\x07f_int32\x18\x03 \x01(\x05R\x06fInt32\x12\x17\n\x07f_int64\x18\x04 \x01(\x03R\x06fInt64\x12\x19\n\x08f_uint32\x18\x05 \x01(\rR\x07fUint32\x12\x19\n\x08f_uint64\x18\x06 \x01(\x04R\x07fUint64\x12\x19\n\x08f_sint32\x18\x07 \x01(\x11R\x07fSint32\x12\x19\n\x08f_sint64\x18\x08 \x01(\x12R\x07fSint64\x12\x1B\n\tf_fixed32\x18\t \x01(\x07R\x08fFixed32\x12\x1B\n\tf_fixed64\x18\n \x01(\x06R\x08fFixed64\x12\x1D\n\nf_sfixed32\x18\x0B \x01(\x0FR\tfSfixed32\x12\x1D\n\nf_sfixed64\x18\x0C \x01(\x10R\tfSfixed64\x12\x15\n\x06f_bool\x18\r \x01(\x08R\x05fBool\x12\x19\n\x08f_string\x18\x0E \x01(\tR\x07fString\x12\x17\n\x07f_bytes\x18\x0F \x01(\x0CR\x06fBytes\x12-\n\x05color\x18\x10 \x01(\x0E2\x17.fixtures.kitchen.ColorR\x05color\x12;\n\x06nested\x18\x11 \x01(\x0B2#.fixtures.kitchen.Everything.NestedR\x06nested\x12\x12\n\x04tags\x18\x12 \x03(\tR\x04tags\x12\x18\n\x07numbers\x18\x13 \x03(\x03R\x07numbers\x129\n\x05items\x18\x14 \x03(\x0B2#.fixtures.kitchen.Everything.NestedR\x05items\x12@\n\x06counts\x18\x15 \x03(\x0B2(.fixtures.kitchen.Everything.CountsEntryR\x06counts\x12;\n\x05by_id\x18\x16 \x03(\x0B2&.fixtures.kitchen.Everything.ByIdEntryR\x04byId\x12!\n\x0Bchoice_text\x18\x17 \x01(\tH\0R\nchoiceText\x12%\n\rchoice_number\x18\x18 \x01(\x05H\0R\x0CchoiceNumber\x12J\n\rchoice_nested\x18\x19 \x01(\x0B2#.fixtures.kitchen.Everything.NestedH\0R\x0CchoiceNested\x12\x19\n\x05maybe\x18\x1A \x01(\x05H\x01R\x05maybe\x88\x01\x01\x12\"\n\nmaybe_text\x18\x1B \x01(\tH\x02R\tmaybeText\x88\x01\x01\x12*\n\x02at\x18\x1C \x01(\x0B2\x1A.google.protobuf.TimestampR\x02at\x12-\n\x04took\x18\x1D \x01(\x0B2\x19.google.protobuf.DurationR\x04took\x12-\n\x05extra\x18\x1E \x01(\x0B2\x17.google.protobuf.StructR\x05extra\x122\n\x08anything\x18\x1F \x01(\x0B2\x16.google.protobuf.ValueR\x08anything\x12,\n\x06packed\x18  \x01(\x0B2\x14.google.protobuf.AnyR\x06packed\x12<\n\x0Bwrapped_int\x18! \x01(\x0B2\x1B.google.protobuf.Int64ValueR\nwrappedInt\x12?\n\x0Cwrapped_text\x18\" \x01(\x0B2\x1C.google.protobuf.StringValueR\x0BwrappedText\x12.\n\x04mask\x18# \x01(\x0B2\x1A.google.protobuf.FieldMaskR\x04mask\x120\n\x07nothing\x18$ \x01(\x0B2\x16.google.protobuf.EmptyR\x07nothing\x12,\n\x05price\x18% \x01(\x0B2\x16.fixtures.common.MoneyR\x05price\x12/\n\x06region\x18& \x01(\x0E2\x17.fixtures.common.RegionR\x06region\x12/\n\x06colors\x18' \x03(\x0E2\x17.fixtures.kitchen.ColorR\x06colors\x12-\n\x10deprecated_field\x18( \x01(\tB\x02\x18\x01R\x0FdeprecatedField\x1A9\n\x0BCountsEntry\x12\x10\n\x03key\x18\x01 \x01(\tR\x03key\x12\x14\n\x05value\x18\x02 \x01(\x03R\x05value:\x028\x01\x1A\\\n\tByIdEntry\x12\x10\n\x03key\x18\x01 \x01(\x05R\x03key\x129\n\x05value\x18\x02 \x01(\x0B2#.fixtures.kitchen.Everything.NestedR\x05value:\x028\x01\x1A\x8D\x01\n\x06Nested\x12\x12\n\x04name\x18\x01 \x01(\tR\x04name\x12?\n\x05level\x18\x02 \x01(\x0E2).fixtures.kitchen.Everything.Nested.LevelR\x05level\".\n\x05Level\x12\x15\n\x11LEVEL_UNSPECIFIED\x10\0\x12\x0E\n\nLEVEL_HIGH\x10\x01B\x08\n\x06choiceB\x08\n\x06_maybeB\r\n\x0B_maybe_text\"\x80\x01\n\x04Tree\x12\x14\n\x05label\x18\x01 \x01(\tR\x05label\x122\n\x08children\x18\x02 \x03(\x0B2\x16.fixtures.kitchen.TreeR\x08children\x12.\n\x06parent\x18\x03 \x01(\x0B2\x16.fixtures.kitchen.TreeR\x06parent\"\x1B\n\x03Num\x12\x14\n\x05value\x18\x01 \x01(\x03R\x05value*>\n\x05Color\x12\x15\n\x11COLOR_UNSPECIFIED\x10\0\x12\r\n\tCOLOR_RED\x10\x01\x12\x0F\n\x0BCOLOR_GREEN\x10\x022\xAB\x03\n\x07Kitchen\x12D\n\x04Echo\x12\x1C.fixtures.kitchen.Everything\x1A\x1C.fixtures.kitchen.Everything\"\0\x12<\n\x05Count\x12\x15.fixtures.kitchen.Num\x1A\x15.fixtures.kitchen.Num\"\x03\x90\x02\x010\x01\x125\n\x03Sum\x12\x15.fixtures.kitchen.Num\x1A\x15.fixtures.kitchen.Num(\x01\x128\n\x04Chat\x12\x15.fixtures.kitchen.Num\x1A\x15.fixtures.kitchen.Num(\x010\x01\x129\n\x03Now\x12\x16.google.protobuf.Empty\x1A\x1A.google.protobuf.Timestamp\x126\n\x04Grow\x12\x16.fixtures.kitchen.Tree\x1A\x16.fixtures.kitchen.Tree\x128\n\x03Old\x12\x15.fixtures.kitchen.Num\x1A\x15.fixtures.kitchen.Num\"\x03\x88\x02\x01b\x06proto3\n\xAD\x01\n\x15fixtures/pantry.proto\x12\x10fixtures.kitchen\x1A\x1Bfixtures/common/types.proto\"\x1A\n\x04Item\x12\x12\n\x04name\x18\x01 \x01(\tR\x04name2A\n\x06Pantry\x127\n\x05Price\x12\x16.fixtures.kitchen.Item\x1A\x16.fixtures.common.Moneyb\x06proto3",
);
::micro::codegen::impl_messages!(
    DESCRIPTORS; Everything => "fixtures.kitchen.Everything", everything::Nested =>
    "fixtures.kitchen.Everything.Nested", Tree => "fixtures.kitchen.Tree", Num =>
    "fixtures.kitchen.Num", Item => "fixtures.kitchen.Item"
);
/// Client for the `fixtures.kitchen.Kitchen` service.
pub mod kitchen_client {
    #![allow(
        unused_variables,
        dead_code,
        missing_docs,
        deprecated,
        clippy::all,
        clippy::pedantic,
        clippy::nursery
    )]
    /// Calls `fixtures.kitchen.Kitchen` on the nodes the registry lists for a service name.
    ///
    /// Every streaming kind.
    #[derive(Clone, Debug)]
    pub struct KitchenClient {
        client: ::micro::codegen::Client,
        service: ::std::string::String,
        options: ::micro::codegen::CallOptions,
    }
    impl KitchenClient {
        /// A client for the service registered as `service` (e.g. `"greeter"`),
        /// calling through `client`.
        pub fn new(
            service: impl ::core::convert::Into<::std::string::String>,
            client: ::micro::codegen::Client,
        ) -> Self {
            Self {
                client,
                service: service.into(),
                options: ::micro::codegen::CallOptions::new(),
            }
        }
        /// Use `options` for every call of this client (timeout, metadata, retries,
        /// address, filters).
        #[must_use]
        pub fn with_options(mut self, options: ::micro::codegen::CallOptions) -> Self {
            self.options = options;
            self
        }
        /// The options used for every call.
        pub fn options(&self) -> &::micro::codegen::CallOptions {
            &self.options
        }
        /// The service name calls go to.
        pub fn service(&self) -> &str {
            &self.service
        }
        /// The underlying runtime client.
        pub fn client(&self) -> &::micro::codegen::Client {
            &self.client
        }
        fn call_options(
            &self,
            options: &::micro::codegen::CallOptions,
        ) -> ::micro::codegen::CallOptions {
            ::micro::codegen::call_options(
                options,
                ::core::option::Option::Some("fixtures.kitchen"),
            )
        }
        /// One request, one response; also bound to HTTP.
        pub async fn echo(
            &self,
            request: super::Everything,
        ) -> ::micro::codegen::Result<super::Everything> {
            self.echo_with(&::micro::codegen::Context::new(), request, &self.options)
                .await
        }
        /// [`Self::echo`] with a context (deadline, metadata) and call options.
        pub async fn echo_with(
            &self,
            ctx: &::micro::codegen::Context,
            request: super::Everything,
            options: &::micro::codegen::CallOptions,
        ) -> ::micro::codegen::Result<super::Everything> {
            self.client
                .call_with(
                    ctx,
                    &self.service,
                    "Kitchen.Echo",
                    &request,
                    &self.call_options(options),
                )
                .await
        }
        /// One request, a stream of responses.
        ///
        /// Returns the stream of responses.
        pub async fn count(
            &self,
            request: super::Num,
        ) -> ::micro::codegen::Result<::micro::codegen::StreamReceiver<super::Num>> {
            self.count_with(&::micro::codegen::Context::new(), request, &self.options)
                .await
        }
        /// [`Self::count`] with a context (deadline, metadata) and call options.
        pub async fn count_with(
            &self,
            ctx: &::micro::codegen::Context,
            request: super::Num,
            options: &::micro::codegen::CallOptions,
        ) -> ::micro::codegen::Result<::micro::codegen::StreamReceiver<super::Num>> {
            self.client
                .server_stream(
                    ctx,
                    &self.service,
                    "Kitchen.Count",
                    &request,
                    &self.call_options(options),
                )
                .await
        }
        /// A stream of requests, one response.
        ///
        /// Send requests on the returned stream, then `finish` it for the response.
        pub async fn sum(
            &self,
        ) -> ::micro::codegen::Result<
            ::micro::codegen::ClientStreaming<super::Num, super::Num>,
        > {
            self.sum_with(&::micro::codegen::Context::new(), &self.options).await
        }
        /// [`Self::sum`] with a context (deadline, metadata) and call options.
        pub async fn sum_with(
            &self,
            ctx: &::micro::codegen::Context,
            options: &::micro::codegen::CallOptions,
        ) -> ::micro::codegen::Result<
            ::micro::codegen::ClientStreaming<super::Num, super::Num>,
        > {
            self.client
                .client_stream(
                    ctx,
                    &self.service,
                    "Kitchen.Sum",
                    &self.call_options(options),
                )
                .await
        }
        /// Streams both ways.
        ///
        /// Send and receive on the returned stream; `close_send` ends the requests.
        pub async fn chat(
            &self,
        ) -> ::micro::codegen::Result<
            ::micro::codegen::Streaming<super::Num, super::Num>,
        > {
            self.chat_with(&::micro::codegen::Context::new(), &self.options).await
        }
        /// [`Self::chat`] with a context (deadline, metadata) and call options.
        pub async fn chat_with(
            &self,
            ctx: &::micro::codegen::Context,
            options: &::micro::codegen::CallOptions,
        ) -> ::micro::codegen::Result<
            ::micro::codegen::Streaming<super::Num, super::Num>,
        > {
            self.client
                .stream(ctx, &self.service, "Kitchen.Chat", &self.call_options(options))
                .await
        }
        /// Well-known types as request and response.
        pub async fn now(
            &self,
            request: (),
        ) -> ::micro::codegen::Result<::micro::codegen::prost_types::Timestamp> {
            self.now_with(&::micro::codegen::Context::new(), request, &self.options)
                .await
        }
        /// [`Self::now`] with a context (deadline, metadata) and call options.
        pub async fn now_with(
            &self,
            ctx: &::micro::codegen::Context,
            request: (),
            options: &::micro::codegen::CallOptions,
        ) -> ::micro::codegen::Result<::micro::codegen::prost_types::Timestamp> {
            self.client
                .call_with(
                    ctx,
                    &self.service,
                    "Kitchen.Now",
                    &request,
                    &self.call_options(options),
                )
                .await
        }
        /// A recursive message.
        pub async fn grow(
            &self,
            request: super::Tree,
        ) -> ::micro::codegen::Result<super::Tree> {
            self.grow_with(&::micro::codegen::Context::new(), request, &self.options)
                .await
        }
        /// [`Self::grow`] with a context (deadline, metadata) and call options.
        pub async fn grow_with(
            &self,
            ctx: &::micro::codegen::Context,
            request: super::Tree,
            options: &::micro::codegen::CallOptions,
        ) -> ::micro::codegen::Result<super::Tree> {
            self.client
                .call_with(
                    ctx,
                    &self.service,
                    "Kitchen.Grow",
                    &request,
                    &self.call_options(options),
                )
                .await
        }
        /// Kept for old callers.
        #[deprecated]
        pub async fn old(
            &self,
            request: super::Num,
        ) -> ::micro::codegen::Result<super::Num> {
            self.old_with(&::micro::codegen::Context::new(), request, &self.options)
                .await
        }
        /// [`Self::old`] with a context (deadline, metadata) and call options.
        #[deprecated]
        pub async fn old_with(
            &self,
            ctx: &::micro::codegen::Context,
            request: super::Num,
            options: &::micro::codegen::CallOptions,
        ) -> ::micro::codegen::Result<super::Num> {
            self.client
                .call_with(
                    ctx,
                    &self.service,
                    "Kitchen.Old",
                    &request,
                    &self.call_options(options),
                )
                .await
        }
    }
}
/// Handler trait and server for the `fixtures.kitchen.Kitchen` service.
pub mod kitchen_server {
    #![allow(
        unused_variables,
        dead_code,
        missing_docs,
        deprecated,
        clippy::all,
        clippy::pedantic,
        clippy::nursery
    )]
    /// The full protobuf name of the service.
    pub const SERVICE_NAME: &str = "fixtures.kitchen.Kitchen";
    /// The handler of `fixtures.kitchen.Kitchen`: implement it, then serve it with [`KitchenServer`].
    ///
    /// Every streaming kind.
    pub trait Kitchen: ::core::marker::Send + ::core::marker::Sync + 'static {
        /// One request, one response; also bound to HTTP.
        fn echo(
            &self,
            ctx: ::micro::codegen::Context,
            request: super::Everything,
        ) -> impl ::micro::codegen::Future<
            Output = ::micro::codegen::Result<super::Everything>,
        > + ::core::marker::Send;
        /// One request, a stream of responses.
        ///
        /// Send the responses on `responses`; returning ends the stream.
        fn count(
            &self,
            ctx: ::micro::codegen::Context,
            request: super::Num,
            responses: ::micro::codegen::StreamSender<super::Num>,
        ) -> impl ::micro::codegen::Future<
            Output = ::micro::codegen::Result<()>,
        > + ::core::marker::Send;
        /// A stream of requests, one response.
        ///
        /// Receive the requests from `requests` until it returns `None`.
        fn sum(
            &self,
            ctx: ::micro::codegen::Context,
            requests: ::micro::codegen::StreamReceiver<super::Num>,
        ) -> impl ::micro::codegen::Future<
            Output = ::micro::codegen::Result<super::Num>,
        > + ::core::marker::Send;
        /// Streams both ways.
        ///
        /// Receive requests from `requests` and send responses on `responses`; returning
        /// ends the stream.
        fn chat(
            &self,
            ctx: ::micro::codegen::Context,
            requests: ::micro::codegen::StreamReceiver<super::Num>,
            responses: ::micro::codegen::StreamSender<super::Num>,
        ) -> impl ::micro::codegen::Future<
            Output = ::micro::codegen::Result<()>,
        > + ::core::marker::Send;
        /// Well-known types as request and response.
        fn now(
            &self,
            ctx: ::micro::codegen::Context,
            request: (),
        ) -> impl ::micro::codegen::Future<
            Output = ::micro::codegen::Result<::micro::codegen::prost_types::Timestamp>,
        > + ::core::marker::Send;
        /// A recursive message.
        fn grow(
            &self,
            ctx: ::micro::codegen::Context,
            request: super::Tree,
        ) -> impl ::micro::codegen::Future<
            Output = ::micro::codegen::Result<super::Tree>,
        > + ::core::marker::Send;
        /// Kept for old callers.
        #[deprecated]
        fn old(
            &self,
            ctx: ::micro::codegen::Context,
            request: super::Num,
        ) -> impl ::micro::codegen::Future<
            Output = ::micro::codegen::Result<super::Num>,
        > + ::core::marker::Send;
    }
    /// Serves a [`Kitchen`] implementation: pass it to `Service::builder(..).handler(..)`.
    pub struct KitchenServer<H> {
        handler: ::std::sync::Arc<H>,
    }
    impl<H: Kitchen> KitchenServer<H> {
        /// Serve `handler`.
        pub fn new(handler: H) -> Self {
            Self::from_arc(::std::sync::Arc::new(handler))
        }
        /// Serve a shared `handler`.
        pub fn from_arc(handler: ::std::sync::Arc<H>) -> Self {
            Self { handler }
        }
    }
    impl<H> ::core::clone::Clone for KitchenServer<H> {
        fn clone(&self) -> Self {
            Self {
                handler: self.handler.clone(),
            }
        }
    }
    impl<H> ::core::fmt::Debug for KitchenServer<H> {
        fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
            f.write_str(::core::stringify!(KitchenServer))
        }
    }
    impl<H: Kitchen> ::micro::codegen::Handler for KitchenServer<H> {
        fn into_router(self) -> ::micro::codegen::Router {
            let router = ::micro::codegen::Router::new();
            let router = {
                let handler = self.handler.clone();
                let route = ::micro::codegen::Route::unary(
                        "Kitchen.Echo",
                        move |
                            ctx: ::micro::codegen::Context,
                            request: super::Everything|
                        {
                            let handler = handler.clone();
                            async move { handler.echo(ctx, request).await }
                        },
                    )
                    .package("fixtures.kitchen")
                    .metadata("method", "POST")
                    .metadata("path", "/v1/kitchen/echo,/v1/kitchen/echo/{f_string}")
                    .metadata("body", "*")
                    .metadata(
                        "http",
                        "[{\"method\":\"POST\",\"path\":\"/v1/kitchen/echo\",\"body\":\"*\"},{\"method\":\"GET\",\"path\":\"/v1/kitchen/echo/{f_string}\"}]",
                    );
                router
                    .route(
                        ::micro::codegen::describe(
                            route,
                            &super::DESCRIPTORS,
                            "fixtures.kitchen.Everything",
                            "fixtures.kitchen.Everything",
                        ),
                    )
            };
            let router = {
                let handler = self.handler.clone();
                let route = ::micro::codegen::Route::server_stream(
                        "Kitchen.Count",
                        move |
                            ctx: ::micro::codegen::Context,
                            request: super::Num,
                            responses: ::micro::codegen::StreamSender<super::Num>|
                        {
                            let handler = handler.clone();
                            async move { handler.count(ctx, request, responses).await }
                        },
                    )
                    .package("fixtures.kitchen")
                    .idempotent();
                router
                    .route(
                        ::micro::codegen::describe(
                            route,
                            &super::DESCRIPTORS,
                            "fixtures.kitchen.Num",
                            "fixtures.kitchen.Num",
                        ),
                    )
            };
            let router = {
                let handler = self.handler.clone();
                let route = ::micro::codegen::Route::client_stream(
                        "Kitchen.Sum",
                        move |
                            ctx: ::micro::codegen::Context,
                            requests: ::micro::codegen::StreamReceiver<super::Num>|
                        {
                            let handler = handler.clone();
                            async move { handler.sum(ctx, requests).await }
                        },
                    )
                    .package("fixtures.kitchen");
                router
                    .route(
                        ::micro::codegen::describe(
                            route,
                            &super::DESCRIPTORS,
                            "fixtures.kitchen.Num",
                            "fixtures.kitchen.Num",
                        ),
                    )
            };
            let router = {
                let handler = self.handler.clone();
                let route = ::micro::codegen::Route::bidi_stream(
                        "Kitchen.Chat",
                        move |
                            ctx: ::micro::codegen::Context,
                            requests: ::micro::codegen::StreamReceiver<super::Num>,
                            responses: ::micro::codegen::StreamSender<super::Num>|
                        {
                            let handler = handler.clone();
                            async move { handler.chat(ctx, requests, responses).await }
                        },
                    )
                    .package("fixtures.kitchen");
                router
                    .route(
                        ::micro::codegen::describe(
                            route,
                            &super::DESCRIPTORS,
                            "fixtures.kitchen.Num",
                            "fixtures.kitchen.Num",
                        ),
                    )
            };
            let router = {
                let handler = self.handler.clone();
                let route = ::micro::codegen::Route::unary(
                        "Kitchen.Now",
                        move |ctx: ::micro::codegen::Context, request: ()| {
                            let handler = handler.clone();
                            async move { handler.now(ctx, request).await }
                        },
                    )
                    .package("fixtures.kitchen");
                router
                    .route(
                        ::micro::codegen::describe(
                            route,
                            &super::DESCRIPTORS,
                            "google.protobuf.Empty",
                            "google.protobuf.Timestamp",
                        ),
                    )
            };
            let router = {
                let handler = self.handler.clone();
                let route = ::micro::codegen::Route::unary(
                        "Kitchen.Grow",
                        move |ctx: ::micro::codegen::Context, request: super::Tree| {
                            let handler = handler.clone();
                            async move { handler.grow(ctx, request).await }
                        },
                    )
                    .package("fixtures.kitchen");
                router
                    .route(
                        ::micro::codegen::describe(
                            route,
                            &super::DESCRIPTORS,
                            "fixtures.kitchen.Tree",
                            "fixtures.kitchen.Tree",
                        ),
                    )
            };
            let router = {
                let handler = self.handler.clone();
                let route = ::micro::codegen::Route::unary(
                        "Kitchen.Old",
                        move |ctx: ::micro::codegen::Context, request: super::Num| {
                            let handler = handler.clone();
                            async move { handler.old(ctx, request).await }
                        },
                    )
                    .package("fixtures.kitchen")
                    .metadata("deprecated", "true");
                router
                    .route(
                        ::micro::codegen::describe(
                            route,
                            &super::DESCRIPTORS,
                            "fixtures.kitchen.Num",
                            "fixtures.kitchen.Num",
                        ),
                    )
            };
            router
        }
    }
}
/// Client for the `fixtures.kitchen.Pantry` service.
pub mod pantry_client {
    #![allow(
        unused_variables,
        dead_code,
        missing_docs,
        deprecated,
        clippy::all,
        clippy::pedantic,
        clippy::nursery
    )]
    /// Calls `fixtures.kitchen.Pantry` on the nodes the registry lists for a service name.
    ///
    /// Stock keeping.
    #[derive(Clone, Debug)]
    pub struct PantryClient {
        client: ::micro::codegen::Client,
        service: ::std::string::String,
        options: ::micro::codegen::CallOptions,
    }
    impl PantryClient {
        /// A client for the service registered as `service` (e.g. `"greeter"`),
        /// calling through `client`.
        pub fn new(
            service: impl ::core::convert::Into<::std::string::String>,
            client: ::micro::codegen::Client,
        ) -> Self {
            Self {
                client,
                service: service.into(),
                options: ::micro::codegen::CallOptions::new(),
            }
        }
        /// Use `options` for every call of this client (timeout, metadata, retries,
        /// address, filters).
        #[must_use]
        pub fn with_options(mut self, options: ::micro::codegen::CallOptions) -> Self {
            self.options = options;
            self
        }
        /// The options used for every call.
        pub fn options(&self) -> &::micro::codegen::CallOptions {
            &self.options
        }
        /// The service name calls go to.
        pub fn service(&self) -> &str {
            &self.service
        }
        /// The underlying runtime client.
        pub fn client(&self) -> &::micro::codegen::Client {
            &self.client
        }
        fn call_options(
            &self,
            options: &::micro::codegen::CallOptions,
        ) -> ::micro::codegen::CallOptions {
            ::micro::codegen::call_options(
                options,
                ::core::option::Option::Some("fixtures.kitchen"),
            )
        }
        /// What an item costs.
        pub async fn price(
            &self,
            request: super::Item,
        ) -> ::micro::codegen::Result<super::super::common::Money> {
            self.price_with(&::micro::codegen::Context::new(), request, &self.options)
                .await
        }
        /// [`Self::price`] with a context (deadline, metadata) and call options.
        pub async fn price_with(
            &self,
            ctx: &::micro::codegen::Context,
            request: super::Item,
            options: &::micro::codegen::CallOptions,
        ) -> ::micro::codegen::Result<super::super::common::Money> {
            self.client
                .call_with(
                    ctx,
                    &self.service,
                    "Pantry.Price",
                    &request,
                    &self.call_options(options),
                )
                .await
        }
    }
}
/// Handler trait and server for the `fixtures.kitchen.Pantry` service.
pub mod pantry_server {
    #![allow(
        unused_variables,
        dead_code,
        missing_docs,
        deprecated,
        clippy::all,
        clippy::pedantic,
        clippy::nursery
    )]
    /// The full protobuf name of the service.
    pub const SERVICE_NAME: &str = "fixtures.kitchen.Pantry";
    /// The handler of `fixtures.kitchen.Pantry`: implement it, then serve it with [`PantryServer`].
    ///
    /// Stock keeping.
    pub trait Pantry: ::core::marker::Send + ::core::marker::Sync + 'static {
        /// What an item costs.
        fn price(
            &self,
            ctx: ::micro::codegen::Context,
            request: super::Item,
        ) -> impl ::micro::codegen::Future<
            Output = ::micro::codegen::Result<super::super::common::Money>,
        > + ::core::marker::Send;
    }
    /// Serves a [`Pantry`] implementation: pass it to `Service::builder(..).handler(..)`.
    pub struct PantryServer<H> {
        handler: ::std::sync::Arc<H>,
    }
    impl<H: Pantry> PantryServer<H> {
        /// Serve `handler`.
        pub fn new(handler: H) -> Self {
            Self::from_arc(::std::sync::Arc::new(handler))
        }
        /// Serve a shared `handler`.
        pub fn from_arc(handler: ::std::sync::Arc<H>) -> Self {
            Self { handler }
        }
    }
    impl<H> ::core::clone::Clone for PantryServer<H> {
        fn clone(&self) -> Self {
            Self {
                handler: self.handler.clone(),
            }
        }
    }
    impl<H> ::core::fmt::Debug for PantryServer<H> {
        fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
            f.write_str(::core::stringify!(PantryServer))
        }
    }
    impl<H: Pantry> ::micro::codegen::Handler for PantryServer<H> {
        fn into_router(self) -> ::micro::codegen::Router {
            let router = ::micro::codegen::Router::new();
            let router = {
                let handler = self.handler.clone();
                let route = ::micro::codegen::Route::unary(
                        "Pantry.Price",
                        move |ctx: ::micro::codegen::Context, request: super::Item| {
                            let handler = handler.clone();
                            async move { handler.price(ctx, request).await }
                        },
                    )
                    .package("fixtures.kitchen");
                router
                    .route(
                        ::micro::codegen::describe(
                            route,
                            &super::DESCRIPTORS,
                            "fixtures.kitchen.Item",
                            "fixtures.common.Money",
                        ),
                    )
            };
            router
        }
    }
}
