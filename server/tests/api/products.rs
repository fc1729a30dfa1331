//! Products, subscriptions and quotes through the API, after real Marketplace transactions on anvil.

use alloy::eips::BlockId;
use alloy::primitives::{Address, B256, U256};
use coop::contracts::UniswapV2Router02;
use serde_json::Value;

use crate::chain::{AGENT, BUYER, DEPLOYER, MEMBER, OTHER, OWNER, send, tokens};
use crate::helpers::{TestApp, spawn_app_with_contracts};

/// Lists a product owned by OWNER (its id is OWNER's and the name's, as the web app derives it).
pub(crate) async fn list_product(app: &TestApp, name: &str, beneficiary: Address, price_per_second: U256) -> B256 {
    app.chain().create_product(OWNER, name, beneficiary, price_per_second, U256::from(10u64)).await
}

/// Gives BUYER DATA and lets the Marketplace take it.
pub(crate) async fn fund_buyer(app: &TestApp) {
    let chain = app.chain();
    chain.mint_data(chain.address(BUYER), tokens(1000)).await;
    send(chain.data(BUYER).approve(chain.deployment.marketplace, U256::MAX)).await;
}

#[tokio::test]
async fn purchases_of_a_union_product_show_in_the_product_the_subscription_and_the_union_revenue() {
    let app = spawn_app_with_contracts().await;
    let chain = app.chain();
    let du = chain.create_data_union(U256::ZERO, 0).await;
    send(chain.du(du, AGENT).addMembers(vec![chain.address(MEMBER), chain.address(OTHER)])).await;
    let id = list_product(&app, "Weather", du, U256::from(3u64)).await;
    fund_buyer(&app).await;

    // A purchase, then an extension of the running subscription.
    let (price, beneficiary) = chain.terms(id).await;
    send(chain.marketplace(BUYER).buy(id, U256::from(100u64), price, beneficiary)).await;
    send(chain.marketplace(BUYER).buy(id, U256::from(50u64), price, beneficiary)).await;
    app.caught_up().await;

    let product = app.ok(&format!("/api/v1/products/{id}")).await;
    assert_eq!(product["name"], "Weather");
    assert_eq!((product["dataUnion"].as_bool(), product["state"].as_str()), (Some(true), Some("deployed")));
    assert_eq!(
        (product["pricePerSecond"].as_str(), product["minimumSubscriptionSeconds"].as_str()),
        (Some("3"), Some("10"))
    );
    assert_eq!((product["purchases"].as_u64(), product["subscribers"].as_u64()), (Some(2), Some(1)));
    assert_eq!(product["revenue"], "450");

    let subscriptions = app.ok(&format!("/api/v1/subscriptions?subscriber={}", chain.address(BUYER))).await;
    let listed = subscriptions["subscriptions"].as_array().unwrap();
    assert_eq!(listed.len(), 1, "an extension is not a second subscription: {subscriptions}");
    let end = chain.marketplace(BUYER).getSubscription(id, chain.address(BUYER)).call().await.unwrap().endTimestamp;
    assert_eq!(listed[0]["endTimestamp"].as_str().unwrap(), end.to_string());
    assert_eq!((listed[0]["active"].as_bool(), listed[0]["productName"].as_str()), (Some(true), Some("Weather")));

    let union = app.ok(&format!("/api/v1/unions/{du}")).await;
    assert_eq!(union["totalRevenue"], "450");
    let member = app.ok(&format!("/api/v1/unions/{du}/members/{}", chain.address(MEMBER))).await;
    assert_eq!(member["earnings"], "225");
}

#[tokio::test]
async fn products_are_searched_sorted_and_paged_and_deleted_ones_are_unlisted() {
    let app = spawn_app_with_contracts().await;
    let chain = app.chain();
    let beneficiary = chain.address(OTHER);
    let weather = list_product(&app, "Weather stations", beneficiary, U256::from(5u64)).await;
    let traffic = list_product(&app, "Traffic counts", beneficiary, U256::from(2u64)).await;
    let air = list_product(&app, "Air quality", beneficiary, U256::from(9u64)).await;
    let gone = list_product(&app, "Old weather", beneficiary, U256::from(1u64)).await;
    send(chain.marketplace(OWNER).deleteProduct(gone)).await;
    app.caught_up().await;

    let ids = |body: &Value| -> Vec<B256> {
        body["products"].as_array().unwrap().iter().map(|p| p["id"].as_str().unwrap().parse().unwrap()).collect()
    };
    let newest = app.ok("/api/v1/products").await;
    let cheapest = app.ok("/api/v1/products?sort=price").await;
    let searched = app.ok("/api/v1/products?q=WEATHER").await;
    let second_page = app.ok("/api/v1/products?sort=price&offset=1&limit=1").await;
    let deleted = app.ok("/api/v1/products?state=deleted").await;
    let everything = app.ok(&format!("/api/v1/products?state=all&owner={}", chain.address(OWNER))).await;

    assert_eq!(ids(&newest), [air, traffic, weather]);
    assert_eq!(newest["total"], 3);
    assert_eq!(ids(&cheapest), [traffic, weather, air]);
    assert_eq!(ids(&searched), [weather]);
    assert_eq!((ids(&second_page), second_page["total"].as_u64()), (vec![weather], Some(3)));
    assert_eq!(ids(&deleted), [gone]);
    assert_eq!(deleted["products"][0]["state"], "deleted");
    assert_eq!(everything["total"], 4);
}

