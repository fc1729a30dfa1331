//! Product streams end to end: a seller attaches a stream, a member grants an app key and publishes
//! through it, a subscriber reads history and follows live, and access follows the chain: a part, a
//! revocation and an expired subscription each take effect at once. Bad messages are refused naming
//! the field, and change nothing.

use std::time::{SystemTime, UNIX_EPOCH};

use alloy::primitives::{Address, B256, U256, hex};
use alloy::providers::ext::AnvilApi;
use alloy::signers::SignerSync;
use alloy::signers::local::PrivateKeySigner;
use coop::stream::{AppKeyGrant, Message, SignedMessage};
use reqwest::StatusCode;
use reqwest::header::COOKIE;
use serde_json::{Value, json};

use crate::chain::{AGENT, BUYER, MEMBER, OTHER, OWNER, product_id, send};
use crate::helpers::{TestApp, spawn_app_with_contracts, spawn_app_with_contracts_configured};
use crate::story::{get_as, post, signed_in};

fn millis() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as u64
}

/// A message body as a publisher's app sends it, signed by `signer` in `publisher`'s name.
fn message(product: B256, publisher: Address, signer: &PrivateKeySigner, sequence: u64, content: &str) -> Value {
    let message = Message {
        product,
        stream: "gps".parse().unwrap(),
        publisher,
        sequence,
        timestamp: millis(),
        content: content.parse().unwrap(),
    };
    let signature = signer.sign_message_sync(message.digest().as_slice()).unwrap();
    json!({
        "publisher": publisher,
        "sequence": sequence,
        "timestamp": message.timestamp,
        "content": content,
        "signer": signer.address(),
        "signature": hex::encode_prefixed(signature.as_bytes()),
    })
}

async fn put(app: &TestApp, path: &str, cookie: Option<&str>, body: Value) -> (StatusCode, Value) {
    let mut request = app.client.put(app.url(path)).json(&body);
    if let Some(cookie) = cookie {
        request = request.header(COOKIE, cookie);
    }
    let response = request.send().await.unwrap();
    (response.status(), response.json().await.unwrap_or(Value::Null))
}

async fn delete(app: &TestApp, path: &str, cookie: &str) -> StatusCode {
    app.client.delete(app.url(path)).header(COOKIE, cookie).send().await.unwrap().status()
}

fn grant_body(union: Address, member: &PrivateKeySigner, key: Address, expires: u64) -> Value {
    let grant = AppKeyGrant { key, publisher: member.address(), union, chain_id: 31337, expires };
    let signature = member.sign_message_sync(grant.text().as_bytes()).unwrap();
    json!({
        "key": key, "publisher": member.address(), "union": union, "chainId": 31337, "expires": expires,
        "signature": hex::encode_prefixed(signature.as_bytes()),
    })
}

fn code(reply: &Value) -> (Option<&str>, Option<&str>) {
    (reply["error"]["code"].as_str(), reply["error"]["field"].as_str())
}

/// A Data Union with `MEMBER` in it, its product "Commuters" (owned by `OWNER`) with the stream
/// `gps` showing one message as a preview; answers the product and the owner's session.
async fn union_product_with_stream(app: &TestApp) -> (Address, B256, String) {
    let chain = app.chain();
    let du = chain.create_data_union(U256::ZERO, 0).await;
    send(chain.du(du, AGENT).addMembers(vec![chain.address(MEMBER)])).await;
    let id = product_id("Commuters");
    send(chain.marketplace(OWNER).createProduct(id, "Commuters".into(), du, U256::from(2u64), U256::ZERO)).await;
    app.caught_up().await;
    let owner = signed_in(app, &chain.signer(OWNER)).await;
    let settings = json!({"description": "Positions", "example": "{\"lat\":60.1}", "publicPreview": 1});
    let (status, saved) = put(app, &format!("/api/v1/products/{id}/streams/gps"), Some(&owner), settings).await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    (du, id, owner)
}

