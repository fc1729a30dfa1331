use reqwest::header::ACCEPT;
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
    let node = app.chain.as_ref().unwrap().endpoint();
    drop(app.chain.take());

    let response = app.client.get(app.url("/readyz")).send().await.unwrap();

    assert_eq!(response.status(), 503);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "chain_unavailable");
    assert_eq!(body["error"]["message"], "the chain does not answer; try again shortly");
    // The node's URL (often holding an API key) is for the log, not for whoever asks.
    assert!(!body.to_string().contains(&format!("{}:{}", node.host_str().unwrap(), node.port().unwrap())), "{body}");
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

/// Tests run many servers in one process. Each server used to list the web app's routes by rendering
/// the app on start-up, and a page rendered meanwhile by another server could then wait for good
/// (one in a few hundred). Every page must finish, however many servers start beside it.
#[tokio::test]
async fn pages_finish_while_other_servers_start_in_the_same_process() {
    let app = spawn_app().await;
    let starting = std::thread::spawn(|| {
        for _ in 0..20 {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            runtime.block_on(async { drop(spawn_app().await) });
        }
    });
    let mut pages = 0;
    while !starting.is_finished() || pages < 100 {
        // The client gives up after a minute, so a page that never finishes fails here.
        let response = app.client.get(app.url("/")).header(ACCEPT, "text/html").send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert!(response.text().await.unwrap().contains("</html>"), "page {pages} is whole");
        pages += 1;
    }
    starting.join().unwrap();
}
