//! Dapr's pub/sub: `POST /v1.0/publish/{pubsub}/{topic}` publishes a CloudEvent on micro's
//! broker; the app's `GET /dapr/subscribe` names the topics the sidecar delivers to it, each
//! event as a CloudEvent `POST` to the app's route, redelivered on failure and
//! dead-lettered after the last attempt.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::{IntoResponse as _, Response};
use axum::routing::post;
use http::{HeaderMap, Method, StatusCode, header};
use micro::broker::{Envelope, SubscribeOptions};
use serde::Deserialize;

use crate::Sidecar;
use crate::cloudevents::{self, CONTENT_TYPE};
use crate::options::App;
use crate::reply::dapr;

pub(crate) fn routes() -> Router<Sidecar> {
    Router::new().route("/v1.0/publish/{pubsub}/{*topic}", post(publish))
}

async fn publish(
    State(sidecar): State<Sidecar>,
    Path((pubsub, topic)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(rsp) = sidecar.pubsub(&pubsub) {
        return *rsp;
    }
    if let Err(e) = micro::broker::validate_topic(&topic) {
        return dapr(
            StatusCode::BAD_REQUEST,
            "ERR_TOPIC_NAME_INVALID",
            e.detail(),
        );
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let source = sidecar
        .options()
        .app
        .as_ref()
        .map_or(crate::SERVICE_NAME, |a| a.name.as_str());
    let route = cloudevents::Route {
        pubsub: &pubsub,
        topic: &topic,
        source,
    };
    let event = match cloudevents::wrap(&body, content_type, &route, None) {
        Ok(event) => event,
        Err(why) => return dapr(StatusCode::BAD_REQUEST, "ERR_PUBSUB_CLOUD_EVENTS_SER", why),
    };
    let mut message = Envelope::new(event.to_string())
        .with_header(micro::broker::HEADER_CONTENT_TYPE, CONTENT_TYPE);
    if let Some(id) = event.get("id").and_then(|v| v.as_str()) {
        message = message.with_header(micro::broker::HEADER_ID, id);
    }
    match sidecar.inner.broker.publish(&topic, message).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => crate::reply::dapr_call(&e, "ERR_PUBSUB_PUBLISH_MESSAGE"),
    }
}

impl Sidecar {
    /// Whether `name` is one of the sidecar's pub/subs.
    fn pubsub(&self, name: &str) -> Result<(), Box<Response>> {
        let names = &self.options().pubsubs;
        if names.iter().any(|n| n == name) {
            return Ok(());
        }
        let known: Vec<&str> = names.iter().map(String::as_str).collect();
        Err(crate::reply::refuse_dapr(
            StatusCode::NOT_FOUND,
            "ERR_PUBSUB_NOT_FOUND",
            format!(
                "pubsub {name} is not found; this sidecar has {}",
                crate::list(&known)
            ),
        ))
    }
}

/// One topic the app subscribes to.
#[derive(Clone, Debug)]
pub(crate) struct AppSubscription {
    pub(crate) pubsub: String,
    pub(crate) topic: String,
    pub(crate) route: String,
    pub(crate) dead_letter: Option<String>,
}

/// An entry of the app's `GET /dapr/subscribe` answer (Dapr's v1 `route` or v2 `routes`).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Wanted {
    pubsubname: String,
    topic: String,
    #[serde(default)]
    route: Option<String>,
    #[serde(default)]
    routes: Option<Routes>,
    #[serde(default)]
    dead_letter_topic: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Routes {
    #[serde(default)]
    default: Option<String>,
    #[serde(default)]
    rules: Vec<Rule>,
}

#[derive(Debug, Deserialize)]
struct Rule {
    #[serde(default, rename = "match")]
    when: String,
    path: String,
}

/// Ask the app which topics it wants and subscribe to them (once; an app that is not up yet
/// is asked again at the next health check).
pub(crate) async fn load(sidecar: &Sidecar, app: &App) {
    let timeout = std::time::Duration::from_secs(5);
    let reply = match sidecar
        .app_request(
            &app.address,
            Method::GET,
            "/dapr/subscribe",
            None,
            Bytes::new(),
            timeout,
        )
        .await
    {
        Ok(reply) => reply,
        Err(e) => {
            tracing::debug!(app = %app.name, error = %e, "cannot ask the app for its subscriptions yet");
            return;
        }
    };
    let wanted: Vec<Wanted> = if reply.status == StatusCode::NOT_FOUND {
        Vec::new()
    } else if !reply.status.is_success() {
        tracing::warn!(app = %app.name, status = %reply.status, "GET /dapr/subscribe failed; asking again");
        return;
    } else {
        match serde_json::from_slice(&reply.body) {
            Ok(w) => w,
            Err(e) => {
                tracing::warn!(app = %app.name, error = %e, "GET /dapr/subscribe answered something other than a list of subscriptions; none taken");
                Vec::new()
            }
        }
    };
    let mut subs = Vec::new();
    let mut running = Vec::new();
    for want in wanted {
        let Some(sub) = subscription(sidecar, app, want) else {
            continue;
        };
        let mut options = SubscribeOptions::queue(app.name.clone())
            .max_deliver(sidecar.options().max_deliver)
            .retry_backoff(sidecar.options().retry_backoff);
        if let Some(topic) = &sub.dead_letter {
            options = options.dead_letter(topic.clone());
        }
        let handler = deliverer(sidecar.clone(), app.clone(), sub.clone());
        match sidecar
            .inner
            .broker
            .subscribe(&sub.topic, handler, options)
            .await
        {
            Ok(s) => {
                tracing::info!(app = %app.name, topic = %sub.topic, route = %sub.route, "subscribed for the app");
                running.push(s);
                subs.push(sub);
            }
            Err(e) => {
                tracing::warn!(app = %app.name, topic = %sub.topic, error = %e, "cannot subscribe for the app")
            }
        }
    }
    sidecar.keep_subscriptions(subs, running).await;
}

/// Check one wanted subscription; `None` (and a warning) when it cannot be served.
fn subscription(sidecar: &Sidecar, app: &App, want: Wanted) -> Option<AppSubscription> {
    if sidecar.pubsub(&want.pubsubname).is_err() {
        tracing::warn!(app = %app.name, pubsub = %want.pubsubname, "the app subscribes on a pubsub this sidecar does not have");
        return None;
    }
    if let Err(e) = micro::broker::validate_topic(&want.topic) {
        tracing::warn!(app = %app.name, error = %e, "the app subscribes to an invalid topic");
        return None;
    }
    let routes = want.routes.as_ref();
    if routes.is_some_and(|r| r.rules.iter().any(|rule| !rule.when.is_empty())) {
        tracing::warn!(app = %app.name, topic = %want.topic, "routing rules with match expressions are not supported; events go to the default route");
    }
    let route = want
        .route
        .or_else(|| routes.and_then(|r| r.default.clone()))
        .or_else(|| {
            routes.and_then(|r| {
                r.rules
                    .iter()
                    .find(|rule| rule.when.is_empty())
                    .map(|rule| rule.path.clone())
            })
        })
        .unwrap_or_else(|| want.topic.clone());
    let route = if route.starts_with('/') {
        route
    } else {
        format!("/{route}")
    };
    Some(AppSubscription {
        pubsub: want.pubsubname,
        topic: want.topic,
        route,
        dead_letter: want.dead_letter_topic,
    })
}

/// The broker handler of one app subscription: POST the event; 2xx acknowledges (unless the
/// app answers `{"status":"RETRY"}`), `{"status":"DROP"}` or 404 drops it, anything else
/// (or no answer) has it delivered again.
fn deliverer(sidecar: Sidecar, app: App, sub: AppSubscription) -> micro::broker::Handler {
    micro::broker::handler(move |event| {
        let (sidecar, app, sub) = (sidecar.clone(), app.clone(), sub.clone());
        async move {
            let route = cloudevents::Route {
                pubsub: &sub.pubsub,
                topic: event.topic(),
                source: crate::SERVICE_NAME,
            };
            let body = match cloudevents::of_message(event.message(), &route) {
                Ok(body) => body,
                Err(why) => {
                    event.reject(&why).await?;
                    return Ok(());
                }
            };
            let reply = sidecar
                .app_request(
                    &app.address,
                    Method::POST,
                    &sub.route,
                    Some(CONTENT_TYPE),
                    Bytes::from(body.to_string()),
                    sidecar.options().call_timeout,
                )
                .await?;
            let status = serde_json::from_slice::<serde_json::Value>(&reply.body)
                .ok()
                .and_then(|v| {
                    v.get("status")
                        .and_then(|s| s.as_str())
                        .map(str::to_ascii_uppercase)
                });
            match (reply.status, status.as_deref()) {
                (s, Some("RETRY")) if s.is_success() => {
                    Err(retry(&app, &sub, "the app asked to retry"))
                }
                (s, Some("DROP")) if s.is_success() => {
                    tracing::warn!(app = %app.name, topic = %sub.topic, id = event.message().id().unwrap_or_default(), "the app dropped an event");
                    Ok(())
                }
                (s, _) if s.is_success() => Ok(()),
                (StatusCode::NOT_FOUND, _) => {
                    tracing::warn!(app = %app.name, route = %sub.route, "the app has no route for its subscription; event dropped");
                    Ok(())
                }
                (s, _) => Err(retry(&app, &sub, &format!("the app answered {s}"))),
            }
        }
    })
}

fn retry(app: &App, sub: &AppSubscription, why: &str) -> micro::Error {
    micro::Error::unavailable(
        crate::SERVICE_NAME,
        format!("delivery to {} {} failed: {why}", app.name, sub.route),
    )
}
