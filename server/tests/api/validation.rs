//! The validator against a commit whose root the events do not give: reported in the API and the
//! metrics; a correct commit is checked and not reported.

use alloy::primitives::{B256, U256};
use serde_json::Value;

use crate::chain::{AGENT, MEMBER, OPERATOR, send};
use crate::helpers::spawn_app_with_contracts;

#[tokio::test]
async fn a_commit_whose_root_differs_from_the_rebuilt_book_is_reported_and_a_right_one_is_not() {
    let app = spawn_app_with_contracts().await;
    let chain = app.chain();
    let du = chain.create_data_union(U256::ZERO, 0).await;
    send(chain.du(du, AGENT).addMembers(vec![chain.address(MEMBER)])).await;
    chain.mint_data(du, U256::from(100u64)).await;
    app.caught_up().await;
    let block = chain.block_number().await;
    let served = app.ok(&format!("/api/v1/unions/{du}/books/{block}")).await;
    let hash = |name: &str| -> B256 { served[name].as_str().unwrap().parse().unwrap() };
    let (root, book_hash) = (hash("root"), hash("bookHash"));

    send(chain.du(du, OPERATOR).commit(U256::from(block), chain.block_hash(block).await, root, book_hash)).await;
    app.caught_up().await;
    let validation = app.ok("/api/v1/validation").await;
    assert_eq!((validation["checked"].as_u64(), &validation["mismatches"]), (Some(1), &Value::Array(vec![])));

    chain.mint_data(du, U256::from(50u64)).await;
    let later = chain.block_number().await;
    let hash = chain.block_hash(later).await;
    send(chain.du(du, OPERATOR).commit(U256::from(later), hash, B256::repeat_byte(0xab), book_hash)).await;
    app.caught_up().await;
    let validation = app.ok("/api/v1/validation").await;
    assert_eq!(validation["checked"].as_u64(), Some(2), "{validation}");
    let mismatches = validation["mismatches"].as_array().unwrap();
    assert_eq!(mismatches.len(), 1, "{validation}");
    assert_eq!(mismatches[0]["bookBlock"].as_u64(), Some(later));
    assert_eq!(mismatches[0]["committedRoot"].as_str().unwrap().parse::<B256>().unwrap(), B256::repeat_byte(0xab));
    assert_ne!(mismatches[0]["rebuiltRoot"], Value::Null);

    let metrics = app.client.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("coop_validator_checked 2\n"), "{metrics}");
    assert!(metrics.contains("coop_validator_mismatches 1\n"), "{metrics}");
}
