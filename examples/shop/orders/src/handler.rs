//! The Orders endpoint: one call to another service and one event, both carrying the
//! caller's deadline and metadata without passing the context by hand.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use inventory::pb::ReserveRequest;
use inventory::pb::inventory_client::InventoryClient;
use micro::broker::Publisher;
use micro::{Context, Result};

use crate::pb::orders_server::Orders;
use crate::pb::{OrderPlaced, PlaceRequest, PlaceResponse};

/// Implements the `Orders` service with the service's own client and broker.
#[derive(Clone, Debug)]
pub struct Handler {
    inventory: InventoryClient,
    placed: Publisher<OrderPlaced>,
    next: Arc<AtomicU64>,
}

impl Handler {
    /// A handler calling inventory through `inventory` and announcing orders with `placed`
    /// (both made from the service: `service.client()`, `service.publisher(..)`).
    pub fn new(inventory: InventoryClient, placed: Publisher<OrderPlaced>) -> Handler {
        Handler {
            inventory,
            placed,
            next: Arc::new(AtomicU64::new(0)),
        }
    }
}

impl Orders for Handler {
    async fn place(&self, _ctx: Context, request: PlaceRequest) -> Result<PlaceResponse> {
        // The shortest call: the handler's context (deadline, metadata) goes along. If
        // inventory cannot be reached, this handler answers 503 naming it; if inventory
        // answers an error (unknown sku: 404), that error is this handler's answer.
        let reservation = self
            .inventory
            .reserve(ReserveRequest {
                sku: request.sku.clone(),
                qty: request.qty,
            })
            .await?;
        let n = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        let order_id = format!("ord-{}-{n}", std::process::id());
        // JSON by default: the stock service's serde type reads it.
        self.placed
            .publish(&OrderPlaced {
                order_id: order_id.clone(),
                sku: request.sku,
                qty: request.qty,
                reservation_id: reservation.reservation_id.clone(),
            })
            .await?;
        Ok(PlaceResponse {
            order_id,
            reservation_id: reservation.reservation_id,
            total_cents: reservation.total_cents,
            request_id: reservation.request_id,
            inventory_budget_ms: reservation.budget_ms,
        })
    }
}
