//! The pub/sub example: `orders.placed` events, generated from `proto/orders.proto`.
//!
//! - `pubsub-subscriber` runs the `shipping` service, subscribed to [`TOPIC`]. Start two:
//!   they share the orders (each order is shipped once), because a service's subscribers
//!   form a queue group named after the service.
//! - `pubsub-publisher` publishes orders from the `shop` service.
//! - `micro subscribe orders.placed` watches the topic without taking orders away from
//!   shipping (a broadcast subscription), and `micro publish orders.placed '{...}'` places
//!   one by hand.
//!
//! Everything runs on the defaults: the `http` broker (no broker server; subscribers are
//! found through the local registry). `MICRO_BROKER=nats` or `jetstream` moves the same
//! binaries onto NATS.

/// The generated code for package `orders`.
pub mod pb {
    micro::include_proto!("orders");
}

pub use pb::OrderPlaced;

/// The topic orders are published on.
pub const TOPIC: &str = "orders.placed";

/// The subscribing service.
pub const SHIPPING: &str = "shipping";

/// What the shipping service does with an order (here: describe it).
pub fn ship(order: &OrderPlaced) -> micro::Result<String> {
    if order.quantity <= 0 {
        return Err(micro::Error::bad_request(
            SHIPPING,
            format!("order {} has quantity {}", order.id, order.quantity),
        ));
    }
    Ok(format!(
        "shipped {} ({} x {})",
        order.id, order.quantity, order.item
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ships_orders_with_a_quantity() {
        let order = OrderPlaced {
            id: "order-1".into(),
            item: "book".into(),
            quantity: 2,
        };
        assert_eq!(ship(&order).unwrap(), "shipped order-1 (2 x book)");
        let empty = OrderPlaced {
            quantity: 0,
            ..order
        };
        assert_eq!(ship(&empty).unwrap_err().code(), 400);
    }
}
