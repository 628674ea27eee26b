//! One conformance suite every store engine runs: the cases are written once, below, and
//! `engines!` runs each of them on memory, file, Redis, PostgreSQL, NATS and the service store
//! of `micro server` (14 cases × 6).

#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use micro::Code;
use micro::store::{ListOptions, ReadOptions, Record, Store};
use state_tests::{Engine, fresh};

/// Poll `check` until it is true, for at most 20 s.
async fn eventually(what: &str, mut check: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{what}: not within 20 s");
}

async fn write_many(store: &Store, keys: impl IntoIterator<Item = String>) {
    let keys: Vec<String> = keys.into_iter().collect();
    for chunk in keys.chunks(64) {
        let writes = chunk
            .iter()
            .map(|k| store.write(Record::new(k.clone(), k.clone())));
        for r in futures_util::future::join_all(writes).await {
            r.unwrap();
        }
    }
}

async fn exact_read_write_and_not_found(store: Store, _: Engine) {
    store.write(Record::new("a", "1")).await.unwrap();
    let got = store.read("a", ReadOptions::default()).await.unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!((got[0].key.as_str(), &got[0].value[..]), ("a", &b"1"[..]));
    // Overwrite replaces.
    store.write(Record::new("a", "2")).await.unwrap();
    assert_eq!(store.read_one("a").await.unwrap().unwrap().value, "2");
    let missing = store
        .read("nope", ReadOptions::default())
        .await
        .unwrap_err();
    assert_eq!(missing.code(), 404, "{missing}");
    assert!(missing.detail().contains("\"nope\""), "{missing}");
    assert!(store.read_one("nope").await.unwrap().is_none());
    // A prefix that matches nothing is an empty answer, not an error.
    assert!(
        store
            .read("zzz", ReadOptions::default().prefix())
            .await
            .unwrap()
            .is_empty()
    );
}

async fn metadata_and_expiry_round_trip(store: Store, _: Engine) {
    let at = SystemTime::now() + Duration::from_secs(3600);
    let record = Record::new("m", "v")
        .with_metadata("owner", "alice")
        .with_metadata("n", 3)
        .with_expiry(at);
    store.write(record).await.unwrap();
    let got = store.read_one("m").await.unwrap().unwrap();
    assert_eq!(got.metadata["owner"], "alice");
    assert_eq!(got.metadata["n"], 3);
    let drift = got
        .expiry
        .unwrap()
        .duration_since(at)
        .unwrap_or_else(|e| e.duration());
    assert!(drift < Duration::from_secs(1), "expiry moved by {drift:?}");
    assert!(got.ttl().unwrap() > Duration::from_secs(3500));
}

async fn ttl_expires_records(store: Store, _: Engine) {
    store
        .write(Record::new("short", "x").with_ttl(Duration::from_secs(2)))
        .await
        .unwrap();
    store.write(Record::new("long", "y")).await.unwrap();
    store
        .write(Record::new("past", "z").with_expiry(SystemTime::now() - Duration::from_secs(5)))
        .await
        .unwrap();
    // Written in the past: never readable, never listed.
    assert!(store.read_one("past").await.unwrap().is_none());
    eventually("the record with a 2 s TTL expires", async || {
        store.read_one("short").await.unwrap().is_none()
    })
    .await;
    assert_eq!(store.list(ListOptions::default()).await.unwrap(), ["long"]);
    assert_eq!(
        store
            .read("", ReadOptions::default().prefix())
            .await
            .unwrap()
            .len(),
        1
    );
}

