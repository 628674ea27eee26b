//! The `micro new` templates: data files under `templates/`, embedded in the binary and
//! rendered with minijinja.

use std::fmt;

use clap::ValueEnum;
use heck::{ToKebabCase, ToSnakeCase, ToUpperCamelCase};
use std::collections::BTreeMap;

/// What `micro new` can create.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub(crate) enum Template {
    /// A service from a .proto: Call, a server-streaming Stream, a subscriber, tests.
    #[default]
    Service,
    /// A single event subscriber.
    Function,
    /// A service whose methods carry google.api.http bindings, for the API gateway.
    Api,
    /// The service written as a Rust trait with `#[micro::service]`, no .proto.
    Macro,
}

impl Template {
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) const ALL: [Template; 4] = [
        Template::Service,
        Template::Function,
        Template::Api,
        Template::Macro,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Template::Service => "service",
            Template::Function => "function",
            Template::Api => "api",
            Template::Macro => "macro",
        }
    }

    /// The files: output path (itself a template) and source.
    pub(crate) fn files(self) -> &'static [File] {
        match self {
            Template::Service => SERVICE,
            Template::Function => FUNCTION,
            Template::Api => API,
            Template::Macro => MACRO,
        }
    }
}

impl fmt::Display for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One file of a template.
#[derive(Debug)]
pub(crate) struct File {
    pub(crate) path: &'static str,
    pub(crate) source: &'static str,
}

/// Sources live in the workspace's top-level `templates/` (`micro-cli/templates` links
/// there). A template's manifest is `Cargo.toml.tmpl`: a directory holding a `Cargo.toml`
/// would be taken for a crate of its own and left out of the package.
macro_rules! file {
    ($out:literal, $src:literal) => {
        File {
            path: $out,
            source: include_str!(concat!("../templates/", $src)),
        }
    };
}

const SERVICE: &[File] = &[
    file!("Cargo.toml", "service/Cargo.toml.tmpl"),
    file!("build.rs", "service/build.rs"),
    file!("proto/{{ snake }}.proto", "service/proto/service.proto"),
    file!("src/lib.rs", "service/src/lib.rs"),
    file!("src/main.rs", "service/src/main.rs"),
    file!("src/handler.rs", "service/src/handler.rs"),
    file!("src/subscriber.rs", "service/src/subscriber.rs"),
    file!("README.md", "service/README.md"),
    file!("Dockerfile", "common/Dockerfile"),
    file!(".gitignore", "common/gitignore"),
];

const FUNCTION: &[File] = &[
    file!("Cargo.toml", "function/Cargo.toml.tmpl"),
    file!("build.rs", "function/build.rs"),
    file!("proto/{{ snake }}.proto", "function/proto/function.proto"),
    file!("src/lib.rs", "function/src/lib.rs"),
    file!("src/main.rs", "function/src/main.rs"),
    file!("README.md", "function/README.md"),
    file!("Dockerfile", "common/Dockerfile"),
    file!(".gitignore", "common/gitignore"),
];

const API: &[File] = &[
    file!("Cargo.toml", "api/Cargo.toml.tmpl"),
    file!("build.rs", "api/build.rs"),
    file!("proto/{{ snake }}.proto", "api/proto/api.proto"),
    file!("src/lib.rs", "api/src/lib.rs"),
    file!("src/main.rs", "api/src/main.rs"),
    file!("src/handler.rs", "api/src/handler.rs"),
    file!("README.md", "api/README.md"),
    file!("Dockerfile", "common/Dockerfile"),
    file!(".gitignore", "common/gitignore"),
];

const MACRO: &[File] = &[
    file!("Cargo.toml", "macro/Cargo.toml.tmpl"),
    file!("src/lib.rs", "macro/src/lib.rs"),
    file!("src/main.rs", "macro/src/main.rs"),
    file!("README.md", "macro/README.md"),
    file!("Dockerfile", "common/Dockerfile"),
    file!(".gitignore", "common/gitignore"),
];

/// The names a project is made of, all derived from the one the user gave.
#[derive(Clone, Debug)]
pub(crate) struct Names {
    /// As given: `hello-world`.
    pub(crate) name: String,
    /// The package and binary: `hello-world`.
    pub(crate) crate_name: String,
    /// The library and proto file: `hello_world`.
    pub(crate) snake: String,
    /// The service type and endpoint prefix: `HelloWorld` (`HelloWorld.Call`).
    pub(crate) svc: String,
    /// The generated modules' prefix: `hello_world` (`hello_world_server`).
    pub(crate) svc_snake: String,
    /// The proto package: `hello_world`, or `com.example.hello_world` with a namespace.
    pub(crate) package: String,
    /// The registry name: `hello-world`, or `com.example.hello-world` with a namespace.
    pub(crate) service_name: String,
    /// The topic of the events: `hello-world.events`.
    pub(crate) topic: String,
    /// The micro checkout the project depends on.
    pub(crate) micro_path: String,
}

const RUST_KEYWORDS: &[&str] = &[
    "as", "break", "const", "continue", "crate", "else", "enum", "extern", "false", "fn", "for",
    "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return",
    "self", "static", "struct", "super", "trait", "true", "type", "unsafe", "use", "where",
    "while", "async", "await", "dyn", "abstract", "become", "box", "do", "final", "macro",
    "override", "priv", "typeof", "unsized", "virtual", "yield", "try", "gen", "union",
];

