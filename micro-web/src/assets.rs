//! The page's files (`ui/`), embedded in the binary: `index.html` with the dashboard's base
//! path written into its `<base href>`, the rest as they are, with an `ETag`.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, StatusCode, header};
use rust_embed::RustEmbed;

use crate::Web;

#[derive(RustEmbed)]
#[folder = "ui/"]
struct Ui;

/// The content type of a file by its extension.
fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("json") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// The page, with `{{BASE}}` replaced by the dashboard's base path (`/_/`).
pub(crate) async fn index(State(web): State<Web>) -> Response {
    let Some(file) = Ui::get("index.html") else {
        return crate::error(StatusCode::NOT_FOUND, "the page is missing from this build");
    };
    let base = format!("{}/", web.options().base);
    let page = String::from_utf8_lossy(&file.data).replace("{{BASE}}", &base);
    let mut rsp = Response::new(Body::from(page));
    let h = rsp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    rsp
}

/// A file under `ui/`; 304 when the browser's copy is current.
pub(crate) async fn file(Path(path): Path<String>, headers: HeaderMap) -> Response {
    if path == "index.html" || path.split('/').any(|s| s == ".." || s.is_empty()) {
        return crate::error(StatusCode::NOT_FOUND, format!("no file {path}"));
    }
    let Some(file) = Ui::get(&path) else {
        return crate::error(StatusCode::NOT_FOUND, format!("no file {path}"));
    };
    let tag = etag(&file.metadata.sha256_hash());
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == tag));
    let mut rsp = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut rsp = Response::new(Body::from(file.data.into_owned()));
        rsp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(content_type(&path)),
        );
        rsp
    };
    let h = rsp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&tag) {
        h.insert(header::ETAG, v);
    }
    // Revalidate every time: the names carry no hash, and a new build changes the files.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    rsp
}

fn etag(hash: &[u8; 32]) -> String {
    let mut out = String::with_capacity(2 + 32);
    out.push('"');
    for b in &hash[..16] {
        out.push_str(&format!("{b:02x}"));
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_have_their_types_and_the_page_has_a_base_to_fill() {
        assert_eq!(content_type("js/main.js"), "text/javascript; charset=utf-8");
        assert_eq!(content_type("app.css"), "text/css; charset=utf-8");
        assert_eq!(content_type("x"), "application/octet-stream");
        let page = Ui::get("index.html").expect("ui/index.html is embedded");
        let text = String::from_utf8_lossy(&page.data);
        assert!(text.contains("<base href=\"{{BASE}}\">"), "{text}");
    }

    #[test]
    fn the_page_preloads_every_module_so_imports_cost_one_round_trip() {
        let page = Ui::get("index.html").expect("ui/index.html is embedded");
        let text = String::from_utf8_lossy(&page.data);
        let modules: Vec<_> = Ui::iter()
            .filter(|f| f.starts_with("js/") && f.ends_with(".js") && *f != "js/main.js")
            .collect();
        assert!(modules.len() > 5, "{modules:?}");
        for m in modules {
            let link = format!("<link rel=\"modulepreload\" href=\"assets/{m}\">");
            assert!(text.contains(&link), "index.html does not preload {m}");
        }
    }
}
