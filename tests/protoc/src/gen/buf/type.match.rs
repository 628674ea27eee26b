#[allow(missing_docs)]
#[derive(Clone, PartialEq, Eq, Hash, ::micro::codegen::prost::Message)]
#[prost(prost_path = "::micro::codegen::prost")]
pub struct Self_ {
    #[prost(string, tag = "1")]
    pub r#type: ::micro::codegen::prost::alloc::string::String,
    #[prost(int32, tag = "2")]
    pub r#fn: i32,
    #[prost(bool, tag = "3")]
    pub r#struct: bool,
    #[prost(enumeration = "Enum", tag = "4")]
    pub r#enum: i32,
    #[prost(string, repeated, tag = "5")]
    pub r#async: ::micro::codegen::prost::alloc::vec::Vec<
        ::micro::codegen::prost::alloc::string::String,
    >,
    #[prost(message, optional, tag = "6")]
    pub r#impl: ::core::option::Option<self_::Impl>,
}
/// Nested message and enum types in `Self`.
pub mod self_ {
    #[allow(missing_docs)]
    #[derive(Clone, PartialEq, Eq, Hash, ::micro::codegen::prost::Message)]
    #[prost(prost_path = "::micro::codegen::prost")]
    pub struct Impl {
        #[prost(string, tag = "1")]
        pub r#ref: ::micro::codegen::prost::alloc::string::String,
    }
}
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
pub enum Enum {
    Unspecified = 0,
    Self_ = 1,
}
impl Enum {
    /// String value of the enum field names used in the ProtoBuf definition.
    ///
    /// The values are not transformed in any way and thus are considered stable
    /// (if the ProtoBuf definition does not change) and safe for programmatic use.
    pub fn as_str_name(&self) -> &'static str {
        match self {
            Self::Unspecified => "ENUM_UNSPECIFIED",
            Self::Self_ => "ENUM_SELF",
        }
    }
    /// Creates an enum from field names used in the ProtoBuf definition.
    pub fn from_str_name(value: &str) -> ::core::option::Option<Self> {
        match value {
            "ENUM_UNSPECIFIED" => Some(Self::Unspecified),
            "ENUM_SELF" => Some(Self::Self_),
            _ => None,
        }
    }
}
/// Handler trait and server for the `type.match.Loop` service.
pub mod loop_server {
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
    pub const SERVICE_NAME: &str = "type.match.Loop";
    /// The handler of `type.match.Loop`: implement it, then serve it with [`LoopServer`].
    ///
    pub trait Loop: ::core::marker::Send + ::core::marker::Sync + 'static {
        fn r#type(
            &self,
            ctx: ::micro::codegen::Context,
            request: super::Self_,
        ) -> impl ::micro::codegen::Future<
            Output = ::micro::codegen::Result<super::Self_>,
        > + ::core::marker::Send;
        fn r#match(
            &self,
            ctx: ::micro::codegen::Context,
            request: super::Self_,
        ) -> impl ::micro::codegen::Future<
            Output = ::micro::codegen::Result<super::Self_>,
        > + ::core::marker::Send;
        fn new(
            &self,
            ctx: ::micro::codegen::Context,
            request: super::Self_,
        ) -> impl ::micro::codegen::Future<
            Output = ::micro::codegen::Result<super::Self_>,
        > + ::core::marker::Send;
        ///
        /// Receive requests from `requests` and send responses on `responses`; returning
        /// ends the stream.
        fn r#return(
            &self,
            ctx: ::micro::codegen::Context,
            requests: ::micro::codegen::StreamReceiver<super::Self_>,
            responses: ::micro::codegen::StreamSender<super::Self_>,
        ) -> impl ::micro::codegen::Future<
            Output = ::micro::codegen::Result<()>,
        > + ::core::marker::Send;
    }
    /// Serves a [`Loop`] implementation: pass it to `Service::builder(..).handler(..)`.
    pub struct LoopServer<H> {
        handler: ::std::sync::Arc<H>,
    }
    impl<H: Loop> LoopServer<H> {
        /// Serve `handler`.
        pub fn new(handler: H) -> Self {
            Self::from_arc(::std::sync::Arc::new(handler))
        }
        /// Serve a shared `handler`.
        pub fn from_arc(handler: ::std::sync::Arc<H>) -> Self {
            Self { handler }
        }
    }
    impl<H> ::core::clone::Clone for LoopServer<H> {
        fn clone(&self) -> Self {
            Self {
                handler: ::core::clone::Clone::clone(&self.handler),
            }
        }
    }
    impl<H> ::core::fmt::Debug for LoopServer<H> {
        fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
            f.write_str(::core::stringify!(LoopServer))
        }
    }
    #[allow(deprecated)]
    impl<H: Loop> ::micro::codegen::IntoRouter for LoopServer<H> {
        fn into_router(self) -> ::micro::codegen::Router {
            let router = ::micro::codegen::Router::new();
            let router = {
                let handler = ::core::clone::Clone::clone(&self.handler);
                let route = ::micro::codegen::Route::unary_with(
                        "Loop.Type",
                        ::micro::codegen::Codec::<super::Self_>::message(),
                        ::micro::codegen::Codec::<super::Self_>::message(),
                        move |ctx: ::micro::codegen::Context, request: super::Self_| {
                            let handler = ::core::clone::Clone::clone(&handler);
                            async move { handler.r#type(ctx, request).await }
                        },
                    )
                    .package("type.match");
                router
                    .route(
                        route
                            .describe(
                                &super::DESCRIPTORS,
                                "type.match.Self",
                                "type.match.Self",
                            ),
                    )
            };
            let router = {
                let handler = ::core::clone::Clone::clone(&self.handler);
                let route = ::micro::codegen::Route::unary_with(
                        "Loop.Match",
                        ::micro::codegen::Codec::<super::Self_>::message(),
                        ::micro::codegen::Codec::<super::Self_>::message(),
                        move |ctx: ::micro::codegen::Context, request: super::Self_| {
                            let handler = ::core::clone::Clone::clone(&handler);
                            async move { handler.r#match(ctx, request).await }
                        },
                    )
                    .package("type.match");
                router
                    .route(
                        route
                            .describe(
                                &super::DESCRIPTORS,
                                "type.match.Self",
                                "type.match.Self",
                            ),
                    )
            };
            let router = {
                let handler = ::core::clone::Clone::clone(&self.handler);
                let route = ::micro::codegen::Route::unary_with(
                        "Loop.New",
                        ::micro::codegen::Codec::<super::Self_>::message(),
                        ::micro::codegen::Codec::<super::Self_>::message(),
                        move |ctx: ::micro::codegen::Context, request: super::Self_| {
                            let handler = ::core::clone::Clone::clone(&handler);
                            async move { handler.new(ctx, request).await }
                        },
                    )
                    .package("type.match");
                router
                    .route(
                        route
                            .describe(
                                &super::DESCRIPTORS,
                                "type.match.Self",
                                "type.match.Self",
                            ),
                    )
            };
            let router = {
                let handler = ::core::clone::Clone::clone(&self.handler);
                let route = ::micro::codegen::Route::bidi_stream_with(
                        "Loop.Return",
                        ::micro::codegen::Codec::<super::Self_>::message(),
                        ::micro::codegen::Codec::<super::Self_>::message(),
                        move |
                            ctx: ::micro::codegen::Context,
                            requests: ::micro::codegen::StreamReceiver<super::Self_>,
                            responses: ::micro::codegen::StreamSender<super::Self_>|
                        {
                            let handler = ::core::clone::Clone::clone(&handler);
                            async move {
                                handler.r#return(ctx, requests, responses).await
                            }
                        },
                    )
                    .package("type.match");
                router
                    .route(
                        route
                            .describe(
                                &super::DESCRIPTORS,
                                "type.match.Self",
                                "type.match.Self",
                            ),
                    )
            };
            router
        }
    }
}
/// Client for the `type.match.Loop` service.
pub mod loop_client {
    #![allow(
        unused_variables,
        dead_code,
        missing_docs,
        deprecated,
        clippy::all,
        clippy::pedantic,
        clippy::nursery
    )]
    /// Calls `type.match.Loop` on the nodes the registry lists for a service name.
    ///
    #[derive(::core::clone::Clone, ::core::fmt::Debug)]
    pub struct LoopClient {
        client: ::micro::codegen::Client,
        service: ::std::string::String,
        options: ::micro::codegen::CallOptions,
    }
    #[allow(deprecated)]
    impl LoopClient {
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
                .for_method(::core::option::Option::Some("type.match"), timeout_ms)
        }
        pub async fn r#type(
            &self,
            request: super::Self_,
        ) -> ::micro::codegen::Result<super::Self_> {
            self.type_with(
                    &::micro::codegen::Context::current(),
                    request,
                    &::micro::codegen::CallOptions::new(),
                )
                .await
        }
        /// `type` with a context (deadline, metadata) and call options laid over the client's.
        pub async fn type_with(
            &self,
            ctx: &::micro::codegen::Context,
            request: super::Self_,
            options: &::micro::codegen::CallOptions,
        ) -> ::micro::codegen::Result<super::Self_> {
            let options = self.call_options(options, ::core::option::Option::None);
            self.client
                .invoke_codec(
                    ctx,
                    &self.service,
                    "Loop.Type",
                    &request,
                    &options,
                    ::micro::codegen::Codec::<super::Self_>::message(),
                    ::micro::codegen::Codec::<super::Self_>::message(),
                )
                .await
                .map(|response| response.message)
        }
        pub async fn r#match(
            &self,
            request: super::Self_,
        ) -> ::micro::codegen::Result<super::Self_> {
            self.match_with(
                    &::micro::codegen::Context::current(),
                    request,
                    &::micro::codegen::CallOptions::new(),
                )
                .await
        }
        /// `match` with a context (deadline, metadata) and call options laid over the client's.
        pub async fn match_with(
            &self,
            ctx: &::micro::codegen::Context,
            request: super::Self_,
            options: &::micro::codegen::CallOptions,
        ) -> ::micro::codegen::Result<super::Self_> {
            let options = self.call_options(options, ::core::option::Option::None);
            self.client
                .invoke_codec(
                    ctx,
                    &self.service,
                    "Loop.Match",
                    &request,
                    &options,
                    ::micro::codegen::Codec::<super::Self_>::message(),
                    ::micro::codegen::Codec::<super::Self_>::message(),
                )
                .await
                .map(|response| response.message)
        }
        pub async fn new_rpc(
            &self,
            request: super::Self_,
        ) -> ::micro::codegen::Result<super::Self_> {
            self.new_rpc_with(
                    &::micro::codegen::Context::current(),
                    request,
                    &::micro::codegen::CallOptions::new(),
                )
                .await
        }
        /// [`Self::new_rpc`] with a context (deadline, metadata) and call options laid over the client's.
        pub async fn new_rpc_with(
            &self,
            ctx: &::micro::codegen::Context,
            request: super::Self_,
            options: &::micro::codegen::CallOptions,
        ) -> ::micro::codegen::Result<super::Self_> {
            let options = self.call_options(options, ::core::option::Option::None);
            self.client
                .invoke_codec(
                    ctx,
                    &self.service,
                    "Loop.New",
                    &request,
                    &options,
                    ::micro::codegen::Codec::<super::Self_>::message(),
                    ::micro::codegen::Codec::<super::Self_>::message(),
                )
                .await
                .map(|response| response.message)
        }
        ///
        /// Send and receive on the returned stream; `close_send` ends the requests.
        pub async fn r#return(
            &self,
        ) -> ::micro::codegen::Result<
            ::micro::codegen::Streaming<super::Self_, super::Self_>,
        > {
            self.return_with(
                    &::micro::codegen::Context::current(),
                    &::micro::codegen::CallOptions::new(),
                )
                .await
        }
        /// `return` with a context (deadline, metadata) and call options laid over the client's.
        pub async fn return_with(
            &self,
            ctx: &::micro::codegen::Context,
            options: &::micro::codegen::CallOptions,
        ) -> ::micro::codegen::Result<
            ::micro::codegen::Streaming<super::Self_, super::Self_>,
        > {
            let options = self.call_options(options, ::core::option::Option::None);
            self.client
                .stream_codec(
                    ctx,
                    &self.service,
                    "Loop.Return",
                    &options,
                    ::micro::codegen::Codec::<super::Self_>::message(),
                    ::micro::codegen::Codec::<super::Self_>::message(),
                )
                .await
        }
    }
    /// The client is a [`Loop`](super::loop_server::Loop) too: code written against the trait runs with a local implementation in tests and with the remote service here.
    impl super::loop_server::Loop for LoopClient {
        async fn r#type(
            &self,
            ctx: ::micro::codegen::Context,
            request: super::Self_,
        ) -> ::micro::codegen::Result<super::Self_> {
            self.type_with(&ctx, request, &::micro::codegen::CallOptions::new()).await
        }
        async fn r#match(
            &self,
            ctx: ::micro::codegen::Context,
            request: super::Self_,
        ) -> ::micro::codegen::Result<super::Self_> {
            self.match_with(&ctx, request, &::micro::codegen::CallOptions::new()).await
        }
        async fn new(
            &self,
            ctx: ::micro::codegen::Context,
            request: super::Self_,
        ) -> ::micro::codegen::Result<super::Self_> {
            self.new_rpc_with(&ctx, request, &::micro::codegen::CallOptions::new()).await
        }
        async fn r#return(
            &self,
            ctx: ::micro::codegen::Context,
            requests: ::micro::codegen::StreamReceiver<super::Self_>,
            responses: ::micro::codegen::StreamSender<super::Self_>,
        ) -> ::micro::codegen::Result<()> {
            let stream = self
                .return_with(&ctx, &::micro::codegen::CallOptions::new())
                .await?;
            ::micro::codegen::forward_both(requests, responses, stream).await
        }
    }
}
impl ::micro::codegen::Validate for Self_ {
    #[allow(unused_variables)]
    fn validate_into(&self, v: &mut ::micro::codegen::Violations) {}
}
impl ::micro::codegen::Validate for self_::Impl {
    #[allow(unused_variables)]
    fn validate_into(&self, v: &mut ::micro::codegen::Violations) {}
}
/// The descriptors of package `type.match` and its imports (base64): JSON mapping,
/// registry schemas, reflection.
pub static DESCRIPTORS: ::micro::codegen::Descriptors = ::micro::codegen::Descriptors::base64(
    "Ct8DChdrZXl3b3Jkcy9rZXl3b3Jkcy5wcm90bxIKdHlwZS5tYXRjaCLDAQoEU2VsZhISCgR0eXBlGAEgASgJUgR0eXBlEg4KAmZuGAIgASgFUgJmbhIWCgZzdHJ1Y3QYAyABKAhSBnN0cnVjdBIkCgRlbnVtGAQgASgOMhAudHlwZS5tYXRjaC5FbnVtUgRlbnVtEhQKBWFzeW5jGAUgAygJUgVhc3luYxIpCgRpbXBsGAYgASgLMhUudHlwZS5tYXRjaC5TZWxmLkltcGxSBGltcGwaGAoESW1wbBIQCgNyZWYYASABKAlSA3JlZiorCgRFbnVtEhQKEEVOVU1fVU5TUEVDSUZJRUQQABINCglFTlVNX1NFTEYQATK8AQoETG9vcBIqCgRUeXBlEhAudHlwZS5tYXRjaC5TZWxmGhAudHlwZS5tYXRjaC5TZWxmEisKBU1hdGNoEhAudHlwZS5tYXRjaC5TZWxmGhAudHlwZS5tYXRjaC5TZWxmEikKA05ldxIQLnR5cGUubWF0Y2guU2VsZhoQLnR5cGUubWF0Y2guU2VsZhIwCgZSZXR1cm4SEC50eXBlLm1hdGNoLlNlbGYaEC50eXBlLm1hdGNoLlNlbGYoATABYgZwcm90bzM=",
);
// Protobuf and proto3 JSON for every message of this package.
::micro::codegen::impl_messages!(
    DESCRIPTORS;
    Self_ => "type.match.Self",
    self_::Impl => "type.match.Self.Impl",
);
