//! `#[micro::service]`: a Rust trait of async methods becomes a micro service — a typed
//! client, a server for `Service::builder(..).handler(..)`, and registry metadata — with no
//! `.proto` file. Use it through the `micro` crate: `#[micro::service]`.
//!
//! ```ignore
//! #[micro::service]
//! pub trait Calculator {
//!     /// Adds two numbers.
//!     #[micro(idempotent)]
//!     async fn add(&self, ctx: micro::Context, req: AddRequest) -> micro::Result<AddResponse>;
//! }
//! ```
//!
//! expands to (roughly):
//!
//! ```ignore
//! pub trait Calculator: Send + Sync + 'static {
//!     /// Adds two numbers.
//!     fn add(&self, ctx: micro::Context, req: AddRequest)
//!         -> impl Future<Output = micro::Result<AddResponse>> + Send;
//! }
//! /// Serves a `Calculator` implementation; endpoint `Calculator.Add`, idempotent.
//! pub struct CalculatorServer<H> { .. }
//! impl<H: Calculator> micro::server::IntoRouter for CalculatorServer<H> { .. }
//! /// Calls the service; it is also a `Calculator` (calls go to the remote service).
//! pub struct CalculatorClient { .. }
//! impl CalculatorClient {
//!     pub fn new(service: impl Into<String>, client: micro::Client) -> Self;
//!     pub async fn add(&self, req: AddRequest) -> micro::Result<AddResponse>;
//!     pub async fn add_with(&self, ctx: &micro::Context, req: AddRequest, opts: &CallOptions)
//!         -> micro::Result<AddResponse>;
//! }
//! impl Calculator for CalculatorClient { .. }
//! ```
//!
//! See the `micro` crate's documentation of `service` for every option.

mod errors;
mod parse;

use proc_macro::TokenStream;

/// Turn a trait of async methods into a micro service. See the `micro` crate.
#[proc_macro_attribute]
pub fn service(attr: TokenStream, item: TokenStream) -> TokenStream {
    parse::expand(attr.into(), item.into())
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Make an enum of unit variants a typed error set: `#[micro::error_set(default = 500)]`,
/// `#[code(404)]` on a variant. See the `micro` crate.
#[proc_macro_attribute]
pub fn error_set(attr: TokenStream, item: TokenStream) -> TokenStream {
    errors::expand(attr.into(), item.into())
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Make a struct or enum a message of `#[micro::service]` traits and typed subscribers:
/// derives `Serialize`, `Deserialize` and `JsonSchema` through the `micro` crate, so the
/// project needs no serde or schemars dependency. `#[micro::message(crate = "::my_micro")]`
/// when `micro` is renamed. See the `micro` crate.
#[proc_macro_attribute]
pub fn message(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand_message(attr.into(), item.into())
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

fn expand_message(
    attr: proc_macro2::TokenStream,
    item: proc_macro2::TokenStream,
) -> syn::Result<proc_macro2::TokenStream> {
    let mut krate: syn::Path = syn::parse_quote!(::micro);
    if !attr.is_empty() {
        let parser = syn::meta::parser(|meta| {
            if meta.path.is_ident("crate") {
                let lit: syn::LitStr = meta.value()?.parse()?;
                krate = lit.parse()?;
                Ok(())
            } else {
                Err(meta.error("unknown option: micro::message takes `crate = \"path\"`"))
            }
        });
        syn::parse::Parser::parse2(parser, attr)?;
    }
    let item: syn::DeriveInput = syn::parse2(item)
        .map_err(|e| syn::Error::new(e.span(), "#[micro::message] goes on a struct or an enum"))?;
    if let syn::Data::Union(u) = &item.data {
        return Err(syn::Error::new_spanned(
            u.union_token,
            "#[micro::message] goes on a struct or an enum, not a union",
        ));
    }
    let serde = quote::quote!(#krate::serde).to_string().replace(' ', "");
    let schemars = quote::quote!(#krate::schemars).to_string().replace(' ', "");
    Ok(quote::quote! {
        #[derive(#krate::serde::Serialize, #krate::serde::Deserialize, #krate::JsonSchema)]
        #[serde(crate = #serde)]
        #[schemars(crate = #schemars)]
        #item
    })
}
