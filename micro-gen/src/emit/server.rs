//! The server: the handler trait `<Svc>` and `<Svc>Server<H>`, which turns an
//! implementation into routes.

use proc_macro2::TokenStream;
use quote::quote;

use super::{EmitOptions, Layout, Names, deprecated, docs, full_name, module_allow};
use crate::ident::ident;
use crate::model::{Method, Service, StreamKind};

pub(super) fn server(service: &Service, opts: &EmitOptions, names: &Names) -> TokenStream {
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
        impl<H: #trait_ident> #cg::IntoRouter for #server_ty<H> {
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
    let input = opts.ty(&m.request_ty);
    let output = opts.ty(&m.response_ty);
    let method_docs = docs(&m.docs);
    let dep = deprecated(m.deprecated);
    let attrs = &m.attrs;
    let send = quote!(+ ::core::marker::Send);
    match m.kind {
        StreamKind::Unary => quote! {
            #method_docs
            #dep
            #(#attrs)*
            fn #name(&self, ctx: #cg::Context, request: #input)
                -> impl #cg::Future<Output = #cg::Result<#output>> #send;
        },
        StreamKind::ServerStream => quote! {
            #method_docs
            ///
            /// Send the responses on `responses`; returning ends the stream.
            #dep
            #(#attrs)*
            fn #name(&self, ctx: #cg::Context, request: #input, responses: #cg::StreamSender<#output>)
                -> impl #cg::Future<Output = #cg::Result<()>> #send;
        },
        StreamKind::ClientStream => quote! {
            #method_docs
            ///
            /// Receive the requests from `requests` until it returns `None`.
            #dep
            #(#attrs)*
            fn #name(&self, ctx: #cg::Context, requests: #cg::StreamReceiver<#input>)
                -> impl #cg::Future<Output = #cg::Result<#output>> #send;
        },
        StreamKind::BidiStream => quote! {
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
    let input = opts.ty(&m.request_ty);
    let output = opts.ty(&m.response_ty);
    let (req_codec, resp_codec) = (opts.codec(&input), opts.codec(&output));
    let codecs = quote!(#req_codec, #resp_codec);
    // A request with validation rules is checked before the handler sees it: every
    // violation comes back as one INVALID_ARGUMENT.
    let check = match (m.validate, &opts.descriptors) {
        (false, _) => TokenStream::new(),
        // Generated messages: their generated rules.
        (true, Some(_)) => quote!(#cg::Validate::validate(&request)?;),
        // Serde types of a `#[micro::service]` trait: micro's rules, else garde's, else
        // none, picked at compile time.
        (true, None) => quote! {
            {
                #[allow(unused_imports)]
                use #cg::validate::pick::*;
                (&&&#cg::validate::pick::Check(&request)).micro_validate()?;
            }
        },
    };
    let build = match m.kind {
        StreamKind::Unary => quote! {
            #cg::Route::unary_with(#endpoint, #codecs, move |ctx: #cg::Context, request: #input| {
                let handler = ::core::clone::Clone::clone(&handler);
                async move { #check handler.#name(ctx, request).await }
            })
        },
        StreamKind::ServerStream => quote! {
            #cg::Route::server_stream_with(#endpoint, #codecs, move |ctx: #cg::Context, request: #input, responses: #cg::StreamSender<#output>| {
                let handler = ::core::clone::Clone::clone(&handler);
                async move { #check handler.#name(ctx, request, responses).await }
            })
        },
        StreamKind::ClientStream => quote! {
            #cg::Route::client_stream_with(#endpoint, #codecs, move |ctx: #cg::Context, requests: #cg::StreamReceiver<#input>| {
                let handler = ::core::clone::Clone::clone(&handler);
                async move { handler.#name(ctx, requests).await }
            })
        },
        StreamKind::BidiStream => quote! {
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
    // The method's documentation, for tools that show endpoints (the dashboard, MCP).
    let description = description(&m.docs);
    if !description.is_empty() && !m.metadata.iter().any(|(k, _)| k == "description") {
        modifiers.extend(quote!(.metadata("description", #description)));
    }
    if m.deprecated {
        modifiers.extend(quote!(.metadata("deprecated", "true")));
    }
    let described = match (
        &opts.descriptors,
        &m.request_proto,
        &m.response_proto,
        &opts.schema,
    ) {
        (Some(fds), Some(input_proto), Some(output_proto), _) => {
            let fds = opts.ty(fds);
            quote!(route.describe(&#fds, #input_proto, #output_proto))
        }
        (None, _, _, Some(schema)) => quote! {
            route.shapes(#schema!(#input), #schema!(#output))
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

/// Documentation lines as one text: lines of a paragraph joined by spaces, paragraphs by a
/// blank line, at most 512 bytes (cut at a word: registry records stay small enough for
/// mDNS packets).
pub(crate) fn description(lines: &[String]) -> String {
    const MAX: usize = 512;
    let mut paragraphs = Vec::new();
    let mut current = String::new();
    for line in lines {
        let line = line.trim();
        if line.is_empty() {
            if !current.is_empty() {
                paragraphs.push(std::mem::take(&mut current));
            }
        } else {
            if !current.is_empty() {
                current.push(' ');
            }
            current.push_str(line);
        }
    }
    if !current.is_empty() {
        paragraphs.push(current);
    }
    let mut text = paragraphs.join("\n\n");
    if text.len() > MAX {
        let mut end = MAX;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        let cut = text[..end].rfind(' ').unwrap_or(end);
        text.truncate(cut);
        text.push_str(" …");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::description;

    #[test]
    fn docs_become_one_description() {
        let lines: Vec<String> = [
            " Sends `count` greetings,",
            " one message each.",
            "",
            " Idempotent.",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        assert_eq!(
            description(&lines),
            "Sends `count` greetings, one message each.\n\nIdempotent."
        );
        assert_eq!(description(&[]), "");
        let long = vec!["word ".repeat(400)];
        let cut = description(&long);
        assert!(
            cut.len() <= 1024 + " …".len() && cut.ends_with(" …"),
            "{}",
            cut.len()
        );
    }
}
