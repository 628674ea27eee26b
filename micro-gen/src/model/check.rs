//! Names that would clash in generated code, found once for both front doors.
//!
//! A generated client has a few functions of its own (`new`, `with_options`, `client`,
//! `service`, `options`) and two per method (`hello` and `hello_with`). A method named like
//! one of them, or a method `x_with` next to a method `x`, would collide; two methods with
//! one endpoint name would route to one handler. The `#[micro::service]` macro turns each
//! [`Problem`] into an error on the method; the `.proto` path renames the client function
//! (`new` becomes `new_rpc`) and warns, since a `.proto` file may not be the user's to change.

use super::Service;

/// Function names the generated client struct uses itself; methods named like them get
/// `_rpc` in the client.
pub const CLIENT_RESERVED: &[&str] = &["new", "with_options", "client", "service", "options"];

/// A name that clashes.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Problem {
    /// Method `method` is named like a function of the generated client.
    Reserved {
        /// The index of the method.
        method: usize,
    },
    /// Method `method` is named like the context-taking variant of method `of`.
    WithVariant {
        /// The index of the method named `<of>_with`.
        method: usize,
        /// The index of the method it shadows.
        of: usize,
    },
    /// After renaming, a client function of method `method` has the name of one of method
    /// `other` (rpcs `New` and `NewRpc` both give `new_rpc`).
    ClientNameClash {
        /// The index of the later method.
        method: usize,
        /// The index of the method it meets.
        other: usize,
        /// The function name both would get.
        name: String,
    },
    /// Methods `first` and `second` share one endpoint name.
    DuplicateEndpoint {
        /// The index of the first method.
        first: usize,
        /// The index of the second method.
        second: usize,
    },
}

impl Problem {
    /// The index of the method the problem is reported on.
    pub fn method(&self) -> usize {
        match *self {
            Problem::Reserved { method }
            | Problem::WithVariant { method, .. }
            | Problem::ClientNameClash { method, .. } => method,
            Problem::DuplicateEndpoint { second, .. } => second,
        }
    }

    /// What is wrong and what to do, for a service written as a Rust trait.
    pub fn message(&self, service: &Service) -> String {
        let client = format!(
            "{}Client",
            service.rust_name.as_deref().unwrap_or(&service.name)
        );
        let rust = |i: usize| plain(&service.methods[i].rust_name).to_owned();
        match *self {
            Problem::Reserved { method } => format!(
                "method name `{}` conflicts with the generated `{client}::{}`; rename the method (keep the endpoint name with `#[micro(name = \"{}\")]`)",
                rust(method),
                rust(method),
                service.methods[method].name
            ),
            Problem::WithVariant { method, of } => format!(
                "method `{}` conflicts with the generated `{client}::{}` (the context-taking variant of `{}`); rename it",
                rust(method),
                rust(method),
                rust(of)
            ),
            Problem::ClientNameClash {
                method,
                other,
                ref name,
            } => format!(
                "methods `{}` and `{}` both give the generated client a function `{client}::{name}`; rename one",
                rust(other),
                rust(method)
            ),
            Problem::DuplicateEndpoint { first, .. } => format!(
                "two methods share the endpoint name `{}`; give one another `#[micro(name = \"..\")]`",
                service.methods[first].endpoint(service)
            ),
        }
    }

    /// What the `.proto` path does about it.
    pub fn renamed(&self, service: &Service) -> Option<String> {
        let method = &service.methods[self.method()];
        let name = plain(&method.rust_name);
        match self {
            Problem::Reserved { .. } => Some(format!(
                "rpc {}.{}: the client calls it `{name}_rpc` (`{name}` is a function of the generated client)",
                service.name, method.name
            )),
            Problem::WithVariant { of, .. } => Some(format!(
                "rpc {}.{}: the client calls the context-taking variant of `{}` `{}_rpc_with`",
                service.name,
                method.name,
                plain(&service.methods[*of].rust_name),
                plain(&service.methods[*of].rust_name)
            )),
            Problem::ClientNameClash { .. } | Problem::DuplicateEndpoint { .. } => None,
        }
    }
}

