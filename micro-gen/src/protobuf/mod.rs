//! The `.proto` front door: descriptors → prost messages + micro services, one file per
//! package. Shared by the build.rs API ([`crate::Builder`]) and `protoc-gen-micro`.

mod build;
mod errors;
pub(crate) mod plugin;
mod validate;

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt;
use std::rc::Rc;

use proc_macro2::TokenStream;
use prost::Message as _;
use prost_build::{Module, ServiceGenerator};
use prost_reflect::{DescriptorPool, Value as ReflectValue};
use prost_types::{DescriptorProto, FileDescriptorProto, FileDescriptorSet};
use quote::quote;

use crate::emit::{self, EmitOptions};
use crate::ident::{to_snake, to_upper_camel};
use crate::model::{self, HttpRule};

pub use build::{Builder, compile_protos, configure};

/// A code generation failure, with what to do about it.
#[derive(Debug)]
pub struct Error {
    message: String,
}

impl Error {
    pub(crate) fn new(message: impl Into<String>) -> Error {
        Error {
            message: message.into(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

/// What to generate.
#[derive(Clone, Debug)]
pub(crate) struct Settings {
    pub(crate) client: bool,
    pub(crate) server: bool,
    pub(crate) comments: bool,
    pub(crate) services_only: bool,
    pub(crate) type_names: bool,
    pub(crate) extern_paths: Vec<(String, String)>,
    pub(crate) type_attributes: Vec<(String, String)>,
    pub(crate) message_attributes: Vec<(String, String)>,
    pub(crate) enum_attributes: Vec<(String, String)>,
    pub(crate) field_attributes: Vec<(String, String)>,
    pub(crate) btree_maps: Vec<String>,
    pub(crate) bytes: Vec<String>,
    pub(crate) boxed: Vec<String>,
    pub(crate) codegen_path: String,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            client: true,
            server: true,
            comments: true,
            services_only: false,
            type_names: false,
            extern_paths: Vec::new(),
            type_attributes: Vec::new(),
            message_attributes: Vec::new(),
            enum_attributes: Vec::new(),
            field_attributes: Vec::new(),
            btree_maps: Vec::new(),
            bytes: Vec::new(),
            boxed: Vec::new(),
            codegen_path: "::micro::codegen".into(),
        }
    }
}

/// One generated file.
#[derive(Clone, Debug)]
pub(crate) struct Generated {
    /// `greeter.rs`, `_.rs` for no package.
    pub(crate) file_name: String,
    /// The Rust module path of the package (`["google", "api"]`).
    pub(crate) module: Vec<String>,
    pub(crate) content: String,
    /// What the generator changed to make the code compile (client functions renamed
    /// around names the client uses itself).
    pub(crate) warnings: Vec<String>,
}

/// Collects the services prost-build sees, per package.
#[derive(Clone, Default)]
struct Collector {
    services: Rc<RefCell<BTreeMap<String, Vec<prost_build::Service>>>>,
}

impl ServiceGenerator for Collector {
    fn generate(&mut self, service: prost_build::Service, _buf: &mut String) {
        self.services
            .borrow_mut()
            .entry(service.package.clone())
            .or_default()
            .push(service);
    }
}

/// The packages no Rust is generated for: the user's extern paths, the well-known types,
/// and the option-only packages whose options micro-gen reads (`buf.validate`,
/// `micro.errors`).
fn externs(settings: &Settings) -> Vec<(String, String)> {
    let mut externs = settings.extern_paths.clone();
    externs.push((".google.protobuf".into(), "::prost_types".into()));
    externs.push((".buf.validate".into(), String::new()));
    externs.push((".micro.errors".into(), String::new()));
    externs
}

/// Is `full_name` (`.pkg.Msg`) covered by an extern path?
fn is_extern(full_name: &str, externs: &[(String, String)]) -> bool {
    externs.iter().any(|(proto, _)| {
        let proto = proto.as_str();
        proto == "." || full_name == proto || full_name.starts_with(&format!("{proto}."))
    })
}

/// Every message of a file: `(rust path from the package module, full name)`, skipping map
/// entries and extern types.
fn messages(file: &FileDescriptorProto, externs: &[(String, String)]) -> Vec<(String, String)> {
    fn walk(
        msg: &DescriptorProto,
        prefix_proto: &str,
        modules: &[String],
        externs: &[(String, String)],
        out: &mut Vec<(String, String)>,
    ) {
        if msg.options.as_ref().is_some_and(|o| o.map_entry()) {
            return;
        }
        let full = if prefix_proto.is_empty() {
            msg.name().to_owned()
        } else {
            format!("{prefix_proto}.{}", msg.name())
        };
        if is_extern(&format!(".{full}"), externs) {
            return;
        }
        let mut path = String::new();
        for m in modules {
            path.push_str(m);
            path.push_str("::");
        }
        path.push_str(&to_upper_camel(msg.name()));
        out.push((path, full.clone()));
        let mut inner = modules.to_vec();
        inner.push(to_snake(msg.name()));
        for nested in &msg.nested_type {
            walk(nested, &full, &inner, externs, out);
        }
    }
    let mut out = Vec::new();
    for msg in &file.message_type {
        walk(msg, file.package(), &[], externs, &mut out);
    }
    out
}

/// The files `names` need, in dependency order, themselves included.
fn closure<'a>(
    names: &[&'a str],
    by_name: &HashMap<&'a str, &'a FileDescriptorProto>,
) -> Vec<&'a FileDescriptorProto> {
    fn visit<'a>(
        name: &str,
        by_name: &HashMap<&'a str, &'a FileDescriptorProto>,
        seen: &mut HashSet<String>,
        out: &mut Vec<&'a FileDescriptorProto>,
    ) {
        if !seen.insert(name.to_owned()) {
            return;
        }
        if let Some(file) = by_name.get(name) {
            for dep in &file.dependency {
                visit(dep, by_name, seen, out);
            }
            out.push(file);
        }
    }
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for name in names {
        visit(name, by_name, &mut seen, &mut out);
    }
    out
}

