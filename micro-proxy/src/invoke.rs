//! Dapr's service invocation: `/v1.0/invoke/{app-id}/method/{method}` with any HTTP verb.
//! The sidecar's own app gets the request as it came; any other app id is a micro service
//! (or another sidecar's app), called with the body as JSON.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use axum::routing::any;
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use micro::client::CallOptions;
use micro::codec::Format;

use crate::Sidecar;
use crate::forward::{DAPR_SERVICE, QUERY_HEADER, VERB_HEADER};
use crate::reply::dapr;

pub(crate) fn routes() -> Router<Sidecar> {
    Router::new().route("/v1.0/invoke/{app}/method/{*method}", any(invoke))
}

async fn invoke(
    State(sidecar): State<Sidecar>,
    Path((app, method)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    uri: http::Uri,
    verb: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let own = sidecar.options().app.as_ref().filter(|a| a.name == app);
    if let Some(own) = own {
        // Dapr's invocation of the app's own id: straight to it, the method's path as it
        // came (still percent-encoded: `%3F` stays in the path, `%2F..` cannot climb).
        let raw = uri
            .path()
            .split_once("/method/")
            .map_or(method.as_str(), |(_, rest)| rest);
        let path = match &query {
            Some(q) => format!("/{raw}?{q}"),
            None => format!("/{raw}"),
        };
        let ct = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok());
        return match sidecar
            .app_request(
                &own.address,
                verb,
                &path,
                ct,
                body,
                sidecar.options().call_timeout,
            )
            .await
        {
            Ok(reply) => {
                let mut rsp = Response::new(axum::body::Body::from(reply.body));
                *rsp.status_mut() = reply.status;
                if let Some(ct) = reply
                    .content_type
                    .and_then(|ct| HeaderValue::from_str(&ct).ok())
                {
                    rsp.headers_mut().insert(header::CONTENT_TYPE, ct);
                }
                rsp
            }
            Err(e) => crate::reply::dapr_call(&e, "ERR_DIRECT_INVOKE"),
        };
    }
    let endpoint = match endpoint(&sidecar, &app, &method).await {
        Ok(endpoint) => endpoint,
        Err(rsp) => return rsp,
    };
    let request = if body.iter().all(u8::is_ascii_whitespace) {
        Bytes::from_static(b"{}")
    } else if serde_json::from_slice::<serde::de::IgnoredAny>(&body).is_err() {
        return dapr(
            StatusCode::BAD_REQUEST,
            "ERR_MALFORMED_REQUEST",
            format!("the body of a call to {app} {endpoint} must be JSON"),
        );
    } else {
        body
    };
    let mut ctx = micro::Context::new();
    if endpoint.starts_with(DAPR_SERVICE) && endpoint[DAPR_SERVICE.len()..].starts_with('.') {
        ctx.metadata_mut().insert(VERB_HEADER, verb.as_str());
        if let Some(q) = &query {
            ctx.metadata_mut().insert(QUERY_HEADER, q.as_str());
        }
    }
    let opts = CallOptions::new().timeout(sidecar.options().call_timeout);
    match sidecar
        .inner
        .client
        .call_raw(&ctx, &app, &endpoint, Format::Json, request, &opts)
        .await
    {
        Ok(rsp) => micro_gateway::reply::json(StatusCode::OK, rsp.message),
        Err(e) => micro_gateway::reply::call_failed(&e, &app),
    }
}

/// The endpoint a Dapr method names: `Greeter.Hello` as it is; a bare `hello` is the one
/// endpoint of the service whose method part is that name (case aside), else the app's
/// own `Dapr.hello` (its sidecar hands it over as `POST /hello`).
async fn endpoint(sidecar: &Sidecar, app: &str, method: &str) -> Result<String, Response> {
    let ident = |s: &str| {
        let mut c = s.chars();
        c.next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && c.all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    if let Some((svc, m)) = method.split_once('.')
        && ident(svc)
        && ident(m)
    {
        return Ok(method.to_owned());
    }
    if !ident(method) {
        return Err(dapr(
            StatusCode::BAD_REQUEST,
            "ERR_DIRECT_INVOKE",
            format!(
                "method {method:?} cannot be called through micro: name an endpoint (Service.Method) or a method made of letters, digits and _"
            ),
        ));
    }
    // The selector's cached view: no registry read per call.
    let selected = sidecar.inner.client.selector().select(app, &[]).await;
    let mut names: Vec<&str> = Vec::new();
    if let Ok(next) = &selected {
        for candidate in next.candidates() {
            for e in &candidate.service.endpoints {
                let matches = e
                    .name
                    .split_once('.')
                    .is_some_and(|(_, m)| m.eq_ignore_ascii_case(method));
                if matches && !names.contains(&e.name.as_str()) {
                    names.push(&e.name);
                }
            }
        }
    }
    let mut found = names.into_iter().map(str::to_owned);
    match (found.next(), found.next()) {
        (Some(one), None) => Ok(one),
        (Some(a), Some(b)) => Err(dapr(
            StatusCode::BAD_REQUEST,
            "ERR_DIRECT_INVOKE",
            format!("method {method} of {app} is ambiguous: {a}, {b}; name the endpoint"),
        )),
        _ => Ok(format!("{DAPR_SERVICE}.{method}")),
    }
}
