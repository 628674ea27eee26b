//! Handles the events published on `{{ topic }}`: `micro publish {{ topic }} '{"id":"1","message":"hi"}'`.

use micro::{Context, Result};

use crate::pb::Event;

/// Called once per event; an error has the event delivered again later.
pub async fn handle(_ctx: Context, event: Event) -> Result<()> {
    micro::tracing::info!(id = %event.id, message = %event.message, "received an event");
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
}
