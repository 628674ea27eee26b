//! The emitter: a [`crate::model::Service`] becomes a `<svc>_client` module (a typed
//! client) and a `<svc>_server` module (a handler trait and a server that routes to it).
//!
//! The emitted code names the runtime only through `::micro::codegen` (configurable), so it
//! keeps compiling while the runtime's internals move.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::ident::{ident, to_snake, to_upper_camel};
use crate::model::{Method, Service};

/// What to emit, and how to name the runtime.
#[derive(Clone, Debug)]
pub struct EmitOptions {
    /// Emit `<svc>_client`.
    pub client: bool,
    /// Emit `<svc>_server`.
    pub server: bool,
    /// The path of the package's `Descriptors` static, as seen from the generated modules'
    /// parent (e.g. `FILE_DESCRIPTOR_SET`). Used for registry schemas and reflection.
    pub descriptors: Option<TokenStream>,
    /// The runtime's code generation module, `::micro::codegen` by default.
    pub codegen: TokenStream,
}

impl Default for EmitOptions {
    fn default() -> EmitOptions {
        EmitOptions {
            client: true,
            server: true,
            descriptors: None,
            codegen: quote!(::micro::codegen),
        }
    }
}

/// Doc attributes for comment lines.
fn docs(lines: &[String]) -> TokenStream {
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

fn deprecated(yes: bool) -> TokenStream {
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

/// Function names the client struct uses itself; methods named like them get `_rpc`.
const CLIENT_RESERVED: &[&str] = &["new", "with_options", "client", "service", "options"];

/// The client-side function names of each method: `(call, call_with)`.
fn client_names(service: &Service) -> Vec<(String, String)> {
    let base: Vec<String> = service
        .methods
        .iter()
        .map(|m| m.rust_name.clone())
        .collect();
    let mut out = Vec::new();
    for name in &base {
        let plain = name.strip_prefix("r#").unwrap_or(name);
        let mut call = name.clone();
        if CLIENT_RESERVED.contains(&plain) {
            call = format!("{plain}_rpc");
        }
        let call_plain = call.strip_prefix("r#").unwrap_or(&call).to_owned();
        let mut with = format!("{call_plain}_with");
        if base
            .iter()
            .any(|b| b.strip_prefix("r#").unwrap_or(b) == with)
        {
            with = format!("{call_plain}_rpc_with");
        }
        out.push((call, with));
    }
    out
}

/// Emit the client and server modules of `service`.
pub fn service(service: &Service, opts: &EmitOptions) -> TokenStream {
    let mut out = TokenStream::new();
    if opts.client {
        out.extend(client(service, opts));
    }
    if opts.server {
        out.extend(server(service, opts));
    }
    out
}

fn full_name(service: &Service) -> String {
    match &service.package {
        Some(pkg) => format!("{pkg}.{}", service.name),
        None => service.name.clone(),
    }
}

fn client(service: &Service, opts: &EmitOptions) -> TokenStream {
    let cg = &opts.codegen;
    let module = format_ident!(
        "{}_client",
        to_snake(&service.name).trim_start_matches("r#")
    );
    let client_ty = format_ident!(
        "{}Client",
        to_upper_camel(&service.name).trim_start_matches("r#")
    );
    let svc_docs = docs(&service.docs);
    let svc_deprecated = deprecated(service.deprecated);
    let full = full_name(service);
    let module_doc = format!(" Client for the `{full}` service.");
    let struct_doc = format!(" Calls `{full}` on the nodes the registry lists for a service name.");
    let package = match &service.package {
        Some(pkg) => quote!(::core::option::Option::Some(#pkg)),
        None => quote!(::core::option::Option::None),
    };
    let names = client_names(service);
    let methods = service
        .methods
        .iter()
        .zip(names)
        .map(|(m, (call, with))| client_method(service, m, &ident(&call), &ident(&with), cg));
    quote! {
        #[doc = #module_doc]
        pub mod #module {
            #![allow(
                unused_variables,
                dead_code,
                missing_docs,
                deprecated,
                clippy::all,
                clippy::pedantic,
                clippy::nursery
            )]

            #[doc = #struct_doc]
            ///
            #svc_docs
            #svc_deprecated
            #[derive(Clone, Debug)]
            pub struct #client_ty {
                client: #cg::Client,
                service: ::std::string::String,
                options: #cg::CallOptions,
            }

            impl #client_ty {
                /// A client for the service registered as `service` (e.g. `"greeter"`),
                /// calling through `client`.
                pub fn new(service: impl ::core::convert::Into<::std::string::String>, client: #cg::Client) -> Self {
                    Self {
                        client,
                        service: service.into(),
                        options: #cg::CallOptions::new(),
                    }
                }

                /// Use `options` for every call of this client (timeout, metadata, retries,
                /// address, filters).
                #[must_use]
                pub fn with_options(mut self, options: #cg::CallOptions) -> Self {
                    self.options = options;
                    self
                }

                /// The options used for every call.
                pub fn options(&self) -> &#cg::CallOptions {
                    &self.options
                }

                /// The service name calls go to.
                pub fn service(&self) -> &str {
                    &self.service
                }

                /// The underlying runtime client.
                pub fn client(&self) -> &#cg::Client {
                    &self.client
                }

                fn call_options(&self, options: &#cg::CallOptions) -> #cg::CallOptions {
                    #cg::call_options(options, #package)
                }

                #(#methods)*
            }
        }
    }
}

