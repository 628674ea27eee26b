//! gRPC server reflection, `grpc.reflection.v1` and `v1alpha`, served by every micro server
//! from the descriptors generated code embeds: `grpcurl`, Postman and other tools list the
//! services and resolve every message type without the `.proto` files.

use std::collections::HashSet;
use std::sync::{Arc, OnceLock};

use prost::Message as _;
use prost_reflect::{DescriptorPool, FileDescriptor};

use crate::codec::Descriptors;
use crate::context::Context;
use crate::error::Result;
use crate::server::Router;
use crate::stream::{StreamReceiver, StreamSender};

/// The generated code of `grpc.reflection.v1`.
#[allow(missing_docs, clippy::all)]
pub mod v1 {
    include!("generated/grpc.reflection.v1.rs");
}

/// The generated code of `grpc.reflection.v1alpha` (the same messages, the older package).
#[allow(missing_docs, clippy::all)]
pub mod v1alpha {
    include!("generated/grpc.reflection.v1alpha.rs");
}

use v1::server_reflection_request::MessageRequest;
use v1::server_reflection_response::MessageResponse;
use v1::{
    ErrorResponse, ExtensionNumberResponse, FileDescriptorResponse, ListServiceResponse,
    ServerReflectionRequest, ServerReflectionResponse, ServiceResponse,
};

/// The reflection service of one server.
#[derive(Clone, Debug)]
pub(crate) struct Reflection {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    descriptors: Vec<&'static Descriptors>,
    services: Vec<String>,
    pool: OnceLock<DescriptorPool>,
}

/// The names of the reflection services themselves.
pub(crate) const SERVICES: [&str; 2] = [
    "grpc.reflection.v1.ServerReflection",
    "grpc.reflection.v1alpha.ServerReflection",
];

impl Reflection {
    pub(crate) fn new(
        mut descriptors: Vec<&'static Descriptors>,
        mut services: Vec<String>,
    ) -> Reflection {
        descriptors.push(&v1::DESCRIPTORS);
        descriptors.push(&v1alpha::DESCRIPTORS);
        let mut seen = HashSet::new();
        descriptors.retain(|d| seen.insert(*d as *const Descriptors));
        services.extend(SERVICES.iter().map(|s| (*s).to_owned()));
        services.sort();
        services.dedup();
        Reflection {
            inner: Arc::new(Inner {
                descriptors,
                services,
                pool: OnceLock::new(),
            }),
        }
    }

    pub(crate) fn router(&self) -> Router {
        Router::new()
            .merge(v1::server_reflection_server::ServerReflectionServer::new(
                self.clone(),
            ))
            .merge(v1alpha::server_reflection_server::ServerReflectionServer::new(self.clone()))
            .framework()
    }

    fn pool(&self) -> &DescriptorPool {
        self.inner.pool.get_or_init(|| {
            let mut pool = DescriptorPool::global();
            for d in &self.inner.descriptors {
                if let Ok(bytes) = d.bytes()
                    && let Err(e) = pool.decode_file_descriptor_set(bytes)
                {
                    tracing::warn!(error = %e, "reflection: skipping descriptors that do not fit together");
                }
            }
            pool
        })
    }

    /// A file and everything it imports, imports first, each once.
    fn with_imports(file: &FileDescriptor) -> Vec<Vec<u8>> {
        fn visit(file: &FileDescriptor, seen: &mut HashSet<String>, out: &mut Vec<Vec<u8>>) {
            if !seen.insert(file.name().to_owned()) {
                return;
            }
            for dep in file.dependencies() {
                visit(&dep, seen, out);
            }
            out.push(file.file_descriptor_proto().encode_to_vec());
        }
        let mut out = Vec::new();
        visit(file, &mut HashSet::new(), &mut out);
        // The file asked for comes first, as reflection clients expect.
        out.rotate_right(1);
        out
    }

    fn files(file: Option<FileDescriptor>, what: &str) -> MessageResponse {
        match file {
            Some(file) => MessageResponse::FileDescriptorResponse(FileDescriptorResponse {
                file_descriptor_proto: Self::with_imports(&file),
            }),
            None => not_found(format!("{what} not found")),
        }
    }

