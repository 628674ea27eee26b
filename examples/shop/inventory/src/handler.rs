//! The Inventory endpoints and the `stock.shipped` subscriber.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use micro::{Context, Result, error};

use crate::pb::inventory_server::Inventory;
use crate::pb::{ReserveRequest, ReserveResponse, ShipmentRequest, ShipmentResponse, StockShipped};

/// The catalog: SKUs and their unit prices in cents.
pub const CATALOG: &[(&str, i64)] = &[("book", 1_250), ("pen", 199), ("lamp", 3_900)];

/// The most units one order may reserve.
pub const MAX_QTY: i64 = 100;

/// Implements the `Inventory` service; clones share their state.
#[derive(Clone, Debug, Default)]
pub struct Handler {
    reservations: Arc<AtomicU64>,
    /// Order id → shipment id, from `stock.shipped` (every node hears every shipment).
    shipped: Arc<Mutex<HashMap<String, String>>>,
}

impl Handler {
    /// Record a shipment announced on `stock.shipped`. Hearing one twice changes nothing.
    pub async fn on_shipped(&self, _ctx: Context, event: StockShipped) -> Result<()> {
        if event.order_id.is_empty() {
            return Err(error::bad_request("a shipment needs an order id"));
        }
        self.shipped
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(event.order_id, event.shipment_id);
        Ok(())
    }
}

impl Inventory for Handler {
    async fn reserve(&self, ctx: Context, request: ReserveRequest) -> Result<ReserveResponse> {
        let Some((_, price)) = CATALOG.iter().find(|(sku, _)| *sku == request.sku) else {
            return Err(error::not_found(format!("no sku {:?}", request.sku)));
        };
        if !(1..=MAX_QTY).contains(&request.qty) {
            return Err(error::bad_request(format!(
                "qty must be between 1 and {MAX_QTY}, not {}",
                request.qty
            )));
        }
        let n = self.reservations.fetch_add(1, Ordering::Relaxed) + 1;
        Ok(ReserveResponse {
            reservation_id: format!("rsv-{}-{n}", std::process::id()),
            total_cents: price * request.qty,
            request_id: ctx
                .metadata()
                .get("x-request-id")
                .unwrap_or_default()
                .to_owned(),
            budget_ms: ctx.remaining().map_or(-1, |left| {
                i64::try_from(left.as_millis()).unwrap_or(i64::MAX)
            }),
        })
    }

    async fn shipment(&self, _ctx: Context, request: ShipmentRequest) -> Result<ShipmentResponse> {
        let shipped = self.shipped.lock().unwrap_or_else(|e| e.into_inner());
        Ok(match shipped.get(&request.order_id) {
            Some(id) => ShipmentResponse {
                shipped: true,
                shipment_id: id.clone(),
            },
            None => ShipmentResponse::default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn reserves_known_skus_with_the_callers_metadata() {
        let ctx = Context::new()
            .with_timeout(Duration::from_secs(5))
            .with_metadata("x-request-id", "r-1");
        let rsp = Handler::default()
            .reserve(
                ctx,
                ReserveRequest {
                    sku: "pen".into(),
                    qty: 3,
                },
            )
            .await
            .unwrap();
        assert_eq!(rsp.total_cents, 597);
        assert_eq!(rsp.request_id, "r-1");
        assert!((1..=5_000).contains(&rsp.budget_ms), "{}", rsp.budget_ms);
    }

    #[tokio::test]
    async fn refuses_unknown_skus_and_bad_quantities() {
        let h = Handler::default();
        let err = h
            .reserve(
                Context::new(),
                ReserveRequest {
                    sku: "car".into(),
                    qty: 1,
                },
            )
            .await
            .unwrap_err();
        assert_eq!(err.code(), 404);
        let err = h
            .reserve(
                Context::new(),
                ReserveRequest {
                    sku: "pen".into(),
                    qty: 0,
                },
            )
            .await
            .unwrap_err();
        assert_eq!(err.code(), 400);
    }

    #[tokio::test]
    async fn shipments_are_remembered_once() {
        let h = Handler::default();
        let event = StockShipped {
            order_id: "o-1".into(),
            shipment_id: "s-1".into(),
        };
        h.on_shipped(Context::new(), event.clone()).await.unwrap();
        h.on_shipped(Context::new(), event).await.unwrap();
        let rsp = h
            .shipment(
                Context::new(),
                ShipmentRequest {
                    order_id: "o-1".into(),
                },
            )
            .await
            .unwrap();
        assert!(rsp.shipped);
        assert_eq!(rsp.shipment_id, "s-1");
    }
}
