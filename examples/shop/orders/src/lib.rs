//! The shop's orders service, from `proto/orders.proto`: `Orders.Place` reserves stock with
//! the inventory service, then announces the order on [`PLACED`].

#[cfg(feature = "server")]
pub mod handler;

/// The code generated from `proto/orders.proto` by `build.rs`.
pub mod pb {
    micro::include_proto!("shop.orders");
}

/// The name the service registers as.
pub const SERVICE: &str = "orders";

/// The topic placed orders are announced on.
pub const PLACED: &str = "orders.placed";
