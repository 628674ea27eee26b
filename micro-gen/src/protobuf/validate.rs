//! `validate()` from protovalidate's `buf.validate` rules: per message, an impl of the
//! runtime's `Validate` that checks every rule of every field (and, through nested
//! messages, their fields) and reports each violation with its field path and rule id.
//!
//! Rules are read from the descriptors and emitted as static rule tables the runtime's
//! check functions evaluate. A rule micro cannot apply is a build error naming the file,
//! line and field: a rule for another type than the field's, a pattern that does not
//! compile, CEL expressions and the rules not supported yet.

use proc_macro2::{Literal, TokenStream};
use prost_reflect::{
    DescriptorPool, DynamicMessage, FieldDescriptor, Kind, MessageDescriptor, Value,
};
use quote::{format_ident, quote};

use super::{Error, is_extern};
use crate::ident::{to_snake, to_upper_camel};

/// protovalidate's `Ignore` values.
const IGNORE_IF_ZERO_VALUE: i32 = 1;
const IGNORE_ALWAYS: i32 = 3;

struct Ctx<'a> {
    pool: &'a DescriptorPool,
    codegen: &'a TokenStream,
    externs: &'a [(String, String)],
}

/// The `Validate` impls for every message of `files`.
pub(crate) fn generate(
    pool: &DescriptorPool,
    files: &[&str],
    codegen: &TokenStream,
    externs: &[(String, String)],
) -> Result<TokenStream, Error> {
    let ctx = Ctx {
        pool,
        codegen,
        externs,
    };
    let mut out = TokenStream::new();
    for name in files {
        let Some(file) = pool.get_file_by_name(name) else {
            continue;
        };
        for m in file.messages() {
            message(&ctx, &m, &mut Vec::new(), &mut out)?;
        }
    }
    Ok(out)
}

/// True when the message `full_name`, or a message it holds, has a `buf.validate` rule: the
/// server then validates it before the handler runs.
pub(crate) fn has_rules(
    pool: &DescriptorPool,
    full_name: &str,
    externs: &[(String, String)],
) -> bool {
    fn visit(
        pool: &DescriptorPool,
        m: &MessageDescriptor,
        externs: &[(String, String)],
        seen: &mut Vec<String>,
    ) -> bool {
        if seen.iter().any(|s| s == m.full_name())
            || is_extern(&format!(".{}", m.full_name()), externs)
        {
            return false;
        }
        seen.push(m.full_name().to_owned());
        if extension(pool, &m.options(), "buf.validate.message").is_some()
            || m.oneofs()
                .any(|o| extension(pool, &o.options(), "buf.validate.oneof").is_some())
        {
            return true;
        }
        m.fields().any(|f| {
            extension(pool, &f.options(), "buf.validate.field").is_some()
                || match f.kind() {
                    Kind::Message(child) => visit(pool, &child, externs, seen),
                    _ => false,
                }
        })
    }
    pool.get_message_by_name(full_name)
        .is_some_and(|m| visit(pool, &m, externs, &mut Vec::new()))
}

