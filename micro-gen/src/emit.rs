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

use crate::ident::{ident, to_snake, to_upper_camel};
use crate::model::{Method, Service};

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
    fn ty(&self, ty: &TokenStream) -> TokenStream {
        match self.layout {
            Layout::Flat => ty.clone(),
            Layout::Modules => deeper(ty),
        }
    }

    /// `Codec::<ty>::message()` (or the configured constructor), spanned on the type so a
    /// type that cannot be a message is reported where it is written.
    fn codec(&self, ty: &TokenStream) -> TokenStream {
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
pub const CLIENT_RESERVED: &[&str] = &["new", "with_options", "client", "service", "options"];

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

/// The names of the generated items.
struct Names {
    client_module: proc_macro2::Ident,
    server_module: proc_macro2::Ident,
    client: proc_macro2::Ident,
    service_trait: proc_macro2::Ident,
    server: proc_macro2::Ident,
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
        out.extend(server(service, opts, &names));
    }
    if opts.client {
        out.extend(client(service, opts, &names));
    }
    out
}

fn full_name(service: &Service) -> String {
    match &service.package {
        Some(pkg) => format!("{pkg}.{}", service.name),
        None => service.name.clone(),
    }
}

const MODULE_ALLOW: &str = "unused_variables, dead_code, missing_docs, deprecated, clippy::all, clippy::pedantic, clippy::nursery";

fn module_allow() -> TokenStream {
    let lints: TokenStream = MODULE_ALLOW.parse().unwrap_or_default();
    quote!(#![allow(#lints)])
}

fn client(service: &Service, opts: &EmitOptions, names: &Names) -> TokenStream {
    let cg = &opts.codegen;
    let vis = &opts.vis;
    let client_ty = &names.client;
    let svc_docs = docs(&service.docs);
    let svc_deprecated = deprecated(service.deprecated);
    let full = full_name(service);
    let struct_doc = format!(" Calls `{full}` on the nodes the registry lists for a service name.");
    let package = match &service.package {
        Some(pkg) => quote!(::core::option::Option::Some(#pkg)),
        None => quote!(::core::option::Option::None),
    };
    let client_names = client_names(service);
    let methods = service
        .methods
        .iter()
        .zip(&client_names)
        .map(|(m, (call, with))| client_method(service, m, &ident(call), &ident(with), opts));
    let trait_impl = if opts.server {
        let trait_path = match opts.layout {
            Layout::Modules => {
                let module = &names.server_module;
                let t = &names.service_trait;
                quote!(super::#module::#t)
            }
            Layout::Flat => {
                let t = &names.service_trait;
                quote!(#t)
            }
        };
        let impls = service
            .methods
            .iter()
            .zip(&client_names)
            .map(|(m, (_, with))| client_trait_method(m, &ident(with), opts));
        let doc = format!(
            " The client is a [`{}`]({}) too: code written against the trait runs with a local implementation in tests and with the remote service here.",
            names.service_trait,
            trait_path.to_string().replace(' ', "")
        );
        quote! {
            #[doc = #doc]
            impl #trait_path for #client_ty {
                #(#impls)*
            }
        }
    } else {
        TokenStream::new()
    };
    let items = quote! {
        #[doc = #struct_doc]
        ///
        #svc_docs
        #svc_deprecated
        #[derive(::core::clone::Clone, ::core::fmt::Debug)]
        #vis struct #client_ty {
            client: #cg::Client,
            service: ::std::string::String,
            options: #cg::CallOptions,
        }

        #[allow(deprecated)]
        impl #client_ty {
            /// A client for the service registered as `service` (e.g. `"greeter"`),
            /// calling through `client`.
            #vis fn new(service: impl ::core::convert::Into<::std::string::String>, client: #cg::Client) -> Self {
                Self {
                    client,
                    service: service.into(),
                    options: #cg::CallOptions::new(),
                }
            }

            /// Use `options` for every call of this client (timeout, metadata, retries,
            /// address, filters).
            #[must_use]
            #vis fn with_options(mut self, options: #cg::CallOptions) -> Self {
                self.options = options;
                self
            }

            /// The options used for every call.
            #vis fn options(&self) -> &#cg::CallOptions {
                &self.options
            }

            /// The service name calls go to.
            #vis fn service(&self) -> &str {
                &self.service
            }

            /// The underlying runtime client.
            #vis fn client(&self) -> &#cg::Client {
                &self.client
            }

            fn call_options(&self, options: &#cg::CallOptions, timeout_ms: ::core::option::Option<u64>) -> #cg::CallOptions {
                #cg::call_options(options, #package, timeout_ms)
            }

            #(#methods)*
        }

        #trait_impl
    };
    match opts.layout {
        Layout::Flat => items,
        Layout::Modules => {
            let module = &names.client_module;
            let module_doc = format!(" Client for the `{full}` service.");
            let allow = module_allow();
            quote! {
                #[doc = #module_doc]
                pub mod #module {
                    #allow

                    #items
                }
            }
        }
    }
}

