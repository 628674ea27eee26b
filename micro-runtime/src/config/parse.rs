//! Config files: JSON, YAML and TOML into one JSON tree, with errors that name the file,
//! line and column.

use std::path::Path;

use serde_json::Value;

use super::ID;
use crate::error::{Error, Result};

/// The formats, by file extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Json,
    Yaml,
    Toml,
}

fn format_of(path: &Path) -> Result<Format> {
    match path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("json") => Ok(Format::Json),
        Some("yaml" | "yml") => Ok(Format::Yaml),
        Some("toml") => Ok(Format::Toml),
        _ => Err(Error::bad_request(
            ID,
            format!(
                "config file {}: unknown format; name it .json, .yaml, .yml or .toml",
                path.display()
            ),
        )),
    }
}

fn at(path: &Path, line: usize, column: usize, what: impl std::fmt::Display) -> Error {
    Error::bad_request(
        ID,
        format!(
            "config file {}:{line}:{column}: {}",
            path.display(),
            without_position(&what.to_string())
        ),
    )
}

/// A parser's message without its own trailing " at line L column C" (the file name and
/// position lead the error already).
fn without_position(message: &str) -> &str {
    if let Some(i) = message.rfind(" at line ") {
        let tail = &message[i + " at line ".len()..];
        let mut words = tail.split(' ');
        let is_position = words.next().is_some_and(|l| l.parse::<usize>().is_ok())
            && words.next() == Some("column")
            && words.next().is_some_and(|c| c.parse::<usize>().is_ok())
            && words.next().is_none();
        if is_position {
            return &message[..i];
        }
    }
    message
}

/// Line and column (1-based) of byte `offset` in `text`.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// Read and parse `path`.
pub(super) fn read(path: &Path) -> Result<Value> {
    let format = format_of(path)?;
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::bad_request(ID, format!("config file {}: {e}", path.display())))?;
    parse(path, &text, format)
}

fn parse(path: &Path, text: &str, format: Format) -> Result<Value> {
    let value = match format {
        Format::Json => {
            serde_json::from_str::<Value>(text).map_err(|e| at(path, e.line(), e.column(), &e))?
        }
        Format::Yaml if text.trim().is_empty() => Value::Object(Default::default()),
        Format::Yaml => serde_norway::from_str::<Value>(text).map_err(|e| match e.location() {
            Some(loc) => at(path, loc.line(), loc.column(), &e),
            None => Error::bad_request(ID, format!("config file {}: {e}", path.display())),
        })?,
        Format::Toml => toml::from_str::<Value>(text).map_err(|e| {
            let (line, column) = line_column(text, e.span().map_or(0, |s| s.start));
            at(path, line, column, e.message())
        })?,
    };
    if !value.is_object() {
        return Err(Error::bad_request(
            ID,
            format!(
                "config file {}: the top level must be a map of names to values",
                path.display()
            ),
        ));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_file_line_and_column() {
        let p = Path::new("app.yaml");
        let e = parse(p, "a: 1\nb: [1, 2\n", Format::Yaml).unwrap_err();
        assert!(e.detail().starts_with("config file app.yaml:"), "{e}");
        let e = parse(
            Path::new("app.json"),
            "{\n  \"a\": 1,\n  \"b\": nope\n}",
            Format::Json,
        )
        .unwrap_err();
        assert!(e.detail().starts_with("config file app.json:3:"), "{e}");
        assert!(
            !e.detail().contains("at line"),
            "the position is said once: {e}"
        );
        let e = parse(Path::new("app.toml"), "a = 1\nb = = 2\n", Format::Toml).unwrap_err();
        assert!(e.detail().starts_with("config file app.toml:2:"), "{e}");
        let e = parse(Path::new("app.json"), "[1]", Format::Json).unwrap_err();
        assert!(e.detail().contains("top level"), "{e}");
        assert!(format_of(Path::new("app.ini")).is_err());
    }

    #[test]
    fn the_three_formats_give_one_tree() {
        let json = parse(
            Path::new("a.json"),
            r#"{"db": {"port": 5432, "host": "x"}}"#,
            Format::Json,
        )
        .unwrap();
        let yaml = parse(
            Path::new("a.yaml"),
            "db:\n  port: 5432\n  host: x\n",
            Format::Yaml,
        )
        .unwrap();
        let toml = parse(
            Path::new("a.toml"),
            "[db]\nport = 5432\nhost = \"x\"\n",
            Format::Toml,
        )
        .unwrap();
        assert_eq!(json, yaml);
        assert_eq!(json, toml);
    }
}
