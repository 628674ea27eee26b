//! The file store: redb files under `MICRO_HOME/store`, one per database, a redb table per
//! store table.
//!
//! **Durability.** Each write is one redb transaction committed with an fsync before the
//! call returns, so an acknowledged write survives `kill -9` and power loss; a file left by a
//! killed process is repaired by redb when it is next opened, without help.
//!
//! **Several processes.** redb holds an exclusive lock on an open file. This store opens the
//! file for each transaction and closes it as soon as no other call of this process is
//! waiting for it, so processes of one host take turns: a call that finds the file held by
//! another process retries for up to [`FileStore::with_wait`] (10 s by default), then fails
//! naming the file. Calls of one process queue on one open handle, so a busy process does
//! not reopen the file per call.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};

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

/// One database file and the handle this process holds on it while busy.
#[derive(Debug)]
struct File {
    path: PathBuf,
    db: Mutex<Option<Database>>,
    waiting: AtomicUsize,
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
                    db: Mutex::new(None),
                    waiting: AtomicUsize::new(0),
                })
            })
            .clone()
    }

    /// Run `job` on `table`'s database file on a blocking thread.
    async fn with_db<T, F>(&self, table: &Table, job: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Database, &str) -> Result<T> + Send + 'static,
    {
        let file = self.file(&table.database);
        let wait = self.wait;
        let name = table.table.clone();
        tokio::task::spawn_blocking(move || file.run(wait, |db| job(db, &name)))
            .await
            .map_err(|e| Error::internal(ID, format!("file store task failed: {e}")))?
    }
}

impl File {
    fn run<T>(&self, wait: Duration, job: impl FnOnce(&Database) -> Result<T>) -> Result<T> {
        self.waiting.fetch_add(1, Ordering::SeqCst);
        let mut held = lock(&self.db);
        self.waiting.fetch_sub(1, Ordering::SeqCst);
        if held.is_none() {
            *held = Some(self.open(wait)?);
        }
        let result = match held.as_ref() {
            Some(db) => job(db),
            None => Err(Error::internal(ID, "file store handle missing")),
        };
        // Let other processes in once this one has nothing queued.
        if self.waiting.load(Ordering::SeqCst) == 0 {
            *held = None;
        }
        result
    }

    fn open(&self, wait: Duration) -> Result<Database> {
        let deadline = Instant::now() + wait;
        loop {
            match Database::builder()
                .set_cache_size(CACHE_BYTES)
                .create(&self.path)
            {
                Ok(db) => return Ok(db),
                Err(redb::DatabaseError::DatabaseAlreadyOpen) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(1 + fastrand::u64(0..4)));
                }
                Err(redb::DatabaseError::DatabaseAlreadyOpen) => {
                    return Err(Error::unavailable(
                        ID,
                        format!(
                            "file store {}: another process held the file for over {wait:?}",
                            self.path.display()
                        ),
                    ));
                }
                Err(e) => return Err(self.error(e)),
            }
        }
    }

    fn error(&self, e: impl Into<redb::Error>) -> Error {
        file_error(&self.path, e)
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

fn definition(name: &str) -> TableDefinition<'_, &'static str, &'static [u8]> {
    TableDefinition::new(name)
}

/// The live records of `name` that match `query`, in order, paged.
fn scan(db: &Database, path: &Path, name: &str, query: &Query) -> Result<Vec<Record>> {
    let txn = db.begin_read().map_err(|e| file_error(path, e))?;
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
        Box::pin(self.with_db(table, move |db, name| scan(db, &path, name, &query)))
    }

    fn list<'a>(
        &'a self,
        table: &'a Table,
        query: &'a Query,
    ) -> BoxFuture<'a, Result<Vec<String>>> {
        Box::pin(async move {
            let records = self.read(table, query).await?;
            Ok(records.into_iter().map(|r| r.key).collect())
        })
    }

    fn write<'a>(&'a self, table: &'a Table, record: &'a Record) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let bytes = blob::encode(record)?;
            let key = record.key.clone();
            let path = self.path_of(&table.database);
            self.with_db(table, move |db, name| {
                let txn = db.begin_write().map_err(|e| file_error(&path, e))?;
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
        Box::pin(self.with_db(table, move |db, name| {
            let txn = db.begin_write().map_err(|e| file_error(&path, e))?;
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
            self.with_db(table, move |db, name| {
                let what = format!("file store {}", path.display());
                let txn = db.begin_write().map_err(|e| file_error(&path, e))?;
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