fn timeout_tokens(m: &Method) -> TokenStream {
    match m.timeout_ms {
        Some(ms) => quote!(::core::option::Option::Some(#ms)),
        None => quote!(::core::option::Option::None),
    }
}

fn client_method(
    service: &Service,
    m: &Method,
    call: &proc_macro2::Ident,
    with: &proc_macro2::Ident,
    opts: &EmitOptions,
) -> TokenStream {
    let cg = &opts.codegen;
    let vis = &opts.vis;
    let endpoint = m.endpoint(service);
    let input = opts.ty(&m.input);
    let output = opts.ty(&m.output);
    let method_docs = docs(&m.docs);
    let dep = deprecated(m.deprecated);
    let timeout = timeout_tokens(m);
    let call_name = call.to_string();
    let with_doc = match call_name.strip_prefix("r#") {
        // Intra-doc links cannot name raw identifiers.
        Some(raw) => format!(" `{raw}` with a context (deadline, metadata) and call options."),
        None => {
            format!(" [`Self::{call_name}`] with a context (deadline, metadata) and call options.")
        }
    };
    let (req_codec, resp_codec) = (opts.codec(&input), opts.codec(&output));
    let codecs = quote!(#req_codec, #resp_codec);
    match (m.client_streaming, m.server_streaming) {
        (false, false) => quote! {
            #method_docs
            #dep
            #vis async fn #call(&self, request: #input) -> #cg::Result<#output> {
                self.#with(&#cg::Context::new(), request, &self.options).await
            }

            #[doc = #with_doc]
            #dep
            #vis async fn #with(
                &self,
                ctx: &#cg::Context,
                request: #input,
                options: &#cg::CallOptions,
            ) -> #cg::Result<#output> {
                let options = self.call_options(options, #timeout);
                self.client
                    .invoke_codec(ctx, &self.service, #endpoint, &request, &options, #codecs)
                    .await
                    .map(|response| response.message)
            }
        },
        (false, true) => quote! {
            #method_docs
            ///
            /// Returns the stream of responses.
            #dep
            #vis async fn #call(&self, request: #input) -> #cg::Result<#cg::StreamReceiver<#output>> {
                self.#with(&#cg::Context::new(), request, &self.options).await
            }

            #[doc = #with_doc]
            #dep
            #vis async fn #with(
                &self,
                ctx: &#cg::Context,
                request: #input,
                options: &#cg::CallOptions,
            ) -> #cg::Result<#cg::StreamReceiver<#output>> {
                let options = self.call_options(options, #timeout);
                self.client
                    .server_stream_codec(ctx, &self.service, #endpoint, &request, &options, #codecs)
                    .await
            }
        },
        (true, false) => quote! {
            #method_docs
            ///
            /// Send requests on the returned stream, then `finish` it for the response.
            #dep
            #vis async fn #call(&self) -> #cg::Result<#cg::ClientStreaming<#input, #output>> {
                self.#with(&#cg::Context::new(), &self.options).await
            }

            #[doc = #with_doc]
            #dep
            #vis async fn #with(
                &self,
                ctx: &#cg::Context,
                options: &#cg::CallOptions,
            ) -> #cg::Result<#cg::ClientStreaming<#input, #output>> {
                let options = self.call_options(options, #timeout);
                self.client
                    .client_stream_codec(ctx, &self.service, #endpoint, &options, #codecs)
                    .await
            }
        },
        (true, true) => quote! {
            #method_docs
            ///
            /// Send and receive on the returned stream; `close_send` ends the requests.
            #dep
            #vis async fn #call(&self) -> #cg::Result<#cg::Streaming<#input, #output>> {
                self.#with(&#cg::Context::new(), &self.options).await
            }

            #[doc = #with_doc]
            #dep
            #vis async fn #with(
                &self,
                ctx: &#cg::Context,
                options: &#cg::CallOptions,
            ) -> #cg::Result<#cg::Streaming<#input, #output>> {
                let options = self.call_options(options, #timeout);
                self.client
                    .stream_codec(ctx, &self.service, #endpoint, &options, #codecs)
                    .await
            }
        },
    }
}