fn client_method(
    service: &Service,
    m: &Method,
    call: &proc_macro2::Ident,
    with: &proc_macro2::Ident,
    cg: &TokenStream,
) -> TokenStream {
    let endpoint = m.endpoint(service);
    let input = deeper(&m.input);
    let output = deeper(&m.output);
    let method_docs = docs(&m.docs);
    let dep = deprecated(m.deprecated);
    let call_name = call.to_string();
    let with_doc = match call_name.strip_prefix("r#") {
        // Intra-doc links cannot name raw identifiers.
        Some(raw) => format!(" `{raw}` with a context (deadline, metadata) and call options."),
        None => {
            format!(" [`Self::{call_name}`] with a context (deadline, metadata) and call options.")
        }
    };
    match (m.client_streaming, m.server_streaming) {
        (false, false) => quote! {
            #method_docs
            #dep
            pub async fn #call(&self, request: #input) -> #cg::Result<#output> {
                self.#with(&#cg::Context::new(), request, &self.options).await
            }

            #[doc = #with_doc]
            #dep
            pub async fn #with(
                &self,
                ctx: &#cg::Context,
                request: #input,
                options: &#cg::CallOptions,
            ) -> #cg::Result<#output> {
                self.client
                    .call_with(ctx, &self.service, #endpoint, &request, &self.call_options(options))
                    .await
            }
        },
        (false, true) => quote! {
            #method_docs
            ///
            /// Returns the stream of responses.
            #dep
            pub async fn #call(&self, request: #input) -> #cg::Result<#cg::StreamReceiver<#output>> {
                self.#with(&#cg::Context::new(), request, &self.options).await
            }

            #[doc = #with_doc]
            #dep
            pub async fn #with(
                &self,
                ctx: &#cg::Context,
                request: #input,
                options: &#cg::CallOptions,
            ) -> #cg::Result<#cg::StreamReceiver<#output>> {
                self.client
                    .server_stream(ctx, &self.service, #endpoint, &request, &self.call_options(options))
                    .await
            }
        },
        (true, false) => quote! {
            #method_docs
            ///
            /// Send requests on the returned stream, then `finish` it for the response.
            #dep
            pub async fn #call(&self) -> #cg::Result<#cg::ClientStreaming<#input, #output>> {
                self.#with(&#cg::Context::new(), &self.options).await
            }

            #[doc = #with_doc]
            #dep
            pub async fn #with(
                &self,
                ctx: &#cg::Context,
                options: &#cg::CallOptions,
            ) -> #cg::Result<#cg::ClientStreaming<#input, #output>> {
                self.client
                    .client_stream(ctx, &self.service, #endpoint, &self.call_options(options))
                    .await
            }
        },
        (true, true) => quote! {
            #method_docs
            ///
            /// Send and receive on the returned stream; `close_send` ends the requests.
            #dep
            pub async fn #call(&self) -> #cg::Result<#cg::Streaming<#input, #output>> {
                self.#with(&#cg::Context::new(), &self.options).await
            }

            #[doc = #with_doc]
            #dep
            pub async fn #with(
                &self,
                ctx: &#cg::Context,
                options: &#cg::CallOptions,
            ) -> #cg::Result<#cg::Streaming<#input, #output>> {
                self.client
                    .stream(ctx, &self.service, #endpoint, &self.call_options(options))
                    .await
            }
        },
    }
}

