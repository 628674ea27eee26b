/// Handler trait and server for the `greeter.Greeter` service.
pub mod greeter_server {
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
    pub const SERVICE_NAME: &str = "greeter.Greeter";
    /// The handler of `greeter.Greeter`: implement it, then serve it with [`GreeterServer`].
    ///
    /// Greeter says hello.
    pub trait Greeter: ::core::marker::Send + ::core::marker::Sync + 'static {
        /// Greets a person by name: `{"name": "John"}` gives `{"msg": "Hello John"}`.
        fn hello(
            &self,
            ctx: ::micro::codegen::Context,
            request: super::HelloRequest,
        ) -> impl ::micro::codegen::Future<
            Output = ::micro::codegen::Result<super::HelloResponse>,
        > + ::core::marker::Send;
        /// Sends `count` greetings, one message each.
        ///
        /// Send the responses on `responses`; returning ends the stream.
        fn stream(
            &self,
            ctx: ::micro::codegen::Context,
            request: super::StreamRequest,
            responses: ::micro::codegen::StreamSender<super::StreamResponse>,
        ) -> impl ::micro::codegen::Future<
            Output = ::micro::codegen::Result<()>,
        > + ::core::marker::Send;
    }
    /// Serves a [`Greeter`] implementation: pass it to `Service::builder(..).handler(..)`.
    pub struct GreeterServer<H> {
        handler: ::std::sync::Arc<H>,
    }
    impl<H: Greeter> GreeterServer<H> {
        /// Serve `handler`.
        pub fn new(handler: H) -> Self {
            Self::from_arc(::std::sync::Arc::new(handler))
        }
        /// Serve a shared `handler`.
        pub fn from_arc(handler: ::std::sync::Arc<H>) -> Self {
            Self { handler }
        }
    }
    impl<H> ::core::clone::Clone for GreeterServer<H> {
        fn clone(&self) -> Self {
            Self {
                handler: ::core::clone::Clone::clone(&self.handler),
            }
        }
    }
    impl<H> ::core::fmt::Debug for GreeterServer<H> {
        fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
            f.write_str(::core::stringify!(GreeterServer))
        }
    }
    #[allow(deprecated)]
    impl<H: Greeter> ::micro::codegen::IntoRouter for GreeterServer<H> {
        fn into_router(self) -> ::micro::codegen::Router {
            let router = ::micro::codegen::Router::new();
            let router = {
                let handler = ::core::clone::Clone::clone(&self.handler);
                let route = ::micro::codegen::Route::unary_with(
                        "Greeter.Hello",
                        ::micro::codegen::Codec::<super::HelloRequest>::message(),
                        ::micro::codegen::Codec::<super::HelloResponse>::message(),
                        move |
                            ctx: ::micro::codegen::Context,
                            request: super::HelloRequest|
                        {
                            let handler = ::core::clone::Clone::clone(&handler);
                            async move { handler.hello(ctx, request).await }
                        },
                    )
                    .package("greeter")
                    .idempotent()
                    .metadata(
                        "description",
                        "Greets a person by name: `{\"name\": \"John\"}` gives `{\"msg\": \"Hello John\"}`.",
                    );
                router
                    .route(
                        route
                            .describe(
                                &super::DESCRIPTORS,
                                "greeter.HelloRequest",
                                "greeter.HelloResponse",
                            ),
                    )
            };
            let router = {
                let handler = ::core::clone::Clone::clone(&self.handler);
                let route = ::micro::codegen::Route::server_stream_with(
                        "Greeter.Stream",
                        ::micro::codegen::Codec::<super::StreamRequest>::message(),
                        ::micro::codegen::Codec::<super::StreamResponse>::message(),
                        move |
                            ctx: ::micro::codegen::Context,
                            request: super::StreamRequest,
                            responses: ::micro::codegen::StreamSender<
                                super::StreamResponse,
                            >|
                        {
                            let handler = ::core::clone::Clone::clone(&handler);
                            async move { handler.stream(ctx, request, responses).await }
                        },
                    )
                    .package("greeter")
                    .metadata(
                        "description",
                        "Sends `count` greetings, one message each.",
                    );
                router
                    .route(
                        route
                            .describe(
                                &super::DESCRIPTORS,
                                "greeter.StreamRequest",
                                "greeter.StreamResponse",
                            ),
                    )
            };
            router
        }
    }
}
/// Client for the `greeter.Greeter` service.
pub mod greeter_client {
    #![allow(
        unused_variables,
        dead_code,
        missing_docs,
        deprecated,
        clippy::all,
        clippy::pedantic,
        clippy::nursery
    )]
    /// Calls `greeter.Greeter` on the nodes the registry lists for a service name.
    ///
    /// Greeter says hello.
    #[derive(::core::clone::Clone, ::core::fmt::Debug)]
    pub struct GreeterClient {
        client: ::micro::codegen::Client,
        service: ::std::string::String,
        options: ::micro::codegen::CallOptions,
    }
    #[allow(deprecated)]
    impl GreeterClient {
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
                .for_method(::core::option::Option::Some("greeter"), timeout_ms)
        }
        /// Greets a person by name: `{"name": "John"}` gives `{"msg": "Hello John"}`.
        pub async fn hello(
            &self,
            request: super::HelloRequest,
        ) -> ::micro::codegen::Result<super::HelloResponse> {
            self.hello_with(
                    &::micro::codegen::Context::current(),
                    request,
                    &::micro::codegen::CallOptions::new(),
                )
                .await
        }
        /// [`Self::hello`] with a context (deadline, metadata) and call options laid over the client's.
        pub async fn hello_with(
            &self,
            ctx: &::micro::codegen::Context,
            request: super::HelloRequest,
            options: &::micro::codegen::CallOptions,
        ) -> ::micro::codegen::Result<super::HelloResponse> {
            let options = self.call_options(options, ::core::option::Option::None);
            self.client
                .invoke_codec(
                    ctx,
                    &self.service,
                    "Greeter.Hello",
                    &request,
                    &options,
                    ::micro::codegen::Codec::<super::HelloRequest>::message(),
                    ::micro::codegen::Codec::<super::HelloResponse>::message(),
                )
                .await
                .map(|response| response.message)
        }
        /// Sends `count` greetings, one message each.
        ///
        /// Returns the stream of responses.
        pub async fn stream(
            &self,
            request: super::StreamRequest,
        ) -> ::micro::codegen::Result<
            ::micro::codegen::StreamReceiver<super::StreamResponse>,
        > {
            self.stream_with(
                    &::micro::codegen::Context::current(),
                    request,
                    &::micro::codegen::CallOptions::new(),
                )
                .await
        }
        /// [`Self::stream`] with a context (deadline, metadata) and call options laid over the client's.
        pub async fn stream_with(
            &self,
            ctx: &::micro::codegen::Context,
            request: super::StreamRequest,
            options: &::micro::codegen::CallOptions,
        ) -> ::micro::codegen::Result<
            ::micro::codegen::StreamReceiver<super::StreamResponse>,
        > {
            let options = self.call_options(options, ::core::option::Option::None);
            self.client
                .server_stream_codec(
                    ctx,
                    &self.service,
                    "Greeter.Stream",
                    &request,
                    &options,
                    ::micro::codegen::Codec::<super::StreamRequest>::message(),
                    ::micro::codegen::Codec::<super::StreamResponse>::message(),
                )
                .await
        }
    }
    /// The client is a [`Greeter`](super::greeter_server::Greeter) too: code written against the trait runs with a local implementation in tests and with the remote service here.
    impl super::greeter_server::Greeter for GreeterClient {
        async fn hello(
            &self,
            ctx: ::micro::codegen::Context,
            request: super::HelloRequest,
        ) -> ::micro::codegen::Result<super::HelloResponse> {
            self.hello_with(&ctx, request, &::micro::codegen::CallOptions::new()).await
        }
        async fn stream(
            &self,
            ctx: ::micro::codegen::Context,
            request: super::StreamRequest,
            responses: ::micro::codegen::StreamSender<super::StreamResponse>,
        ) -> ::micro::codegen::Result<()> {
            let stream = self
                .stream_with(&ctx, request, &::micro::codegen::CallOptions::new())
                .await?;
            ::micro::codegen::forward_responses(stream, responses).await
        }
    }
}
/// The descriptors of package `greeter` and its imports (base64): JSON mapping,
/// registry schemas, reflection.
pub static DESCRIPTORS: ::micro::codegen::Descriptors = ::micro::codegen::Descriptors::base64(
    "CpIDCg1ncmVldGVyLnByb3RvEgdncmVldGVyIiIKDEhlbGxvUmVxdWVzdBISCgRuYW1lGAEgASgJUgRuYW1lIiEKDUhlbGxvUmVzcG9uc2USEAoDbXNnGAEgASgJUgNtc2ciOQoNU3RyZWFtUmVxdWVzdBISCgRuYW1lGAEgASgJUgRuYW1lEhQKBWNvdW50GAIgASgDUgVjb3VudCI4Cg5TdHJlYW1SZXNwb25zZRIQCgNtc2cYASABKAlSA21zZxIUCgVjb3VudBgCIAEoA1IFY291bnQyhQEKB0dyZWV0ZXISOwoFSGVsbG8SFS5ncmVldGVyLkhlbGxvUmVxdWVzdBoWLmdyZWV0ZXIuSGVsbG9SZXNwb25zZSIDkAICEj0KBlN0cmVhbRIWLmdyZWV0ZXIuU3RyZWFtUmVxdWVzdBoXLmdyZWV0ZXIuU3RyZWFtUmVzcG9uc2UiADABYgZwcm90bzNKLAoqCgQEAAIAEgMTAhIaHVRoZSBuYW1lIHRvIGdyZWV0LCBlLmcuIEpvaG4u",
);
// Protobuf and proto3 JSON for every message of this package.
::micro::codegen::impl_messages!(
    DESCRIPTORS;
    HelloRequest => "greeter.HelloRequest",
    HelloResponse => "greeter.HelloResponse",
    StreamRequest => "greeter.StreamRequest",
    StreamResponse => "greeter.StreamResponse",
);