/// `google.api.http` bindings of a method, read through descriptors that keep extensions.
fn http_rules(pool: &DescriptorPool, method_full_name: &str) -> Vec<HttpRule> {
    let Some(ext) = pool.get_extension_by_name("google.api.http") else {
        return Vec::new();
    };
    let Some((service, method)) = method_full_name.rsplit_once('.') else {
        return Vec::new();
    };
    let Some(svc) = pool.get_service_by_name(service) else {
        return Vec::new();
    };
    let Some(m) = svc.methods().find(|m| m.name() == method) else {
        return Vec::new();
    };
    let options = m.options();
    if !options.has_extension(&ext) {
        return Vec::new();
    }
    let ReflectValue::Message(rule) = options.get_extension(&ext).into_owned() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    collect_rule(&rule, &mut out);
    out
}

fn string_field(msg: &prost_reflect::DynamicMessage, name: &str) -> Option<String> {
    let value = msg.get_field_by_name(name)?;
    let s = value.as_str()?.to_owned();
    (!s.is_empty()).then_some(s)
}

fn collect_rule(rule: &prost_reflect::DynamicMessage, out: &mut Vec<HttpRule>) {
    let mut pattern = None;
    for verb in ["get", "put", "post", "delete", "patch"] {
        if rule.has_field_by_name(verb)
            && let Some(path) = string_field(rule, verb)
        {
            pattern = Some((verb.to_ascii_uppercase(), path));
        }
    }
    if pattern.is_none()
        && rule.has_field_by_name("custom")
        && let Some(custom) = rule.get_field_by_name("custom")
        && let Some(custom) = custom.as_message()
    {
        pattern = string_field(custom, "kind").zip(string_field(custom, "path"));
    }
    if let Some((method, path)) = pattern {
        out.push(HttpRule {
            method,
            path,
            body: string_field(rule, "body"),
            response_body: string_field(rule, "response_body"),
        });
    }
    if let Some(extra) = rule.get_field_by_name("additional_bindings")
        && let Some(list) = extra.as_list()
    {
        for item in list {
            if let Some(m) = item.as_message() {
                collect_rule(m, out);
            }
        }
    }
}

