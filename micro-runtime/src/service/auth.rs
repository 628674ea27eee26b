//! A service with auth on (`MICRO_AUTH=jwt`): the gate every call it serves passes (token,
//! then rules, reloaded from the store), and its own token on every call it makes.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::auth::{Account, Auth as _, Directory, Following, Gate, Jwt};
use crate::client::CallWrapper;
use crate::error::{Error, Result};
use crate::options::Settings;
use crate::store::Store;

const ID: &str = "micro.auth";

/// How long the tokens a service issues itself last; renewed a minute before they end.
const OWN_TOKEN_TTL: Duration = Duration::from_secs(3600);
const RENEW_BEFORE: u64 = 60;

/// What a service's auth is made of, from its settings.
pub(super) struct Plan {
    jwt: Arc<Jwt>,
    pub(super) token: Arc<OwnToken>,
    credentials: Option<(String, String)>,
}

/// The token a service sends with its calls: a fixed one, or one it issues itself.
#[derive(Default)]
pub(super) struct OwnToken {
    fixed: Option<String>,
    issuer: Option<Arc<Jwt>>,
    /// The account it issues for, once its secret was checked; `Bearer <token>` and the
    /// token's expiry.
    issued: Mutex<Option<(Account, String, u64)>>,
}

impl OwnToken {
    /// The `authorization` value to send now (`Bearer <token>`), if any.
    fn current(&self) -> Option<String> {
        if let Some(value) = &self.fixed {
            return Some(value.clone());
        }
        let issuer = self.issuer.as_ref()?;
        let mut issued = self.issued.lock().unwrap_or_else(|e| e.into_inner());
        let (account, token, expiry) = issued.as_mut()?;
        if *expiry <= crate::auth::now_secs().saturating_add(RENEW_BEFORE) {
            match issuer.issue(account, OWN_TOKEN_TTL) {
                Ok(t) => {
                    *token = format!("Bearer {}", t.access_token);
                    *expiry = t.expiry;
                }
                Err(e) => tracing::warn!(error = %e, "cannot renew this service's token"),
            }
        }
        Some(token.clone())
    }
}

impl std::fmt::Debug for Plan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plan")
            .field("id", &self.credentials.as_ref().map(|(id, _)| id))
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for OwnToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OwnToken")
            .field("fixed", &self.fixed.as_ref().map(|_| "<redacted>"))
            .finish_non_exhaustive()
    }
}

/// The plan for `settings`: `None` with auth off.
pub(super) fn plan(settings: &Settings) -> Result<Option<Plan>> {
    let auth = &settings.auth;
    let Some(jwt) = auth.jwt()? else {
        return Ok(None);
    };
    let credentials = match (&auth.id, &auth.secret) {
        (Some(id), Some(secret)) => {
            if auth.private_key.is_none() {
                return Err(Error::bad_request(
                    ID,
                    "MICRO_AUTH_ID and MICRO_AUTH_SECRET need MICRO_AUTH_PRIVATE_KEY to issue this service's tokens; without the key, give it a token with MICRO_AUTH_TOKEN (`micro auth token`)",
                ));
            }
            Some((id.clone(), secret.clone()))
        }
        (None, None) => None,
        (Some(_), None) => {
            return Err(Error::bad_request(
                ID,
                "MICRO_AUTH_ID is set without MICRO_AUTH_SECRET",
            ));
        }
        (None, Some(_)) => {
            return Err(Error::bad_request(
                ID,
                "MICRO_AUTH_SECRET is set without MICRO_AUTH_ID",
            ));
        }
    };
    let token = OwnToken {
        fixed: auth.token.as_deref().map(crate::auth::bearer_value),
        issuer: credentials.as_ref().map(|_| jwt.clone()),
        issued: Mutex::default(),
    };
    Ok(Some(Plan {
        jwt,
        token: Arc::new(token),
        credentials,
    }))
}

/// The client wrapper that sends the service's token with every call that carries none of
/// its own (a caller's token stays on its hop, so a handler's calls carry the service's).
pub(super) fn wrapper(token: Arc<OwnToken>) -> CallWrapper {
    CallWrapper::new(move |mut req, next| {
        let explicit = req.options().metadata.get("authorization").is_some()
            || req
                .context()
                .forwarded_metadata()
                .get("authorization")
                .is_some();
        if !explicit && let Some(value) = token.current() {
            // In the call's options, not its context: options metadata is sent as given,
            // even when it equals the token this service received (a shared token).
            req.options_mut().metadata.insert("authorization", value);
        }
        next.call(req)
    })
}

/// Load the rules (failing when the store cannot be read: a service with auth on does not
/// serve without them), check the service's own secret, and keep the rules fresh.
pub(super) async fn start(plan: &Plan, store: &Store) -> Result<(Arc<Gate>, Following)> {
    let directory = Directory::new(store.engine().clone())?;
    if let Some((id, secret)) = &plan.credentials {
        let account = directory.authenticate(id, secret).await.map_err(|e| {
            Error::unauthorized(ID, format!("MICRO_AUTH_ID {id:?}: {}", e.detail()))
        })?;
        let token = plan.jwt.issue(&account, OWN_TOKEN_TTL)?;
        *plan.token.issued.lock().unwrap_or_else(|e| e.into_inner()) = Some((
            account,
            format!("Bearer {}", token.access_token),
            token.expiry,
        ));
    }
    Gate::load(plan.jwt.clone(), directory).await
}
