//! The file store: redb files under `MICRO_HOME/store`, one per database, a redb table per
//! store table.
//!
//! **Durability.** Each write is one redb transaction committed with an fsync before the
//! call returns, so an acknowledged write survives `kill -9` and power loss; a file left by a
//! killed process is repaired by redb when it is next opened, without help.
//!
//! **Several processes.** redb locks an open file: exclusively for writing, shared for
//! reading. This store opens the file when a call needs it (read-only for reads, so readers
//! never fsync) and closes it as soon as no other call of this process is waiting, or after
//! holding it for 50 ms while calls keep coming — so processes of one host take turns and a
//! busy one cannot starve the others. A call that finds the file held by another process
//! retries for up to [`FileStore::with_wait`] (10 s by default, counted from the call's
//! start), then fails naming the file.
//!
//! **Expiry.** Expired records are never returned; they stay in the file until overwritten
//! or deleted.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use redb::{Database, ReadOnlyDatabase, ReadableDatabase, ReadableTable, TableDefinition};

use super::{ID, Limits, Query, Record, StoreEngine, Table, blob};
use crate::BoxFuture;
use crate::error::{Error, Result};

const CACHE_BYTES: usize = 16 * 1024 * 1024;

/// Records in redb files under a directory (`MICRO_STORE=file`, the default).
#[derive(Clone, Debug)]
pub struct FileStore {
    dir: PathBuf,
    wait: Duration,
    files: Arc<Mutex<HashMap<String, Arc<File>>>>,
}

/// How long one process keeps a file while its calls keep coming.
const HOLD: Duration = Duration::from_millis(50);

/// The handle this process holds on a file while busy.
enum Handle {
    /// Open for reading (a shared lock).
    Read(ReadOnlyDatabase),
    /// Open for reading and writing (an exclusive lock).
    Write(Database),
}

impl std::fmt::Debug for Handle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Handle::Read(_) => "Read",
            Handle::Write(_) => "Write",
        })
    }
}

/// One database file and the handle this process holds on it while busy.
#[derive(Debug)]
struct File {
    path: PathBuf,
    held: Mutex<Option<(Handle, Instant)>>,
    waiting: AtomicUsize,
}

