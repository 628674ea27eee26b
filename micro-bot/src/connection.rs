//! Staying connected to a chat network: why a connection ended, and the loop that makes
//! it again with growing pauses.

use std::future::Future;
use std::time::Duration;

use tokio::sync::watch;

/// Why a connection to a chat network ended.
#[derive(Debug)]
pub(crate) enum Failure {
    /// It dropped or could not be made: try again after a pause. `connected` says whether
    /// it had been up (the pauses start again from one second when it stayed up a minute).
    Retry { connected: bool, why: String },
    /// What trying again cannot mend: a refused login, a bad setting.
    Fatal(micro::Error),
}

impl Failure {
    pub(crate) fn retry(connected: bool, why: impl std::fmt::Display) -> Failure {
        Failure::Retry {
            connected,
            why: why.to_string(),
        }
    }
}

/// Run `session` again and again (pausing longer each time it fails before connecting)
/// until `stop` turns true or it fails for good.
pub(crate) async fn reconnecting<F, Fut>(
    input: &'static str,
    mut stop: watch::Receiver<bool>,
    mut session: F,
) -> micro::Result<()>
where
    F: FnMut(watch::Receiver<bool>) -> Fut,
    Fut: Future<Output = Result<(), Failure>>,
{
    let mut attempt = 0;
    loop {
        if *stop.borrow() {
            return Ok(());
        }
        let started = tokio::time::Instant::now();
        match session(stop.clone()).await {
            Ok(()) => return Ok(()),
            Err(Failure::Fatal(e)) => {
                tracing::error!(target: "micro::bot", input, error = %e.detail(), "giving up");
                return Err(e);
            }
            Err(Failure::Retry { connected, why }) => {
                // A server that lets the bot in and throws it out at once is not hammered.
                if connected && started.elapsed() >= STABLE {
                    attempt = 0;
                }
                let delay = backoff(attempt);
                attempt += 1;
                tracing::warn!(target: "micro::bot", input, error = %why, retry_in = ?delay, "connection lost");
                if pause(&mut stop, delay).await {
                    return Ok(());
                }
            }
        }
    }
}

/// How long a connection must stay up for the pauses between attempts to start again.
const STABLE: Duration = Duration::from_secs(60);

/// Wait `delay` or until `stop` turns true; true if stopped.
pub(crate) async fn pause(stop: &mut watch::Receiver<bool>, delay: Duration) -> bool {
    if *stop.borrow() {
        return true;
    }
    tokio::select! {
        () = tokio::time::sleep(delay) => *stop.borrow(),
        _ = stop.changed() => true,
    }
}

/// The delay before reconnect attempt `attempt` (1 s doubling to 30 s).
pub(crate) fn backoff(attempt: u32) -> Duration {
    Duration::from_secs(1u64 << attempt.min(5)).min(Duration::from_secs(30))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_thirty_seconds() {
        assert_eq!(backoff(0), Duration::from_secs(1));
        assert_eq!(backoff(2), Duration::from_secs(4));
        assert_eq!(backoff(9), Duration::from_secs(30));
    }
}
