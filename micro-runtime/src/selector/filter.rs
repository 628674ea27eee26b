//! [`Filter`]: which nodes a call may go to.

use std::fmt;
use std::sync::Arc;

use crate::registry::{Node, Service};

type Predicate = Arc<dyn Fn(&Service, &Node) -> bool + Send + Sync>;

/// Keeps only some nodes.
///
/// ```
/// use micro::selector::Filter;
/// let filters = [Filter::version("1.0.0"), Filter::metadata("region", "eu"), Filter::endpoint("Greeter.Hello")];
/// ```
#[derive(Clone)]
pub struct Filter {
    pub(super) what: String,
    pub(super) keep: Predicate,
}

impl fmt::Debug for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.what)
    }
}

impl Filter {
    /// Nodes of this service version.
    pub fn version(version: impl Into<String>) -> Filter {
        let version = version.into();
        Filter {
            what: format!("version {version}"),
            keep: Arc::new(move |svc, _| svc.version == version),
        }
    }

    /// Nodes whose metadata (or whose service's metadata) has `key` set to `value`.
    pub fn metadata(key: impl Into<String>, value: impl Into<String>) -> Filter {
        let (key, value) = (key.into(), value.into());
        Filter {
            what: format!("metadata {key}={value}"),
            keep: Arc::new(move |svc, node| {
                node.metadata.get(&key).or_else(|| svc.metadata.get(&key)) == Some(&value)
            }),
        }
    }

    /// Nodes of service versions that declare the endpoint.
    pub fn endpoint(name: impl Into<String>) -> Filter {
        let name = name.into();
        Filter {
            what: format!("endpoint {name}"),
            keep: Arc::new(move |svc, _| svc.endpoint(&name).is_some()),
        }
    }

    /// Any rule.
    pub fn custom(
        what: impl Into<String>,
        keep: impl Fn(&Service, &Node) -> bool + Send + Sync + 'static,
    ) -> Filter {
        Filter {
            what: what.into(),
            keep: Arc::new(keep),
        }
    }
}
