//! Sign-in with Ethereum against a spawned server: nonce, message, signature, session, sign-out, and
//! every refusal with its own code.

use alloy::primitives::hex;
use alloy::signers::SignerSync;
use alloy::signers::local::PrivateKeySigner;
use app::wallet::session::NonceGrant;
use app::wallet::short_address;
use app::wallet::siwe::{self, SiweMessage};
use reqwest::StatusCode;
use reqwest::header::{ACCEPT, COOKIE, HOST, LOCATION, SET_COOKIE};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

use crate::chain::DEPLOYER;
use crate::cookies::session_cookie;
use crate::helpers::{TestApp, client_builder, spawn_app, spawn_app_configured, spawn_app_with_contracts};

alloy::sol!(
    #[sol(rpc)]
    OwnedWallet,
    "../contracts/artifacts/OwnedWallet.json"
);

/// GETs a path that must answer 200 with JSON.
async fn get_ok(app: &TestApp, path: &str) -> Value {
    let response = app.client.get(app.url(path)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "GET {path}");
    response.json().await.unwrap()
}

/// The session cookie each nonce was handed out with, by nonce: a nonce signs in only its session,
/// so [`post_sign_in`] sends a message back with its nonce's cookie, as a browser does.
static NONCE_SESSIONS: LazyLock<Mutex<HashMap<String, String>>> = LazyLock::new(Default::default);

/// A nonce grant from the server: `(nonce, issuedAt, expirationTime)`, and the session cookie it
/// came with.
async fn grant_with_session(app: &TestApp) -> ((String, String, String), String) {
    let response = app.client.get(app.url("/api/v1/auth/nonce")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "GET /api/v1/auth/nonce");
    let cookie = session_cookie(response.headers()).expect("a nonce comes with a session cookie");
    let body: Value = response.json().await.unwrap();
    let field = |name: &str| body[name].as_str().unwrap().to_owned();
    ((field("nonce"), field("issuedAt"), field("expirationTime")), cookie)
}

/// The session cookie `message`'s nonce was handed out with.
fn session_of(message: &SiweMessage) -> String {
    NONCE_SESSIONS.lock().unwrap()[&message.nonce].clone()
}

/// A nonce grant whose session [`post_sign_in`] will send along.
async fn grant(app: &TestApp) -> (String, String, String) {
    let (grant, cookie) = grant_with_session(app).await;
    NONCE_SESSIONS.lock().unwrap().insert(grant.0.clone(), cookie);
    grant
}

/// A message for this server, as the web page writes it, with a fresh nonce.
pub(crate) async fn message_for(app: &TestApp, signer: &PrivateKeySigner) -> SiweMessage {
    let (nonce, issued_at, expiration_time) = grant(app).await;
    let domain = app.address.to_string();
    let grant = NonceGrant { nonce, issued_at, expiration_time };
    siwe::sign_in_message(&domain, &format!("http://{domain}"), signer.address(), 31337, &grant).unwrap()
}

pub(crate) fn sign(signer: &PrivateKeySigner, message: &SiweMessage) -> String {
    hex::encode_prefixed(signer.sign_message_sync(message.to_string().as_bytes()).unwrap().as_bytes())
}

pub(crate) struct SignInReply {
    status: StatusCode,
    body: Value,
    pub(crate) cookie: Option<String>,
}

impl SignInReply {
    fn error(&self) -> (&str, &str) {
        (self.body["error"]["code"].as_str().unwrap(), self.body["error"]["field"].as_str().unwrap_or_default())
    }
}

/// Posts a sign-in with the session its message's nonce was handed to, if the nonce was handed out.
async fn post_sign_in(app: &TestApp, body: Value) -> SignInReply {
    let nonce = body["message"].as_str().and_then(|text| text.lines().find_map(|line| line.strip_prefix("Nonce: ")));
    let session = nonce.and_then(|nonce| NONCE_SESSIONS.lock().unwrap().get(nonce).cloned());
    post_sign_in_as(app, body, session.as_deref()).await
}

