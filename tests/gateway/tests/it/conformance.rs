//! Validation conformance: every case of `conformance/corpus.json` checked by micro's
//! generated `validate()` and by protovalidate (PyPI, the reference implementation) must
//! give the same verdict and the same (field path, rule id) pairs. The table of results is
//! `conformance/RESULTS.md` (`MICRO_BLESS=1` rewrites it).

use std::process::Command;

use gateway_tests::users::conformance as pb;
use micro::codec::{Format, Message};
use micro::validate::{Validate, Violations};

type Found = Vec<(String, String)>;

fn check<T: Message + Validate>(json: &serde_json::Value) -> Found {
    let bytes = bytes::Bytes::from(json.to_string());
    let message = T::decode_as(Format::Json, bytes).expect("the case's JSON decodes");
    let mut v = Violations::new();
    message.validate_into(&mut v);
    let mut found: Found = v
        .into_vec()
        .into_iter()
        .map(|x| (x.field, x.rule))
        .collect();
    found.sort();
    found
}

fn micro_verdict(message: &str, json: &serde_json::Value) -> Found {
    match message {
        "Strings" => check::<pb::Strings>(json),
        "Formats" => check::<pb::Formats>(json),
        "Numbers" => check::<pb::Numbers>(json),
        "Scalars" => check::<pb::Scalars>(json),
        "Collections" => check::<pb::Collections>(json),
        "Presence" => check::<pb::Presence>(json),
        "Legacy" => check::<pb::Legacy>(json),
        other => panic!("no message {other} in the conformance fixture"),
    }
}

/// protovalidate's verdicts, one line per case; `None` (the test skips) without Python's
/// protovalidate, unless `MICRO_REQUIRE_PEERS=1`.
#[allow(clippy::print_stderr)] // says why the test skipped
fn reference(corpus: &str) -> Option<Vec<Found>> {
    let dir = env!("CARGO_MANIFEST_DIR");
    let required = std::env::var("MICRO_REQUIRE_PEERS").is_ok_and(|v| v == "1");
    let out = Command::new("python3")
        .arg(format!("{dir}/python/protovalidate_check.py"))
        .arg(corpus)
        .arg(format!("{dir}/proto"))
        .arg(format!("{dir}/../../proto"))
        .output();
    let out = match out {
        Ok(out) if out.status.success() => out,
        Ok(out) if !required => {
            eprintln!(
                "skipped: protovalidate did not run: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            return None;
        }
        Err(e) if !required => {
            eprintln!("skipped: no python3 ({e})");
            return None;
        }
        Ok(out) => panic!(
            "protovalidate did not run, and MICRO_REQUIRE_PEERS=1 (pip install -r scripts/requirements-test.txt): {}",
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(e) => panic!("python3: {e}, and MICRO_REQUIRE_PEERS=1"),
    };
    let text = String::from_utf8(out.stdout).expect("utf-8");
    Some(
        text.lines()
            .map(|line| {
                let pairs: Vec<(String, String)> = serde_json::from_str(line).expect("a verdict");
                pairs
            })
            .collect(),
    )
}

fn show(found: &Found) -> String {
    if found.is_empty() {
        return "valid".to_owned();
    }
    found
        .iter()
        .map(|(f, r)| format!("`{f}` {r}"))
        .collect::<Vec<_>>()
        .join("<br>")
}

#[test]
fn micro_and_protovalidate_agree_on_every_case_of_the_corpus() {
    let dir = env!("CARGO_MANIFEST_DIR");
    let corpus_path = format!("{dir}/conformance/corpus.json");
    let corpus: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(&corpus_path).expect("corpus"))
            .expect("corpus JSON");
    let Some(reference) = reference(&corpus_path) else {
        return;
    };
    assert_eq!(reference.len(), corpus.len(), "one verdict per case");
    let mut table = String::from(
        "# Validation conformance: micro vs protovalidate\n\n\
         Every case of `corpus.json`, checked by micro's generated `validate()` and by\n\
         protovalidate 2.1.0 (PyPI). Written by `tests/gateway/tests/it/conformance.rs`\n\
         (`MICRO_BLESS=1` to rewrite).\n\n\
         | # | message | case | micro | protovalidate | same |\n|---|---|---|---|---|---|\n",
    );
    let mut differ = Vec::new();
    for (i, (case, want)) in corpus.iter().zip(&reference).enumerate() {
        let message = case["message"].as_str().expect("message");
        let note = case["note"].as_str().unwrap_or("");
        let got = micro_verdict(message, &case["json"]);
        let same = &got == want;
        if !same {
            differ.push(format!(
                "#{i} {message} ({note}): micro {got:?}, protovalidate {want:?}"
            ));
        }
        table.push_str(&format!(
            "| {i} | {message} | {note} | {} | {} | {} |\n",
            show(&got),
            show(want),
            if same { "yes" } else { "**no**" }
        ));
    }
    let agree = corpus.len() - differ.len();
    table.push_str(&format!("\n{agree} of {} cases agree.\n", corpus.len()));
    let results = format!("{dir}/conformance/RESULTS.md");
    if std::env::var("MICRO_BLESS").is_ok_and(|v| v == "1") {
        std::fs::write(&results, &table).expect("write RESULTS.md");
    }
    assert!(
        differ.is_empty(),
        "{} cases differ:\n{}",
        differ.len(),
        differ.join("\n")
    );
    assert_eq!(
        std::fs::read_to_string(&results).unwrap_or_default(),
        table,
        "conformance/RESULTS.md is stale: run with MICRO_BLESS=1"
    );
}
