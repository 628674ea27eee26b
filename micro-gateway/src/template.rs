//! `google.api.http` path templates: parse once, match request paths.
//!
//! ```text
//! Template = "/" Segments [ Verb ] ;
//! Segments = Segment { "/" Segment } ;
//! Segment  = "*" | "**" | LITERAL | Variable ;
//! Variable = "{" FieldPath [ "=" Segments ] "}" ;
//! Verb     = ":" LITERAL ;
//! ```
//!
//! A request path is split on `/` before decoding, so `%2F` never splits a segment. A
//! variable of one segment gets the segment fully decoded; a variable over several segments
//! (`{name=shelves/*/books/**}`) keeps `%2F` encoded, as grpc-gateway does. `.` and `..`
//! segments never match.

use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq)]
enum Part {
    Literal(String),
    /// `*`: one segment.
    One,
    /// `**`: any number of segments (only last).
    Rest,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Variable {
    /// Dotted field path.
    field: String,
    /// Index of the first and one past the last part the variable covers.
    start: usize,
    end: usize,
}

/// A parsed path template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Template {
    source: String,
    parts: Vec<Part>,
    variables: Vec<Variable>,
    verb: Option<String>,
}

/// A template that does not follow the grammar.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TemplateError(String);

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TemplateError {}

fn literal_ok(s: &str) -> bool {
    !s.is_empty()
        && s != "."
        && s != ".."
        && s.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'%' | b'@' | b'+')
        })
}

fn field_ok(s: &str) -> bool {
    !s.is_empty()
        && s.split('.').all(|w| {
            !w.is_empty()
                && w.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
                && !w.as_bytes()[0].is_ascii_digit()
        })
}

