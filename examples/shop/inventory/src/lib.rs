//! The shop's inventory service, from `proto/inventory.proto`: reserves stock for orders and
//! keeps a view of what has shipped.
//!
//! The `server` feature (default) holds the handlers; `orders` depends on this crate with
//! `default-features = false` and gets [`pb::inventory_client::InventoryClient`] and the
//! messages alone.

#[cfg(feature = "server")]
pub mod handler;

/// The code generated from `proto/inventory.proto` by `build.rs`.
pub mod pb {
    micro::include_proto!("shop.inventory");
}

/// The name the service registers as.
pub const SERVICE: &str = "inventory";

/// The topic the stock service announces shipments on.
pub const SHIPPED: &str = "stock.shipped";
