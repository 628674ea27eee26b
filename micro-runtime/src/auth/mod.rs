//! Authentication and authorization: go-micro's `Auth` — accounts, tokens, rules.
//!
//! A caller proves who it is with a token (`authorization: Bearer …` metadata); the server
//! checks the token and the [rules](Rule) before the handler runs, before the request body
//! is even read, and answers `401 UNAUTHENTICATED` (no valid token where one is needed) or
//! `403 PERMISSION_DENIED` (a rule denies it, or none grants it: deny by default).
//!
//! | Engine | `MICRO_AUTH` | Tokens |
//! |---|---|---|
//! | noop | `noop` (default) | none: every call is let through |
//! | [`Jwt`] | `jwt` | signed JWTs: `MICRO_AUTH_PUBLIC_KEY` checks them, `MICRO_AUTH_PRIVATE_KEY` issues them (RS256, ES256 or EdDSA, fixed by the key) |
//!
//! **Accounts** (id, type, scopes, metadata, a hashed secret) and **rules** live in the Store
//! ([`Directory`]), so `micro auth create account|rule` reaches every service that shares
//! the store; services reload the rules every few seconds. With no rule stored, the
//! [default rule](Rule::default_rule) applies: any signed-in account may call anything.
//!
//! A service calls others with its own token: `MICRO_AUTH_TOKEN`, or one it issues itself
//! from `MICRO_AUTH_ID` and `MICRO_AUTH_SECRET` when it holds the private key. A caller's
//! token stays on the hop it came with ([`crate::HOP_LOCAL`]).
//!
//! ```
//! use micro::auth::{Account, Auth, Jwt, generate_ed25519};
//! use std::time::Duration;
//!
//! let (private_key, _public_key) = generate_ed25519()?;
//! let jwt = Jwt::signing(&private_key, "micro", "micro")?;
//! let token = jwt.issue(&Account::new("ada", ["admin"]), Duration::from_secs(60))?;
//! let account = jwt.inspect(&token.access_token)?;
//! assert_eq!(account.id, "ada");
//! assert!(account.has_scope("admin"));
//! // A refresh token is not an access token.
//! assert_eq!(jwt.inspect(&token.refresh_token).unwrap_err().code(), 401);
//! # Ok::<(), micro::Error>(())
//! ```

mod directory;
mod gate;
mod jwt;
mod keys;
mod rules;
mod settings;

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

pub use directory::Directory;
pub use gate::{Caller, Following, Gate, RULES_REFRESH};
pub(crate) use jwt::now as now_secs;
pub use jwt::{Jwt, LEEWAY, MAX_TOKEN_LEN, REFRESH_TTL};
pub use keys::{Algorithm, generate_ed25519};
pub use rules::{Access, DEFAULT_PRIORITY, Refusal, Resource, Rule, verify};
pub use settings::AuthSettings;

const ID: &str = "micro.auth";

/// The metadata key a verified caller's account reaches a handler under (JSON: id, type,
/// scopes). Servers with auth on drop whatever a caller sent under it, and so does the
/// gateway, so it cannot be forged; it stays on its hop.
pub const ACCOUNT_HEADER: &str = "micro-account";

/// Who a caller is: an id, a type (`user`, `service`), the scopes rules look for, metadata.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// The account's id (a user name, a service name).
    pub id: String,
    /// `user`, `service`, or any kind you use.
    #[serde(rename = "type", default)]
    pub kind: String,
    /// Who issued its token.
    #[serde(default)]
    pub issuer: String,
    /// The scopes it holds.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Anything else about it.
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
}

impl Account {
    /// A `user` account `id` holding `scopes`.
    pub fn new<S: Into<String>>(
        id: impl Into<String>,
        scopes: impl IntoIterator<Item = S>,
    ) -> Account {
        Account {
            id: id.into(),
            kind: "user".into(),
            scopes: scopes.into_iter().map(Into::into).collect(),
            ..Account::default()
        }
    }

    /// Whether it holds `scope` (case-insensitive, as go-micro compares scopes).
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s.eq_ignore_ascii_case(scope))
    }
}

/// An access token and the refresh token that renews it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Token {
    /// Sent with calls: `authorization: Bearer <access_token>`.
    pub access_token: String,
    /// Exchanged for a new pair when the access token expires.
    pub refresh_token: String,
    /// When it was issued, seconds since the epoch.
    pub created: u64,
    /// When the access token expires, seconds since the epoch.
    pub expiry: u64,
}

/// An auth engine: checks tokens and issues them.
pub trait Auth: Send + Sync + std::fmt::Debug + 'static {
    /// The engine's name (`jwt`).
    fn name(&self) -> &'static str;
    /// The account an access token was issued to; `401` when it is not valid now.
    fn inspect(&self, token: &str) -> Result<Account>;
    /// A new token pair for `account`, the access token valid for `ttl`.
    fn issue(&self, account: &Account, ttl: Duration) -> Result<Token>;
    /// [`Auth::inspect`], and until when (seconds since the epoch) the answer holds, so a
    /// [`Gate`] may keep it instead of checking the signature on every call; `None`
    /// (the default): ask every time.
    fn inspect_until(&self, token: &str) -> Result<(Account, Option<u64>)> {
        self.inspect(token).map(|a| (a, None))
    }
}

/// The token in an `authorization` value: `Bearer <token>` (the scheme in any case).
pub fn bearer(value: &str) -> Result<&str> {
    let value = value.trim();
    match value.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(token.trim())
        }
        _ => Err(Error::unauthorized(
            ID,
            "the authorization metadata must be `Bearer <token>`",
        )),
    }
}

/// The `authorization` value for `token`: `Bearer <token>`, or `token` itself when it
/// already is one.
pub fn bearer_value(token: &str) -> String {
    match bearer(token) {
        Ok(_) => token.to_owned(),
        Err(_) => format!("Bearer {token}"),
    }
}

/// The error a refused call gets: `401` for an anonymous caller (a token would help),
/// `403` for a signed-in one (it would not).
pub fn refusal_error(refusal: &Refusal, account: Option<&Account>, resource: &Resource) -> Error {
    refused(refusal, account, &resource.name, &resource.endpoint)
}

fn refused(refusal: &Refusal, account: Option<&Account>, service: &str, endpoint: &str) -> Error {
    let what = format!("{endpoint} of {service}");
    match (refusal, account) {
        (Refusal::Denied { rule }, Some(a)) => Error::forbidden(
            ID,
            format!("account {:?} may not call {what} (rule {rule:?})", a.id),
        ),
        (Refusal::Denied { rule }, None) => Error::forbidden(
            ID,
            format!("{what} is denied to anonymous callers (rule {rule:?})"),
        ),
        (Refusal::NoRule, Some(a)) => Error::forbidden(
            ID,
            format!("account {:?} may not call {what}: no rule grants it", a.id),
        ),
        (Refusal::NoRule, None) => Error::unauthorized(
            ID,
            format!("{what} needs a signed-in caller: send `authorization: Bearer <token>`"),
        ),
    }
}
