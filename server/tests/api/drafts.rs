//! Product drafts and covers against a spawned server: both need a sign-in, a draft is its owner's
//! alone, bad input is refused naming the field and stores nothing, covers are checked for type and
//! size and served back as stored.

use alloy::signers::local::PrivateKeySigner;
use reqwest::StatusCode;
use reqwest::header::{CACHE_CONTROL, CONTENT_TYPE, COOKIE};
use serde_json::{Value, json};

use crate::auth::{message_for, sign, sign_in};
use crate::helpers::{TestApp, spawn_app};

/// A session cookie for a fresh account.
pub(crate) async fn signed_in(app: &TestApp) -> (PrivateKeySigner, String) {
    let signer = PrivateKeySigner::random();
    let message = message_for(app, &signer).await;
    let reply = sign_in(app, &message, &sign(&signer, &message)).await;
    (signer, reply.cookie.expect("a session cookie"))
}

async fn call(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    cookie: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = app.client.request(method, app.url(path));
    if let Some(cookie) = cookie {
        request = request.header(COOKIE, cookie);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn upload(app: &TestApp, cookie: Option<&str>, content_type: &str, bytes: Vec<u8>) -> (StatusCode, Value) {
    let mut request = app.client.post(app.url("/api/v1/covers")).header(CONTENT_TYPE, content_type).body(bytes);
    if let Some(cookie) = cookie {
        request = request.header(COOKIE, cookie);
    }
    let response = request.send().await.unwrap();
    (response.status(), response.json().await.unwrap())
}

fn png(size: usize) -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    bytes.resize(size.max(bytes.len()), 7);
    bytes
}

fn error(body: &Value) -> (&str, &str) {
    (body["error"]["code"].as_str().unwrap_or_default(), body["error"]["field"].as_str().unwrap_or_default())
}

#[tokio::test]
async fn drafts_and_covers_need_a_sign_in() {
    let app = spawn_app().await;
    for (method, path) in [
        (reqwest::Method::GET, "/api/v1/drafts"),
        (reqwest::Method::POST, "/api/v1/drafts"),
        (reqwest::Method::GET, "/api/v1/drafts/abc"),
        (reqwest::Method::DELETE, "/api/v1/drafts/abc"),
    ] {
        let (status, body) = call(&app, method.clone(), path, None, Some(json!({}))).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("not_signed_in")),
            "{method} {path}"
        );
    }
    let (status, body) = upload(&app, None, "image/png", png(100)).await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("not_signed_in")));
}

