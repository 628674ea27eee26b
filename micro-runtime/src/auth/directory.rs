//! Accounts and rules, kept in the Store (database `micro`, table `auth`) so every process
//! that shares the store — services, `micro auth`, the gateway — sees the same ones.

use std::num::NonZeroU32;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ring::rand::SecureRandom as _;
use serde::{Deserialize, Serialize};

use super::{Account, ID, Rule};
use crate::error::{Error, Result};
use crate::store::{ReadOptions, SharedStore, Store, Table};

const RULES: &str = "rules/";
/// Written with the first rule: from then on no rule stored means every call is refused,
/// never the default again.
const CONFIGURED: &str = "rules-configured";
const ACCOUNTS: &str = "accounts/";
/// PBKDF2-HMAC-SHA256 rounds for account secrets (OWASP's 2023 figure is 600,000; secrets
/// are checked only when a token is issued, never per call).
const ROUNDS: u32 = 600_000;

/// A stored secret: PBKDF2-HMAC-SHA256 of it with a random salt.
#[derive(Serialize, Deserialize)]
struct Secret {
    salt: String,
    rounds: u32,
    hash: String,
}

#[derive(Serialize, Deserialize)]
struct Stored {
    #[serde(flatten)]
    account: Account,
    secret: Secret,
}

/// The accounts and rules of a fleet, in a [`Store`].
#[derive(Clone, Debug)]
pub struct Directory {
    store: Store,
}

impl Directory {
    /// The directory kept in `engine` (database `micro`, table `auth`).
    pub fn new(engine: SharedStore) -> Result<Directory> {
        Ok(Directory {
            store: Store::with_table(engine, Table::new("micro", "auth")?)?,
        })
    }

