//! Bad input on every read endpoint: a 400 whose `field` names the parameter; unknown things: a 404.
//! Never a 500, and every answer still says the block it is as of.

use alloy::primitives::{Address, B256, U256};

use crate::chain::{AGENT, MEMBER, OTHER, OWNER, send};
use crate::helpers::spawn_app_with_contracts;

#[tokio::test]
async fn bad_input_is_a_400_naming_the_field_and_unknown_things_are_404s() {
    let app = spawn_app_with_contracts().await;
    let chain = app.chain();
    let du = chain.create_data_union(U256::ZERO, 0).await;
    send(chain.du(du, AGENT).addMembers(vec![chain.address(MEMBER)])).await;
    let id = chain.create_product(OWNER, "Weather", du, U256::from(2u64), U256::ZERO).await;
    app.caught_up().await;
    let head = chain.block_number().await;
    let bad_checksum = wrong_checksum(&chain.address(MEMBER).to_checksum(None));
    let stranger = Address::repeat_byte(0x99);
    let unknown_id = B256::repeat_byte(0x42);
    let quote = |rest: &str| format!("/api/v1/quotes?product={id}&{rest}");

    let cases: Vec<(String, u16, &str, Option<&str>)> = vec![
        ("/api/v1/unions/0x123".into(), 400, "invalid_address", Some("address")),
        (format!("/api/v1/unions/{bad_checksum}"), 400, "bad_checksum", Some("address")),
        ("/api/v1/unions?limit=0".into(), 400, "out_of_range", Some("limit")),
        ("/api/v1/unions?limit=1001".into(), 400, "out_of_range", Some("limit")),
        ("/api/v1/unions?offset=-1".into(), 400, "invalid_integer", Some("offset")),
        ("/api/v1/unions?limit=ten".into(), 400, "invalid_integer", Some("limit")),
        ("/api/v1/unions?owner=nobody".into(), 400, "invalid_address", Some("owner")),
        (format!("/api/v1/unions/{du}/members?status=gone"), 400, "invalid_choice", Some("status")),
        (format!("/api/v1/unions/{du}/members?search=xyz"), 400, "invalid_search", Some("search")),
        (format!("/api/v1/unions/{du}/members?limit=2.5"), 400, "invalid_integer", Some("limit")),
        (format!("/api/v1/unions/{du}/members/nope"), 400, "invalid_address", Some("member")),
        (format!("/api/v1/unions/{du}/books/abc"), 400, "invalid_integer", Some("block")),
        (format!("/api/v1/unions/{du}/books/-1"), 400, "invalid_integer", Some("block")),
        (format!("/api/v1/unions/{du}/books/99999999999999999999"), 400, "out_of_range", Some("block")),
        ("/api/v1/products/0x12".into(), 400, "invalid_product_id", Some("id")),
        ("/api/v1/products?sort=cheap".into(), 400, "invalid_choice", Some("sort")),
        ("/api/v1/products?owner=0xzz".into(), 400, "invalid_address", Some("owner")),
        ("/api/v1/subscriptions".into(), 400, "missing_parameter", Some("subscriber")),
        ("/api/v1/subscriptions?subscriber=0x1".into(), 400, "invalid_address", Some("subscriber")),
        ("/api/v1/quotes?seconds=5".into(), 400, "missing_parameter", Some("product")),
        ("/api/v1/quotes?product=weather&seconds=5".into(), 400, "invalid_product_id", Some("product")),
        (quote("currency=ETH"), 400, "missing_parameter", Some("seconds")),
        (quote("seconds=-5&currency=ETH"), 400, "invalid_amount", Some("seconds")),
        (quote("seconds=1.5&currency=ETH"), 400, "invalid_amount", Some("seconds")),
        (quote("seconds=1e3&currency=ETH"), 400, "invalid_amount", Some("seconds")),
        (quote("seconds=0&currency=ETH"), 400, "out_of_range", Some("seconds")),
        (quote("seconds=5&currency=BTC"), 400, "invalid_choice", Some("currency")),
        (quote(&format!("seconds={}&currency=ETH", U256::MAX)), 400, "out_of_range", Some("seconds")),
        (
            quote(&format!("seconds={}&currency=ETH", U256::from(10u64).pow(U256::from(40)))),
            400,
            "insufficient_liquidity",
            Some("seconds"),
        ),
        (format!("/api/v1/unions/{stranger}"), 404, "not_found", None),
        (format!("/api/v1/unions/{stranger}/members"), 404, "not_found", None),
        (format!("/api/v1/unions/{du}/members/{}", chain.address(OTHER)), 404, "not_found", None),
        (format!("/api/v1/unions/{du}/books/{}", head + 1000), 404, "not_found", None),
        (format!("/api/v1/unions/{du}/books/1"), 404, "not_found", None),
        (format!("/api/v1/products/{unknown_id}"), 404, "not_found", None),
        (format!("/api/v1/quotes?product={unknown_id}&seconds=5&currency=DAI"), 404, "not_found", None),
    ];

    for (path, status, code, field) in cases {
        let reply = app.get(&path).await;

        assert_eq!(reply.status.as_u16(), status, "{path}: {}", reply.body);
        assert_eq!(reply.error(), (code, field), "{path}: {}", reply.body);
        assert!(!reply.body["error"]["message"].as_str().unwrap().is_empty(), "{path}");
        assert_eq!(reply.as_of_header(), head, "{path}");
    }
}

