//! The check every call passes when auth is on: token, then rules.

use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use lru::LruCache;

use super::{Account, Auth, Directory, Resource, Rule};
use crate::error::Result;

/// Tokens whose check a gate keeps (the signature is checked once per token, not per call).
const CHECKED_TOKENS: usize = 1024;

/// A caller whose token was checked: its account, and the account as the JSON a handler
/// gets under [`super::ACCOUNT_HEADER`] (id, type, scopes). Cheap to clone.
#[derive(Clone, Debug)]
pub struct Caller {
    account: Arc<Account>,
    header: Arc<str>,
}

impl Caller {
    fn new(account: Account) -> Caller {
        let header = serde_json::json!({
            "id": account.id,
            "type": account.kind,
            "scopes": account.scopes,
        })
        .to_string();
        Caller {
            account: Arc::new(account),
            header: header.into(),
        }
    }

    /// The account.
    pub fn account(&self) -> &Arc<Account> {
        &self.account
    }

    /// The account as JSON: `{"id":…,"type":…,"scopes":[…]}`.
    pub fn header(&self) -> &str {
        &self.header
    }
}

/// How often services reload the rules from the store.
pub const RULES_REFRESH: Duration = Duration::from_secs(2);

/// A token checker and the rules in force: what servers, the gateway and the sidecar ask
/// whether a call may go on.
#[derive(Debug)]
pub struct Gate {
    auth: Arc<dyn Auth>,
    rules: RwLock<Arc<[Rule]>>,
    /// Checked tokens and until when their check holds.
    checked: Mutex<LruCache<Box<str>, (Caller, u64)>>,
}

impl Gate {
    /// A gate checking tokens with `auth` against `rules`.
    pub fn new(auth: Arc<dyn Auth>, rules: Vec<Rule>) -> Gate {
        Gate {
            auth,
            rules: RwLock::new(rules.into()),
            checked: Mutex::new(LruCache::new(
                NonZeroUsize::new(CHECKED_TOKENS).unwrap_or(NonZeroUsize::MIN),
            )),
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

    /// Replace the rules in force.
    pub fn set_rules(&self, rules: Vec<Rule>) {
        *self.rules.write().unwrap_or_else(|e| e.into_inner()) = rules.into();
    }

    /// The rules in force.
    pub fn rules(&self) -> Arc<[Rule]> {
        self.rules.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The caller (`None`: anonymous) when a caller with `authorization` (the metadata
    /// value, if any) may call `resource`; `401` for a bad token or an anonymous caller no
    /// rule lets in, `403` for a refused account.
    pub fn check(
        &self,
        authorization: Option<&str>,
        resource: &Resource,
    ) -> Result<Option<Caller>> {
        self.check_parts(
            authorization,
            &resource.kind,
            &resource.name,
            &resource.endpoint,
        )
    }

    /// [`Gate::check`] for endpoint `endpoint` of service `service`.
    pub fn check_endpoint(
        &self,
        authorization: Option<&str>,
        service: &str,
        endpoint: &str,
    ) -> Result<Option<Caller>> {
        self.check_parts(authorization, "service", service, endpoint)
    }

    fn check_parts(
        &self,
        authorization: Option<&str>,
        kind: &str,
        name: &str,
        endpoint: &str,
    ) -> Result<Option<Caller>> {
        let caller = match authorization {
            Some(value) => Some(self.caller(super::bearer(value)?)?),
            None => None,
        };
        let account = caller.as_ref().map(|c| &*c.account);
        let rules = self.rules();
        super::rules::verify_endpoint(&rules, account, kind, name, endpoint)
            .map_err(|r| super::refused(&r, account, name, endpoint))?;
        Ok(caller)
    }

    /// The caller a token names, from the checked tokens while its check holds.
    fn caller(&self, token: &str) -> Result<Caller> {
        let now = super::now_secs();
        {
            let mut checked = self.checked.lock().unwrap_or_else(|e| e.into_inner());
            match checked.get(token) {
                Some((caller, until)) if now <= *until => return Ok(caller.clone()),
                Some(_) => {
                    checked.pop(token);
                }
                None => {}
            }
        }
        let (account, until) = self.auth.inspect_until(token)?;
        let caller = Caller::new(account);
        if let Some(until) = until {
            self.checked
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .put(token.into(), (caller.clone(), until));
        }
        Ok(caller)
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

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::auth::Token;

    /// An engine that takes any token, counts its checks, and says how long they hold.
    #[derive(Debug)]
    struct Counting {
        checks: AtomicUsize,
        holds: Option<i64>,
    }

    impl Auth for Counting {
        fn name(&self) -> &'static str {
            "counting"
        }
        fn inspect(&self, token: &str) -> Result<Account> {
            self.checks.fetch_add(1, Ordering::SeqCst);
            Ok(Account::new(token, ["x"]))
        }
        fn issue(&self, _: &Account, _: Duration) -> Result<Token> {
            unreachable!("not used")
        }
        fn inspect_until(&self, token: &str) -> Result<(Account, Option<u64>)> {
            let until = self
                .holds
                .map(|secs| super::super::now_secs().saturating_add_signed(secs));
            self.inspect(token).map(|a| (a, until))
        }
    }

    fn checks_for_two_calls(holds: Option<i64>) -> usize {
        let auth = Arc::new(Counting {
            checks: AtomicUsize::new(0),
            holds,
        });
        let gate = Gate::new(auth.clone(), vec![Rule::default_rule()]);
        let resource = Resource::endpoint("greeter", "Greeter.Hello");
        for _ in 0..2 {
            let caller = gate.check(Some("Bearer ada"), &resource).unwrap().unwrap();
            assert_eq!(caller.account().id, "ada");
            assert_eq!(
                caller.header(),
                r#"{"id":"ada","type":"user","scopes":["x"]}"#
            );
        }
        auth.checks.load(Ordering::SeqCst)
    }

    #[test]
    fn a_token_is_checked_once_while_its_check_holds() {
        assert_eq!(checks_for_two_calls(Some(60)), 1);
        assert_eq!(
            checks_for_two_calls(None),
            2,
            "an engine that gives no time is asked each time"
        );
        assert_eq!(
            checks_for_two_calls(Some(-1)),
            2,
            "a check past its time is redone"
        );
    }
}
