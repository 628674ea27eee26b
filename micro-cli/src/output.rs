//! Printing: tables for people, JSON for scripts, errors with a hint.

#![allow(clippy::print_stderr)]

use std::io::Write;

use crate::error::CliError;

/// Write `text` to stdout; a closed pipe (`micro services | head -1`) is not an error.
pub(crate) fn print(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    if !text.ends_with('\n') {
        let _ = out.write_all(b"\n");
    }
    let _ = out.flush();
}

/// Write a note to stderr.
pub(crate) fn note(text: &str) {
    eprintln!("{text}");
}

/// Print an error and its hint.
pub(crate) fn error(e: &CliError) {
    eprintln!("error: {}", e.message);
    if let Some(hint) = &e.hint {
        eprintln!("hint: {hint}");
    }
}

/// Left-aligned columns separated by two spaces.
pub(crate) fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if i < widths.len() {
                widths[i] = widths[i].max(cell.chars().count());
            }
        }
    }
    let mut out = String::new();
    let line = |cells: Vec<&str>, out: &mut String| {
        let last = cells.len().saturating_sub(1);
        for (i, cell) in cells.iter().enumerate() {
            out.push_str(cell);
            if i < last {
                let pad = widths[i] - cell.chars().count() + 2;
                out.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push('\n');
    };
    line(header.to_vec(), &mut out);
    for row in rows {
        line(row.iter().map(String::as_str).collect(), &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_align() {
        let t = table(
            &["ID", "ADDRESS"],
            &[
                vec!["a".into(), "127.0.0.1:1".into()],
                vec!["longer-id".into(), "x".into()],
            ],
        );
        assert_eq!(
            t,
            "ID         ADDRESS\na          127.0.0.1:1\nlonger-id  x\n"
        );
    }
}