fn comment_lines(c: &prost_build::Comments) -> Vec<String> {
    let mut lines = c.leading.clone();
    if !c.leading.is_empty() && !c.trailing.is_empty() {
        lines.push(String::new());
    }
    lines.extend(c.trailing.iter().cloned());
    lines
}

fn parse_type(path: &str) -> Result<TokenStream, Error> {
    path.parse::<TokenStream>().map_err(|e| {
        Error::new(format!(
            "micro-gen: cannot parse the Rust type {path:?}: {e}"
        ))
    })
}

/// The input of a generation: the files, and a descriptor pool of the same files that keeps
/// custom options (such as `google.api.http`).
pub(crate) struct Input {
    pub(crate) fds: FileDescriptorSet,
    pub(crate) pool: DescriptorPool,
}

impl Input {
    /// From an encoded `FileDescriptorSet`.
    pub(crate) fn decode(bytes: &[u8]) -> Result<Input, Error> {
        Ok(Input {
            fds: FileDescriptorSet::decode(bytes)
                .map_err(|e| Error::new(format!("micro-gen: invalid descriptor set: {e}")))?,
            pool: DescriptorPool::decode(bytes)
                .map_err(|e| Error::new(format!("micro-gen: invalid descriptors: {e}")))?,
        })
    }
}

