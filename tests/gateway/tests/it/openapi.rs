//! /openapi.json from the registry.

use gateway_tests::*;
use micro_gateway::Options;

#[tokio::test]
async fn the_document_has_every_route_with_its_schemas() {
    let (_, registry) = registry();
    let _shop = start_shop(&registry).await;
    let gw = start_gateway(&registry, Options::default()).await;
    gw.sees(SERVICE, "Shop.Nap").await;
    let doc = get(&gw.url("/openapi.json")).await.json();
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = &doc["paths"];
    // A rule with a variable over several segments, its query parameters typed.
    let get_book = &paths["/v1/{name}"]["get"];
    assert_eq!(get_book["parameters"][0]["in"], "path");
    let list = &paths["/v1/shelves/{shelf}/books"]["get"];
    let params = list["parameters"].as_array().expect("parameters");
    let find = |name: &str| params.iter().find(|p| p["name"] == name).cloned();
    assert_eq!(find("limit").expect("limit")["schema"]["type"], "integer");
    assert_eq!(
        find("minPages").expect("minPages")["schema"]["type"],
        "string"
    );
    assert_eq!(find("tags").expect("tags")["schema"]["type"], "array");
    // body: "book" documents the book; the reply's int64 is a string; nested messages are
    // expanded.
    let create = &paths["/v1/shelves/{shelf}/books"]["post"];
    let body = &create["requestBody"]["content"]["application/json"]["schema"];
    assert_eq!(body["properties"]["pages"]["type"], "string");
    assert_eq!(
        body["properties"]["author"]["properties"]["first"]["type"],
        "string"
    );
    assert_eq!(body["properties"]["stock"]["type"], "object");
    assert_eq!(body["properties"]["published"]["format"], "date-time");
    // response_body documents the field.
    let titles = &paths["/v1/shelves/{shelf}/titles"]["get"]["responses"]["200"];
    assert_eq!(
        titles["content"]["application/json"]["schema"]["type"],
        "array"
    );
    // Every endpoint in the simple form, streams of requests left out.
    assert!(paths["/api/shop/Shop.Nap"]["post"].is_object());
    assert!(paths["/api/shop/Shop.Count"]["post"].is_object());
    assert!(paths.get("/api/shop/Shop.Sum").is_none());
    assert!(paths.get("/api/shop/Shop.Chat").is_none());
    assert_eq!(
        doc["components"]["schemas"]["Error"]["required"],
        serde_json::json!(["id", "code", "detail", "status"])
    );
}
