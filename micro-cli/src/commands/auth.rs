//! `micro auth`, `micro login`, `micro logout`: keys, accounts, rules and tokens, in the
//! store every service of the fleet reads them from.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use micro::auth::{Access, Account, Auth as _, Directory, Jwt, Resource, Rule, Token};
use micro::client::CallWrapper;
use micro::options::Settings;

use crate::cli::{AccessArg, AuthArgs, AuthWhat, CreateWhat, Global, Kind, Output, TokenArgs};
use crate::commands::CliError;
use crate::output;

/// The file `micro login` keeps its token in, under MICRO_HOME.
const TOKEN_FILE: &str = "token";

pub(crate) async fn exec(global: &Global, args: AuthArgs) -> Result<(), CliError> {
    let settings = super::options(global)?;
    match args.what {
        AuthWhat::Keys { dir } => keys(&settings, dir),
        AuthWhat::Create { what } => create(global, &directory(&settings)?, what).await,
        AuthWhat::List { what } => list(global, &directory(&settings)?, what).await,
        AuthWhat::Delete { what, id } => {
            let directory = directory(&settings)?;
            let existed = match what {
                Kind::Account => directory.delete_account(&id).await,
                Kind::Rule => directory.revoke(&id).await,
            }
            .map_err(store_error)?;
            let kind = if what == Kind::Account {
                "account"
            } else {
                "rule"
            };
            if !existed && what == Kind::Rule && id == "default" {
                return Err(CliError::usage(
                    "the default rule is not stored: it applies while no rule was ever stored",
                    Some("create a rule first (the default is stored along with it), then delete default".into()),
                ));
            }
            if !existed {
                return Err(CliError::usage(
                    format!("there is no {kind} {id:?}"),
                    Some(format!("`micro auth list {kind}s` lists them")),
                ));
            }
            output::print(&format!("deleted {kind} {id}"));
            Ok(())
        }
        AuthWhat::Token(args) => {
            let token = issue(&settings, &args).await?;
            if global.output == Output::Json {
                output::print(&json(&token)?);
            } else {
                output::print(&token.access_token);
            }
            Ok(())
        }
    }
}

/// `micro login`: issue a token and keep it for later commands.
pub(crate) async fn login(global: &Global, args: TokenArgs) -> Result<(), CliError> {
    let settings = super::options(global)?;
    let token = issue(&settings, &args).await?;
    let path = token_path(&settings)?;
    write_private(&path, json(&token)?.as_bytes())?;
    let who = args.id.as_deref().unwrap_or("the refresh token's account");
    output::print(&format!(
        "signed in as {who} until {} (token in {})",
        when(token.expiry),
        path.display()
    ));
    Ok(())
}

/// `micro logout`.
pub(crate) fn logout(global: &Global) -> Result<(), CliError> {
    let path = token_path(&super::options(global)?)?;
    match std::fs::remove_file(&path) {
        Ok(()) => output::print("signed out"),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => output::print("not signed in"),
        Err(e) => {
            return Err(CliError::internal(format!(
                "cannot remove {}: {e}",
                path.display()
            )));
        }
    }
    Ok(())
}

/// The wrapper that sends the token of `MICRO_AUTH_TOKEN` or `micro login` with every call
/// the CLI makes (unless the call sets `authorization` itself).
pub(crate) fn token_wrapper(settings: &Settings) -> Option<CallWrapper> {
    let token = match &settings.auth.token {
        Some(token) => token.clone(),
        None => saved_token(settings)?,
    };
    let value: Arc<str> = micro::auth::bearer_value(&token).into();
    Some(CallWrapper::new(move |mut req, next| {
        let explicit = req.options().metadata.get("authorization").is_some()
            || req.context().metadata().get("authorization").is_some();
        if !explicit {
            req.context_mut()
                .metadata_mut()
                .insert("authorization", value.to_string());
        }
        next.call(req)
    }))
}

/// The gate of `MICRO_AUTH=jwt`: tokens and the stored rules, with the task that keeps the
/// rules current (keep it while serving); `None` with auth off.
pub(crate) async fn gate(
    settings: &Settings,
) -> Result<Option<(Arc<micro::auth::Gate>, micro::auth::Following)>, CliError> {
    let Some(jwt) = settings
        .auth
        .jwt()
        .map_err(|e| CliError::usage(e.detail(), None))?
    else {
        return Ok(None);
    };
    let directory = directory(settings)?;
    micro::auth::Gate::load(jwt, directory)
        .await
        .map(Some)
        .map_err(|e| CliError::usage(e.detail(), None))
}

/// The access token `micro login` kept, if any.
pub(crate) fn saved_token(settings: &Settings) -> Option<String> {
    let path = token_path(settings).ok()?;
    let text = std::fs::read(path).ok()?;
    Some(serde_json::from_slice::<Token>(&text).ok()?.access_token)
}

fn token_path(settings: &Settings) -> Result<PathBuf, CliError> {
    Ok(settings
        .home_dir()
        .map_err(|e| CliError::usage(e.detail(), None))?
        .join(TOKEN_FILE))
}

