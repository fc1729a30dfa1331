//! The OpenAPI document describes exactly the routes the server serves.

use std::collections::BTreeSet;

use coop_server::http::route_list;

use crate::helpers::spawn_app;

#[tokio::test]
async fn every_route_the_server_serves_is_described_in_the_openapi_document_and_nothing_else() {
    let app = spawn_app().await;

    let document = app.ok("/api/v1/openapi.json").await;

    assert!(document["openapi"].as_str().unwrap().starts_with("3.1"), "{}", document["openapi"]);
    let served: BTreeSet<(String, String)> =
        route_list().into_iter().map(|(method, path)| (method.as_str().to_lowercase(), path.to_owned())).collect();
    let documented: BTreeSet<(String, String)> = document["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            let methods = item.as_object().unwrap().keys();
            methods
                .filter(|m| ["get", "post", "put", "patch", "delete"].contains(&m.as_str()))
                .map(|m| (m.clone(), path.clone()))
        })
        .collect();
    let undocumented: Vec<_> = served.difference(&documented).collect();
    let unserved: Vec<_> = documented.difference(&served).collect();
    assert!(undocumented.is_empty(), "served but not in the OpenAPI document: {undocumented:?}");
    assert!(unserved.is_empty(), "in the OpenAPI document but not served: {unserved:?}");
}

#[tokio::test]
async fn every_reference_in_the_openapi_document_resolves() {
    let app = spawn_app().await;

    let document = app.ok("/api/v1/openapi.json").await;

    let mut references = Vec::new();
    collect_references(&document, &mut references);
    assert!(!references.is_empty());
    for reference in references {
        let pointer = reference.strip_prefix('#').unwrap_or_else(|| panic!("{reference} is not local"));
        assert!(document.pointer(pointer).is_some(), "{reference} does not resolve");
    }
}

fn collect_references(value: &serde_json::Value, into: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, value) in map {
                match value.as_str() {
                    Some(reference) if key == "$ref" => into.push(reference.to_owned()),
                    _ => collect_references(value, into),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|item| collect_references(item, into)),
        _ => {}
    }
}
