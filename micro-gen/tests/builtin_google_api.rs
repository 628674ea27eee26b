//! `google/api/annotations.proto` resolves without vendoring googleapis: micro-gen carries the
//! two files that declare `google.api.http`, and a vendored copy still wins.

#![cfg(feature = "protobuf")]

#[test]
fn http_rules_compile_without_vendored_googleapis() {
    let dir = tempfile::tempdir().unwrap();
    let proto = dir.path().join("shop.proto");
    std::fs::write(
        &proto,
        r#"syntax = "proto3";
package shop;
import "google/api/annotations.proto";
service Shop {
  rpc Buy(Order) returns (Order) {
    option (google.api.http) = { post: "/v1/orders" body: "*" };
  }
}
message Order { string id = 1; }
"#,
    )
    .unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    micro_gen::configure()
        .out_dir(&out)
        .emit_rerun_if_changed(false)
        .compile_protos(&[&proto], &[dir.path()])
        .unwrap();
    let code = std::fs::read_to_string(out.join("shop.rs")).unwrap();
    assert!(code.contains(r#".metadata("method", "POST")"#), "{code}");
    assert!(
        code.contains(r#".metadata("path", "/v1/orders")"#),
        "{code}"
    );
}

#[test]
fn an_unknown_google_api_import_is_still_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let proto = dir.path().join("x.proto");
    std::fs::write(
        &proto,
        "syntax = \"proto3\";\nimport \"google/api/client.proto\";\n",
    )
    .unwrap();
    let err = micro_gen::configure()
        .out_dir(dir.path())
        .emit_rerun_if_changed(false)
        .compile_protos(&[&proto], &[dir.path()])
        .unwrap_err();
    assert!(err.to_string().contains("google/api/client.proto"), "{err}");
}
