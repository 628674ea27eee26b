//! The model both front doors build: a service, its methods, their types and options.
//!
//! `micro-gen` fills it from `.proto` descriptors; the `#[micro::service]` macro fills it
//! from a Rust trait. [`check`] finds the names that would clash in generated code (both
//! front doors report them: the macro as errors on the offending tokens, the `.proto` path by
//! renaming and warning), and [`crate::emit`] turns the model into the client and server code.

pub mod check;

use proc_macro2::TokenStream;

/// The shape of a method: how many messages go each way.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StreamKind {
    /// One request, one response.
    Unary,
    /// A stream of requests, one response.
    ClientStream,
    /// One request, a stream of responses.
    ServerStream,
    /// Streams both ways.
    BidiStream,
}

impl StreamKind {
    /// The kind from which sides stream.
    pub const fn new(client_streams: bool, server_streams: bool) -> StreamKind {
        match (client_streams, server_streams) {
            (false, false) => StreamKind::Unary,
            (true, false) => StreamKind::ClientStream,
            (false, true) => StreamKind::ServerStream,
            (true, true) => StreamKind::BidiStream,
        }
    }

    /// True when the request side is a stream.
    pub const fn client_streams(self) -> bool {
        matches!(self, StreamKind::ClientStream | StreamKind::BidiStream)
    }

    /// True when the response side is a stream.
    pub const fn server_streams(self) -> bool {
        matches!(self, StreamKind::ServerStream | StreamKind::BidiStream)
    }
}

/// A service.
#[derive(Clone, Debug)]
pub struct Service {
    /// The service name as declared (`Greeter`): the first half of endpoint names.
    pub name: String,
    /// The Rust name of the handler trait when it is not `name` in UpperCamel (a
    /// `#[micro::service(name = "..")]` trait keeps its own name).
    pub rust_name: Option<String>,
    /// The protobuf package (`greeter`), if any: gives the gRPC path `/greeter.Greeter/Hello`.
    pub package: Option<String>,
    /// Documentation lines.
    pub docs: Vec<String>,
    /// Marked deprecated.
    pub deprecated: bool,
    /// The methods.
    pub methods: Vec<Method>,
    /// Other attributes to put on the handler trait (from a `#[micro::service]` trait).
    pub attrs: Vec<TokenStream>,
}

/// A method.
#[derive(Clone, Debug)]
pub struct Method {
    /// The method name as declared (`Hello`): the second half of the endpoint name.
    pub name: String,
    /// The Rust function name (`hello`, possibly `r#type`).
    pub rust_name: String,
    /// The request type, as seen from the module that holds the generated modules.
    pub request_ty: TokenStream,
    /// The response type, likewise.
    pub response_ty: TokenStream,
    /// The request message's full protobuf name, when there is one (for schemas).
    pub request_proto: Option<String>,
    /// The response message's full protobuf name, when there is one.
    pub response_proto: Option<String>,
    /// How many messages go each way.
    pub kind: StreamKind,
    /// Documentation lines.
    pub docs: Vec<String>,
    /// Marked deprecated.
    pub deprecated: bool,
    /// Safe to run more than once (`idempotency_level` IDEMPOTENT or NO_SIDE_EFFECTS).
    pub idempotent: bool,
    /// HTTP bindings (`google.api.http`).
    pub http: Vec<HttpRule>,
    /// Extra endpoint metadata.
    pub metadata: Vec<(String, String)>,
    /// The longest a call may take: the server's cap and the client's default deadline.
    pub timeout_ms: Option<u64>,
    /// Other attributes to put on the trait method.
    pub attrs: Vec<TokenStream>,
    /// The request type implements `Validate` and has rules: the server checks every
    /// request before the handler runs.
    pub validate: bool,
}

impl Method {
    /// `Service.Method`.
    pub fn endpoint(&self, service: &Service) -> String {
        format!("{}.{}", service.name, self.name)
    }
}

/// One HTTP binding of a method.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpRule {
    /// `GET`, `POST`, ... or a custom verb.
    pub method: String,
    /// The path template, e.g. `/v1/{name=messages/*}`.
    pub path: String,
    /// The request field mapped to the body (`*` for all), if any.
    pub body: Option<String>,
    /// The response field mapped to the body, if any.
    pub response_body: Option<String>,
}

impl HttpRule {
    /// The rule as a JSON object.
    pub fn to_json(&self) -> String {
        let mut out = format!(
            "{{\"method\":{},\"path\":{}",
            json_string(&self.method),
            json_string(&self.path)
        );
        if let Some(body) = &self.body {
            out.push_str(&format!(",\"body\":{}", json_string(body)));
        }
        if let Some(body) = &self.response_body {
            out.push_str(&format!(",\"response_body\":{}", json_string(body)));
        }
        out.push('}');
        out
    }
}

fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_rule_json() {
        let rule = HttpRule {
            method: "POST".into(),
            path: "/v1/{name=\"x\"}".into(),
            body: Some("*".into()),
            response_body: None,
        };
        assert_eq!(
            rule.to_json(),
            r#"{"method":"POST","path":"/v1/{name=\"x\"}","body":"*"}"#
        );
    }
}
