//! What a sidecar serves ([`Options`]) and the app it fronts ([`App`]).

use std::time::Duration;

use crate::secrets::SecretStore;

/// What the sidecar serves and on which engines.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Options {
    /// The app the sidecar fronts, if any.
    pub app: Option<App>,
    /// Namespace of go-micro's `/[service]/[method]` paths (default none).
    pub namespace: String,
    /// Dapr state stores: the name in the path and the table of micro's store it uses
    /// (default `statestore` on the table `statestore`).
    pub state_stores: Vec<(String, String)>,
    /// Dapr pub/sub names, all on the sidecar's broker (default `pubsub`).
    pub pubsubs: Vec<String>,
    /// Dapr secret stores (default none).
    pub secret_stores: Vec<SecretStore>,
    /// Deliveries of one event to the app before it is dead-lettered (default 5).
    pub max_deliver: u32,
    /// The first wait before an event is delivered again; it doubles (default 1 s).
    pub retry_backoff: Duration,
    /// Messages a `/broker` websocket subscriber may fall behind before it is disconnected
    /// (default 64).
    pub socket_buffer: usize,
    /// Deadline of calls that set none (default 30 s).
    pub call_timeout: Duration,
    /// Largest request body (default 4 MiB).
    pub max_body: usize,
    /// The sidecar listens on loopback: it answers only requests for a loopback host
    /// (default true; `micro proxy` sets it from the address it binds).
    pub loopback: bool,
    /// A token every request must carry (`dapr-api-token` or `Authorization: Bearer`);
    /// default none.
    pub token: Option<String>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            app: None,
            namespace: String::new(),
            state_stores: vec![("statestore".into(), "statestore".into())],
            pubsubs: vec!["pubsub".into()],
            secret_stores: Vec::new(),
            max_deliver: 5,
            retry_backoff: Duration::from_secs(1),
            socket_buffer: 64,
            call_timeout: Duration::from_secs(30),
            max_body: 4 << 20,
            loopback: true,
            token: None,
        }
    }
}

/// The app a sidecar fronts (go-micro's `--server_name`, `--server_address`,
/// `--healthcheck_url`, `--healthcheck_interval`).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct App {
    /// The service name it registers under (Dapr's app id).
    pub name: String,
    /// Where it serves HTTP: `http://127.0.0.1:5000`.
    pub address: String,
    /// The URL whose 2xx says it is healthy; none: healthy while the sidecar runs.
    pub health_url: Option<String>,
    /// How often the health URL is asked (default 1 s).
    pub health_interval: Duration,
    /// The version it registers with (default `latest`).
    pub version: String,
}

impl App {
    /// An app named `name` serving HTTP at `address` (`host:port` or an `http://` URL).
    pub fn new(name: impl Into<String>, address: &str) -> App {
        let address = if address.starts_with("http://") || address.starts_with("https://") {
            address.trim_end_matches('/').to_owned()
        } else {
            format!("http://{address}")
        };
        App {
            name: name.into(),
            address,
            health_url: None,
            health_interval: Duration::from_secs(1),
            version: "latest".into(),
        }
    }

    /// Ask `url` for the app's health every `interval`.
    #[must_use]
    pub fn health(mut self, url: impl Into<String>, interval: Duration) -> App {
        self.health_url = Some(url.into());
        self.health_interval = interval.max(Duration::from_millis(100));
        self
    }
}
