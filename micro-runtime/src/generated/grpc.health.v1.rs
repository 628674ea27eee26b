#[allow(missing_docs)]
#[derive(Clone, PartialEq, Eq, Hash, crate::codegen::prost::Message)]
#[prost(prost_path = "crate::codegen::prost")]
pub struct HealthCheckRequest {
    /// The service to check; empty for the whole server.
    #[prost(string, tag = "1")]
    pub service: crate::codegen::prost::alloc::string::String,
}
#[allow(missing_docs)]
#[derive(Clone, Copy, PartialEq, Eq, Hash, crate::codegen::prost::Message)]
#[prost(prost_path = "crate::codegen::prost")]
pub struct HealthCheckResponse {
    #[prost(enumeration = "health_check_response::ServingStatus", tag = "1")]
    pub status: i32,
}
/// Nested message and enum types in `HealthCheckResponse`.
pub mod health_check_response {
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
        crate::codegen::prost::Enumeration
    )]
    #[prost(prost_path = "crate::codegen::prost")]
    #[repr(i32)]
    pub enum ServingStatus {
        Unknown = 0,
        Serving = 1,
        NotServing = 2,
        /// Used only by the Watch method.
        ServiceUnknown = 3,
    }
    impl ServingStatus {
        /// String value of the enum field names used in the ProtoBuf definition.
        ///
        /// The values are not transformed in any way and thus are considered stable
        /// (if the ProtoBuf definition does not change) and safe for programmatic use.
        pub fn as_str_name(&self) -> &'static str {
            match self {
                Self::Unknown => "UNKNOWN",
                Self::Serving => "SERVING",
                Self::NotServing => "NOT_SERVING",
                Self::ServiceUnknown => "SERVICE_UNKNOWN",
            }
        }
        /// Creates an enum from field names used in the ProtoBuf definition.
        pub fn from_str_name(value: &str) -> ::core::option::Option<Self> {
            match value {
                "UNKNOWN" => Some(Self::Unknown),
                "SERVING" => Some(Self::Serving),
                "NOT_SERVING" => Some(Self::NotServing),
                "SERVICE_UNKNOWN" => Some(Self::ServiceUnknown),
                _ => None,
            }
        }
    }
}
/// Handler trait and server for the `grpc.health.v1.Health` service.
pub mod health_server {
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
    pub const SERVICE_NAME: &str = "grpc.health.v1.Health";
    /// The handler of `grpc.health.v1.Health`: implement it, then serve it with [`HealthServer`].
    ///
    pub trait Health: ::core::marker::Send + ::core::marker::Sync + 'static {
        /// The serving status of a service: NOT_FOUND for a service the server does not know.
        fn check(
            &self,
            ctx: crate::codegen::Context,
            request: super::HealthCheckRequest,
        ) -> impl crate::codegen::Future<
            Output = crate::codegen::Result<super::HealthCheckResponse>,
        > + ::core::marker::Send;
        /// The serving status now, then every change.
        ///
        /// Send the responses on `responses`; returning ends the stream.
        fn watch(
            &self,
            ctx: crate::codegen::Context,
            request: super::HealthCheckRequest,
            responses: crate::codegen::StreamSender<super::HealthCheckResponse>,
        ) -> impl crate::codegen::Future<
            Output = crate::codegen::Result<()>,
        > + ::core::marker::Send;
    }
    /// Serves a [`Health`] implementation: pass it to `Service::builder(..).handler(..)`.
    pub struct HealthServer<H> {
        handler: ::std::sync::Arc<H>,
    }
    impl<H: Health> HealthServer<H> {
        /// Serve `handler`.
        pub fn new(handler: H) -> Self {
            Self::from_arc(::std::sync::Arc::new(handler))
        }
        /// Serve a shared `handler`.
        pub fn from_arc(handler: ::std::sync::Arc<H>) -> Self {
            Self { handler }
        }
    }
    impl<H> ::core::clone::Clone for HealthServer<H> {
        fn clone(&self) -> Self {
            Self {
                handler: ::core::clone::Clone::clone(&self.handler),
            }
        }
    }
    impl<H> ::core::fmt::Debug for HealthServer<H> {
        fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
            f.write_str(::core::stringify!(HealthServer))
        }
    }
    #[allow(deprecated)]
    impl<H: Health> crate::codegen::IntoRouter for HealthServer<H> {
        fn into_router(self) -> crate::codegen::Router {
            let router = crate::codegen::Router::new();
            let router = {
                let handler = ::core::clone::Clone::clone(&self.handler);
                let route = crate::codegen::Route::unary_with(
                        "Health.Check",
                        crate::codegen::Codec::<super::HealthCheckRequest>::message(),
                        crate::codegen::Codec::<super::HealthCheckResponse>::message(),
                        move |
                            ctx: crate::codegen::Context,
                            request: super::HealthCheckRequest|
                        {
                            let handler = ::core::clone::Clone::clone(&handler);
                            async move { handler.check(ctx, request).await }
                        },
                    )
                    .package("grpc.health.v1")
                    .metadata(
                        "description",
                        "The serving status of a service: NOT_FOUND for a service the server does not know.",
                    );
                router
                    .route(
                        route
                            .describe(
                                &super::DESCRIPTORS,
                                "grpc.health.v1.HealthCheckRequest",
                                "grpc.health.v1.HealthCheckResponse",
                            ),
                    )
            };
            let router = {
                let handler = ::core::clone::Clone::clone(&self.handler);
                let route = crate::codegen::Route::server_stream_with(
                        "Health.Watch",
                        crate::codegen::Codec::<super::HealthCheckRequest>::message(),
                        crate::codegen::Codec::<super::HealthCheckResponse>::message(),
                        move |
                            ctx: crate::codegen::Context,
                            request: super::HealthCheckRequest,
                            responses: crate::codegen::StreamSender<
                                super::HealthCheckResponse,
                            >|
                        {
                            let handler = ::core::clone::Clone::clone(&handler);
                            async move { handler.watch(ctx, request, responses).await }
                        },
                    )
                    .package("grpc.health.v1")
                    .metadata(
                        "description",
                        "The serving status now, then every change.",
                    );
                router
                    .route(
                        route
                            .describe(
                                &super::DESCRIPTORS,
                                "grpc.health.v1.HealthCheckRequest",
                                "grpc.health.v1.HealthCheckResponse",
                            ),
                    )
            };
            router
        }
    }
}
/// Client for the `grpc.health.v1.Health` service.
pub mod health_client {
    #![allow(
        unused_variables,
        dead_code,
        missing_docs,
        deprecated,
        clippy::all,
        clippy::pedantic,
        clippy::nursery
    )]
    /// Calls `grpc.health.v1.Health` on the nodes the registry lists for a service name.
    ///
    #[derive(::core::clone::Clone, ::core::fmt::Debug)]
    pub struct HealthClient {
        client: crate::codegen::Client,
        service: ::std::string::String,
        options: crate::codegen::CallOptions,
    }
    #[allow(deprecated)]
    impl HealthClient {
        /// A client for the service registered as `service` (e.g. `"greeter"`),
        /// calling through `client`.
        pub fn new(
            service: impl ::core::convert::Into<::std::string::String>,
            client: crate::codegen::Client,
        ) -> Self {
            Self {
                client,
                service: service.into(),
                options: crate::codegen::CallOptions::new(),
            }
        }
        /// Use `options` for every call of this client (timeout, metadata, retries,
        /// address, filters).
        #[must_use]
        pub fn with_options(mut self, options: crate::codegen::CallOptions) -> Self {
            self.options = options;
            self
        }
        /// The options used for every call.
        pub fn options(&self) -> &crate::codegen::CallOptions {
            &self.options
        }
        /// The service name calls go to.
        pub fn service(&self) -> &str {
            &self.service
        }
        /// The underlying runtime client.
        pub fn client(&self) -> &crate::codegen::Client {
            &self.client
        }
        /// This client's options with `options` on top, and the method's package and
        /// timeout where neither sets them.
        fn call_options(
            &self,
            options: &crate::codegen::CallOptions,
            timeout_ms: ::core::option::Option<u64>,
        ) -> crate::codegen::CallOptions {
            self.options
                .merged(options)
                .for_method(::core::option::Option::Some("grpc.health.v1"), timeout_ms)
        }
        /// The serving status of a service: NOT_FOUND for a service the server does not know.
        pub async fn check(
            &self,
            request: super::HealthCheckRequest,
        ) -> crate::codegen::Result<super::HealthCheckResponse> {
            self.check_with(
                    &crate::codegen::Context::current(),
                    request,
                    &crate::codegen::CallOptions::new(),
                )
                .await
        }
        /// [`Self::check`] with a context (deadline, metadata) and call options laid over the client's.
        pub async fn check_with(
            &self,
            ctx: &crate::codegen::Context,
            request: super::HealthCheckRequest,
            options: &crate::codegen::CallOptions,
        ) -> crate::codegen::Result<super::HealthCheckResponse> {
            let options = self.call_options(options, ::core::option::Option::None);
            self.client
                .invoke_codec(
                    ctx,
                    &self.service,
                    "Health.Check",
                    &request,
                    &options,
                    crate::codegen::Codec::<super::HealthCheckRequest>::message(),
                    crate::codegen::Codec::<super::HealthCheckResponse>::message(),
                )
                .await
                .map(|response| response.message)
        }
        /// The serving status now, then every change.
        ///
        /// Returns the stream of responses.
        pub async fn watch(
            &self,
            request: super::HealthCheckRequest,
        ) -> crate::codegen::Result<
            crate::codegen::StreamReceiver<super::HealthCheckResponse>,
        > {
            self.watch_with(
                    &crate::codegen::Context::current(),
                    request,
                    &crate::codegen::CallOptions::new(),
                )
                .await
        }
        /// [`Self::watch`] with a context (deadline, metadata) and call options laid over the client's.
        pub async fn watch_with(
            &self,
            ctx: &crate::codegen::Context,
            request: super::HealthCheckRequest,
            options: &crate::codegen::CallOptions,
        ) -> crate::codegen::Result<
            crate::codegen::StreamReceiver<super::HealthCheckResponse>,
        > {
            let options = self.call_options(options, ::core::option::Option::None);
            self.client
                .server_stream_codec(
                    ctx,
                    &self.service,
                    "Health.Watch",
                    &request,
                    &options,
                    crate::codegen::Codec::<super::HealthCheckRequest>::message(),
                    crate::codegen::Codec::<super::HealthCheckResponse>::message(),
                )
                .await
        }
    }
    /// The client is a [`Health`](super::health_server::Health) too: code written against the trait runs with a local implementation in tests and with the remote service here.
    impl super::health_server::Health for HealthClient {
        async fn check(
            &self,
            ctx: crate::codegen::Context,
            request: super::HealthCheckRequest,
        ) -> crate::codegen::Result<super::HealthCheckResponse> {
            self.check_with(&ctx, request, &crate::codegen::CallOptions::new()).await
        }
        async fn watch(
            &self,
            ctx: crate::codegen::Context,
            request: super::HealthCheckRequest,
            responses: crate::codegen::StreamSender<super::HealthCheckResponse>,
        ) -> crate::codegen::Result<()> {
            let stream = self
                .watch_with(&ctx, request, &crate::codegen::CallOptions::new())
                .await?;
            crate::codegen::forward_responses(stream, responses).await
        }
    }
}
impl crate::codegen::Validate for HealthCheckRequest {
    #[allow(unused_variables)]
    fn validate_into(&self, v: &mut crate::codegen::Violations) {}
}
impl crate::codegen::Validate for HealthCheckResponse {
    #[allow(unused_variables)]
    fn validate_into(&self, v: &mut crate::codegen::Violations) {}
}
/// The descriptors of package `grpc.health.v1` and its imports (base64): JSON mapping,
/// registry schemas, reflection.
pub static DESCRIPTORS: crate::codegen::Descriptors = crate::codegen::Descriptors::base64(
    "CowEChtncnBjL2hlYWx0aC92MS9oZWFsdGgucHJvdG8SDmdycGMuaGVhbHRoLnYxIi4KEkhlYWx0aENoZWNrUmVxdWVzdBIYCgdzZXJ2aWNlGAEgASgJUgdzZXJ2aWNlIrEBChNIZWFsdGhDaGVja1Jlc3BvbnNlEkkKBnN0YXR1cxgBIAEoDjIxLmdycGMuaGVhbHRoLnYxLkhlYWx0aENoZWNrUmVzcG9uc2UuU2VydmluZ1N0YXR1c1IGc3RhdHVzIk8KDVNlcnZpbmdTdGF0dXMSCwoHVU5LTk9XThAAEgsKB1NFUlZJTkcQARIPCgtOT1RfU0VSVklORxACEhMKD1NFUlZJQ0VfVU5LTk9XThADMq4BCgZIZWFsdGgSUAoFQ2hlY2sSIi5ncnBjLmhlYWx0aC52MS5IZWFsdGhDaGVja1JlcXVlc3QaIy5ncnBjLmhlYWx0aC52MS5IZWFsdGhDaGVja1Jlc3BvbnNlElIKBVdhdGNoEiIuZ3JwYy5oZWFsdGgudjEuSGVhbHRoQ2hlY2tSZXF1ZXN0GiMuZ3JwYy5oZWFsdGgudjEuSGVhbHRoQ2hlY2tSZXNwb25zZTABYgZwcm90bzNKQAo+CgQEAAIAEgMIAhUaMVRoZSBzZXJ2aWNlIHRvIGNoZWNrOyBlbXB0eSBmb3IgdGhlIHdob2xlIHNlcnZlci4=",
);
// Protobuf and proto3 JSON for every message of this package.
crate::codegen::impl_messages!(
    DESCRIPTORS;
    HealthCheckRequest => "grpc.health.v1.HealthCheckRequest",
    HealthCheckResponse => "grpc.health.v1.HealthCheckResponse",
);
