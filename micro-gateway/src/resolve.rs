//! Resolvers: which service and endpoint a request path names.
//!
//! The `micro` resolver follows go-micro's mapping tables (`/foo/bar` → `<ns>.foo`
//! `Foo.Bar`, `/foo/bar/baz` → `<ns>.foo` `Bar.Baz`, `/v1/foo/bar` → `<ns>.v1.foo`
//! `Foo.Bar` ...). Segments are percent-decoded one by one and must be plain names
//! (`[A-Za-z0-9_-]`), so no encoded `/`, `.` or `..` can move a request to another service.

use crate::options::ResolverKind;

/// A service and one of its endpoints.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// The registry name.
    pub service: String,
    /// `Service.Method`.
    pub endpoint: String,
}

/// Why a path names nothing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Unresolved {
    /// The path has no segment to name a service by.
    Empty,
    /// A segment is not a plain name (an encoded `/`, a dot segment, a space ...).
    BadSegment(String),
}

/// The path's segments, percent-decoded; empty segments dropped (`//` is `/`). `None` when a
/// segment does not decode to UTF-8.
pub fn segments(path: &str) -> Option<Vec<String>> {
    let mut out = Vec::new();
    for raw in path.split('/') {
        if raw.is_empty() {
            continue;
        }
        let decoded = percent_encoding::percent_decode_str(raw)
            .decode_utf8()
            .ok()?
            .into_owned();
        out.push(decoded);
    }
    Some(out)
}

fn plain(segment: &str) -> bool {
    !segment.is_empty()
        && segment
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// `v1`, `v2` ...: a version segment.
pub(crate) fn versioned(segment: &str) -> bool {
    segment.len() > 1
        && segment.starts_with('v')
        && segment[1..].bytes().all(|b| b.is_ascii_digit())
}

/// `get-user` → `GetUser`, `bar` → `Bar`: go-micro's method naming.
pub fn title(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for part in segment.split('-').filter(|p| !p.is_empty()) {
        let mut chars = part.chars();
        if let Some(first) = chars.next() {
            out.extend(first.to_uppercase());
            out.push_str(chars.as_str());
        }
    }
    out
}

fn namespaced(namespace: &str, name: &str) -> String {
    if namespace.is_empty() {
        name.to_owned()
    } else {
        format!("{namespace}.{name}")
    }
}

fn check(parts: &[String]) -> Result<(), Unresolved> {
    match parts.iter().find(|p| !plain(p)) {
        Some(bad) => Err(Unresolved::BadSegment(bad.clone())),
        None if parts.is_empty() => Err(Unresolved::Empty),
        None => Ok(()),
    }
}

/// The endpoint named by the method segments that follow a service: two segments give
/// `Bar.Baz`, one gives `Service.Bar` (`service` title-cased), none gives `Service.Call`.
fn endpoint_of(service_segment: &str, rest: &[String]) -> String {
    match rest {
        [] => format!("{}.Call", title(service_segment)),
        [method] => format!("{}.{}", title(service_segment), title(method)),
        [.., a, b] => format!("{}.{}", title(a), title(b)),
    }
}

/// go-micro's `micro` resolver over decoded `parts`.
fn micro(namespace: &str, parts: &[String]) -> Result<Target, Unresolved> {
    check(parts)?;
    let (name, endpoint) = match parts {
        [one] => (one.clone(), title(one)),
        [a, b] => (a.clone(), format!("{}.{}", title(a), title(b))),
        [v, a, b] if versioned(v) => (format!("{v}.{a}"), format!("{}.{}", title(a), title(b))),
        _ => {
            let n = parts.len();
            (
                parts[..n - 2].join("."),
                format!("{}.{}", title(&parts[n - 2]), title(&parts[n - 1])),
            )
        }
    };
    Ok(Target {
        service: namespaced(namespace, &name),
        endpoint,
    })
}

/// Resolve a request for the rpc, api and meta handlers.
pub fn resolve(
    kind: ResolverKind,
    namespace: &str,
    host: Option<&str>,
    path: &str,
) -> Result<Target, Unresolved> {
    let parts = segments(path).ok_or_else(|| Unresolved::BadSegment(path.to_owned()))?;
    match kind {
        ResolverKind::Micro => micro(namespace, &parts),
        ResolverKind::Host => {
            let host = host.unwrap_or_default();
            let name = host.rsplit_once(':').map_or(host, |(h, _)| h);
            if name.is_empty()
                || !name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
            {
                return Err(Unresolved::BadSegment(name.to_owned()));
            }
            check(&parts)?;
            let first = name.split('.').next().unwrap_or(name);
            Ok(Target {
                service: namespaced(namespace, name),
                endpoint: endpoint_of(first, &parts),
            })
        }
        ResolverKind::Path => {
            check(&parts)?;
            Ok(Target {
                service: namespaced(namespace, &parts[0]),
                endpoint: endpoint_of(&parts[0], &parts[1..]),
            })
        }
        ResolverKind::Vpath => {
            check(&parts)?;
            if versioned(&parts[0]) && parts.len() > 1 {
                Ok(Target {
                    service: namespaced(namespace, &format!("{}.{}", parts[0], parts[1])),
                    endpoint: endpoint_of(&parts[1], &parts[2..]),
                })
            } else {
                Ok(Target {
                    service: namespaced(namespace, &parts[0]),
                    endpoint: endpoint_of(&parts[0], &parts[1..]),
                })
            }
        }
        ResolverKind::Grpc => {
            let [full, method] = parts.as_slice() else {
                return Err(Unresolved::Empty);
            };
            let Some((package, service)) = full.rsplit_once('.') else {
                return Err(Unresolved::BadSegment(full.clone()));
            };
            let words: Vec<String> = package
                .split('.')
                .map(str::to_owned)
                .chain([service.to_owned(), method.clone()])
                .collect();
            check(&words)?;
            Ok(Target {
                service: namespaced(namespace, package),
                endpoint: format!("{service}.{method}"),
            })
        }
    }
}

/// go-micro v5's simple form, which needs no namespace: `/api/{service}/{Service.Method}` or
/// `/api/{service}/{Service}/{Method}`. `None` when the path has another shape.
pub fn simple(path: &str) -> Option<Target> {
    let parts = segments(path)?;
    let ok_service = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
            && !s.starts_with('.')
            && !s.contains("..")
    };
    match parts.as_slice() {
        [api, service, endpoint] if api == "api" && ok_service(service) => {
            let (svc, method) = endpoint.split_once('.')?;
            (plain(svc) && plain(method)).then(|| Target {
                service: service.clone(),
                endpoint: endpoint.clone(),
            })
        }
        [api, service, svc, method]
            if api == "api" && ok_service(service) && plain(svc) && plain(method) =>
        {
            Some(Target {
                service: service.clone(),
                endpoint: format!("{svc}.{method}"),
            })
        }
        _ => None,
    }
}

