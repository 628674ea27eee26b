//! Settings: parsing, precedence, errors.

use super::*;

#[test]
fn durations() {
    assert_eq!(parse_duration("x", "30").unwrap(), Duration::from_secs(30));
    assert_eq!(
        parse_duration("x", "500ms").unwrap(),
        Duration::from_millis(500)
    );
    assert_eq!(
        parse_duration("x", "1.5s").unwrap(),
        Duration::from_millis(1500)
    );
    assert_eq!(parse_duration("x", "2m").unwrap(), Duration::from_secs(120));
    for bad in ["", "s", "-1s", "10 parsecs", "1e999", "abc"] {
        let err = parse_duration("register_ttl", bad).unwrap_err();
        assert!(err.detail().contains("not a duration"), "{bad}");
    }
}

#[test]
fn env_overrides_defaults_and_is_validated() {
    let env = |k: &str| match k {
        "MICRO_REGISTRY" => Some("memory".to_owned()),
        "MICRO_REGISTER_TTL" => Some("3".to_owned()),
        "MICRO_REGISTER_INTERVAL" => Some("1s".to_owned()),
        "MICRO_SERVER_ADDRESS" => Some(":9000".to_owned()),
        "MICRO_SERVER_METADATA" => Some("zone=a, tier=gold".to_owned()),
        _ => None,
    };
    let mut o = Settings::default();
    o.apply_env(env).unwrap();
    assert_eq!(o.registry, "memory");
    assert_eq!(o.register_ttl, Duration::from_secs(3));
    assert_eq!(o.server_address, "0.0.0.0:9000");
    assert_eq!(o.server_metadata["tier"], "gold");

    let mut o = Settings::default();
    let err = o
        .apply_env(|k| (k == "MICRO_REGISTER_INTERVAL").then(|| "60".to_owned()))
        .unwrap_err();
    assert!(
        err.detail().contains("shorter than register_ttl"),
        "{}",
        err.detail()
    );

    let mut o = Settings::default();
    let err = o
        .apply_env(|k| (k == "MICRO_REGISTRY").then(|| "consul".to_owned()))
        .unwrap_err();
    assert!(
        err.detail().starts_with("MICRO_REGISTRY: unknown registry"),
        "{}",
        err.detail()
    );
}

#[test]
fn flags() {
    let mut o = Settings::default();
    o.apply_args(["--server-address", "127.0.0.1:0", "--client_retries=3"])
        .unwrap();
    assert_eq!(o.server_address, "127.0.0.1:0");
    assert_eq!(o.client_retries, 3);
    assert!(
        o.apply_args(["--client_retries"])
            .unwrap_err()
            .detail()
            .contains("needs a value")
    );
    assert!(
        o.apply_args(["stray"])
            .unwrap_err()
            .detail()
            .contains("unexpected argument")
    );
    // Tracing: the tracer by name, the sample as a share.
    o.apply_args(["--tracer", "otlp", "--tracer_sample", "0.25"])
        .unwrap();
    assert_eq!(o.tracer, crate::trace::TracerKind::Otlp);
    assert_eq!(o.tracer_sample, 0.25);
    let err = o.apply_args(["--tracer_sample", "2"]).unwrap_err();
    assert!(
        err.detail()
            .contains("tracer_sample \"2\" is not a share between 0 and 1"),
        "{err}"
    );
    let err = o.apply_args(["--tracer", "jaeger"]).unwrap_err();
    assert!(err.detail().contains("off, log and otlp"), "{err}");
    assert!(
        o.apply_args(["--help"])
            .unwrap_err()
            .detail()
            .contains("MICRO_REGISTRY")
    );
}

#[cfg(feature = "clap")]
#[test]
fn clap_flags_pass_micros_settings_on() {
    use clap::{Args, FromArgMatches};
    let cmd =
        Flags::augment_args(clap::Command::new("app").arg(clap::Arg::new("stock").long("stock")));
    let matches = cmd
        .try_get_matches_from([
            "app",
            "--stock",
            "3",
            "--registry",
            "memory",
            "--register_ttl=60s",
        ])
        .unwrap();
    let flags = Flags::from_arg_matches(&matches).unwrap();
    assert_eq!(flags.args(), ["--registry=memory", "--register_ttl=60s"]);
    let mut o = Settings::default();
    o.apply_args(flags.args()).unwrap();
    assert_eq!(o.registry, "memory");
    assert_eq!(
        matches.get_one::<String>("stock").map(String::as_str),
        Some("3")
    );
}
