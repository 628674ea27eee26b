//! The canonical proto3 JSON mapping of generated messages, checked against the spec and
//! against Python's `google.protobuf.json_format` (a real peer, when installed).

#![allow(clippy::unwrap_used, clippy::print_stderr)]

use std::collections::HashMap;
use std::process::Command;

use codegen_fixtures::fixtures::common::{Money, Region};
use codegen_fixtures::fixtures::kitchen::everything::{Choice, Nested, nested::Level};
use codegen_fixtures::fixtures::kitchen::{Color, Everything, Num};
use micro::codec::{Format, Message};
use micro::codegen::Bytes;
use micro::codegen::prost::Message as _;
use micro::codegen::prost_types::{
    self, Any, Duration, FieldMask, Struct, Timestamp, Value, value::Kind,
};

fn everything() -> Everything {
    let mut extra = Struct::default();
    extra.fields.insert(
        "k".into(),
        Value {
            kind: Some(Kind::StringValue("v".into())),
        },
    );
    extra.fields.insert(
        "n".into(),
        Value {
            kind: Some(Kind::NumberValue(2.5)),
        },
    );
    Everything {
        f_double: 2.25,
        f_float: 1.5,
        f_int32: -32,
        f_int64: -9_007_199_254_740_993,
        f_uint32: 32,
        f_uint64: 18_446_744_073_709_551_615,
        f_sint32: -7,
        f_sint64: -70,
        f_fixed32: 9,
        f_fixed64: 90,
        f_sfixed32: -9,
        f_sfixed64: -90,
        f_bool: true,
        f_string: "ünïcødé \"quoted\"".into(),
        f_bytes: vec![0, 1, 2, 250, 255],
        color: Color::Green as i32,
        nested: Some(Nested {
            name: "n".into(),
            level: Level::High as i32,
        }),
        tags: vec!["a".into(), "b".into()],
        numbers: vec![1, -2, 3_000_000_000_000],
        items: vec![Nested {
            name: "i".into(),
            level: 0,
        }],
        counts: HashMap::from([("x".to_owned(), 1), ("y".to_owned(), -2)]),
        by_id: HashMap::from([(
            7,
            Nested {
                name: "seven".into(),
                level: 1,
            },
        )]),
        choice: Some(Choice::ChoiceNumber(0)),
        maybe: Some(0),
        maybe_text: None,
        at: Some(Timestamp {
            seconds: 1_700_000_000,
            nanos: 5_000_000,
        }),
        took: Some(Duration {
            seconds: 1,
            nanos: 500_000_000,
        }),
        extra: Some(extra),
        anything: Some(Value {
            kind: Some(Kind::BoolValue(true)),
        }),
        packed: Some(Any {
            type_url: "type.googleapis.com/fixtures.kitchen.Num".into(),
            value: Num { value: 7 }.encode_to_vec(),
        }),
        wrapped_int: Some(42),
        wrapped_text: Some(String::new()),
        mask: Some(FieldMask {
            paths: vec!["f_string".into(), "nested.name".into()],
        }),
        nothing: Some(()),
        price: Some(Money {
            currency: "EUR".into(),
            units: 3,
            nanos: 500,
        }),
        region: Region::Us as i32,
        colors: vec![Color::Red as i32, Color::Green as i32],
        ..Everything::default()
    }
}

fn to_json(msg: &Everything) -> String {
    let mut buf = Vec::new();
    msg.encode_as(Format::Json, &mut buf).unwrap();
    String::from_utf8(buf).unwrap()
}

#[test]
fn every_field_kind_follows_the_spec_and_round_trips() {
    let msg = everything();
    let text = to_json(&msg);
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    // lowerCamelCase names; 64-bit integers as strings; enums by name; bytes as base64.
    assert_eq!(json["fInt64"], "-9007199254740993");
    assert_eq!(json["fUint64"], "18446744073709551615");
    assert_eq!(json["fInt32"], -32);
    assert_eq!(json["color"], "COLOR_GREEN");
    assert_eq!(json["nested"]["level"], "LEVEL_HIGH");
    assert_eq!(json["fBytes"], "AAEC+v8=");
    assert_eq!(json["numbers"][2], "3000000000000");
    assert_eq!(json["counts"]["y"], "-2");
    assert_eq!(json["byId"]["7"]["name"], "seven");
    // Oneof and optional fields are present even at their default value.
    assert_eq!(json["choiceNumber"], 0);
    assert_eq!(json["maybe"], 0);
    assert!(json.get("maybeText").is_none());
    // Well-known types.
    assert_eq!(json["at"], "2023-11-14T22:13:20.005Z");
    assert_eq!(json["took"], "1.500s");
    assert_eq!(json["extra"], serde_json::json!({"k": "v", "n": 2.5}));
    assert_eq!(json["anything"], true);
    assert_eq!(
        json["packed"],
        serde_json::json!({"@type": "type.googleapis.com/fixtures.kitchen.Num", "value": "7"})
    );
    assert_eq!(json["wrappedInt"], "42");
    assert_eq!(json["wrappedText"], "");
    assert_eq!(json["mask"], "fString,nested.name");
    assert_eq!(json["nothing"], serde_json::json!({}));
    assert_eq!(json["price"]["units"], "3");
    // Default values are omitted.
    assert!(json.get("deprecatedField").is_none());

    let back = Everything::decode_as(Format::Json, Bytes::from(text)).unwrap();
    assert_eq!(back, msg);

    // serde works the same way.
    let via_serde: Everything =
        serde_json::from_str(&serde_json::to_string(&msg).unwrap()).unwrap();
    assert_eq!(via_serde, msg);
}

