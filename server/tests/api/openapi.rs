//! The OpenAPI document describes exactly the routes the server serves, and is whole: every reference
//! resolves, every answer has its schema, every link names an operation and its parameters.

use std::collections::BTreeSet;

use coop_server::api::openapi::{ApiDoc, document};
use coop_server::http::route_list;
use serde_json::Value;
use utoipa::OpenApi;

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

#[tokio::test]
async fn the_served_document_is_the_derived_one_and_the_same_every_time() {
    let app = spawn_app().await;

    let served = app.ok("/api/v1/openapi.json").await;

    assert_eq!(served, serde_json::from_str::<Value>(document()).unwrap());
    let (once, again) = (ApiDoc::openapi().to_pretty_json().unwrap(), ApiDoc::openapi().to_pretty_json().unwrap());
    assert_eq!(once, again, "two derivations differ");
}

/// Every operation of the document with its method and path.
fn operations(document: &Value) -> Vec<(String, &Value)> {
    let mut operations = Vec::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            operations.push((format!("{} {path}", method.to_uppercase()), operation));
        }
    }
    operations
}

/// `value`, or what it refers to.
fn resolved<'a>(document: &'a Value, value: &'a Value) -> &'a Value {
    match value["$ref"].as_str() {
        Some(reference) => document.pointer(&reference[1..]).unwrap_or_else(|| panic!("{reference} does not resolve")),
        None => value,
    }
}

#[test]
fn every_answer_of_every_operation_has_its_schema_and_every_refusal_is_an_error() {
    let document: Value = serde_json::from_str(document()).unwrap();
    let mut ids = BTreeSet::new();

    for (operation, item) in operations(&document) {
        let id = item["operationId"].as_str().unwrap_or_else(|| panic!("{operation} has no operationId"));
        assert!(ids.insert(id.to_owned()), "{operation}: operationId {id} is taken");
        let responses = item["responses"].as_object().unwrap();
        // 101: a WebSocket's handshake.
        let success = |status: &String| status.starts_with('2') || status == "101";
        assert!(responses.keys().any(success), "{operation} has no success");
        for (status, response) in responses {
            let response = resolved(&document, response);
            assert!(response["description"].is_string(), "{operation} {status} has no description");
            if ["101", "204", "303"].contains(&status.as_str()) {
                assert!(response.get("content").is_none(), "{operation} {status} has a body");
                continue;
            }
            let content = response["content"].as_object().unwrap_or_else(|| panic!("{operation} {status}: no body"));
            for (media, body) in content {
                let schema = &body["schema"];
                assert!(schema.is_object(), "{operation} {status} {media}: no schema");
                let schema = resolved(&document, schema);
                assert!(schema.is_object(), "{operation} {status} {media}: the schema is not one");
                if status.starts_with('4') || status.starts_with('5') {
                    assert_eq!(body["schema"]["$ref"], "#/components/schemas/Error", "{operation} {status}");
                }
            }
        }
        for parameter in item["parameters"].as_array().into_iter().flatten() {
            assert!(parameter["schema"].is_object(), "{operation}: parameter {} has no schema", parameter["name"]);
        }
    }
    let error = &document["components"]["schemas"]["Error"]["properties"]["error"];
    assert_eq!(error["required"], serde_json::json!(["code", "message"]));
    assert!(error["properties"]["field"].is_object(), "a refusal names the field");
}

#[test]
fn every_link_names_an_operation_and_parameters_it_takes() {
    let document: Value = serde_json::from_str(document()).unwrap();
    let by_id: Vec<(&str, &Value)> =
        operations(&document).into_iter().map(|(_, item)| (item["operationId"].as_str().unwrap(), item)).collect();

    let mut links = 0;
    for (operation, item) in operations(&document) {
        for (status, response) in item["responses"].as_object().unwrap() {
            for (name, link) in response["links"].as_object().into_iter().flatten() {
                links += 1;
                let target =
                    link["operationId"].as_str().unwrap_or_else(|| panic!("{operation} {status} {name}: {link}"));
                let (_, target) = by_id.iter().find(|(id, _)| *id == target).unwrap_or_else(|| panic!("no {target}"));
                let taken: Vec<&str> =
                    target["parameters"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
                for parameter in link["parameters"].as_object().unwrap().keys() {
                    assert!(taken.contains(&parameter.as_str()), "{operation} {name}: {parameter} is not one");
                }
            }
        }
    }
    assert!(links >= 10, "{links} links");
}

#[test]
fn the_signed_in_operations_name_the_session_cookie() {
    let document: Value = serde_json::from_str(document()).unwrap();
    let schemes = document["components"]["securitySchemes"].as_object().unwrap();
    assert_eq!(schemes["session"]["in"], "cookie");
    assert_eq!(schemes["session"]["name"], coop_server::auth::SESSION_COOKIE);

    let mut secured = 0;
    for (operation, item) in operations(&document) {
        for requirement in item["security"].as_array().into_iter().flatten() {
            secured += 1;
            for scheme in requirement.as_object().unwrap().keys() {
                assert!(schemes.contains_key(scheme), "{operation}: no scheme {scheme}");
            }
            let answers = item["responses"].as_object().unwrap();
            assert!(answers.contains_key("401"), "{operation} needs a session but never answers 401");
        }
    }
    assert!(secured >= 12, "{secured} operations need a session");
}
