//! A web app written as a service: a chat page and its websocket, registered as
//! `micro.web.chat`. Run it and `micro web`, then open <http://127.0.0.1:8082/chat/>: every
//! message typed in one browser window appears in all of them.
//!
//! The page uses relative URLs only, so it works wherever the proxy mounts it; the proxy
//! tells it where in `X-Micro-Web-Base-Path` (shown at the bottom of the page).

use axum::Router;
use axum::extract::State;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::http::HeaderMap;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use futures_util::{SinkExt, StreamExt};
use tokio::sync::broadcast;

const PAGE: &str = include_str!("page.html");

/// Longest message relayed, in bytes.
const MAX_MESSAGE: usize = 4096;

async fn page(headers: HeaderMap) -> Html<String> {
    let base = headers
        .get("x-micro-web-base-path")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("(not behind micro web)");
    // The base path is shown as text: escape what HTML would read.
    let shown = base
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    Html(PAGE.replace("{{BASE_PATH}}", &shown))
}

async fn socket(State(room): State<broadcast::Sender<String>>, ws: WebSocketUpgrade) -> Response {
    ws.max_message_size(MAX_MESSAGE)
        .on_upgrade(move |socket| chat(room, socket))
        .into_response()
}

/// Relay what this browser says to the room, and what the room says to this browser.
async fn chat(room: broadcast::Sender<String>, socket: WebSocket) {
    let (mut out, mut incoming) = socket.split();
    let mut heard = room.subscribe();
    let relay = tokio::spawn(async move {
        while let Ok(line) = heard.recv().await {
            if out.send(Message::Text(line.into())).await.is_err() {
                break;
            }
        }
    });
    while let Some(Ok(frame)) = incoming.next().await {
        match frame {
            Message::Text(text) if !text.trim().is_empty() => {
                let _ = room.send(text.trim().to_owned());
            }
            Message::Close(_) => break,
            _ => {}
        }
    }
    relay.abort();
}

#[tokio::main]
async fn main() -> micro::Result<()> {
    let settings = micro::Settings::from_env()?;
    let registry = settings.registry()?;
    let (room, _) = broadcast::channel::<String>(64);
    let router = Router::new()
        .route("/", get(page))
        .route("/ws", get(socket))
        .with_state(room);
    let address = std::env::var("WEBCHAT_ADDRESS").unwrap_or_else(|_| "127.0.0.1:0".to_owned());
    micro_web::WebService::new("chat")
        .address(address)
        .serve(registry, router, micro::service::shutdown_signal())
        .await
}
