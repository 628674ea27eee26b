//! The default registry: one JSON file per node under a directory (`$MICRO_HOME/registry`).
//!
//! Every process of one user on one host sees the same entries, with no daemon and no network
//! traffic. Writes are atomic (write a temporary file, then rename), entries carry their
//! expiry so a node killed with `kill -9` disappears after its TTL, and watchers poll the
//! directory's modification time (one `stat` per tick) so they see a change within about
//! 50 ms.
//!
//! Expiry is judged on the host's boot clock (Linux), which every process of the host shares
//! and a step of the wall clock does not move; entries of another boot fall back to the wall
//! clock. Only small regular files are read (no symbolic links, FIFOs or devices, nothing
//! over 1 MiB). A dead entry is removed by renaming it aside first and putting it back if a
//! heartbeat rewrote it meanwhile, so reaping never deletes a fresh registration.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Weak};
use std::time::{Duration, SystemTime};

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use tokio::sync::{Mutex, broadcast};

use super::snapshot::{self, Record, Snapshot};
use super::{BoxFuture, RegisterOptions, Registry, Service, WatchOptions, Watcher};
use crate::error::{Error, Result};

/// Characters kept as they are in file names; everything else is percent-encoded, so `+`
/// can separate the service name from the node id.
const FILE_SAFE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.');

/// How often watchers look at the directory.
const DEFAULT_POLL: Duration = Duration::from_millis(25);

/// A directory modified this recently is scanned again even if its mtime did not change,
/// because file systems keep coarse timestamps (two changes in one tick share one mtime).
const SETTLE: Duration = Duration::from_millis(250);

/// Expired entries are removed from disk this long after they expired.
const REAP_AFTER_MS: u64 = 2_000;

/// Entries larger than this are skipped (a registry record is a few KiB).
const MAX_ENTRY: u64 = 1024 * 1024;

/// An entry as stored: the record, and its expiry on the host's boot clock, which a step of
/// the wall clock does not move (every process of the host reads the same clock).
#[derive(serde::Serialize, serde::Deserialize)]
struct Entry {
    #[serde(flatten)]
    record: Record,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    boot: Option<BootExpiry>,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct BootExpiry {
    /// The boot the expiry belongs to.
    id: String,
    /// Milliseconds since that boot after which the entry is dead.
    expires: u64,
}

/// The clocks a scan judges expiry by.
struct Clocks {
    wall: u64,
    boot: Option<(&'static str, u64)>,
}

impl Clocks {
    fn now() -> Clocks {
        Clocks {
            wall: snapshot::now_ms(),
            boot: crate::files::boot_id().zip(crate::files::boot_ms()),
        }
    }

    /// Milliseconds past the entry's expiry (0 while it lives), by the boot clock when the
    /// entry was written in this boot, else by the wall clock. The record's expiry is set
    /// to the wall-clock time it amounts to now.
    fn judge(&self, entry: &mut Entry) -> Option<u64> {
        let expires = match (&entry.boot, self.boot) {
            (Some(b), Some((id, now))) if b.id == id => {
                let left = b.expires.saturating_sub(now);
                let past = now.saturating_sub(b.expires);
                entry.record.expires = Some(self.wall.saturating_add(left));
                return if left == 0 { Some(past) } else { None };
            }
            _ => entry.record.expires?,
        };
        (expires <= self.wall).then(|| self.wall - expires)
    }
}

/// The zero-configuration registry shared by every process of one user on one host.
///
/// ```no_run
/// # fn main() -> micro::Result<()> {
/// let registry = micro::registry::LocalRegistry::new("/tmp/micro-home/registry")?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct LocalRegistry {
    inner: Arc<Inner>,
}

struct Inner {
    dir: PathBuf,
    poll: Duration,
    watch: Mutex<Option<broadcast::Sender<super::Event>>>,
}

impl LocalRegistry {
    /// A registry stored in `dir` (created if missing).
    pub fn new(dir: impl Into<PathBuf>) -> Result<LocalRegistry> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir).map_err(|e| {
            Error::internal(
                super::ID,
                format!(
                    "cannot create the local registry directory {}: {e} (set MICRO_HOME to a writable directory)",
                    dir.display()
                ),
            )
        })?;
        Ok(LocalRegistry {
            inner: Arc::new(Inner {
                dir,
                poll: DEFAULT_POLL,
                watch: Mutex::new(None),
            }),
        })
    }

    /// The directory holding the entries.
    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }
}

impl fmt::Debug for LocalRegistry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalRegistry")
            .field("dir", &self.inner.dir)
            .finish_non_exhaustive()
    }
}

