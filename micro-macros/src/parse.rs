//! Parse the trait and its attributes into micro-gen's model, checking every rule with an
//! error spanned on the offending tokens; then emit with micro-gen's emitter.

use heck::ToUpperCamelCase;
use micro_gen::emit::{self, EmitOptions, Layout};
use micro_gen::model;
use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote};
use syn::spanned::Spanned;
use syn::{
    Attribute, Expr, ExprLit, FnArg, GenericArgument, ItemTrait, Lit, Meta, Pat, PathArguments,
    ReturnType, TraitItem, TraitItemFn, Type,
};

/// Collects errors so that every problem is reported at once.
#[derive(Default)]
struct Errors(Option<syn::Error>);

impl Errors {
    fn push(&mut self, span: impl Spanned, message: impl std::fmt::Display) {
        let err = syn::Error::new(span.span(), message);
        match &mut self.0 {
            Some(all) => all.combine(err),
            None => self.0 = Some(err),
        }
    }

    fn push_error(&mut self, err: syn::Error) {
        match &mut self.0 {
            Some(all) => all.combine(err),
            None => self.0 = Some(err),
        }
    }

    fn finish(self) -> syn::Result<()> {
        match self.0 {
            Some(err) => Err(err),
            None => Ok(()),
        }
    }
}

/// `#[micro::service(name = "..", codec = "json" | "msgpack", crate = "..")]`.
struct ServiceArgs {
    name: Option<String>,
    codec: &'static str,
    krate: TokenStream,
}

fn parse_service_args(attr: TokenStream, errors: &mut Errors) -> ServiceArgs {
    let mut args = ServiceArgs {
        name: None,
        codec: "serde",
        krate: quote!(::micro),
    };
    if attr.is_empty() {
        return args;
    }
    let parser = syn::meta::parser(|meta| {
        let key = meta.path.clone();
        let value: syn::LitStr = meta.value()?.parse()?;
        if key.is_ident("name") {
            if !valid_ident_like(&value.value()) {
                return Err(syn::Error::new(
                    value.span(),
                    "`name` must be an identifier such as \"Calculator\"",
                ));
            }
            args.name = Some(value.value());
        } else if key.is_ident("codec") {
            args.codec = match value.value().as_str() {
                "json" => "serde",
                "msgpack" => "serde_msgpack",
                _ => {
                    return Err(syn::Error::new(
                        value.span(),
                        "unknown codec: use \"json\" (the default) or \"msgpack\"",
                    ));
                }
            };
        } else if key.is_ident("crate") {
            args.krate = value.parse()?;
        } else {
            return Err(syn::Error::new(
                key.span(),
                format!(
                    "unknown `micro::service` option `{}`: expected `name`, `codec` or `crate`",
                    key.to_token_stream()
                ),
            ));
        }
        Ok(())
    });
    if let Err(e) = syn::parse::Parser::parse2(parser, attr) {
        errors.push_error(e);
    }
    args
}

fn valid_ident_like(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `#[micro(name = "..", idempotent, timeout = "5s")]` on a method.
#[derive(Default)]
struct MethodArgs {
    name: Option<String>,
    idempotent: bool,
    timeout_ms: Option<u64>,
}

fn parse_duration_ms(text: &str) -> Option<u64> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit())?;
    let (num, unit) = t.split_at(split);
    let n: u64 = num.parse().ok()?;
    match unit {
        "ms" => Some(n),
        "s" => n.checked_mul(1_000),
        "m" => n.checked_mul(60_000),
        "h" => n.checked_mul(3_600_000),
        _ => None,
    }
}

fn parse_method_attr(attr: &Attribute, args: &mut MethodArgs, errors: &mut Errors) {
    let result = attr.parse_nested_meta(|meta| {
        let key = meta.path.clone();
        if key.is_ident("idempotent") {
            if args.idempotent {
                return Err(syn::Error::new(key.span(), "duplicate `idempotent`"));
            }
            args.idempotent = true;
        } else if key.is_ident("name") {
            let value: syn::LitStr = meta.value()?.parse()?;
            if args.name.is_some() {
                return Err(syn::Error::new(key.span(), "duplicate `name`"));
            }
            if !valid_ident_like(&value.value()) {
                return Err(syn::Error::new(
                    value.span(),
                    "`name` must be an identifier such as \"Add\"",
                ));
            }
            args.name = Some(value.value());
        } else if key.is_ident("timeout") {
            let value: syn::LitStr = meta.value()?.parse()?;
            if args.timeout_ms.is_some() {
                return Err(syn::Error::new(key.span(), "duplicate `timeout`"));
            }
            let Some(ms) = parse_duration_ms(&value.value()).filter(|ms| *ms > 0) else {
                return Err(syn::Error::new(
                    value.span(),
                    "`timeout` must be a duration like \"500ms\", \"5s\", \"2m\" or \"1h\"",
                ));
            };
            args.timeout_ms = Some(ms);
        } else {
            return Err(syn::Error::new(
                key.span(),
                format!(
                    "unknown micro attribute `{}`: expected `name = \"..\"`, `idempotent` or `timeout = \"5s\"`",
                    key.to_token_stream()
                ),
            ));
        }
        Ok(())
    });
    if let Err(e) = result {
        errors.push_error(e);
    }
}

