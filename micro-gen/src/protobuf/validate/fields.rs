//! The checks of one field: presence (`required`, `ignore`), oneof members, lists and maps,
//! then [`super::values`] for each value.

use proc_macro2::TokenStream;
use prost_reflect::{Cardinality, DynamicMessage, FieldDescriptor, Kind, MessageDescriptor, Value};
use quote::quote;

use super::values::{opt_u64, value_checks};
use super::{
    Ctx, IGNORE_ALWAYS, IGNORE_IF_ZERO_VALUE, bool_field, format_ident_raw, has_list, location,
    mismatch, only_known, refuse_extensions, rust_path, unsupported_cel,
};
use crate::ident::{to_snake, to_upper_camel};
use crate::protobuf::Error;

/// The rule fields of `FieldRules` micro reads (the members of its `type` oneof are checked
/// by [`value_checks`]).
const FIELD_RULES: [&str; 5] = ["required", "ignore", "cel", "cel_expression", "example"];

/// The checks of one field, as statements of `validate_into`.
pub(super) fn field_checks(
    ctx: &Ctx<'_>,
    m: &MessageDescriptor,
    field: &FieldDescriptor,
    modules: &[String],
) -> Result<TokenStream, Error> {
    let rules = super::extension(ctx.pool, &field.options(), "buf.validate.field");
    let ignore = match &rules {
        Some(r) => field_rules_checked(r, field)?,
        None => 0,
    };
    if ignore == IGNORE_ALWAYS {
        return Ok(TokenStream::new());
    }
    let required = rules.as_ref().is_some_and(|r| bool_field(r, "required"));
    let ignore_zero = ignore == IGNORE_IF_ZERO_VALUE;
    let name = field.name().to_owned();
    let ident = format_ident_raw(&to_snake(field.name()))?;
    let (type_name, type_rules) = match &rules {
        Some(r) => type_rules(r),
        None => (None, None),
    };
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
    let missing = quote! { v.field(#name); v.required(); v.pop(); };

    // Members of a real oneof, and fields with presence: checked when set (whatever the
    // value: IGNORE_IF_ZERO_VALUE changes nothing for them), `required` when not.
    let pattern = if let Some(oneof) = field.containing_oneof().filter(|o| !o.is_synthetic()) {
        let oneof_field = format_ident_raw(&to_snake(oneof.name()))?;
        let mut enum_modules = modules.to_vec();
        enum_modules.push(to_snake(m.name()));
        let ty = rust_path(&enum_modules, &to_upper_camel(oneof.name()))?;
        let variant = format_ident_raw(&to_upper_camel(field.name()))?;
        Some((quote!(#ty::#variant), quote!(self.#oneof_field)))
    } else if field.supports_presence() && field.cardinality() != Cardinality::Required {
        // prost makes these `Option` (a proto2 `required` field is a plain value).
        Some((TokenStream::new(), quote!(self.#ident)))
    } else {
        None
    };
    if let Some((variant, place)) = pattern {
        let some = |bind: TokenStream| {
            if variant.is_empty() {
                quote!(::core::option::Option::Some(#bind))
            } else {
                quote!(::core::option::Option::Some(#variant(#bind)))
            }
        };
        if checks.is_empty() {
            let any = some(quote!(_));
            return Ok(quote! {
                if !::core::matches!(&#place, #any) { #missing }
            });
        }
        let set = some(quote!(x));
        let otherwise = if required {
            quote!(else { #missing })
        } else {
            TokenStream::new()
        };
        return Ok(quote! {
            if let #set = &#place {
                v.field(#name);
                #checks
                v.pop();
            } #otherwise
        });
    }
    let body = quote! {
        v.field(#name);
        #checks
        v.pop();
    };
    if field.cardinality() == Cardinality::Required {
        // A proto2 `required` field is always there.
        return Ok(quote!({ let x = &self.#ident; #body }));
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

/// Check a field's `FieldRules` for what micro cannot apply, and return its `ignore`.
fn field_rules_checked(r: &DynamicMessage, field: &FieldDescriptor) -> Result<i32, Error> {
    if has_list(r, "cel") || has_list(r, "cel_expression") {
        return Err(unsupported_cel(&None, "", Some(location(field))));
    }
    refuse_extensions(r, "field", field)?;
    for (f, _) in r.fields() {
        let in_type = f.containing_oneof().is_some_and(|o| o.name() == "type");
        if !in_type && !FIELD_RULES.contains(&f.name()) {
            return Err(Error::new(format!(
                "micro-gen: {}: the rule `{}` is not supported (this `buf/validate/validate.proto` may be an older or newer one than micro's)",
                location(field),
                f.name()
            )));
        }
    }
    let ignore = r
        .get_field_by_name("ignore")
        .filter(|_| r.has_field_by_name("ignore"))
        .and_then(|v| v.as_enum_number())
        .unwrap_or(0);
    if ![0, IGNORE_IF_ZERO_VALUE, IGNORE_ALWAYS].contains(&ignore) {
        return Err(Error::new(format!(
            "micro-gen: {}: `ignore = {ignore}` is not an Ignore value micro knows (IGNORE_UNSPECIFIED, IGNORE_IF_ZERO_VALUE, IGNORE_ALWAYS)",
            location(field)
        )));
    }
    Ok(ignore)
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

/// The set member of `FieldRules.type`: its name (`string`, `int32`, `repeated` ...) and
/// rules.
pub(super) fn type_rules(rules: &DynamicMessage) -> (Option<String>, Option<DynamicMessage>) {
    for (field, value) in rules.fields() {
        if field.containing_oneof().is_some_and(|o| o.name() == "type")
            && let Value::Message(m) = value
        {
            return (Some(field.name().to_owned()), Some(m.clone()));
        }
    }
    (None, None)
}

/// The type rules of an `items`, `keys` or `values` FieldRules; their own `required`,
/// `ignore` and `cel` are refused as not supported.
fn type_rules_of(
    rules: &DynamicMessage,
    field: &FieldDescriptor,
    which: &str,
) -> Result<(Option<String>, Option<DynamicMessage>), Error> {
    if has_list(rules, "cel") || has_list(rules, "cel_expression") {
        return Err(unsupported_cel(&None, "", Some(location(field))));
    }
    refuse_extensions(rules, which, field)?;
    for (f, _) in rules.fields() {
        if f.containing_oneof().is_none_or(|o| o.name() != "type") && f.name() != "example" {
            return Err(Error::new(format!(
                "micro-gen: {}: `{which}.{}` is not supported yet",
                location(field),
                f.name()
            )));
        }
    }
    Ok(type_rules(rules))
}

fn nested(
    r: &DynamicMessage,
    name: &str,
    field: &FieldDescriptor,
) -> Result<(Option<String>, Option<DynamicMessage>), Error> {
    if r.has_field_by_name(name)
        && let Some(Value::Message(inner)) = r.get_field_by_name(name).map(|v| v.into_owned())
    {
        return type_rules_of(&inner, field, name);
    }
    Ok((None, None))
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
            only_known(
                r,
                "repeated",
                &["min_items", "max_items", "unique", "items"],
                field,
            )?;
            let min = opt_u64(r, "min_items");
            let max = opt_u64(r, "max_items");
            let unique = bool_field(r, "unique");
            let unique_value = if unique {
                let check = match field.kind() {
                    Kind::Message(_) => {
                        return Err(Error::new(format!(
                            "micro-gen: {}: `repeated.unique` applies to scalar and enum items, not messages",
                            location(field)
                        )));
                    }
                    Kind::Float | Kind::Double => quote!(unique_floats),
                    _ => quote!(unique),
                };
                quote!(#cg::validate::#check(&self.#ident))
            } else {
                quote!(true)
            };
            size = quote! {{
                static R: #cg::validate::RepeatedRules = #cg::validate::RepeatedRules {
                    min_items: #min, max_items: #max, unique: #unique,
                };
                #cg::validate::repeated(v, self.#ident.len(), #unique_value, &R);
            }};
            items_rules = nested(r, "items", field)?;
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
    Ok(collection(ident, name, required, ignore_zero, size, each))
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
    let (key_field, value_field) = (entry.map_entry_key_field(), entry.map_entry_value_field());
    let mut size = TokenStream::new();
    let mut keys = (None, None);
    let mut values = (None, None);
    match (type_name.as_deref(), &type_rules) {
        (None, _) => {}
        (Some("map"), Some(r)) => {
            only_known(
                r,
                "map",
                &["min_pairs", "max_pairs", "keys", "values"],
                field,
            )?;
            let min = opt_u64(r, "min_pairs");
            let max = opt_u64(r, "max_pairs");
            size = quote! {{
                static R: #cg::validate::MapRules = #cg::validate::MapRules {
                    min_pairs: #min, max_pairs: #max,
                };
                #cg::validate::map(v, self.#ident.len(), &R);
            }};
            keys = nested(r, "keys", field)?;
            values = nested(r, "values", field)?;
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
    // Entries in key order, so the violations (and the error's text) are the same on every
    // call whatever the map's iteration order.
    let each = if key_checks.is_empty() && value_checks.is_empty() {
        TokenStream::new()
    } else {
        quote! {
            let mut entries: ::std::vec::Vec<_> = self.#ident.iter().collect();
            entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
            for (k, x) in entries {
                #step
                #key_checks
                #value_checks
                v.pop();
            }
        }
    };
    Ok(collection(ident, name, required, ignore_zero, size, each))
}

/// A list's or map's statements: its size rules and per-element checks under its name, with
/// "unset" being empty.
fn collection(
    ident: &syn::Ident,
    name: &str,
    required: bool,
    ignore_zero: bool,
    size: TokenStream,
    each: TokenStream,
) -> TokenStream {
    let body = quote! {
        v.field(#name);
        #size
        #each
        v.pop();
    };
    unset_or(
        required,
        ignore_zero,
        name,
        TokenStream::new(),
        quote!(self.#ident.is_empty()),
        body,
    )
}