fn file_name(service: &str, node: &str) -> String {
    format!(
        "{}+{}.json",
        utf8_percent_encode(service, FILE_SAFE),
        utf8_percent_encode(node, FILE_SAFE)
    )
}

fn service_prefix(service: &str) -> String {
    format!("{}+", utf8_percent_encode(service, FILE_SAFE))
}

fn io_error(what: &str, path: &Path, e: &io::Error) -> Error {
    Error::internal(
        super::ID,
        format!("local registry: cannot {what} {}: {e}", path.display()),
    )
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::internal(super::ID, format!("local registry task failed: {e}")))?
}

fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> Result<()> {
    let tmp = dir.join(format!(
        ".{}.{}.{:x}.tmp",
        name,
        std::process::id(),
        fastrand::u64(..)
    ));
    std::fs::write(&tmp, bytes).map_err(|e| io_error("write", &tmp, &e))?;
    let path = dir.join(name);
    std::fs::rename(&tmp, &path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        io_error("write", &path, &e)
    })
}

/// Remove the expired entry at `path` whose bytes were `seen`, unless a heartbeat rewrote it
/// meanwhile: the file is first renamed aside (atomically), then checked; a fresh one is
/// linked back (unless a newer one already took its place).
fn reap(dir: &Path, path: &Path, seen: &[u8]) {
    let aside = dir.join(format!(
        ".reap.{}.{:x}.tmp",
        std::process::id(),
        fastrand::u64(..)
    ));
    if std::fs::rename(path, &aside).is_err() {
        return;
    }
    let now = crate::files::read_regular(&aside, MAX_ENTRY).ok();
    if now.as_deref() != Some(seen) {
        let _ = std::fs::hard_link(&aside, path);
    }
    let _ = std::fs::remove_file(&aside);
}

/// Read every live record whose file name starts with `prefix`.
fn scan(dir: &Path, prefix: Option<&str>) -> Result<Snapshot> {
    let mut out = Snapshot::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(io_error("read", dir, &e)),
    };
    let clocks = Clocks::now();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if name.starts_with('.') || !name.ends_with(".json") {
            continue;
        }
        if prefix.is_some_and(|p| !name.starts_with(p)) {
            continue;
        }
        let path = entry.path();
        let bytes = match crate::files::read_regular(&path, MAX_ENTRY) {
            Ok(bytes) => bytes,
            Err(crate::files::Skip::Missing) => continue, // removed since read_dir
            Err(why) => {
                tracing::debug!(file = %path.display(), %why, "skipping a registry entry that is not a small regular file");
                continue;
            }
        };
        let mut stored: Entry = match serde_json::from_slice(&bytes) {
            Ok(stored) => stored,
            Err(e) => {
                tracing::debug!(file = %path.display(), error = %e, "skipping malformed registry entry");
                continue;
            }
        };
        if stored.record.service.nodes.len() != 1 {
            continue;
        }
        if let Some(past) = clocks.judge(&mut stored) {
            if past > REAP_AFTER_MS {
                reap(dir, &path, &bytes);
            }
            continue;
        }
        out.insert(stored.record.key(), stored.record);
    }
    Ok(out)
}

fn dir_mtime(dir: &Path) -> Option<SystemTime> {
    std::fs::metadata(dir).and_then(|m| m.modified()).ok()
}

