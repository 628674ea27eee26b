//! One module per command; [`fn@run`] dispatches.

mod api;
mod auth;
mod bot;
mod broker;
mod call;
mod cert;
mod config;
mod decode;
mod describe;
mod dynamic;
mod gen_stubs;
mod health;
mod mcp;
mod new;
mod proxy;
mod publish;
mod register;
mod registry;
mod run;
mod server;
mod services;
mod shape;
mod store;
mod stream;
mod subscribe;
mod topic;
mod web;

use micro::Client;
use micro::options::Settings;

pub(crate) use crate::error::CliError;

use crate::cli::{Cli, Command, GetWhat, Global, ListWhat, RegisterWhat};

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
    // The token `micro login` kept goes with what the engines send (the service engines of
    // micro server), unless MICRO_AUTH_TOKEN names one.
    if options.auth.token.is_none() {
        options.auth.token = auth::saved_token(&options);
    }
    Ok(options)
}

/// The options, with the store engine flags of `micro store` and `micro config` over them.
fn store_options(
    global: &Global,
    engine: &crate::cli::StoreEngineArgs,
) -> Result<Settings, CliError> {
    let mut settings = options(global)?;
    if let Some(store) = &engine.store {
        settings
            .apply_args(["--store", store])
            .map_err(|e| CliError::usage(e.detail(), None))?;
    }
    if let Some(address) = &engine.store_address {
        settings.store_address = Some(address.clone());
    }
    Ok(settings)
}

/// The broker the options name (for `publish` and `subscribe`), and the registry.
fn broker(
    global: &Global,
) -> Result<(micro::broker::SharedBroker, micro::registry::SharedRegistry), CliError> {
    let options = options(global)?;
    let registry = options
        .registry()
        .map_err(|e| CliError::usage(e.detail(), None))?;
    let broker = options
        .broker(&registry)
        .map_err(|e| CliError::usage(e.detail(), None))?;
    Ok((broker, registry))
}

/// A client on the settings' engines, sending no token of its own (the gateway's).
fn plain_client(global: &Global) -> Result<Client, CliError> {
    Client::from_settings(&options(global)?).map_err(|e| CliError::usage(e.detail(), None))
}

/// The client commands call with: the settings' engines, and the token of
/// `MICRO_AUTH_TOKEN` or `micro login` on every call.
fn client(global: &Global) -> Result<Client, CliError> {
    let settings = options(global)?;
    let client = Client::from_settings(&settings).map_err(|e| CliError::usage(e.detail(), None))?;
    Ok(match auth::token_wrapper(&settings) {
        Some(wrapper) => client.wrap(wrapper),
        None => client,
    })
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
        Command::Registry { what } => registry::exec(global, &client(global)?, what).await,
        Command::Register {
            what: RegisterWhat::Service { json },
        } => register::exec(global, json, true).await,
        Command::Deregister {
            what: RegisterWhat::Service { json },
        } => register::exec(global, json, false).await,
        Command::Gen(args) => gen_stubs::exec(global, args),
        Command::Api(args) => api::exec(global, args).await,
        Command::Web(args) => web::exec(global, args).await,
        Command::Mcp(args) => mcp::exec(global, args).await,
        Command::Bot(args) => bot::exec(global, args).await,
        Command::Proxy(args) => proxy::exec(global, args).await,
        Command::Store(args) => store::exec(global, args).await,
        Command::Run(args) => run::exec(global, args).await,
        Command::Server(args) => server::exec(global, args).await,
        Command::Status => run::status(global),
        Command::Logs(args) => run::logs(global, &args).await,
        Command::Stop(args) => run::stop(global, &args).await,
        Command::Broker => broker::exec(global).await,
        Command::Cert(args) => cert::exec(global, args),
        Command::Auth(args) => auth::exec(global, args).await,
        Command::Login(args) => auth::login(global, args).await,
        Command::Logout => auth::logout(global),
        Command::Config(args) => config::exec(global, args).await,
        Command::Completion { shell } => {
            let mut cmd = <crate::cli::Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut cmd, "micro", &mut std::io::stdout());
            Ok(())
        }
        Command::Dynamic(args) => dynamic::exec(global, &client(global)?, args).await,
        Command::Publish(args) => {
            let (broker, registry) = broker(global)?;
            publish::exec(global, broker, &registry, args).await
        }
        Command::Subscribe(args) => {
            let (broker, _) = broker(global)?;
            subscribe::exec(global, broker, client(global)?, args).await
        }
    }
}