fn message(
    ctx: &Ctx<'_>,
    m: &MessageDescriptor,
    modules: &mut Vec<String>,
    out: &mut TokenStream,
) -> Result<(), Error> {
    if m.is_map_entry() || is_extern(&format!(".{}", m.full_name()), ctx.externs) {
        return Ok(());
    }
    let path = rust_path(modules, &to_upper_camel(m.name()))?;
    let cg = ctx.codegen;
    let mut body = TokenStream::new();
    if let Some(rules) = extension(ctx.pool, &m.options(), "buf.validate.message") {
        if has_list(&rules, "cel") || has_list(&rules, "cel_expression") {
            return Err(unsupported_cel(
                &m.parent_file_descriptor_proto().name,
                m.full_name(),
                None,
            ));
        }
        if has_list(&rules, "oneof") {
            return Err(Error::new(format!(
                "micro-gen: {}: message {}: `(buf.validate.message).oneof` is not supported yet; use a `oneof` with `(buf.validate.oneof).required`",
                m.parent_file_descriptor_proto().name(),
                m.full_name()
            )));
        }
    }
    for oneof in m.oneofs().filter(|o| !o.is_synthetic()) {
        if let Some(rules) = extension(ctx.pool, &oneof.options(), "buf.validate.oneof")
            && bool_field(&rules, "required")
        {
            let name = to_snake(oneof.name());
            let field = format_ident_raw(&name)?;
            let text = oneof.name().to_owned();
            body.extend(quote! {
                if self.#field.is_none() {
                    v.field(#text);
                    v.add("required", "exactly one field is required in oneof");
                    v.pop();
                }
            });
        }
    }
    for field in m.fields() {
        body.extend(field_checks(ctx, m, &field, modules)?);
    }
    let allow = if body.is_empty() {
        quote!(#[allow(unused_variables)])
    } else {
        TokenStream::new()
    };
    out.extend(quote! {
        impl #cg::Validate for #path {
            #allow
            fn validate_into(&self, v: &mut #cg::Violations) {
                #body
            }
        }
    });
    modules.push(to_snake(m.name()));
    for child in m.child_messages() {
        message(ctx, &child, modules, out)?;
    }
    modules.pop();
    Ok(())
}

