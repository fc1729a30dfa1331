//! The server's join-part agent serves only the unions whose agent it is now: a union whose owner
//! removed it takes no new requests, keeps the approved ones waiting (nothing is sent, so nothing
//! reverts) and the other unions' joins go on meanwhile.

use alloy::primitives::{Address, U256};
use reqwest::StatusCode;
use serde_json::json;

use crate::chain::{AGENT, MEMBER, OTHER, OWNER, send};
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
