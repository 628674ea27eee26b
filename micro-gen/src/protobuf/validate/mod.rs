//! `validate()` from protovalidate's `buf.validate` rules: per message, an impl of the
//! runtime's `Validate` that checks every rule of every field (and, through nested
//! messages, their fields) and reports each violation with its field path and rule id.
//!
//! Rules are read from the descriptors and emitted as static rule tables the runtime's
//! check functions evaluate. A rule micro cannot apply is a build error naming the file,
//! line and field: a rule for another type than the field's, a pattern that does not
//! compile, CEL expressions and the rules not supported yet.

mod fields;
mod values;

use proc_macro2::TokenStream;
use prost_reflect::{
    DescriptorPool, DynamicMessage, FieldDescriptor, Kind, MessageDescriptor, Value,
};
use quote::quote;

use super::{Error, is_extern};
use crate::ident::{to_snake, to_upper_camel};

/// protovalidate's `Ignore` values.
pub(super) const IGNORE_IF_ZERO_VALUE: i32 = 1;
pub(super) const IGNORE_ALWAYS: i32 = 3;

pub(super) struct Ctx<'a> {
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
        if rules.extensions().next().is_some()
            || rules
                .fields()
                .any(|(f, _)| !["cel", "cel_expression", "oneof"].contains(&f.name()))
        {
            return Err(Error::new(format!(
                "micro-gen: {}: message {}: a `(buf.validate.message)` rule micro does not know (it checks `oneof` here; `cel` is not supported yet)",
                m.parent_file_descriptor_proto().name(),
                m.full_name()
            )));
        }
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
        let rules = extension(ctx.pool, &oneof.options(), "buf.validate.oneof");
        if let Some(r) = &rules
            && (r.extensions().next().is_some() || r.fields().any(|(f, _)| f.name() != "required"))
        {
            return Err(Error::new(format!(
                "micro-gen: {}: oneof {}.{}: a `(buf.validate.oneof)` rule micro does not know (it checks `required`)",
                m.parent_file_descriptor_proto().name(),
                m.full_name(),
                oneof.name()
            )));
        }
        if let Some(rules) = rules
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
        body.extend(fields::field_checks(ctx, m, &field, modules)?);
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

pub(super) fn rust_path(modules: &[String], name: &str) -> Result<TokenStream, Error> {
    let mut parts = Vec::new();
    for m in modules.iter().map(String::as_str).chain([name]) {
        parts.push(format_ident_raw(m)?);
    }
    Ok(quote!(#(#parts)::*))
}

pub(super) fn format_ident_raw(name: &str) -> Result<syn::Ident, Error> {
    syn::parse_str::<syn::Ident>(name)
        .map_err(|e| Error::new(format!("micro-gen: identifier {name:?}: {e}")))
}

pub(super) fn extension(
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

pub(super) fn has_list(m: &DynamicMessage, name: &str) -> bool {
    m.get_field_by_name(name)
        .and_then(|v| v.as_list().map(|l| !l.is_empty()))
        .unwrap_or(false)
}

pub(super) fn bool_field(m: &DynamicMessage, name: &str) -> bool {
    m.has_field_by_name(name)
        && m.get_field_by_name(name)
            .and_then(|v| v.as_bool())
            .unwrap_or(false)
}

/// `file:line: field x.y.z` for messages.
pub(super) fn location(field: &FieldDescriptor) -> String {
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

pub(super) fn unsupported_cel(file: &Option<String>, owner: &str, at: Option<String>) -> Error {
    let place =
        at.unwrap_or_else(|| format!("{}: message {owner}", file.as_deref().unwrap_or("<input>")));
    Error::new(format!(
        "micro-gen: {place}: CEL rules (`cel`, `cel_expression`) are not supported yet: no Rust CEL implementation is sound enough for protovalidate's functions; use the standard rules, or validate in the handler"
    ))
}

pub(super) fn mismatch(field: &FieldDescriptor, rule: &str) -> Error {
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

/// Refuse rule fields micro does not check yet (so none is silently ignored).
pub(super) fn only_known(
    r: &DynamicMessage,
    rule: &str,
    known: &[&str],
    field: &FieldDescriptor,
) -> Result<(), Error> {
    refuse_extensions(r, rule, field)?;
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

/// Refuse protovalidate's predefined (extension) rules on a rule message: micro does not
/// evaluate them, so none may pass unchecked.
pub(super) fn refuse_extensions(
    r: &DynamicMessage,
    what: &str,
    field: &FieldDescriptor,
) -> Result<(), Error> {
    if let Some((ext, _)) = r.extensions().next() {
        return Err(Error::new(format!(
            "micro-gen: {}: the predefined rule `{}` on `{what}` rules is not supported yet",
            location(field),
            ext.full_name()
        )));
    }
    Ok(())
}