fn rust_path(modules: &[String], name: &str) -> Result<TokenStream, Error> {
    let mut parts = Vec::new();
    for m in modules.iter().map(String::as_str).chain([name]) {
        parts.push(format_ident_raw(m)?);
    }
    Ok(quote!(#(#parts)::*))
}

fn format_ident_raw(name: &str) -> Result<syn::Ident, Error> {
    syn::parse_str::<syn::Ident>(name)
        .map_err(|e| Error::new(format!("micro-gen: identifier {name:?}: {e}")))
}

fn extension(
    pool: &DescriptorPool,
    options: &DynamicMessage,
    name: &str,
) -> Option<DynamicMessage> {
    let ext = pool.get_extension_by_name(name)?;
    if !options.has_extension(&ext) {
        return None;
    }
    match options.get_extension(&ext).into_owned() {
        Value::Message(m) => Some(m),
        _ => None,
    }
}

fn has_list(m: &DynamicMessage, name: &str) -> bool {
    m.get_field_by_name(name)
        .and_then(|v| v.as_list().map(|l| !l.is_empty()))
        .unwrap_or(false)
}

fn bool_field(m: &DynamicMessage, name: &str) -> bool {
    m.has_field_by_name(name)
        && m.get_field_by_name(name)
            .and_then(|v| v.as_bool())
            .unwrap_or(false)
}

/// `file:line: field x.y.z` for messages.
fn location(field: &FieldDescriptor) -> String {
    let file = field.parent_file();
    let proto = file.file_descriptor_proto();
    let line = proto
        .source_code_info
        .as_ref()
        .and_then(|info| info.location.iter().find(|l| l.path == field.path()))
        .and_then(|l| l.span.first())
        .map(|l| format!(":{}", l + 1))
        .unwrap_or_default();
    format!("{}{line}: field {}", proto.name(), field.full_name())
}

fn unsupported_cel(file: &Option<String>, owner: &str, at: Option<String>) -> Error {
    let place =
        at.unwrap_or_else(|| format!("{}: message {owner}", file.as_deref().unwrap_or("<input>")));
    Error::new(format!(
        "micro-gen: {place}: CEL rules (`cel`, `cel_expression`) are not supported yet: no Rust CEL implementation is sound enough for protovalidate's functions; use the standard rules, or validate in the handler"
    ))
}

/// The checks of one field, as statements of `validate_into`.
fn field_checks(
    ctx: &Ctx<'_>,
    m: &MessageDescriptor,
    field: &FieldDescriptor,
    modules: &[String],
) -> Result<TokenStream, Error> {
    let rules = extension(ctx.pool, &field.options(), "buf.validate.field");
    let ignore = rules
        .as_ref()
        .filter(|r| r.has_field_by_name("ignore"))
        .and_then(|r| r.get_field_by_name("ignore"))
        .and_then(|v| v.as_enum_number())
        .unwrap_or(0);
    if ignore == IGNORE_ALWAYS {
        return Ok(TokenStream::new());
    }
    if let Some(r) = &rules
        && (has_list(r, "cel") || has_list(r, "cel_expression"))
    {
        return Err(unsupported_cel(&None, m.full_name(), Some(location(field))));
    }
    let required = rules.as_ref().is_some_and(|r| bool_field(r, "required"));
    let ignore_zero = ignore == IGNORE_IF_ZERO_VALUE;
    let name = field.name().to_owned();
    let ident = format_ident_raw(&to_snake(field.name()))?;
    let (type_name, type_rules) = match &rules {
        Some(r) => type_rules(r),
        None => (None, None),
    };

    // Members of a real oneof: checked when that member is the one set.
    if let Some(oneof) = field.containing_oneof().filter(|o| !o.is_synthetic()) {
        let oneof_field = format_ident_raw(&to_snake(oneof.name()))?;
        let mut enum_modules = modules.to_vec();
        enum_modules.push(to_snake(m.name()));
        let ty = rust_path(&enum_modules, &to_upper_camel(oneof.name()))?;
        let variant = format_ident_raw(&to_upper_camel(field.name()))?;
        let checks = value_checks(
            ctx,
            field,
            &field.kind(),
            type_name.as_deref(),
            type_rules.as_ref(),
            quote!(x),
        )?;
        if checks.is_empty() && !required {
            return Ok(TokenStream::new());
        }
        let body = guarded(
            ctx.codegen,
            ignore_zero,
            quote! {
                v.field(#name);
                #checks
                v.pop();
            },
        );
        let otherwise = otherwise(required, &name);
        return Ok(quote! {
            if let ::core::option::Option::Some(#ty::#variant(x)) = &self.#oneof_field {
                #body
            } #otherwise
        });
    }

    if field.is_map() {
        return map_checks(
            ctx,
            field,
            &ident,
            &name,
            required,
            ignore_zero,
            type_name,
            type_rules,
        );
    }
    if field.is_list() {
        return list_checks(
            ctx,
            field,
            &ident,
            &name,
            required,
            ignore_zero,
            type_name,
            type_rules,
        );
    }
    let checks = value_checks(
        ctx,
        field,
        &field.kind(),
        type_name.as_deref(),
        type_rules.as_ref(),
        quote!(x),
    )?;
    if checks.is_empty() && !required {
        return Ok(TokenStream::new());
    }
    let body = quote! {
        v.field(#name);
        #checks
        v.pop();
    };
    if field.supports_presence() {
        let body = guarded(ctx.codegen, ignore_zero, body);
        let otherwise = otherwise(required, &name);
        return Ok(quote! {
            if let ::core::option::Option::Some(x) = &self.#ident {
                #body
            } #otherwise
        });
    }
    let cg = ctx.codegen;
    // Implicit presence: "unset" is the zero value.
    let unset = quote!(#cg::validate::is_default(x));
    Ok(unset_or(
        required,
        ignore_zero,
        &name,
        quote!(let x = &self.#ident;),
        unset,
        body,
    ))
}

/// Statements for a field whose "unset" test is `unset`: `required` reports it, with
/// IGNORE_IF_ZERO_VALUE it is skipped, else its rules run on it like on any value.
fn unset_or(
    required: bool,
    ignore_zero: bool,
    name: &str,
    bind: TokenStream,
    unset: TokenStream,
    body: TokenStream,
) -> TokenStream {
    if required {
        quote!({ #bind if #unset { v.field(#name); v.required(); v.pop(); } else { #body } })
    } else if ignore_zero {
        quote!({ #bind if !(#unset) { #body } })
    } else {
        quote!({ #bind #body })
    }
}

/// The `else` of a field with presence that is not set: a `required` violation, or none.
fn otherwise(required: bool, name: &str) -> TokenStream {
    if required {
        quote!(else { v.field(#name); v.required(); v.pop(); })
    } else {
        TokenStream::new()
    }
}

/// `body` for a value that has presence: with IGNORE_IF_ZERO_VALUE, a zero value is
/// skipped as if unset.
fn guarded(cg: &TokenStream, ignore_zero: bool, body: TokenStream) -> TokenStream {
    if ignore_zero {
        quote!(if !#cg::validate::is_default(x) { #body })
    } else {
        body
    }
}

/// The set member of `FieldRules.type`: its name (`string`, `int32`, `repeated` ...) and
/// rules.
fn type_rules(rules: &DynamicMessage) -> (Option<String>, Option<DynamicMessage>) {
    for (field, value) in rules.fields() {
        if field.containing_oneof().is_some_and(|o| o.name() == "type")
            && let Value::Message(m) = value
        {
            return (Some(field.name().to_owned()), Some(m.clone()));
        }
    }
    (None, None)
}

#[allow(clippy::too_many_arguments)]
fn list_checks(
    ctx: &Ctx<'_>,
    field: &FieldDescriptor,
    ident: &syn::Ident,
    name: &str,
    required: bool,
    ignore_zero: bool,
    type_name: Option<String>,
    type_rules: Option<DynamicMessage>,
) -> Result<TokenStream, Error> {
    let cg = ctx.codegen;
    let mut size = TokenStream::new();
    let mut items_rules = (None, None);
    match (type_name.as_deref(), &type_rules) {
        (None, _) => {}
        (Some("repeated"), Some(r)) => {
            let min = opt_u64(r, "min_items");
            let max = opt_u64(r, "max_items");
            let unique = bool_field(r, "unique");
            if unique && matches!(field.kind(), Kind::Message(_)) {
                return Err(Error::new(format!(
                    "micro-gen: {}: `repeated.unique` applies to scalar and enum items, not messages",
                    location(field)
                )));
            }
            let unique_value = if unique {
                quote!(#cg::validate::unique(&self.#ident))
            } else {
                quote!(true)
            };
            size = quote! {{
                static R: #cg::validate::RepeatedRules = #cg::validate::RepeatedRules {
                    min_items: #min, max_items: #max, unique: #unique,
                };
                #cg::validate::repeated(v, self.#ident.len(), #unique_value, &R);
            }};
            if let Some(Value::Message(items)) =
                r.get_field_by_name("items").map(|v| v.into_owned())
                && r.has_field_by_name("items")
            {
                items_rules = type_rules_of(&items, field)?;
            }
        }
        (Some(other), _) => return Err(mismatch(field, other)),
    }
    let item = value_checks(
        ctx,
        field,
        &field.kind(),
        items_rules.0.as_deref(),
        items_rules.1.as_ref(),
        quote!(x),
    )?;
    if size.is_empty() && item.is_empty() && !required {
        return Ok(TokenStream::new());
    }
    let each = if item.is_empty() {
        TokenStream::new()
    } else {
        quote! {
            for (i, x) in self.#ident.iter().enumerate() {
                v.index(i);
                #item
                v.pop();
            }
        }
    };
    let body = quote! {
        v.field(#name);
        #size
        #each
        v.pop();
    };
    Ok(unset_or(
        required,
        ignore_zero,
        name,
        TokenStream::new(),
        quote!(self.#ident.is_empty()),
        body,
    ))
}

/// The type rules of an `items`, `keys` or `values` FieldRules (their own `required` and
/// `cel` are refused as unsupported).
fn type_rules_of(
    rules: &DynamicMessage,
    field: &FieldDescriptor,
) -> Result<(Option<String>, Option<DynamicMessage>), Error> {
    if has_list(rules, "cel") || has_list(rules, "cel_expression") {
        return Err(unsupported_cel(&None, "", Some(location(field))));
    }
    Ok(type_rules(rules))
}

#[allow(clippy::too_many_arguments)]
fn map_checks(
    ctx: &Ctx<'_>,
    field: &FieldDescriptor,
    ident: &syn::Ident,
    name: &str,
    required: bool,
    ignore_zero: bool,
    type_name: Option<String>,
    type_rules: Option<DynamicMessage>,
) -> Result<TokenStream, Error> {
    let cg = ctx.codegen;
    let Kind::Message(entry) = field.kind() else {
        return Err(Error::new(format!(
            "micro-gen: {}: a map without an entry type",
            location(field)
        )));
    };
    let (Some(key_field), Some(value_field)) = (entry.get_field(1), entry.get_field(2)) else {
        return Err(Error::new(format!(
            "micro-gen: {}: a map entry without key or value",
            location(field)
        )));
    };
    let mut size = TokenStream::new();
    let mut keys = (None, None);
    let mut values = (None, None);
    match (type_name.as_deref(), &type_rules) {
        (None, _) => {}
        (Some("map"), Some(r)) => {
            let min = opt_u64(r, "min_pairs");
            let max = opt_u64(r, "max_pairs");
            size = quote! {{
                static R: #cg::validate::MapRules = #cg::validate::MapRules {
                    min_pairs: #min, max_pairs: #max,
                };
                #cg::validate::map(v, self.#ident.len(), &R);
            }};
            if r.has_field_by_name("keys")
                && let Some(Value::Message(k)) = r.get_field_by_name("keys").map(|v| v.into_owned())
            {
                keys = type_rules_of(&k, field)?;
            }
            if r.has_field_by_name("values")
                && let Some(Value::Message(val)) =
                    r.get_field_by_name("values").map(|v| v.into_owned())
            {
                values = type_rules_of(&val, field)?;
            }
        }
        (Some(other), _) => return Err(mismatch(field, other)),
    }
    let key_checks = value_checks(
        ctx,
        field,
        &key_field.kind(),
        keys.0.as_deref(),
        keys.1.as_ref(),
        quote!(k),
    )?;
    let value_checks = value_checks(
        ctx,
        field,
        &value_field.kind(),
        values.0.as_deref(),
        values.1.as_ref(),
        quote!(x),
    )?;
    if size.is_empty() && key_checks.is_empty() && value_checks.is_empty() && !required {
        return Ok(TokenStream::new());
    }
    let step = if matches!(key_field.kind(), Kind::String) {
        quote!(v.key_str(k);)
    } else {
        quote!(v.key(k);)
    };
    let each = if key_checks.is_empty() && value_checks.is_empty() {
        TokenStream::new()
    } else {
        quote! {
            for (k, x) in self.#ident.iter() {
                #step
                #key_checks
                #value_checks
                v.pop();
            }
        }
    };
    let body = quote! {
        v.field(#name);
        #size
        #each
        v.pop();
    };
    Ok(unset_or(
        required,
        ignore_zero,
        name,
        TokenStream::new(),
        quote!(self.#ident.is_empty()),
        body,
    ))
}

fn mismatch(field: &FieldDescriptor, rule: &str) -> Error {
    let kind = if field.is_map() {
        "map".to_owned()
    } else if field.is_list() {
        format!("repeated {}", kind_name(&field.kind()))
    } else {
        kind_name(&field.kind())
    };
    Error::new(format!(
        "micro-gen: {}: `{rule}` rules cannot apply to a field of type {kind}",
        location(field)
    ))
}

fn kind_name(kind: &Kind) -> String {
    match kind {
        Kind::Message(m) => m.full_name().to_owned(),
        Kind::Enum(e) => e.full_name().to_owned(),
        other => format!("{other:?}").to_lowercase(),
    }
}

fn opt_u64(r: &DynamicMessage, name: &str) -> TokenStream {
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

/// Refuse rule fields micro does not check yet (so none is silently ignored).
fn only_known(
    r: &DynamicMessage,
    rule: &str,
    known: &[&str],
    field: &FieldDescriptor,
) -> Result<(), Error> {
    for (f, _) in r.fields() {
        if !known.contains(&f.name()) && f.name() != "example" {
            return Err(Error::new(format!(
                "micro-gen: {}: the rule `{rule}.{}` is not supported yet",
                location(field),
                f.name()
            )));
        }
    }
    Ok(())
}

/// Statements checking `value` (a reference to one value of kind `kind`) against the type
/// rules `rule`, plus a nested message's own validation.
fn value_checks(
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
    if let Kind::Message(m) = kind
        && !is_extern(&format!(".{}", m.full_name()), ctx.externs)
        && !m.is_map_entry()
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