#[tokio::test]
async fn members_publish_through_app_keys_and_access_follows_the_chain() {
    let app = spawn_app_with_contracts().await;
    let chain = app.chain();
    let (du, id, _) = union_product_with_stream(&app).await;
    let listed = app.ok(&format!("/api/v1/products/{id}/streams")).await;
    assert_eq!(listed["streams"][0]["name"], "gps");
    assert_eq!(listed["streams"][0]["publicPreview"], 1);

    // The member grants an app key; the app publishes in the member's name.
    let member = chain.signer(MEMBER);
    let app_key = PrivateKeySigner::random();
    let expires = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() + 86_400;
    let (status, granted) =
        post(&app, "/api/v1/app-keys", None, grant_body(du, &member, app_key.address(), expires)).await;
    assert_eq!(status, StatusCode::CREATED, "{granted}");
    let messages = format!("/api/v1/products/{id}/streams/gps/messages");
    for sequence in 1..=3 {
        let body = message(id, member.address(), &app_key, sequence, &format!("{{\"n\":{sequence}}}"));
        let (status, stored) = post(&app, &messages, None, body).await;
        assert_eq!((status, stored["offset"].as_u64()), (StatusCode::CREATED, Some(sequence - 1)), "{stored}");
    }
    let replay = message(id, member.address(), &app_key, 2, "{\"n\":2}");
    let (status, reply) = post(&app, &messages, None, replay).await;
    assert_eq!((status, code(&reply).0), (StatusCode::CONFLICT, Some("sequence_not_after")), "{reply}");

    // Anyone reads the preview (the newest message); a subscriber reads everything, signed.
    let stranger = app.ok(&messages).await;
    assert_eq!(stranger["access"], "preview");
    assert_eq!(stranger["messages"].as_array().unwrap().len(), 1);
    assert_eq!(stranger["messages"][0]["offset"], 2);
    let buyer = signed_in(&app, &chain.signer(BUYER)).await;
    let (_, before) = get_as(&app, &messages, &buyer).await;
    assert_eq!(before["access"], "preview", "no subscription yet");
    send(chain.marketplace(OWNER).grantSubscription(id, U256::from(3600u64), chain.address(BUYER))).await;
    app.caught_up().await;
    let (status, read) = get_as(&app, &messages, &buyer).await;
    assert_eq!((status, read["access"].as_str()), (StatusCode::OK, Some("full")), "{read}");
    let delivered = read["messages"].as_array().unwrap();
    assert_eq!(delivered.len(), 3);
    for (n, stored) in delivered.iter().enumerate() {
        let signed: SignedMessage = serde_json::from_value(stored.clone()).unwrap();
        assert!(signed.is_signed(), "message {n} verifies with the core's code");
        assert_eq!((signed.signer, signed.message.publisher), (app_key.address(), member.address()));
        assert_eq!(stored["content"], format!("{{\"n\":{}}}", n + 1));
    }
    let between = format!("{messages}?since=0&until=1&from=0");
    assert_eq!(get_as(&app, &between, &buyer).await.1["messages"], json!([]), "no message is from 1970");

    // A revoked key is refused at once; the member's own key still publishes.
    let member_session = signed_in(&app, &member).await;
    assert_eq!(
        delete(&app, &format!("/api/v1/app-keys/{}", app_key.address()), &member_session).await,
        StatusCode::NO_CONTENT
    );
    let (status, reply) = post(&app, &messages, None, message(id, member.address(), &app_key, 4, "{}")).await;
    assert_eq!((status, code(&reply).0), (StatusCode::FORBIDDEN, Some("app_key_not_granted")), "{reply}");
    let (status, _) = post(&app, &messages, None, message(id, member.address(), &member, 5, "{}")).await;
    assert_eq!(status, StatusCode::CREATED);

    // Parted: the member's next message is refused in the block after the part.
    send(chain.du(du, AGENT).partMembers(vec![member.address()])).await;
    app.caught_up().await;
    let (status, reply) = post(&app, &messages, None, message(id, member.address(), &member, 6, "{}")).await;
    assert_eq!((status, code(&reply).0), (StatusCode::FORBIDDEN, Some("not_a_publisher")), "{reply}");

    // The subscription ends with the chain's time: the subscriber is back to the preview.
    chain.advance_time(3601).await;
    chain.wallet(OTHER).anvil_mine(Some(1), None).await.unwrap();
    app.caught_up().await;
    let (_, after) = get_as(&app, &messages, &buyer).await;
    assert_eq!(after["access"], "preview", "{after}");
    let live = app.client.get(app.url(&format!("/api/v1/products/{id}/streams/gps/live"))).header(COOKIE, &buyer);
    assert_eq!(live.send().await.unwrap().status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_live_feed_resumes_after_the_last_event_without_a_gap_or_a_duplicate() {
    let app = spawn_app_with_contracts().await;
    let chain = app.chain();
    let (_, id, owner) = union_product_with_stream(&app).await;
    let publisher = chain.signer(OWNER);
    let messages = format!("/api/v1/products/{id}/streams/gps/messages");
    for sequence in 1..=2 {
        let (status, _) =
            post(&app, &messages, None, message(id, publisher.address(), &publisher, sequence, "{}")).await;
        assert_eq!(status, StatusCode::CREATED);
    }
    // Resume after offset 0: offset 1 from the log, then 2 as it is published.
    let live = format!("/api/v1/products/{id}/streams/gps/live");
    let mut feed =
        app.client.get(app.url(&live)).header(COOKIE, &owner).header("last-event-id", "0").send().await.unwrap();
    assert_eq!(feed.status(), StatusCode::OK);
    assert!(feed.headers()["content-type"].to_str().unwrap().starts_with("text/event-stream"));
    let (status, _) =
        post(&app, &messages, None, message(id, publisher.address(), &publisher, 3, "{\"last\":true}")).await;
    assert_eq!(status, StatusCode::CREATED);
    let mut text = String::new();
    while text.matches("\nid: ").count() + usize::from(text.starts_with("id: ")) < 2 {
        let chunk = tokio::time::timeout(std::time::Duration::from_secs(10), feed.chunk()).await;
        let chunk = chunk.expect("the feed sends within 10 s").unwrap().expect("the feed stays open");
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    let ids: Vec<&str> = text.lines().filter_map(|line| line.strip_prefix("id: ")).collect();
    assert_eq!(ids, ["1", "2"], "{text}");
    assert!(text.contains("\\\"last\\\":true"), "{text}");
    // A stranger gets no live feed.
    let stranger = app.client.get(app.url(&live)).send().await.unwrap();
    assert_eq!(stranger.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn bad_messages_are_refused_naming_the_field_and_nothing_is_stored() {
    let app = spawn_app_with_contracts_configured(|config| config.messages_per_second_per_publisher = 3).await;
    let chain = app.chain();
    let (du, id, owner) = union_product_with_stream(&app).await;
    let publisher = chain.signer(OWNER);
    let who = publisher.address();
    let messages = format!("/api/v1/products/{id}/streams/gps/messages");
    let good = || message(id, who, &publisher, 10, "{\"ok\":1}");
    let with = |field: &str, value: Value| {
        let mut body = good();
        body[field] = value;
        body
    };
    let big = format!("{{\"a\":\"{}\"}}", "x".repeat(64 * 1024));
    let mut stale = message(id, who, &publisher, 10, "{}");
    stale["timestamp"] = json!(millis() - 3_600_000);
    let stale = {
        // Signed as sent, so only the time is wrong.
        let message = Message {
            product: id,
            stream: "gps".parse().unwrap(),
            publisher: who,
            sequence: 10,
            timestamp: stale["timestamp"].as_u64().unwrap(),
            content: "{}".parse().unwrap(),
        };
        let signature = publisher.sign_message_sync(message.digest().as_slice()).unwrap();
        let mut body = stale;
        body["signature"] = json!(hex::encode_prefixed(signature.as_bytes()));
        body
    };
    let cases: Vec<(Value, StatusCode, &str, Option<&str>)> = vec![
        (json!({"publisher": who}), StatusCode::BAD_REQUEST, "invalid_body", Some("body")),
        (json!([1, 2]), StatusCode::BAD_REQUEST, "invalid_body", Some("body")),
        (with("content", json!("[1]")), StatusCode::BAD_REQUEST, "invalid_message", Some("content")),
        (with("content", json!("{nope")), StatusCode::BAD_REQUEST, "invalid_message", Some("content")),
        (with("content", json!(big)), StatusCode::BAD_REQUEST, "invalid_message", Some("content")),
        (with("signature", json!("0x1234")), StatusCode::BAD_REQUEST, "invalid_message", Some("signature")),
        (with("publisher", json!("0x12")), StatusCode::BAD_REQUEST, "invalid_address", Some("publisher")),
        (with("sequence", json!(u64::MAX)), StatusCode::BAD_REQUEST, "invalid_message", Some("sequence")),
        (with("content", json!("{\"ok\":2}")), StatusCode::UNAUTHORIZED, "bad_signature", Some("signature")),
        (with("signer", json!(chain.address(OTHER))), StatusCode::UNAUTHORIZED, "bad_signature", Some("signature")),
        (stale, StatusCode::BAD_REQUEST, "stale_message", Some("timestamp")),
        (
            message(id, chain.address(OTHER), &chain.signer(OTHER), 1, "{}"),
            StatusCode::FORBIDDEN,
            "not_a_publisher",
            None,
        ),
        (message(id, who, &chain.signer(OTHER), 1, "{}"), StatusCode::FORBIDDEN, "app_key_not_granted", None),
    ];
    for (body, status, error, field) in cases {
        let (got, reply) = post(&app, &messages, None, body.clone()).await;
        assert_eq!((got, code(&reply)), (status, (Some(error), field)), "{reply}");
    }
    let unknown = format!("/api/v1/products/{id}/streams/nope/messages");
    assert_eq!(post(&app, &unknown, None, good()).await.0, StatusCode::NOT_FOUND);
    let bad_name = format!("/api/v1/products/{id}/streams/No%20Way/messages");
    let (status, reply) = post(&app, &bad_name, None, good()).await;
    assert_eq!((status, code(&reply)), (StatusCode::BAD_REQUEST, (Some("invalid_name"), Some("stream"))));
    let (_, read) = get_as(&app, &messages, &owner).await;
    assert_eq!(read["messages"], json!([]), "nothing refused was stored");

    // Grants that must be refused.
    let member = chain.signer(MEMBER);
    let key = PrivateKeySigner::random().address();
    let soon = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() + 600;
    let mut wrong_chain = grant_body(du, &member, key, soon);
    wrong_chain["chainId"] = json!(1);
    let mut forged = grant_body(du, &member, key, soon);
    forged["expires"] = json!(soon + 1);
    for (body, status, error, field) in [
        (grant_body(du, &member, key, 1), StatusCode::BAD_REQUEST, "invalid_grant", Some("expires")),
        (wrong_chain, StatusCode::BAD_REQUEST, "invalid_grant", Some("chainId")),
        (forged, StatusCode::UNAUTHORIZED, "bad_signature", Some("signature")),
    ] {
        let (got, reply) = post(&app, "/api/v1/app-keys", None, body).await;
        assert_eq!((got, code(&reply)), (status, (Some(error), field)), "{reply}");
    }
    let keys = app.ok(&format!("/api/v1/app-keys?publisher={}", member.address())).await;
    assert_eq!(keys["keys"], json!([]), "no refused grant was kept");

    // Too many messages a second from one publisher: 429, and the rest are stored in order.
    let mut statuses = Vec::new();
    for sequence in 1..=6 {
        statuses.push(post(&app, &messages, None, message(id, who, &publisher, sequence, "{}")).await.0);
    }
    assert!(statuses.contains(&StatusCode::TOO_MANY_REQUESTS), "{statuses:?}");
    assert_eq!(statuses[0], StatusCode::CREATED);
}
