//! `protoc-gen-micro`: the protoc plugin protocol.

use prost::Message as _;
use prost_types::compiler::{CodeGeneratorRequest, CodeGeneratorResponse, code_generator_response};

use super::{Error, Input, Settings, generate, include_file};

/// Features this plugin declares to protoc: proto3 `optional`.
const FEATURE_PROTO3_OPTIONAL: u64 = 1;

/// Parameters of the plugin (`--micro_opt=key=value,...`).
#[derive(Debug, Default)]
struct Parameters {
    settings: Settings,
    include_file: Option<String>,
}

const KEYS: &str = "client, server, comments, services_only, type_names, extern_path, type_attribute, message_attribute, enum_attribute, field_attribute, btree_map, bytes, boxed, include_file, codegen_path";

fn boolean(key: &str, value: Option<&str>) -> Result<bool, Error> {
    match value {
        None | Some("true") => Ok(true),
        Some("false") => Ok(false),
        Some(other) => Err(Error::new(format!(
            "protoc-gen-micro: parameter {key}={other}: expected true or false"
        ))),
    }
}

fn pair(key: &str, value: Option<&str>) -> Result<(String, String), Error> {
    value
        .and_then(|v| v.split_once('='))
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
        .ok_or_else(|| {
            Error::new(format!(
                "protoc-gen-micro: parameter {key} needs a value like {key}=.proto.path=rust value"
            ))
        })
}

fn required(key: &str, value: Option<&str>) -> Result<String, Error> {
    value
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| Error::new(format!("protoc-gen-micro: parameter {key} needs a value")))
}

/// Split on commas that are not escaped with a backslash.
fn split_params(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&',') => {
                current.push(',');
                chars.next();
            }
            ',' => out.push(std::mem::take(&mut current)),
            c => current.push(c),
        }
    }
    out.push(current);
    out.into_iter()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect()
}

fn parse(parameter: &str) -> Result<Parameters, Error> {
    let mut p = Parameters::default();
    for item in split_params(parameter) {
        let (key, value) = match item.split_once('=') {
            Some((k, v)) => (k.trim(), Some(v.trim())),
            None => (item.as_str(), None),
        };
        let s = &mut p.settings;
        match key {
            "client" => s.client = boolean(key, value)?,
            "server" => s.server = boolean(key, value)?,
            "comments" => s.comments = boolean(key, value)?,
            "services_only" => s.services_only = boolean(key, value)?,
            "type_names" => s.type_names = boolean(key, value)?,
            "extern_path" => s.extern_paths.push(pair(key, value)?),
            "type_attribute" => s.type_attributes.push(pair(key, value)?),
            "message_attribute" => s.message_attributes.push(pair(key, value)?),
            "enum_attribute" => s.enum_attributes.push(pair(key, value)?),
            "field_attribute" => s.field_attributes.push(pair(key, value)?),
            "btree_map" => s.btree_maps.push(required(key, value)?),
            "bytes" => s.bytes.push(required(key, value)?),
            "boxed" => s.boxed.push(required(key, value)?),
            "codegen_path" => s.codegen_path = required(key, value)?,
            "include_file" => p.include_file = Some(required(key, value)?),
            other => {
                return Err(Error::new(format!(
                    "protoc-gen-micro: unknown parameter {other:?}; known parameters: {KEYS}"
                )));
            }
        }
    }
    Ok(p)
}