#[test]
fn both_field_name_spellings_and_number_forms_are_accepted() {
    let a = Everything::decode_as(
        Format::Json,
        Bytes::from_static(br#"{"f_string":"x","f_int64":5,"color":1}"#),
    )
    .unwrap();
    let b = Everything::decode_as(
        Format::Json,
        Bytes::from_static(br#"{"fString":"x","fInt64":"5","color":"COLOR_RED"}"#),
    )
    .unwrap();
    assert_eq!(a, b);
    assert_eq!(a.f_int64, 5);
    assert_eq!(a.color, Color::Red as i32);
}

#[test]
fn bad_json_is_a_400_naming_the_problem() {
    for (body, what) in [
        // The field that did not fit is named.
        (&br#"{"fString": 5}"#[..], "at fString"),
        (br#"{"nested": {"name": 7}}"#, "at nested.name"),
        (br#"{"color": [1]}"#, "at color"),
        (br#"{"fInt32": 1e100}"#, "fInt32"),
        (br#"{"fString": "x""#, "malformed JSON"),
    ] {
        let err = Everything::decode_as(Format::Json, Bytes::copy_from_slice(body))
            .expect_err(&String::from_utf8_lossy(body));
        assert_eq!(err.code(), 400, "{}", String::from_utf8_lossy(body));
        assert!(
            err.detail().contains(what),
            "{} -> {}",
            String::from_utf8_lossy(body),
            err.detail()
        );
    }
}

#[test]
fn unknown_fields_are_ignored_and_numbers_may_be_strings() {
    // micro's one JSON rule (micro_runtime::codec): a newer peer may send fields this one
    // does not know, and 64-bit integers arrive as strings.
    let a = Everything::decode_as(
        Format::Json,
        Bytes::from_static(br#"{"fString": "x", "addedLater": {"a": 1}, "fInt32": "7"}"#),
    )
    .unwrap();
    assert_eq!((a.f_string.as_str(), a.f_int32), ("x", 7));
    // So are enum names it does not know (they read as the default), as in protobuf's own
    // JSON parsers when they discard unknown fields.
    let b =
        Everything::decode_as(Format::Json, Bytes::from_static(br#"{"color": "PURPLE"}"#)).unwrap();
    assert_eq!(b.color, Color::Unspecified as i32);
}

#[test]
fn matches_python_json_format() {
    let available = Command::new("python3")
        .args([
            "-c",
            "import google.protobuf.json_format, grpc_tools.protoc",
        ])
        .status()
        .is_ok_and(|s| s.success());
    if !available {
        assert!(
            std::env::var_os("MICRO_REQUIRE_PEERS").is_none(),
            "MICRO_REQUIRE_PEERS is set but Python's protobuf and grpcio-tools are missing: pip install protobuf grpcio-tools"
        );
        eprintln!(
            "skipping: Python protobuf/grpcio-tools not installed (pip install protobuf grpcio-tools)"
        );
        return;
    }
    let work = tempfile_dir();
    let msg = everything();
    std::fs::write(work.join("message.bin"), msg.encode_to_vec()).unwrap();
    std::fs::write(work.join("micro.json"), to_json(&msg)).unwrap();
    let manifest = env!("CARGO_MANIFEST_DIR");
    let out = Command::new("python3")
        .arg(format!("{manifest}/python/json_check.py"))
        .arg(format!("{manifest}/proto"))
        .arg(&work)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // And micro reads what Python wrote.
    let python = std::fs::read(work.join("python.json")).unwrap();
    let back = Everything::decode_as(Format::Json, Bytes::from(python)).unwrap();
    assert_eq!(back, msg);
    let _ = prost_types::Timestamp::default();
}

fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("micro-json-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
