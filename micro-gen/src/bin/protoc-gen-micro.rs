//! `protoc-gen-micro`: generates micro clients and servers (and prost messages) from protoc.
//!
//! ```text
//! protoc --plugin=protoc-gen-micro --micro_out=OUT_DIR [--micro_opt=key=value,...] FILES
//! ```
//!
//! Parameters: `client`, `server`, `comments`, `services_only`, `type_names` (booleans),
//! `extern_path=.proto.path=::rust::path`, `type_attribute=PATH=ATTR` (and `message_`,
//! `enum_`, `field_`), `btree_map=PATH`, `bytes=PATH`, `boxed=PATH`,
//! `include_file=NAME`, `codegen_path=PATH`.

use std::io::{Read, Write};
use std::process::ExitCode;

fn main() -> ExitCode {
    if std::env::args().any(|a| a == "--version" || a == "-V") {
        let _ = writeln!(
            std::io::stdout(),
            "protoc-gen-micro {}",
            env!("CARGO_PKG_VERSION")
        );
        return ExitCode::SUCCESS;
    }
    let mut request = Vec::new();
    if let Err(e) = std::io::stdin().read_to_end(&mut request) {
        let _ = writeln!(
            std::io::stderr(),
            "protoc-gen-micro: cannot read the request from stdin: {e}"
        );
        return ExitCode::FAILURE;
    }
    let response = micro_gen::plugin::execute_reporting(&request, |warning| {
        let _ = writeln!(std::io::stderr(), "{warning}");
    });
    if let Err(e) = std::io::stdout().write_all(&response) {
        let _ = writeln!(
            std::io::stderr(),
            "protoc-gen-micro: cannot write the response: {e}"
        );
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