/// The client's implementation of one trait method: call the remote service.
fn client_trait_method(m: &Method, with: &proc_macro2::Ident, opts: &EmitOptions) -> TokenStream {
    let cg = &opts.codegen;
    let name = ident(&m.rust_name);
    let input = opts.ty(&m.input);
    let output = opts.ty(&m.output);
    let attrs = allowed_attrs(m);
    match (m.client_streaming, m.server_streaming) {
        (false, false) => quote! {
            #attrs
            async fn #name(&self, ctx: #cg::Context, request: #input) -> #cg::Result<#output> {
                self.#with(&ctx, request, &self.options).await
            }
        },
        (false, true) => quote! {
            #attrs
            async fn #name(&self, ctx: #cg::Context, request: #input, responses: #cg::StreamSender<#output>) -> #cg::Result<()> {
                let stream = self.#with(&ctx, request, &self.options).await?;
                #cg::forward_responses(stream, responses).await
            }
        },
        (true, false) => quote! {
            #attrs
            async fn #name(&self, ctx: #cg::Context, requests: #cg::StreamReceiver<#input>) -> #cg::Result<#output> {
                let call = self.#with(&ctx, &self.options).await?;
                #cg::forward_requests(requests, call).await
            }
        },
        (true, true) => quote! {
            #attrs
            async fn #name(
                &self,
                ctx: #cg::Context,
                requests: #cg::StreamReceiver<#input>,
                responses: #cg::StreamSender<#output>,
            ) -> #cg::Result<()> {
                let stream = self.#with(&ctx, &self.options).await?;
                #cg::forward_both(requests, responses, stream).await
            }
        },
    }
}

/// `#[allow(...)]` attributes of a method, which also apply to the client's impl of it.
fn allowed_attrs(m: &Method) -> TokenStream {
    let attrs = m.attrs.iter().filter(|a| {
        let text = a.to_string();
        text.starts_with("# [allow") || text.starts_with("#[allow")
    });
    quote!(#(#attrs)*)
}

fn server(service: &Service, opts: &EmitOptions, names: &Names) -> TokenStream {
    let cg = &opts.codegen;
    let vis = &opts.vis;
    let trait_ident = &names.service_trait;
    let server_ty = &names.server;
    let svc_docs = docs(&service.docs);
    let svc_deprecated = deprecated(service.deprecated);
    let svc_attrs = &service.attrs;
    let full = full_name(service);
    let trait_doc =
        format!(" The handler of `{full}`: implement it, then serve it with [`{server_ty}`].");
    let server_doc = format!(
        " Serves a [`{trait_ident}`] implementation: pass it to `Service::builder(..).handler(..)`."
    );
    let trait_methods = service.methods.iter().map(|m| trait_method(m, opts));
    let routes = service.methods.iter().map(|m| route(service, m, opts));
    let items = quote! {
        #[doc = #trait_doc]
        ///
        #svc_docs
        #svc_deprecated
        #(#svc_attrs)*
        #vis trait #trait_ident: ::core::marker::Send + ::core::marker::Sync + 'static {
            #(#trait_methods)*
        }

        #[doc = #server_doc]
        #vis struct #server_ty<H> {
            handler: ::std::sync::Arc<H>,
        }

        impl<H: #trait_ident> #server_ty<H> {
            /// Serve `handler`.
            #vis fn new(handler: H) -> Self {
                Self::from_arc(::std::sync::Arc::new(handler))
            }

            /// Serve a shared `handler`.
            #vis fn from_arc(handler: ::std::sync::Arc<H>) -> Self {
                Self { handler }
            }
        }

        impl<H> ::core::clone::Clone for #server_ty<H> {
            fn clone(&self) -> Self {
                Self { handler: ::core::clone::Clone::clone(&self.handler) }
            }
        }

        impl<H> ::core::fmt::Debug for #server_ty<H> {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str(::core::stringify!(#server_ty))
            }
        }

        #[allow(deprecated)]
        impl<H: #trait_ident> #cg::Handler for #server_ty<H> {
            fn into_router(self) -> #cg::Router {
                let router = #cg::Router::new();
                #(#routes)*
                router
            }
        }
    };
    match opts.layout {
        Layout::Flat => items,
        Layout::Modules => {
            let module = &names.server_module;
            let module_doc = format!(" Handler trait and server for the `{full}` service.");
            let allow = module_allow();
            quote! {
                #[doc = #module_doc]
                pub mod #module {
                    #allow

                    /// The full protobuf name of the service.
                    pub const SERVICE_NAME: &str = #full;

                    #items
                }
            }
        }
    }
}

