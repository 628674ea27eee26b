//! One module per command; [`run`] dispatches.

mod call;
mod describe;
mod dynamic;
mod gen_stubs;
mod health;
mod new;
mod publish;
mod register;
mod services;
mod stream;
mod subscribe;

use micro::options::Settings;
use micro::{Client, Error};

use crate::cli::{Cli, Command, GetWhat, Global, ListWhat, RegisterWhat};

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

/// The options the global flags and the environment give.
pub(crate) fn options(global: &Global) -> Result<Settings, CliError> {
    let mut options = Settings::from_env().map_err(|e| {
        CliError::usage(e.detail(), Some("fix or unset the MICRO_* variable".into()))
    })?;
    if let Some(registry) = &global.registry {
        options
            .apply_args(["--registry", registry])
            .map_err(|e| CliError::usage(e.detail(), None))?;
    }
    if let Some(address) = &global.registry_address {
        options.registry_address = Some(address.clone());
    }
    if let Some(home) = &global.home {
        options.home = home.clone();
    }
    if let Some(broker) = &global.broker {
        options
            .apply_args(["--broker", broker])
            .map_err(|e| CliError::usage(e.detail(), None))?;
    }
    if let Some(address) = &global.broker_address {
        options.broker_address = Some(address.clone());
    }
    Ok(options)
}

/// The broker the options name (for `publish` and `subscribe`).
fn broker(global: &Global) -> Result<micro::broker::SharedBroker, CliError> {
    let options = options(global)?;
    let registry = options
        .registry()
        .map_err(|e| CliError::usage(e.detail(), None))?;
    options
        .broker(&registry)
        .map_err(|e| CliError::usage(e.detail(), None))
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

fn client(global: &Global) -> Result<Client, CliError> {
    Client::from_settings(&options(global)?).map_err(|e| CliError::usage(e.detail(), None))
}

/// Run the parsed command line.
pub(crate) async fn run(cli: Cli) -> Result<(), CliError> {
    let global = &cli.global;
    match cli.command {
        Command::Services
        | Command::List {
            what: ListWhat::Services,
        } => services::exec(global, &client(global)?).await,
        Command::Describe(args)
        | Command::Get {
            what: GetWhat::Service(args),
        } => describe::exec(global, &client(global)?, &args).await,
        Command::Call(args) => call::exec(global, &client(global)?, args).await,
        Command::Health(args) => health::exec(global, &client(global)?, &args).await,
        Command::New(args) => new::exec(global, args).await,
        Command::Stream(args) => stream::exec(global, &client(global)?, args).await,
        Command::Register {
            what: RegisterWhat::Service { json },
        } => register::exec(global, json, true).await,
        Command::Deregister {
            what: RegisterWhat::Service { json },
        } => register::exec(global, json, false).await,
        Command::Gen(args) => gen_stubs::exec(global, args),
        Command::Completion { shell } => {
            let mut cmd = <crate::cli::Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut cmd, "micro", &mut std::io::stdout());
            Ok(())
        }
        Command::Dynamic(args) => dynamic::exec(global, &client(global)?, args).await,
        Command::Publish(args) => publish::exec(global, broker(global)?, args).await,
        Command::Subscribe(args) => subscribe::exec(global, broker(global)?, args).await,
    }
}
