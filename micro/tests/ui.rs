//! `#[micro::service]` diagnostics: what compiles, and every misuse with its message.
//! Update the expected output with `TRYBUILD=overwrite cargo test -p micro --test ui`.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/*.rs");
    t.compile_fail("tests/ui/fail/*.rs");
}