pub(crate) fn directory(settings: &Settings) -> Result<Directory, CliError> {
    let store = settings.store("micro").map_err(|e| {
        CliError::usage(
            e.detail(),
            Some(
                "MICRO_STORE and MICRO_STORE_ADDRESS choose the store; use the services' own"
                    .into(),
            ),
        )
    })?;
    Directory::new(store.engine().clone()).map_err(|e| CliError::internal(e.detail()))
}

fn store_error(e: micro::Error) -> CliError {
    let hint = match e.code() {
        409 | 400 => None,
        _ => Some("is the store reachable? MICRO_STORE and MICRO_STORE_ADDRESS choose it".into()),
    };
    let mut err = CliError::usage(e.detail(), hint);
    if e.code() >= 500 {
        err.exit_code = 1;
    }
    err
}

fn json<T: serde::Serialize>(value: &T) -> Result<String, CliError> {
    serde_json::to_string_pretty(value).map_err(|e| CliError::internal(e.to_string()))
}

/// The engine that issues tokens: MICRO_AUTH_PRIVATE_KEY is needed.
fn issuer(settings: &Settings) -> Result<Jwt, CliError> {
    let Some(key) = &settings.auth.private_key else {
        return Err(CliError::usage(
            "issuing a token needs MICRO_AUTH_PRIVATE_KEY (the private half of the key services check tokens with)",
            Some(
                "`micro auth keys` writes a pair; point MICRO_AUTH_PRIVATE_KEY at auth.key".into(),
            ),
        ));
    };
    let ns = &settings.auth.namespace;
    Jwt::signing(key, ns, ns).map_err(|e| CliError::usage(e.detail(), None))
}

async fn issue(settings: &Settings, args: &TokenArgs) -> Result<Token, CliError> {
    let jwt = issuer(settings)?;
    let directory = directory(settings)?;
    let account = match (&args.refresh, &args.id, &args.secret) {
        (Some(refresh), _, _) => {
            let claimed = jwt.inspect_refresh(refresh).map_err(|e| {
                CliError::usage(
                    e.detail(),
                    Some("sign in again with --id and --secret".into()),
                )
            })?;
            // The account must still exist: deleting one ends its refreshes.
            directory
                .account(&claimed.id)
                .await
                .map_err(store_error)?
                .ok_or_else(|| {
                    CliError::usage(format!("account {:?} no longer exists", claimed.id), None)
                })?
        }
        (None, Some(id), Some(secret)) => {
            directory.authenticate(id, secret).await.map_err(|e| {
                if e.code() == 401 {
                    CliError::usage(
                        e.detail(),
                        Some("`micro auth list accounts` lists the accounts".into()),
                    )
                } else {
                    store_error(e)
                }
            })?
        }
        _ => {
            return Err(CliError::usage(
                "give --id and --secret, or --refresh",
                None,
            ));
        }
    };
    jwt.issue(&account, args.ttl)
        .map_err(|e| CliError::internal(e.detail()))
}

fn keys(settings: &Settings, dir: Option<PathBuf>) -> Result<(), CliError> {
    let dir = match dir {
        Some(dir) => dir,
        None => settings
            .home_dir()
            .map_err(|e| CliError::usage(e.detail(), None))?
            .join("auth"),
    };
    let (private, public) = (dir.join("auth.key"), dir.join("auth.pub"));
    if private.exists() || public.exists() {
        return Err(CliError::usage(
            format!("{} holds keys already", dir.display()),
            Some("new keys end every token issued with the old ones: delete the files first if that is what you want, or give --dir".into()),
        ));
    }
    std::fs::create_dir_all(&dir)
        .map_err(|e| CliError::internal(format!("cannot create {}: {e}", dir.display())))?;
    let (private_pem, public_pem) =
        micro::auth::generate_ed25519().map_err(|e| CliError::internal(e.detail()))?;
    write_new(&private, private_pem.as_bytes())?;
    std::fs::write(&public, public_pem)
        .map_err(|e| CliError::internal(format!("cannot write {}: {e}", public.display())))?;
    output::print(&format!(
        "private key (issues tokens; keep it secret): {}\npublic key (checks them): {}\n\nservices:   MICRO_AUTH=jwt MICRO_AUTH_PUBLIC_KEY={}\nissuing:    MICRO_AUTH_PRIVATE_KEY={} micro login --id ID --secret SECRET",
        private.display(),
        public.display(),
        public.display(),
        private.display(),
    ));
    Ok(())
}

/// Write a file only its owner may read: a new file beside it, then renamed over it (so an
/// existing file's mode or a symlink in its place does not matter).
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), CliError> {
    let fail =
        |e: std::io::Error| CliError::internal(format!("cannot write {}: {e}", path.display()));
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(fail)?;
    }
    let temp = path.with_extension(format!("tmp{}", std::process::id()));
    let _ = std::fs::remove_file(&temp);
    write_new(&temp, bytes)?;
    std::fs::rename(&temp, path).map_err(|e| {
        let _ = std::fs::remove_file(&temp);
        fail(e)
    })
}

