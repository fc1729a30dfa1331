//! The server's join-part agent serves only the unions whose agent it is now: a union whose owner
//! removed it takes no new requests, keeps the approved ones waiting (nothing is sent, so nothing
//! reverts) and the other unions' joins go on meanwhile.

use alloy::primitives::{Address, U256};
use alloy::providers::Provider;
use alloy::providers::ext::AnvilApi;
use alloy::signers::local::PrivateKeySigner;
use reqwest::StatusCode;
use serde_json::json;

use crate::chain::{AGENT, DEPLOYER, MEMBER, OTHER, OWNER, send};
use crate::helpers::spawn_app_with_roles;
use crate::story::{get_as, join_body, now, post, signed_in, until};

#[tokio::test]
async fn a_union_that_removed_the_servers_agent_waits_while_the_others_go_on() {
    let app = spawn_app_with_roles().await;
    let chain = app.chain();
    let (first, second) = (chain.create_data_union(U256::ZERO, 0).await, chain.create_data_union(U256::ZERO, 0).await);
    // The agent goes through the unions in address order: the one it no longer serves comes first,
    // so a step that stopped there would never reach the other.
    let (removed, served) = (first.min(second), first.max(second));
    app.caught_up().await;
    let owner = signed_in(&app, &chain.signer(OWNER)).await;
    let member = chain.signer(MEMBER);
    let address = member.address();
    let join = |du: Address, secret: Option<String>| {
        let body = join_body(du, &member, now(), secret.as_deref());
        let app = &app;
        async move { post(app, &format!("/api/v1/unions/{du}/join-requests"), None, body).await }
    };

    // Asked while the agent served it; the owner removes the agent, then approves.
    let (status, filed) = join(removed, None).await;
    assert_eq!(status, StatusCode::CREATED, "{filed}");
    send(chain.du(removed, OWNER).removeJoinPartAgent(chain.address(AGENT))).await;
    let (status, approved) =
        post(&app, &format!("/api/v1/unions/{removed}/join-requests/{address}/approve"), Some(&owner), json!({})).await;
    assert!(status.is_success(), "{approved}");
    // The owner's list says why it waits.
    let requests = format!("/api/v1/unions/{removed}/join-requests");
    let (status, list) = get_as(&app, &requests, &owner).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(list["agent"], json!({ "address": chain.address(AGENT), "isUnionAgent": false }), "{list}");
    // A new request there is refused up front: this server could not carry it out.
    let other = chain.signer(OTHER);
    let body = join_body(removed, &other, now(), None);
    let (status, refused) = post(&app, &format!("/api/v1/unions/{removed}/join-requests"), None, body).await;
    assert_eq!((status, refused["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("not_served")), "{refused}");

    let (status, created) =
        post(&app, &format!("/api/v1/unions/{served}/secrets"), Some(&owner), json!({ "name": "invite" })).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let (status, filed) = join(served, created["secret"].as_str().map(str::to_owned)).await;
    assert_eq!(status, StatusCode::CREATED, "{filed}");
    until(&app, &format!("/api/v1/unions/{served}/members/{address}"), |m| m["active"] == true).await;
    let request = app.ok(&format!("/api/v1/unions/{removed}/join-requests/{address}")).await;
    assert_eq!(request["status"], "approved", "waits for an agent: {request}");
    assert!(!chain.du(removed, OWNER).isMember(address).call().await.unwrap());

    // Once the owner adds the agent back, the waiting request goes through.
    send(chain.du(removed, OWNER).addJoinPartAgent(chain.address(AGENT))).await;
    until(&app, &format!("/api/v1/unions/{removed}/members/{address}"), |m| m["active"] == true).await;
    assert_eq!(get_as(&app, &requests, &owner).await.1["agent"]["isUnionAgent"], true);
}

/// A union served by the server's agent, a secret of it, and the owner's session.
async fn served_union(app: &crate::helpers::TestApp) -> (Address, String, String) {
    let chain = app.chain();
    let du = chain.create_data_union(U256::ZERO, 0).await;
    app.caught_up().await;
    let owner = signed_in(app, &chain.signer(OWNER)).await;
    let (status, created) =
        post(app, &format!("/api/v1/unions/{du}/secrets"), Some(&owner), json!({ "name": "invite" })).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    (du, owner, created["secret"].as_str().unwrap().to_owned())
}

/// Files `member`'s join request to `du` with `secret`, which approves it.
async fn file_with_secret(app: &crate::helpers::TestApp, du: Address, member: &PrivateKeySigner, secret: &str) {
    let body = join_body(du, member, now(), Some(secret));
    let (status, filed) = post(app, &format!("/api/v1/unions/{du}/join-requests"), None, body).await;
    assert_eq!(status, StatusCode::CREATED, "{filed}");
}

#[tokio::test]
async fn a_removed_member_can_ask_to_join_again() {
    let app = spawn_app_with_roles().await;
    let chain = app.chain();
    let (du, owner, secret) = served_union(&app).await;
    let member = chain.signer(MEMBER);
    file_with_secret(&app, du, &member, &secret).await;
    let request = format!("/api/v1/unions/{du}/join-requests/{}", member.address());
    until(&app, &request, |r| r["status"] == "joined").await;
    let (status, removed) =
        post(&app, &format!("/api/v1/unions/{du}/members/{}/remove", member.address()), Some(&owner), json!(null))
            .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{removed}");
    until(&app, &request, |r| r["status"] == "parted").await;

    let (status, again) =
        post(&app, &format!("/api/v1/unions/{du}/join-requests"), None, join_body(du, &member, now() + 1, None)).await;

    assert_eq!((status, again["status"].as_str()), (StatusCode::CREATED, Some("pending")), "{again}");
    let (status, approved) = post(&app, &format!("{request}/approve"), Some(&owner), json!({})).await;
    assert!(status.is_success(), "{approved}");
    until(&app, &format!("/api/v1/unions/{du}/members/{}", member.address()), |m| m["active"] == true).await;
    // Two joins and a part: the agent's gas is accounted.
    let metrics = app.client.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    let spent = metrics.lines().find_map(|line| line.strip_prefix("coop_gas_spent_gwei{key=\"agent\"} "));
    assert!(spent.is_some_and(|gwei| gwei.parse::<u64>().unwrap() > 0), "{metrics}");
}

#[tokio::test]
async fn a_join_that_a_reorg_took_out_of_the_chain_is_sent_again() {
    let app = spawn_app_with_roles().await;
    let chain = app.chain();
    let rpc = chain.wallet(DEPLOYER);
    let (du, _owner, secret) = served_union(&app).await;
    let member = chain.signer(MEMBER);
    let before_the_join = rpc.anvil_snapshot().await.unwrap();
    file_with_secret(&app, du, &member, &secret).await;
    // Wait for the join to be indexed, without mining: it stays unconfirmed.
    let figures = format!("/api/v1/unions/{du}/members/{}", member.address());
    for _ in 0..600 {
        if app.get(&figures).await.body["active"] == true {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(app.ok(&figures).await["active"], true);

    // A longer fork without the join.
    assert!(rpc.anvil_revert(before_the_join).await.unwrap());
    rpc.anvil_mine(Some(4), None).await.unwrap();
    let fork_head = chain.block_number().await;

    // Once the server has followed the fork, its agent sends the join again.
    until(&app, &figures, |f| f["asOfBlock"].as_u64() > Some(fork_head) && f["active"] == true).await;
    assert!(chain.du(du, OWNER).isMember(member.address()).call().await.unwrap(), "on the chain that stayed");
    let request = format!("/api/v1/unions/{du}/join-requests/{}", member.address());
    until(&app, &request, |r| r["status"] == "joined").await;
}

#[tokio::test]
async fn a_rejection_racing_a_join_in_flight_is_refused_and_the_join_completes() {
    let app = spawn_app_with_roles().await;
    let chain = app.chain();
    let rpc = chain.wallet(DEPLOYER);
    let (du, owner, secret) = served_union(&app).await;
    let member = chain.signer(MEMBER);
    let request = format!("/api/v1/unions/{du}/join-requests/{}", member.address());
    // Transactions wait in the pool until a block is mined by hand.
    rpc.anvil_set_auto_mine(false).await.unwrap();
    file_with_secret(&app, du, &member, &secret).await;
    let mut pending = 0;
    for _ in 0..200 {
        let pool: serde_json::Value = rpc.raw_request("txpool_status".into(), ()).await.unwrap();
        pending = u64::from_str_radix(pool["pending"].as_str().unwrap().trim_start_matches("0x"), 16).unwrap();
        if pending > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(pending, 1, "the agent's addMembers waits in the pool");

    let (status, refused) = post(&app, &format!("{request}/reject"), Some(&owner), json!({})).await;

    assert_eq!((status, refused["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("not_decidable")), "{refused}");
    assert_eq!(app.ok(&request).await["status"], "sent");
    rpc.anvil_set_auto_mine(true).await.unwrap();
    until(&app, &request, |r| r["status"] == "joined").await;
    assert!(chain.du(du, OWNER).isMember(member.address()).call().await.unwrap());
}
