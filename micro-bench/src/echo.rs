//! The echo service on each framework: servers and clients.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::StreamExt;

/// The code micro-gen generates for `proto/bench.proto`.
pub mod micro_pb {
    micro::include_proto!("bench");
}

/// The code tonic-prost-build generates for the same file.
pub mod tonic_pb {
    #![allow(missing_docs, unreachable_pub, clippy::all)]
    include!(concat!(env!("OUT_DIR"), "/tonic/bench.rs"));
}

/// The frameworks under test.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Framework {
    /// micro over gRPC (HTTP/2).
    Micro,
    /// micro over its native transport.
    MicroNative,
    /// micro over its native transport with auth (a JWT on every call), Prometheus metrics
    /// and tracing (a client and a server span per call, exported over OTLP) all on.
    MicroObserved,
    /// tonic 0.14.
    Tonic,
    /// tarpc 0.38 over TCP (MessagePack).
    Tarpc,
}

impl Framework {
    /// Every framework.
    pub const ALL: [Framework; 5] = [
        Framework::Micro,
        Framework::MicroNative,
        Framework::MicroObserved,
        Framework::Tonic,
        Framework::Tarpc,
    ];

    /// Its name on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Framework::Micro => "micro",
            Framework::MicroNative => "micro-native",
            Framework::MicroObserved => "micro-observed",
            Framework::Tonic => "tonic",
            Framework::Tarpc => "tarpc",
        }
    }

    /// The framework called `name`.
    pub fn parse(name: &str) -> Option<Framework> {
        Framework::ALL.into_iter().find(|f| f.name() == name)
    }

    /// Does it stream?
    pub fn streams(self) -> bool {
        self != Framework::Tarpc
    }
}

fn payload(size: usize) -> Bytes {
    Bytes::from(vec![0x5a; size])
}

// ---------------------------------------------------------------------------------------
// micro

#[derive(Debug, Default)]
struct MicroEcho;

impl micro_pb::echo_server::Echo for MicroEcho {
    async fn echo(
        &self,
        _ctx: micro::Context,
        request: micro_pb::Payload,
    ) -> micro::Result<micro_pb::Payload> {
        Ok(request)
    }

    async fn stream(
        &self,
        _ctx: micro::Context,
        request: micro_pb::StreamRequest,
        responses: micro::stream::StreamSender<micro_pb::Payload>,
    ) -> micro::Result<()> {
        let data = payload(request.size as usize);
        for _ in 0..request.count {
            responses
                .send(&micro_pb::Payload { data: data.clone() })
                .await?;
        }
        Ok(())
    }
}

async fn serve_micro(addr: &str, native: bool, observed: bool) -> Result<(), String> {
    let registry = Arc::new(micro::registry::MemoryRegistry::new());
    let mut builder = micro::Service::builder("bench")
        .ignore_env()
        .registry(registry)
        .address(addr)
        .handler(micro_pb::echo_server::EchoServer::new(MicroEcho));
    if native {
        builder = builder.flags(["--transport", "native"]);
    }
    // Room for the scale scenario's 10,000 idle connections (the default cap is 10,000).
    builder = builder.flags(["--server_max_connections", "20000"]);
    // Load shedding is on by default, as users get it; `MICRO_BENCH_LOAD_SHEDDING=off` runs
    // the servers without it, like for like with tonic and tarpc, which have none.
    if std::env::var("MICRO_BENCH_LOAD_SHEDDING").is_ok_and(|v| v == "off") {
        builder = builder.load_shedding(None);
    }
    if observed {
        // The driver's key and span sink (see `observed`); rules in a fresh store: the
        // default rule, any account.
        let var = |name: &str| std::env::var(name).map_err(|_| format!("{name} is not set"));
        let home = std::env::temp_dir().join(format!("micro-bench-{}", std::process::id()));
        std::fs::create_dir_all(&home).map_err(|e| e.to_string())?;
        builder = builder.flags([
            "--auth=jwt".to_owned(),
            format!("--auth_private_key={}", var("MICRO_BENCH_AUTH_KEY")?),
            format!("--home={}", home.display()),
            "--metrics_address=127.0.0.1:0".to_owned(),
            "--tracer=otlp".to_owned(),
            format!("--tracer_address={}", var("MICRO_BENCH_OTLP")?),
        ]);
    }
    let running = builder
        .build()
        .map_err(|e| e.to_string())?
        .start()
        .await
        .map_err(|e| e.to_string())?;
    let addr = running
        .local_addr()
        .ok_or("the bench server listens on no socket")?;
    announce(addr);
    micro::service::shutdown_signal().await;
    running.stop().await.map_err(|e| e.to_string())
}

