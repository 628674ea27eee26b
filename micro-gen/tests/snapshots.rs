//! Snapshots of the code micro-gen writes for the fixture protos (build.rs path).
//! Update them with `MICRO_BLESS=1 cargo test -p micro-gen --test snapshots`.

#![allow(clippy::unwrap_used, clippy::print_stderr)]

mod support;

#[test]
fn generated_code_matches_the_snapshots() {
    let protos: Vec<_> = support::FIXTURES
        .iter()
        .map(|f| support::proto_dir().join(f))
        .collect();
    let files = micro_gen::configure()
        .emit_rerun_if_changed(false)
        .generate(&protos, &[support::proto_dir()])
        .unwrap();
    let out = tempfile::tempdir().unwrap();
    for (name, content) in &files {
        std::fs::write(out.path().join(name), content).unwrap();
    }
    let expected = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots");
    support::compare_dirs(&expected, out.path());
}

#[test]
fn errors_name_the_file_line_and_column_and_say_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("bad.proto"),
        "syntax = \"proto3\";\nmessage A {\n  string name = 1\n}\n",
    )
    .unwrap();
    let err = micro_gen::configure()
        .emit_rerun_if_changed(false)
        .generate(&[dir.path().join("bad.proto")], &[dir.path()])
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("bad.proto:4:1: "), "{err}");
    assert!(err.contains("hint:"), "{err}");

    std::fs::write(
        dir.path().join("imports.proto"),
        "syntax = \"proto3\";\nimport \"missing/thing.proto\";\n",
    )
    .unwrap();
    let err = micro_gen::configure()
        .emit_rerun_if_changed(false)
        .generate(&[dir.path().join("imports.proto")], &[dir.path()])
        .unwrap_err()
        .to_string();
    assert!(err.contains("imports.proto:2:"), "{err}");
    assert!(err.contains("missing/thing.proto"), "{err}");
    assert!(err.contains("include directories"), "{err}");

    let err = micro_gen::configure()
        .emit_rerun_if_changed(false)
        .generate(&[dir.path().join("nope.proto")], &[dir.path()])
        .unwrap_err()
        .to_string();
    assert!(err.contains("nope.proto"), "{err}");

    let err = micro_gen::configure()
        .generate(&[] as &[&str], &[dir.path()])
        .unwrap_err()
        .to_string();
    assert!(err.contains("no .proto files"), "{err}");
}

#[test]
fn options_change_the_output() {
    let greeter = support::workspace().join("examples/greeter/proto");
    let generate = |b: micro_gen::Builder| {
        b.emit_rerun_if_changed(false)
            .generate(&[greeter.join("greeter.proto")], &[&greeter])
            .unwrap()
            .into_iter()
            .map(|(_, c)| c)
            .collect::<String>()
    };
    let all = generate(micro_gen::configure());
    assert!(all.contains("pub mod greeter_client") && all.contains("pub mod greeter_server"));
    assert!(all.contains("/// Greets a person by name"));
    assert!(!all.contains("prost::Name for"));

    let named = generate(micro_gen::configure().type_names(true));
    assert!(named.contains("impl ::micro::codegen::prost::Name for HelloRequest"));

    let client_only = generate(micro_gen::configure().server(false).comments(false));
    assert!(client_only.contains("pub mod greeter_client"));
    assert!(!client_only.contains("pub mod greeter_server"));
    assert!(!client_only.contains("Greets a person"));

    let services_only = generate(micro_gen::configure().services_only(true));
    assert!(!services_only.contains("pub struct HelloRequest"));
    assert!(services_only.contains("impl_messages!"));

    let attributed = generate(
        micro_gen::configure().type_attribute(".greeter.HelloRequest", "#[derive(PartialOrd)]"),
    );
    assert!(attributed.contains("#[derive(PartialOrd)]"));
}