/// The address with the case of its first hex letter flipped: mixed case that fails EIP-55.
fn wrong_checksum(checksummed: &str) -> String {
    let at = checksummed[2..].find(|c: char| c.is_ascii_alphabetic()).expect("a hex letter") + 2;
    let flipped = checksummed[at..=at]
        .chars()
        .map(|c| if c.is_ascii_uppercase() { c.to_ascii_lowercase() } else { c.to_ascii_uppercase() });
    format!("{}{}{}", &checksummed[..at], flipped.collect::<String>(), &checksummed[at + 1..])
}

#[tokio::test]
async fn a_deleted_product_cannot_be_quoted() {
    let app = spawn_app_with_contracts().await;
    let chain = app.chain();
    let id = chain.create_product(OWNER, "Weather", chain.address(OTHER), U256::from(1u64), U256::ZERO).await;
    send(chain.marketplace(OWNER).deleteProduct(id)).await;
    app.caught_up().await;

    let reply = app.get(&format!("/api/v1/quotes?product={id}&seconds=60&currency=DATA")).await;

    assert_eq!(reply.status.as_u16(), 409, "{}", reply.body);
    assert_eq!(reply.error(), ("product_not_listed", None));
}

/// What the API document says holds at the edges: a parameter sent empty is not absent (`owner=` is
/// no address), and a path under `/api` that names no route is the API's JSON 404, not the web
/// app's page.
#[tokio::test]
async fn empty_parameters_huge_blocks_and_unknown_api_paths_are_answered_as_documented() {
    let app = crate::helpers::spawn_app_with_contracts().await;
    let du = app.chain().create_data_union(U256::ZERO, 0).await;
    app.caught_up().await;

    for (path, field) in [
        ("/api/v1/unions?owner=", "owner"),
        ("/api/v1/products?beneficiary=", "beneficiary"),
        ("/api/v1/products?limit=", "limit"),
        ("/api/v1/products?sort=", "sort"),
    ] {
        let reply = app.get(path).await;
        assert_eq!((reply.status.as_u16(), reply.error().1), (400, Some(field)), "{path}: {}", reply.body);
    }
    assert_eq!(app.get("/api/v1/products?q=").await.status, 200, "empty free text is no search");
    assert_eq!(app.get(&format!("/api/v1/unions/{du}/members?search=")).await.status, 200);
    for path in ["/api/v1/products/", "/api/v1/nothing/here", "/api/v2/unions"] {
        let reply = app.get(path).await;
        assert_eq!((reply.status.as_u16(), reply.error().0), (404, "not_found"), "{path}");
    }
}

/// The pages' server functions are open to anyone too: arguments that do not parse (an address that
/// is not one, a number that is text) are the sender's mistake, a 400 that says so, never a 500.
#[tokio::test]
async fn a_server_function_given_arguments_it_cannot_read_answers_400() {
    let app = spawn_app_with_contracts().await;
    let client = reqwest::Client::new();
    let cases = [
        ("/api/unions/history", "union=0x12"),
        ("/api/unions/members", "union=0x0000000000000000000000000000000000000001&query[offset]=many"),
        ("/api/get_product", "id=weather"),
        ("/api/unions/memberships", ""),
    ];
    for (path, body) in cases {
        let response = client
            .post(app.url(path))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        assert_eq!(status, 400, "POST {path} {body:?}: {text}");
        let error: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(error["code"], "bad_request", "{text}");
        let detail = error["detail"].as_str().unwrap();
        assert!(
            detail.starts_with("the arguments cannot be read: "),
            "the answer says the arguments are wrong: {text}"
        );
    }
}

/// A server function's refusal comes with the status the REST API would give it, and the page's
/// words for it: an owner action without a sign-in is a 401, a decision that is neither approve nor
/// reject a 400.
#[tokio::test]
async fn a_server_functions_refusal_has_its_own_status() {
    let app = spawn_app_with_contracts().await;
    let client = reqwest::Client::new();
    let union = "0x0000000000000000000000000000000000000001";
    let cases = [
        (format!("union={union}&member={union}&decision=approve"), 401, "not_signed_in"),
        (format!("union={union}&member={union}&decision=maybe"), 400, "bad_request"),
    ];
    for (body, status, code) in cases {
        let response = client
            .post(app.url("/api/unions/decide"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), status, "{body}");
        let error: serde_json::Value = response.json().await.unwrap();
        assert_eq!(error["code"], code, "{body}: {error}");
    }
}
