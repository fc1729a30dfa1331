//! Relayed withdrawals: a member without ETH signs, the server's relayer sends and takes the fee.

use alloy::primitives::{Address, U256};
use alloy::signers::SignerSync;
use alloy::sol_types::SolStruct;
use coop::contracts::{Withdrawal, withdrawal_domain};
use coop_server::config::Secret;
use serde_json::{Value, json};

use crate::chain::{AGENT, MEMBER, OPERATOR, send, tokens};
use crate::helpers::{TestApp, spawn_app_with_contracts, spawn_app_with_contracts_configured};

/// anvil's account 7 (from its default mnemonic): the relayer here.
const RELAYER_KEY: &str = "0x4bbbf85ce3377467afe5d46f804f221813b2bb87f24d81f60f1fcdbf7cbf4356";
const RELAYER: usize = 7;

/// A union where `MEMBER` has 10 DATA withdrawable with a commit the server serves the proof of.
async fn withdrawable(app: &TestApp) -> Address {
    let chain = app.chain();
    let du = chain.create_data_union(U256::ZERO, 0).await;
    send(chain.du(du, AGENT).addMembers(vec![chain.address(MEMBER)])).await;
    chain.mint_data(du, tokens(10)).await;
    app.caught_up().await;
    let block = chain.block_number().await;
    let book = app.ok(&format!("/api/v1/unions/{du}/books/{block}")).await;
    let (root, book_hash) = (book["root"].as_str().unwrap(), book["bookHash"].as_str().unwrap());
    let hash = chain.block_hash(block).await;
    send(chain.du(du, OPERATOR).commit(U256::from(block), hash, root.parse().unwrap(), book_hash.parse().unwrap()))
        .await;
    chain.advance_time(1).await;
    app.caught_up().await;
    du
}

async fn post(app: &TestApp, path: &str, body: Value) -> (u16, Value) {
    let response = app.client.post(app.url(path)).json(&body).send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

fn wei(value: &Value) -> U256 {
    value.as_str().unwrap_or_else(|| panic!("{value} is not a decimal string")).parse().unwrap()
}

#[tokio::test]
async fn a_member_without_eth_withdraws_through_the_relayer_which_takes_only_the_signed_fee() {
    let app = spawn_app_with_contracts_configured(|config| config.relayer_key = Some(Secret::new(RELAYER_KEY))).await;
    let chain = app.chain();
    let du = withdrawable(&app).await;
    let member = chain.address(MEMBER);
    let path = format!("/api/v1/unions/{du}/members/{member}/relay");

    let quote = app.ok(&path).await;
    assert_eq!(quote["relayer"].as_str().unwrap().parse::<Address>().unwrap(), chain.address(RELAYER));
    assert_eq!((wei(&quote["withdrawable"]), wei(&quote["nonce"])), (tokens(10), U256::ZERO));
    let fee = wei(&quote["fee"]);
    assert!(fee > U256::ZERO && fee < tokens(1), "the fee pays the gas at the pool's price: {fee}");

    let deadline = chain.timestamp().await + 600;
    let withdrawal = Withdrawal { member, recipient: member, fee, nonce: U256::ZERO, deadline: U256::from(deadline) };
    let digest = withdrawal.eip712_signing_hash(&withdrawal_domain(31_337, du));
    let signature = chain.signer(MEMBER).sign_hash_sync(&digest).unwrap().to_string();
    let body = |fee: U256, signature: &str| json!({ "recipient": member.to_checksum(None), "fee": fee.to_string(), "deadline": deadline, "signature": signature });

    // A fee under the quote, someone else's signature, a malformed one: refused, naming the field.
    let (status, error) = post(&app, &path, body(fee - U256::from(1), &signature)).await;
    assert_eq!(
        (status, error["error"]["code"].as_str(), error["error"]["field"].as_str()),
        (400, Some("fee_too_low"), Some("fee"))
    );
    let foreign = chain.signer(RELAYER).sign_hash_sync(&digest).unwrap().to_string();
    let (status, error) = post(&app, &path, body(fee, &foreign)).await;
    assert_eq!((status, error["error"]["code"].as_str()), (400, Some("bad_signature")));
    let (status, error) = post(&app, &path, body(fee, "0x1234")).await;
    assert_eq!((status, error["error"]["code"].as_str()), (400, Some("malformed_signature")));
    // What the union itself would refuse (a deadline passed) is answered by the dry run.
    let stale = Withdrawal { deadline: U256::from(deadline - 1200), ..withdrawal.clone() };
    let digest = stale.eip712_signing_hash(&withdrawal_domain(31_337, du));
    let stale_signature = chain.signer(MEMBER).sign_hash_sync(&digest).unwrap().to_string();
    let stale_body = json!({
        "recipient": member.to_checksum(None), "fee": fee.to_string(), "deadline": deadline - 1200, "signature": stale_signature
    });
    let (status, error) = post(&app, &path, stale_body).await;
    assert_eq!((status, error["error"]["code"].as_str()), (409, Some("relay_failed")), "{error}");
    assert!(error["error"]["message"].as_str().unwrap().contains("SignatureExpired"), "{error}");
    assert_eq!(chain.du(du, MEMBER).withdrawn(member).call().await.unwrap(), U256::ZERO, "nothing moved");

    let before = (chain.data_balance(member).await, chain.data_balance(chain.address(RELAYER)).await);
    let eth_before = chain.eth_balance(member).await;
    let (status, relayed) = post(&app, &path, body(fee, &signature)).await;
    assert_eq!(status, 202, "{relayed}");
    assert_eq!((wei(&relayed["amount"]), wei(&relayed["fee"])), (tokens(10) - fee, fee));
    // While it is on its way, a second one is refused rather than sent to revert.
    let (status, error) = post(&app, &path, body(fee, &signature)).await;
    assert!(status == 409 || status == 400, "{status} {error}");

    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while chain.data_balance(member).await == before.0 {
        assert!(std::time::Instant::now() < deadline, "the relayed withdrawal was not mined within 30 s");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(chain.data_balance(member).await - before.0, tokens(10) - fee);
    assert_eq!(chain.data_balance(chain.address(RELAYER)).await - before.1, fee);
    assert_eq!(chain.eth_balance(member).await, eth_before, "the member spent no ETH");

    app.caught_up().await;
    let reply = app.get(&path).await;
    assert_eq!((reply.status.as_u16(), reply.error().0), (409, "nothing_to_withdraw"));
}

#[tokio::test]
async fn a_server_without_a_relayer_says_so() {
    let app = spawn_app_with_contracts().await;
    let du = withdrawable(&app).await;
    let member = app.chain().address(MEMBER);
    let reply = app.get(&format!("/api/v1/unions/{du}/members/{member}/relay")).await;
    assert_eq!((reply.status.as_u16(), reply.error().0), (409, "not_served"));
}
