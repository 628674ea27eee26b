#[allow(missing_docs)]
#[derive(Clone, PartialEq, Eq, Hash, crate::codegen::prost::Message)]
#[prost(prost_path = "crate::codegen::prost")]
pub struct ServerReflectionRequest {
    #[prost(string, tag = "1")]
    pub host: crate::codegen::prost::alloc::string::String,
    #[prost(oneof = "server_reflection_request::MessageRequest", tags = "3, 4, 5, 6, 7")]
    pub message_request: ::core::option::Option<
        server_reflection_request::MessageRequest,
    >,
}
/// Nested message and enum types in `ServerReflectionRequest`.
pub mod server_reflection_request {
    #[allow(missing_docs)]
    #[derive(Clone, PartialEq, Eq, Hash, crate::codegen::prost::Oneof)]
    #[prost(prost_path = "crate::codegen::prost")]
    pub enum MessageRequest {
        /// A file by name, e.g. "greeter.proto".
        #[prost(string, tag = "3")]
        FileByFilename(crate::codegen::prost::alloc::string::String),
        /// The file defining a symbol: a service, method, message, enum or extension.
        #[prost(string, tag = "4")]
        FileContainingSymbol(crate::codegen::prost::alloc::string::String),
        #[prost(message, tag = "5")]
        FileContainingExtension(super::ExtensionRequest),
        /// The extension numbers of a message type.
        #[prost(string, tag = "6")]
        AllExtensionNumbersOfType(crate::codegen::prost::alloc::string::String),
        /// The names of every service.
        #[prost(string, tag = "7")]
        ListServices(crate::codegen::prost::alloc::string::String),
    }
}
#[allow(missing_docs)]
#[derive(Clone, PartialEq, Eq, Hash, crate::codegen::prost::Message)]
#[prost(prost_path = "crate::codegen::prost")]
pub struct ExtensionRequest {
    #[prost(string, tag = "1")]
    pub containing_type: crate::codegen::prost::alloc::string::String,
    #[prost(int32, tag = "2")]
    pub extension_number: i32,
}
#[allow(missing_docs)]
#[derive(Clone, PartialEq, crate::codegen::prost::Message)]
#[prost(prost_path = "crate::codegen::prost")]
pub struct ServerReflectionResponse {
    #[prost(string, tag = "1")]
    pub valid_host: crate::codegen::prost::alloc::string::String,
    #[prost(message, optional, tag = "2")]
    pub original_request: ::core::option::Option<ServerReflectionRequest>,
    #[prost(oneof = "server_reflection_response::MessageResponse", tags = "4, 5, 6, 7")]
    pub message_response: ::core::option::Option<
        server_reflection_response::MessageResponse,
    >,
}
/// Nested message and enum types in `ServerReflectionResponse`.
pub mod server_reflection_response {
    #[allow(missing_docs)]
    #[derive(Clone, PartialEq, crate::codegen::prost::Oneof)]
    #[prost(prost_path = "crate::codegen::prost")]
    pub enum MessageResponse {
        #[prost(message, tag = "4")]
        FileDescriptorResponse(super::FileDescriptorResponse),
        #[prost(message, tag = "5")]
        AllExtensionNumbersResponse(super::ExtensionNumberResponse),
        #[prost(message, tag = "6")]
        ListServicesResponse(super::ListServiceResponse),
        #[prost(message, tag = "7")]
        ErrorResponse(super::ErrorResponse),
    }
}
#[allow(missing_docs)]
#[derive(Clone, PartialEq, Eq, Hash, crate::codegen::prost::Message)]
#[prost(prost_path = "crate::codegen::prost")]
pub struct FileDescriptorResponse {
    /// Encoded FileDescriptorProtos: the file asked for and what it imports.
    #[prost(bytes = "vec", repeated, tag = "1")]
    pub file_descriptor_proto: crate::codegen::prost::alloc::vec::Vec<
        crate::codegen::prost::alloc::vec::Vec<u8>,
    >,
}
#[allow(missing_docs)]
#[derive(Clone, PartialEq, Eq, Hash, crate::codegen::prost::Message)]
#[prost(prost_path = "crate::codegen::prost")]
pub struct ExtensionNumberResponse {
    #[prost(string, tag = "1")]
    pub base_type_name: crate::codegen::prost::alloc::string::String,
    #[prost(int32, repeated, tag = "2")]
    pub extension_number: crate::codegen::prost::alloc::vec::Vec<i32>,
}
#[allow(missing_docs)]
#[derive(Clone, PartialEq, crate::codegen::prost::Message)]
#[prost(prost_path = "crate::codegen::prost")]
pub struct ListServiceResponse {
    #[prost(message, repeated, tag = "1")]
    pub service: crate::codegen::prost::alloc::vec::Vec<ServiceResponse>,
}
#[allow(missing_docs)]
#[derive(Clone, PartialEq, Eq, Hash, crate::codegen::prost::Message)]
#[prost(prost_path = "crate::codegen::prost")]
pub struct ServiceResponse {
    #[prost(string, tag = "1")]
    pub name: crate::codegen::prost::alloc::string::String,
}
#[allow(missing_docs)]
#[derive(Clone, PartialEq, Eq, Hash, crate::codegen::prost::Message)]
#[prost(prost_path = "crate::codegen::prost")]
pub struct ErrorResponse {
    #[prost(int32, tag = "1")]
    pub error_code: i32,
    #[prost(string, tag = "2")]
    pub error_message: crate::codegen::prost::alloc::string::String,
}
/// Handler trait and server for the `grpc.reflection.v1alpha.ServerReflection` service.
pub mod server_reflection_server {
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
    pub const SERVICE_NAME: &str = "grpc.reflection.v1alpha.ServerReflection";
    /// The handler of `grpc.reflection.v1alpha.ServerReflection`: implement it, then serve it with [`ServerReflectionServer`].
    ///
    pub trait ServerReflection: ::core::marker::Send + ::core::marker::Sync + 'static {
        /// Answers every request of the stream with one response.
        ///
        /// Receive requests from `requests` and send responses on `responses`; returning
        /// ends the stream.
        fn server_reflection_info(
            &self,
            ctx: crate::codegen::Context,
            requests: crate::codegen::StreamReceiver<super::ServerReflectionRequest>,
            responses: crate::codegen::StreamSender<super::ServerReflectionResponse>,
        ) -> impl crate::codegen::Future<
            Output = crate::codegen::Result<()>,
        > + ::core::marker::Send;
    }
    /// Serves a [`ServerReflection`] implementation: pass it to `Service::builder(..).handler(..)`.
    pub struct ServerReflectionServer<H> {
        handler: ::std::sync::Arc<H>,
    }
    impl<H: ServerReflection> ServerReflectionServer<H> {
        /// Serve `handler`.
        pub fn new(handler: H) -> Self {
            Self::from_arc(::std::sync::Arc::new(handler))
        }
        /// Serve a shared `handler`.
        pub fn from_arc(handler: ::std::sync::Arc<H>) -> Self {
            Self { handler }
        }
    }
    impl<H> ::core::clone::Clone for ServerReflectionServer<H> {
        fn clone(&self) -> Self {
            Self {
                handler: ::core::clone::Clone::clone(&self.handler),
            }
        }
    }
    impl<H> ::core::fmt::Debug for ServerReflectionServer<H> {
        fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
            f.write_str(::core::stringify!(ServerReflectionServer))
        }
    }
    #[allow(deprecated)]
    impl<H: ServerReflection> crate::codegen::IntoRouter for ServerReflectionServer<H> {
        fn into_router(self) -> crate::codegen::Router {
            let router = crate::codegen::Router::new();
            let router = {
                let handler = ::core::clone::Clone::clone(&self.handler);
                let route = crate::codegen::Route::bidi_stream_with(
                        "ServerReflection.ServerReflectionInfo",
                        crate::codegen::Codec::<
                            super::ServerReflectionRequest,
                        >::message(),
                        crate::codegen::Codec::<
                            super::ServerReflectionResponse,
                        >::message(),
                        move |
                            ctx: crate::codegen::Context,
                            requests: crate::codegen::StreamReceiver<
                                super::ServerReflectionRequest,
                            >,
                            responses: crate::codegen::StreamSender<
                                super::ServerReflectionResponse,
                            >|
                        {
                            let handler = ::core::clone::Clone::clone(&handler);
                            async move {
                                handler
                                    .server_reflection_info(ctx, requests, responses)
                                    .await
                            }
                        },
                    )
                    .package("grpc.reflection.v1alpha")
                    .metadata(
                        "description",
                        "Answers every request of the stream with one response.",
                    );
                router
                    .route(
                        route
                            .describe(
                                &super::DESCRIPTORS,
                                "grpc.reflection.v1alpha.ServerReflectionRequest",
                                "grpc.reflection.v1alpha.ServerReflectionResponse",
                            ),
                    )
            };
            router
        }
    }
}
/// Client for the `grpc.reflection.v1alpha.ServerReflection` service.
pub mod server_reflection_client {
    #![allow(
        unused_variables,
        dead_code,
        missing_docs,
        deprecated,
        clippy::all,
        clippy::pedantic,
        clippy::nursery
    )]
    /// Calls `grpc.reflection.v1alpha.ServerReflection` on the nodes the registry lists for a service name.
    ///
    #[derive(::core::clone::Clone, ::core::fmt::Debug)]
    pub struct ServerReflectionClient {
        client: crate::codegen::Client,
        service: ::std::string::String,
        options: crate::codegen::CallOptions,
    }
    #[allow(deprecated)]
    impl ServerReflectionClient {
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
                .for_method(
                    ::core::option::Option::Some("grpc.reflection.v1alpha"),
                    timeout_ms,
                )
        }
        /// Answers every request of the stream with one response.
        ///
        /// Send and receive on the returned stream; `close_send` ends the requests.
        pub async fn server_reflection_info(
            &self,
        ) -> crate::codegen::Result<
            crate::codegen::Streaming<
                super::ServerReflectionRequest,
                super::ServerReflectionResponse,
            >,
        > {
            self.server_reflection_info_with(
                    &crate::codegen::Context::current(),
                    &crate::codegen::CallOptions::new(),
                )
                .await
        }
        /// [`Self::server_reflection_info`] with a context (deadline, metadata) and call options laid over the client's.
        pub async fn server_reflection_info_with(
            &self,
            ctx: &crate::codegen::Context,
            options: &crate::codegen::CallOptions,
        ) -> crate::codegen::Result<
            crate::codegen::Streaming<
                super::ServerReflectionRequest,
                super::ServerReflectionResponse,
            >,
        > {
            let options = self.call_options(options, ::core::option::Option::None);
            self.client
                .stream_codec(
                    ctx,
                    &self.service,
                    "ServerReflection.ServerReflectionInfo",
                    &options,
                    crate::codegen::Codec::<super::ServerReflectionRequest>::message(),
                    crate::codegen::Codec::<super::ServerReflectionResponse>::message(),
                )
                .await
        }
    }
    /// The client is a [`ServerReflection`](super::server_reflection_server::ServerReflection) too: code written against the trait runs with a local implementation in tests and with the remote service here.
    impl super::server_reflection_server::ServerReflection for ServerReflectionClient {
        async fn server_reflection_info(
            &self,
            ctx: crate::codegen::Context,
            requests: crate::codegen::StreamReceiver<super::ServerReflectionRequest>,
            responses: crate::codegen::StreamSender<super::ServerReflectionResponse>,
        ) -> crate::codegen::Result<()> {
            let stream = self
                .server_reflection_info_with(&ctx, &crate::codegen::CallOptions::new())
                .await?;
            crate::codegen::forward_both(requests, responses, stream).await
        }
    }
}
impl crate::codegen::Validate for ServerReflectionRequest {
    #[allow(unused_variables)]
    fn validate_into(&self, v: &mut crate::codegen::Violations) {}
}
impl crate::codegen::Validate for ExtensionRequest {
    #[allow(unused_variables)]
    fn validate_into(&self, v: &mut crate::codegen::Violations) {}
}
impl crate::codegen::Validate for ServerReflectionResponse {
    #[allow(unused_variables)]
    fn validate_into(&self, v: &mut crate::codegen::Violations) {}
}
impl crate::codegen::Validate for FileDescriptorResponse {
    #[allow(unused_variables)]
    fn validate_into(&self, v: &mut crate::codegen::Violations) {}
}
impl crate::codegen::Validate for ExtensionNumberResponse {
    #[allow(unused_variables)]
    fn validate_into(&self, v: &mut crate::codegen::Violations) {}
}
impl crate::codegen::Validate for ListServiceResponse {
    #[allow(unused_variables)]
    fn validate_into(&self, v: &mut crate::codegen::Violations) {}
}
impl crate::codegen::Validate for ServiceResponse {
    #[allow(unused_variables)]
    fn validate_into(&self, v: &mut crate::codegen::Violations) {}
}
impl crate::codegen::Validate for ErrorResponse {
    #[allow(unused_variables)]
    fn validate_into(&self, v: &mut crate::codegen::Violations) {}
}
/// The descriptors of package `grpc.reflection.v1alpha` and its imports (base64): JSON mapping,
/// registry schemas, reflection.
pub static DESCRIPTORS: crate::codegen::Descriptors = crate::codegen::Descriptors::base64(
    "CuQPCihncnBjL3JlZmxlY3Rpb24vdjFhbHBoYS9yZWZsZWN0aW9uLnByb3RvEhdncnBjLnJlZmxlY3Rpb24udjFhbHBoYSL4AgoXU2VydmVyUmVmbGVjdGlvblJlcXVlc3QSEgoEaG9zdBgBIAEoCVIEaG9zdBIqChBmaWxlX2J5X2ZpbGVuYW1lGAMgASgJSABSDmZpbGVCeUZpbGVuYW1lEjYKFmZpbGVfY29udGFpbmluZ19zeW1ib2wYBCABKAlIAFIUZmlsZUNvbnRhaW5pbmdTeW1ib2wSZwoZZmlsZV9jb250YWluaW5nX2V4dGVuc2lvbhgFIAEoCzIpLmdycGMucmVmbGVjdGlvbi52MWFscGhhLkV4dGVuc2lvblJlcXVlc3RIAFIXZmlsZUNvbnRhaW5pbmdFeHRlbnNpb24SQgodYWxsX2V4dGVuc2lvbl9udW1iZXJzX29mX3R5cGUYBiABKAlIAFIZYWxsRXh0ZW5zaW9uTnVtYmVyc09mVHlwZRIlCg1saXN0X3NlcnZpY2VzGAcgASgJSABSDGxpc3RTZXJ2aWNlc0IRCg9tZXNzYWdlX3JlcXVlc3QiZgoQRXh0ZW5zaW9uUmVxdWVzdBInCg9jb250YWluaW5nX3R5cGUYASABKAlSDmNvbnRhaW5pbmdUeXBlEikKEGV4dGVuc2lvbl9udW1iZXIYAiABKAVSD2V4dGVuc2lvbk51bWJlciLHBAoYU2VydmVyUmVmbGVjdGlvblJlc3BvbnNlEh0KCnZhbGlkX2hvc3QYASABKAlSCXZhbGlkSG9zdBJbChBvcmlnaW5hbF9yZXF1ZXN0GAIgASgLMjAuZ3JwYy5yZWZsZWN0aW9uLnYxYWxwaGEuU2VydmVyUmVmbGVjdGlvblJlcXVlc3RSD29yaWdpbmFsUmVxdWVzdBJrChhmaWxlX2Rlc2NyaXB0b3JfcmVzcG9uc2UYBCABKAsyLy5ncnBjLnJlZmxlY3Rpb24udjFhbHBoYS5GaWxlRGVzY3JpcHRvclJlc3BvbnNlSABSFmZpbGVEZXNjcmlwdG9yUmVzcG9uc2USdwoeYWxsX2V4dGVuc2lvbl9udW1iZXJzX3Jlc3BvbnNlGAUgASgLMjAuZ3JwYy5yZWZsZWN0aW9uLnYxYWxwaGEuRXh0ZW5zaW9uTnVtYmVyUmVzcG9uc2VIAFIbYWxsRXh0ZW5zaW9uTnVtYmVyc1Jlc3BvbnNlEmQKFmxpc3Rfc2VydmljZXNfcmVzcG9uc2UYBiABKAsyLC5ncnBjLnJlZmxlY3Rpb24udjFhbHBoYS5MaXN0U2VydmljZVJlc3BvbnNlSABSFGxpc3RTZXJ2aWNlc1Jlc3BvbnNlEk8KDmVycm9yX3Jlc3BvbnNlGAcgASgLMiYuZ3JwYy5yZWZsZWN0aW9uLnYxYWxwaGEuRXJyb3JSZXNwb25zZUgAUg1lcnJvclJlc3BvbnNlQhIKEG1lc3NhZ2VfcmVzcG9uc2UiTAoWRmlsZURlc2NyaXB0b3JSZXNwb25zZRIyChVmaWxlX2Rlc2NyaXB0b3JfcHJvdG8YASADKAxSE2ZpbGVEZXNjcmlwdG9yUHJvdG8iagoXRXh0ZW5zaW9uTnVtYmVyUmVzcG9uc2USJAoOYmFzZV90eXBlX25hbWUYASABKAlSDGJhc2VUeXBlTmFtZRIpChBleHRlbnNpb25fbnVtYmVyGAIgAygFUg9leHRlbnNpb25OdW1iZXIiWQoTTGlzdFNlcnZpY2VSZXNwb25zZRJCCgdzZXJ2aWNlGAEgAygLMiguZ3JwYy5yZWZsZWN0aW9uLnYxYWxwaGEuU2VydmljZVJlc3BvbnNlUgdzZXJ2aWNlIiUKD1NlcnZpY2VSZXNwb25zZRISCgRuYW1lGAEgASgJUgRuYW1lIlMKDUVycm9yUmVzcG9uc2USHQoKZXJyb3JfY29kZRgBIAEoBVIJZXJyb3JDb2RlEiMKDWVycm9yX21lc3NhZ2UYAiABKAlSDGVycm9yTWVzc2FnZTKTAQoQU2VydmVyUmVmbGVjdGlvbhJ/ChRTZXJ2ZXJSZWZsZWN0aW9uSW5mbxIwLmdycGMucmVmbGVjdGlvbi52MWFscGhhLlNlcnZlclJlZmxlY3Rpb25SZXF1ZXN0GjEuZ3JwYy5yZWZsZWN0aW9uLnYxYWxwaGEuU2VydmVyUmVmbGVjdGlvblJlc3BvbnNlKAEwAWIGcHJvdG8zSsICCjIKBAQAAgESAw4EIBolQSBmaWxlIGJ5IG5hbWUsIGUuZy4gImdyZWV0ZXIucHJvdG8iLgpXCgQEAAICEgMQBCYaSlRoZSBmaWxlIGRlZmluaW5nIGEgc3ltYm9sOiBhIHNlcnZpY2UsIG1ldGhvZCwgbWVzc2FnZSwgZW51bSBvciBleHRlbnNpb24uCjUKBAQAAgQSAxMELRooVGhlIGV4dGVuc2lvbiBudW1iZXJzIG9mIGEgbWVzc2FnZSB0eXBlLgooCgQEAAIFEgMVBB0aG1RoZSBuYW1lcyBvZiBldmVyeSBzZXJ2aWNlLgpSCgQEAwIAEgMrAisaRUVuY29kZWQgRmlsZURlc2NyaXB0b3JQcm90b3M6IHRoZSBmaWxlIGFza2VkIGZvciBhbmQgd2hhdCBpdCBpbXBvcnRzLg==",
);
// Protobuf and proto3 JSON for every message of this package.
crate::codegen::impl_messages!(
    DESCRIPTORS;
    ServerReflectionRequest => "grpc.reflection.v1alpha.ServerReflectionRequest",
    ExtensionRequest => "grpc.reflection.v1alpha.ExtensionRequest",
    ServerReflectionResponse => "grpc.reflection.v1alpha.ServerReflectionResponse",
    FileDescriptorResponse => "grpc.reflection.v1alpha.FileDescriptorResponse",
    ExtensionNumberResponse => "grpc.reflection.v1alpha.ExtensionNumberResponse",
    ListServiceResponse => "grpc.reflection.v1alpha.ListServiceResponse",
    ServiceResponse => "grpc.reflection.v1alpha.ServiceResponse",
    ErrorResponse => "grpc.reflection.v1alpha.ErrorResponse",
);
