//! Typed errors from proto enums. An enum with a default code is an error set:
//!
//! ```proto
//! import "micro/errors.proto";          // or Kratos's "errors/errors.proto"
//!
//! enum UserError {
//!   option (micro.errors.default_code) = 500;   // (errors.default_code) for Kratos
//!   USER_NOT_FOUND = 0 [(micro.errors.code) = 404];
//!   EMAIL_TAKEN = 1 [(micro.errors.code) = 409];
//! }
//! ```
//!
//! Each value gives `error_user_not_found(detail)` (a `micro::Error` with that code and the
//! value's name as its reason) and `is_user_not_found(&err)`; the enum gets `code()`,
//! `error(detail)`, `of(&err)` and `is(&err)`. Codes are HTTP-style, as in Kratos.

use proc_macro2::TokenStream;
use prost_reflect::{DescriptorPool, EnumDescriptor, MessageDescriptor, Value as ReflectValue};
use quote::{format_ident, quote};

use super::Error;
use crate::ident::{to_snake, to_upper_camel};

/// The option packages that mark an error set: micro's own, then Kratos's.
const PACKAGES: [&str; 2] = ["micro.errors", "errors"];

/// The code an option of `options` gives, trying micro's then Kratos's `name`.
fn code_option(
    pool: &DescriptorPool,
    options: &prost_reflect::DynamicMessage,
    name: &str,
) -> Option<i32> {
    for package in PACKAGES {
        let Some(ext) = pool.get_extension_by_name(&format!("{package}.{name}")) else {
            continue;
        };
        if options.has_extension(&ext)
            && let ReflectValue::I32(code) = options.get_extension(&ext).into_owned()
        {
            return Some(code);
        }
    }
    None
}

/// The typed-error code for the enums of `files` (names of `.proto` files in the pool).
pub(crate) fn generate(
    pool: &DescriptorPool,
    files: &[&str],
    codegen: &TokenStream,
) -> Result<TokenStream, Error> {
    let mut out = TokenStream::new();
    for name in files {
        let Some(file) = pool.get_file_by_name(name) else {
            continue;
        };
        for e in file.enums() {
            out.extend(error_set(pool, &e, &[], codegen)?);
        }
        for m in file.messages() {
            nested(pool, &m, &mut Vec::new(), codegen, &mut out)?;
        }
    }
    Ok(out)
}

fn nested(
    pool: &DescriptorPool,
    message: &MessageDescriptor,
    modules: &mut Vec<String>,
    codegen: &TokenStream,
    out: &mut TokenStream,
) -> Result<(), Error> {
    if message.is_map_entry() {
        return Ok(());
    }
    modules.push(to_snake(message.name()));
    for e in message.child_enums() {
        out.extend(error_set(pool, &e, modules, codegen)?);
    }
    for m in message.child_messages() {
        nested(pool, &m, modules, codegen, out)?;
    }
    modules.pop();
    Ok(())
}

fn error_set(
    pool: &DescriptorPool,
    e: &EnumDescriptor,
    modules: &[String],
    codegen: &TokenStream,
) -> Result<TokenStream, Error> {
    let Some(default) = code_option(pool, &e.options(), "default_code") else {
        // Not an error set, unless a value has a code: then the default is missing.
        if let Some(v) = e
            .values()
            .find(|v| code_option(pool, &v.options(), "code").is_some())
        {
            return Err(Error::new(format!(
                "micro-gen: {}: enum {} gives value {} an error code but has no default code: add `option (micro.errors.default_code) = 500;` (or Kratos's `(errors.default_code)`) to make it an error set",
                e.parent_file().name(),
                e.full_name(),
                v.name()
            )));
        }
        return Ok(TokenStream::new());
    };
    let check = |code: i32, what: &str| {
        if (400..=599).contains(&code) {
            Ok(code)
        } else {
            Err(Error::new(format!(
                "micro-gen: {}: {what} of enum {} is {code}: error codes are HTTP error statuses, 400 to 599",
                e.parent_file().name(),
                e.full_name()
            )))
        }
    };
    let default = check(default, "the default code")?;
    let mut path: Vec<syn::Ident> = modules
        .iter()
        .map(|m| syn::parse_str(m))
        .collect::<Result<_, _>>()
        .map_err(|err| Error::new(format!("micro-gen: module name: {err}")))?;
    path.push(
        syn::parse_str(&to_upper_camel(e.name()))
            .map_err(|err| Error::new(format!("micro-gen: enum name: {err}")))?,
    );
    let ty = quote!(#(#path)::*);
    let mut numbers = std::collections::BTreeSet::new();
    for v in e.values() {
        if !numbers.insert(v.number()) {
            return Err(Error::new(format!(
                "micro-gen: {}: error set {} gives number {} to two values (allow_alias): each error needs its own value",
                e.parent_file().name(),
                e.full_name(),
                v.number()
            )));
        }
    }
    let mut arms = Vec::new();
    let mut functions = TokenStream::new();
    for v in e.values() {
        let code = match code_option(pool, &v.options(), "code") {
            Some(c) => check(c, &format!("the code of {}", v.name()))?,
            None => default,
        };
        let number = v.number();
        arms.push(quote!(#number => #code));
        let reason = v.name();
        let snake = to_snake(reason).trim_start_matches("r#").to_owned();
        let make = format_ident!("error_{}", snake);
        let is = format_ident!("is_{}", snake);
        let words = match status_text(code) {
            "" => code.to_string(),
            text => format!("{code} {text}"),
        };
        let doc_make = format!(
            " A `{reason}` error ({words}): the typed error `{}` with `detail`.",
            e.full_name()
        );
        let doc_is = format!(
            " True when `err` is a `{reason}` error of `{}`.",
            e.full_name()
        );
        if !modules.is_empty() {
            // A nested enum's value names are scoped to its message: free functions could
            // clash across messages, so only the enum's methods are generated.
            continue;
        }
        functions.extend(quote! {
            #[doc = #doc_make]
            pub fn #make(detail: impl ::core::convert::Into<::std::string::String>) -> #codegen::Error {
                #codegen::typed_error(#reason, #code, detail)
            }
            #[doc = #doc_is]
            pub fn #is(err: &#codegen::Error) -> bool {
                #codegen::is_typed_error(err, #reason, #code)
            }
        });
    }
    let doc = format!(
        " `{}` is an error set: each value is an error with its own code and the value's name as reason.",
        e.full_name()
    );
    Ok(quote! {
        #[doc = #doc]
        impl #ty {
            /// The HTTP-style code of this error (its gRPC code follows from it).
            pub fn code(self) -> i32 {
                match self as i32 {
                    #(#arms,)*
                    _ => #default,
                }
            }

            /// The error of this value with `detail`; its reason is the value's name.
            pub fn error(self, detail: impl ::core::convert::Into<::std::string::String>) -> #codegen::Error {
                #codegen::typed_error(self.as_str_name(), self.code(), detail)
            }

            /// The value `err` is, when it is an error of this set (same reason and code).
            pub fn of(err: &#codegen::Error) -> ::core::option::Option<Self> {
                let value = Self::from_str_name(err.reason()?)?;
                (value.code() == err.code()).then_some(value)
            }

            /// True when `err` is this error.
            pub fn is(self, err: &#codegen::Error) -> bool {
                #codegen::is_typed_error(err, self.as_str_name(), self.code())
            }
        }
        #functions
    })
}

/// A few words for a code in the docs.
fn status_text(code: i32) -> &'static str {
    match code {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        409 => "Conflict",
        412 => "Precondition Failed",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        _ => "",
    }
}