impl Registry for LocalRegistry {
    fn register<'a>(
        &'a self,
        service: &'a Service,
        options: RegisterOptions,
    ) -> BoxFuture<'a, Result<()>> {
        let dir = self.inner.dir.clone();
        let records = snapshot::split(service, options.ttl);
        let ttl = options.ttl;
        Box::pin(blocking(move || {
            std::fs::create_dir_all(&dir).map_err(|e| io_error("create", &dir, &e))?;
            let boot = crate::files::boot_id().zip(crate::files::boot_ms());
            for record in records {
                let (name, node) = record.key();
                let boot = match (boot, ttl) {
                    (Some((id, now)), Some(ttl)) => Some(BootExpiry {
                        id: id.to_owned(),
                        expires: now
                            .saturating_add(u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX)),
                    }),
                    _ => None,
                };
                let bytes = serde_json::to_vec(&Entry { record, boot })
                    .map_err(|e| Error::internal(super::ID, format!("encode entry: {e}")))?;
                write_atomic(&dir, &file_name(&name, &node), &bytes)?;
            }
            Ok(())
        }))
    }

    fn deregister<'a>(&'a self, service: &'a Service) -> BoxFuture<'a, Result<()>> {
        let dir = self.inner.dir.clone();
        let files: Vec<String> = service
            .nodes
            .iter()
            .map(|n| file_name(&service.name, &n.id))
            .collect();
        Box::pin(blocking(move || {
            for file in files {
                let path = dir.join(file);
                match std::fs::remove_file(&path) {
                    Ok(()) => {}
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                    Err(e) => return Err(io_error("remove", &path, &e)),
                }
            }
            Ok(())
        }))
    }

    fn get_service<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<Vec<Service>>> {
        let dir = self.inner.dir.clone();
        let prefix = service_prefix(name);
        let wanted = name.to_owned();
        Box::pin(async move {
            let snap = blocking(move || scan(&dir, Some(&prefix))).await?;
            let services = snapshot::group(snap.values().filter(|r| r.service.name == wanted));
            if services.is_empty() {
                Err(super::not_found(name))
            } else {
                Ok(services)
            }
        })
    }

    fn list_services(&self) -> BoxFuture<'_, Result<Vec<Service>>> {
        let dir = self.inner.dir.clone();
        Box::pin(async move {
            let snap = blocking(move || scan(&dir, None)).await?;
            Ok(snapshot::group(snap.values()))
        })
    }

    fn watch(&self, options: WatchOptions) -> BoxFuture<'_, Result<Watcher>> {
        Box::pin(async move {
            let mut slot = self.inner.watch.lock().await;
            if let Some(tx) = slot.as_ref() {
                return Ok(super::memory::watch_broadcast(tx.subscribe(), options));
            }
            let (tx, rx) = broadcast::channel(1024);
            let dir = self.inner.dir.clone();
            let (mtime, initial) = blocking(move || {
                let mtime = dir_mtime(&dir);
                Ok((mtime, scan(&dir, None)?))
            })
            .await?;
            *slot = Some(tx.clone());
            tokio::spawn(poll_loop(Arc::downgrade(&self.inner), tx, initial, mtime));
            Ok(super::memory::watch_broadcast(rx, options))
        })
    }

    fn name(&self) -> &'static str {
        "local"
    }
}

async fn poll_loop(
    inner: Weak<Inner>,
    tx: broadcast::Sender<super::Event>,
    mut current: Snapshot,
    mut mtime: Option<SystemTime>,
) {
    let Some(strong) = inner.upgrade() else {
        return;
    };
    let poll = strong.poll;
    let dir = strong.dir.clone();
    drop(strong);
    // The soonest expiry, worked out once per change rather than on every tick (a tick
    // then costs one `stat`, however many entries there are).
    let soonest = |current: &Snapshot| current.values().filter_map(|r| r.expires).min();
    let mut next_expiry = soonest(&current);
    let mut tick = tokio::time::interval(poll);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        {
            let Some(inner) = inner.upgrade() else { return };
            let mut slot = inner.watch.lock().await;
            if tx.receiver_count() == 0 {
                *slot = None;
                return;
            }
        }
        let now_ms = snapshot::now_ms();
        let dir2 = dir.clone();
        let checked = blocking(move || Ok(dir_mtime(&dir2))).await;
        let Ok(new_mtime) = checked else { continue };
        let recent = new_mtime
            .and_then(|m| SystemTime::now().duration_since(m).ok())
            .is_none_or(|age| age < SETTLE);
        let expired = next_expiry.is_some_and(|at| at <= now_ms);
        if new_mtime == mtime && !recent && !expired {
            continue;
        }
        let dir2 = dir.clone();
        let Ok(next) = blocking(move || scan(&dir2, None)).await else {
            continue;
        };
        for event in snapshot::diff(&current, &next) {
            let _ = tx.send(event);
        }
        current = next;
        next_expiry = soonest(&current);
        mtime = new_mtime;
    }
}

/// Decode a file name back into `(service, node)`; used by tests and tools.
#[allow(dead_code)]
pub(crate) fn parse_file_name(name: &str) -> Option<(String, String)> {
    let stem = name.strip_suffix(".json")?;
    let (svc, node) = stem.split_once('+')?;
    Some((
        percent_decode_str(svc).decode_utf8().ok()?.into_owned(),
        percent_decode_str(node).decode_utf8().ok()?.into_owned(),
    ))
}

/// An entry file's bytes, read as a scan reads them (fuzz targets).
#[cfg(feature = "fuzzing")]
pub(crate) fn fuzz(data: &[u8]) {
    if let Ok(mut entry) = serde_json::from_slice::<Entry>(data) {
        let _ = Clocks::now().judge(&mut entry);
        let _ = entry.record.key();
    }
}

#[cfg(test)]
mod tests;
