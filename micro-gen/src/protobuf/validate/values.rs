//! The checks of one value against its type's rules (`string`, `bytes`, numbers, `bool`,
//! `enum`) as static rule tables, and a nested message's own validation.

use proc_macro2::{Literal, TokenStream};
use prost_reflect::{DynamicMessage, FieldDescriptor, Kind, Value};
use quote::{format_ident, quote};

use super::{Ctx, bool_field, has_rules, location, mismatch, only_known};
use crate::protobuf::{Error, is_extern};

pub(super) fn opt_u64(r: &DynamicMessage, name: &str) -> TokenStream {
    if !r.has_field_by_name(name) {
        return quote!(::core::option::Option::None);
    }
    match r.get_field_by_name(name).and_then(|v| v.as_u64()) {
        Some(n) => quote!(::core::option::Option::Some(#n)),
        None => quote!(::core::option::Option::None),
    }
}

fn opt_str(r: &DynamicMessage, name: &str) -> TokenStream {
    if !r.has_field_by_name(name) {
        return quote!(::core::option::Option::None);
    }
    match r
        .get_field_by_name(name)
        .and_then(|v| v.as_str().map(str::to_owned))
    {
        Some(s) => quote!(::core::option::Option::Some(#s)),
        None => quote!(::core::option::Option::None),
    }
}

fn opt_bytes(r: &DynamicMessage, name: &str) -> TokenStream {
    if !r.has_field_by_name(name) {
        return quote!(::core::option::Option::None);
    }
    match r
        .get_field_by_name(name)
        .and_then(|v| v.as_bytes().map(|b| b.to_vec()))
    {
        Some(b) => {
            let lit = Literal::byte_string(&b);
            quote!(::core::option::Option::Some(#lit))
        }
        None => quote!(::core::option::Option::None),
    }
}

fn str_list(r: &DynamicMessage, name: &str) -> TokenStream {
    let items: Vec<String> = r
        .get_field_by_name(name)
        .and_then(|v| {
            v.as_list().map(|l| {
                l.iter()
                    .filter_map(|x| x.as_str().map(str::to_owned))
                    .collect()
            })
        })
        .unwrap_or_default();
    quote!(&[#(#items),*])
}

fn bytes_list(r: &DynamicMessage, name: &str) -> TokenStream {
    let items: Vec<Literal> = r
        .get_field_by_name(name)
        .and_then(|v| {
            v.as_list().map(|l| {
                l.iter()
                    .filter_map(|x| x.as_bytes().map(|b| Literal::byte_string(b)))
                    .collect()
            })
        })
        .unwrap_or_default();
    quote!(&[#(#items),*])
}

/// A number literal of the rule's Rust type.
fn number_literal(value: &Value, rust: &str, field: &FieldDescriptor) -> Result<Literal, Error> {
    let finite = |f: f64| {
        if f.is_finite() {
            Ok(())
        } else {
            Err(Error::new(format!(
                "micro-gen: {}: a bound that is not a finite number is not supported",
                location(field)
            )))
        }
    };
    Ok(match (rust, value) {
        ("i32", Value::I32(n)) => Literal::i32_suffixed(*n),
        ("i64", Value::I64(n)) => Literal::i64_suffixed(*n),
        ("u32", Value::U32(n)) => Literal::u32_suffixed(*n),
        ("u64", Value::U64(n)) => Literal::u64_suffixed(*n),
        ("f32", Value::F32(n)) => {
            finite(f64::from(*n))?;
            Literal::f32_suffixed(*n)
        }
        ("f64", Value::F64(n)) => {
            finite(*n)?;
            Literal::f64_suffixed(*n)
        }
        _ => {
            return Err(Error::new(format!(
                "micro-gen: {}: a rule value of an unexpected type",
                location(field)
            )));
        }
    })
}

/// The Rust type of a numeric rule set and the field kind it applies to.
fn numeric(rule: &str, kind: &Kind) -> Option<&'static str> {
    Some(match (rule, kind) {
        ("int32", Kind::Int32) | ("sint32", Kind::Sint32) | ("sfixed32", Kind::Sfixed32) => "i32",
        ("int64", Kind::Int64) | ("sint64", Kind::Sint64) | ("sfixed64", Kind::Sfixed64) => "i64",
        ("uint32", Kind::Uint32) | ("fixed32", Kind::Fixed32) => "u32",
        ("uint64", Kind::Uint64) | ("fixed64", Kind::Fixed64) => "u64",
        ("float", Kind::Float) => "f32",
        ("double", Kind::Double) => "f64",
        _ => return None,
    })
}

/// Statements checking `value` (a reference to one value of kind `kind`) against the type
/// rules `rule`, plus a nested message's own validation.
pub(super) fn value_checks(
    ctx: &Ctx<'_>,
    field: &FieldDescriptor,
    kind: &Kind,
    rule: Option<&str>,
    rules: Option<&DynamicMessage>,
    value: TokenStream,
) -> Result<TokenStream, Error> {
    let cg = ctx.codegen;
    let mut out = TokenStream::new();
    if let (Some(rule), Some(r)) = (rule, rules) {
        let checks = match (rule, kind) {
            ("string", Kind::String) => string_rules(cg, r, field, &value)?,
            ("bytes", Kind::Bytes) => {
                only_known(
                    r,
                    rule,
                    &[
                        "const", "len", "min_len", "max_len", "prefix", "suffix", "contains", "in",
                        "not_in",
                    ],
                    field,
                )?;
                let (c, len, min, max) = (
                    opt_bytes(r, "const"),
                    opt_u64(r, "len"),
                    opt_u64(r, "min_len"),
                    opt_u64(r, "max_len"),
                );
                let (prefix, suffix, contains) = (
                    opt_bytes(r, "prefix"),
                    opt_bytes(r, "suffix"),
                    opt_bytes(r, "contains"),
                );
                let (in_, not_in) = (bytes_list(r, "in"), bytes_list(r, "not_in"));
                quote! {
                    static R: #cg::validate::BytesRules = #cg::validate::BytesRules {
                        const_: #c, len: #len, min_len: #min, max_len: #max,
                        prefix: #prefix, suffix: #suffix, contains: #contains,
                        in_: #in_, not_in: #not_in,
                    };
                    #cg::validate::bytes(v, &#value[..], &R);
                }
            }
            ("bool", Kind::Bool) => {
                only_known(r, rule, &["const"], field)?;
                let c = if r.has_field_by_name("const") {
                    let b = bool_field(r, "const");
                    quote!(::core::option::Option::Some(#b))
                } else {
                    quote!(::core::option::Option::None)
                };
                quote! {
                    static R: #cg::validate::BoolRules = #cg::validate::BoolRules { const_: #c };
                    #cg::validate::boolean(v, *#value, &R);
                }
            }
            ("enum", Kind::Enum(e)) => {
                only_known(r, rule, &["const", "defined_only", "in", "not_in"], field)?;
                let c = if r.has_field_by_name("const") {
                    let n = r
                        .get_field_by_name("const")
                        .and_then(|v| v.as_i32())
                        .unwrap_or(0);
                    quote!(::core::option::Option::Some(#n))
                } else {
                    quote!(::core::option::Option::None)
                };
                let list = |name: &str| -> Vec<i32> {
                    r.get_field_by_name(name)
                        .and_then(|v| {
                            v.as_list()
                                .map(|l| l.iter().filter_map(Value::as_i32).collect())
                        })
                        .unwrap_or_default()
                };
                let (in_, not_in) = (list("in"), list("not_in"));
                let defined_only = bool_field(r, "defined_only");
                let defined: Vec<i32> = e.values().map(|v| v.number()).collect();
                quote! {
                    static R: #cg::validate::EnumRules = #cg::validate::EnumRules {
                        const_: #c, defined_only: #defined_only, in_: &[#(#in_),*], not_in: &[#(#not_in),*],
                    };
                    #cg::validate::enumeration(v, *#value, [#(#defined),*].contains(#value), &R);
                }
            }
            (name, kind) if numeric(name, kind).is_some() => {
                let rust = numeric(name, kind).unwrap_or("i32");
                only_known(
                    r,
                    rule,
                    &["const", "lt", "lte", "gt", "gte", "in", "not_in", "finite"],
                    field,
                )?;
                let one = |n: &str| -> Result<TokenStream, Error> {
                    if !r.has_field_by_name(n) {
                        return Ok(quote!(::core::option::Option::None));
                    }
                    match r.get_field_by_name(n) {
                        Some(v) => {
                            let lit = number_literal(&v, rust, field)?;
                            Ok(quote!(::core::option::Option::Some(#lit)))
                        }
                        None => Ok(quote!(::core::option::Option::None)),
                    }
                };
                let list = |n: &str| -> Result<TokenStream, Error> {
                    let mut items = Vec::new();
                    if let Some(v) = r.get_field_by_name(n)
                        && let Some(l) = v.as_list()
                    {
                        for x in l {
                            items.push(number_literal(x, rust, field)?);
                        }
                    }
                    Ok(quote!(&[#(#items),*]))
                };
                let (c, lt, lte, gt, gte) = (
                    one("const")?,
                    one("lt")?,
                    one("lte")?,
                    one("gt")?,
                    one("gte")?,
                );
                let (in_, not_in) = (list("in")?, list("not_in")?);
                let finite = bool_field(r, "finite");
                let ty = format_ident!("{}", rust);
                quote! {
                    static R: #cg::validate::NumberRules<#ty> = #cg::validate::NumberRules {
                        kind: #name, const_: #c, lt: #lt, lte: #lte, gt: #gt, gte: #gte,
                        in_: #in_, not_in: #not_in, finite: #finite,
                    };
                    #cg::validate::number(v, *#value, &R);
                }
            }
            ("any" | "duration" | "timestamp" | "field_mask", _) => {
                return Err(Error::new(format!(
                    "micro-gen: {}: `{rule}` rules are not supported yet",
                    location(field)
                )));
            }
            (other, _) => return Err(mismatch(field, other)),
        };
        out.extend(quote!({ #checks }));
    }
    // A nested message is walked only when it, or something under it, has rules.
    if let Kind::Message(m) = kind
        && !is_extern(&format!(".{}", m.full_name()), ctx.externs)
        && !m.is_map_entry()
        && has_rules(ctx.pool, m.full_name(), ctx.externs)
    {
        out.extend(quote!(#cg::Validate::validate_into(#value, v);));
    }
    Ok(out)
}

/// The well-known formats micro checks, by rule name.
const FORMATS: [(&str, &str); 16] = [
    ("email", "Email"),
    ("hostname", "Hostname"),
    ("ip", "Ip"),
    ("ipv4", "Ipv4"),
    ("ipv6", "Ipv6"),
    ("address", "Address"),
    ("uuid", "Uuid"),
    ("tuuid", "Tuuid"),
    ("ulid", "Ulid"),
    ("ip_with_prefixlen", "IpWithPrefixlen"),
    ("ipv4_with_prefixlen", "Ipv4WithPrefixlen"),
    ("ipv6_with_prefixlen", "Ipv6WithPrefixlen"),
    ("ip_prefix", "IpPrefix"),
    ("ipv4_prefix", "Ipv4Prefix"),
    ("ipv6_prefix", "Ipv6Prefix"),
    ("host_and_port", "HostAndPort"),
];

fn string_rules(
    cg: &TokenStream,
    r: &DynamicMessage,
    field: &FieldDescriptor,
    value: &TokenStream,
) -> Result<TokenStream, Error> {
    let mut known = vec![
        "const",
        "len",
        "min_len",
        "max_len",
        "len_bytes",
        "min_bytes",
        "max_bytes",
        "pattern",
        "prefix",
        "suffix",
        "contains",
        "not_contains",
        "in",
        "not_in",
    ];
    known.extend(FORMATS.iter().map(|(rule, _)| *rule));
    only_known(r, "string", &known, field)?;
    let mut format = quote!(::core::option::Option::None);
    for (rule, variant) in FORMATS {
        if bool_field(r, rule) {
            let variant = format_ident!("{}", variant);
            format = quote!(::core::option::Option::Some(#cg::validate::Format::#variant));
        }
    }
    let pattern = match r
        .has_field_by_name("pattern")
        .then(|| r.get_field_by_name("pattern"))
        .flatten()
    {
        Some(p) => {
            let p = p.as_str().unwrap_or_default().to_owned();
            if let Err(e) = regex::Regex::new(&p) {
                return Err(Error::new(format!(
                    "micro-gen: {}: `string.pattern` {p:?} does not compile: {e}",
                    location(field)
                )));
            }
            quote!(::core::option::Option::Some(#cg::validate::Pattern::new(#p)))
        }
        None => quote!(::core::option::Option::None),
    };
    let (c, len, min, max) = (
        opt_str(r, "const"),
        opt_u64(r, "len"),
        opt_u64(r, "min_len"),
        opt_u64(r, "max_len"),
    );
    let (len_b, min_b, max_b) = (
        opt_u64(r, "len_bytes"),
        opt_u64(r, "min_bytes"),
        opt_u64(r, "max_bytes"),
    );
    let (prefix, suffix, contains, not_contains) = (
        opt_str(r, "prefix"),
        opt_str(r, "suffix"),
        opt_str(r, "contains"),
        opt_str(r, "not_contains"),
    );
    let (in_, not_in) = (str_list(r, "in"), str_list(r, "not_in"));
    Ok(quote! {
        static R: #cg::validate::StringRules = #cg::validate::StringRules {
            const_: #c, len: #len, min_len: #min, max_len: #max,
            len_bytes: #len_b, min_bytes: #min_b, max_bytes: #max_b,
            pattern: #pattern, prefix: #prefix, suffix: #suffix,
            contains: #contains, not_contains: #not_contains,
            in_: #in_, not_in: #not_in, format: #format,
        };
        #cg::validate::string(v, #value, &R);
    })
}