/// Create `path` (which must not exist) readable by its owner only, holding `bytes`.
fn write_new(path: &Path, bytes: &[u8]) -> Result<(), CliError> {
    use std::io::Write as _;
    let fail =
        |e: std::io::Error| CliError::internal(format!("cannot write {}: {e}", path.display()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(fail)?;
    file.write_all(bytes).map_err(fail)
}

async fn create(global: &Global, directory: &Directory, what: CreateWhat) -> Result<(), CliError> {
    match what {
        CreateWhat::Account {
            id,
            secret,
            scopes,
            kind,
            metadata,
        } => {
            let account = Account {
                id: id.clone(),
                kind,
                scopes: scopes.into_iter().filter(|s| !s.is_empty()).collect(),
                metadata: metadata.into_iter().collect(),
                ..Account::default()
            };
            directory
                .create_account(&account, &secret)
                .await
                .map_err(store_error)?;
            if global.output == Output::Json {
                output::print(&json(&account)?);
            } else {
                output::print(&format!(
                    "created account {id} ({}) with scopes [{}]",
                    account.kind,
                    account.scopes.join(", ")
                ));
            }
        }
        CreateWhat::Rule {
            id,
            scope,
            resource,
            access,
            priority,
        } => {
            let parts: Vec<&str> = resource.splitn(3, ':').collect();
            let [kind, name, endpoint] = parts[..] else {
                return Err(CliError::usage(
                    format!("resource {resource:?} is not TYPE:NAME:ENDPOINT"),
                    Some(
                        "e.g. service:greeter:Greeter.Hello, service:greeter:*, or service:*:*"
                            .into(),
                    ),
                ));
            };
            let rule = Rule {
                id: id.clone(),
                scope,
                resource: Resource {
                    kind: kind.into(),
                    name: name.into(),
                    endpoint: endpoint.into(),
                },
                access: match access {
                    AccessArg::Granted => Access::Granted,
                    AccessArg::Denied => Access::Denied,
                },
                priority,
            };
            let seeded = directory.grant(&rule).await.map_err(store_error)?;
            if global.output == Output::Json {
                output::print(&json(&rule)?);
            } else {
                output::print(&format!("created rule {id}: {}", describe(&rule)));
                if seeded {
                    output::print(
                        "also stored the default rule (any signed-in account may call anything), which applied while no rule was stored; `micro auth delete rule default` to deny by default",
                    );
                }
            }
        }
    }
    Ok(())
}

fn describe(rule: &Rule) -> String {
    let who = match rule.scope.as_str() {
        "" => "anyone".to_owned(),
        "*" => "any account".to_owned(),
        scope => format!("scope {scope}"),
    };
    let r = &rule.resource;
    format!(
        "{} {who} {}:{}:{} (priority {})",
        if rule.access == Access::Granted {
            "grants"
        } else {
            "denies"
        },
        r.kind,
        r.name,
        r.endpoint,
        rule.priority
    )
}

async fn list(global: &Global, directory: &Directory, what: Kind) -> Result<(), CliError> {
    match what {
        Kind::Account => {
            let accounts = directory.accounts().await.map_err(store_error)?;
            if global.output == Output::Json {
                output::print(&json(&accounts)?);
                return Ok(());
            }
            if accounts.is_empty() {
                output::print("no accounts: `micro auth create account ID --secret ...` makes one");
                return Ok(());
            }
            let rows: Vec<Vec<String>> = accounts
                .iter()
                .map(|a| vec![a.id.clone(), a.kind.clone(), a.scopes.join(",")])
                .collect();
            output::print(&output::table(&["ID", "TYPE", "SCOPES"], &rows));
        }
        Kind::Rule => {
            let stored = directory.rules().await.map_err(store_error)?;
            let rules = directory.effective_rules().await.map_err(store_error)?;
            if global.output == Output::Json {
                output::print(&json(&rules)?);
                return Ok(());
            }
            let rows: Vec<Vec<String>> = rules
                .iter()
                .map(|r| {
                    vec![
                        r.id.clone(),
                        match r.scope.as_str() {
                            "" => "(anyone)".to_owned(),
                            s => s.to_owned(),
                        },
                        format!(
                            "{}:{}:{}",
                            r.resource.kind, r.resource.name, r.resource.endpoint
                        ),
                        if r.access == Access::Granted {
                            "granted"
                        } else {
                            "denied"
                        }
                        .to_owned(),
                        r.priority.to_string(),
                    ]
                })
                .collect();
            let mut text = output::table(&["ID", "SCOPE", "RESOURCE", "ACCESS", "PRIORITY"], &rows);
            if stored.is_empty() && rules.is_empty() {
                text.push_str("(no rule stored: every call needing one is refused)\n");
            } else if stored.is_empty() {
                text.push_str("(no rule stored yet: the default applies)\n");
            }
            output::print(&text);
        }
    }
    Ok(())
}

/// A time as UTC `YYYY-MM-DD HH:MM`.
fn when(secs: u64) -> String {
    match time::OffsetDateTime::from_unix_timestamp(i64::try_from(secs).unwrap_or(i64::MAX)) {
        Ok(t) => format!("{} {:02}:{:02} UTC", t.date(), t.hour(), t.minute()),
        Err(_) => format!("{secs} (seconds since 1970)"),
    }
}
