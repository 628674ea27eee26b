//! Who subscribes to a topic, as the registry tells: for `micro publish` (do they use the
//! same broker?) and `micro subscribe` (which message type do they take?).

use micro::registry::Registry;

/// A registered service subscribing to a topic.
#[derive(Debug)]
pub(crate) struct Subscribing {
    /// The service.
    pub(crate) service: String,
    /// The brokers its nodes advertise (node metadata `broker`).
    pub(crate) brokers: Vec<String>,
    /// The protobuf full name of the message it takes (endpoint metadata `message`).
    pub(crate) message: Option<String>,
}

/// The registered services subscribing to `topic` (none when the registry fails).
pub(crate) async fn subscribers(registry: &dyn Registry, topic: &str) -> Vec<Subscribing> {
    let Ok(services) = registry.list_services().await else {
        return Vec::new();
    };
    let mut names: Vec<String> = services
        .into_iter()
        .map(|s| s.name)
        .filter(|n| n != micro::broker::HTTP_BROKER_SERVICE)
        .collect();
    names.sort();
    names.dedup();
    let mut found = Vec::new();
    for name in names {
        let Ok(records) = registry.get_service(&name).await else {
            continue;
        };
        let endpoint = records
            .iter()
            .flat_map(|r| &r.endpoints)
            .find(|e| e.is_subscriber() && e.metadata.get("topic").is_some_and(|t| t == topic));
        let Some(endpoint) = endpoint else {
            continue;
        };
        let mut brokers: Vec<String> = records
            .iter()
            .flat_map(|r| &r.nodes)
            .filter_map(|n| n.metadata.get("broker").cloned())
            .collect();
        brokers.sort();
        brokers.dedup();
        found.push(Subscribing {
            service: name,
            brokers,
            message: endpoint.metadata.get("message").cloned(),
        });
    }
    found
}