/// Generate one file per package; `only` restricts output to the packages of these files.
pub(crate) fn generate(
    input: Input,
    only: Option<&[String]>,
    settings: &Settings,
) -> Result<Vec<Generated>, Error> {
    let Input { fds, pool } = input;
    let global = DescriptorPool::global();

    let externs = externs(settings);

    let mut config = prost_build::Config::new();
    config.format(false);
    if settings.type_names {
        config.enable_type_names();
    }
    let cg = &settings.codegen_path;
    config.prost_path(format!("{cg}::prost"));
    config.prost_types_path(format!("{cg}::prost_types"));
    // Fields without comments must not warn in crates that deny missing docs.
    config.type_attribute(".", "#[allow(missing_docs)]");
    for (proto, rust) in &settings.extern_paths {
        config.extern_path(proto, rust);
    }
    for (path, attr) in &settings.type_attributes {
        config.type_attribute(path, attr);
    }
    for (path, attr) in &settings.message_attributes {
        config.message_attribute(path, attr);
    }
    for (path, attr) in &settings.enum_attributes {
        config.enum_attribute(path, attr);
    }
    for (path, attr) in &settings.field_attributes {
        config.field_attribute(path, attr);
    }
    if !settings.btree_maps.is_empty() {
        config.btree_map(&settings.btree_maps);
    }
    if !settings.bytes.is_empty() {
        config.bytes(&settings.bytes);
    }
    for path in &settings.boxed {
        config.boxed(path);
    }
    if !settings.comments {
        config.disable_comments(["."]);
    }
    let collector = Collector::default();
    config.service_generator(Box::new(collector.clone()));

    let requests: Vec<(Module, FileDescriptorProto)> = fds
        .file
        .iter()
        .map(|f| (Module::from_protobuf_package_name(f.package()), f.clone()))
        .collect();
    let mut modules = config
        .generate(requests)
        .map_err(|e| Error::new(format!("micro-gen: prost-build failed: {e}")))?;

    let by_name: HashMap<&str, &FileDescriptorProto> =
        fds.file.iter().map(|f| (f.name(), f)).collect();
    let mut packages: BTreeMap<String, Vec<&FileDescriptorProto>> = BTreeMap::new();
    for file in &fds.file {
        packages
            .entry(file.package().to_owned())
            .or_default()
            .push(file);
    }
    let wanted: Option<BTreeSet<String>> = only.map(|names| {
        names
            .iter()
            .filter_map(|n| by_name.get(n.as_str()).map(|f| f.package().to_owned()))
            .collect()
    });
    let services = collector.services.borrow();
    let codegen: TokenStream = parse_type(cg)?;

    let mut encoded_files: HashMap<&str, Vec<u8>> = HashMap::new();
    let mut out = Vec::new();
    for (package, files) in &packages {
        if wanted.as_ref().is_some_and(|w| !w.contains(package)) {
            continue;
        }
        if is_extern(&format!(".{package}"), &externs) && !package.is_empty() {
            continue;
        }
        let module = Module::from_protobuf_package_name(package);
        let prost_code = modules.remove(&module).unwrap_or_default();
        let msgs: Vec<(String, String)> =
            files.iter().flat_map(|f| messages(f, &externs)).collect();
        let svcs = services.get(package).cloned().unwrap_or_default();
        if msgs.is_empty() && svcs.is_empty() && prost_code.trim().is_empty() {
            continue;
        }

        let mut code = TokenStream::new();
        let descriptors = quote!(DESCRIPTORS);
        let mut descriptors_item = String::new();
        if !msgs.is_empty() || !svcs.is_empty() {
            let names: Vec<&str> = files.iter().map(|f| f.name()).collect();
            let needed = closure(&names, &by_name);
            let mut set = Vec::new();
            for file in needed {
                if global.get_file_by_name(file.name()).is_some() {
                    continue; // a well-known type: the runtime has it
                }
                let encoded = encoded_files.entry(file.name()).or_insert_with(|| {
                    let info = if file.package() == "buf.validate" {
                        None // its field comments are documentation of the rules
                    } else {
                        field_comments(file.source_code_info.clone())
                    };
                    // From the pool, which keeps extension options (validation rules)
                    // that prost-types' descriptors drop.
                    match pool.get_file_by_name(file.name()) {
                        Some(f) => with_source_info(&f.encode_to_vec(), info),
                        None => {
                            let mut file = file.clone();
                            file.source_code_info = info;
                            file.encode_to_vec()
                        }
                    }
                });
                // A FileDescriptorSet is its files as field 1, one after another.
                prost::encoding::encode_key(
                    1,
                    prost::encoding::WireType::LengthDelimited,
                    &mut set,
                );
                prost::encoding::encode_varint(encoded.len() as u64, &mut set);
                set.extend_from_slice(encoded);
            }
            use base64::Engine as _;
            let text = base64::engine::general_purpose::STANDARD.encode(&set);
            let package_name = if package.is_empty() {
                "(none)"
            } else {
                package
            };
            // Appended after formatting: a long literal needs no parsing or pretty-printing.
            descriptors_item = format!(
                "/// The descriptors of package `{package_name}` and its imports (base64): JSON mapping,\n\
                 /// registry schemas, reflection.\n\
                 pub static DESCRIPTORS: {cg}::Descriptors = {cg}::Descriptors::base64(\n    \"{text}\",\n);\n"
            );
            descriptors_item.push_str(&emit::message_impls_text("DESCRIPTORS", &msgs, cg));
        }

        let opts = EmitOptions {
            client: settings.client,
            server: settings.server,
            descriptors: Some(descriptors.clone()),
            codegen: codegen.clone(),
            ..EmitOptions::default()
        };
        let mut warnings = Vec::new();
        for svc in &svcs {
            let mut model = service_model(svc, &pool, settings.comments, &externs)?;
            if settings.services_only {
                // The messages come from another generator: they have no `Validate`.
                for m in &mut model.methods {
                    m.validate = false;
                }
            }
            for m in &model.methods {
                if m.kind.client_streams()
                    && validate::has_rules(
                        &pool,
                        m.request_proto.as_deref().unwrap_or_default(),
                        &externs,
                    )
                {
                    warnings.push(format!(
                        "micro-gen: rpc {}.{}: the requests of a client stream are not validated by the server (yet): call `validate()` on each in the handler",
                        model.name, m.name
                    ));
                }
            }
            for problem in model::check::check(&model) {
                match problem.renamed(&model) {
                    Some(note) => warnings.push(format!("micro-gen: {note}")),
                    None => {
                        return Err(Error::new(format!(
                            "micro-gen: service {}: {}",
                            model.name,
                            problem.message(&model)
                        )));
                    }
                }
            }
            code.extend(emit::service(&model, &opts));
        }
        if !settings.services_only {
            let names: Vec<&str> = files.iter().map(|f| f.name()).collect();
            code.extend(errors::generate(&pool, &names, &codegen)?);
            code.extend(validate::generate(&pool, &names, &codegen, &externs)?);
        }

        let mut text = String::new();
        text.push_str(
            "// @generated by micro-gen. Do not edit: change the .proto file and build again.\n",
        );
        if !settings.services_only {
            text.push_str(&prost_code);
            text.push('\n');
        }
        text.push_str(&code.to_string());
        let file = syn::parse_file(&text).map_err(|e| {
            Error::new(format!(
                "micro-gen: generated invalid Rust for package {package:?}: {e} (please report this as a bug)"
            ))
        })?;
        let mut content = prettyplease::unparse(&file);
        content.push_str(&descriptors_item);
        out.push(Generated {
            file_name: if package.is_empty() {
                "_.rs".to_owned()
            } else {
                format!("{package}.rs")
            },
            module: module.parts().map(str::to_owned).collect(),
            content,
            warnings,
        });
    }
    Ok(out)
}

