//! protovalidate's `buf.validate` rules of a field, read from its descriptor, as registry
//! [`Constraints`] (JSON Schema keywords) and whether the field is required.

use prost_reflect::{DynamicMessage, FieldDescriptor, Kind, Value as Reflect};
use serde_json::Number;

use crate::registry::Constraints;

/// `(required, constraints)` of `field` from its `(buf.validate.field)` option; nothing for a
/// field without one (or descriptors that do not carry protovalidate's extension).
pub(super) fn field_rules(field: &FieldDescriptor) -> (bool, Constraints) {
    let Some(ext) = field
        .parent_pool()
        .get_extension_by_name("buf.validate.field")
    else {
        return (false, Constraints::default());
    };
    let options = field.options();
    if !options.has_extension(&ext) {
        return (false, Constraints::default());
    }
    let Reflect::Message(rules) = options.get_extension(&ext).into_owned() else {
        return (false, Constraints::default());
    };
    // IGNORE_IF_ZERO_VALUE (1) lets a zero value through and IGNORE_ALWAYS (3) checks
    // nothing: the schema must not promise what the server does not check.
    let ignore = get(&rules, "ignore")
        .and_then(|v| v.as_enum_number())
        .unwrap_or(0);
    if ignore == 3 || (ignore == 1 && !field.supports_presence()) {
        return (false, Constraints::default());
    }
    let required = flag(&rules, "required");
    let mut c = Constraints::default();
    if let Some((name, typed)) = type_rules(&rules) {
        apply(&mut c, &name, &typed, &field.kind());
    }
    (required, c)
}

fn flag(m: &DynamicMessage, name: &str) -> bool {
    m.has_field_by_name(name)
        && m.get_field_by_name(name)
            .and_then(|v| v.as_bool())
            .unwrap_or(false)
}

fn type_rules(rules: &DynamicMessage) -> Option<(String, DynamicMessage)> {
    rules.fields().find_map(|(f, v)| match v {
        Reflect::Message(m) if f.containing_oneof().is_some_and(|o| o.name() == "type") => {
            Some((f.name().to_owned(), m.clone()))
        }
        _ => None,
    })
}

fn get(m: &DynamicMessage, name: &str) -> Option<Reflect> {
    if m.has_field_by_name(name) {
        m.get_field_by_name(name).map(|v| v.into_owned())
    } else {
        None
    }
}

fn u64_of(m: &DynamicMessage, name: &str) -> Option<u64> {
    get(m, name).and_then(|v| v.as_u64())
}

/// A JSON number for a bound; 64-bit integers travel as strings in proto3 JSON, so their
/// bounds are not JSON Schema numbers and are left out.
fn number(v: &Reflect) -> Option<Number> {
    match v {
        Reflect::I32(n) => Some(Number::from(*n)),
        Reflect::U32(n) => Some(Number::from(*n)),
        Reflect::F32(n) => Number::from_f64(f64::from(*n)),
        Reflect::F64(n) => Number::from_f64(*n),
        _ => None,
    }
}

fn apply(c: &mut Constraints, name: &str, r: &DynamicMessage, kind: &Kind) {
    match name {
        "string" => {
            if let Some(n) = u64_of(r, "len") {
                c.min_length = Some(n);
                c.max_length = Some(n);
            }
            c.min_length = u64_of(r, "min_len").or(c.min_length);
            c.max_length = u64_of(r, "max_len").or(c.max_length);
            c.pattern = get(r, "pattern").and_then(|v| v.as_str().map(str::to_owned));
            for (rule, format) in [
                ("email", "email"),
                ("hostname", "hostname"),
                ("ipv4", "ipv4"),
                ("ipv6", "ipv6"),
                ("uuid", "uuid"),
                ("uri", "uri"),
            ] {
                if flag(r, rule) {
                    c.format = Some(format.to_owned());
                }
            }
            if let Some(list) = get(r, "in").and_then(|v| v.as_list().map(<[Reflect]>::to_vec)) {
                c.allowed = list
                    .iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect();
            }
        }
        "repeated" => {
            c.min_items = u64_of(r, "min_items");
            c.max_items = u64_of(r, "max_items");
            c.unique_items = flag(r, "unique");
            if let Some(Reflect::Message(items)) = get(r, "items")
                && let Some((item_name, typed)) = type_rules(&items)
            {
                let mut inner = Constraints::default();
                apply(&mut inner, &item_name, &typed, kind);
                if !inner.is_empty() {
                    c.items = Some(Box::new(inner));
                }
            }
        }
        "map" => {
            c.min_items = u64_of(r, "min_pairs");
            c.max_items = u64_of(r, "max_pairs");
            let value_kind = match kind {
                Kind::Message(entry) if entry.is_map_entry() && entry.get_field(2).is_some() => {
                    entry.map_entry_value_field().kind()
                }
                _ => return,
            };
            if let Some(Reflect::Message(values)) = get(r, "values")
                && let Some((value_name, typed)) = type_rules(&values)
            {
                let mut inner = Constraints::default();
                apply(&mut inner, &value_name, &typed, &value_kind);
                if !inner.is_empty() {
                    c.items = Some(Box::new(inner));
                }
            }
        }
        "int32" | "sint32" | "sfixed32" | "uint32" | "fixed32" | "float" | "double" => {
            let (gt, gte) = (get(r, "gt"), get(r, "gte"));
            let (lt, lte) = (get(r, "lt"), get(r, "lte"));
            let lower = gt.as_ref().or(gte.as_ref()).and_then(number);
            let upper = lt.as_ref().or(lte.as_ref()).and_then(number);
            // Reversed bounds are protovalidate's exclusive range (outside, not between):
            // JSON Schema has no word for it, so neither bound is shown.
            let reversed = matches!((&lower, &upper), (Some(l), Some(u))
                if u.as_f64().unwrap_or(0.0) < l.as_f64().unwrap_or(0.0));
            if !reversed {
                if gt.is_some() {
                    c.exclusive_minimum = lower;
                } else {
                    c.minimum = lower;
                }
                if lt.is_some() {
                    c.exclusive_maximum = upper;
                } else {
                    c.maximum = upper;
                }
            }
        }
        _ => {}
    }
}
