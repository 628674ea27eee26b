//! A `.proto` whose rules or error codes cannot work is a build error that names the file,
//! the line and the field: never a silently ignored rule.

#![cfg(feature = "protobuf")]
#![allow(clippy::unwrap_used)]

fn build(body: &str) -> Result<String, String> {
    let dir = tempfile::tempdir().unwrap();
    let proto = dir.path().join("shop.proto");
    std::fs::write(
        &proto,
        format!(
            "syntax = \"proto3\";\npackage shop;\nimport \"buf/validate/validate.proto\";\nimport \"micro/errors.proto\";\n{body}"
        ),
    )
    .unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    micro_gen::configure()
        .out_dir(&out)
        .emit_rerun_if_changed(false)
        .compile_protos(&[&proto], &[dir.path()])
        .map(|()| std::fs::read_to_string(out.join("shop.rs")).unwrap())
        .map_err(|e| e.to_string())
}

#[test]
fn a_rule_for_another_type_names_file_line_and_field() {
    let err =
        build("message Order {\n  int32 count = 1 [(buf.validate.field).string.min_len = 1];\n}\n")
            .unwrap_err();
    assert!(
        err.contains("shop.proto:6: field shop.Order.count"),
        "{err}"
    );
    assert!(
        err.contains("`string` rules cannot apply to a field of type int32"),
        "{err}"
    );
}

#[test]
fn an_unknown_rule_option_is_refused_where_it_is_written() {
    let err = build(
        "message Order {\n  string id = 1 [(buf.validate.field).string.no_such_rule = true];\n}\n",
    )
    .unwrap_err();
    assert!(err.contains("shop.proto:6:"), "{err}");
    assert!(err.contains("no_such_rule"), "{err}");
}

#[test]
fn cel_rules_are_refused_with_file_line_and_field() {
    let err = build(
        "message Order {\n  string id = 1 [(buf.validate.field).cel = {id: \"x\", expression: \"this.size() >\"}];\n}\n",
    )
    .unwrap_err();
    assert!(err.contains("shop.proto:6: field shop.Order.id"), "{err}");
    assert!(err.contains("CEL"), "{err}");
}

#[test]
fn a_pattern_that_does_not_compile_is_refused() {
    let err = build(
        "message Order {\n  string id = 1 [(buf.validate.field).string.pattern = \"([a-z\"];\n}\n",
    )
    .unwrap_err();
    assert!(err.contains("shop.proto:6: field shop.Order.id"), "{err}");
    assert!(err.contains("does not compile"), "{err}");
}

#[test]
fn rules_not_checked_yet_are_refused_not_skipped() {
    let err =
        build("message Order {\n  string site = 1 [(buf.validate.field).string.uri = true];\n}\n")
            .unwrap_err();
    assert!(err.contains("`string.uri` is not supported yet"), "{err}");
}

#[test]
fn error_codes_must_be_status_codes_and_need_a_default() {
    let err =
        build("enum E {\n  option (micro.errors.default_code) = 42;\n  A = 0;\n}\n").unwrap_err();
    assert!(
        err.contains("shop.E") && err.contains("400 to 599"),
        "{err}"
    );
    let err = build("enum E {\n  A = 0 [(micro.errors.code) = 404];\n}\n").unwrap_err();
    assert!(err.contains("no default code"), "{err}");
    let code = build("enum E {\n  option (micro.errors.default_code) = 500;\n  A = 0 [(micro.errors.code) = 404];\n}\n")
        .unwrap();
    assert!(code.contains("pub fn is_a("), "{code}");
    assert!(code.contains("pub fn error_a("), "{code}");
}