async fn post_sign_in_as(app: &TestApp, body: Value, session: Option<&str>) -> SignInReply {
    let mut request = app.client.post(app.url("/api/v1/auth/sign-in")).json(&body);
    if let Some(session) = session {
        request = request.header(COOKIE, session);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let cookie = session_cookie(response.headers());
    SignInReply { status, body: response.json().await.unwrap(), cookie }
}

pub(crate) async fn sign_in(app: &TestApp, message: &SiweMessage, signature: &str) -> SignInReply {
    post_sign_in(app, json!({ "message": message.to_string(), "signature": signature })).await
}

async fn me(app: &TestApp, cookie: Option<&str>) -> (StatusCode, Value) {
    let mut request = app.client.get(app.url("/api/v1/auth/me"));
    if let Some(cookie) = cookie {
        request = request.header(COOKIE, cookie);
    }
    let response = request.send().await.unwrap();
    (response.status(), response.json().await.unwrap())
}

#[tokio::test]
async fn a_signed_message_opens_a_session_that_me_reports_until_sign_out() {
    let app = spawn_app().await;
    let signer = PrivateKeySigner::random();
    let message = message_for(&app, &signer).await;

    let reply = sign_in(&app, &message, &sign(&signer, &message)).await;

    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body, json!({ "address": signer.address().to_checksum(None), "chainId": 31337 }));
    let cookie = reply.cookie.expect("a session cookie");
    assert_eq!(me(&app, Some(&cookie)).await, (StatusCode::OK, reply.body.clone()));

    let out = app.client.post(app.url("/api/v1/auth/sign-out")).header(COOKIE, &cookie).send().await.unwrap();
    assert_eq!(out.status(), StatusCode::NO_CONTENT);
    let (status, body) = me(&app, Some(&cookie)).await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("not_signed_in")));
}

#[tokio::test]
async fn me_without_a_session_is_401_not_signed_in() {
    let app = spawn_app().await;
    let (status, body) = me(&app, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["code"], "not_signed_in");
}

#[tokio::test]
async fn a_nonce_is_good_for_one_sign_in_only() {
    let app = spawn_app().await;
    let signer = PrivateKeySigner::random();
    let message = message_for(&app, &signer).await;
    let signature = sign(&signer, &message);
    let signed_in = sign_in(&app, &message, &signature).await;
    assert_eq!(signed_in.status, StatusCode::OK);

    let body = json!({ "message": message.to_string(), "signature": signature });

    // From the session it signed in (whose id changed at sign-in), and from the session's old id.
    let replay = post_sign_in_as(&app, body.clone(), signed_in.cookie.as_deref()).await;
    let stale = post_sign_in_as(&app, body, Some(&session_of(&message))).await;

    assert_eq!((replay.status, replay.error()), (StatusCode::UNAUTHORIZED, ("nonce_used", "nonce")));
    assert_eq!((stale.status, stale.error()), (StatusCode::UNAUTHORIZED, ("nonce_unknown", "nonce")));
    assert_eq!(replay.cookie, None);
    // The unknown id's cookie is cleared, and no session comes with it.
    assert!(stale.cookie.as_deref().is_none_or(|cookie| cookie == "coop_session="), "{:?}", stale.cookie);
}

#[tokio::test]
async fn a_nonce_the_server_never_issued_is_refused() {
    let app = spawn_app().await;
    let signer = PrivateKeySigner::random();
    let message = SiweMessage { nonce: "madeUp12345678".to_owned(), ..message_for(&app, &signer).await };

    let reply = sign_in(&app, &message, &sign(&signer, &message)).await;

    assert_eq!((reply.status, reply.error()), (StatusCode::UNAUTHORIZED, ("nonce_unknown", "nonce")));
}

