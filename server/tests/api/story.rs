//! The whole story on anvil, with exact amounts: an owner creates a Data Union whose operator and
//! join-part agent are the server's keys; members join through the API (three with a shared secret,
//! one approved by the owner); a buyer subscribes to the union's product; the server commits; members
//! see their share frozen, then withdrawable with a proof, and withdraw exactly that; the owner removes
//! a member, who can still withdraw; the validator finds no mismatch; a non-owner gets 403.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use alloy::primitives::{Address, B256, U256, hex};
use alloy::providers::ext::AnvilApi;
use alloy::signers::SignerSync;
use alloy::signers::local::PrivateKeySigner;
use coop_server::joins::join_message;
use reqwest::StatusCode;
use reqwest::header::COOKIE;
use serde_json::{Value, json};

use crate::auth::{message_for, sign, sign_in};
use crate::chain::{BUYER, DEPLOYER, MEMBER, OTHER, OWNER, send};
use crate::helpers::{TestApp, spawn_app_with_roles};
use crate::products::{fund_buyer, list_product};

const FREEZE: u64 = 100;

pub(crate) async fn signed_in(app: &TestApp, signer: &PrivateKeySigner) -> String {
    let message = message_for(app, signer).await;
    sign_in(app, &message, &sign(signer, &message)).await.cookie.expect("a session cookie")
}