/// What a job runs on.
enum Db<'a> {
    /// No file yet: nothing to read.
    Missing,
    /// A read-only handle.
    Read(&'a ReadOnlyDatabase),
    /// A writable handle.
    Write(&'a Database),
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl FileStore {
    /// A store keeping its files in `dir` (made when missing).
    pub fn new(dir: impl Into<PathBuf>) -> Result<FileStore> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir).map_err(|e| {
            Error::internal(
                ID,
                format!("file store: cannot make directory {}: {e}", dir.display()),
            )
        })?;
        Ok(FileStore {
            dir,
            wait: Duration::from_secs(10),
            files: Arc::default(),
        })
    }

    /// How long a call waits for a file another process holds (default 10 s).
    #[must_use]
    pub fn with_wait(mut self, wait: Duration) -> FileStore {
        self.wait = wait;
        self
    }

    /// The directory of the files.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file that holds `database`: its name with every byte outside `[A-Za-z0-9_-]`
    /// (and a leading `.`) written as `%XX`, so any database name is a safe file name.
    pub fn path_of(&self, database: &str) -> PathBuf {
        let mut name = String::with_capacity(database.len() + 6);
        for (i, b) in database.bytes().enumerate() {
            if b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || (b == b'.' && i > 0) {
                name.push(char::from(b));
            } else {
                name.push_str(&format!("%{b:02X}"));
            }
        }
        name.push_str(".redb");
        self.dir.join(name)
    }

    fn file(&self, database: &str) -> Arc<File> {
        lock(&self.files)
            .entry(database.to_owned())
            .or_insert_with(|| {
                Arc::new(File {
                    path: self.path_of(database),
                    held: Mutex::new(None),
                    waiting: AtomicUsize::new(0),
                })
            })
            .clone()
    }

    /// Run `job` on `table`'s database file on a blocking thread, with a writable handle when
    /// `write`, else with whatever handle is at hand.
    async fn with_db<T, F>(&self, table: &Table, write: bool, job: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(Db<'_>, &str) -> Result<T> + Send + 'static,
    {
        let file = self.file(&table.database);
        let deadline = Instant::now() + self.wait;
        let name = table.table.clone();
        let path = file.path.clone();
        tokio::task::spawn_blocking(move || file.run(deadline, write, |db| job(db, &name)))
            .await
            .map_err(|e| {
                Error::internal(
                    ID,
                    format!("file store {}: the call's task failed: {e}", path.display()),
                )
            })?
    }
}

impl File {
    fn run<T>(
        &self,
        deadline: Instant,
        write: bool,
        job: impl FnOnce(Db<'_>) -> Result<T>,
    ) -> Result<T> {
        self.waiting.fetch_add(1, Ordering::SeqCst);
        let mut held = lock(&self.held);
        self.waiting.fetch_sub(1, Ordering::SeqCst);
        // A read-only handle cannot write: trade it for a writable one.
        if write && matches!(held.as_ref(), Some((Handle::Read(_), _))) {
            *held = None;
        }
        if held.is_none() {
            let handle = if write {
                Some(Handle::Write(self.open(deadline)?))
            } else {
                self.open_for_reading(deadline)?
            };
            *held = handle.map(|h| (h, Instant::now()));
        }
        let result = match held.as_ref() {
            None => job(Db::Missing),
            Some((Handle::Read(db), _)) => job(Db::Read(db)),
            Some((Handle::Write(db), _)) => job(Db::Write(db)),
        };
        // Let other processes in once this one has nothing queued, or has held the file
        // long enough.
        let queued = self.waiting.load(Ordering::SeqCst) > 0;
        if !queued
            || held
                .as_ref()
                .is_some_and(|(_, since)| since.elapsed() > HOLD)
        {
            *held = None;
        }
        result
    }

    /// A read-only handle, `None` when there is no file yet; a file left by a killed
    /// process needs the repair only a writable open does, so that is the fallback.
    fn open_for_reading(&self, deadline: Instant) -> Result<Option<Handle>> {
        loop {
            match Database::builder()
                .set_cache_size(CACHE_BYTES)
                .open_read_only(&self.path)
            {
                Ok(db) => return Ok(Some(Handle::Read(db))),
                Err(redb::DatabaseError::Storage(redb::StorageError::Io(e)))
                    if e.kind() == std::io::ErrorKind::NotFound =>
                {
                    return Ok(None);
                }
                Err(redb::DatabaseError::DatabaseAlreadyOpen) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(1 + fastrand::u64(0..4)));
                }
                Err(redb::DatabaseError::DatabaseAlreadyOpen) => return Err(self.busy()),
                Err(_) => return self.open(deadline).map(|db| Some(Handle::Write(db))),
            }
        }
    }

    fn open(&self, deadline: Instant) -> Result<Database> {
        loop {
            match Database::builder()
                .set_cache_size(CACHE_BYTES)
                .create(&self.path)
            {
                Ok(db) => return Ok(db),
                Err(redb::DatabaseError::DatabaseAlreadyOpen) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(1 + fastrand::u64(0..4)));
                }
                Err(redb::DatabaseError::DatabaseAlreadyOpen) => return Err(self.busy()),
                Err(e) => return Err(file_error(&self.path, e)),
            }
        }
    }

    fn busy(&self) -> Error {
        Error::unavailable(
            ID,
            format!(
                "file store {}: another process held the file for the whole wait",
                self.path.display()
            ),
        )
    }
}

fn file_error(path: &Path, e: impl Into<redb::Error>) -> Error {
    let e: redb::Error = e.into();
    let hint = match e {
        redb::Error::Corrupted(_) | redb::Error::UpgradeRequired(_) => {
            ": the file is not a store micro can read; move it away to start empty"
        }
        _ => "",
    };
    Error::internal(ID, format!("file store {}: {e}{hint}", path.display()))
}

fn writable<'a>(db: Db<'a>, path: &Path) -> Result<&'a Database> {
    match db {
        Db::Write(db) => Ok(db),
        Db::Missing | Db::Read(_) => Err(Error::internal(
            ID,
            format!("file store {}: no writable handle", path.display()),
        )),
    }
}

fn definition(name: &str) -> TableDefinition<'_, &'static str, &'static [u8]> {
    TableDefinition::new(name)
}

