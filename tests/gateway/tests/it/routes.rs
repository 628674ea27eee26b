//! google.api.http rules, the simple form and go-micro's resolver table, through a running
//! gateway.

use gateway_tests::*;
use micro_gateway::Options;

async fn shop_gateway(options: Options) -> (RunningGateway, micro::RunningService) {
    let (_, registry) = registry();
    let shop = start_shop(&registry).await;
    let gw = start_gateway(&registry, options).await;
    gw.sees(SERVICE, "Shop.GetBook").await;
    (gw, shop)
}

#[tokio::test]
async fn path_variables_query_parameters_and_bodies_become_the_request() {
    let (gw, _shop) = shop_gateway(Options::default()).await;

    // A variable over several segments, and a bool from the query.
    let a = get(&gw.url("/v1/shelves/1/books/2?full=true")).await;
    assert_eq!(a.status, 200, "{}", a.body);
    let book = a.json();
    assert_eq!(book["name"], "shelves/1/books/2");
    assert_eq!(book["author"]["first"], "Ada");
    assert_eq!(book["pages"], "300", "int64 is a string in proto3 JSON");

    // Query parameters: int, repeated, enum by name, nested by dotted path, int64; unknown
    // ones ignored.
    let a = get(&gw.url(
        "/v1/shelves/s1/books?limit=2&tags=x&tags=y&genre=GENRE_POETRY&author.first=Ann&min_pages=7&nope=1",
    ))
    .await;
    assert_eq!(a.status, 200, "{}", a.body);
    let v = a.json();
    let books = v["books"].as_array().expect("books");
    assert_eq!(books.len(), 2);
    assert_eq!(books[0]["name"], "shelves/s1/books/0");
    assert_eq!(books[0]["tags"], serde_json::json!(["x", "y"]));
    assert_eq!(books[0]["genre"], "GENRE_POETRY");
    assert_eq!(books[0]["title"], "Ann");
    assert_eq!(books[0]["pages"], "7");
    // An enum by number.
    let v = get(&gw.url("/v1/shelves/s1/books?genre=1")).await.json();
    assert_eq!(v["books"][0]["genre"], "GENRE_NOVEL");

    // body: "book" — the body is one field, the path fills another.
    let a = post(
        &gw.url("/v1/shelves/s9/books"),
        r#"{"title":"T","pages":"5"}"#,
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.json()["name"], "shelves/s9/books/new");
    assert_eq!(a.json()["title"], "T");

    // body: "*" — the body is the whole request; the path wins over it.
    let a = send(
        "PUT",
        &gw.url("/v1/shelves/s2/books"),
        &[("content-type", "application/json")],
        r#"{"shelf":"ignored","book":{"title":"W"}}"#,
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.json()["name"], "shelves/s2/books/new");

    // response_body: the reply is one field.
    let a = get(&gw.url("/v1/shelves/s3/titles?limit=3")).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.json().as_array().map(Vec::len), Some(3));

    // A custom verb, a ** variable, an additional binding.
    let a = post(&gw.url("/v1/shelves/1/books/2:archive"), "{}").await;
    assert_eq!(a.json()["title"], "archived", "{}", a.body);
    let a = get(&gw.url("/v1/files/a/b/c.txt")).await;
    assert_eq!(a.json()["text"], "a/b/c.txt", "{}", a.body);
    let a = get(&gw.url("/v1/books?shelf=z")).await;
    assert_eq!(
        a.json()["books"][0]["name"],
        "shelves/z/books/0",
        "{}",
        a.body
    );
}