#[tokio::test]
async fn a_seller_saves_changes_and_deletes_a_draft_that_no_one_else_sees() {
    let app = spawn_app().await;
    let (seller, cookie) = signed_in(&app).await;
    let (_, stranger) = signed_in(&app).await;

    let (status, created) = call(
        &app,
        reqwest::Method::POST,
        "/api/v1/drafts",
        Some(&cookie),
        Some(json!({ "kind": "data", "name": "Tram counts", "price": "2", "period": "day", "beneficiary": seller.address().to_checksum(None) })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(id.len(), 16);
    assert_eq!(created["name"], "Tram counts");
    assert!(created["updatedAt"].as_i64().unwrap() > 0);

    let path = format!("/api/v1/drafts/{id}");
    let (status, updated) = call(
        &app,
        reqwest::Method::PUT,
        &path,
        Some(&cookie),
        Some(json!({ "name": "Tram stop counts", "price": "2.5" })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    let (_, list) = call(&app, reqwest::Method::GET, "/api/v1/drafts", Some(&cookie), None).await;
    let drafts = list["drafts"].as_array().unwrap();
    assert_eq!(drafts.len(), 1);
    assert_eq!((drafts[0]["name"].as_str(), drafts[0]["price"].as_str()), (Some("Tram stop counts"), Some("2.5")));

    // Another seller neither sees nor changes it.
    let (_, theirs) = call(&app, reqwest::Method::GET, "/api/v1/drafts", Some(&stranger), None).await;
    assert_eq!(theirs["drafts"], json!([]));
    assert_eq!(call(&app, reqwest::Method::GET, &path, Some(&stranger), None).await.0, StatusCode::NOT_FOUND);
    let (status, _) =
        call(&app, reqwest::Method::PUT, &path, Some(&stranger), Some(json!({ "name": "Mine now" }))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(call(&app, reqwest::Method::DELETE, &path, Some(&stranger), None).await.0, StatusCode::NOT_FOUND);

    assert_eq!(call(&app, reqwest::Method::DELETE, &path, Some(&cookie), None).await.0, StatusCode::NO_CONTENT);
    let (_, list) = call(&app, reqwest::Method::GET, "/api/v1/drafts", Some(&cookie), None).await;
    assert_eq!(list["drafts"], json!([]));
}

#[tokio::test]
async fn bad_input_is_refused_naming_the_field_and_nothing_is_saved() {
    let app = spawn_app().await;
    let (_, cookie) = signed_in(&app).await;
    let (_, created) = call(
        &app,
        reqwest::Method::POST,
        "/api/v1/drafts",
        Some(&cookie),
        Some(json!({ "name": "Fine", "price": "1" })),
    )
    .await;
    let path = format!("/api/v1/drafts/{}", created["id"].as_str().unwrap());

    let cases = [
        (json!({ "price": "1,5" }), "price"),
        (json!({ "price": "-1" }), "price"),
        (json!({ "name": "x".repeat(101) }), "name"),
        (json!({ "minimumDays": "-3" }), "minimum"),
        (json!({ "beneficiary": "0x12" }), "beneficiary"),
        (json!({ "category": "gossip" }), "category"),
        (json!({ "cover": "../../etc/passwd" }), "cover"),
        (json!({ "kind": "union", "adminFee": "101" }), "adminFee"),
        (json!({ "kind": "union", "freezeDays": "0.5" }), "freezeDays"),
        (json!({ "period": "fortnight" }), "period"),
        (json!({ "kind": "shares" }), "kind"),
        (json!({ "productId": "0x1234" }), "productId"),
        (json!({ "licence": "mit" }), "licence"),
        (json!({ "licence": "own", "terms": "  " }), "terms"),
        (json!({ "licence": "own", "terms": "x".repeat(5001) }), "terms"),
        (json!({ "contact": "call me maybe" }), "contact"),
        (json!({ "contact": "http://example.org" }), "contact"),
        (json!({ "contact": "javascript:alert(1)" }), "contact"),
        (json!({ "name": 5 }), "body"),
        // A draft is an object; serde alone would take an array of its fields in order.
        (json!([]), "body"),
        (json!(["", "data", "Fine"]), "body"),
    ];
    for (body, field) in cases {
        for (method, target) in [(reqwest::Method::POST, "/api/v1/drafts"), (reqwest::Method::PUT, path.as_str())] {
            let (status, reply) = call(&app, method.clone(), target, Some(&cookie), Some(body.clone())).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{method} {body}: {reply}");
            assert_eq!(error(&reply).1, field, "{method} {body}: {reply}");
        }
    }
    let (_, list) = call(&app, reqwest::Method::GET, "/api/v1/drafts", Some(&cookie), None).await;
    let drafts = list["drafts"].as_array().unwrap();
    assert_eq!(drafts.len(), 1, "{list}");
    assert_eq!((drafts[0]["name"].as_str(), drafts[0]["price"].as_str()), (Some("Fine"), Some("1")));
}

#[tokio::test]
async fn a_cover_is_checked_for_type_and_size_then_served_back() {
    let app = spawn_app().await;
    let (_, cookie) = signed_in(&app).await;

    let image = png(4_000);
    let (status, stored) = upload(&app, Some(&cookie), "image/png", image.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{stored}");
    let name = stored["name"].as_str().unwrap();
    assert!(name.ends_with(".png") && name.len() == 36, "{name}");
    assert_eq!(stored["url"], format!("/api/v1/covers/{name}"));
    let served = app.client.get(app.url(&format!("/api/v1/covers/{name}"))).send().await.unwrap();
    assert_eq!(served.status(), StatusCode::OK);
    assert_eq!(served.headers()[CONTENT_TYPE], "image/png");
    assert!(served.headers()[CACHE_CONTROL].to_str().unwrap().contains("immutable"));
    assert_eq!(served.bytes().await.unwrap().to_vec(), image);

    // A type that is not an image, bytes that are not the type declared, too much, nothing.
    let (status, body) = upload(&app, Some(&cookie), "image/svg+xml", b"<svg/>".to_vec()).await;
    assert_eq!((status, error(&body)), (StatusCode::UNSUPPORTED_MEDIA_TYPE, ("unsupported_type", "cover")));
    let (status, body) = upload(&app, Some(&cookie), "image/jpeg", png(100)).await;
    assert_eq!((status, error(&body)), (StatusCode::UNSUPPORTED_MEDIA_TYPE, ("unsupported_type", "cover")));
    let (status, body) = upload(&app, Some(&cookie), "image/png", png(2 * 1024 * 1024 + 1)).await;
    assert_eq!((status, error(&body)), (StatusCode::PAYLOAD_TOO_LARGE, ("too_large", "cover")));
    let (status, body) = upload(&app, Some(&cookie), "image/png", Vec::new()).await;
    assert_eq!((status, error(&body)), (StatusCode::BAD_REQUEST, ("empty", "cover")));
    // The largest cover allowed is taken.
    assert_eq!(upload(&app, Some(&cookie), "image/png", png(2 * 1024 * 1024)).await.0, StatusCode::CREATED);

    for missing in ["0123456789abcdef0123456789abcdef.png", "..%2F..%2Fcoop.db", "cover.gif"] {
        let reply = app.client.get(app.url(&format!("/api/v1/covers/{missing}"))).send().await.unwrap();
        assert_eq!(reply.status(), StatusCode::NOT_FOUND, "{missing}");
    }
}

/// A seller keeps at most 100 drafts and uploads at most 50 covers a day; one more is refused
/// naming the quota and stores nothing, and another seller is not affected.
#[tokio::test]
async fn a_seller_at_its_quota_is_refused_and_nothing_is_stored() {
    let app = spawn_app().await;
    let (_, cookie) = signed_in(&app).await;
    let (_, other) = signed_in(&app).await;
    for n in 0..100 {
        let (status, body) = call(
            &app,
            reqwest::Method::POST,
            "/api/v1/drafts",
            Some(&cookie),
            Some(json!({ "name": format!("Draft {n}") })),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "draft {n}: {body}");
    }
    let (status, body) =
        call(&app, reqwest::Method::POST, "/api/v1/drafts", Some(&cookie), Some(json!({ "name": "One more" }))).await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("quota_exceeded")), "{body}");
    let (_, list) = call(&app, reqwest::Method::GET, "/api/v1/drafts", Some(&cookie), None).await;
    assert_eq!(list["drafts"].as_array().unwrap().len(), 100);
    let (status, _) =
        call(&app, reqwest::Method::POST, "/api/v1/drafts", Some(&other), Some(json!({ "name": "Mine" }))).await;
    assert_eq!(status, StatusCode::CREATED);

    for n in 0..50u8 {
        let mut image = png(64);
        image[20] = n;
        let (status, body) = upload(&app, Some(&cookie), "image/png", image).await;
        assert_eq!(status, StatusCode::CREATED, "cover {n}: {body}");
    }
    let mut image = png(64);
    image[20] = 200;
    let (status, body) = upload(&app, Some(&cookie), "image/png", image.clone()).await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("quota_exceeded")), "{body}");
    let name = format!("{}.png", &format!("{:x}", alloy::primitives::keccak256(&image))[..32]);
    assert_eq!(
        app.client.get(app.url(&format!("/api/v1/covers/{name}"))).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(upload(&app, Some(&other), "image/png", image).await.0, StatusCode::CREATED);
}
