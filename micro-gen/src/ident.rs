//! Rust names for protobuf names, exactly as prost-build makes them (so code that names
//! prost's types agrees with prost), plus the names of generated service items.

use heck::{ToSnakeCase, ToUpperCamelCase};

/// A keyword-safe identifier: `type` becomes `r#type`; `self`, `super`, `crate`, `Self`,
/// `extern` and `_` get a trailing underscore; a leading digit gets a leading underscore.
pub fn sanitize(ident: &str) -> String {
    match ident {
        "as" | "break" | "const" | "continue" | "else" | "enum" | "false" | "fn" | "for" | "if"
        | "impl" | "in" | "let" | "loop" | "match" | "mod" | "move" | "mut" | "pub" | "ref"
        | "return" | "static" | "struct" | "trait" | "true" | "type" | "unsafe" | "use"
        | "where" | "while" | "dyn" | "abstract" | "become" | "box" | "do" | "final" | "macro"
        | "override" | "priv" | "typeof" | "unsized" | "virtual" | "yield" | "async" | "await"
        | "try" | "gen" => format!("r#{ident}"),
        "_" | "super" | "self" | "Self" | "extern" | "crate" => format!("{ident}_"),
        s if s.starts_with(|c: char| c.is_numeric()) => format!("_{ident}"),
        _ => ident.to_owned(),
    }
}

/// `lower_snake` for modules, fields and functions.
pub fn to_snake(s: &str) -> String {
    sanitize(&s.to_snake_case())
}

/// `UpperCamel` for types.
pub fn to_upper_camel(s: &str) -> String {
    sanitize(&s.to_upper_camel_case())
}

/// An identifier token for a name made by [`sanitize`] (raw identifiers included).
pub fn ident(name: &str) -> proc_macro2::Ident {
    match name.strip_prefix("r#") {
        Some(raw) => proc_macro2::Ident::new_raw(raw, proc_macro2::Span::call_site()),
        None => proc_macro2::Ident::new(name, proc_macro2::Span::call_site()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_prost() {
        assert_eq!(to_snake("HelloWorld"), "hello_world");
        assert_eq!(to_snake("Type"), "r#type");
        assert_eq!(to_snake("Self"), "self_");
        assert_eq!(to_upper_camel("hello_world"), "HelloWorld");
        assert_eq!(to_upper_camel("self"), "Self_");
        assert_eq!(to_snake("1st"), "_1st");
        assert_eq!(ident("r#type").to_string(), "r#type");
    }
}
