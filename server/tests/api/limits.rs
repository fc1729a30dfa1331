//! Limits against a spawned server: a client address or a signed-in account that asks too often
//! gets 429 with `Retry-After` and the API's error body; sign-in keeps a bounded share of the
//! database however many strangers ask for nonces.

use reqwest::StatusCode;
use reqwest::header::{COOKIE, RETRY_AFTER};
use serde_json::Value;

use crate::drafts::signed_in;
use crate::helpers::spawn_app_configured;

#[tokio::test]
async fn a_client_beyond_its_burst_gets_429_with_retry_after() {
    let app = spawn_app_configured(|config| {
        config.requests_per_second_per_ip = 1;
        config.request_burst_per_ip = 3;
    })
    .await;
    for _ in 0..3 {
        assert_eq!(app.client.get(app.url("/healthz")).send().await.unwrap().status(), StatusCode::OK);
    }

    let refused = app.client.get(app.url("/api/v1/products")).send().await.unwrap();

    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = refused.headers()[RETRY_AFTER].to_str().unwrap().parse().unwrap();
    assert!((1..=2).contains(&retry_after), "Retry-After: {retry_after}");
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["code"], "too_many_requests", "{body}");
}

/// Through a trusted proxy (loopback here, as the shipped nginx), each client counts apart.
#[tokio::test]
async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_count() {
    let app = spawn_app_configured(|config| {
        config.requests_per_second_per_ip = 1;
        config.request_burst_per_ip = 1;
    })
    .await;
    let from = |client: &'static str| app.client.get(app.url("/healthz")).header("x-forwarded-for", client);

    assert_eq!(from("198.51.100.1").send().await.unwrap().status(), StatusCode::OK);
    assert_eq!(from("198.51.100.2").send().await.unwrap().status(), StatusCode::OK);
    assert_eq!(from("198.51.100.1").send().await.unwrap().status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn a_signed_in_account_beyond_its_burst_gets_429() {
    let app = spawn_app_configured(|config| {
        config.requests_per_second_per_account = 1;
        config.request_burst_per_account = 2;
    })
    .await;
    let (_, cookie) = signed_in(&app).await;
    let drafts = || app.client.get(app.url("/api/v1/drafts")).header(COOKIE, &cookie).send();
    assert_eq!(drafts().await.unwrap().status(), StatusCode::OK);
    assert_eq!(drafts().await.unwrap().status(), StatusCode::OK);

    let refused = drafts().await.unwrap();

    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(refused.headers().contains_key(RETRY_AFTER));
    // Anonymous reads are not the account's.
    assert_eq!(app.client.get(app.url("/api/v1/products")).send().await.unwrap().status(), StatusCode::OK);
}

/// Strangers asking for nonces all at once get turns (or 503 `busy` with `Retry-After`), never a
/// 500, and the database still answers the server's own work meanwhile.
#[tokio::test]
async fn a_flood_of_nonces_gets_turns_and_leaves_the_database_answering() {
    let app = spawn_app_configured(|config| config.requests_per_second_per_ip = 0).await;
    let flood: Vec<_> = (0..200).map(|_| app.client.get(app.url("/api/v1/auth/nonce")).send()).collect();
    let ready = app.client.get(app.url("/readyz")).send();

    let (answers, ready) = tokio::join!(futures::future::join_all(flood), ready);

    assert_eq!(ready.unwrap().status(), StatusCode::OK, "the database answered /readyz during the flood");
    let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
    for answer in answers {
        let answer = answer.unwrap();
        *statuses.entry(answer.status().as_u16()).or_default() += 1;
        if answer.status() == StatusCode::SERVICE_UNAVAILABLE {
            assert!(answer.headers().contains_key(RETRY_AFTER));
            assert_eq!(answer.json::<Value>().await.unwrap()["error"]["code"], "busy");
        }
    }
    assert!(statuses.keys().all(|status| [200, 503].contains(status)), "{statuses:?}");
    assert!(statuses[&200] > 0, "{statuses:?}");
}
