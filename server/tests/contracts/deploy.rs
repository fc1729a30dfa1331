//! `deploy_all`: everything in place, pools with liquidity, funded demo accounts, idempotence.

use alloy::providers::Provider;
use coop::contracts::{UniswapAdapter, UniswapV2Factory, UniswapV2Pair, UniswapV2Router02};
use coop_server::deploy::{self, Deployment};

use crate::helpers::*;

#[tokio::test]
async fn deploying_creates_the_pools_and_funds_the_demo_accounts() {
    let chain = Chain::start().await;
    let d = &chain.deployment;
    let provider = chain.wallet(DEPLOYER);

    assert_eq!(d.chain_id, chain.anvil.chain_id());
    assert!(d.deploy_block >= 1);
    assert!(d.is_live(&provider).await.unwrap());
    let router = UniswapV2Router02::new(d.uniswap_router, provider.clone());
    assert_eq!(router.WETH().call().await.unwrap(), d.weth);
    assert_eq!(router.factory().call().await.unwrap(), d.uniswap_factory);
    let factory = UniswapV2Factory::new(d.uniswap_factory, provider.clone());
    assert_eq!(factory.getPair(d.data_token, d.weth).call().await.unwrap(), d.data_weth_pair);
    assert_eq!(factory.getPair(d.dai_token, d.weth).call().await.unwrap(), d.dai_weth_pair);
    for pair in [d.data_weth_pair, d.dai_weth_pair] {
        let reserves = UniswapV2Pair::new(pair, provider.clone()).getReserves().call().await.unwrap();
        assert!(reserves._reserve0 > 0 && reserves._reserve1 > 0, "pool {pair} has liquidity");
    }
    let adapter = UniswapAdapter::new(d.uniswap_adapter, provider.clone());
    assert_eq!(adapter.marketplace().call().await.unwrap(), d.marketplace);
    assert_eq!(adapter.dataToken().call().await.unwrap(), d.data_token);
    assert_eq!(adapter.weth().call().await.unwrap(), d.weth);

    for account in 0..10 {
        let address = chain.address(account);
        assert_eq!(chain.data_balance(address).await, tokens(10_000), "DATA of account {account}");
        assert_eq!(chain.dai_balance(address).await, tokens(10_000), "DAI of account {account}");
    }
}

#[tokio::test]
async fn deploying_again_reuses_a_deployment_that_is_still_there() {
    let chain = Chain::start().await;
    let blocks_before = chain.block_number().await;

    let again = deploy::deploy_all(&chain.anvil.endpoint(), chain.signer(DEPLOYER), Some(chain.deployment.clone()))
        .await
        .unwrap();

    assert_eq!(again, chain.deployment);
    assert_eq!(chain.block_number().await, blocks_before, "nothing was sent");
}

#[tokio::test]
async fn a_deployment_for_another_chain_or_without_code_is_replaced() {
    let chain = Chain::start().await;
    let provider = chain.wallet(DEPLOYER);
    let elsewhere = Deployment { chain_id: 1, ..chain.deployment.clone() };
    assert!(!elsewhere.is_live(&provider).await.unwrap());

    let fresh = deploy::deploy_all(&chain.anvil.endpoint(), chain.signer(DEPLOYER), Some(elsewhere)).await.unwrap();

    assert_eq!(fresh.chain_id, chain.deployment.chain_id);
    assert_ne!(fresh.marketplace, chain.deployment.marketplace);
    assert!(fresh.deploy_block > chain.deployment.deploy_block);
    assert!(fresh.is_live(&provider).await.unwrap());
    let gone = Deployment { marketplace: alloy::primitives::Address::repeat_byte(0x42), ..fresh };
    assert!(!gone.is_live(&provider).await.unwrap());
    assert_eq!(provider.get_code_at(gone.marketplace).await.unwrap().len(), 0);
}
