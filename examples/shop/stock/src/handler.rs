//! Ships placed orders: an idempotent subscriber (an order delivered twice ships once) that
//! announces each shipment.

use std::sync::{Arc, Mutex};

use micro::broker::Publisher;
use micro::{Context, Result, error};

use crate::{OrderPlaced, ShipmentsRequest, ShipmentsResponse, Stock, StockShipped};

/// Implements the service and the `orders.placed` subscriber; clones share their state.
#[derive(Clone, Debug)]
pub struct Handler {
    shipped: Publisher<StockShipped>,
    orders: Arc<Mutex<Vec<String>>>,
}

impl Handler {
    /// A handler announcing shipments with `shipped`.
    pub fn new(shipped: Publisher<StockShipped>) -> Handler {
        Handler {
            shipped,
            orders: Arc::default(),
        }
    }

    /// Ship `order` (once, however often it is delivered) and announce it.
    pub async fn on_placed(&self, _ctx: Context, order: OrderPlaced) -> Result<()> {
        if order.order_id.is_empty() || order.qty <= 0 {
            return Err(error::bad_request(format!("not an order: {order:?}")));
        }
        let first = {
            let mut orders = self.orders.lock().unwrap_or_else(|e| e.into_inner());
            let first = !orders.contains(&order.order_id);
            if first {
                orders.push(order.order_id.clone());
            }
            first
        };
        if first {
            micro::tracing::info!(order = %order.order_id, sku = %order.sku, qty = order.qty, "shipping");
        }
        // Announced again on a redelivery: the announcement is idempotent too.
        self.shipped
            .publish(&StockShipped {
                shipment_id: format!("shp-{}", order.order_id),
                order_id: order.order_id,
            })
            .await
    }
}

impl Stock for Handler {
    async fn shipments(&self, _ctx: Context, _req: ShipmentsRequest) -> Result<ShipmentsResponse> {
        Ok(ShipmentsResponse {
            node: std::process::id().to_string(),
            order_ids: self
                .orders
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use micro::broker::{Broker, Event, MemoryBroker, SubscribeOptions, handler};
    use micro::codec::Codec;

    use super::*;

    #[tokio::test]
    async fn an_order_ships_once_and_every_delivery_is_announced() {
        let broker = Arc::new(MemoryBroker::new());
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let _sub = broker
            .subscribe(
                crate::SHIPPED,
                handler(move |event: Event| {
                    let _ = tx.send(event.message().body.clone());
                    async { Ok(()) }
                }),
                SubscribeOptions::broadcast(),
            )
            .await
            .unwrap();
        let h = Handler::new(Publisher::with_codec(
            broker,
            crate::SHIPPED,
            Codec::serde(),
        ));
        let order = OrderPlaced {
            order_id: "o-1".into(),
            sku: "pen".into(),
            qty: 2,
            reservation_id: "r-1".into(),
        };
        h.on_placed(Context::new(), order.clone()).await.unwrap();
        h.on_placed(Context::new(), order).await.unwrap();
        let shipped = h
            .shipments(Context::new(), ShipmentsRequest {})
            .await
            .unwrap();
        assert_eq!(shipped.order_ids, ["o-1"]);
        for _ in 0..2 {
            let body = rx.recv().await.unwrap();
            assert_eq!(&body[..], br#"{"orderId":"o-1","shipmentId":"shp-o-1"}"#);
        }
    }

    #[test]
    fn reads_the_json_a_protobuf_publisher_writes() {
        let order = Codec::<OrderPlaced>::serde()
            .decode(
                micro::Format::Json,
                micro::codegen::Bytes::from_static(
                    br#"{"orderId":"o-9","sku":"book","qty":"3","reservationId":"r-2"}"#,
                ),
            )
            .unwrap();
        assert_eq!(order.order_id, "o-9");
        assert_eq!(order.qty, 3);
    }
}
