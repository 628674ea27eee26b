//! The client: `<Svc>Client`, one method per rpc plus a `_with` variant taking a context and
//! call options, and the handler trait implemented by calling the remote service.

use proc_macro2::TokenStream;
use quote::quote;

use super::{EmitOptions, Layout, Names, deprecated, docs, full_name, module_allow};
use crate::ident::ident;
use crate::model::check::client_names;
use crate::model::{Method, Service, StreamKind};

pub(super) fn client(service: &Service, opts: &EmitOptions, names: &Names) -> TokenStream {
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

            /// This client's options with `options` on top, and the method's package and
            /// timeout where neither sets them.
            fn call_options(&self, options: &#cg::CallOptions, timeout_ms: ::core::option::Option<u64>) -> #cg::CallOptions {
                self.options.merged(options).for_method(#package, timeout_ms)
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
    let input = opts.ty(&m.request_ty);
    let output = opts.ty(&m.response_ty);
    let method_docs = docs(&m.docs);
    let dep = deprecated(m.deprecated);
    let timeout = timeout_tokens(m);
    let call_name = call.to_string();
    let with_doc = match call_name.strip_prefix("r#") {
        // Intra-doc links cannot name raw identifiers.
        Some(raw) => format!(
            " `{raw}` with a context (deadline, metadata) and call options laid over the client's."
        ),
        None => format!(
            " [`Self::{call_name}`] with a context (deadline, metadata) and call options laid over the client's."
        ),
    };
    let (req_codec, resp_codec) = (opts.codec(&input), opts.codec(&output));
    let codecs = quote!(#req_codec, #resp_codec);
    // `CallOptions::validate(true)`: the request's rules are checked before it is sent.
    let check = match (m.validate, &opts.descriptors) {
        (false, _) => TokenStream::new(),
        (true, Some(_)) => quote! {
            if options.validate {
                #cg::Validate::validate(&request)?;
            }
        },
        (true, None) => quote! {
            if options.validate {
                #[allow(unused_imports)]
                use #cg::validate::pick::*;
                (&&&#cg::validate::pick::Check(&request)).micro_validate()?;
            }
        },
    };
    match m.kind {
        StreamKind::Unary => quote! {
            #method_docs
            #dep
            #vis async fn #call(&self, request: #input) -> #cg::Result<#output> {
                self.#with(&#cg::Context::current(), request, &#cg::CallOptions::new()).await
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
                #check
                self.client
                    .invoke_codec(ctx, &self.service, #endpoint, &request, &options, #codecs)
                    .await
                    .map(|response| response.message)
            }
        },
        StreamKind::ServerStream => quote! {
            #method_docs
            ///
            /// Returns the stream of responses.
            #dep
            #vis async fn #call(&self, request: #input) -> #cg::Result<#cg::StreamReceiver<#output>> {
                self.#with(&#cg::Context::current(), request, &#cg::CallOptions::new()).await
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
                #check
                self.client
                    .server_stream_codec(ctx, &self.service, #endpoint, &request, &options, #codecs)
                    .await
            }
        },
        StreamKind::ClientStream => quote! {
            #method_docs
            ///
            /// Send requests on the returned stream, then `finish` it for the response.
            #dep
            #vis async fn #call(&self) -> #cg::Result<#cg::ClientStreaming<#input, #output>> {
                self.#with(&#cg::Context::current(), &#cg::CallOptions::new()).await
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
        StreamKind::BidiStream => quote! {
            #method_docs
            ///
            /// Send and receive on the returned stream; `close_send` ends the requests.
            #dep
            #vis async fn #call(&self) -> #cg::Result<#cg::Streaming<#input, #output>> {
                self.#with(&#cg::Context::current(), &#cg::CallOptions::new()).await
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
    let input = opts.ty(&m.request_ty);
    let output = opts.ty(&m.response_ty);
    let attrs = allowed_attrs(m);
    match m.kind {
        StreamKind::Unary => quote! {
            #attrs
            async fn #name(&self, ctx: #cg::Context, request: #input) -> #cg::Result<#output> {
                self.#with(&ctx, request, &#cg::CallOptions::new()).await
            }
        },
        StreamKind::ServerStream => quote! {
            #attrs
            async fn #name(&self, ctx: #cg::Context, request: #input, responses: #cg::StreamSender<#output>) -> #cg::Result<()> {
                let stream = self.#with(&ctx, request, &#cg::CallOptions::new()).await?;
                #cg::forward_responses(stream, responses).await
            }
        },
        StreamKind::ClientStream => quote! {
            #attrs
            async fn #name(&self, ctx: #cg::Context, requests: #cg::StreamReceiver<#input>) -> #cg::Result<#output> {
                let call = self.#with(&ctx, &#cg::CallOptions::new()).await?;
                #cg::forward_requests(requests, call).await
            }
        },
        StreamKind::BidiStream => quote! {
            #attrs
            async fn #name(
                &self,
                ctx: #cg::Context,
                requests: #cg::StreamReceiver<#input>,
                responses: #cg::StreamSender<#output>,
            ) -> #cg::Result<()> {
                let stream = self.#with(&ctx, &#cg::CallOptions::new()).await?;
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