async fn prefix_listing_of_10000_keys(store: Store, _: Engine) {
    write_many(&store, (0..10_000).map(|i| format!("user/{i:05}"))).await;
    write_many(&store, (0..50).map(|i| format!("other/{i:02}"))).await;
    let keys = store
        .list(ListOptions::default().prefix("user/"))
        .await
        .unwrap();
    assert_eq!(keys.len(), 10_000);
    assert!(keys.windows(2).all(|w| w[0] < w[1]), "keys come in order");
    assert_eq!(keys[0], "user/00000");
    let some = store
        .list(ListOptions::default().prefix("user/012"))
        .await
        .unwrap();
    assert_eq!(some.len(), 100);
    let records = store
        .read("user/0999", ReadOptions::default().prefix())
        .await
        .unwrap();
    assert_eq!(records.len(), 10);
    assert_eq!(records[3].value, "user/09993");
    assert_eq!(
        store.list(ListOptions::default()).await.unwrap().len(),
        10_050
    );
}

async fn limit_offset_and_suffix(store: Store, _: Engine) {
    write_many(&store, (0..100).map(|i| format!("p/{i:03}"))).await;
    write_many(
        &store,
        [
            "q/1.json".to_owned(),
            "q/2.txt".to_owned(),
            "q/3.json".to_owned(),
        ],
    )
    .await;
    let page = store
        .list(ListOptions::default().prefix("p/").limit(10).offset(20))
        .await
        .unwrap();
    assert_eq!(page.first().map(String::as_str), Some("p/020"));
    assert_eq!(page.last().map(String::as_str), Some("p/029"));
    assert_eq!(page.len(), 10);
    let records = store
        .read("p/", ReadOptions::default().prefix().limit(5).offset(95))
        .await
        .unwrap();
    let keys: Vec<&str> = records.iter().map(|r| r.key.as_str()).collect();
    assert_eq!(keys, ["p/095", "p/096", "p/097", "p/098", "p/099"]);
    let past_end = store
        .list(ListOptions::default().prefix("p/").offset(500))
        .await
        .unwrap();
    assert!(past_end.is_empty());
    let json = store
        .list(ListOptions::default().suffix(".json"))
        .await
        .unwrap();
    assert_eq!(json, ["q/1.json", "q/3.json"]);
    let by_suffix = store
        .read(".txt", ReadOptions::default().suffix())
        .await
        .unwrap();
    assert_eq!(by_suffix.len(), 1);
    assert_eq!(by_suffix[0].key, "q/2.txt");
    let both = store
        .list(
            ListOptions::default()
                .prefix("q/")
                .suffix(".json")
                .limit(1)
                .offset(1),
        )
        .await
        .unwrap();
    assert_eq!(both, ["q/3.json"]);
}

async fn binary_and_empty_values(store: Store, _: Engine) {
    let all: Vec<u8> = (0..=255u8).chain((0..=255u8).rev()).collect();
    store.write(Record::new("bin", all.clone())).await.unwrap();
    store
        .write(Record::new("empty", Bytes::new()))
        .await
        .unwrap();
    assert_eq!(store.read_one("bin").await.unwrap().unwrap().value, all);
    let empty = store.read_one("empty").await.unwrap().unwrap();
    assert!(empty.value.is_empty());
    assert_eq!(
        store.list(ListOptions::default()).await.unwrap(),
        ["bin", "empty"]
    );
}

async fn awkward_keys(store: Store, _: Engine) {
    let keys = [
        "a/b/c",
        "a:b:c",
        "with space",
        "ünïcødé ключ 鍵",
        "dots.in.key",
        "a/b",
        "percent%41",
        "=equals=",
        "*star?[glob]",
        "quote'\"",
    ];
    for key in keys {
        store.write(Record::new(key, key)).await.unwrap();
    }
    for key in keys {
        let got = store
            .read_one(key)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("{key:?} lost"));
        assert_eq!(got.key, key);
        assert_eq!(got.value, key);
    }
    let mut want: Vec<&str> = keys.to_vec();
    want.sort_unstable();
    assert_eq!(store.list(ListOptions::default()).await.unwrap(), want);
    assert_eq!(
        store
            .list(ListOptions::default().prefix("a/"))
            .await
            .unwrap(),
        ["a/b", "a/b/c"]
    );
    // Glob characters in a prefix are plain characters.
    assert_eq!(
        store
            .list(ListOptions::default().prefix("*st"))
            .await
            .unwrap(),
        ["*star?[glob]"]
    );
}