/// The client-side function names of each method, `(call, call_with)`: the method's own
/// name, with `_rpc` after a reserved one, and `_rpc_with` for a variant that would meet
/// another method.
pub fn client_names(service: &Service) -> Vec<(String, String)> {
    let base: Vec<String> = service
        .methods
        .iter()
        .map(|m| m.rust_name.clone())
        .collect();
    let mut out = Vec::new();
    for name in &base {
        let plain = name.strip_prefix("r#").unwrap_or(name);
        let mut call = name.clone();
        if CLIENT_RESERVED.contains(&plain) {
            call = format!("{plain}_rpc");
        }
        let call_plain = call.strip_prefix("r#").unwrap_or(&call).to_owned();
        let mut with = format!("{call_plain}_with");
        if base
            .iter()
            .any(|b| b.strip_prefix("r#").unwrap_or(b) == with)
        {
            with = format!("{call_plain}_rpc_with");
        }
        out.push((call, with));
    }
    out
}

/// A Rust name without its `r#`.
fn plain(name: &str) -> &str {
    name.trim_start_matches("r#")
}

/// Every clash in `service`, in method order.
pub fn check(service: &Service) -> Vec<Problem> {
    let mut problems = Vec::new();
    let names: Vec<&str> = service
        .methods
        .iter()
        .map(|m| plain(&m.rust_name))
        .collect();
    for (i, name) in names.iter().enumerate() {
        if CLIENT_RESERVED.contains(name) {
            problems.push(Problem::Reserved { method: i });
        }
        if let Some(of) = names.iter().position(|n| format!("{n}_with") == *name) {
            problems.push(Problem::WithVariant { method: i, of });
        }
    }
    let client = client_names(service);
    for (i, (call, with)) in client.iter().enumerate() {
        for (other, (o_call, o_with)) in client[..i].iter().enumerate() {
            let met = [call, with]
                .into_iter()
                .find(|n| plain(n) == plain(o_call) || plain(n) == plain(o_with));
            if let Some(name) = met {
                problems.push(Problem::ClientNameClash {
                    method: i,
                    other,
                    name: plain(name).to_owned(),
                });
            }
        }
    }
    for (i, m) in service.methods.iter().enumerate() {
        if let Some(first) = service.methods[..i].iter().position(|o| o.name == m.name) {
            problems.push(Problem::DuplicateEndpoint { first, second: i });
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Method, StreamKind};
    use quote::quote;

    fn method(name: &str, rust: &str) -> Method {
        Method {
            name: name.into(),
            rust_name: rust.into(),
            request_ty: quote!(Req),
            response_ty: quote!(Resp),
            request_proto: None,
            response_proto: None,
            kind: StreamKind::Unary,
            docs: vec![],
            deprecated: false,
            idempotent: false,
            http: vec![],
            metadata: vec![],
            timeout_ms: None,
            attrs: vec![],
            validate: false,
        }
    }

    #[test]
    fn names_that_meet_after_renaming_are_found() {
        let service = Service {
            name: "Shop".into(),
            rust_name: None,
            package: None,
            docs: vec![],
            deprecated: false,
            methods: vec![method("New", "new"), method("NewRpc", "new_rpc")],
            attrs: vec![],
        };
        let problems = check(&service);
        assert!(problems.contains(&Problem::ClientNameClash {
            method: 1,
            other: 0,
            name: "new_rpc".into()
        }));
        let clash = problems
            .iter()
            .find(|p| matches!(p, Problem::ClientNameClash { .. }))
            .unwrap();
        assert!(
            clash.renamed(&service).is_none(),
            "cannot be fixed by renaming"
        );
        assert!(clash.message(&service).contains("`ShopClient::new_rpc`"));
    }

    #[test]
    fn clashes_are_found_and_explained() {
        let service = Service {
            name: "Shop".into(),
            rust_name: None,
            package: None,
            docs: vec![],
            deprecated: false,
            methods: vec![
                method("New", "new"),
                method("Get", "get"),
                method("GetWith", "get_with"),
                method("Get", "fetch"),
            ],
            attrs: vec![],
        };
        let problems = check(&service);
        assert_eq!(
            problems,
            [
                Problem::Reserved { method: 0 },
                Problem::WithVariant { method: 2, of: 1 },
                Problem::DuplicateEndpoint {
                    first: 1,
                    second: 3
                },
            ]
        );
        assert!(problems[0].message(&service).contains("`ShopClient::new`"));
        assert!(
            problems[2]
                .message(&service)
                .contains("endpoint name `Shop.Get`")
        );
        assert_eq!(
            problems[0].renamed(&service).unwrap(),
            "rpc Shop.New: the client calls it `new_rpc` (`new` is a function of the generated client)"
        );
        assert!(problems[2].renamed(&service).is_none());
    }
}
