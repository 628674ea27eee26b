//! gRPC's interop cases, both ways: [`TestServiceImpl`] is the micro server stock clients
//! call; [`Cases`] are the calls a micro client makes to a stock server.

#![allow(missing_docs)]

use std::time::Duration;

use micro::client::CallOptions;
use micro::stream::{StreamReceiver, StreamSender};
use micro::{Client, Code, Context, Error, Result};

pub mod pb {
    micro::include_proto!("grpc.testing");
}

use pb::test_service_client::TestServiceClient;
use pb::test_service_server::TestService;
use pb::unimplemented_service_client::UnimplementedServiceClient;
use pb::{
    EchoStatus, Empty, Payload, ResponseParameters, SimpleRequest, SimpleResponse,
    StreamingInputCallRequest, StreamingInputCallResponse, StreamingOutputCallRequest,
    StreamingOutputCallResponse,
};

pub const ECHO_INITIAL: &str = "x-grpc-test-echo-initial";
pub const ECHO_TRAILING: &str = "x-grpc-test-echo-trailing-bin";

fn payload(size: i32) -> Payload {
    Payload {
        r#type: 0,
        body: vec![0; usize::try_from(size).unwrap_or(0)],
    }
}

fn echo_metadata(ctx: &Context) {
    if let Some(v) = ctx.metadata().get(ECHO_INITIAL) {
        ctx.set_header(ECHO_INITIAL, v);
    }
    if let Some(v) = ctx.metadata().get(ECHO_TRAILING) {
        ctx.set_trailer(ECHO_TRAILING, v);
    }
}

fn status(status: Option<&EchoStatus>) -> Result<()> {
    match status {
        Some(s) if s.code != 0 => Err(Error::from_code(
            "interop",
            Code::from_i32(s.code),
            s.message.clone(),
        )),
        _ => Ok(()),
    }
}

async fn respond(
    params: &[ResponseParameters],
    tx: &StreamSender<StreamingOutputCallResponse>,
) -> Result<()> {
    for p in params {
        if p.interval_us > 0 {
            tokio::time::sleep(Duration::from_micros(
                u64::try_from(p.interval_us).unwrap_or(0),
            ))
            .await;
        }
        tx.send(&StreamingOutputCallResponse {
            payload: Some(payload(p.size)),
        })
        .await?;
    }
    Ok(())
}

/// Streaming handlers of this process still running.
static LIVE_STREAMS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// How many streaming handlers of this process are still running: a cancelled call's
/// handler must end, not linger.
pub fn live_streams() -> usize {
    LIVE_STREAMS.load(std::sync::atomic::Ordering::SeqCst)
}

/// Counts a streaming handler while it runs (it ends by returning, or by being dropped when
/// its call is cancelled).
struct Live;

impl Live {
    fn start() -> Live {
        LIVE_STREAMS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Live
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        LIVE_STREAMS.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}

/// The micro side of the interop server.
#[derive(Debug, Default)]
pub struct TestServiceImpl;

impl TestService for TestServiceImpl {
    async fn empty_call(&self, ctx: Context, _request: Empty) -> Result<Empty> {
        echo_metadata(&ctx);
        Ok(Empty {})
    }

    async fn unary_call(&self, ctx: Context, request: SimpleRequest) -> Result<SimpleResponse> {
        echo_metadata(&ctx);
        status(request.response_status.as_ref())?;
        Ok(SimpleResponse {
            payload: Some(payload(request.response_size)),
            ..SimpleResponse::default()
        })
    }

    async fn streaming_output_call(
        &self,
        ctx: Context,
        request: StreamingOutputCallRequest,
        responses: StreamSender<StreamingOutputCallResponse>,
    ) -> Result<()> {
        echo_metadata(&ctx);
        respond(&request.response_parameters, &responses).await?;
        status(request.response_status.as_ref())
    }

    async fn streaming_input_call(
        &self,
        ctx: Context,
        mut requests: StreamReceiver<StreamingInputCallRequest>,
    ) -> Result<StreamingInputCallResponse> {
        let _live = Live::start();
        echo_metadata(&ctx);
        let mut size = 0usize;
        while let Some(r) = requests.recv().await? {
            size += r.payload.map(|p| p.body.len()).unwrap_or(0);
        }
        Ok(StreamingInputCallResponse {
            aggregated_payload_size: i32::try_from(size).unwrap_or(i32::MAX),
        })
    }

