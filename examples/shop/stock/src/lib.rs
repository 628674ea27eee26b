//! The shop's stock service, a `#[micro::service]` trait with serde types (no `.proto`):
//! it ships every order placed on [`PLACED`] once per queue group and announces it on
//! [`SHIPPED`].
//!
//! Its event types are plain serde structs with snake_case fields. The orders service
//! publishes protobuf messages as JSON (`orderId`, 64-bit numbers as strings), and micro's
//! one JSON rule reads either spelling, so the two sides need no shared code.

use serde::{Deserialize, Serialize};

#[cfg(feature = "server")]
pub mod handler;

/// The name the service registers as.
pub const SERVICE: &str = "stock";

/// The topic orders are placed on (published by `orders`).
pub const PLACED: &str = "orders.placed";

/// The topic shipments are announced on (read by `inventory`).
pub const SHIPPED: &str = "stock.shipped";

/// An order, as `orders` publishes it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct OrderPlaced {
    /// The order.
    pub order_id: String,
    /// What was ordered.
    pub sku: String,
    /// How many.
    pub qty: i64,
    /// The inventory reservation it holds.
    pub reservation_id: String,
}

/// A shipment, as `inventory` reads it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct StockShipped {
    /// The order shipped.
    pub order_id: String,
    /// The shipment.
    pub shipment_id: String,
}

/// Which orders this node shipped.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ShipmentsRequest {}

/// The orders one node shipped.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ShipmentsResponse {
    /// The process that answered.
    pub node: String,
    /// The orders it shipped, oldest first.
    pub order_ids: Vec<String>,
}

/// The stock service.
#[micro::service]
pub trait Stock {
    /// The orders this node shipped (each node ships its share of the queue group).
    #[micro(idempotent)]
    async fn shipments(
        &self,
        ctx: micro::Context,
        req: ShipmentsRequest,
    ) -> micro::Result<ShipmentsResponse>;
}
