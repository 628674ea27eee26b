//! The gateway's test service (`proto/shop.proto`), helpers that start it and a gateway on
//! real sockets, and a small HTTP client.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use micro::registry::{MemoryRegistry, SharedRegistry};
use micro::stream::{StreamReceiver, StreamSender};
use micro::{Context, Error, Result, RunningService, Service};
use micro_gateway::{Gateway, Options};

/// The generated code for package `gateway.shop`.
pub mod pb {
    micro::include_proto!("gateway.shop");
}

pub mod users;

use pb::shop_server::{Shop, ShopServer};
use pb::{
    Author, Book, CreateBookRequest, Echo, Empty, GetBookRequest, ListBooksRequest,
    ListBooksResponse, Sleep,
};

/// The totals of every `Shop.Sum` whose requests ended normally, in order.
pub static SUMS: std::sync::Mutex<Vec<i64>> = std::sync::Mutex::new(Vec::new());

/// The registry name of the test service.
pub const SERVICE: &str = "shop";

/// The test service's handler.
#[derive(Debug, Default)]
pub struct ShopHandler;

fn book(name: &str) -> Book {
    Book {
        name: name.to_owned(),
        title: format!("Title of {name}"),
        pages: 300,
        genre: pb::Genre::Novel as i32,
        tags: vec!["a".into()],
        ..Book::default()
    }
}

impl Shop for ShopHandler {
    async fn get_book(&self, _ctx: Context, req: GetBookRequest) -> Result<Book> {
        if req.name.ends_with("/missing") {
            return Err(Error::not_found(
                SERVICE,
                format!("{} does not exist", req.name),
            ));
        }
        let mut b = book(&req.name);
        if req.full {
            b.author = Some(Author {
                first: "Ada".into(),
                last: "Lovelace".into(),
            });
        }
        Ok(b)
    }

    async fn list_books(&self, _ctx: Context, req: ListBooksRequest) -> Result<ListBooksResponse> {
        // Echo the filters back in the book fields, so tests see what arrived.
        let limit = req.limit.clamp(1, 100);
        let books = (0..limit)
            .map(|i| Book {
                name: format!("shelves/{}/books/{i}", req.shelf),
                title: req
                    .author
                    .as_ref()
                    .map(|a| a.first.clone())
                    .unwrap_or_default(),
                pages: req.min_pages,
                genre: req.genre,
                tags: req.tags.clone(),
                ..Book::default()
            })
            .collect();
        Ok(ListBooksResponse {
            books,
            next: "more".into(),
        })
    }

    async fn create_book(&self, _ctx: Context, req: CreateBookRequest) -> Result<Book> {
        let mut b = req.book.unwrap_or_default();
        if b.title.is_empty() {
            return Err(Error::bad_request(SERVICE, "a book needs a title"));
        }
        b.name = format!("shelves/{}/books/new", req.shelf);
        Ok(b)
    }

    async fn update_book(&self, ctx: Context, req: CreateBookRequest) -> Result<Book> {
        self.create_book(ctx, req).await
    }

    async fn titles(&self, ctx: Context, req: ListBooksRequest) -> Result<ListBooksResponse> {
        self.list_books(ctx, req).await
    }

    async fn archive(&self, _ctx: Context, req: GetBookRequest) -> Result<Book> {
        let mut b = book(&req.name);
        b.title = "archived".into();
        Ok(b)
    }

    async fn files(&self, _ctx: Context, req: GetBookRequest) -> Result<Echo> {
        Ok(Echo {
            text: req.name,
            n: 0,
        })
    }

    async fn count(&self, _ctx: Context, req: Echo, out: StreamSender<Echo>) -> Result<()> {
        if req.n < 0 {
            return Err(Error::bad_request(SERVICE, "n must not be negative"));
        }
        for i in 1..=req.n.min(1000) {
            out.send(&Echo {
                text: format!("{}#{i}", req.text),
                n: i,
            })
            .await?;
        }
        if req.text == "fail" {
            return Err(Error::internal(SERVICE, "failed after the messages"));
        }
        Ok(())
    }

    async fn sum(&self, _ctx: Context, mut numbers: StreamReceiver<Echo>) -> Result<Echo> {
        let mut total = 0;
        while let Some(n) = numbers.recv().await? {
            total += n.n;
        }
        if let Ok(mut sums) = SUMS.lock() {
            sums.push(total);
        }
        Ok(Echo {
            text: "sum".into(),
            n: total,
        })
    }

    async fn chat(
        &self,
        _ctx: Context,
        mut requests: StreamReceiver<Echo>,
        responses: StreamSender<Echo>,
    ) -> Result<()> {
        while let Some(m) = requests.recv().await? {
            responses
                .send(&Echo {
                    text: format!("re: {}", m.text),
                    n: m.n,
                })
                .await?;
        }
        Ok(())
    }

