//! The auth settings: `MICRO_AUTH` and its keys, id, secret and token.

use std::fmt;
use std::sync::Arc;

use super::{ID, Jwt};
use crate::error::{Error, Result};

/// How a process authenticates: the engine, its keys, and its own identity.
#[derive(Clone)]
#[non_exhaustive]
pub struct AuthSettings {
    /// `noop` (default: no checks) or `jwt` (`MICRO_AUTH`).
    pub engine: String,
    /// The key that checks tokens: PEM, base64 of PEM, or a file (`MICRO_AUTH_PUBLIC_KEY`).
    pub public_key: Option<String>,
    /// The key that issues tokens, likewise (`MICRO_AUTH_PRIVATE_KEY`); its public half
    /// checks them too.
    pub private_key: Option<String>,
    /// This service's account (`MICRO_AUTH_ID`) ...
    pub id: Option<String>,
    /// ... and its secret (`MICRO_AUTH_SECRET`): with the private key, the service issues
    /// itself tokens for its calls.
    pub secret: Option<String>,
    /// A token this process sends with its calls (`MICRO_AUTH_TOKEN`), e.g. one from
    /// `micro auth token`.
    pub token: Option<String>,
    /// Issuer and audience of tokens (`MICRO_AUTH_NAMESPACE`, default `micro`): tokens of
    /// another namespace are refused.
    pub namespace: String,
}

impl Default for AuthSettings {
    fn default() -> AuthSettings {
        AuthSettings {
            engine: "noop".into(),
            public_key: None,
            private_key: None,
            id: None,
            secret: None,
            token: None,
            namespace: "micro".into(),
        }
    }
}

impl fmt::Debug for AuthSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let set = |v: &Option<String>| v.as_ref().map(|_| "<set>");
        f.debug_struct("AuthSettings")
            .field("engine", &self.engine)
            .field("public_key", &set(&self.public_key))
            .field("private_key", &set(&self.private_key))
            .field("id", &self.id)
            .field("secret", &set(&self.secret))
            .field("token", &set(&self.token))
            .field("namespace", &self.namespace)
            .finish()
    }
}

impl AuthSettings {
    /// Whether calls are checked (`MICRO_AUTH=jwt`).
    pub fn enabled(&self) -> bool {
        self.engine != "noop"
    }

    /// The `jwt` engine these settings describe; `None` with `noop`.
    pub fn jwt(&self) -> Result<Option<Arc<Jwt>>> {
        match self.engine.as_str() {
            "noop" => Ok(None),
            "jwt" => {
                let ns = &self.namespace;
                let jwt = match (&self.private_key, &self.public_key) {
                    (Some(private), Some(public)) => {
                        let jwt = Jwt::signing(private, ns, ns)?;
                        if !jwt.same_key(&Jwt::verifying(public, ns, ns)?) {
                            return Err(Error::bad_request(
                                ID,
                                "MICRO_AUTH_PUBLIC_KEY is not the public half of MICRO_AUTH_PRIVATE_KEY: give one of them, or a matching pair",
                            ));
                        }
                        jwt
                    }
                    (Some(private), None) => Jwt::signing(private, ns, ns)?,
                    (None, Some(public)) => Jwt::verifying(public, ns, ns)?,
                    (None, None) => {
                        return Err(Error::bad_request(
                            ID,
                            "MICRO_AUTH=jwt needs MICRO_AUTH_PUBLIC_KEY (to check tokens) or MICRO_AUTH_PRIVATE_KEY (to issue them too); make a pair with `micro auth keys`",
                        ));
                    }
                };
                Ok(Some(Arc::new(jwt)))
            }
            other => Err(Error::bad_request(
                ID,
                format!("unknown auth {other:?}: the auth engines are noop and jwt"),
            )),
        }
    }
}