    /// The name of the store engine it lives in.
    pub fn engine_name(&self) -> &'static str {
        self.store.engine_name()
    }

    /// The stored rules, in id order (the order that breaks priority ties).
    pub async fn rules(&self) -> Result<Vec<Rule>> {
        let records = self
            .store
            .read(RULES, ReadOptions::default().prefix())
            .await?;
        records
            .iter()
            .map(|r| {
                serde_json::from_slice(&r.value).map_err(|e| {
                    Error::internal(ID, format!("stored rule {:?} is malformed: {e}", r.key))
                })
            })
            .collect()
    }

    /// The rules services enforce: the stored ones, or [`Rule::default_rule`] while no rule
    /// was ever stored (once one was, deleting them all refuses every call).
    pub async fn effective_rules(&self) -> Result<Vec<Rule>> {
        let rules = self.rules().await?;
        Ok(if rules.is_empty() && !self.configured().await? {
            vec![Rule::default_rule()]
        } else {
            rules
        })
    }

    /// Whether a rule was ever stored.
    pub async fn configured(&self) -> Result<bool> {
        Ok(self.store.read_one(CONFIGURED).await?.is_some())
    }

    /// Store `rule`, replacing one with its id. The first rule stored brings the default
    /// rule along (stored under its id, `default`), so creating a rule does not silently
    /// take every account's access away: delete `default` to deny by default. From then on,
    /// no rule stored means every call is refused.
    /// Returns whether the default rule was stored too.
    pub async fn grant(&self, rule: &Rule) -> Result<bool> {
        check_id("rule", &rule.id)?;
        let configured = self.configured().await?;
        let seeded = !configured && self.rules().await?.is_empty() && rule.id != "default";
        if !configured {
            self.store.put(CONFIGURED, &true).await?;
        }
        if seeded {
            self.store
                .put(&format!("{RULES}default"), &Rule::default_rule())
                .await?;
        }
        self.store.put(&format!("{RULES}{}", rule.id), rule).await?;
        Ok(seeded)
    }

    /// Delete the rule `id`; whether it existed.
    pub async fn revoke(&self, id: &str) -> Result<bool> {
        let key = format!("{RULES}{id}");
        let existed = self.store.read_one(&key).await?.is_some();
        self.store.delete(&key).await?;
        Ok(existed)
    }

    /// Store a new account with `secret` (hashed). 409 when the id is taken.
    pub async fn create_account(&self, account: &Account, secret: &str) -> Result<()> {
        check_id("account", &account.id)?;
        if secret.len() < 8 {
            return Err(Error::bad_request(
                ID,
                "an account's secret must be at least 8 characters",
            ));
        }
        let key = format!("{ACCOUNTS}{}", account.id);
        if self.store.read_one(&key).await?.is_some() {
            return Err(Error::new(
                ID,
                format!("account {:?} exists already: delete it first", account.id),
                409,
            ));
        }
        let stored = Stored {
            account: account.clone(),
            secret: hash(secret)?,
        };
        self.store.put(&key, &stored).await
    }

    /// The stored accounts, in id order (without their secrets).
    pub async fn accounts(&self) -> Result<Vec<Account>> {
        let records = self
            .store
            .read(ACCOUNTS, ReadOptions::default().prefix())
            .await?;
        records
            .iter()
            .map(|r| {
                serde_json::from_slice::<Stored>(&r.value)
                    .map(|s| s.account)
                    .map_err(|e| {
                        Error::internal(ID, format!("stored account {:?} is malformed: {e}", r.key))
                    })
            })
            .collect()
    }

    /// The account `id`, if it exists.
    pub async fn account(&self, id: &str) -> Result<Option<Account>> {
        Ok(self
            .store
            .get::<Stored>(&format!("{ACCOUNTS}{id}"))
            .await?
            .map(|s| s.account))
    }

    /// Delete the account `id`; whether it existed. Tokens already issued to it stay valid
    /// until they expire (keep access tokens short).
    pub async fn delete_account(&self, id: &str) -> Result<bool> {
        let key = format!("{ACCOUNTS}{id}");
        let existed = self.store.read_one(&key).await?.is_some();
        self.store.delete(&key).await?;
        Ok(existed)
    }

    /// The account `id` if `secret` is its secret; 401 otherwise (the same answer for an
    /// unknown id and a wrong secret).
    pub async fn authenticate(&self, id: &str, secret: &str) -> Result<Account> {
        let refused = || Error::unauthorized(ID, "unknown account or wrong secret");
        let stored: Stored = self
            .store
            .get(&format!("{ACCOUNTS}{id}"))
            .await?
            .ok_or_else(refused)?;
        let salt = STANDARD
            .decode(&stored.secret.salt)
            .map_err(|_| refused())?;
        let hash = STANDARD
            .decode(&stored.secret.hash)
            .map_err(|_| refused())?;
        let rounds = NonZeroU32::new(stored.secret.rounds).ok_or_else(refused)?;
        ring::pbkdf2::verify(
            ring::pbkdf2::PBKDF2_HMAC_SHA256,
            rounds,
            &salt,
            secret.as_bytes(),
            &hash,
        )
        .map_err(|_| refused())?;
        Ok(stored.account)
    }
}

fn hash(secret: &str) -> Result<Secret> {
    let mut salt = [0u8; 16];
    ring::rand::SystemRandom::new()
        .fill(&mut salt)
        .map_err(|_| Error::internal(ID, "no randomness for a salt"))?;
    let mut out = [0u8; 32];
    let rounds = NonZeroU32::new(ROUNDS).unwrap_or(NonZeroU32::MIN);
    ring::pbkdf2::derive(
        ring::pbkdf2::PBKDF2_HMAC_SHA256,
        rounds,
        &salt,
        secret.as_bytes(),
        &mut out,
    );
    Ok(Secret {
        salt: STANDARD.encode(salt),
        rounds: ROUNDS,
        hash: STANDARD.encode(out),
    })
}

/// Ids are keys: printable, no `/`, at most 128 bytes.
fn check_id(what: &str, id: &str) -> Result<()> {
    if id.is_empty()
        || id.len() > 128
        || id.contains('/')
        || id.chars().any(|c| c.is_control() || c.is_whitespace())
    {
        return Err(Error::bad_request(
            ID,
            format!("{what} id {id:?} is not usable: give 1 to 128 characters, no spaces or '/'"),
        ));
    }
    Ok(())
}