fn service_model(
    svc: &prost_build::Service,
    pool: &DescriptorPool,
    comments: bool,
    externs: &[(String, String)],
) -> Result<model::Service, Error> {
    let package = (!svc.package.is_empty()).then(|| svc.package.clone());
    let full = match &package {
        Some(p) => format!("{p}.{}", svc.proto_name),
        None => svc.proto_name.clone(),
    };
    let mut methods = Vec::new();
    for m in &svc.methods {
        let level = m.options.idempotency_level();
        use prost_types::method_options::IdempotencyLevel;
        methods.push(model::Method {
            name: m.proto_name.clone(),
            rust_name: m.name.clone(),
            request_ty: parse_type(&m.input_type)?,
            response_ty: parse_type(&m.output_type)?,
            request_proto: Some(m.input_proto_type.trim_start_matches('.').to_owned()),
            response_proto: Some(m.output_proto_type.trim_start_matches('.').to_owned()),
            kind: model::StreamKind::new(m.client_streaming, m.server_streaming),
            docs: if comments {
                comment_lines(&m.comments)
            } else {
                Vec::new()
            },
            deprecated: m.options.deprecated(),
            idempotent: matches!(
                level,
                IdempotencyLevel::Idempotent | IdempotencyLevel::NoSideEffects
            ),
            http: http_rules(pool, &format!("{full}.{}", m.proto_name)),
            metadata: Vec::new(),
            timeout_ms: None,
            attrs: Vec::new(),
            validate: !m.client_streaming
                && validate::has_rules(pool, m.input_proto_type.trim_start_matches('.'), externs),
        });
    }
    Ok(model::Service {
        name: svc.proto_name.clone(),
        rust_name: None,
        package,
        docs: if comments {
            comment_lines(&svc.comments)
        } else {
            Vec::new()
        },
        deprecated: svc.options.deprecated(),
        methods,
        attrs: Vec::new(),
    })
}