/// The service an `http` or `web` handler proxies to: `/foo/...` → `<ns>.foo`,
/// `/v1/foo/...` → `<ns>.v1.foo`. The alias must match `^[a-zA-Z0-9]+(-[a-zA-Z0-9]+)*$`.
pub fn proxy_service(namespace: &str, path: &str) -> Result<String, Unresolved> {
    let parts = segments(path).ok_or_else(|| Unresolved::BadSegment(path.to_owned()))?;
    let alias_ok = |s: &str| {
        !s.is_empty()
            && s.split('-')
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric()))
    };
    let name = match parts.as_slice() {
        [] => return Err(Unresolved::Empty),
        [v, alias, ..] if versioned(v) => {
            if !alias_ok(alias) {
                return Err(Unresolved::BadSegment(alias.clone()));
            }
            format!("{v}.{alias}")
        }
        [alias, ..] => {
            if !alias_ok(alias) {
                return Err(Unresolved::BadSegment(alias.clone()));
            }
            alias.clone()
        }
    };
    Ok(namespaced(namespace, &name))
}

/// The leading part of `path` that [`proxy_service`] reads the service from (`/chat` of
/// `/chat/room/1`, `/v2/chat` of `/v2/chat/x`), as written in the path.
pub fn proxy_prefix(path: &str) -> Option<&str> {
    let mut segments = path.strip_prefix('/')?.split('/');
    let first = segments.next().filter(|s| !s.is_empty())?;
    let len = if versioned(first) {
        let second = segments.next().filter(|s| !s.is_empty())?;
        first.len() + second.len() + 2
    } else {
        first.len() + 1
    };
    Some(&path[..len])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_prefixes_are_the_segments_naming_the_service() {
        assert_eq!(proxy_prefix("/chat/room/1"), Some("/chat"));
        assert_eq!(proxy_prefix("/chat"), Some("/chat"));
        assert_eq!(proxy_prefix("/chat/"), Some("/chat"));
        assert_eq!(proxy_prefix("/v2/chat/x"), Some("/v2/chat"));
        assert_eq!(proxy_prefix("/v2/chat"), Some("/v2/chat"));
        assert_eq!(proxy_prefix("/v2"), None);
        assert_eq!(proxy_prefix("/"), None);
        assert_eq!(proxy_prefix(""), None);
    }

    fn t(service: &str, endpoint: &str) -> Target {
        Target {
            service: service.into(),
            endpoint: endpoint.into(),
        }
    }

    /// Every row of go-micro's mapping table (namespace `go.micro.api`).
    #[test]
    fn micro_resolver_matches_the_reference_table() {
        let ns = "go.micro.api";
        let rows = [
            ("/foo/bar", "go.micro.api.foo", "Foo.Bar"),
            ("/foo/bar/baz", "go.micro.api.foo", "Bar.Baz"),
            ("/foo/bar/baz/cat", "go.micro.api.foo.bar", "Baz.Cat"),
            ("/v1/foo/bar", "go.micro.api.v1.foo", "Foo.Bar"),
            ("/v1/foo/bar/baz", "go.micro.api.v1.foo", "Bar.Baz"),
            ("/v2/foo/bar/baz", "go.micro.api.v2.foo", "Bar.Baz"),
            ("/foo/get-user", "go.micro.api.foo", "Foo.GetUser"),
            ("/foo", "go.micro.api.foo", "Foo"),
            ("//foo///bar/", "go.micro.api.foo", "Foo.Bar"),
        ];
        for (path, service, endpoint) in rows {
            assert_eq!(
                resolve(ResolverKind::Micro, ns, None, path),
                Ok(t(service, endpoint)),
                "{path}"
            );
        }
        assert_eq!(
            resolve(ResolverKind::Micro, "", None, "/greeter/hello"),
            Ok(t("greeter", "Greeter.Hello"))
        );
    }

    #[test]
    fn other_resolvers() {
        assert_eq!(
            resolve(ResolverKind::Path, "", None, "/greeter/say/hello"),
            Ok(t("greeter", "Say.Hello"))
        );
        assert_eq!(
            resolve(ResolverKind::Path, "", None, "/greeter/hello"),
            Ok(t("greeter", "Greeter.Hello"))
        );
        assert_eq!(
            resolve(ResolverKind::Vpath, "ns", None, "/v2/greeter/hello"),
            Ok(t("ns.v2.greeter", "Greeter.Hello"))
        );
        assert_eq!(
            resolve(ResolverKind::Vpath, "", None, "/greeter/hello"),
            Ok(t("greeter", "Greeter.Hello"))
        );
        assert_eq!(
            resolve(
                ResolverKind::Host,
                "",
                Some("greeter:8080"),
                "/greeter/hello"
            ),
            Ok(t("greeter", "Greeter.Hello"))
        );
        assert_eq!(
            resolve(ResolverKind::Grpc, "", None, "/greeter.Greeter/Hello"),
            Ok(t("greeter", "Greeter.Hello"))
        );
        assert_eq!(
            resolve(ResolverKind::Grpc, "", None, "/acme.shop.v1.Orders/Place"),
            Ok(t("acme.shop.v1", "Orders.Place"))
        );
    }

    #[test]
    fn tricks_in_paths_name_nothing() {
        for path in [
            "/foo/%2e%2e/bar",
            "/foo/../bar",
            "/foo%2Fbar/baz",
            "/foo/./bar",
            "/foo/b%20ar",
            "/foo/%ff",
            "/",
        ] {
            assert!(
                resolve(ResolverKind::Micro, "", None, path).is_err(),
                "{path} resolved"
            );
        }
        assert!(resolve(ResolverKind::Host, "", Some("evil/host"), "/a/b").is_err());
        assert!(proxy_service("", "/%2e%2e/etc").is_err());
        assert!(proxy_service("", "/a--b/x").is_err());
    }

    #[test]
    fn simple_form_and_proxy_aliases() {
        assert_eq!(
            simple("/api/greeter/Greeter.Hello"),
            Some(t("greeter", "Greeter.Hello"))
        );
        assert_eq!(
            simple("/api/go.micro.srv.greeter/Greeter/Hello"),
            Some(t("go.micro.srv.greeter", "Greeter.Hello"))
        );
        assert_eq!(simple("/api/greeter/hello"), None);
        assert_eq!(simple("/api/../Greeter.Hello"), None);
        assert_eq!(simple("/greeter/Greeter.Hello"), None);
        assert_eq!(
            proxy_service("go.micro.api", "/foo/a/b"),
            Ok("go.micro.api.foo".into())
        );
        assert_eq!(
            proxy_service("go.micro.api", "/v1/foo/a"),
            Ok("go.micro.api.v1.foo".into())
        );
        assert_eq!(proxy_service("", "/my-app"), Ok("my-app".into()));
    }
}
