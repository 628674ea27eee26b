//! The writing side of a chat connection, and answers cut into chat lines.

use std::time::Duration;

use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;

/// `text` as lines for a line-based chat (IRC): control characters dropped (a service's
/// answer cannot smuggle a protocol command in), empty lines skipped, long lines cut into
/// pieces of at most `max` bytes on character boundaries.
#[cfg(feature = "irc")]
pub(crate) fn chat_lines(text: &str, max: usize) -> Vec<String> {
    let mut lines = Vec::new();
    for line in text.split('\n') {
        let clean: String = line
            .chars()
            .map(|c| if c == '\t' { ' ' } else { c })
            .filter(|c| !c.is_control())
            .collect();
        let mut rest = clean.trim_end();
        while !rest.is_empty() {
            let mut end = rest.len().min(max);
            while !rest.is_char_boundary(end) {
                end -= 1;
            }
            if end == 0 {
                end = rest.chars().next().map_or(rest.len(), char::len_utf8);
            }
            lines.push(rest[..end].to_owned());
            rest = &rest[end..];
        }
    }
    lines
}

/// The writing side of a chat connection: text queued by any task, written in order by one
/// task. Answers may be paced (servers with flood guards); urgent text (PONG, JOIN, QUIT,
/// protocol replies) never waits behind them. A keepalive goes out when nothing else has
/// for a while. When a write fails the task ends, which [`mpsc::Sender::closed`] tells.
pub(crate) struct Outbox {
    tx: mpsc::Sender<String>,
    urgent: mpsc::Sender<String>,
    task: tokio::task::JoinHandle<()>,
}

/// What an [`Outbox`] does beyond writing.
#[derive(Clone, Debug, Default)]
pub(crate) struct Writing {
    /// Pace answers (not urgent text) for servers with flood guards.
    pub(crate) paced: bool,
    /// Text written after this long without any other, and the text.
    pub(crate) keepalive: Option<(Duration, String)>,
}

impl Outbox {
    pub(crate) fn spawn<W>(mut write: W, how: Writing) -> Outbox
    where
        W: AsyncWrite + Send + Unpin + 'static,
    {
        let (tx, mut queue) = mpsc::channel::<String>(256);
        let (urgent, mut urgent_queue) = mpsc::channel::<String>(64);
        let task = tokio::spawn(async move {
            let mut pace = Pace::new();
            let idle = how
                .keepalive
                .as_ref()
                .map_or(Duration::MAX, |(every, _)| *every);
            loop {
                let text = tokio::select! {
                    biased;
                    Some(text) = urgent_queue.recv() => {
                        if send(&mut write, &text).await.is_err() {
                            return;
                        }
                        continue;
                    }
                    text = queue.recv() => match text {
                        Some(text) => text,
                        None => break,
                    },
                    () = tokio::time::sleep(idle), if how.keepalive.is_some() => {
                        let text = how.keepalive.as_ref().map_or("", |(_, text)| text.as_str());
                        if send(&mut write, text).await.is_err() {
                            return;
                        }
                        continue;
                    }
                };
                if how.paced {
                    // Urgent text goes out while an answer waits its turn.
                    let turn = tokio::time::sleep(pace.delay());
                    tokio::pin!(turn);
                    loop {
                        tokio::select! {
                            biased;
                            Some(urgent) = urgent_queue.recv() => {
                                if send(&mut write, &urgent).await.is_err() {
                                    return;
                                }
                            }
                            () = &mut turn => break,
                        }
                    }
                }
                if send(&mut write, &text).await.is_err() {
                    return;
                }
            }
            // Answers are done: the goodbye (urgent) and a clean close.
            while let Ok(text) = urgent_queue.try_recv() {
                if send(&mut write, &text).await.is_err() {
                    return;
                }
            }
            let _ = write.shutdown().await;
        });
        Outbox { tx, urgent, task }
    }

    /// A handle to queue answers with.
    pub(crate) fn sender(&self) -> mpsc::Sender<String> {
        self.tx.clone()
    }

    /// A handle to queue urgent text with.
    pub(crate) fn urgent(&self) -> mpsc::Sender<String> {
        self.urgent.clone()
    }

    /// Send `last` (a goodbye) ahead of any answer still queued, then give the connection
    /// up to two seconds to close cleanly.
    pub(crate) async fn close(mut self, last: &str) {
        let _ = self.urgent.try_send(last.to_owned());
        let (closed, _) = mpsc::channel(1);
        drop(std::mem::replace(&mut self.tx, closed));
        if tokio::time::timeout(Duration::from_secs(2), &mut self.task)
            .await
            .is_err()
        {
            // Answers still being written: the goodbye is out, the rest is dropped.
            self.task.abort();
        }
    }
}

async fn send<W: AsyncWrite + Unpin>(write: &mut W, text: &str) -> std::io::Result<()> {
    write.write_all(text.as_bytes()).await?;
    write.flush().await
}

impl Drop for Outbox {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Two lines a second after a burst of five: under common IRC servers' flood guards. A
/// generic cell rate: each line moves the theoretical arrival time on by half a second,
/// and a line may go once that time is less than two seconds (four lines) ahead.
struct Pace {
    due: tokio::time::Instant,
}

impl Pace {
    const INTERVAL: Duration = Duration::from_millis(500);
    const TOLERANCE: Duration = Duration::from_secs(2);

    fn new() -> Pace {
        Pace {
            due: tokio::time::Instant::now(),
        }
    }

    /// How long to wait before the next line (its turn taken).
    fn delay(&mut self) -> Duration {
        let now = tokio::time::Instant::now();
        let due = self.due.max(now);
        let send_at = due.checked_sub(Pace::TOLERANCE).map_or(now, |t| t.max(now));
        self.due = due + Pace::INTERVAL;
        send_at - now
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(feature = "irc")]
    #[test]
    fn chat_lines_carry_no_control_characters() {
        assert_eq!(
            chat_lines("one\r\nQUIT :x\r\n\n\u{1}two\tthree\0", 100),
            ["one", "QUIT :x", "two three"]
        );
        assert_eq!(chat_lines("aéb", 2), ["a", "é", "b"]);
    }

    #[tokio::test(start_paused = true)]
    async fn pacing_lets_a_burst_through_then_two_lines_a_second() {
        let mut pace = Pace::new();
        for _ in 0..5 {
            assert_eq!(pace.delay(), Duration::ZERO);
        }
        assert_eq!(pace.delay(), Duration::from_millis(500));
        assert_eq!(pace.delay(), Duration::from_millis(1000));
        tokio::time::advance(Duration::from_secs(10)).await;
        assert_eq!(pace.delay(), Duration::ZERO, "refilled");
    }
}
