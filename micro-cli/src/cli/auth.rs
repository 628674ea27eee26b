//! The arguments of `micro auth`, `micro login` and `micro logout`.

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};

/// `micro auth`.
#[derive(Debug, Args)]
pub(crate) struct AuthArgs {
    #[command(subcommand)]
    pub(crate) what: AuthWhat,
}

/// What `micro auth` does.
#[derive(Debug, Subcommand)]
pub(crate) enum AuthWhat {
    /// Write a key pair for tokens: auth.key (issues them; keep it secret) and auth.pub
    /// (checks them).
    Keys {
        /// Directory for the files (default MICRO_HOME/auth, ~/.micro/auth).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Create an account or a rule in the store services read them from.
    Create {
        #[command(subcommand)]
        what: CreateWhat,
    },
    /// List the stored accounts or rules.
    List {
        /// accounts or rules.
        #[arg(value_enum)]
        what: Kind,
    },
    /// Delete an account or a rule.
    Delete {
        /// account or rule.
        #[arg(value_enum)]
        what: Kind,
        /// Its id.
        id: String,
    },
    /// Issue a token for an account (needs MICRO_AUTH_PRIVATE_KEY): from its id and
    /// secret, or from a refresh token.
    Token(TokenArgs),
}

/// Accounts or rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum Kind {
    /// Accounts.
    #[value(alias = "accounts")]
    Account,
    /// Rules.
    #[value(alias = "rules")]
    Rule,
}

/// What `micro auth create` makes.
#[derive(Debug, Subcommand)]
pub(crate) enum CreateWhat {
    /// An account: `micro auth create account ada --secret ... --scopes admin,staff`.
    Account {
        /// Its id.
        id: String,
        /// Its secret (8 characters or more), stored hashed.
        #[arg(long, env = "MICRO_AUTH_NEW_SECRET", hide_env_values = true)]
        secret: String,
        /// Scopes it holds, comma-separated.
        #[arg(long, value_delimiter = ',')]
        scopes: Vec<String>,
        /// user or service.
        #[arg(long = "type", default_value = "user")]
        kind: String,
        /// Metadata, KEY=VALUE (repeatable).
        #[arg(long = "metadata", value_parser = super::parse_key_value)]
        metadata: Vec<(String, String)>,
    },
    /// A rule: `micro auth create rule greeter-public --scope '' --resource service:greeter:Greeter.Hello`.
    Rule {
        /// Its id.
        id: String,
        /// The scope a caller needs: '' anyone, '*' any account, else the scope's name.
        #[arg(long, allow_hyphen_values = true)]
        scope: String,
        /// TYPE:NAME:ENDPOINT, each part * for any; an endpoint ending in * matches by prefix.
        #[arg(long, default_value = "service:*:*")]
        resource: String,
        /// granted or denied.
        #[arg(long, value_enum, default_value_t = AccessArg::Granted)]
        access: AccessArg,
        /// Higher decides first.
        #[arg(long, default_value_t = 0, allow_hyphen_values = true)]
        priority: i32,
    },
}

/// Grant or deny.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum AccessArg {
    /// Let the call in.
    Granted,
    /// Refuse it.
    Denied,
}

/// `micro auth token` and `micro login`.
#[derive(Debug, Args)]
pub(crate) struct TokenArgs {
    /// The account's id.
    #[arg(long, env = "MICRO_AUTH_ID", required_unless_present = "refresh")]
    pub(crate) id: Option<String>,
    /// The account's secret.
    #[arg(
        long,
        env = "MICRO_AUTH_SECRET",
        hide_env_values = true,
        required_unless_present = "refresh"
    )]
    pub(crate) secret: Option<String>,
    /// A refresh token to exchange instead (wins over --id and --secret).
    #[arg(long)]
    pub(crate) refresh: Option<String>,
    /// How long the access token lasts (e.g. 15m, 1h, 24h).
    #[arg(long, default_value = "1h", value_parser = super::parse_duration)]
    pub(crate) ttl: std::time::Duration,
}
