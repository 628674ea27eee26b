//! The emitter: a [`crate::model::Service`] becomes a typed client and a handler trait with
//! the server that routes to it.
//!
//! Two layouts share one emitter:
//! - [`Layout::Modules`] (from `.proto` files): `<svc>_client::<Svc>Client` and
//!   `<svc>_server::{<Svc>, <Svc>Server}`, with message types one module up;
//! - [`Layout::Flat`] (from `#[micro::service]`): `<Trait>Client` and `<Trait>Server` next to
//!   the trait.
//!
//! The client also implements the handler trait (calls go to the remote service), so code
//! written against the trait runs with a local implementation in tests and the client in
//! production. The emitted code names the runtime only through `::micro::codegen`
//! (configurable), so it keeps compiling while the runtime's internals move.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};

mod client;
mod messages;
mod server;

#[cfg(feature = "protobuf")]
pub(crate) use server::description;

use crate::ident::{ident, to_snake, to_upper_camel};
use crate::model::Service;

pub use crate::model::check::CLIENT_RESERVED;
pub use messages::message_impls_text;

/// Where the generated items go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// `<svc>_client` and `<svc>_server` modules; types are relative to their parent.
    Modules,
    /// Items side by side with the trait; types are as written.
    Flat,
}

/// What to emit, and how to name the runtime.
#[derive(Clone, Debug)]
pub struct EmitOptions {
    /// Emit the client.
    pub client: bool,
    /// Emit the handler trait and the server.
    pub server: bool,
    /// Where the items go.
    pub layout: Layout,
    /// The path of the package's `Descriptors` static, as seen from the generated modules'
    /// parent (e.g. `DESCRIPTORS`). Used for registry schemas and reflection.
    pub descriptors: Option<TokenStream>,
    /// The runtime's code generation module, `::micro::codegen` by default.
    pub codegen: TokenStream,
    /// The constructor of `Codec<T>` for every message type: `message` by default (prost
    /// messages), `serde` or `serde_msgpack` for serde types.
    pub codec: Option<TokenStream>,
    /// A macro `schema!(T) -> Option<Value>` giving registry schemas of message types when
    /// there are no descriptors (the trait macro passes `::micro::codegen::schema_of`).
    pub schema: Option<TokenStream>,
    /// The visibility of the generated items (flat layout).
    pub vis: TokenStream,
}

impl Default for EmitOptions {
    fn default() -> EmitOptions {
        EmitOptions {
            client: true,
            server: true,
            layout: Layout::Modules,
            descriptors: None,
            codegen: quote!(::micro::codegen),
            codec: None,
            schema: None,
            vis: quote!(pub),
        }
    }
}

impl EmitOptions {
    /// A type as seen from where the items go.
    pub(crate) fn ty(&self, ty: &TokenStream) -> TokenStream {
        match self.layout {
            Layout::Flat => ty.clone(),
            Layout::Modules => deeper(ty),
        }
    }