/// Someone who got hold of a message signed for Coop (and its nonce) cannot sign in with it from
/// another session: the nonce signs in only the session it was handed to, and stays usable there.
#[tokio::test]
async fn a_nonce_signs_in_only_the_session_it_was_handed_to() {
    let app = spawn_app().await;
    let signer = PrivateKeySigner::random();
    let ((nonce, issued_at, expiration_time), victim) = grant_with_session(&app).await;
    let message = SiweMessage {
        nonce,
        issued_at: issued_at.parse().unwrap(),
        expiration_time: Some(expiration_time.parse().unwrap()),
        ..message_for(&app, &signer).await
    };
    let body = json!({ "message": message.to_string(), "signature": sign(&signer, &message) });
    let (_, thief) = grant_with_session(&app).await;

    for session in [None, Some(thief.as_str())] {
        let replay = post_sign_in_as(&app, body.clone(), session).await;
        assert_eq!(
            (replay.status, replay.error()),
            (StatusCode::UNAUTHORIZED, ("nonce_unknown", "nonce")),
            "{session:?}"
        );
        assert_eq!(replay.cookie, None);
    }
    let own = post_sign_in_as(&app, body, Some(&victim)).await;
    assert_eq!(own.status, StatusCode::OK, "{}", own.body);
}

/// An owner whose account is a contract (a Safe, say) signs in: its contract approves its owner
/// key's signature through EIP-1271. A signature it does not approve is refused.
#[tokio::test]
async fn a_smart_contract_account_signs_in_with_a_signature_its_contract_approves() {
    let app = spawn_app_with_contracts().await;
    let key = PrivateKeySigner::random();
    let account = *OwnedWallet::deploy(app.chain().wallet(DEPLOYER), key.address()).await.unwrap().address();
    let message = SiweMessage { address: account.into_array(), ..message_for(&app, &key).await };

    let refused = sign_in(&app, &message, &sign(&PrivateKeySigner::random(), &message)).await;
    assert_eq!((refused.status, refused.error()), (StatusCode::UNAUTHORIZED, ("bad_signature", "signature")));
    let accepted = sign_in(&app, &message, &sign(&key, &message)).await;

    assert_eq!(accepted.status, StatusCode::OK, "{}", accepted.body);
    assert_eq!(accepted.body["address"], account.to_checksum(None));
}