// ---------------------------------------------------------------------------------------
// tonic

#[derive(Debug, Default)]
struct TonicEcho;

type TonicStream = std::pin::Pin<
    Box<dyn futures_util::Stream<Item = Result<tonic_pb::Payload, tonic::Status>> + Send>,
>;

#[tonic::async_trait]
impl tonic_pb::echo_server::Echo for TonicEcho {
    async fn echo(
        &self,
        request: tonic::Request<tonic_pb::Payload>,
    ) -> Result<tonic::Response<tonic_pb::Payload>, tonic::Status> {
        Ok(tonic::Response::new(request.into_inner()))
    }

    type StreamStream = TonicStream;

    async fn stream(
        &self,
        request: tonic::Request<tonic_pb::StreamRequest>,
    ) -> Result<tonic::Response<Self::StreamStream>, tonic::Status> {
        let request = request.into_inner();
        let data = payload(request.size as usize);
        let (tx, rx) = tokio::sync::mpsc::channel(32);
        tokio::spawn(async move {
            for _ in 0..request.count {
                if tx
                    .send(Ok(tonic_pb::Payload { data: data.clone() }))
                    .await
                    .is_err()
                {
                    break;
                }
            }
        });
        let stream = futures_util::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|item| (item, rx))
        });
        Ok(tonic::Response::new(Box::pin(stream)))
    }
}

async fn serve_tonic(addr: &str) -> Result<(), String> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| e.to_string())?;
    announce(listener.local_addr().map_err(|e| e.to_string())?);
    let incoming = futures_util::stream::unfold(listener, |listener| async move {
        let accepted = listener.accept().await.map(|(stream, _)| {
            let _ = stream.set_nodelay(true);
            stream
        });
        Some((accepted, listener))
    });
    tonic::transport::Server::builder()
        .add_service(tonic_pb::echo_server::EchoServer::new(TonicEcho))
        .serve_with_incoming_shutdown(incoming, micro::service::shutdown_signal())
        .await
        .map_err(|e| e.to_string())
}

// ---------------------------------------------------------------------------------------
// tarpc

/// The echo service for tarpc.
#[tarpc::service]
pub trait TarpcEcho {
    /// Echo the payload.
    async fn echo(data: serde_bytes::ByteBuf) -> serde_bytes::ByteBuf;
}

#[derive(Clone)]
struct TarpcServer;

impl TarpcEcho for TarpcServer {
    async fn echo(
        self,
        _: tarpc::context::Context,
        data: serde_bytes::ByteBuf,
    ) -> serde_bytes::ByteBuf {
        data
    }
}

async fn serve_tarpc(addr: &str) -> Result<(), String> {
    use tarpc::server::{Channel, incoming::Incoming};
    let mut listener =
        tarpc::serde_transport::tcp::listen(addr, tokio_serde::formats::MessagePack::default)
            .await
            .map_err(|e| e.to_string())?;
    announce(listener.local_addr());
    listener.config_mut().max_frame_length(usize::MAX);
    let serve = listener
        .filter_map(|r| async { r.ok() })
        .map(tarpc::server::BaseChannel::with_defaults)
        .max_channels_per_key(1024, |t| {
            t.transport()
                .peer_addr()
                .map(|a| a.ip())
                .unwrap_or(std::net::Ipv4Addr::LOCALHOST.into())
        })
        .map(|channel| {
            channel
                .execute(TarpcServer.serve())
                .for_each(|response| async move {
                    tokio::spawn(response);
                })
        })
        .buffer_unordered(1024)
        .for_each(|_| async {});
    tokio::select! {
        _ = serve => Ok(()),
        _ = micro::service::shutdown_signal() => Ok(()),
    }
}

// ---------------------------------------------------------------------------------------
// micro with auth, metrics and tracing on

