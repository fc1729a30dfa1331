//! The demo marketplace `coop dev` starts with: a plain data product, a Data Union product with
//! three members, and a purchase of each, all made with anvil's development accounts.

use alloy::primitives::{Address, B256, U256, keccak256};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use anyhow::Context;
use coop::contracts::{DataToken, DataUnion, DataUnionFactory, Marketplace};

use super::{AGENT, OPERATOR};
use crate::deploy::{Deployment, confirmed};
use crate::devnet::DevChain;

const SELLER: usize = 1;
const UNION_OWNER: usize = 2;
const MEMBERS: [usize; 3] = [3, 4, 5];
const BUYER: usize = 6;

/// One DATA in wei, and a day in seconds.
const DATA: u128 = 1_000_000_000_000_000_000;
const DAY: u64 = 86_400;

pub async fn demo(chain: &DevChain, deployment: &Deployment) -> anyhow::Result<()> {
    let wallet = |account: usize| -> DynProvider {
        ProviderBuilder::new()
            .wallet(chain.signer(account))
            .connect_client(crate::rpc::client(&chain.endpoint()))
            .erased()
    };
    let address = |account: usize| chain.addresses()[account];
    let per_day = |data: u128| U256::from(data / u128::from(DAY));

    let seller_market = Marketplace::new(deployment.marketplace, wallet(SELLER));
    let weather = product_id("Helsinki weather stations");
    confirmed(
        seller_market.createProduct(
            weather,
            "Helsinki weather stations".into(),
            address(SELLER),
            per_day(5 * DATA),
            U256::from(DAY),
        ),
        "creating the demo data product",
    )
    .await?;

    let factory = DataUnionFactory::new(deployment.data_union_factory, wallet(UNION_OWNER));
    let receipt = confirmed(
        factory.createDataUnion(
            address(OPERATOR),
            vec![address(AGENT)],
            U256::from(DATA / 10), // a 10 % admin fee
            U256::from(60u64),
        ),
        "creating the demo Data Union",
    )
    .await?;
    let union = created_union(&receipt)?;
    let owner_market = Marketplace::new(deployment.marketplace, wallet(UNION_OWNER));
    let commuting = product_id("Commuter journeys");
    confirmed(
        owner_market.createProduct(commuting, "Commuter journeys".into(), union, per_day(20 * DATA), U256::from(DAY)),
        "creating the demo Data Union product",
    )
    .await?;
    let agent = DataUnion::new(union, wallet(AGENT));
    confirmed(agent.addMembers(MEMBERS.iter().map(|&m| address(m)).collect()), "adding the demo members").await?;

    let buyer_data = DataToken::new(deployment.data_token, wallet(BUYER));
    confirmed(buyer_data.approve(deployment.marketplace, U256::MAX), "approving DATA for the demo purchases").await?;
    let buyer_market = Marketplace::new(deployment.marketplace, wallet(BUYER));
    confirmed(buyer_market.buy(weather, U256::from(7 * DAY)), "buying the demo data product").await?;
    confirmed(buyer_market.buy(commuting, U256::from(30 * DAY)), "buying the demo Data Union product").await?;
    tracing::info!(target: "dev", %union, "seeded a data product, a Data Union with 3 members, and 2 purchases");
    Ok(())
}

fn product_id(name: &str) -> B256 {
    keccak256(name.as_bytes())
}

fn created_union(receipt: &alloy::rpc::types::TransactionReceipt) -> anyhow::Result<Address> {
    receipt
        .inner
        .logs()
        .iter()
        .find_map(|log| log.log_decode::<DataUnionFactory::DataUnionCreated>().ok())
        .map(|log| log.inner.data.du)
        .context("the factory did not announce the new Data Union")
}
