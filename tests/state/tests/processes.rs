//! Several processes on one store: a counter incremented by two processes through `file`
//! and through Redis loses no update; `kill -9` during acknowledged writes to `file` loses
//! none of them.

#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use micro::store::{FileStore, ListOptions, Store};
use state_tests::{Engine, clear, redis_url};

const WORKER: &str = env!("CARGO_BIN_EXE_state-worker");

fn counter_in_two_processes(env: &[(&str, &str)]) {
    let children: Vec<_> = (0..2)
        .map(|_| {
            Command::new(WORKER)
                .args(["count", "hits", "1000"])
                .envs(env.iter().copied())
                .env("MICRO_STORE_DATABASE", "state_tests")
                .env("MICRO_STORE_TABLE", "counter")
                .stdout(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "worker failed: {out:?}");
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "done");
    }
}

async fn counter_store(engine: micro::store::SharedStore) -> Store {
    let table = micro::store::Table::new("state_tests", "counter").unwrap();
    Store::with_table(engine, table).unwrap()
}

#[tokio::test]
async fn two_processes_count_to_2000_through_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_str().unwrap().to_owned();
    tokio::task::spawn_blocking(move || {
        counter_in_two_processes(&[("MICRO_STORE", "file"), ("MICRO_STORE_ADDRESS", &path)])
    })
    .await
    .unwrap();
    let store = counter_store(std::sync::Arc::new(FileStore::new(dir.path()).unwrap())).await;
    assert_eq!(store.get::<u64>("hits").await.unwrap(), Some(2000));
}

#[tokio::test]
async fn two_processes_count_to_2000_through_redis() {
    if !Engine::Redis.available("two_processes_count_to_2000_through_redis") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let store = counter_store(Engine::Redis.engine(dir.path()).unwrap()).await;
    clear(&store).await.unwrap();
    let url = redis_url();
    tokio::task::spawn_blocking(move || {
        counter_in_two_processes(&[("MICRO_STORE", "redis"), ("MICRO_STORE_ADDRESS", &url)])
    })
    .await
    .unwrap();
    assert_eq!(store.get::<u64>("hits").await.unwrap(), Some(2000));
    clear(&store).await.unwrap();
}

#[tokio::test]
async fn kill_9_loses_no_acknowledged_write_to_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_str().unwrap().to_owned();
    let last_ack = tokio::task::spawn_blocking(move || {
        let mut child = Command::new(WORKER)
            .args(["ack", "w"])
            .env("MICRO_STORE", "file")
            .env("MICRO_STORE_ADDRESS", &path)
            .env("MICRO_STORE_DATABASE", "state_tests")
            .env("MICRO_STORE_TABLE", "acks")
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut last = None;
        for line in lines.by_ref() {
            let n: u64 = line.unwrap().trim_start_matches("ack ").parse().unwrap();
            last = Some(n);
            if n >= 300 {
                break;
            }
        }
        // SIGKILL while the worker is mid-stream; acks it printed before dying count too.
        child.kill().unwrap();
        for line in lines {
            let Ok(line) = line else { break };
            if let Ok(n) = line.trim_start_matches("ack ").parse() {
                last = Some(n);
            }
        }
        child.wait().unwrap();
        last.unwrap()
    })
    .await
    .unwrap();
    // The file was left open by a killed process: it opens without help, and every
    // acknowledged write is there.
    let store = Store::with_table(
        std::sync::Arc::new(FileStore::new(dir.path()).unwrap()),
        micro::store::Table::new("state_tests", "acks").unwrap(),
    )
    .unwrap();
    for i in 0..=last_ack {
        let record = store.read_one(&format!("w/{i}")).await.unwrap();
        assert_eq!(
            record.map(|r| r.value),
            Some(bytes::Bytes::from(i.to_string())),
            "acknowledged write w/{i} (of 0..={last_ack}) lost"
        );
    }
    let keys = store
        .list(ListOptions::default().prefix("w/"))
        .await
        .unwrap();
    assert!(keys.len() as u64 > last_ack);
}
