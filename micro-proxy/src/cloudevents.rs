//! CloudEvents 1.0 in their JSON form (`application/cloudevents+json`): what Dapr's publish
//! API sends and what apps receive.

use std::time::SystemTime;

use base64::Engine as _;
use micro::broker::Envelope;
use serde_json::{Map, Value, json};

/// The content type of a structured CloudEvent.
pub(crate) const CONTENT_TYPE: &str = "application/cloudevents+json";

/// The attributes every event must carry.
const REQUIRED: [&str; 4] = ["specversion", "id", "source", "type"];

/// Where an event is going and from whom.
pub(crate) struct Route<'a> {
    pub(crate) pubsub: &'a str,
    pub(crate) topic: &'a str,
    pub(crate) source: &'a str,
}

/// `body` of `content_type` as a CloudEvent: an event given whole is checked and completed;
/// anything else becomes its `data` (JSON as JSON, text as a string, other bytes as
/// `data_base64`).
pub(crate) fn wrap(
    body: &[u8],
    content_type: Option<&str>,
    route: &Route<'_>,
    id: Option<&str>,
) -> Result<Value, String> {
    let media = content_type
        .and_then(|ct| ct.split(';').next())
        .map(|ct| ct.trim().to_ascii_lowercase());
    if media.as_deref() == Some(CONTENT_TYPE) {
        let mut event: Map<String, Value> = serde_json::from_slice(body)
            .map_err(|e| format!("the body is not a CloudEvent in JSON: {e}"))?;
        for attr in REQUIRED {
            if attr == "id" && !event.contains_key("id") {
                event.insert("id".into(), new_id(id).into());
            } else if !event.get(attr).is_some_and(Value::is_string) {
                return Err(format!(
                    "the CloudEvent has no {attr:?} attribute (a string)"
                ));
            }
        }
        if event.get("specversion").and_then(Value::as_str) != Some("1.0") {
            return Err("the CloudEvent's specversion must be \"1.0\"".into());
        }
        event.entry("topic").or_insert_with(|| route.topic.into());
        event
            .entry("pubsubname")
            .or_insert_with(|| route.pubsub.into());
        return Ok(Value::Object(event));
    }
    let media = media.unwrap_or_else(|| "application/json".into());
    let mut event = json!({
        "specversion": "1.0",
        "id": new_id(id),
        "source": route.source,
        "type": "com.dapr.event.sent",
        "datacontenttype": media,
        "topic": route.topic,
        "pubsubname": route.pubsub,
        "time": rfc3339(SystemTime::now()),
    });
    let data = if media.ends_with("json") {
        serde_json::from_slice::<Value>(body).ok()
    } else if media.starts_with("text/") {
        std::str::from_utf8(body).ok().map(Value::from)
    } else {
        None
    };
    match data {
        Some(data) => event["data"] = data,
        None if body.is_empty() => {}
        None => {
            event["data_base64"] = base64::engine::general_purpose::STANDARD
                .encode(body)
                .into();
        }
    }
    Ok(event)
}

/// A broker message as the CloudEvent the app receives: events published as CloudEvents
/// arrive as they were; other messages (from micro publishers) are wrapped.
pub(crate) fn of_message(message: &Envelope, route: &Route<'_>) -> Result<Value, String> {
    wrap(&message.body, message.content_type(), route, message.id())
}

fn new_id(given: Option<&str>) -> String {
    given.map_or_else(micro::broker::new_message_id, str::to_owned)
}

/// `t` as an RFC 3339 UTC timestamp with seconds.
fn rfc3339(t: SystemTime) -> String {
    let secs = t
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROUTE: Route<'static> = Route {
        pubsub: "pubsub",
        topic: "orders",
        source: "shop",
    };

    #[test]
    fn json_bodies_become_data_and_events_pass_whole() {
        let e = wrap(br#"{"n":1}"#, Some("application/json"), &ROUTE, Some("x")).unwrap();
        assert_eq!(e["data"]["n"], 1);
        assert_eq!(e["id"], "x");
        assert_eq!(e["specversion"], "1.0");
        assert_eq!(e["topic"], "orders");
        let text = wrap(b"hi", Some("text/plain"), &ROUTE, None).unwrap();
        assert_eq!(text["data"], "hi");
        let bin = wrap(&[0, 159], Some("application/octet-stream"), &ROUTE, None).unwrap();
        assert_eq!(bin["data_base64"], "AJ8=");
        let whole = br#"{"specversion":"1.0","id":"1","source":"s","type":"t","data":5}"#;
        let e = wrap(whole, Some(CONTENT_TYPE), &ROUTE, None).unwrap();
        assert_eq!((e["id"].as_str(), e["data"].as_i64()), (Some("1"), Some(5)));
        let missing = br#"{"specversion":"1.0","id":"1","source":"s"}"#;
        let err = wrap(missing, Some(CONTENT_TYPE), &ROUTE, None).unwrap_err();
        assert!(err.contains("\"type\""), "{err}");
    }

    #[test]
    fn timestamps_are_rfc3339() {
        let t = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000);
        assert_eq!(rfc3339(t), "2023-11-14T22:13:20Z");
    }
}
