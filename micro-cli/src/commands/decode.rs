//! Protobuf events as JSON for `micro subscribe`: the message type comes from the event's
//! `micro-message-type` header or from the registered subscribers of the topic (their
//! `message` metadata), its descriptor from the gRPC reflection of a service that knows it.

use std::collections::HashMap;
use std::time::Duration;

use micro::broker::{Envelope, HEADER_MESSAGE_TYPE};
use micro::client::CallOptions;
use micro::reflection::v1::ServerReflectionRequest;
use micro::reflection::v1::server_reflection_client::ServerReflectionClient;
use micro::reflection::v1::server_reflection_request::MessageRequest;
use micro::reflection::v1::server_reflection_response::MessageResponse;
use prost::Message as _;
use prost_reflect::{DescriptorPool, DynamicMessage, MessageDescriptor};
use serde_json::Value as Json;

use crate::commands::topic;

/// How long one reflection question may take.
const ASK_TIMEOUT: Duration = Duration::from_secs(3);
/// At most this many services are asked for one type.
const MAX_ASKED: usize = 16;

/// Turns protobuf bodies into JSON, remembering each type it resolved (or failed to).
pub(crate) struct Decoder {
    client: micro::Client,
    topic: String,
    /// The type the subscribers of the topic take, once found.
    topic_type: Option<String>,
    types: HashMap<String, Option<MessageDescriptor>>,
}

impl Decoder {
    pub(crate) fn new(client: micro::Client, topic: &str) -> Decoder {
        Decoder {
            client,
            topic: topic.to_owned(),
            topic_type: None,
            types: HashMap::new(),
        }
    }

    /// The body of a protobuf `message` as JSON, or why it could not be decoded.
    pub(crate) async fn decode(&mut self, message: &Envelope) -> Result<Json, String> {
        let name = match message.headers.get(HEADER_MESSAGE_TYPE) {
            Some(name) => name.to_owned(),
            None => self.topic_type().await?,
        };
        if !self.types.contains_key(&name) {
            let found = self.resolve(&name).await;
            self.types.insert(name.clone(), found);
        }
        let Some(Some(desc)) = self.types.get(&name) else {
            return Err(format!(
                "no registered service describes {name} (gRPC reflection)"
            ));
        };
        let dynamic = DynamicMessage::decode(desc.clone(), message.body.clone())
            .map_err(|e| format!("the body is not a {name}: {e}"))?;
        serde_json::to_value(&dynamic).map_err(|e| format!("{name} has no JSON form: {e}"))
    }

    /// The one protobuf type the registered subscribers of the topic declare.
    async fn topic_type(&mut self) -> Result<String, String> {
        if let Some(name) = &self.topic_type {
            return Ok(name.clone());
        }
        let registry = self.client.selector().registry().clone();
        let subscribers = topic::subscribers(registry.as_ref(), &self.topic).await;
        let mut names: Vec<&str> = subscribers
            .iter()
            .filter_map(|s| s.message.as_deref())
            .collect();
        names.sort_unstable();
        names.dedup();
        match names.as_slice() {
            [one] => {
                self.topic_type = Some((*one).to_owned());
                Ok((*one).to_owned())
            }
            [] => Err(format!(
                "the event names no message type ({HEADER_MESSAGE_TYPE}) and no registered protobuf subscriber of {} does",
                self.topic
            )),
            many => Err(format!(
                "the event names no message type and the subscribers of {} take several: {}",
                self.topic,
                many.join(", ")
            )),
        }
    }

    /// The descriptor of `name`, from the reflection of its subscribers first, then of any
    /// registered service.
    async fn resolve(&self, name: &str) -> Option<MessageDescriptor> {
        let registry = self.client.selector().registry().clone();
        let mut order: Vec<String> = topic::subscribers(registry.as_ref(), &self.topic)
            .await
            .into_iter()
            .filter(|s| s.message.as_deref() == Some(name))
            .map(|s| s.service)
            .collect();
        if let Ok(all) = registry.list_services().await {
            for s in all {
                if s.name != micro::broker::HTTP_BROKER_SERVICE && !order.contains(&s.name) {
                    order.push(s.name);
                }
            }
        }
        for service in order.iter().take(MAX_ASKED) {
            if let Some(desc) = self.ask(service, name).await {
                return Some(desc);
            }
        }
        None
    }

    /// The descriptor of `name` as `service` reflects it.
    async fn ask(&self, service: &str, name: &str) -> Option<MessageDescriptor> {
        let reflection = ServerReflectionClient::new(service, self.client.clone())
            .with_options(CallOptions::new().timeout(ASK_TIMEOUT));
        let mut stream = reflection.server_reflection_info().await.ok()?;
        stream
            .send(&ServerReflectionRequest {
                host: String::new(),
                message_request: Some(MessageRequest::FileContainingSymbol(name.to_owned())),
            })
            .await
            .ok()?;
        let answer = tokio::time::timeout(ASK_TIMEOUT, stream.recv()).await;
        stream.close_send();
        let Ok(Ok(Some(answer))) = answer else {
            return None;
        };
        let Some(MessageResponse::FileDescriptorResponse(files)) = answer.message_response else {
            return None;
        };
        let files = files
            .file_descriptor_proto
            .iter()
            .map(|bytes| prost_types::FileDescriptorProto::decode(bytes.as_slice()))
            .collect::<Result<Vec<_>, _>>()
            .ok()?;
        let mut pool = DescriptorPool::new();
        pool.add_file_descriptor_protos(files).ok()?;
        pool.get_message_by_name(name)
    }
}