fn trait_method(m: &Method, opts: &EmitOptions) -> TokenStream {
    let cg = &opts.codegen;
    let name = ident(&m.rust_name);
    let input = opts.ty(&m.input);
    let output = opts.ty(&m.output);
    let method_docs = docs(&m.docs);
    let dep = deprecated(m.deprecated);
    let attrs = &m.attrs;
    let send = quote!(+ ::core::marker::Send);
    match (m.client_streaming, m.server_streaming) {
        (false, false) => quote! {
            #method_docs
            #dep
            #(#attrs)*
            fn #name(&self, ctx: #cg::Context, request: #input)
                -> impl #cg::Future<Output = #cg::Result<#output>> #send;
        },
        (false, true) => quote! {
            #method_docs
            ///
            /// Send the responses on `responses`; returning ends the stream.
            #dep
            #(#attrs)*
            fn #name(&self, ctx: #cg::Context, request: #input, responses: #cg::StreamSender<#output>)
                -> impl #cg::Future<Output = #cg::Result<()>> #send;
        },
        (true, false) => quote! {
            #method_docs
            ///
            /// Receive the requests from `requests` until it returns `None`.
            #dep
            #(#attrs)*
            fn #name(&self, ctx: #cg::Context, requests: #cg::StreamReceiver<#input>)
                -> impl #cg::Future<Output = #cg::Result<#output>> #send;
        },
        (true, true) => quote! {
            #method_docs
            ///
            /// Receive requests from `requests` and send responses on `responses`; returning
            /// ends the stream.
            #dep
            #(#attrs)*
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
    let input = opts.ty(&m.input);
    let output = opts.ty(&m.output);
    let (req_codec, resp_codec) = (opts.codec(&input), opts.codec(&output));
    let codecs = quote!(#req_codec, #resp_codec);
    let build = match (m.client_streaming, m.server_streaming) {
        (false, false) => quote! {
            #cg::Route::unary_with(#endpoint, #codecs, move |ctx: #cg::Context, request: #input| {
                let handler = ::core::clone::Clone::clone(&handler);
                async move { handler.#name(ctx, request).await }
            })
        },
        (false, true) => quote! {
            #cg::Route::server_stream_with(#endpoint, #codecs, move |ctx: #cg::Context, request: #input, responses: #cg::StreamSender<#output>| {
                let handler = ::core::clone::Clone::clone(&handler);
                async move { handler.#name(ctx, request, responses).await }
            })
        },
        (true, false) => quote! {
            #cg::Route::client_stream_with(#endpoint, #codecs, move |ctx: #cg::Context, requests: #cg::StreamReceiver<#input>| {
                let handler = ::core::clone::Clone::clone(&handler);
                async move { handler.#name(ctx, requests).await }
            })
        },
        (true, true) => quote! {
            #cg::Route::bidi_stream_with(#endpoint, #codecs, move |ctx: #cg::Context, requests: #cg::StreamReceiver<#input>, responses: #cg::StreamSender<#output>| {
                let handler = ::core::clone::Clone::clone(&handler);
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
    if let Some(ms) = m.timeout_ms {
        modifiers.extend(quote!(.timeout(::core::time::Duration::from_millis(#ms))));
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
    let described = match (
        &opts.descriptors,
        &m.input_proto,
        &m.output_proto,
        &opts.schema,
    ) {
        (Some(fds), Some(input_proto), Some(output_proto), _) => {
            let fds = opts.ty(fds);
            quote!(#cg::describe(route, &#fds, #input_proto, #output_proto))
        }
        (None, _, _, Some(schema)) => quote! {
            #cg::describe_with(route, #schema!(#input), #schema!(#output))
        },
        _ => quote!(route),
    };
    quote! {
        let router = {
            let handler = ::core::clone::Clone::clone(&self.handler);
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
            timeout_ms: None,
            attrs: vec![],
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
        let names = client_names(&svc);
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
