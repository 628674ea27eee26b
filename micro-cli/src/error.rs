//! [`CliError`]: what failed, what to do about it, and the exit code.

use micro::Error;

/// The error id of registry failures.
const REGISTRY_ID: &str = "micro.registry";

/// What chooses the registry.
const REGISTRY_HINT: &str = "MICRO_REGISTRY and MICRO_REGISTRY_ADDRESS (or --registry, --registry_address) choose the registry";

/// A failure with the exit code it maps to and a hint of what to do.
#[derive(Debug)]
pub(crate) struct CliError {
    pub(crate) message: String,
    pub(crate) hint: Option<String>,
    pub(crate) exit_code: u8,
    /// The error a service, the registry or the broker returned, printed as go-micro's error
    /// JSON with `--output json`.
    pub(crate) error: Option<Error>,
}

impl CliError {
    /// Bad input from the user: exit code 2.
    pub(crate) fn usage(message: impl Into<String>, hint: Option<String>) -> CliError {
        CliError {
            message: message.into(),
            hint,
            exit_code: 2,
            error: None,
        }
    }

    /// Something failed on our side: exit code 1.
    pub(crate) fn internal(message: impl Into<String>) -> CliError {
        CliError {
            message: message.into(),
            hint: None,
            exit_code: 1,
            error: None,
        }
    }

    /// A call to `service` failed: exit code 1. Tells apart "could not reach it" (the client
    /// produced the error: no node registered, none answered, out of time) from "it answered
    /// with an error" (including its own failure to reach a service it depends on).
    pub(crate) fn remote(err: &Error, service: &str) -> CliError {
        let status = format!("({} {})", err.code(), err.status());
        let (message, hint) = if err.dependency().is_some() {
            let hint = match err.code() {
                _ if err.id() == REGISTRY_ID => {
                    format!("the registry could not be asked where {service} runs; {REGISTRY_HINT}")
                }
                404 => format!(
                    "`micro services` lists what is registered; is {service} running with the same registry (MICRO_REGISTRY, MICRO_HOME)?"
                ),
                408 => "no answer before the deadline; raise it with --timeout".to_owned(),
                _ => format!(
                    "no node of {service} could be reached; `micro health {service}` checks each node"
                ),
            };
            let message = if err.code() == 404 {
                format!("{service} is not registered {status}")
            } else {
                format!("could not reach {service}: {} {status}", err.detail())
            };
            (message, Some(hint))
        } else {
            let hint = match err.code() {
                501 => Some(format!("`micro describe {service}` lists its endpoints")),
                400 => Some(format!(
                    "`micro describe {service}` shows the request fields"
                )),
                408 => Some(format!(
                    "{service} ran out of time (or a service it called did); raise the deadline with --timeout"
                )),
                503 => Some(format!(
                    "{service} is up, but could not do the work: a service it depends on is unavailable"
                )),
                401 => Some(
                    "sign in with `micro login --id ID --secret SECRET` (or set MICRO_AUTH_TOKEN)"
                        .to_owned(),
                ),
                403 => Some(
                    "`micro auth list rules` shows what each scope is granted; `micro auth create rule` grants more"
                        .to_owned(),
                ),
                _ => None,
            };
            let who = if err.id().is_empty() || err.id() == service {
                service.to_owned()
            } else {
                format!("{service} ({})", err.id())
            };
            (
                format!("{who} returned an error: {} {status}", err.detail()),
                hint,
            )
        };
        CliError {
            message,
            hint,
            exit_code: 1,
            error: Some(err.clone()),
        }
    }

    /// Looking `service` up in the registry failed: exit code 1.
    pub(crate) fn lookup(err: &Error, service: &str) -> CliError {
        if err.code() != 404 {
            return CliError::registry(err);
        }
        CliError {
            message: format!(
                "{service} is not registered ({} {})",
                err.code(),
                err.status()
            ),
            hint: Some(format!(
                "`micro services` lists what is registered; is {service} running with the same registry (MICRO_REGISTRY, MICRO_HOME)?"
            )),
            exit_code: 1,
            error: Some(err.clone()),
        }
    }

    /// The registry failed (not a call): exit code 1.
    pub(crate) fn registry(err: &Error) -> CliError {
        CliError {
            message: format!("{} ({} {})", err.detail(), err.code(), err.status()),
            hint: Some(REGISTRY_HINT.to_owned()),
            exit_code: 1,
            error: Some(err.clone()),
        }
    }

    /// The broker failed: exit code 1, with a hint.
    pub(crate) fn broker(err: &Error) -> CliError {
        let hint = match err.code() {
            503 => Some(
                "is the broker reachable? MICRO_BROKER and MICRO_BROKER_ADDRESS (or --broker, --broker_address) choose it".to_owned(),
            ),
            _ => None,
        };
        CliError {
            message: format!("{} ({} {})", err.detail(), err.code(), err.status()),
            hint,
            exit_code: if err.code() == 400 { 2 } else { 1 },
            error: Some(err.clone()),
        }
    }

    /// go-micro's error JSON for `--output json`: the remote error as it came, or one with
    /// id `micro.cli` for the CLI's own failures (400 for usage, 500 otherwise).
    pub(crate) fn to_json(&self) -> String {
        match &self.error {
            Some(err) => err.to_json(),
            None => {
                let code = if self.exit_code == 2 { 400 } else { 500 };
                Error::new("micro.cli", self.message.clone(), code).to_json()
            }
        }
    }
}