pub(crate) async fn post(app: &TestApp, path: &str, cookie: Option<&str>, body: Value) -> (StatusCode, Value) {
    let mut request = app.client.post(app.url(path)).json(&body);
    if let Some(cookie) = cookie {
        request = request.header(COOKIE, cookie);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

pub(crate) async fn get_as(app: &TestApp, path: &str, cookie: &str) -> (StatusCode, Value) {
    let response = app.client.get(app.url(path)).header(COOKIE, cookie).send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

pub(crate) fn join_body(du: Address, member: &PrivateKeySigner, issued_at: i64, secret: Option<&str>) -> Value {
    let message = join_message(du, member.address(), 31337, issued_at);
    let signature = hex::encode_prefixed(member.sign_message_sync(message.as_bytes()).unwrap().as_bytes());
    json!({ "member": member.address(), "issuedAt": issued_at, "signature": signature, "secret": secret })
}

pub(crate) fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

/// Polls `path` until `done` holds, mining a block between tries so confirmations come.
pub(crate) async fn until(app: &TestApp, path: &str, done: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..120 {
        let reply = app.get(path).await;
        if reply.status == StatusCode::OK && done(&reply.body) {
            return reply.body;
        }
        app.chain().wallet(DEPLOYER).anvil_mine(Some(1), None).await.unwrap();
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    panic!("{path} did not get there in a minute: {}", app.get(path).await.body);
}

fn amount(value: &Value) -> U256 {
    value.as_str().unwrap_or_else(|| panic!("{value} is not a decimal string")).parse().unwrap()
}

async fn withdraw(app: &TestApp, du: Address, account: usize) -> U256 {
    let chain = app.chain();
    let member = chain.address(account);
    let figures = app.ok(&format!("/api/v1/unions/{du}/members/{member}")).await;
    let proof = &figures["proof"];
    let siblings: Vec<B256> =
        proof["proof"].as_array().unwrap().iter().map(|h| h.as_str().unwrap().parse().unwrap()).collect();
    let before = chain.data_balance(member).await;
    let block = U256::from(proof["block"].as_u64().unwrap());
    send(chain.du(du, account).withdrawAll(block, amount(&proof["earnings"]), siblings)).await;
    let grown = chain.data_balance(member).await - before;
    assert_eq!(grown, amount(&figures["withdrawable"]), "{member} got exactly its withdrawable amount");
    grown
}

#[tokio::test]
async fn members_join_through_the_api_earn_from_a_purchase_and_withdraw_exactly_their_share() {
    let app = spawn_app_with_roles().await;
    let chain = app.chain();
    // 10 % admin fee.
    let du = chain.create_data_union(U256::from(10u64).pow(U256::from(17)), FREEZE).await;
    app.caught_up().await;

    let owner = signed_in(&app, &chain.signer(OWNER)).await;
    let stranger = signed_in(&app, &chain.signer(BUYER)).await;
    let (status, created) =
        post(&app, &format!("/api/v1/unions/{du}/secrets"), Some(&owner), json!({"name": "beta"})).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let secret = created["secret"].as_str().unwrap().to_owned();
    let (_, listed) = get_as(&app, &format!("/api/v1/unions/{du}/secrets"), &owner).await;
    assert_eq!(listed["secrets"][0]["name"], "beta");
    assert_eq!(listed["secrets"][0].get("secret"), None, "a secret is shown once");

    // A non-owner is refused every owner action.
    for (path, body) in [
        (format!("/api/v1/unions/{du}/secrets"), json!({"name": "mine"})),
        (format!("/api/v1/unions/{du}/join-requests/{}/approve", chain.address(BUYER)), Value::Null),
        (format!("/api/v1/unions/{du}/members/{}/remove", chain.address(MEMBER)), Value::Null),
    ] {
        let (status, reply) = post(&app, &path, Some(&stranger), body).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}: {reply}");
        assert_eq!(reply["error"]["code"], "not_owner");
    }
    assert_eq!(get_as(&app, &format!("/api/v1/unions/{du}/join-requests"), &stranger).await.0, StatusCode::FORBIDDEN);

    // Three join with the secret, one waits for the owner.
    let members = [MEMBER, OTHER, 7, 8];
    for &account in &members[..3] {
        let body = join_body(du, &chain.signer(account), now(), Some(&secret));
        let (status, reply) = post(&app, &format!("/api/v1/unions/{du}/join-requests"), None, body.clone()).await;
        assert_eq!((status, reply["status"].as_str()), (StatusCode::CREATED, Some("approved")), "{reply}");
        let (status, replayed) = post(&app, &format!("/api/v1/unions/{du}/join-requests"), None, body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{replayed}");
    }
    let late = chain.address(members[3]);
    let stale = join_body(du, &chain.signer(members[3]), now() - 3600, None);
    let (status, reply) = post(&app, &format!("/api/v1/unions/{du}/join-requests"), None, stale).await;
    assert_eq!((status, reply["error"]["field"].as_str()), (StatusCode::BAD_REQUEST, Some("issuedAt")));
    let body = join_body(du, &chain.signer(members[3]), now(), None);
    let (status, reply) = post(&app, &format!("/api/v1/unions/{du}/join-requests"), None, body).await;
    assert_eq!((status, reply["status"].as_str()), (StatusCode::CREATED, Some("pending")), "{reply}");
    let (_, pending) = get_as(&app, &format!("/api/v1/unions/{du}/join-requests?status=pending"), &owner).await;
    assert_eq!(pending["requests"].as_array().unwrap().len(), 1, "{pending}");
    let (status, reply) =
        post(&app, &format!("/api/v1/unions/{du}/join-requests/{late}/approve"), Some(&owner), Value::Null).await;
    assert_eq!((status, reply["status"].as_str()), (StatusCode::OK, Some("approved")), "{reply}");

    for &account in &members {
        let member = chain.address(account);
        until(&app, &format!("/api/v1/unions/{du}/join-requests/{member}"), |r| r["status"] == "joined").await;
    }
    let union = until(&app, &format!("/api/v1/unions/{du}"), |u| u["activeMembers"] == 4).await;
    assert_eq!(union["activeMembers"], 4);

    // A buyer subscribes for 1000 s at 3 wei/s: 3000 wei, 300 to the owner, 675 to each member.
    let id = list_product(&app, "Story", du, U256::from(3u64)).await;
    fund_buyer(&app).await;
    send(chain.marketplace(BUYER).buy(id, U256::from(1000u64), U256::from(3u64), du)).await;

    // The server's operator commits once the purchase is confirmed.
    let first = chain.address(members[0]);
    let frozen = until(&app, &format!("/api/v1/unions/{du}/members/{first}"), |m| m["committed"] == "675").await;
    assert_eq!(
        [&frozen["earnings"], &frozen["frozen"], &frozen["withdrawable"]].map(|v| v.as_str().unwrap()),
        ["675", "675", "0"]
    );
    assert_eq!(frozen["proof"], Value::Null);

    chain.advance_time(FREEZE + 1).await;
    app.caught_up().await;
    for &account in &members {
        let member = chain.address(account);
        let figures = app.ok(&format!("/api/v1/unions/{du}/members/{member}")).await;
        assert_eq!([&figures["withdrawable"], &figures["frozen"]].map(|v| v.as_str().unwrap()), ["675", "0"]);
        assert!(figures["proof"]["proof"].is_array(), "{figures}");
    }
    assert_eq!(withdraw(&app, du, members[0]).await, U256::from(675u64));

    // The owner removes a member, who keeps its earnings and can still withdraw.
    let removed = chain.address(members[1]);
    let (status, reply) =
        post(&app, &format!("/api/v1/unions/{du}/members/{removed}/remove"), Some(&owner), Value::Null).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{reply}");
    until(&app, &format!("/api/v1/unions/{du}/members/{removed}"), |m| m["active"] == false).await;
    let request = app.ok(&format!("/api/v1/unions/{du}/join-requests/{removed}")).await;
    assert_eq!(request["status"], "parted");
    app.caught_up().await;
    assert_eq!(withdraw(&app, du, members[1]).await, U256::from(675u64));

    // Every commit checks out.
    app.caught_up().await;
    let validation = app.ok("/api/v1/validation").await;
    assert!(validation["checked"].as_u64().unwrap() >= 1, "{validation}");
    assert_eq!(validation["mismatches"], json!([]));
    let metrics = app.client.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("coop_validator_mismatches 0"), "{metrics}");
}