/// The service models of the packages of the files named `files` (all packages when none
/// match), with Rust type paths as prost-build resolves them.
pub(crate) fn services(
    input: Input,
    files: &[String],
    settings: &Settings,
) -> Result<Vec<model::Service>, Error> {
    let Input { fds, pool } = input;
    let externs = externs(settings);
    let mut config = prost_build::Config::new();
    config.format(false);
    let cg = &settings.codegen_path;
    config.prost_path(format!("{cg}::prost"));
    config.prost_types_path(format!("{cg}::prost_types"));
    for (proto, rust) in &settings.extern_paths {
        config.extern_path(proto, rust);
    }
    let collector = Collector::default();
    config.service_generator(Box::new(collector.clone()));
    let packages: BTreeSet<String> = fds
        .file
        .iter()
        .filter(|f| files.iter().any(|n| n == f.name()))
        .map(|f| f.package().to_owned())
        .collect();
    let requests: Vec<(Module, FileDescriptorProto)> = fds
        .file
        .iter()
        .map(|f| (Module::from_protobuf_package_name(f.package()), f.clone()))
        .collect();
    config
        .generate(requests)
        .map_err(|e| Error::new(format!("micro-gen: prost-build failed: {e}")))?;
    let services = collector.services.borrow();
    let mut out = Vec::new();
    for (package, svcs) in services.iter() {
        if !packages.is_empty() && !packages.contains(package) {
            continue;
        }
        for svc in svcs {
            let mut model = service_model(svc, &pool, settings.comments, &externs)?;
            if settings.services_only {
                for m in &mut model.methods {
                    m.validate = false;
                }
            }
            out.push(model);
        }
    }
    Ok(out)
}

/// An encoded `FileDescriptorProto` with its `source_code_info` (field 9) replaced by
/// `info`; every other field is copied byte for byte (extension options included).
fn with_source_info(encoded: &[u8], info: Option<prost_types::SourceCodeInfo>) -> Vec<u8> {
    use prost::encoding::{WireType, decode_key, decode_varint, encode_key, encode_varint};
    let mut out = Vec::with_capacity(encoded.len());
    let mut rest = encoded;
    while !rest.is_empty() {
        let start = rest;
        let Ok((tag, wire)) = decode_key(&mut rest) else {
            return encoded.to_vec();
        };
        let len = match wire {
            WireType::Varint => match decode_varint(&mut rest) {
                Ok(_) => 0,
                Err(_) => return encoded.to_vec(),
            },
            WireType::SixtyFourBit => 8,
            WireType::ThirtyTwoBit => 4,
            WireType::LengthDelimited => match decode_varint(&mut rest) {
                Ok(n) => usize::try_from(n).unwrap_or(usize::MAX),
                Err(_) => return encoded.to_vec(),
            },
            _ => return encoded.to_vec(),
        };
        if len > rest.len() {
            return encoded.to_vec();
        }
        rest = &rest[len..];
        if tag != 9 {
            let used = start.len() - rest.len();
            out.extend_from_slice(&start[..used]);
        }
    }
    if let Some(info) = info {
        let bytes = info.encode_to_vec();
        encode_key(9, WireType::LengthDelimited, &mut out);
        encode_varint(bytes.len() as u64, &mut out);
        out.extend_from_slice(&bytes);
    }
    out
}

/// The text of an include file: a module tree with one `include!` per package.
pub(crate) fn include_file(files: &[Generated], include: impl Fn(&str) -> String) -> String {
    #[derive(Default)]
    struct Node {
        file: Option<String>,
        children: BTreeMap<String, Node>,
    }
    let mut root = Node::default();
    for g in files {
        let mut node = &mut root;
        for part in &g.module {
            node = node.children.entry(part.clone()).or_default();
        }
        node.file = Some(g.file_name.clone());
    }
    fn render(node: &Node, depth: usize, include: &dyn Fn(&str) -> String, out: &mut String) {
        let pad = "    ".repeat(depth);
        if let Some(file) = &node.file {
            out.push_str(&format!("{pad}{}\n", include(file)));
        }
        for (name, child) in &node.children {
            out.push_str(&format!("{pad}pub mod {name} {{\n"));
            render(child, depth + 1, include, out);
            out.push_str(&format!("{pad}}}\n"));
        }
    }
    let mut out =
        String::from("// @generated by micro-gen: the module tree of every generated package.\n");
    render(&root, 0, &include, &mut out);
    out
}