/// What `micro-observed` servers and clients share: the key tokens are signed with, a token,
/// and an OTLP/HTTP sink (in this process) that takes the spans of both.
#[derive(Debug)]
pub struct Observed {
    /// The Ed25519 private key (PEM), given to servers as `MICRO_BENCH_AUTH_KEY`.
    pub private_key: String,
    /// `Bearer <jwt>` for the client's calls.
    pub token: String,
    /// `host:port` of the span sink, given to servers as `MICRO_BENCH_OTLP`.
    pub otlp: String,
}

static OBSERVED: std::sync::OnceLock<Result<Observed, String>> = std::sync::OnceLock::new();

/// The key, token and sink of this run (made once).
pub fn observed() -> Result<&'static Observed, String> {
    OBSERVED
        .get_or_init(|| {
            use micro::auth::Auth as _;
            let (private_key, _) = micro::auth::generate_ed25519().map_err(|e| e.to_string())?;
            let jwt = micro::auth::Jwt::signing(&private_key, "micro", "micro")
                .map_err(|e| e.to_string())?;
            let issued = jwt
                .issue(
                    &micro::auth::Account::new("bench", ["bench"]),
                    std::time::Duration::from_secs(24 * 3600),
                )
                .map_err(|e| e.to_string())?;
            Ok(Observed {
                private_key,
                token: format!("Bearer {}", issued.access_token),
                otlp: span_sink()?,
            })
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// An HTTP/1.1 server on its own thread that reads every request and answers 200 (a
/// stand-in for an OpenTelemetry Collector that keeps up); its `host:port`.
fn span_sink() -> Result<String, String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    listener.set_nonblocking(true).map_err(|e| e.to_string())?;
    std::thread::spawn(move || {
        let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        else {
            return;
        };
        runtime.block_on(async move {
            let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
                return;
            };
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(
                        |req: http::Request<hyper::body::Incoming>| async move {
                            use http_body_util::BodyExt as _;
                            let _ = req.into_body().collect().await;
                            Ok::<_, std::convert::Infallible>(http::Response::new(
                                http_body_util::Full::new(Bytes::new()),
                            ))
                        },
                    );
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                        .await;
                });
            }
        });
    });
    Ok(addr.to_string())
}

// ---------------------------------------------------------------------------------------

#[allow(clippy::print_stdout)]
fn announce(addr: SocketAddr) {
    use std::io::Write;
    println!("LISTENING {addr}");
    let _ = std::io::stdout().flush();
}

/// Serve `framework` on `addr` until SIGTERM (prints `LISTENING <addr>` first).
pub async fn serve(framework: Framework, addr: &str) -> Result<(), String> {
    match framework {
        Framework::Micro => serve_micro(addr, false, false).await,
        Framework::MicroNative => serve_micro(addr, true, false).await,
        Framework::MicroObserved => serve_micro(addr, true, true).await,
        Framework::Tonic => serve_tonic(addr).await,
        Framework::Tarpc => serve_tarpc(addr).await,
    }
}

/// A connected client of one framework.
#[derive(Clone)]
#[allow(missing_debug_implementations)]
pub enum Client {
    /// micro's generated client (one node in a memory registry).
    Micro(micro_pb::echo_client::EchoClient),
    /// tonic's generated client on one channel.
    Tonic(tonic_pb::echo_client::EchoClient<tonic::transport::Channel>),
    /// tarpc's generated client on one connection.
    Tarpc(TarpcEchoClient),
}

