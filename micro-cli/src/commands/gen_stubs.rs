//! `micro gen`: check the project's .proto files and add handler stubs for new methods.
//!
//! Code generation itself runs in `build.rs` on every build (micro-gen), so there is no
//! generated file to refresh by hand. What a new rpc needs is a method in the handler: `micro
//! gen` finds each service's `impl <Service> for ...` block under `src/` and appends a stub
//! for every method it lacks, just before the block's closing brace. Nothing else in the
//! file changes.

use std::path::{Path, PathBuf};

use heck::ToUpperCamelCase;
use micro_gen::model::{Method, StreamKind};
use syn::spanned::Spanned;

use crate::cli::{GenArgs, Global};
use crate::commands::CliError;
use crate::output;

fn files_with(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == ext) {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

pub(crate) fn exec(_global: &Global, args: GenArgs) -> Result<(), CliError> {
    let proto_dir = args.dir.join("proto");
    let protos = files_with(&proto_dir, "proto");
    if protos.is_empty() {
        return Err(CliError::usage(
            format!("no .proto files under {}", proto_dir.display()),
            Some("run micro gen in a project made by `micro new` (service, function or api template); a #[micro::service] project needs no generation".into()),
        ));
    }
    let services = micro_gen::services(&protos, &[&proto_dir]).map_err(|e| {
        CliError::usage(
            e.to_string(),
            Some("fix the .proto file, then run micro gen again".into()),
        )
    })?;
    let sources = files_with(&args.dir.join("src"), "rs");
    let mut changed = 0;
    for service in &services {
        let package = service.package.clone().unwrap_or_default();
        let pb = find_module(&sources, &package).unwrap_or_else(|| "crate::pb".to_owned());
        let trait_name = service.name.to_upper_camel_case();
        let Some((file, found)) = find_impl(&sources, &trait_name)? else {
            output::print(&format!(
                "{trait_name}: no `impl {trait_name} for ...` under src/; implement the trait of {pb}::{}_server",
                heck::ToSnakeCase::to_snake_case(trait_name.as_str())
            ));
            continue;
        };
        let missing: Vec<&Method> = service
            .methods
            .iter()
            .filter(|m| !found.methods.contains(&m.rust_name))
            .collect();
        if missing.is_empty() {
            output::print(&format!("{trait_name}: up to date ({})", file.display()));
            continue;
        }
        let stubs: String = missing
            .iter()
            .map(|m| stub(m, &trait_name, &pb, &found.indent))
            .collect();
        let mut text = found.text.clone();
        text.insert_str(found.close, &stubs);
        let names: Vec<&str> = missing.iter().map(|m| m.rust_name.as_str()).collect();
        if args.dry_run {
            output::print(&format!(
                "{trait_name}: would add {} to {}",
                names.join(", "),
                file.display()
            ));
        } else {
            std::fs::write(&file, text)
                .map_err(|e| CliError::internal(format!("cannot write {}: {e}", file.display())))?;
            changed += 1;
            output::print(&format!(
                "{trait_name}: added stubs for {} to {}",
                names.join(", "),
                file.display()
            ));
        }
    }
    if changed > 0 {
        output::note(
            "the generated code refreshes on the next cargo build (build.rs); fill in the stubs",
        );
    }
    Ok(())
}

/// An `impl Trait for X` block: the file text, the byte offset of its closing brace, the
/// methods it has and the indentation of its items.
struct Found {
    text: String,
    close: usize,
    methods: Vec<String>,
    indent: String,
}

fn parse(file: &Path) -> Result<(String, syn::File), CliError> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| CliError::internal(format!("cannot read {}: {e}", file.display())))?;
    let ast = syn::parse_file(&text).map_err(|e| {
        let at = e.span().start();
        CliError::usage(
            format!("{}:{}:{}: {e}", file.display(), at.line, at.column + 1),
            Some("micro gen edits only files that compile; fix this one first".into()),
        )
    })?;
    Ok((text, ast))
}

fn find_impl(sources: &[PathBuf], trait_name: &str) -> Result<Option<(PathBuf, Found)>, CliError> {
    for file in sources {
        let (text, ast) = parse(file)?;
        for item in &ast.items {
            let syn::Item::Impl(block) = item else {
                continue;
            };
            let Some((_, path, _)) = &block.trait_ else {
                continue;
            };
            if path.segments.last().is_none_or(|s| s.ident != trait_name) {
                continue;
            }
            let methods = block
                .items
                .iter()
                .filter_map(|i| match i {
                    syn::ImplItem::Fn(f) => Some(f.sig.ident.to_string()),
                    _ => None,
                })
                .collect();
            let close = block.brace_token.span.close().start();
            let start = block.span().start();
            let Some(close) = offset(&text, close.line, close.column) else {
                continue;
            };
            let indent = format!("{}    ", " ".repeat(start.column));
            return Ok(Some((
                file.clone(),
                Found {
                    text,
                    close,
                    methods,
                    indent,
                },
            )));
        }
    }
    Ok(None)
}

