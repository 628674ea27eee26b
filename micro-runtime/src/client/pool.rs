//! One live connection per transport and node address, reused by every call.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, RwLock};

use crate::error::{Error, Result};
use crate::transport::{Connection, Connector};

/// The connections of one transport.
struct Slots {
    connector: Arc<dyn Connector>,
    conns: RwLock<HashMap<String, Arc<dyn Connection>>>,
    /// One dial per address at a time: callers that arrive meanwhile wait for it.
    dialing: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

/// Connections by transport and node address.
pub(crate) struct Pool {
    transports: Vec<Slots>,
}

impl fmt::Debug for Pool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.transports.iter().map(|s| s.connector.name()).collect();
        f.debug_struct("Pool").field("transports", &names).finish()
    }
}

impl Pool {
    /// A pool over these connectors (one per transport name).
    pub(crate) fn new(connectors: Vec<Arc<dyn Connector>>) -> Pool {
        Pool {
            transports: connectors
                .into_iter()
                .map(|connector| Slots {
                    connector,
                    conns: RwLock::new(HashMap::new()),
                    dialing: Mutex::new(HashMap::new()),
                })
                .collect(),
        }
    }

    fn slots(&self, transport: &str) -> Result<&Slots> {
        self.transports
            .iter()
            .find(|s| s.connector.name() == transport)
            .ok_or_else(|| {
                let known: Vec<&str> = self.transports.iter().map(|s| s.connector.name()).collect();
                Error::unsent(
                    "call to",
                    transport,
                    format!(
                        "this client has no {transport:?} transport (it has {})",
                        known.join(", ")
                    ),
                )
            })
    }

    /// A live connection of `transport` to `addr`, dialing one if needed.
    pub(crate) async fn get(&self, transport: &str, addr: &str) -> Result<Arc<dyn Connection>> {
        let slots = self.slots(transport)?;
        if let Some(conn) = slots.cached(addr) {
            return Ok(conn);
        }
        let lock = {
            let mut dialing = slots.dialing.lock().unwrap_or_else(|e| e.into_inner());
            dialing.entry(addr.to_owned()).or_default().clone()
        };
        let dialed = {
            let _guard = lock.lock().await;
            match slots.cached(addr) {
                Some(conn) => Ok(conn),
                None => slots.connector.connect(addr).await.inspect(|conn| {
                    let mut conns = slots.conns.write().unwrap_or_else(|e| e.into_inner());
                    // Connections that closed (nodes that went away) go with each new one.
                    conns.retain(|_, c| !c.is_closed());
                    conns.insert(addr.to_owned(), conn.clone());
                }),
            }
        };
        // The last caller through forgets the address's dial lock.
        let mut dialing = slots.dialing.lock().unwrap_or_else(|e| e.into_inner());
        if Arc::strong_count(&lock) == 2 {
            dialing.remove(addr);
        }
        dialed
    }

    /// Forget `conn` (it closed): the next call to `addr` dials again.
    pub(crate) fn evict(&self, transport: &str, addr: &str, conn: &Arc<dyn Connection>) {
        let Ok(slots) = self.slots(transport) else {
            return;
        };
        let mut conns = slots.conns.write().unwrap_or_else(|e| e.into_inner());
        if conns.get(addr).is_some_and(|c| Arc::ptr_eq(c, conn)) {
            conns.remove(addr);
        }
    }
}

impl Slots {
    fn cached(&self, addr: &str) -> Option<Arc<dyn Connection>> {
        let conns = self.conns.read().unwrap_or_else(|e| e.into_inner());
        conns.get(addr).filter(|c| !c.is_closed()).cloned()
    }
}
