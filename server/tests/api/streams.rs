//! Product streams end to end: a seller attaches a stream, a member grants an app key and publishes
//! through it, a subscriber reads history and follows live, and access follows the chain: a part, a
//! revocation and an expired subscription each take effect at once. Bad messages are refused naming
//! the field, and change nothing.

use std::time::{SystemTime, UNIX_EPOCH};

use alloy::primitives::{Address, B256, U256, hex};
use alloy::providers::ext::AnvilApi;
use alloy::signers::SignerSync;
use alloy::signers::local::PrivateKeySigner;
use coop::read_token::ReadToken;
use coop::stream::{AppKeyGrant, SignedMessage, Unchecked};
use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, COOKIE};
use serde_json::{Value, json};

use crate::chain::{AGENT, BUYER, MEMBER, OTHER, OWNER, send};
use crate::helpers::{TestApp, spawn_app_with_contracts, spawn_app_with_contracts_configured};
use crate::story::{get_as, post, signed_in};

fn millis() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as u64
}

/// A message body as a publisher's app sends it, signed by `signer` in `publisher`'s name.
fn message(product: B256, publisher: Address, signer: &PrivateKeySigner, sequence: u64, content: &str) -> Value {
    message_at(product, publisher, signer, sequence, millis(), content)
}

/// Like [`message`], at `timestamp`, with any content (the signature covers its bytes as they are).
fn message_at(
    product: B256,
    publisher: Address,
    signer: &PrivateKeySigner,
    sequence: u64,
    timestamp: u64,
    content: &str,
) -> Value {
    let stream = "gps".parse().unwrap();
    let unchecked = Unchecked { product, stream: &stream, publisher, sequence, timestamp, content };
    let signature = signer.sign_message_sync(unchecked.digest().as_slice()).unwrap();
    json!({
        "publisher": publisher,
        "sequence": sequence,
        "timestamp": timestamp,
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
    grant_body_on(31337, union, member, key, expires)
}

fn grant_body_on(chain_id: u64, union: Address, member: &PrivateKeySigner, key: Address, expires: u64) -> Value {
    let grant = AppKeyGrant { key, publisher: member.address(), union, chain_id, expires };
    let signature = member.sign_message_sync(grant.text().as_bytes()).unwrap();
    json!({
        "key": key, "publisher": member.address(), "union": union, "chainId": chain_id, "expires": expires,
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
    let id = chain.create_product(OWNER, "Commuters", du, U256::from(2u64), U256::ZERO).await;
    app.caught_up().await;
    let owner = signed_in(app, &chain.signer(OWNER)).await;
    let settings = json!({"description": "Positions", "example": {"lat": 60.1}, "publicPreview": 1});
    let (status, saved) = put(app, &format!("/api/v1/products/{id}/streams/gps"), Some(&owner), settings).await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    (du, id, owner)
}

/// [`union_product_with_stream`], with `BUYER` granted an hour's subscription; answers the product.
async fn with_a_subscriber(app: &TestApp) -> B256 {
    let (_, id, _) = union_product_with_stream(app).await;
    send(app.chain().marketplace(OWNER).grantSubscription(id, U256::from(3600u64), app.chain().address(BUYER))).await;
    app.caught_up().await;
    id
}

#[tokio::test]
async fn members_publish_through_app_keys_and_access_follows_the_chain() {
    let app = spawn_app_with_contracts().await;
    let chain = app.chain();
    let (du, id, _) = union_product_with_stream(&app).await;
    let listed = app.ok(&format!("/api/v1/products/{id}/streams")).await;
    assert_eq!(listed["streams"][0]["name"], "gps");
    assert_eq!(listed["streams"][0]["publicPreview"], 1);
    assert_eq!(listed["streams"][0]["example"], json!({"lat": 60.1}));

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

/// Publishes two empty messages to `gps` as `publisher`, sequence numbers 1 and 2.
async fn publish_two(app: &TestApp, id: B256, publisher: &PrivateKeySigner) {
    let messages = format!("/api/v1/products/{id}/streams/gps/messages");
    for sequence in 1..=2 {
        let (status, _) = post(app, &messages, None, message(id, publisher.address(), publisher, sequence, "{}")).await;
        assert_eq!(status, StatusCode::CREATED);
    }
}

#[tokio::test]
async fn a_live_feed_resumes_after_the_last_event_without_a_gap_or_a_duplicate() {
    let app = spawn_app_with_contracts().await;
    let chain = app.chain();
    let (_, id, owner) = union_product_with_stream(&app).await;
    let publisher = chain.signer(OWNER);
    let messages = format!("/api/v1/products/{id}/streams/gps/messages");
    publish_two(&app, id, &publisher).await;
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
async fn a_socket_follows_a_stream_from_an_offset_and_refuses_strangers_and_other_sites() {
    use futures::StreamExt;
    use tokio_tungstenite::tungstenite::{Message as Frame, client::IntoClientRequest};

    let app = spawn_app_with_contracts().await;
    let chain = app.chain();
    let (_, id, owner) = union_product_with_stream(&app).await;
    let publisher = chain.signer(OWNER);
    let messages = format!("/api/v1/products/{id}/streams/gps/messages");
    publish_two(&app, id, &publisher).await;
    let socket = format!("/api/v1/products/{id}/streams/gps/socket?from=1");
    let request = |cookie: Option<&str>, origin: Option<&str>| {
        let mut request = app.url(&socket).replacen("http", "ws", 1).into_client_request().unwrap();
        for (name, value) in [("cookie", cookie), ("origin", origin)] {
            if let Some(value) = value {
                request.headers_mut().insert(name, value.parse().unwrap());
            }
        }
        request
    };

    // From offset 1: offset 1 from the log, then 2 as it is published.
    let (mut feed, _) = tokio_tungstenite::connect_async(request(Some(&owner), None)).await.unwrap();
    let (status, _) =
        post(&app, &messages, None, message(id, publisher.address(), &publisher, 3, "{\"last\":true}")).await;
    assert_eq!(status, StatusCode::CREATED);
    let mut received = Vec::new();
    while received.len() < 2 {
        let frame = tokio::time::timeout(std::time::Duration::from_secs(10), feed.next()).await;
        match frame.expect("a frame within 10 s").expect("the socket stays open").unwrap() {
            Frame::Text(text) => received.push(serde_json::from_str::<Value>(&text).unwrap()),
            other => panic!("only text frames are sent: {other:?}"),
        }
    }
    let offsets: Vec<u64> = received.iter().map(|m| m["offset"].as_u64().unwrap()).collect();
    assert_eq!(offsets, [1, 2]);
    assert_eq!(received[1]["content"], "{\"last\":true}");
    assert!(received[1]["signature"].as_str().is_some_and(|s| s.len() == 132), "delivered with its signature");
    feed.close(None).await.unwrap();

    // No session, another site's page, or a plain GET: refused before any message.
    let refused = |result: Result<_, tokio_tungstenite::tungstenite::Error>| match result {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => response.status(),
        other => panic!("expected a refusal, got {:?}", other.map(|_: (_, _)| ())),
    };
    assert_eq!(refused(tokio_tungstenite::connect_async(request(None, None)).await), StatusCode::UNAUTHORIZED);
    let elsewhere = request(Some(&owner), Some("https://evil.example"));
    assert_eq!(refused(tokio_tungstenite::connect_async(elsewhere).await), StatusCode::FORBIDDEN);
    let (status, reply) = get_as(&app, &format!("/api/v1/products/{id}/streams/gps/socket"), &owner).await;
    assert_eq!((status, code(&reply).0), (StatusCode::BAD_REQUEST, Some("not_a_websocket")), "{reply}");
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
    let signed = |content: &str| message(id, who, &publisher, 10, content);
    let stale = message_at(id, who, &publisher, 10, millis() - 3_600_000, "{}");
    let cases: Vec<(Value, StatusCode, &str, Option<&str>)> = vec![
        (json!({"publisher": who}), StatusCode::BAD_REQUEST, "invalid_body", Some("body")),
        (json!([1, 2]), StatusCode::BAD_REQUEST, "invalid_body", Some("body")),
        (signed("[1]"), StatusCode::BAD_REQUEST, "invalid_message", Some("content")),
        (signed("{nope"), StatusCode::BAD_REQUEST, "invalid_message", Some("content")),
        (signed(&big), StatusCode::BAD_REQUEST, "invalid_message", Some("content")),
        (with("signature", json!("0x1234")), StatusCode::BAD_REQUEST, "invalid_message", Some("signature")),
        (with("publisher", json!("0x12")), StatusCode::BAD_REQUEST, "invalid_address", Some("publisher")),
        (with("sequence", json!(1u64 << 53)), StatusCode::BAD_REQUEST, "invalid_message", Some("sequence")),
        (with("content", json!("{\"ok\":2}")), StatusCode::UNAUTHORIZED, "bad_signature", Some("signature")),
        (with("content", json!("[1]")), StatusCode::UNAUTHORIZED, "bad_signature", Some("signature")),
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
    let wrong_chain = grant_body_on(1, du, &member, key, soon);
    let mut forged = grant_body(du, &member, key, soon);
    forged["expires"] = json!(soon + 1);
    for (body, status, error, field) in [
        (grant_body(du, &member, key, 1), StatusCode::BAD_REQUEST, "invalid_grant", Some("expires")),
        (wrong_chain, StatusCode::BAD_REQUEST, "invalid_grant", Some("chainId")),
        (forged, StatusCode::UNAUTHORIZED, "bad_signature", Some("signature")),
        (grant_body(du, &member, member.address(), soon), StatusCode::BAD_REQUEST, "invalid_grant", Some("key")),
    ] {
        let (got, reply) = post(&app, "/api/v1/app-keys", None, body).await;
        assert_eq!((got, code(&reply)), (status, (Some(error), field)), "{reply}");
    }
    let keys = app.ok(&format!("/api/v1/app-keys?publisher={}", member.address())).await;
    assert_eq!(keys["keys"], json!([]), "no refused grant was kept");

    // Settings that must be refused, and settings by anyone but the owner.
    let settings = format!("/api/v1/products/{id}/streams/gps");
    for (body, field) in [
        (json!({"description": "x".repeat(2001)}), "description"),
        (json!({"description": "", "retentionDays": 3651}), "retentionDays"),
        (json!({"description": "", "publicPreview": 101}), "publicPreview"),
        (json!({"description": "", "retentionBytes": 999_999}), "retentionBytes"),
        (json!({"description": "", "retentionBytes": 1_u64 << 53}), "retentionBytes"),
    ] {
        let (status, reply) = put(&app, &settings, Some(&owner), body).await;
        assert_eq!((status, code(&reply).1), (StatusCode::BAD_REQUEST, Some(field)), "{reply}");
    }
    let (status, _) = put(&app, &settings, None, json!({"description": "mine now"})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let stranger = signed_in(&app, &chain.signer(OTHER)).await;
    let (status, reply) = put(&app, &settings, Some(&stranger), json!({"description": "mine now"})).await;
    assert_eq!((status, code(&reply).0), (StatusCode::FORBIDDEN, Some("not_owner")));
    let listed = app.ok(&format!("/api/v1/products/{id}/streams")).await;
    assert_eq!(listed["streams"][0]["description"], "Positions", "nothing refused changed the stream");

    // Too many messages a second from one publisher: 429, and the rest are stored in order.
    let mut statuses = Vec::new();
    for sequence in 1..=6 {
        statuses.push(post(&app, &messages, None, message(id, who, &publisher, sequence, "{}")).await.0);
    }
    assert!(statuses.contains(&StatusCode::TOO_MANY_REQUESTS), "{statuses:?}");
    assert_eq!(statuses[0], StatusCode::CREATED);
}

#[tokio::test]
async fn coop_publish_sends_json_lines_with_an_app_key_and_stops_at_a_bad_line() {
    use coop_server::publish::{PublishArgs, Published, run};
    let app = spawn_app_with_contracts().await;
    let chain = app.chain();
    let (du, id, owner) = union_product_with_stream(&app).await;
    let member = chain.signer(MEMBER);
    let app_key = PrivateKeySigner::random();
    let expires = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() + 3600;
    let (status, _) = post(&app, "/api/v1/app-keys", None, grant_body(du, &member, app_key.address(), expires)).await;
    assert_eq!(status, StatusCode::CREATED);
    let args = PublishArgs {
        server: app.url("/").parse().unwrap(),
        product: id,
        stream: "gps".parse().unwrap(),
        publisher: Some(member.address()),
        first_sequence: None,
    };
    let lines = "{\"speed\":3}\n\n{\"speed\":4}\n";
    let published = run(&args, &app_key, lines.as_bytes()).await.unwrap();
    assert_eq!(published, Published { messages: 2, offsets: Some((0, 1)) });
    // A second run goes on after the first: its sequence numbers start later.
    let error = run(&args, &app_key, "{\"speed\":5}\n[1]\n{\"speed\":6}\n".as_bytes()).await.unwrap_err();
    assert!(format!("{error:#}").starts_with("line 2: "), "{error:#}");
    let (_, read) = get_as(&app, &format!("/api/v1/products/{id}/streams/gps/messages"), &owner).await;
    let contents: Vec<&str> =
        read["messages"].as_array().unwrap().iter().map(|m| m["content"].as_str().unwrap()).collect();
    assert_eq!(contents, ["{\"speed\":3}", "{\"speed\":4}", "{\"speed\":5}"], "everything before the bad line");
    // Without the grant, the server's reason comes back.
    let stranger = PrivateKeySigner::random();
    let error = run(&args, &stranger, "{}\n".as_bytes()).await.unwrap_err();
    assert!(format!("{error:#}").contains("app_key_not_granted"), "{error:#}");
}

#[tokio::test]
async fn member_apps_on_listed_origins_may_publish_and_read_from_the_browser() {
    let extension = "chrome-extension://abcdefghijklmnop";
    let app =
        spawn_app_with_contracts_configured(|config| config.member_app_origins = vec![extension.to_owned()]).await;
    let chain = app.chain();
    let (_, id, _) = union_product_with_stream(&app).await;
    let messages = format!("/api/v1/products/{id}/streams/gps/messages");
    let preflight = |origin: &str| {
        app.client
            .request(reqwest::Method::OPTIONS, app.url(&messages))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type")
    };
    let allowed = preflight(extension).send().await.unwrap();
    assert!(allowed.status().is_success(), "{}", allowed.status());
    assert_eq!(allowed.headers()["access-control-allow-origin"], extension);
    let refused = preflight("https://elsewhere.example").send().await.unwrap();
    assert!(refused.headers().get("access-control-allow-origin").is_none(), "an origin not listed");

    // What the browser then sends: a signed message from another site passes the cross-site guard.
    let owner = chain.signer(OWNER);
    let posted = app
        .client
        .post(app.url(&messages))
        .header("origin", extension)
        .header("sec-fetch-site", "cross-site")
        .json(&message(id, owner.address(), &owner, 1, "{}"))
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), StatusCode::CREATED);
    assert_eq!(posted.headers()["access-control-allow-origin"], extension);
    let read = app.client.get(app.url(&messages)).header("origin", extension).send().await.unwrap();
    assert_eq!(read.headers()["access-control-allow-origin"], extension);
    // A change that rides on a session is still refused from another site.
    let settings = app
        .client
        .put(app.url(&format!("/api/v1/products/{id}/streams/gps")))
        .header("origin", extension)
        .header("sec-fetch-site", "cross-site")
        .json(&json!({"description": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(settings.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_reader_downloads_every_message_as_json_lines_or_csv() {
    let app = spawn_app_with_contracts().await;
    let chain = app.chain();
    let (_, id, owner) = union_product_with_stream(&app).await;
    let publisher = chain.signer(OWNER);
    let messages = format!("/api/v1/products/{id}/streams/gps/messages");
    let contents = ["{\"a\":1}", "{\"text\":\"say \\\"hi\\\", twice\"}", "{\"b\":[1,2]}"];
    for (n, content) in contents.iter().enumerate() {
        let (status, _) =
            post(&app, &messages, None, message(id, publisher.address(), &publisher, n as u64 + 1, content)).await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let download = format!("/api/v1/products/{id}/streams/gps/download");
    let get = |path: String, cookie: Option<String>| {
        let mut request = app.client.get(app.url(&path));
        if let Some(cookie) = cookie {
            request = request.header(COOKIE, cookie);
        }
        request.send()
    };
    let jsonl = get(download.clone(), Some(owner.clone())).await.unwrap();
    assert_eq!(jsonl.status(), StatusCode::OK);
    assert_eq!(jsonl.headers()["content-disposition"], "attachment; filename=\"gps.jsonl\"");
    let text = jsonl.text().await.unwrap();
    let lines: Vec<Value> = text.lines().map(|line| serde_json::from_str(line).unwrap()).collect();
    assert_eq!(lines.len(), 3);
    for (line, content) in lines.iter().zip(contents) {
        assert_eq!(line["content"], content);
        let signed: SignedMessage = serde_json::from_value(line.clone()).unwrap();
        assert!(signed.is_signed(), "a downloaded message verifies");
    }
    let csv = get(format!("{download}?format=csv"), Some(owner.clone())).await.unwrap().text().await.unwrap();
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(rows[0], "offset,receivedAt,publisher,sequence,timestamp,signer,signature,content");
    assert_eq!(rows.len(), 4, "{csv}");
    assert!(rows[2].starts_with("1,"), "{csv}");
    assert!(rows[2].ends_with(r#","{""text"":""say \""hi\"", twice""}""#), "quotes doubled: {}", rows[2]);

    let (status, reply) = get_as(&app, &format!("{download}?format=xml"), &owner).await;
    assert_eq!((status, code(&reply)), (StatusCode::BAD_REQUEST, (Some("invalid_choice"), Some("format"))));
    assert_eq!(get(download.clone(), None).await.unwrap().status(), StatusCode::UNAUTHORIZED);
    let stranger = signed_in(&app, &chain.signer(OTHER)).await;
    assert_eq!(get(download, Some(stranger)).await.unwrap().status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_live_feed_ends_within_a_block_of_the_subscription_ending() {
    let app = spawn_app_with_contracts().await;
    let chain = app.chain();
    let id = with_a_subscriber(&app).await;
    let buyer = signed_in(&app, &chain.signer(BUYER)).await;
    let publisher = chain.signer(OWNER);
    let messages = format!("/api/v1/products/{id}/streams/gps/messages");
    let live = format!("/api/v1/products/{id}/streams/gps/live?from=0");
    let mut feed = app.client.get(app.url(&live)).header(COOKIE, &buyer).send().await.unwrap();
    assert_eq!(feed.status(), StatusCode::OK);
    let (status, _) = post(&app, &messages, None, message(id, publisher.address(), &publisher, 1, "{}")).await;
    assert_eq!(status, StatusCode::CREATED);
    let mut text = String::new();
    while !text.contains("id: 0") {
        let chunk = tokio::time::timeout(std::time::Duration::from_secs(10), feed.chunk()).await.expect("within 10 s");
        text.push_str(&String::from_utf8_lossy(&chunk.unwrap().expect("the feed stays open")));
    }

    // The subscription ends with the chain's time; the next message is not delivered, and the feed ends.
    chain.advance_time(3601).await;
    chain.wallet(OTHER).anvil_mine(Some(1), None).await.unwrap();
    app.caught_up().await;
    let (status, _) = post(&app, &messages, None, message(id, publisher.address(), &publisher, 2, "{}")).await;
    assert_eq!(status, StatusCode::CREATED);
    loop {
        let chunk = tokio::time::timeout(std::time::Duration::from_secs(10), feed.chunk()).await;
        match chunk.expect("the feed ends within 10 s") {
            Ok(Some(chunk)) => text.push_str(&String::from_utf8_lossy(&chunk)),
            Ok(None) | Err(_) => break,
        }
    }
    assert!(!text.contains("id: 1"), "nothing after the subscription ended: {text}");
}

#[tokio::test]
async fn an_app_publishes_a_batch_at_once_and_a_bad_message_in_it_is_named_and_stores_nothing() {
    let app = spawn_app_with_contracts_configured(|config| config.messages_per_second_per_publisher = 10).await;
    let chain = app.chain();
    let (du, id, owner) = union_product_with_stream(&app).await;
    let member = chain.signer(MEMBER);
    let app_key = PrivateKeySigner::random();
    let soon = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() + 600;
    let (status, _) = post(&app, "/api/v1/app-keys", None, grant_body(du, &member, app_key.address(), soon)).await;
    assert_eq!(status, StatusCode::CREATED);
    let batch_path = format!("/api/v1/products/{id}/streams/gps/messages/batch");
    let by_key = |sequence: u64| message(id, member.address(), &app_key, sequence, &format!("{{\"n\":{sequence}}}"));
    let owner_signer = chain.signer(OWNER);
    let by_owner = message(id, owner_signer.address(), &owner_signer, 1, "{\"owner\":true}");
    let stored = || async { get_as(&app, &format!("/api/v1/products/{id}/streams/gps/messages"), &owner).await.1 };

    // Refused, each naming the message at fault, and nothing of the batch is stored.
    let mut bad_signature = by_key(2);
    bad_signature["content"] = json!("{\"n\":20}");
    let stranger = message(id, chain.address(OTHER), &chain.signer(OTHER), 1, "{}");
    let (bad, forbidden) = (StatusCode::BAD_REQUEST, StatusCode::FORBIDDEN);
    let cases = [
        (json!({"messages": []}), bad, "invalid_message", Some("messages"), "empty"),
        (json!({"messages": [by_key(1), {"publisher": 1}]}), bad, "invalid_body", Some("body"), "body"),
        (
            json!({"messages": (1..=501).map(by_key).collect::<Vec<_>>()}),
            bad,
            "invalid_message",
            Some("messages"),
            "501",
        ),
        (
            json!({"messages": [by_key(1), bad_signature]}),
            StatusCode::UNAUTHORIZED,
            "bad_signature",
            Some("signature"),
            "message 1: the signature",
        ),
        (
            json!({"messages": [by_key(1), by_key(3), by_key(2)]}),
            StatusCode::CONFLICT,
            "sequence_not_after",
            None,
            "message 2: sequence 2",
        ),
        (json!({"messages": [by_key(1), stranger]}), forbidden, "not_a_publisher", None, "message 1: "),
        (
            json!({"messages": (1..=11).map(by_key).collect::<Vec<_>>()}),
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_requests",
            None,
            "message 0: a batch of 11",
        ),
    ];
    for (body, status, error, field, says) in cases {
        let (got, reply) = post(&app, &batch_path, None, body).await;
        assert_eq!((got, code(&reply)), (status, (Some(error), field)), "{reply}");
        assert!(reply["error"]["message"].as_str().unwrap().contains(says), "{reply}");
    }
    assert_eq!(stored().await["messages"], json!([]), "nothing refused was stored");

    // A batch from two publishers goes in order, at consecutive offsets.
    let batch = json!({"messages": [by_key(1), by_owner, by_key(2), by_key(3)]});
    let (status, reply) = post(&app, &batch_path, None, batch).await;
    assert_eq!(status, StatusCode::CREATED, "{reply}");
    let offsets: Vec<u64> =
        reply["messages"].as_array().unwrap().iter().map(|m| m["offset"].as_u64().unwrap()).collect();
    assert_eq!(offsets, [0, 1, 2, 3]);
    let read = stored().await;
    let contents: Vec<&str> =
        read["messages"].as_array().unwrap().iter().map(|m| m["content"].as_str().unwrap()).collect();
    assert_eq!(contents, ["{\"n\":1}", "{\"owner\":true}", "{\"n\":2}", "{\"n\":3}"]);

    // The union's dashboard counts who contributed: the member 3, the owner 1.
    let page = app.client.get(app.url(&format!("/unions/{du}"))).send().await.unwrap().text().await.unwrap();
    let dashboard = &page[page.find("contributions-heading").expect("a contributions section")..];
    let row = |who: Address| {
        let at = dashboard.find(&who.to_checksum(None)).unwrap_or_else(|| panic!("{who} is not listed"));
        let cells: Vec<&str> = dashboard[at..].split("</td>").take(3).collect();
        cells.iter().map(|cell| cell.rsplit('>').next().unwrap().to_owned()).collect::<Vec<_>>()
    };
    assert!(dashboard.contains("4 messages over the last 30 days"), "{dashboard}");
    assert_eq!(row(member.address())[1..], ["3", "75.0 %"]);
    assert_eq!(row(owner_signer.address())[1..], ["1", "25.0 %"]);

    // Sent again, the batch is a replay.
    let (status, reply) = post(&app, &batch_path, None, json!({"messages": [by_key(4), by_key(3)]})).await;
    assert_eq!((status, code(&reply).0), (StatusCode::CONFLICT, Some("sequence_not_after")), "{reply}");
    assert_eq!(stored().await["messages"].as_array().unwrap().len(), 4);
}

/// A read token for `domain` and `chain_id` until `expires`, signed by `signer`, as the header sends it.
fn read_token(signer: &PrivateKeySigner, domain: &str, chain_id: u64, expires: u64) -> String {
    let text = ReadToken::text(signer.address(), domain, chain_id, expires);
    let signature = signer.sign_message_sync(text.as_bytes()).unwrap();
    let token = ReadToken { reader: signer.address(), expires, signature: signature.as_bytes().to_vec().into() };
    format!("Bearer {token}")
}

/// A program reads with a token its own key signed, without a session: history, download and the
/// live feed, which ends with the token. A token for another site or chain, an expired one, one that
/// lasts too long and a malformed header are refused naming the header; a token reads only.
#[tokio::test]
async fn a_program_reads_with_a_read_token_it_signed_and_a_bad_token_is_refused() {
    let app = spawn_app_with_contracts().await;
    let chain = app.chain();
    let id = with_a_subscriber(&app).await;
    let publisher = chain.signer(OWNER);
    let messages = format!("/api/v1/products/{id}/streams/gps/messages");
    for sequence in 1..=3 {
        let (status, _) =
            post(&app, &messages, None, message(id, publisher.address(), &publisher, sequence, "{}")).await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let read = |path: &str, authorization: &str| {
        app.client.get(app.url(path)).header(AUTHORIZATION, authorization.to_owned()).send()
    };
    let domain = app.address.to_string();
    let now = millis() / 1000;
    let buyer = chain.signer(BUYER);
    let token = read_token(&buyer, &domain, 31337, now + 600);

    let history: Value = read(&messages, &token).await.unwrap().json().await.unwrap();
    assert_eq!((history["access"].as_str(), history["messages"].as_array().map(Vec::len)), (Some("full"), Some(3)));
    let download = format!("/api/v1/products/{id}/streams/gps/download");
    let reply = read(&download, &token).await.unwrap();
    assert_eq!(reply.status(), StatusCode::OK);
    assert_eq!(reply.text().await.unwrap().lines().count(), 3);

    let stranger = read_token(&chain.signer(OTHER), &domain, 31337, now + 600);
    let history: Value = read(&messages, &stranger).await.unwrap().json().await.unwrap();
    assert_eq!(history["access"], "preview", "a token reads as its signer: a stranger sees the preview");
    let reply = read(&download, &stranger).await.unwrap();
    assert_eq!(reply.status(), StatusCode::FORBIDDEN);

    let refused = [
        (read_token(&buyer, "c00p.example", 31337, now + 600), "for this server and chain"),
        (read_token(&buyer, &domain, 1, now + 600), "for this server and chain"),
        (read_token(&buyer, &domain, 31337, now - 1), "ended"),
        (read_token(&buyer, &domain, 31337, now + 7200), "more than 60 minutes ahead"),
        ("Bearer coop-read.0x12".to_owned(), "coop-read.<reader address>"),
        (token.replace("Bearer ", "Basic "), "is not `Bearer <read token>`"),
    ];
    for (authorization, why) in refused {
        let reply = read(&messages, &authorization).await.unwrap();
        assert_eq!(reply.status(), StatusCode::UNAUTHORIZED, "{authorization}");
        let body: Value = reply.json().await.unwrap();
        assert_eq!(code(&body), (Some("invalid_read_token"), Some("Authorization")), "{body}");
        assert!(body["error"]["message"].as_str().unwrap().contains(why), "{why}: {body}");
    }

    let owner = read_token(&publisher, &domain, 31337, now + 600);
    let reply = app
        .client
        .put(app.url(&format!("/api/v1/products/{id}/streams/gps")))
        .header(AUTHORIZATION, owner)
        .json(&json!({"description": "changed by a token"}))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), StatusCode::UNAUTHORIZED, "an owner's token does not change a stream");

    // A live feed opened with a token that ends in 3 s delivers, then ends with the token.
    let short = read_token(&buyer, &domain, 31337, now + 3);
    let mut feed = read(&format!("/api/v1/products/{id}/streams/gps/live?from=0"), &short).await.unwrap();
    assert_eq!(feed.status(), StatusCode::OK);
    let mut text = String::new();
    while !text.contains("id: 2") {
        let chunk = tokio::time::timeout(std::time::Duration::from_secs(10), feed.chunk()).await.expect("within 10 s");
        text.push_str(&String::from_utf8_lossy(&chunk.unwrap().expect("the feed stays open while the token lasts")));
    }
    let end = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        while let Ok(Some(_)) = feed.chunk().await {}
    });
    end.await.expect("the feed ends within 10 s of its token");
}

/// `coop read-token` signs a token for the server its URL names, and the token reads.
#[tokio::test]
async fn coop_read_token_makes_a_header_that_reads() {
    let app = spawn_app_with_contracts().await;
    let chain = app.chain();
    let (_, id, _) = union_product_with_stream(&app).await;
    let args = coop_server::read_token::ReadTokenArgs { server: app.url("/").parse().unwrap(), minutes: 5 };
    let header = coop_server::read_token::make(&args, &chain.signer(OWNER)).await.unwrap();
    let reply = app
        .client
        .get(app.url(&format!("/api/v1/products/{id}/streams/gps/download")))
        .header(AUTHORIZATION, header)
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), StatusCode::OK, "the owner reads with its token");
    let too_long = coop_server::read_token::ReadTokenArgs { server: app.url("/").parse().unwrap(), minutes: 61 };
    let refused = coop_server::read_token::make(&too_long, &chain.signer(OWNER)).await.unwrap_err();
    assert!(refused.to_string().contains("1 to 60 minutes"), "{refused}");
}

/// A draft keeps its streams until its product is published; the save that records the product's
/// id hands them to the product, and only to a product of the draft's seller. Wrong streams are
/// refused naming the field and change nothing.
#[tokio::test]
async fn a_drafts_streams_go_to_its_product_once_published_and_only_to_its_sellers() {
    let app = spawn_app_with_contracts().await;
    let chain = app.chain();
    let seller = signed_in(&app, &chain.signer(OWNER)).await;
    let gps = json!({"name": "gps", "description": "Positions", "example": "{\"lat\":60.1}",
        "retentionDays": 30, "retentionBytes": 5_000_000, "publicPreview": 3});
    let (status, draft) = post(&app, "/api/v1/drafts", Some(&seller), json!({"name": "Buses", "streams": [gps]})).await;
    assert_eq!(status, StatusCode::CREATED, "{draft}");
    assert_eq!(draft["streams"][0]["name"], "gps", "kept in the draft while there is no product");
    let path = format!("/api/v1/drafts/{}", draft["id"].as_str().unwrap());

    let bad = [
        (json!([{"name": "GPS"}]), "stream 1 (GPS), name: "),
        (json!([gps, {"name": "gps"}]), "stream 2 (gps): another stream has this name"),
        (json!([{"name": "acc", "retentionBytes": 10}]), "stream 1 (acc), retentionBytes: keep at least 1000000"),
        (json!([{"name": "acc", "example": "[1]"}]), "stream 1 (acc), example: "),
    ];
    for (streams, says) in bad {
        let (status, reply) = put(&app, &path, Some(&seller), json!({"name": "Buses", "streams": streams})).await;
        assert_eq!((status, code(&reply)), (StatusCode::BAD_REQUEST, (Some("invalid_draft"), Some("streams"))));
        assert!(reply["error"]["message"].as_str().unwrap().contains(says), "{reply}");
    }
    let (_, kept) = get_as(&app, &path, &seller).await;
    assert_eq!(kept["streams"], json!([gps]), "nothing refused was saved");

    // Another seller's draft naming this seller's product id hands nothing over.
    let id = app::products::product_id(chain.address(OWNER), "Buses");
    let other = signed_in(&app, &chain.signer(BUYER)).await;
    let theirs = json!({"name": "Buses", "productId": id, "streams": [gps]});
    let (status, reply) = post(&app, "/api/v1/drafts", Some(&other), theirs).await;
    assert_eq!((status, code(&reply)), (StatusCode::BAD_REQUEST, (Some("invalid_draft"), Some("productId"))));

    // Published: the save with the product id hands the streams over, before the chain shows it.
    let (status, saved) =
        put(&app, &path, Some(&seller), json!({"name": "Buses", "productId": id, "streams": [gps]})).await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    assert_eq!(saved["streams"], json!([]), "the product's now");
    let listed = chain.create_product(OWNER, "Buses", chain.address(OWNER), U256::from(1u64), U256::ZERO).await;
    assert_eq!(listed, id);
    app.caught_up().await;
    let streams = app.ok(&format!("/api/v1/products/{id}/streams")).await;
    assert_eq!(streams["streams"].as_array().unwrap().len(), 1, "{streams}");
    let stream = &streams["streams"][0];
    assert_eq!(
        (&stream["name"], &stream["retentionBytes"], &stream["example"]),
        (&json!("gps"), &json!(5_000_000), &json!({"lat": 60.1}))
    );

    // Once listed, the chain's owner decides: the other seller is still refused.
    let (status, reply) =
        put(&app, &format!("/api/v1/products/{id}/streams/acc"), Some(&other), json!({"description": ""})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{reply}");
    let (status, reply) =
        post(&app, "/api/v1/drafts", Some(&other), json!({"name": "Mine", "productId": id, "streams": [gps]})).await;
    assert_eq!((status, code(&reply).1), (StatusCode::BAD_REQUEST, Some("productId")), "{reply}");
}
