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

mod parse;

use proc_macro::TokenStream;

/// Turn a trait of async methods into a micro service. See the `micro` crate.
#[proc_macro_attribute]
pub fn service(attr: TokenStream, item: TokenStream) -> TokenStream {
    parse::expand(attr.into(), item.into())
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}
