//! The check every call passes when auth is on: token, then rules.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use super::{Account, Auth, Directory, Resource, Rule};
use crate::error::Result;

/// How often services reload the rules from the store.
pub const RULES_REFRESH: Duration = Duration::from_secs(2);

/// A token checker and the rules in force: what servers, the gateway and the sidecar ask
/// whether a call may go on.
#[derive(Debug)]
pub struct Gate {
    auth: Arc<dyn Auth>,
    rules: RwLock<Arc<[Rule]>>,
}

impl Gate {
    /// A gate checking tokens with `auth` against `rules`.
    pub fn new(auth: Arc<dyn Auth>, rules: Vec<Rule>) -> Gate {
        Gate {
            auth,
            rules: RwLock::new(rules.into()),
        }
    }

    /// A gate with the rules `directory` holds now (an error naming the store when they
    /// cannot be read: nothing should serve with auth on and no rules), kept in step with
    /// it by a task that ends when the returned handle is dropped.
    pub async fn load(auth: Arc<dyn Auth>, directory: Directory) -> Result<(Arc<Gate>, Following)> {
        let rules = directory.effective_rules().await.map_err(|e| {
            crate::error::Error::internal(
                super::ID,
                format!(
                    "auth is on, and its rules cannot be read from the {} store: {}",
                    directory.engine_name(),
                    e.detail()
                ),
            )
        })?;
        let gate = Arc::new(Gate::new(auth, rules));
        let task = gate.follow(directory, RULES_REFRESH);
        Ok((gate, Following(task)))
    }

    /// The engine checking tokens.
    pub fn auth(&self) -> &Arc<dyn Auth> {
        &self.auth
    }

    /// Replace the rules in force.
    pub fn set_rules(&self, rules: Vec<Rule>) {
        *self.rules.write().unwrap_or_else(|e| e.into_inner()) = rules.into();
    }

    /// The rules in force.
    pub fn rules(&self) -> Arc<[Rule]> {
        self.rules.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The caller's account (`None`: anonymous) when a caller with `authorization` (the
    /// metadata value, if any) may call `resource`; `401` for a bad token or an anonymous
    /// caller no rule lets in, `403` for a refused account.
    pub fn check(
        &self,
        authorization: Option<&str>,
        resource: &Resource,
    ) -> Result<Option<Account>> {
        let account = match authorization {
            Some(value) => Some(self.auth.inspect(super::bearer(value)?)?),
            None => None,
        };
        let rules = self.rules();
        super::verify(&rules, account.as_ref(), resource)
            .map_err(|r| super::refusal_error(&r, account.as_ref(), resource))?;
        Ok(account)
    }

    /// Keep the rules in step with `directory`, reloading every `every` until the returned
    /// task is aborted (or the gate dropped); a failed reload keeps the rules in force and is logged.
    pub fn follow(
        self: &Arc<Self>,
        directory: Directory,
        every: Duration,
    ) -> tokio::task::JoinHandle<()> {
        let gate = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut failing = false;
            loop {
                tick.tick().await;
                let Some(gate) = gate.upgrade() else { return };
                match directory.effective_rules().await {
                    Ok(rules) => {
                        if failing {
                            tracing::info!("auth rules readable again");
                            failing = false;
                        }
                        gate.set_rules(rules);
                    }
                    Err(e) if !failing => {
                        tracing::warn!(error = %e, "cannot reload auth rules: keeping the ones in force");
                        failing = true;
                    }
                    Err(_) => {}
                }
            }
        })
    }
}

/// The task keeping a [`Gate`]'s rules fresh: stops when dropped.
#[derive(Debug)]
pub struct Following(tokio::task::JoinHandle<()>);

impl Drop for Following {
    fn drop(&mut self) {
        self.0.abort();
    }
}