    async fn full_duplex_call(
        &self,
        ctx: Context,
        mut requests: StreamReceiver<StreamingOutputCallRequest>,
        responses: StreamSender<StreamingOutputCallResponse>,
    ) -> Result<()> {
        let _live = Live::start();
        echo_metadata(&ctx);
        while let Some(r) = requests.recv().await? {
            status(r.response_status.as_ref())?;
            respond(&r.response_parameters, &responses).await?;
        }
        Ok(())
    }

    async fn half_duplex_call(
        &self,
        ctx: Context,
        mut requests: StreamReceiver<StreamingOutputCallRequest>,
        responses: StreamSender<StreamingOutputCallResponse>,
    ) -> Result<()> {
        echo_metadata(&ctx);
        let mut all = Vec::new();
        while let Some(r) = requests.recv().await? {
            all.push(r);
        }
        for r in all {
            status(r.response_status.as_ref())?;
            respond(&r.response_parameters, &responses).await?;
        }
        Ok(())
    }

    async fn unimplemented_call(&self, _ctx: Context, _request: Empty) -> Result<Empty> {
        Err(Error::unimplemented(
            "interop",
            "UnimplementedCall is not implemented",
        ))
    }
}

/// The sizes gRPC's interop cases use.
pub const REQUEST_SIZES: [i32; 4] = [27182, 8, 1828, 45904];
pub const RESPONSE_SIZES: [i32; 4] = [31415, 9, 2653, 58979];
pub const SPECIAL_MESSAGE: &str =
    "\t\ntest with whitespace\r\nand Unicode BMP \u{263A} and non-BMP \u{1F608}\t\n";

type Outcome = std::result::Result<(), String>;

fn check(ok: bool, what: impl Into<String>) -> Outcome {
    if ok { Ok(()) } else { Err(what.into()) }
}

fn expect_code<T: std::fmt::Debug>(
    result: Result<T>,
    code: Code,
    message: Option<&str>,
) -> Outcome {
    match result {
        Ok(v) => Err(format!("expected {code}, got a response {v:?}")),
        Err(e) if e.grpc_code() != code => Err(format!(
            "expected {code}, got {} ({})",
            e.grpc_code(),
            e.detail()
        )),
        Err(e) => match message {
            Some(m) if e.detail() != m => {
                Err(format!("expected message {m:?}, got {:?}", e.detail()))
            }
            _ => Ok(()),
        },
    }
}

fn err(e: Error) -> String {
    format!("{} ({})", e.detail(), e.grpc_code())
}

/// The micro client's side of every case, against the server at `address`.
#[derive(Debug)]
pub struct Cases {
    client: Client,
    test: TestServiceClient,
    unimplemented: UnimplementedServiceClient,
    options: CallOptions,
}

impl Cases {
    pub fn new(address: &str) -> Cases {
        Cases::with_client(
            address,
            Client::new(std::sync::Arc::new(micro::registry::MemoryRegistry::new())),
        )
    }

    /// The cases with `client` (for example one with TLS from `MICRO_TLS_*`).
    pub fn with_client(address: &str, client: Client) -> Cases {
        let options = CallOptions::new()
            .address(address)
            .timeout(Duration::from_secs(20));
        Cases {
            test: TestServiceClient::new("interop", client.clone()).with_options(options.clone()),
            unimplemented: UnimplementedServiceClient::new("interop", client.clone())
                .with_options(options.clone()),
            client,
            options,
        }
    }

    /// Every case, by name.
    pub const NAMES: [&'static str; 14] = [
        "empty_unary",
        "large_unary",
        "client_streaming",
        "server_streaming",
        "ping_pong",
        "empty_stream",
        "cancel_after_begin",
        "cancel_after_first_response",
        "timeout_on_sleeping_server",
        "custom_metadata",
        "status_code_and_message",
        "special_status_message",
        "unimplemented_method",
        "unimplemented_service",
    ];

