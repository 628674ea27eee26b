//! `string.pattern`: RE2 patterns (protovalidate's engine) on Rust's `regex`, compiled once.

use std::sync::OnceLock;

/// A regular expression compiled on first use (RE2 syntax, as protovalidate's; micro-gen
/// checks it compiles at build time).
#[derive(Debug)]
pub struct Pattern {
    source: &'static str,
    compiled: OnceLock<Option<regex::Regex>>,
}

impl Pattern {
    /// The pattern `source`.
    pub const fn new(source: &'static str) -> Pattern {
        Pattern {
            source,
            compiled: OnceLock::new(),
        }
    }

    /// True when `text` matches (a pattern that does not compile matches nothing).
    pub fn is_match(&self, text: &str) -> bool {
        self.compiled
            .get_or_init(|| regex::Regex::new(&re2_classes(self.source)).ok())
            .as_ref()
            .is_some_and(|re| re.is_match(text))
    }

    /// The pattern's text.
    pub fn source(&self) -> &'static str {
        self.source
    }
}

/// `pattern` with RE2's meaning of the Perl classes: `\d`, `\w`, `\s` and `\b` are ASCII
/// in RE2 (protovalidate's engine) and Unicode in Rust's `regex`, so they are spelled out.
pub fn re2_classes(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 16);
    let mut chars = pattern.chars();
    let mut depth = 0usize;
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let Some(next) = chars.next() else {
                    out.push(c);
                    break;
                };
                let class = match next {
                    'd' => Some("[0-9]"),
                    'D' => Some("[^0-9]"),
                    'w' => Some("[0-9A-Za-z_]"),
                    'W' => Some("[^0-9A-Za-z_]"),
                    's' => Some("[\\t\\n\\x0C\\r ]"),
                    'S' => Some("[^\\t\\n\\x0C\\r ]"),
                    'b' if depth == 0 => Some("(?-u:\\b)"),
                    'B' if depth == 0 => Some("(?-u:\\B)"),
                    _ => None,
                };
                match class {
                    Some(class) => out.push_str(class),
                    None => {
                        out.push(c);
                        out.push(next);
                    }
                }
            }
            '[' => {
                depth += 1;
                out.push(c);
            }
            ']' => {
                depth = depth.saturating_sub(1);
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perl_classes_are_ascii_as_in_re2() {
        let p = Pattern::new(r"^\d+\s\w$");
        assert!(p.is_match("12 a"));
        assert!(
            !p.is_match("١٢ a"),
            "Arabic-Indic digits are not \\d in RE2"
        );
        assert_eq!(re2_classes(r"[\d.]\\d"), r"[[0-9].]\\d");
    }
}