fn doc_lines(attrs: &[Attribute]) -> Vec<String> {
    attrs
        .iter()
        .filter(|a| a.path().is_ident("doc"))
        .filter_map(|a| match &a.meta {
            Meta::NameValue(nv) => match &nv.value {
                Expr::Lit(ExprLit {
                    lit: Lit::Str(s), ..
                }) => Some(s.value()),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

/// The last path segment of a type, and its single generic argument if it has one.
fn last_segment(ty: &Type) -> Option<(&syn::Ident, Option<&Type>)> {
    let Type::Path(path) = ty else { return None };
    let seg = path.path.segments.last()?;
    let arg = match &seg.arguments {
        PathArguments::AngleBracketed(args) if args.args.len() == 1 => match &args.args[0] {
            GenericArgument::Type(t) => Some(t),
            _ => None,
        },
        _ => None,
    };
    Some((&seg.ident, arg))
}

fn is_named(ty: &Type, name: &str) -> bool {
    last_segment(ty).is_some_and(|(id, _)| id == name)
}

/// What one argument after the context is.
enum Arg {
    Request(Type),
    Receiver(Type),
    Sender(Type),
}

fn classify(ty: &Type, errors: &mut Errors) -> Option<Arg> {
    if let Type::Reference(r) = ty {
        let owned = match &*r.elem {
            Type::Path(p) if p.path.is_ident("str") => "String".to_owned(),
            Type::Slice(s) => format!("Vec<{}>", s.elem.to_token_stream()),
            other => other.to_token_stream().to_string().replace(' ', ""),
        };
        errors.push(
            r,
            format!(
                "service arguments are owned values sent over the network: write `{owned}` instead of `{}`",
                ty.to_token_stream().to_string().replace(' ', "")
            ),
        );
        return None;
    }
    match last_segment(ty) {
        Some((id, Some(inner))) if id == "StreamReceiver" => Some(Arg::Receiver(inner.clone())),
        Some((id, Some(inner))) if id == "StreamSender" => Some(Arg::Sender(inner.clone())),
        _ => Some(Arg::Request(ty.clone())),
    }
}

fn method_model(f: &TraitItemFn, errors: &mut Errors) -> Option<model::Method> {
    let sig = &f.sig;
    let before = errors.0.is_some();
    if sig.asyncness.is_none() {
        errors.push(
            sig.fn_token,
            format!(
                "service methods must be async: write `async fn {}(&self, ctx: micro::Context, ..)`",
                sig.ident
            ),
        );
    }
    if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
        errors.push(
            &sig.generics,
            "service methods cannot have generic or lifetime parameters: use concrete message types",
        );
    }
    if let Some(default) = &f.default {
        errors.push(
            default.brace_token.span.join(),
            "service methods have no default body: declare them with `;` and implement them in an `impl`",
        );
    }
    let mut inputs = sig.inputs.iter();
    match inputs.next() {
        Some(FnArg::Receiver(r)) if r.reference.is_some() && r.mutability.is_none() => {}
        Some(FnArg::Receiver(r)) if r.reference.is_none() => {
            errors.push(
                r,
                "take `&self`, not `self`: one handler serves many calls at once",
            );
        }
        Some(FnArg::Receiver(r)) => {
            errors.push(
                r,
                "take `&self`, not `&mut self`: one handler serves many calls at once",
            );
        }
        _ => {
            errors.push(
                &sig.inputs,
                format!(
                    "service methods take `&self` first: `async fn {}(&self, ctx: micro::Context, ..)`",
                    sig.ident
                ),
            );
            return None;
        }
    }
    let rest: Vec<&FnArg> = inputs.collect();
    let mut typed = Vec::new();
    for arg in &rest {
        match arg {
            FnArg::Typed(pt) => {
                if !matches!(*pt.pat, Pat::Ident(_) | Pat::Wild(_)) {
                    errors.push(&pt.pat, "use a plain name for each argument, such as `req`");
                }
                typed.push(pt);
            }
            FnArg::Receiver(r) => errors.push(r, "`self` can only come first"),
        }
    }
    let Some(first) = typed.first() else {
        errors.push(
            sig.paren_token.span.join(),
            format!(
                "missing the context: write `async fn {}(&self, ctx: micro::Context, req: Request)`",
                sig.ident
            ),
        );
        return None;
    };
    if !is_named(&first.ty, "Context") {
        match typed.iter().position(|pt| is_named(&pt.ty, "Context")) {
            Some(i) => errors.push(
                &typed[i].ty,
                "the context comes first: put `ctx: micro::Context` right after `&self`",
            ),
            None => errors.push(
                &first.ty,
                format!(
                    "missing the context: write `async fn {}(&self, ctx: micro::Context, ..)` (the context carries the deadline and metadata)",
                    sig.ident
                ),
            ),
        }
        return None;
    }
    let args: Vec<(Arg, &Type)> = typed[1..]
        .iter()
        .filter_map(|pt| classify(&pt.ty, errors).map(|a| (a, &*pt.ty)))
        .collect();
    for pt in &typed[1..] {
        if is_named(&pt.ty, "Context") {
            errors.push(&pt.ty, "only one context argument, right after `&self`");
        }
    }
    let shape = "write one of:\n  async fn m(&self, ctx: micro::Context, req: Req) -> micro::Result<Resp>\n  async fn m(&self, ctx: micro::Context, req: Req, responses: StreamSender<Resp>) -> micro::Result<()>\n  async fn m(&self, ctx: micro::Context, requests: StreamReceiver<Req>) -> micro::Result<Resp>\n  async fn m(&self, ctx: micro::Context, requests: StreamReceiver<Req>, responses: StreamSender<Resp>) -> micro::Result<()>";
    let (input, client_streaming, sender) = match args.as_slice() {
        [(Arg::Request(t), _)] => (t.clone(), false, None),
        [(Arg::Receiver(t), _)] => (t.clone(), true, None),
        [(Arg::Request(t), _), (Arg::Sender(s), _)] => (t.clone(), false, Some(s.clone())),
        [(Arg::Receiver(t), _), (Arg::Sender(s), _)] => (t.clone(), true, Some(s.clone())),
        [] if errors.0.is_some() && !before => return None,
        _ => {
            let span = args
                .first()
                .map(|(_, ty)| ty.span())
                .unwrap_or_else(|| sig.paren_token.span.join());
            errors.push(
                span,
                format!("unsupported arguments for a service method; {shape}"),
            );
            return None;
        }
    };
    // The return type: micro::Result<Resp>, or micro::Result<()> for a server stream.
    let ReturnType::Type(_, ret) = &sig.output else {
        errors.push(
            sig.paren_token.span.join(),
            "missing the return type: service methods return `micro::Result<Response>`",
        );
        return None;
    };
    let Some((ret_id, Some(ret_inner))) = last_segment(ret) else {
        errors.push(ret, "service methods return `micro::Result<Response>`");
        return None;
    };
    if ret_id != "Result" {
        errors.push(ret, "service methods return `micro::Result<Response>`");
        return None;
    }
    let output = match sender {
        Some(s) => {
            let unit = matches!(ret_inner, Type::Tuple(t) if t.elems.is_empty());
            if !unit {
                errors.push(
                    ret_inner,
                    "a method that sends a stream returns `micro::Result<()>`: its responses go to the `StreamSender`",
                );
            }
            s
        }
        None => ret_inner.clone(),
    };

    let mut margs = MethodArgs::default();
    let mut docs = Vec::new();
    let mut deprecated = false;
    let mut attrs = Vec::new();
    for attr in &f.attrs {
        if attr.path().is_ident("micro") {
            parse_method_attr(attr, &mut margs, errors);
        } else if attr.path().is_ident("doc") {
            docs.extend(doc_lines(std::slice::from_ref(attr)));
        } else if attr.path().is_ident("deprecated") {
            deprecated = true;
        } else {
            attrs.push(attr.to_token_stream());
        }
    }
    let ident = sig.ident.to_string();
    let name = margs
        .name
        .unwrap_or_else(|| ident.trim_start_matches("r#").to_upper_camel_case());
    Some(model::Method {
        name,
        rust_name: ident,
        request_ty: input.to_token_stream(),
        response_ty: output.to_token_stream(),
        request_proto: None,
        response_proto: None,
        kind: model::StreamKind::new(client_streaming, sender_is_some(&args)),
        docs,
        deprecated,
        idempotent: margs.idempotent,
        http: Vec::new(),
        metadata: Vec::new(),
        timeout_ms: margs.timeout_ms,
        attrs,
        // Checked before the handler when the request type has rules (garde's derive).
        validate: !client_streaming,
    })
}

fn sender_is_some(args: &[(Arg, &Type)]) -> bool {
    args.iter().any(|(a, _)| matches!(a, Arg::Sender(_)))
}

/// Names that would clash in the generated code (micro-gen's shared check), each reported on
/// the method that causes it.
/// `idents[i]` is the name of method `i` of the model.
fn check_clashes(
    item: &ItemTrait,
    idents: &[&syn::Ident],
    service: &model::Service,
    errors: &mut Errors,
) {
    for problem in model::check::check(service) {
        let message = problem.message(service);
        match problem {
            model::check::Problem::DuplicateEndpoint { .. } => errors.push(&item.ident, message),
            _ => errors.push(idents[problem.method()], message),
        }
    }
}

pub(crate) fn expand(attr: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let mut errors = Errors::default();
    let args = parse_service_args(attr, &mut errors);
    let item: ItemTrait = match syn::parse2(item.clone()) {
        Ok(item) => item,
        Err(_) => {
            return Err(syn::Error::new(
                Span::call_site(),
                "#[micro::service] goes on a trait: `#[micro::service] pub trait Greeter { async fn hello(&self, ctx: micro::Context, req: HelloRequest) -> micro::Result<HelloResponse>; }`",
            ));
        }
    };
    if !item.generics.params.is_empty() || item.generics.where_clause.is_some() {
        errors.push(
            &item.generics,
            "a service trait cannot have generic or lifetime parameters: it names concrete message types",
        );
    }
    if let Some(colon) = &item.colon_token {
        errors.push(
            colon
                .span
                .join(item.supertraits.span())
                .unwrap_or(colon.span),
            "remove the supertraits: the macro adds `Send + Sync + 'static`",
        );
    }
    if let Some(unsafety) = &item.unsafety {
        errors.push(unsafety, "a service trait cannot be unsafe");
    }
    let mut methods = Vec::new();
    let mut idents = Vec::new();
    for ti in &item.items {
        match ti {
            TraitItem::Fn(f) => {
                if let Some(m) = method_model(f, &mut errors) {
                    methods.push(m);
                    idents.push(&f.sig.ident);
                }
            }
            other => errors.push(
                other,
                "a service trait holds only `async fn` methods (move constants and types elsewhere)",
            ),
        }
    }
    if item.items.is_empty() {
        errors.push(
            &item.ident,
            "a service trait needs at least one `async fn` method",
        );
    }

    let krate = args.krate;
    let codec = syn::Ident::new(args.codec, Span::call_site());
    let mut trait_attrs = Vec::new();
    let mut deprecated = false;
    for attr in &item.attrs {
        if attr.path().is_ident("doc") {
            continue;
        } else if attr.path().is_ident("deprecated") {
            deprecated = true;
        } else {
            trait_attrs.push(attr.to_token_stream());
        }
    }
    let service = model::Service {
        name: args.name.unwrap_or_else(|| item.ident.to_string()),
        rust_name: Some(item.ident.to_string()),
        package: None,
        docs: doc_lines(&item.attrs),
        deprecated,
        methods,
        attrs: trait_attrs,
    };
    check_clashes(&item, &idents, &service, &mut errors);
    errors.finish()?;
    let opts = EmitOptions {
        client: true,
        server: true,
        layout: Layout::Flat,
        descriptors: None,
        codegen: quote!(#krate::codegen),
        codec: Some(quote!(#codec)),
        schema: Some(quote!(#krate::codegen::schema_of)),
        vis: item.vis.to_token_stream(),
    };
    let mut generated = emit::service(&service, &opts);
    generated.extend(signatures_as_written(&item));
    Ok(generated)
}

/// The methods' parameter and return types as the user wrote them, named once in a hidden
/// type: the generated trait spells micro's types by full path, so without this the user's
/// `use micro::{Context, Result}` would be reported unused in a crate that only implements
/// nothing (a client-only build).
fn signatures_as_written(item: &ItemTrait) -> TokenStream {
    let signatures = item.items.iter().filter_map(|ti| match ti {
        TraitItem::Fn(f) => {
            let args = f.sig.inputs.iter().filter_map(|arg| match arg {
                syn::FnArg::Typed(pt) => Some(&pt.ty),
                syn::FnArg::Receiver(_) => None,
            });
            let output = &f.sig.output;
            Some(quote!(::core::option::Option<fn(#(#args),*) #output>))
        }
        _ => None,
    });
    quote! {
        const _: () = {
            #[allow(dead_code)]
            type Signatures = (#(#signatures,)*);
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration_ms("5s"), Some(5_000));
        assert_eq!(parse_duration_ms("250ms"), Some(250));
        assert_eq!(parse_duration_ms("2m"), Some(120_000));
        assert_eq!(parse_duration_ms("5"), None);
        assert_eq!(parse_duration_ms("fast"), None);
    }
}