/// Crates a project's own name must not shadow.
const TAKEN: &[&str] = &[
    "micro",
    "micro_gen",
    "micro_runtime",
    "micro_macros",
    "tokio",
    "serde",
    "schemars",
    "prost",
    "std",
    "core",
    "alloc",
    "proc_macro",
    "test",
];

/// Type names the templates use themselves.
const TEMPLATE_TYPES: &[&str] = &[
    "Request",
    "Response",
    "StreamRequest",
    "StreamResponse",
    "HelloRequest",
    "Event",
    "Handler",
];

impl Names {
    /// The template variables.
    fn context(&self) -> BTreeMap<&'static str, String> {
        BTreeMap::from([
            ("name", self.name.clone()),
            ("crate", self.crate_name.clone()),
            ("snake", self.snake.clone()),
            ("svc", self.svc.clone()),
            ("svc_snake", self.svc_snake.clone()),
            ("package", self.package.clone()),
            ("service_name", self.service_name.clone()),
            ("topic", self.topic.clone()),
            ("micro_path", self.micro_path.clone()),
        ])
    }

    /// Check `name` (and `namespace`) and derive every name from it; the error says why not.
    pub(crate) fn new(
        name: &str,
        namespace: Option<&str>,
        micro_path: &str,
    ) -> Result<Names, String> {
        let valid = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            && name.len() <= 64;
        if !valid {
            return Err(format!(
                "invalid name {name:?}: start with a letter, then letters, digits, '-' or '_' (at most 64), e.g. hello-world"
            ));
        }
        let snake = name.to_snake_case();
        if RUST_KEYWORDS.contains(&snake.as_str()) {
            return Err(format!("invalid name {name:?}: {snake} is a Rust keyword"));
        }
        if TAKEN.contains(&snake.as_str()) {
            return Err(format!(
                "invalid name {name:?}: a crate called {snake} would shadow a dependency"
            ));
        }
        let svc = name.to_upper_camel_case();
        if TEMPLATE_TYPES.contains(&svc.as_str()) {
            return Err(format!(
                "invalid name {name:?}: the template has a type called {svc} already"
            ));
        }
        if let Some(ns) = namespace {
            let ok = ns.split('.').all(|part| {
                part.chars().next().is_some_and(|c| c.is_ascii_lowercase())
                    && part
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            });
            if !ok {
                return Err(format!(
                    "invalid namespace {ns:?}: lower-case words separated by dots, e.g. com.example"
                ));
            }
        }
        let crate_name = name.to_kebab_case();
        let service_name = match namespace {
            Some(ns) => format!("{ns}.{crate_name}"),
            None => crate_name.clone(),
        };
        Ok(Names {
            name: name.to_owned(),
            package: match namespace {
                Some(ns) => format!("{ns}.{snake}"),
                None => snake.clone(),
            },
            topic: format!("{service_name}.events"),
            svc_snake: svc.to_snake_case(),
            svc,
            snake,
            crate_name,
            service_name,
            micro_path: micro_path.to_owned(),
        })
    }
}

/// Render every file of `template` for `names`: (relative path, contents).
pub(crate) fn render(template: Template, names: &Names) -> Result<Vec<(String, String)>, String> {
    let mut env = minijinja::Environment::new();
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    let syntax = minijinja::syntax::SyntaxConfig::builder()
        .keep_trailing_newline(true)
        .build()
        .map_err(|e| e.to_string())?;
    env.set_syntax(syntax);
    let context = names.context();
    let mut out = Vec::new();
    for file in template.files() {
        let render = |what: &str, source: &str| {
            env.render_str(source, context.clone())
                .map_err(|e| format!("template {template}/{what}: {e}"))
        };
        let path = render(file.path, file.path)?;
        let contents = render(file.path, file.source)?;
        out.push((path, contents));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_conventions() {
        let n = Names::new("hello-world", None, "/m").unwrap();
        assert_eq!(
            (
                n.crate_name.as_str(),
                n.snake.as_str(),
                n.svc.as_str(),
                n.package.as_str()
            ),
            ("hello-world", "hello_world", "HelloWorld", "hello_world")
        );
        assert_eq!(n.topic, "hello-world.events");
        let n = Names::new("Billing_v2", Some("com.example"), "/m").unwrap();
        assert_eq!(n.package, "com.example.billing_v2");
        assert_eq!(n.service_name, "com.example.billing-v2");
        assert_eq!(n.svc, "BillingV2");
    }

    #[test]
    fn bad_names_say_why() {
        for (name, why) in [
            ("", "start with a letter"),
            ("9lives", "start with a letter"),
            ("hello world", "start with a letter"),
            ("héllo", "start with a letter"),
            ("type", "Rust keyword"),
            ("micro", "shadow a dependency"),
            ("request", "type called Request"),
        ] {
            let err = Names::new(name, None, "/m").unwrap_err();
            assert!(err.contains(why), "{name}: {err}");
        }
        let err = Names::new("ok", Some("Com.Example"), "/m").unwrap_err();
        assert!(err.contains("invalid namespace"), "{err}");
    }

    #[test]
    fn every_template_renders() {
        let names = Names::new("hello-world", Some("acme"), "/m").unwrap();
        for t in Template::ALL {
            let files = render(t, &names).unwrap();
            assert!(files.iter().any(|(p, _)| p == "Cargo.toml"));
            assert!(files.iter().all(|(_, c)| !c.contains("{{")), "{t}");
        }
    }
}
