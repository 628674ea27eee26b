//! Rules: who may call what. go-micro's model and evaluation, deny by default.

use serde::{Deserialize, Serialize};

use super::Account;

/// What a rule is about: a resource `type` (`service` for endpoints), a `name` (the service)
/// and an `endpoint` (`Greeter.Hello`). In a rule each part may be `*` (anything), and an
/// endpoint ending in `*` matches by prefix (`Greeter.*`, `/admin/*`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resource {
    /// The kind of resource: `service` for a service's endpoints.
    #[serde(rename = "type")]
    pub kind: String,
    /// The service's name.
    pub name: String,
    /// The endpoint, `Service.Method`.
    pub endpoint: String,
}

impl Resource {
    /// The endpoint `endpoint` of service `name`.
    pub fn endpoint(name: impl Into<String>, endpoint: impl Into<String>) -> Resource {
        Resource {
            kind: "service".into(),
            name: name.into(),
            endpoint: endpoint.into(),
        }
    }

    /// Whether this resource, as a rule's pattern, covers endpoint `endpoint` of service
    /// `name` (of type `kind`). Case-insensitive, as go-micro's: the server evaluates rules on
    /// the endpoint name its router matched, so a rule written `greeter.hello` covers
    /// `Greeter.Hello` and nothing the router would not.
    fn covers(&self, kind: &str, name: &str, endpoint: &str) -> bool {
        part(&self.kind, kind) && part(&self.name, name) && part(&self.endpoint, endpoint)
    }
}

/// A rule's part against a resource's: `*`, equal, or a prefix ending in `*`.
fn part(pattern: &str, value: &str) -> bool {
    if pattern == "*" || pattern.eq_ignore_ascii_case(value) {
        return true;
    }
    match pattern.strip_suffix('*') {
        Some(prefix) => value
            .get(..prefix.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(prefix)),
        None => false,
    }
}

/// The priority of [`Rule::default_rule`]: below any rule you write without one.
pub const DEFAULT_PRIORITY: i32 = -100;

/// Grant or deny.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Access {
    /// The call may go on.
    Granted,
    /// The call is refused.
    Denied,
}

/// A rule: callers holding `scope` are granted or denied `resource`. Scope `""` means
/// everyone, signed in or not (public); `*` means any signed-in account. Among the rules that
/// cover a call and apply to its caller, the one with the highest `priority` decides (the
/// first in id order among equals); when none does, the call is refused.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    /// A name for the rule, unique in the store.
    pub id: String,
    /// The scope a caller needs for the rule to apply: `""` anyone, `*` any account.
    pub scope: String,
    /// What the rule covers.
    pub resource: Resource,
    /// Grant or deny.
    pub access: Access,
    /// Higher decides first; among equals, the first in id order.
    #[serde(default)]
    pub priority: i32,
}

impl Rule {
    /// The rule that applies while no rule was ever stored: any signed-in account may call
    /// every endpoint, and anonymous callers none. Its priority is the lowest,
    /// [`DEFAULT_PRIORITY`], so any rule of yours (priority 0 unless given) decides first.
    pub fn default_rule() -> Rule {
        Rule {
            id: "default".into(),
            scope: "*".into(),
            resource: Resource {
                kind: "*".into(),
                name: "*".into(),
                endpoint: "*".into(),
            },
            access: Access::Granted,
            priority: DEFAULT_PRIORITY,
        }
    }

    fn applies_to(&self, account: Option<&Account>) -> bool {
        match self.scope.as_str() {
            "" => true,
            "*" => account.is_some(),
            scope => account.is_some_and(|a| a.has_scope(scope)),
        }
    }
}

/// Why a call was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// A rule denies it.
    Denied {
        /// The deciding rule's id.
        rule: String,
    },
    /// No rule grants it to this caller (deny by default).
    NoRule,
}