    /// `Codec::<ty>::message()` (or the configured constructor), spanned on the type so a
    /// type that cannot be a message is reported where it is written.
    pub(crate) fn codec(&self, ty: &TokenStream) -> TokenStream {
        let cg = &self.codegen;
        let span = ty
            .clone()
            .into_iter()
            .next()
            .map(|t| t.span())
            .unwrap_or_else(proc_macro2::Span::call_site);
        let ctor = match &self.codec {
            Some(codec) => codec.to_string(),
            None => "message".to_owned(),
        };
        let ctor = proc_macro2::Ident::new(ctor.trim(), span);
        quote_spanned!(span=> #cg::Codec::<#ty>::#ctor())
    }
}

/// Doc attributes for comment lines.
pub(crate) fn docs(lines: &[String]) -> TokenStream {
    let lines = lines.iter().map(|l| {
        let l = if l.is_empty() || l.starts_with(' ') {
            l.clone()
        } else {
            format!(" {l}")
        };
        quote!(#[doc = #l])
    });
    quote!(#(#lines)*)
}

pub(crate) fn deprecated(yes: bool) -> TokenStream {
    if yes {
        quote!(#[deprecated])
    } else {
        TokenStream::new()
    }
}

/// A type as seen from one module deeper: relative paths get a `super::`.
fn deeper(ty: &TokenStream) -> TokenStream {
    let text = ty.to_string().replace(' ', "");
    if text.starts_with("::") || text.starts_with("crate::") || text == "()" {
        ty.clone()
    } else {
        quote!(super::#ty)
    }
}

/// The names of the generated items.
pub(crate) struct Names {
    pub(crate) client_module: proc_macro2::Ident,
    pub(crate) server_module: proc_macro2::Ident,
    pub(crate) client: proc_macro2::Ident,
    pub(crate) service_trait: proc_macro2::Ident,
    pub(crate) server: proc_macro2::Ident,
}

fn names(service: &Service) -> Names {
    let base = service
        .rust_name
        .clone()
        .unwrap_or_else(|| service.name.clone());
    let snake = to_snake(&base);
    let snake = snake.trim_start_matches("r#");
    let camel = match &service.rust_name {
        Some(name) => name.clone(),
        None => to_upper_camel(&service.name),
    };
    let camel_plain = camel.trim_start_matches("r#");
    Names {
        client_module: format_ident!("{snake}_client"),
        server_module: format_ident!("{snake}_server"),
        client: format_ident!("{camel_plain}Client"),
        service_trait: ident(&camel),
        server: format_ident!("{camel_plain}Server"),
    }
}

/// Emit the client and server of `service`.
pub fn service(service: &Service, opts: &EmitOptions) -> TokenStream {
    let names = names(service);
    let mut out = TokenStream::new();
    if opts.server {
        out.extend(server::server(service, opts, &names));
    }
    if opts.client {
        out.extend(client::client(service, opts, &names));
    }
    out
}

pub(crate) fn full_name(service: &Service) -> String {
    match &service.package {
        Some(pkg) => format!("{pkg}.{}", service.name),
        None => service.name.clone(),
    }
}

const MODULE_ALLOW: &str = "unused_variables, dead_code, missing_docs, deprecated, clippy::all, clippy::pedantic, clippy::nursery";

pub(crate) fn module_allow() -> TokenStream {
    let lints: TokenStream = MODULE_ALLOW.parse().unwrap_or_default();
    quote!(#![allow(#lints)])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Method, StreamKind};

    fn method(name: &str, cs: bool, ss: bool) -> Method {
        Method {
            name: name.into(),
            rust_name: to_snake(name),
            request_ty: quote!(HelloRequest),
            response_ty: quote!(super::other::HelloResponse),
            request_proto: Some("greeter.HelloRequest".into()),
            response_proto: Some("other.HelloResponse".into()),
            kind: StreamKind::new(cs, ss),
            docs: vec![" Says hello.".into()],
            deprecated: false,
            idempotent: false,
            http: vec![],
            metadata: vec![],
            timeout_ms: None,
            attrs: vec![],
            validate: false,
        }
    }

    fn service(methods: Vec<Method>) -> Service {
        Service {
            name: "Greeter".into(),
            rust_name: None,
            package: Some("greeter".into()),
            docs: vec![" The greeter.".into()],
            deprecated: false,
            methods,
            attrs: vec![],
        }
    }

    #[test]
    fn relative_types_go_one_level_deeper() {
        assert_eq!(deeper(&quote!(Foo)).to_string(), "super :: Foo");
        assert_eq!(
            deeper(&quote!(super::x::Foo)).to_string(),
            "super :: super :: x :: Foo"
        );
        assert_eq!(
            deeper(&quote!(::prost_types::Timestamp)).to_string(),
            ":: prost_types :: Timestamp"
        );
        assert_eq!(deeper(&quote!(())).to_string(), "()");
    }

    #[test]
    fn reserved_and_clashing_names_are_renamed() {
        let svc = service(vec![
            method("New", false, false),
            method("Get", false, false),
            method("GetWith", false, false),
        ]);
        let names = crate::model::check::client_names(&svc);
        assert_eq!(names[0], ("new_rpc".to_owned(), "new_rpc_with".to_owned()));
        assert_eq!(names[1], ("get".to_owned(), "get_rpc_with".to_owned()));
        assert_eq!(
            names[2],
            ("get_with".to_owned(), "get_with_with".to_owned())
        );
    }

    #[test]
    fn emitted_code_parses_in_both_layouts() {
        let svc = service(vec![
            method("Hello", false, false),
            method("List", false, true),
            method("Upload", true, false),
            method("Chat", true, true),
        ]);
        let opts = EmitOptions {
            descriptors: Some(quote!(DESCRIPTORS)),
            ..EmitOptions::default()
        };
        let file: syn::File = syn::parse2(super::service(&svc, &opts)).expect("valid Rust");
        let text = prettyplease::unparse(&file);
        assert!(text.contains("pub mod greeter_client"));
        assert!(text.contains("pub trait Greeter"));
        assert!(text.contains("\"Greeter.Hello\""));
        assert!(text.contains("super::super::other::HelloResponse"));
        assert!(text.contains("impl super::greeter_server::Greeter for GreeterClient"));

        let flat = EmitOptions {
            layout: Layout::Flat,
            codec: Some(quote!(serde)),
            ..EmitOptions::default()
        };
        let file: syn::File = syn::parse2(super::service(&svc, &flat)).expect("valid Rust");
        let text = prettyplease::unparse(&file);
        assert!(!text.contains("pub mod"));
        assert!(text.contains("impl Greeter for GreeterClient"));
        assert!(text.contains("Codec::<HelloRequest>::serde()"));
    }
}