    async fn nap(&self, _ctx: Context, req: Sleep) -> Result<Echo> {
        tokio::time::sleep(Duration::from_millis(req.millis.clamp(0, 60_000) as u64)).await;
        Ok(Echo {
            text: "awake".into(),
            n: req.millis,
        })
    }

    async fn headers(&self, ctx: Context, _req: Empty) -> Result<Echo> {
        let md = ctx.metadata();
        let mut seen: Vec<String> = [
            "x-request-id",
            "authorization",
            "cookie",
            "connection",
            "micro-account",
        ]
        .into_iter()
        .filter_map(|k| md.get(k).map(|v| format!("{k}={v}")))
        .collect();
        // With auth on: the account the service verified.
        if let Some(account) = ctx.account() {
            seen.push(format!("account={}", account.id));
        }
        Ok(Echo {
            text: seen.join(";"),
            n: 0,
        })
    }
}

/// A memory registry shared by the services and gateway of one test.
pub fn registry() -> (MemoryRegistry, SharedRegistry) {
    let registry = MemoryRegistry::new();
    let shared: SharedRegistry = Arc::new(registry.clone());
    (registry, shared)
}

/// Start a node of the shop on 127.0.0.1:0.
pub async fn start_shop(registry: &SharedRegistry) -> RunningService {
    Service::builder(SERVICE)
        .ignore_env()
        .registry(registry.clone())
        .address("127.0.0.1:0")
        .shutdown_delay(Duration::ZERO)
        .handler(ShopServer::new(ShopHandler))
        .build()
        .expect("build the shop")
        .start()
        .await
        .expect("start the shop")
}

/// A gateway on 127.0.0.1:0 over `registry`; stops when dropped.
#[derive(Debug)]
pub struct RunningGateway {
    /// Where it listens.
    pub addr: SocketAddr,
    /// The gateway.
    pub gateway: Gateway,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for RunningGateway {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

impl RunningGateway {
    /// `http://127.0.0.1:PORT` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Wait until the gateway's route table has `endpoint` of `service` (30 s at most).
    pub async fn sees(&self, service: &str, endpoint: &str) {
        for _ in 0..600 {
            if self.gateway.table().endpoint(service, endpoint).is_some() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the gateway never saw {service} {endpoint}");
    }
}

/// Start a gateway with `options`, calling services through a client on `registry`.
pub async fn start_gateway(registry: &SharedRegistry, options: Options) -> RunningGateway {
    let client = micro::Client::new(registry.clone());
    let gateway = Gateway::new(client, options);
    serve(gateway).await
}

/// Serve `gateway` on 127.0.0.1:0.
pub async fn serve(gateway: Gateway) -> RunningGateway {
    serve_on(gateway, "127.0.0.1:0").await
}

/// Serve `gateway` on `address`.
pub async fn serve_on(gateway: Gateway, address: &str) -> RunningGateway {
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .expect("bind the gateway");
    let addr = listener.local_addr().expect("gateway address");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = gateway.clone();
    tokio::spawn(async move {
        let _ = serving
            .serve(listener, async move {
                let _ = stopped.await;
            })
            .await;
    });
    RunningGateway {
        addr,
        gateway,
        stop: Some(stop),
    }
}

/// An HTTP answer: status, headers, body text.
#[derive(Debug)]
pub struct Answer {
    /// The status.
    pub status: u16,
    /// The headers.
    pub headers: http::HeaderMap,
    /// The body.
    pub body: String,
}

impl Answer {
    /// The body as JSON (panics with the body when it is not).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

/// Send one request over a fresh HTTP/1.1 connection.
pub async fn send(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: impl Into<Bytes>,
) -> Answer {
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<Full<Bytes>>();
    let mut req = http::Request::builder().method(method).uri(url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let req = req.body(Full::new(body.into())).expect("request");
    let rsp = tokio::time::timeout(Duration::from_secs(30), client.request(req))
        .await
        .expect("answer within 30 s")
        .expect("send");
    let status = rsp.status().as_u16();
    let headers = rsp.headers().clone();
    let body = tokio::time::timeout(Duration::from_secs(30), rsp.into_body().collect())
        .await
        .expect("body within 30 s")
        .expect("read the body")
        .to_bytes();
    Answer {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}

/// GET `url`.
pub async fn get(url: &str) -> Answer {
    send("GET", url, &[], Bytes::new()).await
}

/// POST JSON to `url`.
pub async fn post(url: &str, json: &str) -> Answer {
    send(
        "POST",
        url,
        &[("content-type", "application/json")],
        json.to_owned(),
    )
    .await
}
