/// The descriptors of package `greeter` and its imports: JSON mapping, registry schemas, reflection.
pub static DESCRIPTORS: ::micro::codegen::Descriptors = ::micro::codegen::Descriptors::new(
    b"\n\xE4\x02\n\rgreeter.proto\x12\x07greeter\"\"\n\x0CHelloRequest\x12\x12\n\x04name\x18\x01 \x01(\tR\x04name\"!\n\rHelloResponse\x12\x10\n\x03msg\x18\x01 \x01(\tR\x03msg\"9\n\rStreamRequest\x12\x12\n\x04name\x18\x01 \x01(\tR\x04name\x12\x14\n\x05count\x18\x02 \x01(\x03R\x05count\"8\n\x0EStreamResponse\x12\x10\n\x03msg\x18\x01 \x01(\tR\x03msg\x12\x14\n\x05count\x18\x02 \x01(\x03R\x05count2\x85\x01\n\x07Greeter\x12;\n\x05Hello\x12\x15.greeter.HelloRequest\x1A\x16.greeter.HelloResponse\"\x03\x90\x02\x02\x12=\n\x06Stream\x12\x16.greeter.StreamRequest\x1A\x17.greeter.StreamResponse\"\x000\x01b\x06proto3",
);
::micro::codegen::impl_messages!(
    DESCRIPTORS; HelloRequest => "greeter.HelloRequest", HelloResponse =>
    "greeter.HelloResponse", StreamRequest => "greeter.StreamRequest", StreamResponse =>
    "greeter.StreamResponse"
);
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
    #[derive(Clone, Debug)]
    pub struct GreeterClient {
        client: ::micro::codegen::Client,
        service: ::std::string::String,
        options: ::micro::codegen::CallOptions,
    }
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
        fn call_options(
            &self,
            options: &::micro::codegen::CallOptions,
        ) -> ::micro::codegen::CallOptions {
            ::micro::codegen::call_options(
                options,
                ::core::option::Option::Some("greeter"),
            )
        }
        /// Greets a person by name: `{"name": "John"}` gives `{"msg": "Hello John"}`.
        pub async fn hello(
            &self,
            request: super::HelloRequest,
        ) -> ::micro::codegen::Result<super::HelloResponse> {
            self.hello_with(&::micro::codegen::Context::new(), request, &self.options)
                .await
        }
        /// [`Self::hello`] with a context (deadline, metadata) and call options.
        pub async fn hello_with(
            &self,
            ctx: &::micro::codegen::Context,
            request: super::HelloRequest,
            options: &::micro::codegen::CallOptions,
        ) -> ::micro::codegen::Result<super::HelloResponse> {
            self.client
                .call_with(
                    ctx,
                    &self.service,
                    "Greeter.Hello",
                    &request,
                    &self.call_options(options),
                )
                .await
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
            self.stream_with(&::micro::codegen::Context::new(), request, &self.options)
                .await
        }
        /// [`Self::stream`] with a context (deadline, metadata) and call options.
        pub async fn stream_with(
            &self,
            ctx: &::micro::codegen::Context,
            request: super::StreamRequest,
            options: &::micro::codegen::CallOptions,
        ) -> ::micro::codegen::Result<
            ::micro::codegen::StreamReceiver<super::StreamResponse>,
        > {
            self.client
                .server_stream(
                    ctx,
                    &self.service,
                    "Greeter.Stream",
                    &request,
                    &self.call_options(options),
                )
                .await
        }
    }
}
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
                handler: self.handler.clone(),
            }
        }
    }
    impl<H> ::core::fmt::Debug for GreeterServer<H> {
        fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
            f.write_str(::core::stringify!(GreeterServer))
        }
    }
    impl<H: Greeter> ::micro::codegen::Handler for GreeterServer<H> {
        fn into_router(self) -> ::micro::codegen::Router {
            let router = ::micro::codegen::Router::new();
            let router = {
                let handler = self.handler.clone();
                let route = ::micro::codegen::Route::unary(
                        "Greeter.Hello",
                        move |
                            ctx: ::micro::codegen::Context,
                            request: super::HelloRequest|
                        {
                            let handler = handler.clone();
                            async move { handler.hello(ctx, request).await }
                        },
                    )
                    .package("greeter")
                    .idempotent();
                router
                    .route(
                        ::micro::codegen::describe(
                            route,
                            &super::DESCRIPTORS,
                            "greeter.HelloRequest",
                            "greeter.HelloResponse",
                        ),
                    )
            };
            let router = {
                let handler = self.handler.clone();
                let route = ::micro::codegen::Route::server_stream(
                        "Greeter.Stream",
                        move |
                            ctx: ::micro::codegen::Context,
                            request: super::StreamRequest,
                            responses: ::micro::codegen::StreamSender<
                                super::StreamResponse,
                            >|
                        {
                            let handler = handler.clone();
                            async move { handler.stream(ctx, request, responses).await }
                        },
                    )
                    .package("greeter");
                router
                    .route(
                        ::micro::codegen::describe(
                            route,
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
