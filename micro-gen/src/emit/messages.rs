//! Messages: the `Message` and serde impls of generated prost types.

/// The `Message` and serde impls of generated messages, as one formatted macro call: each
/// entry is the Rust path (from the package module) and the full protobuf name.
pub fn message_impls_text(
    descriptors: &str,
    messages: &[(String, String)],
    codegen: &str,
) -> String {
    if messages.is_empty() {
        return String::new();
    }
    let mut out = format!(
        "// Protobuf and proto3 JSON for every message of this package.\n{codegen}::impl_messages!(\n    {descriptors};\n"
    );
    for (path, name) in messages {
        out.push_str(&format!("    {path} => \"{name}\",\n"));
    }
    out.push_str(");\n");
    out
}