#[tokio::test]
async fn rule_errors_statuses_and_strict_mode() {
    let (gw, _shop) = shop_gateway(Options::default()).await;
    // The service's own error keeps its id and detail; NotFound is 404.
    let a = get(&gw.url("/v1/shelves/1/books/missing")).await;
    assert_eq!(a.status, 404, "{}", a.body);
    let v = a.json();
    assert_eq!(v["id"], "shop");
    assert_eq!(v["code"], 404);
    assert_eq!(v["detail"], "shelves/1/books/missing does not exist");
    assert_eq!(v["status"], "Not Found");
    // BadRequest from the handler.
    let a = post(&gw.url("/v1/shelves/s9/books"), r#"{"pages":"5"}"#).await;
    assert_eq!(a.status, 400, "{}", a.body);
    assert_eq!(a.json()["detail"], "a book needs a title");
    // A path a rule knows, with a method none binds.
    let a = send("DELETE", &gw.url("/v1/shelves/s1/books"), &[], "").await;
    assert_eq!(a.status, 405, "{}", a.body);
    assert_eq!(a.headers["allow"], "GET, POST, PUT");
    // HEAD is GET without the body.
    let a = send("HEAD", &gw.url("/v1/shelves/1/books/2"), &[], "").await;
    assert_eq!(a.status, 200);
    assert!(a.body.is_empty());
    // A value that does not fit its field.
    let a = get(&gw.url("/v1/shelves/1/books/2?full=perhaps")).await;
    assert_eq!(a.status, 400, "{}", a.body);
    assert!(
        a.json()["detail"].as_str().unwrap_or("").contains("full"),
        "{}",
        a.body
    );

    let mut strict = Options::default();
    strict.strict = true;
    let (gw, _shop2) = shop_gateway(strict).await;
    let a = get(&gw.url("/v1/shelves/s1/books?limt=2")).await;
    assert_eq!(a.status, 400, "{}", a.body);
    assert!(
        a.body.contains("unknown query parameter \\\"limt\\\""),
        "{}",
        a.body
    );
    let a = get(&gw.url("/v1/shelves/s1/books?limit=2")).await;
    assert_eq!(a.status, 200, "{}", a.body);
}

#[tokio::test]
async fn rpc_routes_and_the_simple_form() {
    let (gw, _shop) = shop_gateway(Options::default()).await;
    // Resolver: /shop/nap → shop Shop.Nap; the body is the request.
    let a = post(&gw.url("/shop/nap"), r#"{"millis":"1"}"#).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.json()["text"], "awake");
    // GET: the query is the request.
    let a = get(&gw.url("/shop/nap?millis=2")).await;
    assert_eq!(a.json()["n"], "2", "{}", a.body);
    // curl -d sends JSON labelled as a form.
    let a = send(
        "POST",
        &gw.url("/shop/nap"),
        &[("content-type", "application/x-www-form-urlencoded")],
        r#"{"millis":"3"}"#,
    )
    .await;
    assert_eq!(a.json()["n"], "3", "{}", a.body);
    // A real form.
    let a = send(
        "POST",
        &gw.url("/shop/nap"),
        &[("content-type", "application/x-www-form-urlencoded")],
        "millis=4",
    )
    .await;
    assert_eq!(a.json()["n"], "4", "{}", a.body);
    // go-micro v5's simple form, both shapes.
    let a = post(&gw.url("/api/shop/Shop.Nap"), r#"{"millis":"5"}"#).await;
    assert_eq!(a.json()["n"], "5", "{}", a.body);
    let a = post(&gw.url("/api/shop/Shop/Nap"), r#"{"millis":"6"}"#).await;
    assert_eq!(a.json()["n"], "6", "{}", a.body);
    // Protobuf in, protobuf out.
    use prost::Message;
    let body = pb::Sleep { millis: 7 }.encode_to_vec();
    let a = send(
        "POST",
        &gw.url("/shop/nap"),
        &[("content-type", "application/protobuf")],
        body,
    )
    .await;
    assert_eq!(a.status, 200);
    assert_eq!(a.headers["content-type"], "application/protobuf");
    let echo = pb::Echo::decode(a.body.as_bytes()).expect("protobuf reply");
    assert_eq!(echo.n, 7);
}

/// Start one node of `name` whose endpoints answer with their service and endpoint names.
async fn named(
    registry: &micro::registry::SharedRegistry,
    name: &str,
    endpoints: &[&str],
) -> micro::RunningService {
    let mut router = micro::server::Router::new();
    for endpoint in endpoints {
        let answer = serde_json::json!({"service": name, "endpoint": endpoint}).to_string();
        router = router.route(micro::server::Route::raw(
            *endpoint,
            move |_ctx, _format, _body| {
                let answer = answer.clone();
                async move { Ok(bytes::Bytes::from(answer)) }
            },
        ));
    }
    micro::Service::builder(name)
        .ignore_env()
        .registry(registry.clone())
        .address("127.0.0.1:0")
        .shutdown_delay(std::time::Duration::ZERO)
        .handler(router)
        .build()
        .expect("build")
        .start()
        .await
        .expect("start")
}

/// go-micro's mapping table (namespace go.micro.api), row by row, through the gateway.
#[tokio::test]
async fn the_reference_mapping_table_row_by_row() {
    let (_, registry) = registry();
    let _foo = named(
        &registry,
        "go.micro.api.foo",
        &["Foo.Bar", "Bar.Baz", "Foo.GetUser"],
    )
    .await;
    let _foobar = named(&registry, "go.micro.api.foo.bar", &["Baz.Cat"]).await;
    let _v1 = named(&registry, "go.micro.api.v1.foo", &["Foo.Bar", "Bar.Baz"]).await;
    let _v2 = named(&registry, "go.micro.api.v2.foo", &["Bar.Baz"]).await;
    let mut options = Options::default();
    options.namespace = "go.micro.api".into();
    options.handler = micro_gateway::HandlerKind::Rpc;
    let gw = start_gateway(&registry, options).await;
    gw.sees("go.micro.api.v2.foo", "Bar.Baz").await;
    gw.sees("go.micro.api.foo.bar", "Baz.Cat").await;
    let rows = [
        ("/foo/bar", "go.micro.api.foo", "Foo.Bar"),
        ("/foo/bar/baz", "go.micro.api.foo", "Bar.Baz"),
        ("/foo/bar/baz/cat", "go.micro.api.foo.bar", "Baz.Cat"),
        ("/v1/foo/bar", "go.micro.api.v1.foo", "Foo.Bar"),
        ("/v1/foo/bar/baz", "go.micro.api.v1.foo", "Bar.Baz"),
        ("/v2/foo/bar/baz", "go.micro.api.v2.foo", "Bar.Baz"),
        ("/foo/get-user", "go.micro.api.foo", "Foo.GetUser"),
    ];
    for (path, service, endpoint) in rows {
        let a = post(&gw.url(path), "{}").await;
        assert_eq!(a.status, 200, "{path}: {}", a.body);
        let v = a.json();
        assert_eq!(
            (v["service"].as_str(), v["endpoint"].as_str()),
            (Some(service), Some(endpoint)),
            "{path}"
        );
    }
    // Other resolvers on the same services.
    for (resolver, path, host, service) in [
        ("path", "/foo/bar/baz", "x", "go.micro.api.foo"),
        ("vpath", "/v1/foo/bar/baz", "x", "go.micro.api.v1.foo"),
        ("host", "/bar/baz", "foo:8080", "go.micro.api.foo"),
    ] {
        let mut options = Options::default();
        options.namespace = "go.micro.api".into();
        options.resolver = resolver.parse().expect("resolver");
        let gw = start_gateway(&registry, options).await;
        gw.sees("go.micro.api.v1.foo", "Bar.Baz").await;
        let a = send(
            "POST",
            &gw.url(path),
            &[("host", host), ("content-type", "application/json")],
            "{}",
        )
        .await;
        assert_eq!(a.status, 200, "{resolver} {path}: {}", a.body);
        assert_eq!(a.json()["service"], service, "{resolver}");
        assert_eq!(a.json()["endpoint"], "Bar.Baz", "{resolver}");
    }
    // The grpc resolver: /pkg.Svc/Method.
    let _pkg = named(&registry, "acme.shop", &["Orders.Place"]).await;
    let mut options = Options::default();
    options.resolver = micro_gateway::ResolverKind::Grpc;
    let gw = start_gateway(&registry, options).await;
    gw.sees("acme.shop", "Orders.Place").await;
    let a = post(&gw.url("/acme.shop.Orders/Place"), "{}").await;
    assert_eq!(a.json()["service"], "acme.shop", "{}", a.body);
}

#[tokio::test]
async fn conflicting_rules_keep_the_first_registered() {
    let (_, registry) = registry();
    let _shop = start_shop(&registry).await;
    let gw = start_gateway(&registry, Options::default()).await;
    gw.sees(SERVICE, "Shop.GetBook").await;
    // A second service claims GET /v1/books too.
    let mut e = micro::registry::Endpoint::new("Rival.List");
    e.metadata.insert(
        "http".into(),
        r#"[{"method":"GET","path":"/v1/books"}]"#.into(),
    );
    let rival = micro::registry::Service::new("rival", "1")
        .with_endpoint(e)
        .with_node(micro::registry::Node::new("rival-1", "127.0.0.1:1"));
    registry
        .register(&rival, micro::registry::RegisterOptions::default())
        .await
        .expect("register");
    gw.sees("rival", "Rival.List").await;
    let a = get(&gw.url("/v1/books?shelf=q")).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.json()["books"][0]["name"], "shelves/q/books/0");
}
