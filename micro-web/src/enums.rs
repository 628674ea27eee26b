//! Enum values for the page's forms. The registry names an enum field's type but not its
//! values; a service's gRPC reflection knows them. Asked once per service page, over one
//! reflection stream, with a short deadline: a service without reflection (a
//! `#[micro::service]` trait, a stock peer) leaves the fields as text.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use micro::client::CallOptions;
use micro::codegen::prost_reflect::DescriptorPool;
use micro::reflection::v1::ServerReflectionRequest;
use micro::reflection::v1::server_reflection_client::ServerReflectionClient;
use micro::reflection::v1::server_reflection_request::MessageRequest;
use micro::reflection::v1::server_reflection_response::MessageResponse;
use micro::registry::{Service, Value};

/// How long the whole exchange may take.
const WITHIN: Duration = Duration::from_secs(2);
/// Types asked about at most.
const MAX_TYPES: usize = 64;

/// A type the registry shows without fields that may be an enum: a dotted name outside
/// `google.protobuf`, after `repeated ` or as a map's value.
fn candidate(kind: &str) -> Option<&str> {
    let kind = kind.strip_prefix("repeated ").unwrap_or(kind);
    let kind = match kind.strip_prefix("map<") {
        Some(rest) => rest.trim_end_matches('>').split_once(',')?.1.trim(),
        None => kind,
    };
    (kind.contains('.') && !kind.starts_with("google.protobuf.")).then_some(kind)
}

fn collect<'a>(value: &'a Value, out: &mut BTreeSet<&'a str>) {
    for field in &value.values {
        if field.values.is_empty() {
            if let Some(kind) = candidate(&field.kind) {
                out.insert(kind);
            }
        } else {
            collect(field, out);
        }
    }
}

/// The enum types the request and response shapes of `records` name.
pub(crate) fn named(records: &[Service]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for svc in records {
        for e in &svc.endpoints {
            for shape in [&e.request, &e.response].into_iter().flatten() {
                collect(shape, &mut out);
            }
        }
    }
    out.into_iter().take(MAX_TYPES).map(str::to_owned).collect()
}

/// The FileDescriptorSet of `files` (each an encoded FileDescriptorProto): field 1,
/// repeated.
fn descriptor_set(files: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for file in files {
        out.push(0x0a);
        micro::prost::encoding::encode_varint(file.len() as u64, &mut out);
        out.extend_from_slice(file);
    }
    out
}

/// The values of each of `types` that `service`'s reflection knows as an enum.
pub(crate) async fn values(
    client: &micro::Client,
    service: &str,
    types: &BTreeSet<String>,
) -> BTreeMap<String, Vec<String>> {
    let mut found = BTreeMap::new();
    if types.is_empty() {
        return found;
    }
    let asked = tokio::time::timeout(WITHIN, ask(client, service, types)).await;
    let Ok(Some(files)) = asked else {
        return found;
    };
    let Ok(pool) = DescriptorPool::decode(descriptor_set(&files).as_slice()) else {
        return found;
    };
    for name in types {
        if let Some(e) = pool.get_enum_by_name(name) {
            found.insert(
                name.clone(),
                e.values().map(|v| v.name().to_owned()).collect(),
            );
        }
    }
    found
}

/// The files that define `types` (and what they import), over one reflection stream.
async fn ask(
    client: &micro::Client,
    service: &str,
    types: &BTreeSet<String>,
) -> Option<Vec<Vec<u8>>> {
    let reflection = ServerReflectionClient::new(service, client.clone())
        .with_options(CallOptions::new().timeout(WITHIN));
    let mut stream = reflection.server_reflection_info().await.ok()?;
    for name in types {
        stream
            .send(&ServerReflectionRequest {
                host: String::new(),
                message_request: Some(MessageRequest::FileContainingSymbol(name.clone())),
            })
            .await
            .ok()?;
    }
    stream.close_send();
    let mut files: Vec<Vec<u8>> = Vec::new();
    while let Ok(Some(answer)) = stream.recv().await {
        if let Some(MessageResponse::FileDescriptorResponse(rsp)) = answer.message_response {
            for file in rsp.file_descriptor_proto {
                if !files.contains(&file) {
                    files.push(file);
                }
            }
        }
    }
    Some(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enum_candidates_are_dotted_names_without_fields() {
        assert_eq!(candidate("gateway.shop.Genre"), Some("gateway.shop.Genre"));
        assert_eq!(candidate("repeated a.Color"), Some("a.Color"));
        assert_eq!(candidate("map<string, a.Color>"), Some("a.Color"));
        assert_eq!(candidate("google.protobuf.Timestamp"), None);
        assert_eq!(candidate("string"), None);
        assert_eq!(candidate("repeated int64"), None);
        let shape = Value::new("Req", "Req")
            .with_field(Value::new("genre", "gateway.shop.Genre"))
            .with_field(Value::new("author", "a.Author").with_field(Value::new("c", "a.Color")));
        let mut out = BTreeSet::new();
        collect(&shape, &mut out);
        assert_eq!(
            out.into_iter().collect::<Vec<_>>(),
            ["a.Color", "gateway.shop.Genre"]
        );
    }
}