async fn a_nul_in_a_key_is_kept_or_refused_clearly(store: Store, engine: Engine) {
    let key = "nul\0inside";
    match store.write(Record::new(key, "v")).await {
        Ok(()) => {
            assert_ne!(engine, Engine::Postgres);
            assert_eq!(store.read_one(key).await.unwrap().unwrap().key, key);
            assert_eq!(store.list(ListOptions::default()).await.unwrap(), [key]);
        }
        Err(e) => {
            // PostgreSQL's text cannot hold NUL.
            assert_eq!(engine, Engine::Postgres, "{e}");
            assert_eq!(e.code(), 400, "{e}");
            assert!(
                e.detail().contains("postgres") && e.detail().contains("NUL"),
                "{e}"
            );
        }
    }
}

async fn concurrent_writers_last_write_wins_untorn(store: Store, _: Engine) {
    let writers = (0..16u8).map(|id| {
        let store = store.clone();
        tokio::spawn(async move {
            for _ in 0..5 {
                store
                    .write(Record::new("contended", vec![id; 64 * 1024]))
                    .await
                    .unwrap();
            }
        })
    });
    for w in futures_util::future::join_all(writers).await {
        w.unwrap();
    }
    let value = store.read_one("contended").await.unwrap().unwrap().value;
    assert_eq!(value.len(), 64 * 1024);
    assert!(value.iter().all(|b| *b == value[0]), "a torn value");
}

async fn four_mib_value_or_a_clear_refusal(store: Store, engine: Engine) {
    let big: Vec<u8> = (0..4 * 1024 * 1024).map(|i| (i % 251) as u8).collect();
    let result = store.write(Record::new("big", big.clone())).await;
    if store.limits().max_value >= big.len() {
        result.unwrap();
        assert_eq!(store.read_one("big").await.unwrap().unwrap().value, big);
    } else {
        // NATS's max_payload; the service store's calls fit the transport's 4 MiB.
        assert!(
            matches!(engine, Engine::Nats | Engine::Service),
            "only NATS and the service store cap values under 4 MiB"
        );
        let e = result.unwrap_err();
        assert_eq!(e.code(), 413, "{e}");
        assert!(
            e.detail().contains(store.engine_name()) && e.detail().contains("limit"),
            "{e}"
        );
        assert!(store.read_one("big").await.unwrap().is_none());
    }
}

async fn refuses_keys_over_the_limit_and_empty_keys(store: Store, engine: Engine) {
    let long = "k".repeat(store.limits().max_key + 1);
    let e = store
        .write(Record::new(long.clone(), "v"))
        .await
        .unwrap_err();
    assert_eq!(e.code(), 413, "{e}");
    assert!(
        e.detail().contains(store.engine_name()),
        "names the engine: {e}"
    );
    assert!(store.read_one(&long).await.is_err());
    let at_limit = "k".repeat(store.limits().max_key);
    store
        .write(Record::new(at_limit.clone(), "v"))
        .await
        .unwrap();
    assert!(
        store.read_one(&at_limit).await.unwrap().is_some(),
        "{engine:?}"
    );
    let e = store.write(Record::new("", "v")).await.unwrap_err();
    assert_eq!(e.grpc_code(), Code::InvalidArgument);
}