    pub async fn run(&self, name: &str) -> Outcome {
        match name {
            "empty_unary" => self.empty_unary().await,
            "large_unary" => self.large_unary().await,
            "client_streaming" => self.client_streaming().await,
            "server_streaming" => self.server_streaming().await,
            "ping_pong" => self.ping_pong().await,
            "empty_stream" => self.empty_stream().await,
            "cancel_after_begin" => self.cancel_after_begin().await,
            "cancel_after_first_response" => self.cancel_after_first_response().await,
            "timeout_on_sleeping_server" => self.timeout_on_sleeping_server().await,
            "custom_metadata" => self.custom_metadata().await,
            "status_code_and_message" => self.status_code_and_message(1).await,
            "special_status_message" => self.status_code_and_message(2).await,
            "unimplemented_method" => expect_code(
                self.test.unimplemented_call(Empty {}).await,
                Code::Unimplemented,
                None,
            ),
            "unimplemented_service" => expect_code(
                self.unimplemented.unimplemented_call(Empty {}).await,
                Code::Unimplemented,
                None,
            ),
            other => Err(format!("no case {other}")),
        }
    }

    async fn empty_unary(&self) -> Outcome {
        self.test
            .empty_call(Empty {})
            .await
            .map(|_| ())
            .map_err(err)
    }

    async fn large_unary(&self) -> Outcome {
        let rsp = self
            .test
            .unary_call(SimpleRequest {
                response_size: 314_159,
                payload: Some(payload(271_828)),
                ..SimpleRequest::default()
            })
            .await
            .map_err(err)?;
        let len = rsp.payload.map(|p| p.body.len()).unwrap_or(0);
        check(len == 314_159, format!("response payload of {len} bytes"))
    }

    async fn client_streaming(&self) -> Outcome {
        let mut call = self.test.streaming_input_call().await.map_err(err)?;
        for size in REQUEST_SIZES {
            call.send(&StreamingInputCallRequest {
                payload: Some(payload(size)),
                expect_compressed: None,
            })
            .await
            .map_err(err)?;
        }
        let rsp = call.finish().await.map_err(err)?;
        check(
            rsp.aggregated_payload_size == 74_922,
            format!("aggregated {}", rsp.aggregated_payload_size),
        )
    }

    fn output_request(sizes: &[i32]) -> StreamingOutputCallRequest {
        StreamingOutputCallRequest {
            response_parameters: sizes
                .iter()
                .map(|s| ResponseParameters {
                    size: *s,
                    ..ResponseParameters::default()
                })
                .collect(),
            ..StreamingOutputCallRequest::default()
        }
    }

    async fn server_streaming(&self) -> Outcome {
        let mut rx = self
            .test
            .streaming_output_call(Self::output_request(&RESPONSE_SIZES))
            .await
            .map_err(err)?;
        let mut sizes = Vec::new();
        while let Some(r) = rx.recv().await.map_err(err)? {
            sizes.push(r.payload.map(|p| p.body.len() as i32).unwrap_or(0));
        }
        check(sizes == RESPONSE_SIZES, format!("sizes {sizes:?}"))
    }

    async fn ping_pong(&self) -> Outcome {
        let mut stream = self.test.full_duplex_call().await.map_err(err)?;
        for (req, rsp) in REQUEST_SIZES.iter().zip(RESPONSE_SIZES) {
            let mut r = Self::output_request(&[rsp]);
            r.payload = Some(payload(*req));
            stream.send(&r).await.map_err(err)?;
            let got = stream
                .recv()
                .await
                .map_err(err)?
                .ok_or("the stream ended early")?;
            let len = got.payload.map(|p| p.body.len() as i32).unwrap_or(0);
            check(
                len == rsp,
                format!("response of {len} bytes, expected {rsp}"),
            )?;
        }
        stream.close_send();
        check(
            stream.recv().await.map_err(err)?.is_none(),
            "a response after half-close",
        )
    }

    async fn empty_stream(&self) -> Outcome {
        let mut stream = self.test.full_duplex_call().await.map_err(err)?;
        stream.close_send();
        check(
            stream.recv().await.map_err(err)?.is_none(),
            "a response to nothing",
        )
    }

    async fn cancel_after_begin(&self) -> Outcome {
        let call = self.test.streaming_input_call().await.map_err(err)?;
        drop(call); // cancels the stream (RST_STREAM CANCEL)
        // The connection is still good.
        self.empty_unary().await
    }

