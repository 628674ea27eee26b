//! The hello-world service, declared as a Rust trait: `#[micro::service]` generates
//! `HelloWorldClient` and `HelloWorldServer`; the endpoints are `HelloWorld.Call`,
//! `HelloWorld.Visit` (a counter kept in the service's store) and `HelloWorld.Stream`. Messages are `#[micro::message]` types (serde and JSON on the wire);
//! their fields reach the registry, where `micro describe` and the gateway read them.

#[cfg(feature = "server")]
use micro::store::Store;
use micro::stream::StreamSender;
use micro::{Context, Result};

/// The name the service registers as.
pub const SERVICE: &str = "hello-world";

/// The most responses one `Stream` call sends.
pub const MAX_STREAM: i64 = 10_000;

/// A greeting request.
#[micro::message]
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Request {
    /// Who to greet.
    pub name: String,
}

/// A greeting.
#[micro::message]
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Response {
    /// The greeting.
    pub msg: String,
}

/// How many visits a name has made.
#[micro::message]
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Visits {
    /// Who visited.
    pub name: String,
    /// Visits so far, this one included.
    pub count: i64,
}

/// How many responses to stream.
#[micro::message]
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StreamRequest {
    /// The number of responses.
    pub count: i64,
}

/// One streamed response.
#[micro::message]
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StreamResponse {
    /// Its position, from 1.
    pub count: i64,
}

/// The hello-world service.
#[micro::service]
pub trait HelloWorld {
    /// Answers with a greeting. Safe to retry.
    #[micro(idempotent)]
    async fn call(&self, ctx: Context, req: Request) -> Result<Response>;

    /// Counts a visit of `name` in the service's store (`MICRO_STORE`: a file under
    /// `~/.micro/store` by default) and answers with the total. Not idempotent: a retry
    /// would count twice, so the client never retries it on its own.
    async fn visit(&self, ctx: Context, req: Request) -> Result<Visits>;

    /// Sends `count` responses.
    async fn stream(
        &self,
        ctx: Context,
        req: StreamRequest,
        responses: StreamSender<StreamResponse>,
    ) -> Result<()>;
}

/// Implements the service (feature `server`, on by default: a project that only calls this
/// service leaves it out).
#[cfg(feature = "server")]
#[derive(Clone, Debug)]
pub struct Handler {
    store: Store,
}

#[cfg(feature = "server")]
impl Handler {
    /// A handler keeping its counters in `store` (the service's: `service.store()`).
    pub fn new(store: Store) -> Handler {
        Handler { store }
    }
}

#[cfg(feature = "server")]
impl HelloWorld for Handler {
    async fn call(&self, _ctx: Context, req: Request) -> Result<Response> {
        Ok(Response {
            msg: format!("Hello {}", req.name),
        })
    }

    async fn visit(&self, _ctx: Context, req: Request) -> Result<Visits> {
        if req.name.is_empty() {
            return Err(micro::error::bad_request("name is empty"));
        }
        // A compare-and-set loop: two instances counting at once lose no visit.
        let count = self
            .store
            .update(&format!("visits/{}", req.name), |n: Option<i64>| {
                n.unwrap_or(0) + 1
            })
            .await?;
        Ok(Visits {
            name: req.name,
            count,
        })
    }

    async fn stream(
        &self,
        _ctx: Context,
        req: StreamRequest,
        responses: StreamSender<StreamResponse>,
    ) -> Result<()> {
        if !(0..=MAX_STREAM).contains(&req.count) {
            return Err(micro::error::bad_request(format!(
                "count must be between 0 and {MAX_STREAM}"
            )));
        }
        for count in 1..=req.count {
            responses.send(&StreamResponse { count }).await?;
        }
        Ok(())
    }
}

#[cfg(all(test, feature = "server"))]
mod tests {
    use super::*;

    fn handler() -> Handler {
        let store = Store::new(micro::store::MemoryStore::new(), SERVICE, SERVICE).unwrap();
        Handler::new(store)
    }

    #[tokio::test]
    async fn call_greets() {
        let response = handler()
            .call(Context::new(), Request { name: "John".into() })
            .await
            .unwrap();
        assert_eq!(response.msg, "Hello John");
    }

    #[tokio::test]
    async fn stream_counts() {
        let (tx, mut rx) = micro::stream::serde_channel(8);
        let sent = tokio::spawn(async move {
            handler()
                .stream(Context::new(), StreamRequest { count: 2 }, tx)
                .await
        });
        let mut counts = Vec::new();
        while let Some(response) = rx.recv().await.unwrap() {
            counts.push(response.count);
        }
        sent.await.unwrap().unwrap();
        assert_eq!(counts, [1, 2]);
    }

    #[tokio::test]
    async fn visits_are_counted_per_name() {
        let handler = handler();
        let visit = |name: &str| handler.visit(Context::new(), Request { name: name.into() });
        assert_eq!(visit("John").await.unwrap().count, 1);
        assert_eq!(visit("John").await.unwrap().count, 2);
        assert_eq!(visit("Jane").await.unwrap().count, 1);
        assert!(visit("").await.is_err());
    }
}