async fn compare_and_swap_and_update(store: Store, _: Engine) {
    assert!(
        store
            .compare_and_swap(None, Record::new("c", "1"))
            .await
            .unwrap()
    );
    assert!(
        !store
            .compare_and_swap(None, Record::new("c", "x"))
            .await
            .unwrap()
    );
    assert!(
        !store
            .compare_and_swap(Some(b"0"), Record::new("c", "x"))
            .await
            .unwrap()
    );
    assert!(
        store
            .compare_and_swap(Some(b"1"), Record::new("c", "2"))
            .await
            .unwrap()
    );
    assert_eq!(store.read_one("c").await.unwrap().unwrap().value, "2");
    // An expired record counts as absent.
    store
        .write(Record::new("gone", "old").with_expiry(SystemTime::now() - Duration::from_secs(1)))
        .await
        .unwrap();
    assert!(
        store
            .compare_and_swap(None, Record::new("gone", "new"))
            .await
            .unwrap()
    );
    // 8 tasks × 25 increments: no update lost.
    let tasks = (0..8).map(|_| {
        let store = store.clone();
        tokio::spawn(async move {
            for _ in 0..25 {
                store
                    .update("counter", |n: Option<u64>| n.unwrap_or(0) + 1)
                    .await
                    .unwrap();
            }
        })
    });
    for t in futures_util::future::join_all(tasks).await {
        t.unwrap();
    }
    assert_eq!(store.get::<u64>("counter").await.unwrap(), Some(200));
}

async fn delete_and_typed_helpers(store: Store, _: Engine) {
    #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
    struct Cart {
        items: Vec<String>,
        total: u32,
    }
    let cart = Cart {
        items: vec!["apple".into()],
        total: 120,
    };
    store.put("cart/1", &cart).await.unwrap();
    assert_eq!(store.get::<Cart>("cart/1").await.unwrap(), Some(cart));
    let wrong = store.get::<Vec<u8>>("cart/1").await.unwrap_err();
    assert!(wrong.detail().contains("cart/1"), "{wrong}");
    store.delete("cart/1").await.unwrap();
    assert_eq!(store.get::<Cart>("cart/1").await.unwrap(), None);
    store.delete("never-there").await.unwrap();
}

async fn tables_are_isolated(store: Store, _: Engine) {
    let other = store
        .table(format!("{}_other", store.scope().table))
        .unwrap();
    state_tests::clear(&other).await.unwrap();
    store.write(Record::new("k", "here")).await.unwrap();
    other.write(Record::new("k", "there")).await.unwrap();
    assert_eq!(store.read_one("k").await.unwrap().unwrap().value, "here");
    assert_eq!(other.read_one("k").await.unwrap().unwrap().value, "there");
    other.delete("k").await.unwrap();
    assert!(store.read_one("k").await.unwrap().is_some());
    // A table name full of SQL and path metacharacters is just a name.
    let odd = store.table("x\"; DROP TABLE t; --/../' ü").unwrap();
    state_tests::clear(&odd).await.unwrap();
    odd.write(Record::new("k", "odd")).await.unwrap();
    assert_eq!(odd.read_one("k").await.unwrap().unwrap().value, "odd");
    assert_eq!(store.read_one("k").await.unwrap().unwrap().value, "here");
}

macro_rules! engines {
    ($($engine:ident => $variant:expr),* $(,)?) => {$(
        mod $engine {
            use super::*;
            engines!(@cases $variant;
                exact_read_write_and_not_found,
                metadata_and_expiry_round_trip,
                ttl_expires_records,
                prefix_listing_of_10000_keys,
                limit_offset_and_suffix,
                binary_and_empty_values,
                awkward_keys,
                a_nul_in_a_key_is_kept_or_refused_clearly,
                concurrent_writers_last_write_wins_untorn,
                four_mib_value_or_a_clear_refusal,
                refuses_keys_over_the_limit_and_empty_keys,
                compare_and_swap_and_update,
                delete_and_typed_helpers,
                tables_are_isolated,
            );
        }
    )*};
    (@cases $variant:expr; $($case:ident),* $(,)?) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $case() {
            let engine: Engine = $variant;
            if !engine.available(stringify!($case)) {
                return;
            }
            let (store, _dir) = fresh(engine, stringify!($case)).await.unwrap();
            super::$case(store, engine).await;
        }
    )*};
}

engines! {
    memory => Engine::Memory,
    file => Engine::File,
    redis => Engine::Redis,
    postgres => Engine::Postgres,
    nats => Engine::Nats,
    service => Engine::Service,
}