/// The request's `proto_file` entries (field 15) re-tagged as a `FileDescriptorSet` (field
/// 1), byte for byte, so custom options survive.
fn descriptor_set_bytes(request: &[u8]) -> Result<Vec<u8>, Error> {
    let bad = || Error::new("protoc-gen-micro: malformed CodeGeneratorRequest");
    let mut out = Vec::new();
    let mut buf = request;
    while !buf.is_empty() {
        let key = prost::encoding::decode_varint(&mut buf).map_err(|_| bad())?;
        let (field, wire) = (key >> 3, key & 7);
        match wire {
            0 => {
                prost::encoding::decode_varint(&mut buf).map_err(|_| bad())?;
            }
            1 => buf = buf.get(8..).ok_or_else(bad)?,
            5 => buf = buf.get(4..).ok_or_else(bad)?,
            2 => {
                let len =
                    usize::try_from(prost::encoding::decode_varint(&mut buf).map_err(|_| bad())?)
                        .map_err(|_| bad())?;
                let bytes = buf.get(..len).ok_or_else(bad)?;
                if field == 15 {
                    prost::encoding::encode_key(
                        1,
                        prost::encoding::WireType::LengthDelimited,
                        &mut out,
                    );
                    prost::encoding::encode_varint(len as u64, &mut out);
                    out.extend_from_slice(bytes);
                }
                buf = &buf[len..];
            }
            _ => return Err(bad()),
        }
    }
    Ok(out)
}

fn run(
    request_bytes: &[u8],
    report: &mut dyn FnMut(&str),
) -> Result<Vec<code_generator_response::File>, Error> {
    let request = CodeGeneratorRequest::decode(request_bytes).map_err(|e| {
        Error::new(format!(
            "protoc-gen-micro: cannot decode the request from protoc: {e}"
        ))
    })?;
    let params = parse(request.parameter())?;
    let fds = descriptor_set_bytes(request_bytes)?;
    let files = generate(
        Input::decode(&fds)?,
        Some(&request.file_to_generate),
        &params.settings,
    )?;
    for warning in files.iter().flat_map(|f| &f.warnings) {
        report(warning);
    }
    let suffix = if params.settings.services_only {
        "micro.rs"
    } else {
        "rs"
    };
    let name = |file_name: &str| format!("{}.{suffix}", file_name.trim_end_matches(".rs"));
    let mut out: Vec<code_generator_response::File> = files
        .iter()
        .map(|f| code_generator_response::File {
            name: Some(name(&f.file_name)),
            content: Some(f.content.clone()),
            ..Default::default()
        })
        .collect();
    if let Some(include) = &params.include_file {
        let text = include_file(&files, |f| format!("include!(\"{}\");", name(f)));
        out.push(code_generator_response::File {
            name: Some(include.clone()),
            content: Some(text),
            ..Default::default()
        });
    }
    Ok(out)
}

/// Answer one protoc request: the generated files, or the error in
/// `CodeGeneratorResponse.error` (never a panic).
pub fn execute(request: &[u8]) -> Vec<u8> {
    execute_reporting(request, |_| {})
}

/// [`execute`], handing each warning (a client function renamed around a name the client
/// uses itself) to `report`; `protoc-gen-micro` prints them on stderr, where protoc shows them.
pub fn execute_reporting(request: &[u8], mut report: impl FnMut(&str)) -> Vec<u8> {
    let response = match run(request, &mut report) {
        Ok(file) => CodeGeneratorResponse {
            file,
            supported_features: Some(FEATURE_PROTO3_OPTIONAL),
            ..Default::default()
        },
        Err(e) => CodeGeneratorResponse {
            error: Some(e.to_string()),
            supported_features: Some(FEATURE_PROTO3_OPTIONAL),
            ..Default::default()
        },
    };
    response.encode_to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters() {
        let p = parse("client=false,services_only,extern_path=.acme=::acme,type_attribute=.=#[derive(Eq\\, Hash)]").unwrap();
        assert!(!p.settings.client);
        assert!(p.settings.services_only);
        assert_eq!(
            p.settings.extern_paths,
            [(".acme".to_owned(), "::acme".to_owned())]
        );
        assert_eq!(p.settings.type_attributes[0].1, "#[derive(Eq, Hash)]");
        let err = parse("colour=blue").unwrap_err();
        assert!(err.to_string().contains("unknown parameter \"colour\""));
        assert!(parse("client=maybe").is_err());
        assert!(parse("extern_path=nope").is_err());
    }

    #[test]
    fn a_garbage_request_is_an_error_response() {
        let rsp = CodeGeneratorResponse::decode(execute(&[0xff, 0xff]).as_slice()).unwrap();
        assert!(rsp.error.is_some());
        assert!(rsp.file.is_empty());
    }
}
