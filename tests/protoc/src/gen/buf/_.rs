#[allow(missing_docs)]
#[derive(Clone, PartialEq, Eq, Hash, ::micro::codegen::prost::Message)]
#[prost(prost_path = "::micro::codegen::prost")]
pub struct Loose {
    #[prost(string, tag = "1")]
    pub text: ::micro::codegen::prost::alloc::string::String,
}
/// Handler trait and server for the `Loner` service.
pub mod loner_server {
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
    pub const SERVICE_NAME: &str = "Loner";
    /// The handler of `Loner`: implement it, then serve it with [`LonerServer`].
    ///
    pub trait Loner: ::core::marker::Send + ::core::marker::Sync + 'static {
        fn call(
            &self,
            ctx: ::micro::codegen::Context,
            request: super::Loose,
        ) -> impl ::micro::codegen::Future<
            Output = ::micro::codegen::Result<super::Loose>,
        > + ::core::marker::Send;
    }
    /// Serves a [`Loner`] implementation: pass it to `Service::builder(..).handler(..)`.
    pub struct LonerServer<H> {
        handler: ::std::sync::Arc<H>,
    }
    impl<H: Loner> LonerServer<H> {
        /// Serve `handler`.
        pub fn new(handler: H) -> Self {
            Self::from_arc(::std::sync::Arc::new(handler))
        }
        /// Serve a shared `handler`.
        pub fn from_arc(handler: ::std::sync::Arc<H>) -> Self {
            Self { handler }
        }
    }
    impl<H> ::core::clone::Clone for LonerServer<H> {
        fn clone(&self) -> Self {
            Self {
                handler: ::core::clone::Clone::clone(&self.handler),
            }
        }
    }
    impl<H> ::core::fmt::Debug for LonerServer<H> {
        fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
            f.write_str(::core::stringify!(LonerServer))
        }
    }
    #[allow(deprecated)]
    impl<H: Loner> ::micro::codegen::IntoRouter for LonerServer<H> {
        fn into_router(self) -> ::micro::codegen::Router {
            let router = ::micro::codegen::Router::new();
            let router = {
                let handler = ::core::clone::Clone::clone(&self.handler);
                let route = ::micro::codegen::Route::unary_with(
                    "Loner.Call",
                    ::micro::codegen::Codec::<super::Loose>::message(),
                    ::micro::codegen::Codec::<super::Loose>::message(),
                    move |ctx: ::micro::codegen::Context, request: super::Loose| {
                        let handler = ::core::clone::Clone::clone(&handler);
                        async move { handler.call(ctx, request).await }
                    },
                );
                router.route(route.describe(&super::DESCRIPTORS, "Loose", "Loose"))
            };
            router
        }
    }
}
/// Client for the `Loner` service.
pub mod loner_client {
    #![allow(
        unused_variables,
        dead_code,
        missing_docs,
        deprecated,
        clippy::all,
        clippy::pedantic,
        clippy::nursery
    )]
    /// Calls `Loner` on the nodes the registry lists for a service name.
    ///
    #[derive(::core::clone::Clone, ::core::fmt::Debug)]
    pub struct LonerClient {
        client: ::micro::codegen::Client,
        service: ::std::string::String,
        options: ::micro::codegen::CallOptions,
    }
    #[allow(deprecated)]
    impl LonerClient {
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
                .for_method(::core::option::Option::None, timeout_ms)
        }
        pub async fn call(
            &self,
            request: super::Loose,
        ) -> ::micro::codegen::Result<super::Loose> {
            self.call_with(
                    &::micro::codegen::Context::current(),
                    request,
                    &::micro::codegen::CallOptions::new(),
                )
                .await
        }
        /// [`Self::call`] with a context (deadline, metadata) and call options laid over the client's.
        pub async fn call_with(
            &self,
            ctx: &::micro::codegen::Context,
            request: super::Loose,
            options: &::micro::codegen::CallOptions,
        ) -> ::micro::codegen::Result<super::Loose> {
            let options = self.call_options(options, ::core::option::Option::None);
            self.client
                .invoke_codec(
                    ctx,
                    &self.service,
                    "Loner.Call",
                    &request,
                    &options,
                    ::micro::codegen::Codec::<super::Loose>::message(),
                    ::micro::codegen::Codec::<super::Loose>::message(),
                )
                .await
                .map(|response| response.message)
        }
    }
    /// The client is a [`Loner`](super::loner_server::Loner) too: code written against the trait runs with a local implementation in tests and with the remote service here.
    impl super::loner_server::Loner for LonerClient {
        async fn call(
            &self,
            ctx: ::micro::codegen::Context,
            request: super::Loose,
        ) -> ::micro::codegen::Result<super::Loose> {
            self.call_with(&ctx, request, &::micro::codegen::CallOptions::new()).await
        }
    }
}
impl ::micro::codegen::Validate for Loose {
    #[allow(unused_variables)]
    fn validate_into(&self, v: &mut ::micro::codegen::Violations) {}
}
/// The descriptors of package `(none)` and its imports (base64): JSON mapping,
/// registry schemas, reflection.
pub static DESCRIPTORS: ::micro::codegen::Descriptors = ::micro::codegen::Descriptors::base64(
    "ClcKD25vcGFja2FnZS5wcm90byIbCgVMb29zZRISCgR0ZXh0GAEgASgJUgR0ZXh0Mh8KBUxvbmVyEhYKBENhbGwSBi5Mb29zZRoGLkxvb3NlYgZwcm90bzM=",
);
// Protobuf and proto3 JSON for every message of this package.
::micro::codegen::impl_messages!(
    DESCRIPTORS;
    Loose => "Loose",
);