fn server(service: &Service, opts: &EmitOptions) -> TokenStream {
    let cg = &opts.codegen;
    let module = format_ident!(
        "{}_server",
        to_snake(&service.name).trim_start_matches("r#")
    );
    let trait_ident = ident(&to_upper_camel(&service.name));
    let server_ty = format_ident!(
        "{}Server",
        to_upper_camel(&service.name).trim_start_matches("r#")
    );
    let svc_docs = docs(&service.docs);
    let svc_deprecated = deprecated(service.deprecated);
    let full = full_name(service);
    let module_doc = format!(" Handler trait and server for the `{full}` service.");
    let trait_doc =
        format!(" The handler of `{full}`: implement it, then serve it with [`{server_ty}`].");
    let server_doc = format!(
        " Serves a [`{trait_ident}`] implementation: pass it to `Service::builder(..).handler(..)`."
    );
    let trait_methods = service.methods.iter().map(|m| trait_method(m, cg));
    let routes = service.methods.iter().map(|m| route(service, m, opts));
    quote! {
        #[doc = #module_doc]
        pub mod #module {
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
            pub const SERVICE_NAME: &str = #full;

            #[doc = #trait_doc]
            ///
            #svc_docs
            #svc_deprecated
            pub trait #trait_ident: ::core::marker::Send + ::core::marker::Sync + 'static {
                #(#trait_methods)*
            }

            #[doc = #server_doc]
            pub struct #server_ty<H> {
                handler: ::std::sync::Arc<H>,
            }

            impl<H: #trait_ident> #server_ty<H> {
                /// Serve `handler`.
                pub fn new(handler: H) -> Self {
                    Self::from_arc(::std::sync::Arc::new(handler))
                }

                /// Serve a shared `handler`.
                pub fn from_arc(handler: ::std::sync::Arc<H>) -> Self {
                    Self { handler }
                }
            }

            impl<H> ::core::clone::Clone for #server_ty<H> {
                fn clone(&self) -> Self {
                    Self { handler: self.handler.clone() }
                }
            }

            impl<H> ::core::fmt::Debug for #server_ty<H> {
                fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                    f.write_str(::core::stringify!(#server_ty))
                }
            }

            impl<H: #trait_ident> #cg::Handler for #server_ty<H> {
                fn into_router(self) -> #cg::Router {
                    let router = #cg::Router::new();
                    #(#routes)*
                    router
                }
            }
        }
    }
}

fn trait_method(m: &Method, cg: &TokenStream) -> TokenStream {
    let name = ident(&m.rust_name);
    let input = deeper(&m.input);
    let output = deeper(&m.output);
    let method_docs = docs(&m.docs);
    let dep = deprecated(m.deprecated);
    let send = quote!(+ ::core::marker::Send);
    match (m.client_streaming, m.server_streaming) {
        (false, false) => quote! {
            #method_docs
            #dep
            fn #name(&self, ctx: #cg::Context, request: #input)
                -> impl #cg::Future<Output = #cg::Result<#output>> #send;
        },
        (false, true) => quote! {
            #method_docs
            ///
            /// Send the responses on `responses`; returning ends the stream.
            #dep
            fn #name(&self, ctx: #cg::Context, request: #input, responses: #cg::StreamSender<#output>)
                -> impl #cg::Future<Output = #cg::Result<()>> #send;
        },
        (true, false) => quote! {
            #method_docs
            ///
            /// Receive the requests from `requests` until it returns `None`.
            #dep
            fn #name(&self, ctx: #cg::Context, requests: #cg::StreamReceiver<#input>)
                -> impl #cg::Future<Output = #cg::Result<#output>> #send;
        },
        (true, true) => quote! {
            #method_docs
            ///
            /// Receive requests from `requests` and send responses on `responses`; returning
            /// ends the stream.
            #dep
            fn #name(
                &self,
                ctx: #cg::Context,
                requests: #cg::StreamReceiver<#input>,
                responses: #cg::StreamSender<#output>,
            ) -> impl #cg::Future<Output = #cg::Result<()>> #send;
        },
    }
}

