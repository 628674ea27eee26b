//! The local registry: shared entries, watchers, expiry, and hostile files.

use super::*;
use crate::registry::{Action, Node};

#[test]
fn file_names_round_trip() {
    let name = file_name("go.micro/srv+x", "node 1");
    assert!(!name.contains('/'));
    assert_eq!(
        parse_file_name(&name),
        Some(("go.micro/srv+x".to_owned(), "node 1".to_owned()))
    );
}

#[tokio::test]
async fn two_instances_share_entries_and_watchers_see_changes() {
    let dir = tempfile::tempdir().unwrap();
    let a = LocalRegistry::new(dir.path()).unwrap();
    let b = LocalRegistry::new(dir.path()).unwrap();
    let mut watcher = b.watch(WatchOptions::service("greeter")).await.unwrap();

    let svc = Service::new("greeter", "1").with_node(Node::new("n1", "127.0.0.1:1"));
    a.register(&svc, RegisterOptions::ttl(Duration::from_secs(30)))
        .await
        .unwrap();
    let event = tokio::time::timeout(Duration::from_secs(10), watcher.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(event.action, Action::Create);
    assert_eq!(b.get_service("greeter").await.unwrap()[0].nodes[0].id, "n1");

    // A heartbeat is not an event; a deregistration is.
    a.register(&svc, RegisterOptions::ttl(Duration::from_secs(30)))
        .await
        .unwrap();
    a.deregister(&svc).await.unwrap();
    let event = tokio::time::timeout(Duration::from_secs(10), watcher.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(event.action, Action::Delete);
    assert!(b.get_service("greeter").await.is_err());
}

#[tokio::test]
async fn entries_expire_after_their_ttl() {
    let dir = tempfile::tempdir().unwrap();
    let reg = LocalRegistry::new(dir.path()).unwrap();
    let mut watcher = reg.watch(WatchOptions::all()).await.unwrap();
    let svc = Service::new("x", "1").with_node(Node::new("n1", "127.0.0.1:1"));
    reg.register(&svc, RegisterOptions::ttl(Duration::from_millis(200)))
        .await
        .unwrap();
    assert_eq!(
        watcher.next().await.unwrap().unwrap().action,
        Action::Create
    );
    let event = tokio::time::timeout(Duration::from_secs(10), watcher.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(event.action, Action::Delete);
    assert!(reg.get_service("x").await.is_err());
    assert!(reg.list_services().await.unwrap().is_empty());
}

#[tokio::test]
async fn malformed_entries_are_skipped() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bad+n.json"), b"{not json").unwrap();
    let reg = LocalRegistry::new(dir.path()).unwrap();
    let svc = Service::new("good", "1").with_node(Node::new("n1", "127.0.0.1:1"));
    reg.register(&svc, RegisterOptions::default())
        .await
        .unwrap();
    let all = reg.list_services().await.unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].name, "good");
}

/// Write an entry file by hand.
fn write_entry(dir: &Path, node: &str, wall_expires: u64, boot_expires: Option<u64>) -> PathBuf {
    let record = Record {
        service: Service::new("clock", "1").with_node(Node::new(node, "127.0.0.1:1")),
        expires: Some(wall_expires),
    };
    let boot = boot_expires.map(|expires| BootExpiry {
        id: crate::files::boot_id().unwrap().to_owned(),
        expires,
    });
    let path = dir.join(file_name("clock", node));
    std::fs::write(&path, serde_json::to_vec(&Entry { record, boot }).unwrap()).unwrap();
    path
}

#[test]
fn expiry_follows_the_boot_clock_not_the_wall_clock() {
    let (Some(_), Some(boot)) = (crate::files::boot_id(), crate::files::boot_ms()) else {
        return; // no boot clock on this system: the wall clock is all there is
    };
    let dir = tempfile::tempdir().unwrap();
    let wall = snapshot::now_ms();
    // The wall clock jumped ahead of the writer: by it the entry died a minute ago, by the
    // boot clock it has a minute left.
    write_entry(dir.path(), "alive", wall - 60_000, Some(boot + 60_000));
    // The other way: the wall clock stepped back; the boot clock knows the node is gone.
    let dead = write_entry(
        dir.path(),
        "dead",
        wall + 60_000,
        Some(boot.saturating_sub(60_000)),
    );
    let snap = scan(dir.path(), None).unwrap();
    let nodes: Vec<&str> = snap.keys().map(|(_, node)| node.as_str()).collect();
    assert_eq!(nodes, ["alive"]);
    assert!(!dead.exists(), "long dead by the boot clock: reaped");
    // Entries from another boot (or without a boot clock) fall back to the wall clock.
    let mut other = Entry {
        record: Record {
            service: Service::new("clock", "1").with_node(Node::new("old", "127.0.0.1:1")),
            expires: Some(wall + 60_000),
        },
        boot: Some(BootExpiry {
            id: "another-boot".into(),
            expires: 0,
        }),
    };
    let clocks = Clocks::now();
    assert_eq!(clocks.judge(&mut other), None);
    other.record.expires = Some(wall - 10_000);
    assert!(clocks.judge(&mut other).is_some_and(|past| past >= 10_000));
}

#[test]
fn reaping_keeps_a_heartbeat_that_raced_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("svc+n1.json");
    std::fs::write(&path, b"stale").unwrap();
    let seen = std::fs::read(&path).unwrap();
    // The node's heartbeat lands between the scan that judged it dead and the removal.
    std::fs::write(&path, b"fresh").unwrap();
    reap(dir.path(), &path, &seen);
    assert_eq!(std::fs::read(&path).unwrap(), b"fresh");
    // Unchanged since it was judged: removed, and nothing left aside.
    reap(dir.path(), &path, b"fresh");
    assert!(!path.exists());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[cfg(unix)]
#[test]
fn links_fifos_and_huge_files_are_skipped_without_hanging() {
    let dir = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let wall = snapshot::now_ms() + 60_000;
    let target = write_entry(outside.path(), "elsewhere", wall, None);
    std::os::unix::fs::symlink(&target, dir.path().join(file_name("clock", "link"))).unwrap();
    let fifo = dir.path().join(file_name("clock", "fifo"));
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let mut huge = b"{\"service\":{\"name\":\"clock\",\"pad\":\"".to_vec();
    huge.resize(2 * 1024 * 1024, b'x');
    std::fs::write(dir.path().join(file_name("clock", "huge")), huge).unwrap();
    write_entry(dir.path(), "good", wall, None);
    let path = dir.path().to_owned();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(scan(&path, None));
    });
    let snap = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("the scan does not wait on a FIFO")
        .unwrap();
    let nodes: Vec<&str> = snap.keys().map(|(_, node)| node.as_str()).collect();
    assert_eq!(nodes, ["good"]);
}
