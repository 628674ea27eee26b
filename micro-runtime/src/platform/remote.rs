//! What the `service` engines share: calls to `micro server` at one address, with this
//! process's token, and errors that name the server when it does not answer.

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{DEFAULT_ADDRESS, SERVICE};
use crate::client::{CallOptions, Client};
use crate::codec::Codec;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::registry::MemoryRegistry;
use crate::stream::StreamReceiver;

/// How long a stream that follows the server (a watch, a subscription) may stay open.
const FOREVER: Duration = Duration::from_secs(365 * 24 * 3600);

/// The concept a `service` engine serves, for its errors: `registry`, `broker` or `store`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Concept {
    Registry,
    Broker,
    Store,
}

impl Concept {
    fn name(self) -> &'static str {
        match self {
            Concept::Registry => "registry",
            Concept::Broker => "broker",
            Concept::Store => "store",
        }
    }

    /// The error id of the concept's errors (`micro.registry` ...).
    pub(crate) fn id(self) -> &'static str {
        match self {
            Concept::Registry => "micro.registry",
            Concept::Broker => "micro.broker",
            Concept::Store => "micro.store",
        }
    }

    /// The setting that gives the server's address (`MICRO_REGISTRY_ADDRESS` ...).
    pub(crate) fn setting(self) -> &'static str {
        match self {
            Concept::Registry => "MICRO_REGISTRY_ADDRESS",
            Concept::Broker => "MICRO_BROKER_ADDRESS",
            Concept::Store => "MICRO_STORE_ADDRESS",
        }
    }
}

/// Calls to the `micro server` at one address.
#[derive(Clone)]
pub(crate) struct Remote {
    client: Client,
    address: Arc<str>,
    timeout: Duration,
    /// `authorization` metadata sent with every call.
    authorization: Option<Arc<str>>,
    concept: Concept,
}

impl std::fmt::Debug for Remote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Remote")
            .field("address", &self.address)
            .field("timeout", &self.timeout)
            .field("token", &self.authorization.as_ref().map(|_| "********"))
            .finish()
    }
}

impl Remote {
    /// The server at `address` (`host:port`), checked; nothing is dialled yet.
    pub(crate) fn new(
        concept: Concept,
        address: &str,
        timeout: Duration,
        token: Option<&str>,
    ) -> Result<Remote> {
        let address = address.trim();
        let valid = !address.contains("://")
            && !address.contains(',')
            && address.rsplit_once(':').is_some_and(|(host, port)| {
                !host.is_empty() && port.parse::<u16>().is_ok_and(|p| p > 0)
            });
        if !valid {
            return Err(Error::bad_request(
                concept.id(),
                format!(
                    "{} address {address:?} is not host:port; the service {} needs where micro server listens ({}, default {DEFAULT_ADDRESS})",
                    concept.name(),
                    concept.name(),
                    concept.setting(),
                ),
            ));
        }
        Ok(Remote {
            // Calls go to the address; this registry is never asked.
            client: Client::new(Arc::new(MemoryRegistry::new())),
            address: address.into(),
            timeout,
            authorization: token
                .filter(|t| !t.trim().is_empty())
                .map(|t| crate::auth::bearer_value(t).into()),
            concept,
        })
    }

    /// Where the server is.
    pub(crate) fn address(&self) -> &str {
        &self.address
    }

    /// How long one call may take.
    pub(crate) fn timeout(&self) -> Duration {
        self.timeout
    }

    fn context(&self) -> Context {
        match &self.authorization {
            Some(value) => Context::new().with_metadata("authorization", value.to_string()),
            None => Context::new(),
        }
    }

    fn options(&self, timeout: Duration) -> CallOptions {
        CallOptions::new()
            .address(self.address.to_string())
            .timeout(timeout)
            .retries(0)
    }

    /// One call, JSON both ways.
    pub(crate) async fn call<Req, Resp>(&self, endpoint: &str, req: &Req) -> Result<Resp>
    where
        Req: Serialize + DeserializeOwned + Send + 'static,
        Resp: Serialize + DeserializeOwned + Send + 'static,
    {
        self.client
            .invoke_codec(
                &self.context(),
                SERVICE,
                endpoint,
                req,
                &self.options(self.timeout),
                Codec::serde(),
                Codec::serde(),
            )
            .await
            .map(|r| r.message)
            .map_err(|e| self.unreachable(e))
    }

    /// A server stream that stays open as long as the server keeps it.
    pub(crate) async fn follow<Req, Resp>(
        &self,
        endpoint: &str,
        req: &Req,
    ) -> Result<StreamReceiver<Resp>>
    where
        Req: Serialize + DeserializeOwned + Send + 'static,
        Resp: Serialize + DeserializeOwned + Send + 'static,
    {
        self.client
            .server_stream_codec(
                &self.context(),
                SERVICE,
                endpoint,
                req,
                &self.options(FOREVER),
                Codec::serde(),
                Codec::serde(),
            )
            .await
            .map_err(|e| self.unreachable(e))
    }

    /// An error that says which server did not answer.
    pub(crate) fn unreachable(&self, err: Error) -> Error {
        // Only what the client itself produced (no connection, no answer in time); the
        // server's own answers pass as they are.
        if err.dependency().is_some() && matches!(err.code(), 503 | 408) {
            Error::new(
                self.concept.id(),
                format!(
                    "micro server at {} ({}): {}",
                    self.address,
                    self.concept.setting(),
                    err.detail()
                ),
                err.code(),
            )
        } else {
            err
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_address_must_be_host_and_port() {
        for bad in [
            "",
            "8000",
            ":8000",
            "host:",
            "host:0",
            "host:70000",
            "http://host:8000",
            "a:1,b:2",
        ] {
            let err = Remote::new(Concept::Broker, bad, Duration::from_secs(1), None)
                .err()
                .map(|e| e.detail().to_owned());
            assert!(
                err.as_deref().is_some_and(
                    |e| e.contains("is not host:port") && e.contains("MICRO_BROKER_ADDRESS")
                ),
                "{bad}: {err:?}"
            );
        }
        assert!(
            Remote::new(
                Concept::Store,
                "198.51.100.1:8000",
                Duration::from_secs(1),
                None
            )
            .is_ok()
        );
    }

    #[test]
    fn the_token_is_sent_as_bearer_and_never_shown() {
        let remote = Remote::new(
            Concept::Registry,
            "127.0.0.1:8000",
            Duration::from_secs(1),
            Some("abc"),
        )
        .unwrap();
        assert_eq!(
            remote.context().metadata().get("authorization"),
            Some("Bearer abc")
        );
        assert!(!format!("{remote:?}").contains("abc"));
        let none = Remote::new(
            Concept::Registry,
            "127.0.0.1:8000",
            Duration::from_secs(1),
            None,
        )
        .unwrap();
        assert_eq!(none.context().metadata().get("authorization"), None);
    }
}