/// Behind TLS the session cookie is `Secure`, so a browser never sends it in clear; on a plain-HTTP
/// origin it cannot be, or nobody could sign in.
#[tokio::test]
async fn the_session_cookie_is_secure_when_the_public_origin_is_https() {
    for (origin, secure) in [("https://coop.example", true), ("http://coop.example:8080", false)] {
        let app = spawn_app_configured(|config| config.public_origin = Some(origin.parse().unwrap())).await;
        let response = app.client.get(app.url("/api/v1/auth/nonce")).send().await.unwrap();
        let set_cookie = response.headers()[SET_COOKIE].to_str().unwrap().to_owned();
        assert!(set_cookie.starts_with("coop_session="), "{set_cookie}");
        assert_eq!(set_cookie.split(';').any(|part| part.trim() == "Secure"), secure, "{origin}: {set_cookie}");
        assert!(set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Lax"), "{set_cookie}");
    }
}

#[tokio::test]
async fn a_message_for_another_site_is_refused_and_leaves_the_nonce_usable() {
    let app = spawn_app().await;
    let signer = PrivateKeySigner::random();
    let message = message_for(&app, &signer).await;
    let phished = SiweMessage {
        domain: "coop.example".parse().unwrap(),
        uri: "https://coop.example".parse().unwrap(),
        ..message.clone()
    };

    let reply = sign_in(&app, &phished, &sign(&signer, &phished)).await;

    assert_eq!((reply.status, reply.error()), (StatusCode::UNAUTHORIZED, ("wrong_domain", "domain")));
    assert_eq!(sign_in(&app, &message, &sign(&signer, &message)).await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_phishing_sites_message_is_refused_whatever_host_the_request_names() {
    let app = spawn_app().await;
    let signer = PrivateKeySigner::random();
    let message = message_for(&app, &signer).await;
    let phished = SiweMessage {
        domain: "evil.example".parse().unwrap(),
        uri: "https://evil.example".parse().unwrap(),
        ..message.clone()
    };
    let body = json!({ "message": phished.to_string(), "signature": sign(&signer, &phished) });

    let response =
        app.client.post(app.url("/api/v1/auth/sign-in")).header(HOST, "evil.example").json(&body).send().await.unwrap();

    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(response.headers().get(SET_COOKIE).is_none(), "no session");
    let reply: Value = response.json().await.unwrap();
    assert_eq!(reply["error"]["code"], "wrong_domain", "{reply}");
    // The real origin's message, sent with any Host, still signs in.
    let body = json!({ "message": message.to_string(), "signature": sign(&signer, &message) });
    let response = app
        .client
        .post(app.url("/api/v1/auth/sign-in"))
        .header(HOST, "evil.example")
        .header(COOKIE, session_of(&message))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_message_for_another_chain_is_refused() {
    let app = spawn_app().await;
    let signer = PrivateKeySigner::random();
    let message = SiweMessage { chain_id: 1, ..message_for(&app, &signer).await };

    let reply = sign_in(&app, &message, &sign(&signer, &message)).await;

    assert_eq!((reply.status, reply.error()), (StatusCode::UNAUTHORIZED, ("wrong_chain", "chain_id")));
}

#[tokio::test]
async fn an_expired_message_is_refused() {
    let app = spawn_app().await;
    let signer = PrivateKeySigner::random();
    let message = SiweMessage {
        issued_at: "2020-01-01T00:00:00Z".parse().unwrap(),
        expiration_time: Some("2020-01-01T00:10:00Z".parse().unwrap()),
        ..message_for(&app, &signer).await
    };

    let reply = sign_in(&app, &message, &sign(&signer, &message)).await;

    assert_eq!((reply.status, reply.error()), (StatusCode::UNAUTHORIZED, ("message_expired", "expiration_time")));
}

#[tokio::test]
async fn a_signature_by_another_key_is_refused_and_a_malformed_one_is_a_bad_request() {
    let app = spawn_app().await;
    let (signer, impostor) = (PrivateKeySigner::random(), PrivateKeySigner::random());
    let message = message_for(&app, &signer).await;

    let forged = sign_in(&app, &message, &sign(&impostor, &message)).await;
    let garbled = sign_in(&app, &message, "0xnothex").await;

    assert_eq!((forged.status, forged.error()), (StatusCode::UNAUTHORIZED, ("bad_signature", "signature")));
    assert_eq!((garbled.status, garbled.error()), (StatusCode::BAD_REQUEST, ("malformed_signature", "signature")));
    // The request is an object; serde alone would read it from an array of its fields too.
    let session = NONCE_SESSIONS.lock().unwrap().get(&message.nonce).cloned();
    let as_array = json!([message.to_string(), sign(&signer, &message)]);
    let as_array = post_sign_in_as(&app, as_array, session.as_deref()).await;
    assert_eq!((as_array.status, as_array.error()), (StatusCode::BAD_REQUEST, ("malformed_body", "message")));
    assert_eq!(sign_in(&app, &message, &sign(&signer, &message)).await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_page_on_another_site_cannot_sign_a_visitor_in_nor_act_with_their_session() {
    let app = spawn_app().await;
    let signer = PrivateKeySigner::random();
    let message = message_for(&app, &signer).await;
    let body = json!({ "message": message.to_string(), "signature": sign(&signer, &message) }).to_string();
    let post = |path: &str, headers: &[(&'static str, &str)], content_type: &'static str| {
        let mut request = app
            .client
            .post(app.url(path))
            .header("content-type", content_type)
            .header(COOKIE, session_of(&message))
            .body(body.clone());
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send()
    };

    // A form on evil.example posts the attacker's signed message as text/plain (no preflight).
    let forged = post("/api/v1/auth/sign-in", &[("origin", "https://evil.example")], "text/plain").await.unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert!(forged.headers().get(SET_COOKIE).is_none());
    assert_eq!(forged.json::<Value>().await.unwrap()["error"]["code"], "cross_site");
    let fetched = post("/api/v1/auth/sign-in", &[("sec-fetch-site", "cross-site")], "application/json").await.unwrap();
    assert_eq!(fetched.status(), StatusCode::FORBIDDEN);
    // Without a browser's headers, text/plain is still no sign-in.
    let plain = post("/api/v1/auth/sign-in", &[], "text/plain").await.unwrap();
    assert_eq!(plain.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(plain.json::<Value>().await.unwrap()["error"]["code"], "not_json");

    // The same message from Coop's own page signs in; a signed-in visitor's cookie does not make a
    // cross-site sign-out (or any other change) go through either.
    let origin = app.url("");
    let own = post(
        "/api/v1/auth/sign-in",
        &[("origin", origin.trim_end_matches('/')), ("sec-fetch-site", "same-origin")],
        "application/json",
    )
    .await
    .unwrap();
    assert_eq!(own.status(), StatusCode::OK);
    let cookie = own.headers()[SET_COOKIE].to_str().unwrap().split(';').next().unwrap().to_owned();
    let out = app
        .client
        .post(app.url("/api/v1/auth/sign-out"))
        .header(COOKIE, &cookie)
        .header("sec-fetch-site", "cross-site")
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), StatusCode::FORBIDDEN);
    assert_eq!(me(&app, Some(&cookie)).await.0, StatusCode::OK, "still signed in");
}

#[tokio::test]
async fn a_body_that_is_not_a_sign_in_is_a_bad_request_naming_the_field() {
    let app = spawn_app().await;
    let not_json = app
        .client
        .post(app.url("/api/v1/auth/sign-in"))
        .header("content-type", "application/json")
        .body("{")
        .send()
        .await
        .unwrap();
    assert_eq!(not_json.status(), StatusCode::BAD_REQUEST);
    assert_eq!(not_json.json::<Value>().await.unwrap()["error"]["code"], "malformed_body");

    let not_siwe = post_sign_in(&app, json!({ "message": "hello", "signature": "0x00" })).await;
    assert_eq!((not_siwe.status, not_siwe.error()), (StatusCode::BAD_REQUEST, ("malformed_message", "domain")));

    let huge = post_sign_in(&app, json!({ "message": "x".repeat(10_000), "signature": "0x00" })).await;
    assert_eq!((huge.status, huge.error()), (StatusCode::BAD_REQUEST, ("message_too_long", "message")));
}

#[tokio::test]
async fn the_page_is_rendered_with_the_signed_in_address_and_a_form_post_signs_out() {
    let app = spawn_app().await;
    let signer = PrivateKeySigner::random();
    let message = message_for(&app, &signer).await;
    let cookie = sign_in(&app, &message, &sign(&signer, &message)).await.cookie.unwrap();

    let page = |cookie: Option<String>| {
        let mut request = app.client.get(app.url("/")).header(ACCEPT, "text/html");
        if let Some(cookie) = cookie {
            request = request.header(COOKIE, cookie);
        }
        async move { request.send().await.unwrap().text().await.unwrap() }
    };
    let (signed_in, anonymous) = (page(Some(cookie.clone())).await, page(None).await);

    // In the header itself, not in a fragment streamed in later: browsers without JavaScript see it.
    let header = |html: &str| html[html.find("<header").unwrap()..html.find("</header>").unwrap()].to_owned();
    let short = short_address(&signer.address());
    assert!(header(&signed_in).contains(&short) && header(&signed_in).contains("Sign out"), "{signed_in}");
    assert!(header(&anonymous).contains("Connect wallet") && !anonymous.contains(&short), "{anonymous}");

    let no_redirects = client_builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let out = no_redirects
        .post(app.url("/api/v1/auth/sign-out"))
        .header(COOKIE, &cookie)
        .header(ACCEPT, "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    assert_eq!(out.headers()[LOCATION], "/");
    assert_eq!(me(&app, Some(&cookie)).await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_chain_endpoint_describes_the_chain_for_wallets() {
    let app = spawn_app().await;
    let body = get_ok(&app, "/api/v1/chain").await;
    assert_eq!(body["chainId"], 31337);
    assert_eq!(body["name"], "Coop dev chain");
    assert_eq!(body["rpcUrl"].as_str(), Some(app.chain.as_ref().unwrap().endpoint().as_str().trim_end_matches('/')));
    assert_eq!(body["nativeCurrency"]["symbol"], "ETH");
}