#[tokio::test]
async fn a_quote_equals_the_routers_amounts_in_at_the_block_it_was_quoted_at() {
    let app = spawn_app_with_contracts().await;
    let chain = app.chain();
    // 0.001 DATA a second: an hour costs 3.6 DATA.
    let id = list_product(&app, "Weather", chain.address(OTHER), U256::from(10u64).pow(U256::from(15))).await;
    app.caught_up().await;
    let router = UniswapV2Router02::new(chain.deployment.uniswap_router, chain.wallet(DEPLOYER));
    let price = tokens(36) / U256::from(10u64);
    let d = &chain.deployment;

    for (currency, path) in
        [("DATA", vec![]), ("ETH", vec![d.weth, d.data_token]), ("DAI", vec![d.dai_token, d.weth, d.data_token])]
    {
        let quote = app.ok(&format!("/api/v1/quotes?product={id}&seconds=3600&currency={currency}")).await;

        let block = quote["block"].as_u64().unwrap();
        assert_eq!(quote["asOfBlock"].as_u64(), Some(block));
        assert_eq!(quote["price"].as_str().unwrap(), price.to_string(), "{currency}");
        let expected = if path.is_empty() {
            price
        } else {
            router.getAmountsIn(price, path.clone()).block(BlockId::number(block)).call().await.unwrap()[0]
        };
        assert_eq!(quote["amountIn"].as_str().unwrap(), expected.to_string(), "{currency}");
        let served: Vec<Address> =
            quote["path"].as_array().unwrap().iter().map(|a| a.as_str().unwrap().parse().unwrap()).collect();
        assert_eq!(served, path, "{currency}");
    }
    let adapter_quote = chain.adapter(BUYER).quote(id, U256::from(3600u64), d.weth).call().await.unwrap();
    let eth = app.ok(&format!("/api/v1/quotes?product={id}&seconds=3600&currency=eth")).await;
    assert_eq!(eth["amountIn"].as_str().unwrap(), adapter_quote.to_string(), "the adapter charges what was quoted");
}

#[tokio::test]
async fn products_are_listed_by_kind_and_a_product_suggests_its_sellers_others() {
    let app = spawn_app_with_contracts().await;
    let chain = app.chain();
    let du = chain.create_data_union(U256::ZERO, 0).await;
    let plain = list_product(&app, "Weather", chain.address(OTHER), U256::from(5u64)).await;
    let union = list_product(&app, "Journeys", du, U256::from(2u64)).await;
    let air = list_product(&app, "Air", chain.address(OTHER), U256::from(1u64)).await;
    let noise = list_product(&app, "Noise", chain.address(OTHER), U256::from(1u64)).await;
    let gone = list_product(&app, "Old noise", chain.address(OTHER), U256::from(1u64)).await;
    send(chain.marketplace(OWNER).deleteProduct(gone)).await;
    let strangers = chain.create_product(OTHER, "Rain", chain.address(OTHER), U256::from(1u64), U256::ZERO).await;
    app.caught_up().await;

    let ids = |body: &Value| -> Vec<B256> {
        body["products"].as_array().unwrap().iter().map(|p| p["id"].as_str().unwrap().parse().unwrap()).collect()
    };
    assert_eq!(ids(&app.ok("/api/v1/products?kind=union").await), [union]);
    assert_eq!(ids(&app.ok("/api/v1/products?kind=single").await), [strangers, noise, air, plain]);
    assert_eq!(app.ok("/api/v1/products?kind=all").await["total"], 5);
    let wrong = app.get("/api/v1/products?kind=unions").await;
    assert_eq!((wrong.status.as_u16(), wrong.error().1), (400, Some("kind")), "{:?}", wrong.body);

    // The page's product: up to three other listed products of its seller, newest first; another
    // seller's product (filed under no category) and an unlisted one are not suggested.
    let response = reqwest::Client::new()
        .post(app.url("/api/get_product"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("id={plain}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let detail: Value = response.json().await.unwrap();
    let related: Vec<B256> =
        detail["related"].as_array().unwrap().iter().map(|p| p["id"].as_str().unwrap().parse().unwrap()).collect();
    assert_eq!(related, [noise, air, union]);
}