/// Whether `account` (`None`: an anonymous caller) may call `resource` under `rules`.
///
/// ```
/// use micro::auth::{Access, Account, Refusal, Resource, Rule, verify};
///
/// let rule = |id: &str, scope: &str, endpoint: &str, access, priority| Rule {
///     id: id.into(),
///     scope: scope.into(),
///     resource: Resource::endpoint("greeter", endpoint),
///     access,
///     priority,
/// };
/// let rules = [
///     rule("public", "", "Greeter.Hello", Access::Granted, 0),
///     rule("admins", "admin", "Greeter.*", Access::Granted, 0),
///     rule("no-drop", "*", "Greeter.Drop", Access::Denied, 10),
/// ];
/// let admin = Account::new("ada", ["admin"]);
/// let hello = Resource::endpoint("greeter", "Greeter.Hello");
/// let drop = Resource::endpoint("greeter", "Greeter.Drop");
/// assert!(verify(&rules, None, &hello).is_ok());
/// assert!(verify(&rules, Some(&admin), &Resource::endpoint("greeter", "Greeter.Stats")).is_ok());
/// assert_eq!(verify(&rules, Some(&admin), &drop), Err(Refusal::Denied { rule: "no-drop".into() }));
/// assert_eq!(verify(&rules, None, &drop), Err(Refusal::NoRule));
/// ```
pub fn verify(
    rules: &[Rule],
    account: Option<&Account>,
    resource: &Resource,
) -> Result<(), Refusal> {
    verify_endpoint(
        rules,
        account,
        &resource.kind,
        &resource.name,
        &resource.endpoint,
    )
}

