//! Join requests that must be refused, each with its code and field, changing nothing.

use alloy::primitives::{Address, U256, hex};
use alloy::signers::SignerSync;
use alloy::signers::local::PrivateKeySigner;
use coop_server::joins::join_message;
use reqwest::StatusCode;
use serde_json::{Value, json};

use alloy::providers::ext::AnvilApi;

use crate::auth::OwnedWallet;
use crate::chain::{DEPLOYER, MEMBER, OTHER, OWNER, send};
use crate::faulty_rpc::Fault;
use crate::helpers::{spawn_app_behind, spawn_app_with_contracts};
use crate::story::{get_as, join_body, now, post, signed_in};

#[tokio::test]
async fn bad_join_requests_are_refused_naming_the_field_and_owner_actions_need_a_sign_in() {
    let app = spawn_app_with_contracts().await;
    let chain = app.chain();
    let du = chain.create_data_union(U256::ZERO, 0).await;
    app.caught_up().await;
    let path = format!("/api/v1/unions/{du}/join-requests");
    let member = chain.signer(MEMBER);

    let mut by_other = join_body(du, &chain.signer(OTHER), now(), None);
    by_other["member"] = json!(member.address());
    let mut malformed = join_body(du, &member, now(), None);
    malformed["signature"] = json!("0x12z4");
    let unknown_secret = join_body(du, &member, now(), Some(&format!("{:#x}", U256::from(7u64))));
    let bad_secret = join_body(du, &member, now(), Some("nope"));
    let future = join_body(du, &member, now() + 3600, None);
    for (body, code, field) in [
        (by_other, "bad_signature", "signature"),
        (malformed, "malformed_signature", "signature"),
        (unknown_secret, "malformed_secret", "secret"),
        (bad_secret, "malformed_secret", "secret"),
        (future, "stale_request", "issuedAt"),
        (json!({"member": member.address()}), "invalid_body", "body"),
        (json!([member.address(), now(), "0x00", null]), "invalid_body", "body"),
    ] {
        let (status, reply) = post(&app, &path, None, body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {reply}");
        assert_eq!((reply["error"]["code"].as_str(), reply["error"]["field"].as_str()), (Some(code), Some(field)));
    }
    let secret = format!("0x{}", "11".repeat(32));
    let (status, reply) = post(&app, &path, None, join_body(du, &member, now(), Some(&secret))).await;
    assert_eq!((status, reply["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("unknown_secret")));

    let nowhere = Address::repeat_byte(0x42);
    let (status, _) =
        post(&app, &format!("/api/v1/unions/{nowhere}/join-requests"), None, join_body(nowhere, &member, now(), None))
            .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // A good request, but this server has no join-part agent to carry it out.
    let (status, reply) = post(&app, &path, None, join_body(du, &member, now(), None)).await;
    assert_eq!((status, reply["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("no_join_agent")), "{reply}");
    let reply = app.get(&format!("/api/v1/unions/{du}/join-requests/{}", member.address())).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND, "nothing was filed: {}", reply.body);
    // The owner's list says so too: no agent here to add anyone.
    let (status, list) = get_as(&app, &path, &signed_in(&app, &chain.signer(OWNER)).await).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!((list["requests"].as_array().map(Vec::len), &list["agent"]), (Some(0), &Value::Null), "{list}");

    let (status, reply) = post(&app, &format!("/api/v1/unions/{du}/secrets"), None, json!({"name": "x"})).await;
    assert_eq!((status, reply["error"]["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("not_signed_in")));
    assert_eq!(app.get(&format!("/api/v1/unions/{du}/join-requests")).await.status, StatusCode::UNAUTHORIZED);
}

/// A member whose account is a contract (a Safe, say) joins with a signature its contract approves
/// (EIP-1271); a signature it does not approve is refused.
#[tokio::test]
async fn a_smart_contract_account_files_a_join_request_its_contract_approves() {
    let app = spawn_app_with_contracts().await;
    let chain = app.chain();
    let du = chain.create_data_union(U256::ZERO, 0).await;
    app.caught_up().await;
    let key = PrivateKeySigner::random();
    let account = *OwnedWallet::deploy(chain.wallet(DEPLOYER), key.address()).await.unwrap().address();
    let body = |signer: &PrivateKeySigner| {
        let issued_at = now();
        let message = join_message(du, account, 31337, issued_at);
        let signature = hex::encode_prefixed(signer.sign_message_sync(message.as_bytes()).unwrap().as_bytes());
        json!({ "member": account, "issuedAt": issued_at, "signature": signature })
    };
    let path = format!("/api/v1/unions/{du}/join-requests");

    let (status, reply) = post(&app, &path, None, body(&PrivateKeySigner::random())).await;
    assert_eq!((status, reply["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("bad_signature")), "{reply}");
    let (status, reply) = post(&app, &path, None, body(&key)).await;
    // Past the signature: only the missing join-part agent stops it here.
    assert_eq!((status, reply["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("no_join_agent")), "{reply}");
}

#[tokio::test]
async fn a_deposed_owner_is_refused_by_a_replica_that_has_not_indexed_the_transfer_yet() {
    // The replica's models stand this many blocks behind the head.
    const LAG: u64 = 10;
    let app = spawn_app_behind(Fault::LaggingLogs(LAG)).await;
    let chain = app.chain();
    let du = chain.create_data_union(U256::ZERO, 0).await;
    chain.wallet(DEPLOYER).anvil_mine(Some(LAG + 1), None).await.unwrap();
    let union = format!("/api/v1/unions/{du}");
    let mut indexed = false;
    for _ in 0..600 {
        indexed = app.get(&union).await.status == StatusCode::OK;
        if indexed {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(indexed, "the replica indexed the union: {}", app.get(&union).await.body);
    // OWNER hands the union to OTHER; the replica's logs are blocks behind, so its models still
    // name OWNER.
    send(chain.du(du, OWNER).transferOwnership(chain.address(OTHER))).await;
    send(chain.du(du, OTHER).acceptOwnership()).await;
    chain.wallet(DEPLOYER).anvil_mine(Some(3), None).await.unwrap();
    let stale = app.ok(&format!("/api/v1/unions/{du}")).await;
    assert_eq!(stale["owner"].as_str().unwrap().parse::<Address>().unwrap(), chain.address(OWNER));

    let deposed = signed_in(&app, &chain.signer(OWNER)).await;
    let (status, reply) =
        post(&app, &format!("/api/v1/unions/{du}/secrets"), Some(&deposed), json!({"name": "x"})).await;
    assert_eq!((status, reply["error"]["code"].as_str()), (StatusCode::FORBIDDEN, Some("not_owner")), "{reply}");
    let owner = signed_in(&app, &chain.signer(OTHER)).await;
    let (status, reply) = post(&app, &format!("/api/v1/unions/{du}/secrets"), Some(&owner), json!({"name": "x"})).await;
    assert_eq!(status, StatusCode::CREATED, "{reply}");
}

/// One member may have 20 requests waiting across unions; the 21st is refused and stored nowhere.
/// The owner's list of requests is paged.
#[tokio::test]
async fn a_members_waiting_requests_are_bounded_and_the_owners_list_is_paged() {
    let app = crate::helpers::spawn_app_with_roles().await;
    let chain = app.chain();
    let mut unions = Vec::new();
    for _ in 0..21 {
        unions.push(chain.create_data_union(U256::ZERO, 0).await);
    }
    app.caught_up().await;
    let member = PrivateKeySigner::random();
    let app = &app;
    let file = |du: Address, signer: &PrivateKeySigner| {
        let body = join_body(du, signer, now(), None);
        async move { post(app, &format!("/api/v1/unions/{du}/join-requests"), None, body).await }
    };

    for &du in &unions[..20] {
        let (status, reply) = file(du, &member).await;
        assert_eq!((status, reply["status"].as_str()), (StatusCode::CREATED, Some("pending")), "{reply}");
    }
    let (status, reply) = file(unions[20], &member).await;
    assert_eq!((status, reply["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("quota_exceeded")), "{reply}");
    let missing = app.get(&format!("/api/v1/unions/{}/join-requests/{}", unions[20], member.address())).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND, "nothing was filed: {}", missing.body);

    for _ in 0..2 {
        let (status, _) = file(unions[0], &PrivateKeySigner::random()).await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let owner = signed_in(app, &chain.signer(OWNER)).await;
    let path = format!("/api/v1/unions/{}/join-requests", unions[0]);
    let (_, first) = get_as(app, &format!("{path}?limit=2"), &owner).await;
    let (_, rest) = get_as(app, &format!("{path}?offset=2&limit=2"), &owner).await;
    assert_eq!((first["total"].as_u64(), first["requests"].as_array().map(Vec::len)), (Some(3), Some(2)), "{first}");
    assert_eq!((rest["offset"].as_u64(), rest["requests"].as_array().map(Vec::len)), (Some(2), Some(1)), "{rest}");
    // The two pages hold the three requests, each once.
    let mut listed: Vec<String> = [&first, &rest]
        .iter()
        .flat_map(|page| page["requests"].as_array().unwrap().iter())
        .map(|request| request["member"].as_str().unwrap().to_lowercase())
        .collect();
    listed.sort();
    listed.dedup();
    assert_eq!(listed.len(), 3, "{first} {rest}");
    assert!(listed.contains(&format!("{:#x}", member.address())), "{listed:?}");
}