impl Template {
    /// Parse `template`.
    pub fn parse(template: &str) -> Result<Template, TemplateError> {
        let bad = |why: &str| TemplateError(format!("path template {template:?}: {why}"));
        let Some(body) = template.strip_prefix('/') else {
            return Err(bad("must start with /"));
        };
        // The verb is after the last ':' outside braces.
        let mut depth = 0i32;
        let mut verb_at = None;
        for (i, c) in body.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                ':' if depth == 0 => verb_at = Some(i),
                _ => {}
            }
        }
        let (path, verb) = match verb_at {
            Some(i) => (&body[..i], Some(body[i + 1..].to_owned())),
            None => (body, None),
        };
        if let Some(v) = &verb
            && !literal_ok(v)
        {
            return Err(bad("the verb after ':' must be a plain word"));
        }
        let mut parts = Vec::new();
        let mut variables = Vec::new();
        let mut rest = path;
        while !rest.is_empty() {
            if let Some(inner) = rest.strip_prefix('{') {
                let close = inner.find('}').ok_or_else(|| bad("a '{' is not closed"))?;
                let var = &inner[..close];
                rest = inner[close + 1..]
                    .strip_prefix('/')
                    .unwrap_or(&inner[close + 1..]);
                if !rest.is_empty() && inner[close + 1..].starts_with(|c| c != '/') {
                    return Err(bad("a variable must be a whole segment"));
                }
                let (field, sub) = var.split_once('=').unwrap_or((var, "*"));
                if !field_ok(field) {
                    return Err(bad(&format!("{field:?} is not a field path")));
                }
                if variables.iter().any(|v: &Variable| v.field == field) {
                    return Err(bad(&format!("field {field} is bound twice")));
                }
                let start = parts.len();
                for seg in sub.split('/') {
                    parts.push(Self::part(seg).ok_or_else(|| bad("bad segment in a variable"))?);
                }
                variables.push(Variable {
                    field: field.to_owned(),
                    start,
                    end: parts.len(),
                });
            } else {
                let (seg, after) = rest.split_once('/').unwrap_or((rest, ""));
                if seg.contains(['{', '}', '=']) {
                    return Err(bad(&format!("{seg:?} is not a segment")));
                }
                parts.push(
                    Self::part(seg).ok_or_else(|| bad(&format!("{seg:?} is not a segment")))?,
                );
                rest = after;
            }
        }
        if let Some(i) = parts.iter().position(|p| *p == Part::Rest)
            && i + 1 != parts.len()
        {
            return Err(bad("'**' must be the last segment"));
        }
        Ok(Template {
            source: template.to_owned(),
            parts,
            variables,
            verb,
        })
    }

    fn part(seg: &str) -> Option<Part> {
        match seg {
            "*" => Some(Part::One),
            "**" => Some(Part::Rest),
            s if literal_ok(s) => Some(Part::Literal(s.to_owned())),
            _ => None,
        }
    }

    /// The template as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// The field paths bound by the path, in order.
    pub fn fields(&self) -> impl Iterator<Item = &str> {
        self.variables.iter().map(|v| v.field.as_str())
    }

    /// The template with every variable as an OpenAPI parameter (`/v1/{name}`); a variable
    /// over several segments becomes one parameter holding `a/b/c`.
    pub fn openapi_path(&self) -> String {
        let mut out = String::new();
        let mut i = 0;
        while i < self.parts.len() {
            out.push('/');
            if let Some(v) = self.variables.iter().find(|v| v.start == i) {
                out.push('{');
                out.push_str(&v.field);
                out.push('}');
                i = v.end.max(i + 1);
                continue;
            }
            match &self.parts[i] {
                Part::Literal(l) => out.push_str(l),
                Part::One => out.push('*'),
                Part::Rest => out.push_str("**"),
            }
            i += 1;
        }
        if out.is_empty() {
            out.push('/');
        }
        if let Some(verb) = &self.verb {
            out.push(':');
            out.push_str(verb);
        }
        out
    }

    /// True when the template has no wildcard outside variables and every variable is one
    /// segment: its OpenAPI path describes it exactly.
    pub fn is_simple(&self) -> bool {
        self.variables.iter().all(|v| v.end == v.start + 1)
            && self.parts.iter().enumerate().all(|(i, p)| {
                matches!(p, Part::Literal(_)) || self.variables.iter().any(|v| v.start == i)
            })
            && !self.parts.contains(&Part::Rest)
    }

    /// Match a raw (not yet decoded) request path. The bound variables, decoded, in template
    /// order; `None` when the path does not match.
    pub fn matches(&self, raw_path: &str) -> Option<Vec<(String, String)>> {
        let path = raw_path.strip_prefix('/')?;
        let (path, verb) = match &self.verb {
            Some(verb) => {
                let (p, v) = path.rsplit_once(':')?;
                if v != verb {
                    return None;
                }
                (p, Some(v))
            }
            None => (path, None),
        };
        let _ = verb;
        let raw: Vec<&str> = if path.is_empty() {
            Vec::new()
        } else {
            path.split('/').collect()
        };
        let mut decoded = Vec::with_capacity(raw.len());
        for seg in &raw {
            let d = percent_encoding::percent_decode_str(seg)
                .decode_utf8()
                .ok()?;
            if d.is_empty() || d == "." || d == ".." {
                return None;
            }
            decoded.push(d.into_owned());
        }
        // Which request segments each part took: parts are one segment each except `**`.
        let mut spans = Vec::with_capacity(self.parts.len());
        let mut at = 0;
        for part in &self.parts {
            match part {
                Part::Literal(l) => {
                    if decoded.get(at)? != l {
                        return None;
                    }
                    spans.push((at, at + 1));
                    at += 1;
                }
                Part::One => {
                    decoded.get(at)?;
                    spans.push((at, at + 1));
                    at += 1;
                }
                Part::Rest => {
                    spans.push((at, decoded.len()));
                    at = decoded.len();
                }
            }
        }
        if at != decoded.len() {
            return None;
        }
        let mut out = Vec::with_capacity(self.variables.len());
        for v in &self.variables {
            let from = spans.get(v.start)?.0;
            let to = spans.get(v.end - 1)?.1;
            let value = if to == from + 1 && v.end == v.start + 1 {
                decoded[from].clone()
            } else {
                // Several segments: decoded except for '/', which stays %2F.
                raw[from..to]
                    .iter()
                    .map(|s| {
                        percent_encoding::percent_decode_str(
                            &s.replace("%2F", "%252F").replace("%2f", "%252f"),
                        )
                        .decode_utf8_lossy()
                        .into_owned()
                    })
                    .collect::<Vec<_>>()
                    .join("/")
            };
            out.push((v.field.clone(), value));
        }
        Some(out)
    }

    /// True when `self` and `other` match exactly the same paths (a conflict when both are
    /// bound to the same HTTP method).
    pub fn same_shape(&self, other: &Template) -> bool {
        self.parts == other.parts && self.verb == other.verb
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(t: &str, path: &str) -> Option<Vec<(String, String)>> {
        Template::parse(t).unwrap().matches(path)
    }

    fn vars(pairs: &[(&str, &str)]) -> Option<Vec<(String, String)>> {
        Some(
            pairs
                .iter()
                .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
                .collect(),
        )
    }

    #[test]
    fn literals_variables_and_wildcards() {
        assert_eq!(m("/v1/hello", "/v1/hello"), vars(&[]));
        assert_eq!(m("/v1/hello", "/v1/hello/x"), None);
        assert_eq!(m("/hello/{name}", "/hello/John"), vars(&[("name", "John")]));
        assert_eq!(
            m("/hello/{name}", "/hello/J%20o%2Fhn"),
            vars(&[("name", "J o/hn")])
        );
        assert_eq!(m("/hello/{name}", "/hello/"), None);
        assert_eq!(
            m("/v1/{name=shelves/*/books/*}", "/v1/shelves/1/books/2"),
            vars(&[("name", "shelves/1/books/2")])
        );
        assert_eq!(
            m("/v1/{name=shelves/*/books/*}", "/v1/shelves/1/cds/2"),
            None
        );
        assert_eq!(
            m("/v1/{a.b}/x/{c}", "/v1/1/x/2"),
            vars(&[("a.b", "1"), ("c", "2")])
        );
        assert_eq!(m("/files/**", "/files/a/b/c"), vars(&[]));
        assert_eq!(
            m("/files/{path=**}", "/files/a/b%2Fc/d"),
            vars(&[("path", "a/b%2Fc/d")])
        );
        assert_eq!(m("/v1/*/x", "/v1/any/x"), vars(&[]));
    }

    #[test]
    fn verbs() {
        assert_eq!(
            m("/v1/{name}:cancel", "/v1/op1:cancel"),
            vars(&[("name", "op1")])
        );
        assert_eq!(m("/v1/{name}:cancel", "/v1/op1:undo"), None);
        assert_eq!(m("/v1/{name}:cancel", "/v1/op1"), None);
        assert_eq!(
            m("/v1/{name}", "/v1/op1:cancel"),
            vars(&[("name", "op1:cancel")])
        );
    }

    #[test]
    fn dot_segments_never_match() {
        for path in ["/files/../etc", "/files/%2e%2e/etc", "/files/./x"] {
            assert_eq!(m("/files/**", path), None, "{path}");
            assert_eq!(m("/files/{p=**}", path), None, "{path}");
        }
        assert_eq!(m("/hello/{name}", "/hello/%2e%2e"), None);
    }

    #[test]
    fn bad_templates_are_refused_with_the_reason() {
        for (t, why) in [
            ("v1/x", "start with /"),
            ("/v1/{name", "not closed"),
            ("/v1/**/x", "last segment"),
            ("/v1/{1x}", "field path"),
            ("/v1/{a}/{a}", "twice"),
            ("/v1/a{b}", "segment"),
        ] {
            let err = Template::parse(t).unwrap_err().to_string();
            assert!(err.contains(why), "{t}: {err}");
        }
    }

    #[test]
    fn shapes_and_openapi_paths() {
        let a = Template::parse("/v1/{id}").unwrap();
        let b = Template::parse("/v1/{name}").unwrap();
        let c = Template::parse("/v1/{name}:get").unwrap();
        assert!(a.same_shape(&b));
        assert!(!a.same_shape(&c));
        assert_eq!(c.openapi_path(), "/v1/{name}:get");
        assert!(a.is_simple());
        let d = Template::parse("/v1/{name=shelves/*}").unwrap();
        assert_eq!(d.openapi_path(), "/v1/{name}");
        assert!(!d.is_simple());
    }
}
