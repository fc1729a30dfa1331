//! The server's join-part agent serves only the unions whose agent it is now: a union whose owner
//! removed it keeps its approved requests waiting (nothing is sent, so nothing reverts), and the
//! other unions' joins go on meanwhile.

use alloy::primitives::U256;
use reqwest::StatusCode;
use serde_json::json;

use crate::chain::{AGENT, MEMBER, OWNER, send};
use crate::helpers::spawn_app_with_roles;
use crate::story::{join_body, now, post, signed_in, until};

#[tokio::test]
async fn a_union_that_removed_the_servers_agent_waits_while_the_others_go_on() {
    let app = spawn_app_with_roles().await;
    let chain = app.chain();
    let (first, second) = (chain.create_data_union(U256::ZERO, 0).await, chain.create_data_union(U256::ZERO, 0).await);
    // The agent goes through the unions in address order: the one it no longer serves comes first,
    // so a step that stopped there would never reach the other.
    let (removed, served) = (first.min(second), first.max(second));
    send(chain.du(removed, OWNER).removeJoinPartAgent(chain.address(AGENT))).await;
    app.caught_up().await;

    let owner = signed_in(&app, &chain.signer(OWNER)).await;
    let member = chain.signer(MEMBER);
    for du in [removed, served] {
        let (status, created) =
            post(&app, &format!("/api/v1/unions/{du}/secrets"), Some(&owner), json!({ "name": "invite" })).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        let secret = created["secret"].as_str().unwrap();
        let (status, filed) = post(
            &app,
            &format!("/api/v1/unions/{du}/join-requests"),
            None,
            join_body(du, &member, now(), Some(secret)),
        )
        .await;
        assert!(status.is_success(), "{filed}");
    }

    let address = member.address();
    until(&app, &format!("/api/v1/unions/{served}/members/{address}"), |m| m["active"] == true).await;
    let request = app.ok(&format!("/api/v1/unions/{removed}/join-requests/{address}")).await;
    assert_eq!(request["status"], "approved", "waits for an agent: {request}");
    assert!(!chain.du(removed, OWNER).isMember(address).call().await.unwrap());

    // Once the owner adds the agent back, the waiting request goes through.
    send(chain.du(removed, OWNER).addJoinPartAgent(chain.address(AGENT))).await;
    until(&app, &format!("/api/v1/unions/{removed}/members/{address}"), |m| m["active"] == true).await;
}
