//! {{ name }}: a function that handles the events published on `{{ topic }}`.
//!
//! Its instances share the events: each event is handled once, by one of them.

use micro::{Context, Result, error};

/// The code generated from `proto/{{ snake }}.proto` by `build.rs`.
pub mod pb {
    micro::include_proto!("{{ package }}");
}

pub use pb::Event;

/// The name the function registers as.
pub const SERVICE: &str = "{{ service_name }}";

/// The topic it handles.
pub const TOPIC: &str = "{{ topic }}";

/// Called once per event; an error has the event delivered again later.
pub async fn handle(_ctx: Context, event: Event) -> Result<()> {
    if event.id.is_empty() {
        return Err(error::bad_request("an event needs an id"));
    }
    micro::tracing::info!(id = %event.id, message = %event.message, "handled an event");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn events_are_handled() {
        let event = Event {
            id: "1".into(),
            message: "hi".into(),
        };
        handle(Context::new(), event).await.unwrap();
    }

    #[tokio::test]
    async fn an_event_without_an_id_fails() {
        let err = handle(Context::new(), Event::default()).await.unwrap_err();
        assert_eq!(err.code(), 400);
    }
}
