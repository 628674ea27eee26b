//! The server binary's command line: its own flag and micro's in one clap parser.

#![allow(clippy::unwrap_used)]

use std::process::Command;

fn server() -> Command {
    Command::new(env!("CARGO_BIN_EXE_greeter-server"))
}

#[test]
fn help_lists_its_own_flags_and_micros_and_exits_0() {
    let out = server().arg("--help").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    assert!(text.contains("--delay <DELAY>"), "{text}");
    assert!(text.contains("--registry <VALUE>"), "{text}");
    assert!(text.contains("MICRO_REGISTRY"), "{text}");
}

#[test]
fn a_bad_flag_value_is_refused_with_the_reason() {
    let out = server()
        .args(["--delay", "soon"])
        .env("MICRO_REGISTRY", "memory")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(text.contains("not a duration"), "{text}");

    let out = server()
        .args(["--registry", "consul"])
        .env("MICRO_REGISTRY", "memory")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(
        text.contains("unknown registry \"consul\": this build has local, memory"),
        "{text}"
    );
    assert!(!text.contains("Error {"), "readable, not Debug: {text}");
}

/// One precedence rule: code, then `MICRO_*` variables, then flags (the last wins).
#[test]
fn a_flag_beats_the_environment() {
    let free_port = || {
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    };
    let (from_env, from_flag) = (free_port(), free_port());
    let home = std::env::temp_dir().join(format!("greeter-precedence-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&home);
    let mut child = server()
        .args(["--server_address", &format!("127.0.0.1:{from_flag}")])
        .env("MICRO_SERVER_ADDRESS", format!("127.0.0.1:{from_env}"))
        .env("MICRO_SERVER_ADVERTISE", "127.0.0.1")
        .env("MICRO_HOME", &home)
        .env_remove("MICRO_REGISTRY")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // The registered node's address (the local registry is JSON files under MICRO_HOME).
    let registered = |port: u16| {
        let dir = home.join("registry");
        let mut stack = vec![dir];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    stack.push(path);
                } else if std::fs::read_to_string(&path)
                    .is_ok_and(|text| text.contains(&format!("127.0.0.1:{port}")))
                {
                    return true;
                }
            }
        }
        false
    };
    let started = std::time::Instant::now();
    while !registered(from_flag) {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "greeter-server never registered on the flag's port"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(!registered(from_env), "the environment won over the flag");
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&home);
}
