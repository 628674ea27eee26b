//! `#[micro::error_set(default = 500)]`: a Rust enum of unit variants as a typed error set,
//! the way an enum with `(micro.errors.default_code)` is one in a `.proto`.

use heck::ToShoutySnakeCase;
use proc_macro2::TokenStream;
use quote::quote;
use syn::ext::IdentExt as _;
use syn::{Fields, ItemEnum, LitInt};

/// The HTTP-style code in `lit`, checked to be a status code.
fn code(lit: &LitInt) -> syn::Result<i32> {
    let code: i32 = lit.base10_parse()?;
    if (400..=599).contains(&code) {
        Ok(code)
    } else {
        Err(syn::Error::new_spanned(
            lit,
            "error codes are HTTP error statuses, 400 to 599",
        ))
    }
}

pub(crate) fn expand(attr: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let mut default = None;
    let mut krate: syn::Path = syn::parse_quote!(::micro);
    let parser = syn::meta::parser(|meta| {
        if meta.path.is_ident("default") {
            default = Some(code(&meta.value()?.parse()?)?);
            Ok(())
        } else if meta.path.is_ident("crate") {
            let lit: syn::LitStr = meta.value()?.parse()?;
            krate = lit.parse()?;
            Ok(())
        } else {
            Err(meta.error(
                "unknown option: micro::error_set takes `default = 500` and `crate = \"path\"`",
            ))
        }
    });
    syn::parse::Parser::parse2(parser, attr)?;
    let mut item: ItemEnum = syn::parse2(item).map_err(|e| {
        syn::Error::new(
            e.span(),
            "#[micro::error_set] goes on an enum of unit variants",
        )
    })?;
    let default = default.unwrap_or(500);
    if item.variants.is_empty() {
        return Err(syn::Error::new_spanned(
            &item.ident,
            "an error set needs at least one variant",
        ));
    }
    let ty = &item.ident;
    let mut reasons = Vec::new();
    let mut codes = Vec::new();
    let mut idents = Vec::new();
    for variant in &mut item.variants {
        if !matches!(variant.fields, Fields::Unit) {
            return Err(syn::Error::new_spanned(
                &variant.fields,
                "an error set's variants carry no data: the detail is given to `error(..)`",
            ));
        }
        let mut value = default;
        let mut kept = Vec::new();
        for attr in variant.attrs.drain(..) {
            if attr.path().is_ident("code") {
                value = code(&attr.parse_args()?)?;
            } else {
                kept.push(attr);
            }
        }
        variant.attrs = kept;
        let reason = variant.ident.unraw().to_string().to_shouty_snake_case();
        if reasons.contains(&reason) {
            return Err(syn::Error::new_spanned(
                &variant.ident,
                format!("two variants have the reason {reason}: each error needs its own"),
            ));
        }
        reasons.push(reason);
        codes.push(value);
        idents.push(variant.ident.clone());
    }
    let cg = quote!(#krate::codegen);
    Ok(quote! {
        #item

        impl #ty {
            /// Every error of the set.
            pub const ALL: &'static [#ty] = &[#(#ty::#idents),*];

            /// The reason this error travels with: the variant's name in SCREAMING_SNAKE_CASE.
            pub fn reason(&self) -> &'static str {
                match self {
                    #(#ty::#idents => #reasons,)*
                }
            }

            /// The HTTP-style code of this error (its gRPC code follows from it).
            pub fn code(&self) -> i32 {
                match self {
                    #(#ty::#idents => #codes,)*
                }
            }

            /// The error with `detail`; its reason is [`Self::reason`].
            pub fn error(&self, detail: impl ::core::convert::Into<::std::string::String>) -> #cg::Error {
                #cg::typed_error(self.reason(), self.code(), detail)
            }

            /// True when `err` is this error (same reason and code), after any hop.
            pub fn is(&self, err: &#cg::Error) -> bool {
                #cg::is_typed_error(err, self.reason(), self.code())
            }

            /// Which error of the set `err` is, if any.
            pub fn of(err: &#cg::Error) -> ::core::option::Option<&'static #ty> {
                Self::ALL.iter().find(|e| e.is(err))
            }
        }
    })
}
