//! Resiliency policies per target, in configuration: a timeout, retries and the breaker for
//! a service or one of its endpoints, as Dapr's resiliency spec sets them per app
//! (`MICRO_CLIENT_POLICY`).
//!
//! ```text
//! MICRO_CLIENT_POLICY="payments: timeout=2s retries=0; payments/Payments.Refund: timeout=10s breaker=off"
//! ```
//!
//! Targets are separated by `;`: a service name, or `service/Service.Method` for one endpoint
//! (what it sets wins over its service's entry). A call's own options win over both.

use std::time::Duration;

use crate::error::{Error, Result};

/// What a policy sets; `None` leaves the client's default.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Policy {
    /// The deadline of calls to the target.
    pub timeout: Option<Duration>,
    /// Extra attempts for its idempotent calls.
    pub retries: Option<u32>,
    /// The adaptive breaker for it, on or off.
    pub breaker: Option<bool>,
    /// Hedging for its idempotent endpoints: a second node after this long.
    pub hedge: Option<Duration>,
}

/// Policies by target.
///
/// ```
/// use std::time::Duration;
/// use micro::client::Policies;
///
/// let p = Policies::parse("pay: timeout=2s retries=0; pay/Pay.Refund: timeout=10s breaker=off")?;
/// assert_eq!(p.find("pay", "Pay.Charge").unwrap().timeout, Some(Duration::from_secs(2)));
/// let refund = p.find("pay", "Pay.Refund").unwrap();
/// assert_eq!((refund.timeout, refund.retries, refund.breaker), (Some(Duration::from_secs(10)), Some(0), Some(false)));
/// assert!(p.find("orders", "Orders.Get").is_none());
/// # Ok::<(), micro::Error>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Policies {
    /// (service, endpoint or `None` for the whole service, policy).
    targets: Vec<(String, Option<String>, Policy)>,
}

const ID: &str = "micro.config";

impl Policies {
    /// Parse `target: key=value ...; target: ...` (keys `timeout`, `retries`, `breaker`,
    /// `hedge`).
    pub fn parse(text: &str) -> Result<Policies> {
        let bad = |detail: String| Error::bad_request(ID, format!("client_policy: {detail}"));
        let mut targets = Vec::new();
        for part in text.split(';').map(str::trim).filter(|p| !p.is_empty()) {
            let (target, settings) = part
                .split_once(':')
                .ok_or_else(|| bad(format!("{part:?}: write TARGET: key=value ...")))?;
            let target = target.trim();
            let (service, endpoint) = match target.split_once('/') {
                Some((s, e)) => (s.trim(), Some(e.trim().to_owned())),
                None => (target, None),
            };
            if service.is_empty() || endpoint.as_deref() == Some("") {
                return Err(bad(format!("{part:?}: the target is empty")));
            }
            let mut policy = Policy::default();
            for pair in settings.split([' ', ',']).filter(|p| !p.is_empty()) {
                let (key, value) = pair
                    .split_once('=')
                    .ok_or_else(|| bad(format!("{pair:?} in {target}: write key=value")))?;
                match key {
                    "timeout" => {
                        policy.timeout = Some(crate::duration::parse_duration(
                            &format!("client_policy {target} timeout"),
                            value,
                        )?);
                    }
                    "retries" => {
                        policy.retries = Some(value.parse().map_err(|_| {
                            bad(format!("retries={value} in {target}: not a whole number"))
                        })?);
                    }
                    "hedge" => {
                        policy.hedge = Some(crate::duration::parse_duration(
                            &format!("client_policy {target} hedge"),
                            value,
                        )?);
                    }
                    "breaker" => {
                        policy.breaker = Some(match value {
                            "on" => true,
                            "off" => false,
                            _ => {
                                return Err(bad(format!("breaker={value} in {target}: on or off")));
                            }
                        });
                    }
                    other => {
                        return Err(bad(format!(
                            "unknown key {other:?} in {target}: timeout, retries, breaker or hedge"
                        )));
                    }
                }
            }
            targets.push((service.to_owned(), endpoint, policy));
        }
        Ok(Policies { targets })
    }

    /// True when no target has a policy.
    pub fn is_empty(&self) -> bool {
        self.targets.is_empty()
    }

    /// The policy for a call to `endpoint` of `service`: what the endpoint's entry sets,
    /// and the rest from the service's.
    pub fn find(&self, service: &str, endpoint: &str) -> Option<Policy> {
        let (mut whole, mut own) = (None, None);
        for (s, e, policy) in &self.targets {
            if s != service {
                continue;
            }
            match e {
                Some(e) if e == endpoint => own = Some(policy),
                Some(_) => {}
                None => whole = Some(policy),
            }
        }
        match (own, whole) {
            (None, None) => None,
            (Some(p), None) | (None, Some(p)) => Some(p.clone()),
            (Some(own), Some(whole)) => Some(Policy {
                timeout: own.timeout.or(whole.timeout),
                retries: own.retries.or(whole.retries),
                breaker: own.breaker.or(whole.breaker),
                hedge: own.hedge.or(whole.hedge),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_policies_say_what_and_where() {
        for (text, says) in [
            ("pay timeout=2s", "write TARGET"),
            ("pay: timeout", "write key=value"),
            ("pay: retries=many", "not a whole number"),
            ("pay: breaker=maybe", "on or off"),
            ("pay: colour=red", "unknown key \"colour\""),
            ("pay: timeout=soon", "is not a duration"),
            ("/X.Y: retries=1", "the target is empty"),
        ] {
            let err = Policies::parse(text).unwrap_err();
            assert!(err.detail().contains(says), "{text}: {err}");
        }
    }
}
