use serde_json::Value;

use crate::helpers::spawn_app;

#[tokio::test]
async fn healthz_answers_ok() {
    let app = spawn_app().await;

    let response = app.client.get(app.url("/healthz")).send().await.unwrap();

    assert_eq!(response.status(), 200);
    assert_eq!(response.json::<Value>().await.unwrap()["status"], "ok");
}

#[tokio::test]
async fn readyz_reports_the_chain_when_database_and_chain_answer() {
    let app = spawn_app().await;

    let response = app.client.get(app.url("/readyz")).send().await.unwrap();

    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ready");
    assert_eq!(body["chain_id"], app.chain.as_ref().unwrap().chain_id());
}

#[tokio::test]
async fn readyz_answers_503_with_a_reason_when_the_chain_is_gone() {
    let mut app = spawn_app().await;
    drop(app.chain.take());

    let response = app.client.get(app.url("/readyz")).send().await.unwrap();

    assert_eq!(response.status(), 503);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "chain_unavailable");
    assert!(body["error"]["message"].as_str().unwrap().starts_with("chain:"), "{body}");
}

#[tokio::test]
async fn the_home_page_is_rendered_on_the_server() {
    let app = spawn_app().await;

    let response = app.client.get(app.url("/")).send().await.unwrap();

    assert_eq!(response.status(), 200);
    let html = response.text().await.unwrap();
    assert!(html.contains("Sell your data together."), "{html}");
    assert!(html.contains("/pkg/coop.js"), "the hydration script is linked");
}