fn route(service: &Service, m: &Method, opts: &EmitOptions) -> TokenStream {
    let cg = &opts.codegen;
    let name = ident(&m.rust_name);
    let endpoint = m.endpoint(service);
    let input = deeper(&m.input);
    let output = deeper(&m.output);
    let build = match (m.client_streaming, m.server_streaming) {
        (false, false) => quote! {
            #cg::Route::unary(#endpoint, move |ctx: #cg::Context, request: #input| {
                let handler = handler.clone();
                async move { handler.#name(ctx, request).await }
            })
        },
        (false, true) => quote! {
            #cg::Route::server_stream(#endpoint, move |ctx: #cg::Context, request: #input, responses: #cg::StreamSender<#output>| {
                let handler = handler.clone();
                async move { handler.#name(ctx, request, responses).await }
            })
        },
        (true, false) => quote! {
            #cg::Route::client_stream(#endpoint, move |ctx: #cg::Context, requests: #cg::StreamReceiver<#input>| {
                let handler = handler.clone();
                async move { handler.#name(ctx, requests).await }
            })
        },
        (true, true) => quote! {
            #cg::Route::bidi_stream(#endpoint, move |ctx: #cg::Context, requests: #cg::StreamReceiver<#input>, responses: #cg::StreamSender<#output>| {
                let handler = handler.clone();
                async move { handler.#name(ctx, requests, responses).await }
            })
        },
    };
    let mut modifiers = TokenStream::new();
    if let Some(pkg) = &service.package {
        modifiers.extend(quote!(.package(#pkg)));
    }
    if m.idempotent {
        modifiers.extend(quote!(.idempotent()));
    }
    if let Some(first) = m.http.first() {
        let method = &first.method;
        let paths: Vec<&str> = m.http.iter().map(|r| r.path.as_str()).collect();
        let path = paths.join(",");
        modifiers.extend(quote!(.metadata("method", #method).metadata("path", #path)));
        if let Some(body) = &first.body {
            modifiers.extend(quote!(.metadata("body", #body)));
        }
        let rules: Vec<String> = m.http.iter().map(|r| r.to_json()).collect();
        let json = format!("[{}]", rules.join(","));
        modifiers.extend(quote!(.metadata("http", #json)));
    }
    for (k, v) in &m.metadata {
        modifiers.extend(quote!(.metadata(#k, #v)));
    }
    if m.deprecated {
        modifiers.extend(quote!(.metadata("deprecated", "true")));
    }
    let described = match (&opts.descriptors, &m.input_proto, &m.output_proto) {
        (Some(fds), Some(input_proto), Some(output_proto)) => {
            let fds = deeper(fds);
            quote!(#cg::describe(route, &#fds, #input_proto, #output_proto))
        }
        _ => quote!(route),
    };
    quote! {
        let router = {
            let handler = self.handler.clone();
            let route = #build #modifiers;
            router.route(#described)
        };
    }
}

/// The `Message` and serde impls of generated messages, as one formatted macro call: each
/// entry is the Rust path (from the package module) and the full protobuf name.
pub fn message_impls_text(
    descriptors: &str,
    messages: &[(String, String)],
    codegen: &str,
) -> String {
    if messages.is_empty() {
        return String::new();
    }
    let mut out = format!(
        "// Protobuf and proto3 JSON for every message of this package.\n{codegen}::impl_messages!(\n    {descriptors};\n"
    );
    for (path, name) in messages {
        out.push_str(&format!("    {path} => \"{name}\",\n"));
    }
    out.push_str(");\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn method(name: &str, cs: bool, ss: bool) -> Method {
        Method {
            name: name.into(),
            rust_name: to_snake(name),
            input: quote!(HelloRequest),
            output: quote!(super::other::HelloResponse),
            input_proto: Some("greeter.HelloRequest".into()),
            output_proto: Some("other.HelloResponse".into()),
            client_streaming: cs,
            server_streaming: ss,
            docs: vec![" Says hello.".into()],
            deprecated: false,
            idempotent: false,
            http: vec![],
            metadata: vec![],
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
        let svc = Service {
            name: "S".into(),
            package: None,
            docs: vec![],
            deprecated: false,
            methods: vec![
                method("New", false, false),
                method("Get", false, false),
                method("GetWith", false, false),
            ],
        };
        let names = client_names(&svc);
        assert_eq!(names[0], ("new_rpc".to_owned(), "new_rpc_with".to_owned()));
        assert_eq!(names[1], ("get".to_owned(), "get_rpc_with".to_owned()));
        assert_eq!(
            names[2],
            ("get_with".to_owned(), "get_with_with".to_owned())
        );
    }

    #[test]
    fn emitted_code_parses() {
        let svc = Service {
            name: "Greeter".into(),
            package: Some("greeter".into()),
            docs: vec![" The greeter.".into()],
            deprecated: false,
            methods: vec![
                method("Hello", false, false),
                method("List", false, true),
                method("Upload", true, false),
                method("Chat", true, true),
            ],
        };
        let opts = EmitOptions {
            descriptors: Some(quote!(FILE_DESCRIPTOR_SET)),
            ..EmitOptions::default()
        };
        let tokens = service(&svc, &opts);
        let file: syn::File = syn::parse2(tokens).expect("valid Rust");
        let text = prettyplease::unparse(&file);
        assert!(text.contains("pub mod greeter_client"));
        assert!(text.contains("pub trait Greeter"));
        assert!(text.contains("\"Greeter.Hello\""));
        assert!(text.contains("super::super::other::HelloResponse"));
    }
}