/// The byte offset of a 1-based line and 0-based character column.
fn offset(text: &str, line: usize, column: usize) -> Option<usize> {
    let line_start: usize = text
        .split_inclusive('\n')
        .take(line.checked_sub(1)?)
        .map(str::len)
        .sum();
    let rest = &text[line_start..];
    let col = rest
        .char_indices()
        .nth(column)
        .map(|(i, _)| i)
        .unwrap_or(rest.len());
    Some(line_start + col)
}

/// The module that includes `package`'s generated code (`crate::pb`).
fn find_module(sources: &[PathBuf], package: &str) -> Option<String> {
    let needle = format!("include_proto!(\"{package}\")");
    for file in sources {
        let text = std::fs::read_to_string(file).ok()?;
        let compact: String = text.split_whitespace().collect();
        if !compact.contains(&needle) {
            continue;
        }
        let ast = syn::parse_file(&text).ok()?;
        for item in &ast.items {
            if let syn::Item::Mod(m) = item
                && m.content.as_ref().is_some_and(|(_, items)| {
                    items.iter().any(|i| {
                        let tokens: String = quote::ToTokens::to_token_stream(i)
                            .to_string()
                            .split_whitespace()
                            .collect();
                        tokens.contains(&needle)
                    })
                })
            {
                let stem = file.file_stem()?.to_string_lossy().into_owned();
                return Some(match stem.as_str() {
                    "lib" | "main" => format!("crate::{}", m.ident),
                    other => format!("crate::{other}::{}", m.ident),
                });
            }
        }
    }
    None
}

/// A Rust type of the generated code, usable from anywhere in the crate.
fn qualify(ty: &str, pb: &str) -> String {
    let ty: String = ty.split_whitespace().collect();
    if ty == "()" || ty.starts_with("::") {
        return ty;
    }
    let mut base: Vec<&str> = pb.split("::").collect();
    let mut rest = ty.as_str();
    while let Some(r) = rest.strip_prefix("super::") {
        base.pop();
        rest = r;
    }
    format!("{}::{rest}", base.join("::"))
}

fn stub(m: &Method, trait_name: &str, pb: &str, indent: &str) -> String {
    let input = qualify(&m.request_ty.to_string(), pb);
    let output = qualify(&m.response_ty.to_string(), pb);
    let (params, ret) = match m.kind {
        StreamKind::Unary => (
            format!("_request: {input}"),
            format!("micro::Result<{output}>"),
        ),
        StreamKind::ServerStream => (
            format!(
                "_request: {input},\n{indent}    _responses: micro::stream::StreamSender<{output}>"
            ),
            "micro::Result<()>".to_owned(),
        ),
        StreamKind::ClientStream => (
            format!("_requests: micro::stream::StreamReceiver<{input}>"),
            format!("micro::Result<{output}>"),
        ),
        StreamKind::BidiStream => (
            format!(
                "_requests: micro::stream::StreamReceiver<{input}>,\n{indent}    _responses: micro::stream::StreamSender<{output}>"
            ),
            "micro::Result<()>".to_owned(),
        ),
    };
    let outer = &indent[..indent.len().saturating_sub(4)];
    format!(
        "\n{indent}async fn {name}(\n{indent}    &self,\n{indent}    _ctx: micro::Context,\n{indent}    {params},\n{indent}) -> {ret} {{\n{indent}    Err(micro::error::unimplemented(\n{indent}        \"{trait_name}.{method} is not implemented yet\",\n{indent}    ))\n{indent}}}\n{outer}",
        name = m.rust_name,
        method = m.name,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_are_qualified() {
        assert_eq!(qualify("Request", "crate::pb"), "crate::pb::Request");
        assert_eq!(
            qualify("super :: other :: X", "crate::pb"),
            "crate::other::X"
        );
        assert_eq!(
            qualify(":: prost_types :: Timestamp", "crate::pb"),
            "::prost_types::Timestamp"
        );
        assert_eq!(qualify("()", "crate::pb"), "()");
    }

    #[test]
    fn offsets_count_characters() {
        let text = "ab\nçd}\n";
        assert_eq!(offset(text, 2, 2), Some(6));
        assert_eq!(&text[6..7], "}");
    }
}