    async fn cancel_after_first_response(&self) -> Outcome {
        let mut stream = self.test.full_duplex_call().await.map_err(err)?;
        let mut r = Self::output_request(&[31_415]);
        r.payload = Some(payload(27_182));
        stream.send(&r).await.map_err(err)?;
        stream
            .recv()
            .await
            .map_err(err)?
            .ok_or("no first response")?;
        drop(stream);
        self.empty_unary().await
    }

    async fn timeout_on_sleeping_server(&self) -> Outcome {
        let ctx = Context::new().with_timeout(Duration::from_millis(1));
        let result = async {
            let mut stream = self
                .test
                .full_duplex_call_with(&ctx, self.test.options())
                .await?;
            let mut r = Self::output_request(&[31_415]);
            r.payload = Some(payload(27_182));
            r.response_parameters[0].interval_us = 1_000_000;
            stream.send(&r).await?;
            stream.recv().await
        }
        .await;
        expect_code(result, Code::DeadlineExceeded, None)
    }

    async fn custom_metadata(&self) -> Outcome {
        let opts = self
            .options
            .clone()
            .package("grpc.testing")
            .metadata(ECHO_INITIAL, "test_initial_metadata_value")
            .metadata(ECHO_TRAILING, "q6ur");
        let req = SimpleRequest {
            response_size: 314_159,
            payload: Some(payload(271_828)),
            ..SimpleRequest::default()
        };
        let rsp = self
            .client
            .invoke::<_, SimpleResponse>(
                &Context::new(),
                "interop",
                "TestService.UnaryCall",
                &req,
                &opts,
            )
            .await
            .map_err(err)?;
        check(
            rsp.metadata.get(ECHO_INITIAL) == Some("test_initial_metadata_value"),
            format!(
                "unary initial metadata {:?}",
                rsp.metadata.get(ECHO_INITIAL)
            ),
        )?;
        check(
            rsp.trailers
                .get(ECHO_TRAILING)
                .map(|v| v.trim_end_matches('='))
                == Some("q6ur"),
            format!(
                "unary trailing metadata {:?}",
                rsp.trailers.get(ECHO_TRAILING)
            ),
        )?;
        let mut stream = self
            .client
            .stream::<StreamingOutputCallRequest, StreamingOutputCallResponse>(
                &Context::new(),
                "interop",
                "TestService.FullDuplexCall",
                &opts,
            )
            .await
            .map_err(err)?;
        let mut r = Self::output_request(&[314_159]);
        r.payload = Some(payload(271_828));
        stream.send(&r).await.map_err(err)?;
        stream.recv().await.map_err(err)?.ok_or("no response")?;
        stream.close_send();
        check(
            stream.recv().await.map_err(err)?.is_none(),
            "extra response",
        )?;
        check(
            stream.metadata().get(ECHO_INITIAL) == Some("test_initial_metadata_value"),
            format!(
                "stream initial metadata {:?}",
                stream.metadata().get(ECHO_INITIAL)
            ),
        )?;
        check(
            stream
                .trailers()
                .get(ECHO_TRAILING)
                .map(|v| v.trim_end_matches('='))
                == Some("q6ur"),
            format!(
                "stream trailing metadata {:?}",
                stream.trailers().get(ECHO_TRAILING)
            ),
        )
    }

    /// `variant` 1: status_code_and_message; 2: special_status_message.
    async fn status_code_and_message(&self, variant: u8) -> Outcome {
        let message = if variant == 1 {
            "test status message"
        } else {
            SPECIAL_MESSAGE
        };
        let echo = EchoStatus {
            code: 2,
            message: message.into(),
        };
        let unary = self
            .test
            .unary_call(SimpleRequest {
                response_status: Some(echo.clone()),
                ..SimpleRequest::default()
            })
            .await;
        expect_code(unary, Code::Unknown, Some(message))?;
        if variant == 2 {
            return Ok(());
        }
        let result = async {
            let mut stream = self.test.full_duplex_call().await?;
            stream
                .send(&StreamingOutputCallRequest {
                    response_status: Some(echo.clone()),
                    ..StreamingOutputCallRequest::default()
                })
                .await?;
            stream.close_send();
            stream.recv().await
        }
        .await;
        expect_code(result, Code::Unknown, Some(message))
    }
}