/// The live records of `name` that match `query`, in order, paged.
fn scan(db: Db<'_>, path: &Path, name: &str, query: &Query) -> Result<Vec<Record>> {
    let txn = match db {
        Db::Missing => return Ok(Vec::new()),
        Db::Read(db) => db.begin_read(),
        Db::Write(db) => db.begin_read(),
    }
    .map_err(|e| file_error(path, e))?;
    let table = match txn.open_table(definition(name)) {
        Ok(table) => table,
        Err(redb::TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
        Err(e) => return Err(file_error(path, e)),
    };
    let now = SystemTime::now();
    let what = format!("file store {}", path.display());
    if let Some(key) = &query.exact {
        let Some(value) = table.get(key.as_str()).map_err(|e| file_error(path, e))? else {
            return Ok(Vec::new());
        };
        let record = blob::decode(key, Bytes::copy_from_slice(value.value()), &what)?;
        return Ok(if record.is_expired(now) {
            Vec::new()
        } else {
            vec![record]
        });
    }
    let start = query.prefix.as_deref().unwrap_or("");
    let range = table.range(start..).map_err(|e| file_error(path, e))?;
    let mut skip = query.offset;
    let mut out = Vec::new();
    for item in range {
        let (key, value) = item.map_err(|e| file_error(path, e))?;
        let key = key.value();
        if !key.starts_with(start) {
            break;
        }
        if !query.matches(key) {
            continue;
        }
        let record = blob::decode(key, Bytes::copy_from_slice(value.value()), &what)?;
        if record.is_expired(now) {
            continue;
        }
        if skip > 0 {
            skip -= 1;
            continue;
        }
        if query.limit.is_some_and(|limit| out.len() >= limit) {
            break;
        }
        out.push(record);
    }
    Ok(out)
}

impl StoreEngine for FileStore {
    fn name(&self) -> &'static str {
        "file"
    }

    fn limits(&self) -> Limits {
        Limits {
            max_key: 64 * 1024,
            max_value: 64 * 1024 * 1024,
        }
    }

    fn read<'a>(
        &'a self,
        table: &'a Table,
        query: &'a Query,
    ) -> BoxFuture<'a, Result<Vec<Record>>> {
        let query = query.clone();
        let path = self.path_of(&table.database);
        Box::pin(self.with_db(table, false, move |db, name| scan(db, &path, name, &query)))
    }

    fn write<'a>(&'a self, table: &'a Table, record: &'a Record) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let bytes = blob::encode(record)?;
            let key = record.key.clone();
            let path = self.path_of(&table.database);
            self.with_db(table, true, move |db, name| {
                let txn = writable(db, &path)?
                    .begin_write()
                    .map_err(|e| file_error(&path, e))?;
                {
                    let mut t = txn
                        .open_table(definition(name))
                        .map_err(|e| file_error(&path, e))?;
                    t.insert(key.as_str(), &bytes[..])
                        .map_err(|e| file_error(&path, e))?;
                }
                txn.commit().map_err(|e| file_error(&path, e))
            })
            .await
        })
    }

    fn delete<'a>(&'a self, table: &'a Table, key: &'a str) -> BoxFuture<'a, Result<bool>> {
        let key = key.to_owned();
        let path = self.path_of(&table.database);
        Box::pin(self.with_db(table, true, move |db, name| {
            let txn = writable(db, &path)?
                .begin_write()
                .map_err(|e| file_error(&path, e))?;
            let removed = {
                let mut t = txn
                    .open_table(definition(name))
                    .map_err(|e| file_error(&path, e))?;
                let old = t.remove(key.as_str()).map_err(|e| file_error(&path, e))?;
                old.is_some()
            };
            txn.commit().map_err(|e| file_error(&path, e))?;
            Ok(removed)
        }))
    }

    fn swap<'a>(
        &'a self,
        table: &'a Table,
        expected: Option<&'a [u8]>,
        record: &'a Record,
    ) -> BoxFuture<'a, Result<bool>> {
        Box::pin(async move {
            let bytes = blob::encode(record)?;
            let key = record.key.clone();
            let expected = expected.map(<[u8]>::to_vec);
            let path = self.path_of(&table.database);
            self.with_db(table, true, move |db, name| {
                let what = format!("file store {}", path.display());
                let txn = writable(db, &path)?
                    .begin_write()
                    .map_err(|e| file_error(&path, e))?;
                {
                    let mut t = txn
                        .open_table(definition(name))
                        .map_err(|e| file_error(&path, e))?;
                    let current = match t.get(key.as_str()).map_err(|e| file_error(&path, e))? {
                        Some(value) => {
                            let record =
                                blob::decode(&key, Bytes::copy_from_slice(value.value()), &what)?;
                            (!record.is_expired(SystemTime::now())).then_some(record.value)
                        }
                        None => None,
                    };
                    if current.as_deref() != expected.as_deref() {
                        return Ok(false);
                    }
                    t.insert(key.as_str(), &bytes[..])
                        .map_err(|e| file_error(&path, e))?;
                }
                txn.commit().map_err(|e| file_error(&path, e))?;
                Ok(true)
            })
            .await
        })
    }
}