/// Of a file's source information, only what the registry shows: the comments of message
/// fields (leading, else trailing), each made one description of at most 512 bytes. The
/// runtime reads them as field descriptions (`micro describe`, OpenAPI, MCP tool schemas).
fn field_comments(
    info: Option<prost_types::SourceCodeInfo>,
) -> Option<prost_types::SourceCodeInfo> {
    let location: Vec<prost_types::source_code_info::Location> = info?
        .location
        .into_iter()
        .filter(|l| is_field_path(&l.path))
        .filter_map(|l| {
            let comment = l
                .leading_comments
                .as_deref()
                .or(l.trailing_comments.as_deref())?;
            let lines: Vec<String> = comment.lines().map(str::to_owned).collect();
            let text = emit::description(&lines);
            (!text.is_empty()).then(|| prost_types::source_code_info::Location {
                path: l.path,
                span: l.span,
                leading_comments: Some(text),
                trailing_comments: None,
                leading_detached_comments: Vec::new(),
            })
        })
        .collect();
    (!location.is_empty()).then_some(prost_types::SourceCodeInfo { location })
}

/// Whether a source path names a message field: `[4, m, (3, n)*, 2, f]` (message `m` of
/// the file, nested messages, field `f`).
fn is_field_path(path: &[i32]) -> bool {
    let n = path.len();
    n >= 4
        && n.is_multiple_of(2)
        && path[0] == 4
        && path[n - 2] == 2
        && path[2..n - 2].chunks(2).all(|pair| pair[0] == 3)
}

#[cfg(test)]
mod comment_tests {
    use prost_types::SourceCodeInfo;
    use prost_types::source_code_info::Location;

    use super::{field_comments, is_field_path};

    #[test]
    fn only_field_paths_count() {
        assert!(is_field_path(&[4, 0, 2, 1]));
        assert!(is_field_path(&[4, 2, 3, 0, 3, 1, 2, 0]));
        assert!(!is_field_path(&[4, 0]), "a message");
        assert!(!is_field_path(&[6, 0, 2, 0]), "a method");
        assert!(!is_field_path(&[4, 0, 4, 0, 2, 0]), "an enum value");
    }

    #[test]
    fn field_comments_are_kept_and_the_rest_dropped() {
        let at = |path: Vec<i32>, leading: Option<&str>, trailing: Option<&str>| Location {
            path,
            span: vec![1, 2, 3],
            leading_comments: leading.map(str::to_owned),
            trailing_comments: trailing.map(str::to_owned),
            leading_detached_comments: vec!["detached".into()],
        };
        let info = SourceCodeInfo {
            location: vec![
                at(vec![4, 0], Some(" A message.\n"), None),
                at(
                    vec![4, 0, 2, 0],
                    Some(" Who to greet,\n e.g. John.\n"),
                    None,
                ),
                at(vec![4, 0, 2, 1], None, Some(" trailing\n")),
                at(vec![4, 0, 2, 2], None, None),
            ],
        };
        let kept = field_comments(Some(info)).unwrap_or_default().location;
        let got: Vec<(Vec<i32>, Option<String>)> = kept
            .into_iter()
            .map(|l| (l.path, l.leading_comments))
            .collect();
        assert_eq!(
            got,
            [
                (
                    vec![4, 0, 2, 0],
                    Some("Who to greet, e.g. John.".to_owned())
                ),
                (vec![4, 0, 2, 1], Some("trailing".to_owned())),
            ]
        );
        assert_eq!(field_comments(None), None);
    }
}
