//! [`CliError`]: what failed, what to do about it, and the exit code.

use micro::Error;

/// A failure with the exit code it maps to and a hint of what to do.
#[derive(Debug)]
pub(crate) struct CliError {
    pub(crate) message: String,
    pub(crate) hint: Option<String>,
    pub(crate) exit_code: u8,
}

impl CliError {
    /// Bad input from the user: exit code 2.
    pub(crate) fn usage(message: impl Into<String>, hint: Option<String>) -> CliError {
        CliError {
            message: message.into(),
            hint,
            exit_code: 2,
        }
    }

    /// Something failed on our side: exit code 1.
    pub(crate) fn internal(message: impl Into<String>) -> CliError {
        CliError {
            message: message.into(),
            hint: None,
            exit_code: 1,
        }
    }

    /// A call or the registry failed: exit code 1, with a hint by error code.
    pub(crate) fn remote(err: &Error, service: &str) -> CliError {
        let hint = match err.code() {
            404 if err.detail().starts_with("service ") => Some(format!(
                "`micro services` lists what is registered; is {service} running with the same registry (MICRO_REGISTRY, MICRO_HOME)?"
            )),
            501 => Some(format!("`micro describe {service}` lists its endpoints")),
            400 => Some(format!(
                "`micro describe {service}` shows the request fields"
            )),
            408 => Some("the call ran out of time; raise it with --timeout".to_owned()),
            503 => Some(format!(
                "no node of {service} could be reached; `micro health {service}` checks each node"
            )),
            _ => None,
        };
        CliError {
            message: format!("{} ({} {})", err.detail(), err.code(), err.status()),
            hint,
            exit_code: 1,
        }
    }
}

impl CliError {
    /// The broker failed: exit code 1, with a hint.
    pub(crate) fn broker(err: &Error) -> CliError {
        let hint = match err.code() {
            400 => None,
            503 => Some(
                "is the broker reachable? MICRO_BROKER and MICRO_BROKER_ADDRESS (or --broker, --broker_address) choose it".to_owned(),
            ),
            _ => None,
        };
        CliError {
            message: format!("{} ({} {})", err.detail(), err.code(), err.status()),
            hint,
            exit_code: if err.code() == 400 { 2 } else { 1 },
        }
    }
}
