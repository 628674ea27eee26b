//! The stdio transport: one JSON-RPC message per line in, one per line out (logs go to
//! stderr); requests run side by side, and a change of the tool list is announced once the
//! client has initialized.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::Value as Json;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::mpsc;

use crate::{Caller, Mcp, rpc};

/// The longest line taken: a larger message is answered with a parse error and skipped.
const MAX_LINE: usize = 4 << 20;

impl Mcp {
    /// Serve MCP on `input` and `output` (a process's stdin and stdout) until `input` ends.
    pub async fn serve_stdio<R, W>(self, input: R, output: W) -> micro::Result<()>
    where
        R: AsyncRead + Unpin + Send + 'static,
        W: AsyncWrite + Unpin + Send + 'static,
    {
        let (tx, mut rx) = mpsc::channel::<Json>(64);
        let writer = tokio::spawn(async move {
            let mut output = output;
            while let Some(message) = rx.recv().await {
                let mut line = message.to_string();
                line.push('\n');
                if output.write_all(line.as_bytes()).await.is_err() || output.flush().await.is_err()
                {
                    return;
                }
            }
        });
        let initialized = Arc::new(AtomicBool::new(false));
        let mut changes = self.changes();
        let notifier = {
            let tx = tx.clone();
            let initialized = initialized.clone();
            tokio::spawn(async move {
                while changes.changed().await.is_ok() {
                    if initialized.load(Ordering::Acquire)
                        && tx.send(rpc::list_changed()).await.is_err()
                    {
                        return;
                    }
                }
            })
        };
        let caller = Caller::anonymous("stdio");
        let mut input = BufReader::new(input);
        let mut line = Vec::new();
        let mut calls = tokio::task::JoinSet::new();
        let mut failed = None;
        loop {
            line.clear();
            let read = (&mut input)
                .take(MAX_LINE as u64 + 1)
                .read_until(b'\n', &mut line)
                .await;
            let read = match read {
                Ok(read) => read,
                Err(e) => {
                    failed = Some(micro::Error::internal(
                        "micro.mcp",
                        format!("reading stdin: {e}"),
                    ));
                    break;
                }
            };
            if read == 0 {
                break;
            }
            if line.len() > MAX_LINE && !line.ends_with(b"\n") {
                // Skip the rest of the oversized line without keeping it.
                if let Err(e) = skip_line(&mut input).await {
                    failed = Some(micro::Error::internal(
                        "micro.mcp",
                        format!("reading stdin: {e}"),
                    ));
                    break;
                }
                let _ = tx
                    .send(rpc::error(
                        Json::Null,
                        rpc::PARSE_ERROR,
                        format!("a message over {MAX_LINE} bytes was skipped"),
                    ))
                    .await;
                continue;
            }
            let text = line.trim_ascii();
            if text.is_empty() {
                continue;
            }
            let message = match rpc::parse(text) {
                Ok(message) => message,
                Err(answer) => {
                    let _ = tx.send(answer).await;
                    continue;
                }
            };
            if message.get("method").and_then(Json::as_str) == Some("notifications/initialized") {
                initialized.store(true, Ordering::Release);
            }
            let mcp = self.clone();
            let tx = tx.clone();
            let caller = caller.clone();
            calls.spawn(async move {
                if let Some(answer) = mcp.handle(message, &caller).await {
                    let _ = tx.send(answer).await;
                }
            });
            while calls.try_join_next().is_some() {}
        }
        // The input ended: let the calls in flight answer, then stop.
        while calls.join_next().await.is_some() {}
        notifier.abort();
        drop(tx);
        let _ = writer.await;
        failed.map_or(Ok(()), Err)
    }
}

/// Read up to the next newline, keeping nothing.
async fn skip_line<R: AsyncRead + Unpin>(input: &mut BufReader<R>) -> std::io::Result<()> {
    loop {
        let buf = input.fill_buf().await?;
        if buf.is_empty() {
            return Ok(());
        }
        match buf.iter().position(|b| *b == b'\n') {
            Some(at) => {
                input.consume(at + 1);
                return Ok(());
            }
            None => {
                let n = buf.len();
                input.consume(n);
            }
        }
    }
}