impl Client {
    /// Connect to the server(s) at `addrs`.
    pub async fn connect(framework: Framework, addrs: &[SocketAddr]) -> Result<Client, String> {
        match framework {
            Framework::Micro | Framework::MicroNative | Framework::MicroObserved => {
                let registry = micro::registry::MemoryRegistry::new();
                let mut svc = micro::registry::Service::new("bench", "latest");
                for (i, addr) in addrs.iter().enumerate() {
                    let mut node =
                        micro::registry::Node::new(format!("bench-{i}"), addr.to_string());
                    if framework != Framework::Micro {
                        node = node.with_metadata("transport", "native,grpc");
                    }
                    svc = svc.with_node(node);
                }
                micro::registry::Registry::register(
                    &registry,
                    &svc,
                    micro::registry::RegisterOptions::default(),
                )
                .await
                .map_err(|e| e.to_string())?;
                let mut options = micro::options::Settings::default();
                options.registry = "memory".into();
                let transport = if framework != Framework::Micro {
                    "native"
                } else {
                    "grpc"
                };
                options
                    .apply_args(["--transport", transport])
                    .map_err(|e| e.to_string())?;
                let client_options = options.client_options().map_err(|e| e.to_string())?;
                let mut client = micro::Client::with_options(Arc::new(registry), client_options);
                if framework == Framework::MicroObserved {
                    let observed = observed()?;
                    let token = observed.token.clone();
                    client = client.wrap(micro::client::CallWrapper::new(move |mut req, next| {
                        req.options_mut()
                            .metadata
                            .insert("authorization", token.clone());
                        next.call(req)
                    }));
                    let tracer = micro::trace::Tracer::from_settings(
                        micro::trace::TracerKind::Otlp,
                        Some(&observed.otlp),
                        "bench-client",
                    )
                    .map_err(|e| e.to_string())?;
                    if let Some(tracer) = tracer {
                        client = client.traced(&tracer);
                    }
                }
                Ok(Client::Micro(micro_pb::echo_client::EchoClient::new(
                    "bench", client,
                )))
            }
            Framework::Tonic => {
                let channel =
                    tonic::transport::Endpoint::from_shared(format!("http://{}", addrs[0]))
                        .map_err(|e| e.to_string())?
                        .tcp_nodelay(true)
                        .connect()
                        .await
                        .map_err(|e| e.to_string())?;
                Ok(Client::Tonic(
                    tonic_pb::echo_client::EchoClient::new(channel)
                        .max_decoding_message_size(usize::MAX),
                ))
            }
            Framework::Tarpc => {
                let mut connect = tarpc::serde_transport::tcp::connect(
                    addrs[0],
                    tokio_serde::formats::MessagePack::default,
                );
                connect.config_mut().max_frame_length(usize::MAX);
                let transport = connect.await.map_err(|e| e.to_string())?;
                let mut config = tarpc::client::Config::default();
                config.max_in_flight_requests = 4096;
                config.pending_request_buffer = 4096;
                Ok(Client::Tarpc(
                    TarpcEchoClient::new(config, transport).spawn(),
                ))
            }
        }
    }

    /// One unary echo; returns the bytes received.
    pub async fn echo(&self, data: Bytes) -> Result<usize, String> {
        match self {
            Client::Micro(c) => c
                .echo(micro_pb::Payload { data })
                .await
                .map(|p| p.data.len())
                .map_err(|e| e.to_string()),
            Client::Tonic(c) => c
                .clone()
                .echo(tonic_pb::Payload { data })
                .await
                .map(|r| r.into_inner().data.len())
                .map_err(|e| e.to_string()),
            Client::Tarpc(c) => {
                let mut ctx = tarpc::context::current();
                ctx.deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
                c.echo(ctx, serde_bytes::ByteBuf::from(data.to_vec()))
                    .await
                    .map(|b| b.len())
                    .map_err(|e| e.to_string())
            }
        }
    }

    /// One server stream of `count` messages of `size` bytes; returns the messages received.
    pub async fn stream(&self, count: u32, size: u32) -> Result<usize, String> {
        match self {
            Client::Micro(c) => {
                let mut rx = c
                    .stream(micro_pb::StreamRequest { count, size })
                    .await
                    .map_err(|e| e.to_string())?;
                let mut n = 0;
                while rx.recv().await.map_err(|e| e.to_string())?.is_some() {
                    n += 1;
                }
                Ok(n)
            }
            Client::Tonic(c) => {
                let mut stream = c
                    .clone()
                    .stream(tonic_pb::StreamRequest { count, size })
                    .await
                    .map_err(|e| e.to_string())?
                    .into_inner();
                let mut n = 0;
                while stream.message().await.map_err(|e| e.to_string())?.is_some() {
                    n += 1;
                }
                Ok(n)
            }
            Client::Tarpc(_) => Err("tarpc has no streaming".to_owned()),
        }
    }
}