/// [`verify`] without building a [`Resource`]: what servers run on every call.
pub(crate) fn verify_endpoint(
    rules: &[Rule],
    account: Option<&Account>,
    kind: &str,
    name: &str,
    endpoint: &str,
) -> Result<(), Refusal> {
    // The applicable covering rule of highest priority, the first listed among equals (what
    // a stable sort by priority, then the first that applies, finds), in one pass.
    let mut decider: Option<&Rule> = None;
    for rule in rules {
        if decider.is_some_and(|d| d.priority >= rule.priority) {
            continue;
        }
        if rule.resource.covers(kind, name, endpoint) && rule.applies_to(account) {
            decider = Some(rule);
        }
    }
    match decider {
        Some(rule) if rule.access == Access::Granted => Ok(()),
        Some(rule) => Err(Refusal::Denied {
            rule: rule.id.clone(),
        }),
        None => Err(Refusal::NoRule),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(id: &str, scope: &str, endpoint: &str, access: Access, priority: i32) -> Rule {
        Rule {
            id: id.into(),
            scope: scope.into(),
            resource: Resource::endpoint("greeter", endpoint),
            access,
            priority,
        }
    }

    use Access::{Denied, Granted};

    /// The rule matrix: (rules, caller's scopes or anonymous, endpoint, decision).
    #[test]
    fn the_rule_matrix() {
        let ok = Ok(());
        let no_rule = Err(Refusal::NoRule);
        let denied = |id: &str| Err(Refusal::Denied { rule: id.into() });
        #[allow(clippy::type_complexity)]
        let cases: Vec<(&str, Vec<Rule>, Option<&[&str]>, &str, Result<(), Refusal>)> = vec![
            (
                "no rules: forbidden",
                vec![],
                Some(&["admin"]),
                "Greeter.Hello",
                no_rule.clone(),
            ),
            (
                "no rules, anonymous",
                vec![],
                None,
                "Greeter.Hello",
                no_rule.clone(),
            ),
            (
                "public: anonymous",
                vec![rule("p", "", "Greeter.Hello", Granted, 0)],
                None,
                "Greeter.Hello",
                ok.clone(),
            ),
            (
                "public: signed in",
                vec![rule("p", "", "Greeter.Hello", Granted, 0)],
                Some(&[]),
                "Greeter.Hello",
                ok.clone(),
            ),
            (
                "public rule covers one endpoint only",
                vec![rule("p", "", "Greeter.Hello", Granted, 0)],
                None,
                "Greeter.Bye",
                no_rule.clone(),
            ),
            (
                "any account: anonymous refused",
                vec![rule("a", "*", "*", Granted, 0)],
                None,
                "Greeter.Hello",
                no_rule.clone(),
            ),
            (
                "any account: one with no scopes",
                vec![rule("a", "*", "*", Granted, 0)],
                Some(&[]),
                "Greeter.Hello",
                ok.clone(),
            ),
            (
                "scope held",
                vec![rule("s", "admin", "*", Granted, 0)],
                Some(&["reader", "admin"]),
                "Greeter.Hello",
                ok.clone(),
            ),
            (
                "scope missing",
                vec![rule("s", "admin", "*", Granted, 0)],
                Some(&["reader"]),
                "Greeter.Hello",
                no_rule.clone(),
            ),
            (
                "scope: anonymous",
                vec![rule("s", "admin", "*", Granted, 0)],
                None,
                "Greeter.Hello",
                no_rule.clone(),
            ),
            (
                "deny over grant by priority",
                vec![
                    rule("g", "*", "*", Granted, 0),
                    rule("d", "*", "Greeter.Drop", Denied, 10),
                ],
                Some(&[]),
                "Greeter.Drop",
                denied("d"),
            ),
            (
                "grant over deny by priority",
                vec![
                    rule("d", "*", "*", Denied, 0),
                    rule("g", "admin", "Greeter.Drop", Granted, 10),
                ],
                Some(&["admin"]),
                "Greeter.Drop",
                ok.clone(),
            ),
            (
                "higher deny skipped when its scope is not held",
                vec![
                    rule("g", "*", "*", Granted, 0),
                    rule("d", "intern", "*", Denied, 10),
                ],
                Some(&["staff"]),
                "Greeter.Hello",
                ok.clone(),
            ),
            (
                "equal priority: the first listed decides",
                vec![
                    rule("d", "*", "*", Denied, 5),
                    rule("g", "*", "*", Granted, 5),
                ],
                Some(&[]),
                "Greeter.Hello",
                denied("d"),
            ),
            (
                "public deny refuses everyone",
                vec![
                    rule("g", "*", "*", Granted, 0),
                    rule("d", "", "Greeter.Drop", Denied, 1),
                ],
                Some(&["admin"]),
                "Greeter.Drop",
                denied("d"),
            ),
            (
                "wildcard endpoint prefix",
                vec![rule("w", "*", "Greeter.*", Granted, 0)],
                Some(&[]),
                "Greeter.Stats",
                ok.clone(),
            ),
            (
                "wildcard prefix does not cover another service's endpoint",
                vec![rule("w", "*", "Greeter.*", Granted, 0)],
                Some(&[]),
                "Billing.Pay",
                no_rule.clone(),
            ),
            (
                "path-style prefix",
                vec![rule("w", "", "/admin/*", Denied, 0)],
                None,
                "/admin/users",
                denied("w"),
            ),
            (
                "endpoint case variants match",
                vec![
                    rule("d", "*", "greeter.drop", Denied, 1),
                    rule("g", "*", "*", Granted, 0),
                ],
                Some(&[]),
                "Greeter.Drop",
                denied("d"),
            ),
        ];
        for (name, rules, scopes, endpoint, want) in cases {
            let account = scopes.map(|s| Account::new("caller", s.iter().copied()));
            let got = verify(
                &rules,
                account.as_ref(),
                &Resource::endpoint("greeter", endpoint),
            );
            assert_eq!(got, want, "{name}");
        }
    }

    #[test]
    fn a_rule_for_another_service_does_not_apply() {
        let mut r = rule("g", "*", "*", Granted, 0);
        r.resource.name = "billing".into();
        let account = Account::new("caller", ["admin"]);
        assert_eq!(
            verify(
                &[r],
                Some(&account),
                &Resource::endpoint("greeter", "Greeter.Hello")
            ),
            Err(Refusal::NoRule)
        );
    }

    #[test]
    fn the_default_rule_admits_accounts_only() {
        let rules = [Rule::default_rule()];
        let hello = Resource::endpoint("greeter", "Greeter.Hello");
        assert!(verify(&rules, Some(&Account::new("a", [] as [&str; 0])), &hello).is_ok());
        assert_eq!(verify(&rules, None, &hello), Err(Refusal::NoRule));
    }

    #[test]
    fn rules_read_as_go_micro_writes_them() {
        let json = r#"{"id":"r","scope":"*","resource":{"type":"service","name":"greeter","endpoint":"*"},"access":"granted","priority":1}"#;
        let rule: Rule = serde_json::from_str(json).unwrap();
        assert_eq!(rule.access, Granted);
        assert_eq!(serde_json::to_string(&rule).unwrap(), json);
    }
}
