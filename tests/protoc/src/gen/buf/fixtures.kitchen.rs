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
/// One number.
#[allow(missing_docs)]
#[derive(Clone, Copy, PartialEq, Eq, Hash, ::micro::codegen::prost::Message)]
#[prost(prost_path = "::micro::codegen::prost")]
pub struct Num {
    #[prost(int64, tag = "1")]
    pub value: i64,
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
                handler: ::core::clone::Clone::clone(&self.handler),
            }
        }
    }
    impl<H> ::core::fmt::Debug for KitchenServer<H> {
        fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
            f.write_str(::core::stringify!(KitchenServer))
        }
    }
    #[allow(deprecated)]
    impl<H: Kitchen> ::micro::codegen::IntoRouter for KitchenServer<H> {
        fn into_router(self) -> ::micro::codegen::Router {
            let router = ::micro::codegen::Router::new();
            let router = {
                let handler = ::core::clone::Clone::clone(&self.handler);
                let route = ::micro::codegen::Route::unary_with(
                        "Kitchen.Echo",
                        ::micro::codegen::Codec::<super::Everything>::message(),
                        ::micro::codegen::Codec::<super::Everything>::message(),
                        move |
                            ctx: ::micro::codegen::Context,
                            request: super::Everything|
                        {
                            let handler = ::core::clone::Clone::clone(&handler);
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
                    )
                    .metadata(
                        "description",
                        "One request, one response; also bound to HTTP.",
                    );
                router
                    .route(
                        route
                            .describe(
                                &super::DESCRIPTORS,
                                "fixtures.kitchen.Everything",
                                "fixtures.kitchen.Everything",
                            ),
                    )
            };
            let router = {
                let handler = ::core::clone::Clone::clone(&self.handler);
                let route = ::micro::codegen::Route::server_stream_with(
                        "Kitchen.Count",
                        ::micro::codegen::Codec::<super::Num>::message(),
                        ::micro::codegen::Codec::<super::Num>::message(),
                        move |
                            ctx: ::micro::codegen::Context,
                            request: super::Num,
                            responses: ::micro::codegen::StreamSender<super::Num>|
                        {
                            let handler = ::core::clone::Clone::clone(&handler);
                            async move { handler.count(ctx, request, responses).await }
                        },
                    )
                    .package("fixtures.kitchen")
                    .idempotent()
                    .metadata("description", "One request, a stream of responses.");
                router
                    .route(
                        route
                            .describe(
                                &super::DESCRIPTORS,
                                "fixtures.kitchen.Num",
                                "fixtures.kitchen.Num",
                            ),
                    )
            };
            let router = {
                let handler = ::core::clone::Clone::clone(&self.handler);
                let route = ::micro::codegen::Route::client_stream_with(
                        "Kitchen.Sum",
                        ::micro::codegen::Codec::<super::Num>::message(),
                        ::micro::codegen::Codec::<super::Num>::message(),
                        move |
                            ctx: ::micro::codegen::Context,
                            requests: ::micro::codegen::StreamReceiver<super::Num>|
                        {
                            let handler = ::core::clone::Clone::clone(&handler);
                            async move { handler.sum(ctx, requests).await }
                        },
                    )
                    .package("fixtures.kitchen")
                    .metadata("description", "A stream of requests, one response.");
                router
                    .route(
                        route
                            .describe(
                                &super::DESCRIPTORS,
                                "fixtures.kitchen.Num",
                                "fixtures.kitchen.Num",
                            ),
                    )
            };
            let router = {
                let handler = ::core::clone::Clone::clone(&self.handler);
                let route = ::micro::codegen::Route::bidi_stream_with(
                        "Kitchen.Chat",
                        ::micro::codegen::Codec::<super::Num>::message(),
                        ::micro::codegen::Codec::<super::Num>::message(),
                        move |
                            ctx: ::micro::codegen::Context,
                            requests: ::micro::codegen::StreamReceiver<super::Num>,
                            responses: ::micro::codegen::StreamSender<super::Num>|
                        {
                            let handler = ::core::clone::Clone::clone(&handler);
                            async move { handler.chat(ctx, requests, responses).await }
                        },
                    )
                    .package("fixtures.kitchen")
                    .metadata("description", "Streams both ways.");
                router
                    .route(
                        route
                            .describe(
                                &super::DESCRIPTORS,
                                "fixtures.kitchen.Num",
                                "fixtures.kitchen.Num",
                            ),
                    )
            };
            let router = {
                let handler = ::core::clone::Clone::clone(&self.handler);
                let route = ::micro::codegen::Route::unary_with(
                        "Kitchen.Now",
                        ::micro::codegen::Codec::<()>::message(),
                        ::micro::codegen::Codec::<
                            ::micro::codegen::prost_types::Timestamp,
                        >::message(),
                        move |ctx: ::micro::codegen::Context, request: ()| {
                            let handler = ::core::clone::Clone::clone(&handler);
                            async move { handler.now(ctx, request).await }
                        },
                    )
                    .package("fixtures.kitchen")
                    .metadata(
                        "description",
                        "Well-known types as request and response.",
                    );
                router
                    .route(
                        route
                            .describe(
                                &super::DESCRIPTORS,
                                "google.protobuf.Empty",
                                "google.protobuf.Timestamp",
                            ),
                    )
            };
            let router = {
                let handler = ::core::clone::Clone::clone(&self.handler);
                let route = ::micro::codegen::Route::unary_with(
                        "Kitchen.Grow",
                        ::micro::codegen::Codec::<super::Tree>::message(),
                        ::micro::codegen::Codec::<super::Tree>::message(),
                        move |ctx: ::micro::codegen::Context, request: super::Tree| {
                            let handler = ::core::clone::Clone::clone(&handler);
                            async move { handler.grow(ctx, request).await }
                        },
                    )
                    .package("fixtures.kitchen")
                    .metadata("description", "A recursive message.");
                router
                    .route(
                        route
                            .describe(
                                &super::DESCRIPTORS,
                                "fixtures.kitchen.Tree",
                                "fixtures.kitchen.Tree",
                            ),
                    )
            };
            let router = {
                let handler = ::core::clone::Clone::clone(&self.handler);
                let route = ::micro::codegen::Route::unary_with(
                        "Kitchen.Old",
                        ::micro::codegen::Codec::<super::Num>::message(),
                        ::micro::codegen::Codec::<super::Num>::message(),
                        move |ctx: ::micro::codegen::Context, request: super::Num| {
                            let handler = ::core::clone::Clone::clone(&handler);
                            async move { handler.old(ctx, request).await }
                        },
                    )
                    .package("fixtures.kitchen")
                    .metadata("description", "Kept for old callers.")
                    .metadata("deprecated", "true");
                router
                    .route(
                        route
                            .describe(
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
    #[derive(::core::clone::Clone, ::core::fmt::Debug)]
    pub struct KitchenClient {
        client: ::micro::codegen::Client,
        service: ::std::string::String,
        options: ::micro::codegen::CallOptions,
    }
    #[allow(deprecated)]
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
        /// This client's options with `options` on top, and the method's package and
        /// timeout where neither sets them.
        fn call_options(
            &self,
            options: &::micro::codegen::CallOptions,
            timeout_ms: ::core::option::Option<u64>,
        ) -> ::micro::codegen::CallOptions {
            self.options
                .merged(options)
                .for_method(::core::option::Option::Some("fixtures.kitchen"), timeout_ms)
        }
        /// One request, one response; also bound to HTTP.
        pub async fn echo(
            &self,
            request: super::Everything,
        ) -> ::micro::codegen::Result<super::Everything> {
            self.echo_with(
                    &::micro::codegen::Context::current(),
                    request,
                    &::micro::codegen::CallOptions::new(),
                )
                .await
        }
        /// [`Self::echo`] with a context (deadline, metadata) and call options laid over the client's.
        pub async fn echo_with(
            &self,
            ctx: &::micro::codegen::Context,
            request: super::Everything,
            options: &::micro::codegen::CallOptions,
        ) -> ::micro::codegen::Result<super::Everything> {
            let options = self.call_options(options, ::core::option::Option::None);
            self.client
                .invoke_codec(
                    ctx,
                    &self.service,
                    "Kitchen.Echo",
                    &request,
                    &options,
                    ::micro::codegen::Codec::<super::Everything>::message(),
                    ::micro::codegen::Codec::<super::Everything>::message(),
                )
                .await
                .map(|response| response.message)
        }
        /// One request, a stream of responses.
        ///
        /// Returns the stream of responses.
        pub async fn count(
            &self,
            request: super::Num,
        ) -> ::micro::codegen::Result<::micro::codegen::StreamReceiver<super::Num>> {
            self.count_with(
                    &::micro::codegen::Context::current(),
                    request,
                    &::micro::codegen::CallOptions::new(),
                )
                .await
        }
        /// [`Self::count`] with a context (deadline, metadata) and call options laid over the client's.
        pub async fn count_with(
            &self,
            ctx: &::micro::codegen::Context,
            request: super::Num,
            options: &::micro::codegen::CallOptions,
        ) -> ::micro::codegen::Result<::micro::codegen::StreamReceiver<super::Num>> {
            let options = self.call_options(options, ::core::option::Option::None);
            self.client
                .server_stream_codec(
                    ctx,
                    &self.service,
                    "Kitchen.Count",
                    &request,
                    &options,
                    ::micro::codegen::Codec::<super::Num>::message(),
                    ::micro::codegen::Codec::<super::Num>::message(),
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
            self.sum_with(
                    &::micro::codegen::Context::current(),
                    &::micro::codegen::CallOptions::new(),
                )
                .await
        }
        /// [`Self::sum`] with a context (deadline, metadata) and call options laid over the client's.
        pub async fn sum_with(
            &self,
            ctx: &::micro::codegen::Context,
            options: &::micro::codegen::CallOptions,
        ) -> ::micro::codegen::Result<
            ::micro::codegen::ClientStreaming<super::Num, super::Num>,
        > {
            let options = self.call_options(options, ::core::option::Option::None);
            self.client
                .client_stream_codec(
                    ctx,
                    &self.service,
                    "Kitchen.Sum",
                    &options,
                    ::micro::codegen::Codec::<super::Num>::message(),
                    ::micro::codegen::Codec::<super::Num>::message(),
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
            self.chat_with(
                    &::micro::codegen::Context::current(),
                    &::micro::codegen::CallOptions::new(),
                )
                .await
        }
        /// [`Self::chat`] with a context (deadline, metadata) and call options laid over the client's.
        pub async fn chat_with(
            &self,
            ctx: &::micro::codegen::Context,
            options: &::micro::codegen::CallOptions,
        ) -> ::micro::codegen::Result<
            ::micro::codegen::Streaming<super::Num, super::Num>,
        > {
            let options = self.call_options(options, ::core::option::Option::None);
            self.client
                .stream_codec(
                    ctx,
                    &self.service,
                    "Kitchen.Chat",
                    &options,
                    ::micro::codegen::Codec::<super::Num>::message(),
                    ::micro::codegen::Codec::<super::Num>::message(),
                )
                .await
        }
        /// Well-known types as request and response.
        pub async fn now(
            &self,
            request: (),
        ) -> ::micro::codegen::Result<::micro::codegen::prost_types::Timestamp> {
            self.now_with(
                    &::micro::codegen::Context::current(),
                    request,
                    &::micro::codegen::CallOptions::new(),
                )
                .await
        }
        /// [`Self::now`] with a context (deadline, metadata) and call options laid over the client's.
        pub async fn now_with(
            &self,
            ctx: &::micro::codegen::Context,
            request: (),
            options: &::micro::codegen::CallOptions,
        ) -> ::micro::codegen::Result<::micro::codegen::prost_types::Timestamp> {
            let options = self.call_options(options, ::core::option::Option::None);
            self.client
                .invoke_codec(
                    ctx,
                    &self.service,
                    "Kitchen.Now",
                    &request,
                    &options,
                    ::micro::codegen::Codec::<()>::message(),
                    ::micro::codegen::Codec::<
                        ::micro::codegen::prost_types::Timestamp,
                    >::message(),
                )
                .await
                .map(|response| response.message)
        }
        /// A recursive message.
        pub async fn grow(
            &self,
            request: super::Tree,
        ) -> ::micro::codegen::Result<super::Tree> {
            self.grow_with(
                    &::micro::codegen::Context::current(),
                    request,
                    &::micro::codegen::CallOptions::new(),
                )
                .await
        }
        /// [`Self::grow`] with a context (deadline, metadata) and call options laid over the client's.
        pub async fn grow_with(
            &self,
            ctx: &::micro::codegen::Context,
            request: super::Tree,
            options: &::micro::codegen::CallOptions,
        ) -> ::micro::codegen::Result<super::Tree> {
            let options = self.call_options(options, ::core::option::Option::None);
            self.client
                .invoke_codec(
                    ctx,
                    &self.service,
                    "Kitchen.Grow",
                    &request,
                    &options,
                    ::micro::codegen::Codec::<super::Tree>::message(),
                    ::micro::codegen::Codec::<super::Tree>::message(),
                )
                .await
                .map(|response| response.message)
        }
        /// Kept for old callers.
        #[deprecated]
        pub async fn old(
            &self,
            request: super::Num,
        ) -> ::micro::codegen::Result<super::Num> {
            self.old_with(
                    &::micro::codegen::Context::current(),
                    request,
                    &::micro::codegen::CallOptions::new(),
                )
                .await
        }
        /// [`Self::old`] with a context (deadline, metadata) and call options laid over the client's.
        #[deprecated]
        pub async fn old_with(
            &self,
            ctx: &::micro::codegen::Context,
            request: super::Num,
            options: &::micro::codegen::CallOptions,
        ) -> ::micro::codegen::Result<super::Num> {
            let options = self.call_options(options, ::core::option::Option::None);
            self.client
                .invoke_codec(
                    ctx,
                    &self.service,
                    "Kitchen.Old",
                    &request,
                    &options,
                    ::micro::codegen::Codec::<super::Num>::message(),
                    ::micro::codegen::Codec::<super::Num>::message(),
                )
                .await
                .map(|response| response.message)
        }
    }
    /// The client is a [`Kitchen`](super::kitchen_server::Kitchen) too: code written against the trait runs with a local implementation in tests and with the remote service here.
    impl super::kitchen_server::Kitchen for KitchenClient {
        async fn echo(
            &self,
            ctx: ::micro::codegen::Context,
            request: super::Everything,
        ) -> ::micro::codegen::Result<super::Everything> {
            self.echo_with(&ctx, request, &::micro::codegen::CallOptions::new()).await
        }
        async fn count(
            &self,
            ctx: ::micro::codegen::Context,
            request: super::Num,
            responses: ::micro::codegen::StreamSender<super::Num>,
        ) -> ::micro::codegen::Result<()> {
            let stream = self
                .count_with(&ctx, request, &::micro::codegen::CallOptions::new())
                .await?;
            ::micro::codegen::forward_responses(stream, responses).await
        }
        async fn sum(
            &self,
            ctx: ::micro::codegen::Context,
            requests: ::micro::codegen::StreamReceiver<super::Num>,
        ) -> ::micro::codegen::Result<super::Num> {
            let call = self.sum_with(&ctx, &::micro::codegen::CallOptions::new()).await?;
            ::micro::codegen::forward_requests(requests, call).await
        }
        async fn chat(
            &self,
            ctx: ::micro::codegen::Context,
            requests: ::micro::codegen::StreamReceiver<super::Num>,
            responses: ::micro::codegen::StreamSender<super::Num>,
        ) -> ::micro::codegen::Result<()> {
            let stream = self
                .chat_with(&ctx, &::micro::codegen::CallOptions::new())
                .await?;
            ::micro::codegen::forward_both(requests, responses, stream).await
        }
        async fn now(
            &self,
            ctx: ::micro::codegen::Context,
            request: (),
        ) -> ::micro::codegen::Result<::micro::codegen::prost_types::Timestamp> {
            self.now_with(&ctx, request, &::micro::codegen::CallOptions::new()).await
        }
        async fn grow(
            &self,
            ctx: ::micro::codegen::Context,
            request: super::Tree,
        ) -> ::micro::codegen::Result<super::Tree> {
            self.grow_with(&ctx, request, &::micro::codegen::CallOptions::new()).await
        }
        async fn old(
            &self,
            ctx: ::micro::codegen::Context,
            request: super::Num,
        ) -> ::micro::codegen::Result<super::Num> {
            self.old_with(&ctx, request, &::micro::codegen::CallOptions::new()).await
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
                handler: ::core::clone::Clone::clone(&self.handler),
            }
        }
    }
    impl<H> ::core::fmt::Debug for PantryServer<H> {
        fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
            f.write_str(::core::stringify!(PantryServer))
        }
    }
    #[allow(deprecated)]
    impl<H: Pantry> ::micro::codegen::IntoRouter for PantryServer<H> {
        fn into_router(self) -> ::micro::codegen::Router {
            let router = ::micro::codegen::Router::new();
            let router = {
                let handler = ::core::clone::Clone::clone(&self.handler);
                let route = ::micro::codegen::Route::unary_with(
                        "Pantry.Price",
                        ::micro::codegen::Codec::<super::Item>::message(),
                        ::micro::codegen::Codec::<
                            super::super::common::Money,
                        >::message(),
                        move |ctx: ::micro::codegen::Context, request: super::Item| {
                            let handler = ::core::clone::Clone::clone(&handler);
                            async move { handler.price(ctx, request).await }
                        },
                    )
                    .package("fixtures.kitchen")
                    .metadata("description", "What an item costs.");
                router
                    .route(
                        route
                            .describe(
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
    #[derive(::core::clone::Clone, ::core::fmt::Debug)]
    pub struct PantryClient {
        client: ::micro::codegen::Client,
        service: ::std::string::String,
        options: ::micro::codegen::CallOptions,
    }
    #[allow(deprecated)]
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
        /// This client's options with `options` on top, and the method's package and
        /// timeout where neither sets them.
        fn call_options(
            &self,
            options: &::micro::codegen::CallOptions,
            timeout_ms: ::core::option::Option<u64>,
        ) -> ::micro::codegen::CallOptions {
            self.options
                .merged(options)
                .for_method(::core::option::Option::Some("fixtures.kitchen"), timeout_ms)
        }
        /// What an item costs.
        pub async fn price(
            &self,
            request: super::Item,
        ) -> ::micro::codegen::Result<super::super::common::Money> {
            self.price_with(
                    &::micro::codegen::Context::current(),
                    request,
                    &::micro::codegen::CallOptions::new(),
                )
                .await
        }
        /// [`Self::price`] with a context (deadline, metadata) and call options laid over the client's.
        pub async fn price_with(
            &self,
            ctx: &::micro::codegen::Context,
            request: super::Item,
            options: &::micro::codegen::CallOptions,
        ) -> ::micro::codegen::Result<super::super::common::Money> {
            let options = self.call_options(options, ::core::option::Option::None);
            self.client
                .invoke_codec(
                    ctx,
                    &self.service,
                    "Pantry.Price",
                    &request,
                    &options,
                    ::micro::codegen::Codec::<super::Item>::message(),
                    ::micro::codegen::Codec::<super::super::common::Money>::message(),
                )
                .await
                .map(|response| response.message)
        }
    }
    /// The client is a [`Pantry`](super::pantry_server::Pantry) too: code written against the trait runs with a local implementation in tests and with the remote service here.
    impl super::pantry_server::Pantry for PantryClient {
        async fn price(
            &self,
            ctx: ::micro::codegen::Context,
            request: super::Item,
        ) -> ::micro::codegen::Result<super::super::common::Money> {
            self.price_with(&ctx, request, &::micro::codegen::CallOptions::new()).await
        }
    }
}
impl ::micro::codegen::Validate for Everything {
    #[allow(unused_variables)]
    fn validate_into(&self, v: &mut ::micro::codegen::Violations) {}
}
impl ::micro::codegen::Validate for everything::Nested {
    #[allow(unused_variables)]
    fn validate_into(&self, v: &mut ::micro::codegen::Violations) {}
}
impl ::micro::codegen::Validate for Tree {
    #[allow(unused_variables)]
    fn validate_into(&self, v: &mut ::micro::codegen::Violations) {}
}
impl ::micro::codegen::Validate for Num {
    #[allow(unused_variables)]
    fn validate_into(&self, v: &mut ::micro::codegen::Violations) {}
}
impl ::micro::codegen::Validate for Item {
    #[allow(unused_variables)]
    fn validate_into(&self, v: &mut ::micro::codegen::Violations) {}
}
/// The descriptors of package `fixtures.kitchen` and its imports (base64): JSON mapping,
/// registry schemas, reflection.
pub static DESCRIPTORS: ::micro::codegen::Descriptors = ::micro::codegen::Descriptors::base64(
    "CscBChtmaXh0dXJlcy9jb21tb24vdHlwZXMucHJvdG8SD2ZpeHR1cmVzLmNvbW1vbiJPCgVNb25leRIaCghjdXJyZW5jeRgBIAEoCVIIY3VycmVuY3kSFAoFdW5pdHMYAiABKANSBXVuaXRzEhQKBW5hbm9zGAMgASgFUgVuYW5vcyo+CgZSZWdpb24SFgoSUkVHSU9OX1VOU1BFQ0lGSUVEEAASDQoJUkVHSU9OX0VVEAESDQoJUkVHSU9OX1VTEAJiBnByb3RvMwrFAwoVZ29vZ2xlL2FwaS9odHRwLnByb3RvEgpnb29nbGUuYXBpItoCCghIdHRwUnVsZRIaCghzZWxlY3RvchgBIAEoCVIIc2VsZWN0b3ISEgoDZ2V0GAIgASgJSABSA2dldBISCgNwdXQYAyABKAlIAFIDcHV0EhQKBHBvc3QYBCABKAlIAFIEcG9zdBIYCgZkZWxldGUYBSABKAlIAFIGZGVsZXRlEhYKBXBhdGNoGAYgASgJSABSBXBhdGNoEjcKBmN1c3RvbRgIIAEoCzIdLmdvb2dsZS5hcGkuQ3VzdG9tSHR0cFBhdHRlcm5IAFIGY3VzdG9tEhIKBGJvZHkYByABKAlSBGJvZHkSIwoNcmVzcG9uc2VfYm9keRgMIAEoCVIMcmVzcG9uc2VCb2R5EkUKE2FkZGl0aW9uYWxfYmluZGluZ3MYCyADKAsyFC5nb29nbGUuYXBpLkh0dHBSdWxlUhJhZGRpdGlvbmFsQmluZGluZ3NCCQoHcGF0dGVybiI7ChFDdXN0b21IdHRwUGF0dGVybhISCgRraW5kGAEgASgJUgRraW5kEhIKBHBhdGgYAiABKAlSBHBhdGhiBnByb3RvMwq4AQocZ29vZ2xlL2FwaS9hbm5vdGF0aW9ucy5wcm90bxIKZ29vZ2xlLmFwaRoVZ29vZ2xlL2FwaS9odHRwLnByb3RvGiBnb29nbGUvcHJvdG9idWYvZGVzY3JpcHRvci5wcm90bzpLCgRodHRwEh4uZ29vZ2xlLnByb3RvYnVmLk1ldGhvZE9wdGlvbnMYsMq8IiABKAsyFC5nb29nbGUuYXBpLkh0dHBSdWxlUgRodHRwYgZwcm90bzMKsxcKFmZpeHR1cmVzL2tpdGNoZW4ucHJvdG8SEGZpeHR1cmVzLmtpdGNoZW4aG2ZpeHR1cmVzL2NvbW1vbi90eXBlcy5wcm90bxocZ29vZ2xlL2FwaS9hbm5vdGF0aW9ucy5wcm90bxoZZ29vZ2xlL3Byb3RvYnVmL2FueS5wcm90bxoeZ29vZ2xlL3Byb3RvYnVmL2R1cmF0aW9uLnByb3RvGhtnb29nbGUvcHJvdG9idWYvZW1wdHkucHJvdG8aIGdvb2dsZS9wcm90b2J1Zi9maWVsZF9tYXNrLnByb3RvGhxnb29nbGUvcHJvdG9idWYvc3RydWN0LnByb3RvGh9nb29nbGUvcHJvdG9idWYvdGltZXN0YW1wLnByb3RvGh5nb29nbGUvcHJvdG9idWYvd3JhcHBlcnMucHJvdG8iog8KCkV2ZXJ5dGhpbmcSGQoIZl9kb3VibGUYASABKAFSB2ZEb3VibGUSFwoHZl9mbG9hdBgCIAEoAlIGZkZsb2F0EhcKB2ZfaW50MzIYAyABKAVSBmZJbnQzMhIXCgdmX2ludDY0GAQgASgDUgZmSW50NjQSGQoIZl91aW50MzIYBSABKA1SB2ZVaW50MzISGQoIZl91aW50NjQYBiABKARSB2ZVaW50NjQSGQoIZl9zaW50MzIYByABKBFSB2ZTaW50MzISGQoIZl9zaW50NjQYCCABKBJSB2ZTaW50NjQSGwoJZl9maXhlZDMyGAkgASgHUghmRml4ZWQzMhIbCglmX2ZpeGVkNjQYCiABKAZSCGZGaXhlZDY0Eh0KCmZfc2ZpeGVkMzIYCyABKA9SCWZTZml4ZWQzMhIdCgpmX3NmaXhlZDY0GAwgASgQUglmU2ZpeGVkNjQSFQoGZl9ib29sGA0gASgIUgVmQm9vbBIZCghmX3N0cmluZxgOIAEoCVIHZlN0cmluZxIXCgdmX2J5dGVzGA8gASgMUgZmQnl0ZXMSLQoFY29sb3IYECABKA4yFy5maXh0dXJlcy5raXRjaGVuLkNvbG9yUgVjb2xvchI7CgZuZXN0ZWQYESABKAsyIy5maXh0dXJlcy5raXRjaGVuLkV2ZXJ5dGhpbmcuTmVzdGVkUgZuZXN0ZWQSEgoEdGFncxgSIAMoCVIEdGFncxIYCgdudW1iZXJzGBMgAygDUgdudW1iZXJzEjkKBWl0ZW1zGBQgAygLMiMuZml4dHVyZXMua2l0Y2hlbi5FdmVyeXRoaW5nLk5lc3RlZFIFaXRlbXMSQAoGY291bnRzGBUgAygLMiguZml4dHVyZXMua2l0Y2hlbi5FdmVyeXRoaW5nLkNvdW50c0VudHJ5UgZjb3VudHMSOwoFYnlfaWQYFiADKAsyJi5maXh0dXJlcy5raXRjaGVuLkV2ZXJ5dGhpbmcuQnlJZEVudHJ5UgRieUlkEiEKC2Nob2ljZV90ZXh0GBcgASgJSABSCmNob2ljZVRleHQSJQoNY2hvaWNlX251bWJlchgYIAEoBUgAUgxjaG9pY2VOdW1iZXISSgoNY2hvaWNlX25lc3RlZBgZIAEoCzIjLmZpeHR1cmVzLmtpdGNoZW4uRXZlcnl0aGluZy5OZXN0ZWRIAFIMY2hvaWNlTmVzdGVkEhkKBW1heWJlGBogASgFSAFSBW1heWJliAEBEiIKCm1heWJlX3RleHQYGyABKAlIAlIJbWF5YmVUZXh0iAEBEioKAmF0GBwgASgLMhouZ29vZ2xlLnByb3RvYnVmLlRpbWVzdGFtcFICYXQSLQoEdG9vaxgdIAEoCzIZLmdvb2dsZS5wcm90b2J1Zi5EdXJhdGlvblIEdG9vaxItCgVleHRyYRgeIAEoCzIXLmdvb2dsZS5wcm90b2J1Zi5TdHJ1Y3RSBWV4dHJhEjIKCGFueXRoaW5nGB8gASgLMhYuZ29vZ2xlLnByb3RvYnVmLlZhbHVlUghhbnl0aGluZxIsCgZwYWNrZWQYICABKAsyFC5nb29nbGUucHJvdG9idWYuQW55UgZwYWNrZWQSPAoLd3JhcHBlZF9pbnQYISABKAsyGy5nb29nbGUucHJvdG9idWYuSW50NjRWYWx1ZVIKd3JhcHBlZEludBI/Cgx3cmFwcGVkX3RleHQYIiABKAsyHC5nb29nbGUucHJvdG9idWYuU3RyaW5nVmFsdWVSC3dyYXBwZWRUZXh0Ei4KBG1hc2sYIyABKAsyGi5nb29nbGUucHJvdG9idWYuRmllbGRNYXNrUgRtYXNrEjAKB25vdGhpbmcYJCABKAsyFi5nb29nbGUucHJvdG9idWYuRW1wdHlSB25vdGhpbmcSLAoFcHJpY2UYJSABKAsyFi5maXh0dXJlcy5jb21tb24uTW9uZXlSBXByaWNlEi8KBnJlZ2lvbhgmIAEoDjIXLmZpeHR1cmVzLmNvbW1vbi5SZWdpb25SBnJlZ2lvbhIvCgZjb2xvcnMYJyADKA4yFy5maXh0dXJlcy5raXRjaGVuLkNvbG9yUgZjb2xvcnMSLQoQZGVwcmVjYXRlZF9maWVsZBgoIAEoCUICGAFSD2RlcHJlY2F0ZWRGaWVsZBo5CgtDb3VudHNFbnRyeRIQCgNrZXkYASABKAlSA2tleRIUCgV2YWx1ZRgCIAEoA1IFdmFsdWU6AjgBGlwKCUJ5SWRFbnRyeRIQCgNrZXkYASABKAVSA2tleRI5CgV2YWx1ZRgCIAEoCzIjLmZpeHR1cmVzLmtpdGNoZW4uRXZlcnl0aGluZy5OZXN0ZWRSBXZhbHVlOgI4ARqNAQoGTmVzdGVkEhIKBG5hbWUYASABKAlSBG5hbWUSPwoFbGV2ZWwYAiABKA4yKS5maXh0dXJlcy5raXRjaGVuLkV2ZXJ5dGhpbmcuTmVzdGVkLkxldmVsUgVsZXZlbCIuCgVMZXZlbBIVChFMRVZFTF9VTlNQRUNJRklFRBAAEg4KCkxFVkVMX0hJR0gQAUIICgZjaG9pY2VCCAoGX21heWJlQg0KC19tYXliZV90ZXh0IoABCgRUcmVlEhQKBWxhYmVsGAEgASgJUgVsYWJlbBIyCghjaGlsZHJlbhgCIAMoCzIWLmZpeHR1cmVzLmtpdGNoZW4uVHJlZVIIY2hpbGRyZW4SLgoGcGFyZW50GAMgASgLMhYuZml4dHVyZXMua2l0Y2hlbi5UcmVlUgZwYXJlbnQiGwoDTnVtEhQKBXZhbHVlGAEgASgDUgV2YWx1ZSo+CgVDb2xvchIVChFDT0xPUl9VTlNQRUNJRklFRBAAEg0KCUNPTE9SX1JFRBABEg8KC0NPTE9SX0dSRUVOEAIy5QMKB0tpdGNoZW4SfgoERWNobxIcLmZpeHR1cmVzLmtpdGNoZW4uRXZlcnl0aGluZxocLmZpeHR1cmVzLmtpdGNoZW4uRXZlcnl0aGluZyI6gtPkkwI0IhAvdjEva2l0Y2hlbi9lY2hvOgEqWh0SGy92MS9raXRjaGVuL2VjaG8ve2Zfc3RyaW5nfRI8CgVDb3VudBIVLmZpeHR1cmVzLmtpdGNoZW4uTnVtGhUuZml4dHVyZXMua2l0Y2hlbi5OdW0iA5ACATABEjUKA1N1bRIVLmZpeHR1cmVzLmtpdGNoZW4uTnVtGhUuZml4dHVyZXMua2l0Y2hlbi5OdW0oARI4CgRDaGF0EhUuZml4dHVyZXMua2l0Y2hlbi5OdW0aFS5maXh0dXJlcy5raXRjaGVuLk51bSgBMAESOQoDTm93EhYuZ29vZ2xlLnByb3RvYnVmLkVtcHR5GhouZ29vZ2xlLnByb3RvYnVmLlRpbWVzdGFtcBI2CgRHcm93EhYuZml4dHVyZXMua2l0Y2hlbi5UcmVlGhYuZml4dHVyZXMua2l0Y2hlbi5UcmVlEjgKA09sZBIVLmZpeHR1cmVzLmtpdGNoZW4uTnVtGhUuZml4dHVyZXMua2l0Y2hlbi5OdW0iA4gCAWIGcHJvdG8zCq0BChVmaXh0dXJlcy9wYW50cnkucHJvdG8SEGZpeHR1cmVzLmtpdGNoZW4aG2ZpeHR1cmVzL2NvbW1vbi90eXBlcy5wcm90byIaCgRJdGVtEhIKBG5hbWUYASABKAlSBG5hbWUyQQoGUGFudHJ5EjcKBVByaWNlEhYuZml4dHVyZXMua2l0Y2hlbi5JdGVtGhYuZml4dHVyZXMuY29tbW9uLk1vbmV5YgZwcm90bzM=",
);
// Protobuf and proto3 JSON for every message of this package.
::micro::codegen::impl_messages!(
    DESCRIPTORS;
    Everything => "fixtures.kitchen.Everything",
    everything::Nested => "fixtures.kitchen.Everything.Nested",
    Tree => "fixtures.kitchen.Tree",
    Num => "fixtures.kitchen.Num",
    Item => "fixtures.kitchen.Item",
);