    fn symbol_file(&self, symbol: &str) -> Option<FileDescriptor> {
        let pool = self.pool();
        if let Some(s) = pool.get_service_by_name(symbol) {
            return Some(s.parent_file());
        }
        if let Some(m) = pool.get_message_by_name(symbol) {
            return Some(m.parent_file());
        }
        if let Some(e) = pool.get_enum_by_name(symbol) {
            return Some(e.parent_file());
        }
        if let Some(x) = pool.get_extension_by_name(symbol) {
            return Some(x.parent_file());
        }
        // A method: `pkg.Service.Method`.
        let (service, method) = symbol.rsplit_once('.')?;
        let s = pool.get_service_by_name(service)?;
        s.methods()
            .any(|m| m.name() == method)
            .then(|| s.parent_file())
    }

    fn answer(&self, request: &ServerReflectionRequest) -> MessageResponse {
        let pool = self.pool();
        match &request.message_request {
            Some(MessageRequest::ListServices(_)) => {
                MessageResponse::ListServicesResponse(ListServiceResponse {
                    service: self
                        .inner
                        .services
                        .iter()
                        .map(|name| ServiceResponse { name: name.clone() })
                        .collect(),
                })
            }
            Some(MessageRequest::FileByFilename(name)) => {
                Self::files(pool.get_file_by_name(name), &format!("file {name:?}"))
            }
            Some(MessageRequest::FileContainingSymbol(symbol)) => {
                Self::files(self.symbol_file(symbol), &format!("symbol {symbol:?}"))
            }
            Some(MessageRequest::FileContainingExtension(ext)) => {
                let file = pool
                    .all_extensions()
                    .find(|x| {
                        x.containing_message().full_name() == ext.containing_type
                            && i64::from(x.number()) == i64::from(ext.extension_number)
                    })
                    .map(|x| x.parent_file());
                Self::files(
                    file,
                    &format!(
                        "extension {} of {}",
                        ext.extension_number, ext.containing_type
                    ),
                )
            }
            Some(MessageRequest::AllExtensionNumbersOfType(ty)) => match pool
                .get_message_by_name(ty)
            {
                Some(m) => MessageResponse::AllExtensionNumbersResponse(ExtensionNumberResponse {
                    base_type_name: m.full_name().to_owned(),
                    extension_number: m
                        .extensions()
                        .filter_map(|x| i32::try_from(x.number()).ok())
                        .collect(),
                }),
                None => not_found(format!("type {ty:?} not found")),
            },
            None => MessageResponse::ErrorResponse(ErrorResponse {
                error_code: crate::Code::InvalidArgument.as_i32(),
                error_message: "empty reflection request".into(),
            }),
        }
    }
}

fn not_found(message: String) -> MessageResponse {
    MessageResponse::ErrorResponse(ErrorResponse {
        error_code: crate::Code::NotFound.as_i32(),
        error_message: message,
    })
}

impl v1::server_reflection_server::ServerReflection for Reflection {
    async fn server_reflection_info(
        &self,
        _ctx: Context,
        mut requests: StreamReceiver<ServerReflectionRequest>,
        responses: StreamSender<ServerReflectionResponse>,
    ) -> Result<()> {
        while let Some(request) = requests.recv().await? {
            let message_response = self.answer(&request);
            responses
                .send(&ServerReflectionResponse {
                    valid_host: request.host.clone(),
                    original_request: Some(request),
                    message_response: Some(message_response),
                })
                .await?;
        }
        Ok(())
    }
}

/// v1alpha has the same messages: answer through v1 (the bytes are identical).
fn convert<A: prost::Message, B: prost::Message + Default>(from: &A) -> Result<B> {
    B::decode(from.encode_to_vec().as_slice()).map_err(|e| crate::codec::proto_error(&e))
}

impl v1alpha::server_reflection_server::ServerReflection for Reflection {
    async fn server_reflection_info(
        &self,
        _ctx: Context,
        mut requests: StreamReceiver<v1alpha::ServerReflectionRequest>,
        responses: StreamSender<v1alpha::ServerReflectionResponse>,
    ) -> Result<()> {
        while let Some(request) = requests.recv().await? {
            let request: ServerReflectionRequest = convert(&request)?;
            let message_response = self.answer(&request);
            let response = ServerReflectionResponse {
                valid_host: request.host.clone(),
                original_request: Some(request),
                message_response: Some(message_response),
            };
            responses.send(&convert(&response)?).await?;
        }
        Ok(())
    }
}
