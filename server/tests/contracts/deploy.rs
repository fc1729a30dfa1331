//! `deploy_all`: everything in place, pools with liquidity, funded demo accounts, idempotence.
//! `deploy_with_existing`: only Coop's three contracts against DATA, DAI, WETH and Uniswap already on
//! the chain (here the ones `deploy_all` put there), and every wrong address refused before anything
//! is sent.

use alloy::primitives::{Address, U256};
use alloy::providers::Provider;
use coop::contracts::{
    DataUnionFactory, Marketplace, TestDai, UniswapAdapter, UniswapV2Factory, UniswapV2Pair, UniswapV2Router02, WETH9,
};
use coop_server::deploy::{self, Deployment, EXISTING, ExistingContracts};

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

/// The account that deploys Coop's own contracts against the ones account 0 deployed.
const COOP_DEPLOYER: usize = 7;

/// The DATA, DAI and router of `deployment`, as `coop deploy --data-token … --dai-token …
/// --uniswap-router …` names them.
fn existing_of(deployment: &Deployment) -> ExistingContracts {
    ExistingContracts {
        data_token: deployment.data_token,
        dai_token: deployment.dai_token,
        weth: None,
        uniswap_router: deployment.uniswap_router,
    }
}

async fn nonce(chain: &Chain, account: usize) -> u64 {
    chain.wallet(DEPLOYER).get_transaction_count(chain.address(account)).await.unwrap()
}

async fn deploy_with(chain: &Chain, existing: &ExistingContracts) -> anyhow::Result<Deployment> {
    deploy::deploy_with_existing(&chain.anvil.endpoint(), chain.signer(COOP_DEPLOYER), existing, None).await
}

/// Deploying with `existing` fails with a message holding every one of `expected`.
async fn assert_refused(chain: &Chain, existing: ExistingContracts, expected: &[&str]) {
    let error = format!("{:#}", deploy_with(chain, &existing).await.expect_err("the deployment is refused"));
    for part in expected {
        assert!(error.contains(part), "{part:?} is not in: {error}");
    }
}

#[tokio::test]
async fn deploying_against_existing_contracts_deploys_only_coops_three() {
    let chain = Chain::start().await;
    let old = chain.deployment.clone();
    let provider = chain.wallet(DEPLOYER);
    let uniswap_factory = UniswapV2Factory::new(old.uniswap_factory, provider.clone());
    let pairs_before = uniswap_factory.allPairsLength().call().await.unwrap();
    let supplies_before = (
        chain.data(DEPLOYER).totalSupply().call().await.unwrap(),
        chain.dai(DEPLOYER).totalSupply().call().await.unwrap(),
    );
    let deployer_nonce = nonce(&chain, DEPLOYER).await;

    let coop = deploy_with(&chain, &existing_of(&old)).await.unwrap();

    // Everything but Coop's three is the existing contracts', WETH and the pairs found through the router.
    let expected = Deployment {
        deploy_block: coop.deploy_block,
        marketplace: coop.marketplace,
        data_union_factory: coop.data_union_factory,
        uniswap_adapter: coop.uniswap_adapter,
        external: EXISTING.to_vec(),
        ..old.clone()
    };
    assert_eq!(coop, expected);
    let old_addresses: Vec<Address> = old.contracts().into_iter().map(|(_, address)| address).collect();
    for new in [coop.marketplace, coop.data_union_factory, coop.uniswap_adapter] {
        assert!(!old_addresses.contains(&new), "{new} is new");
    }
    assert!(coop.deploy_block > old.deploy_block);
    assert!(coop.is_live(&provider).await.unwrap());
    assert_eq!(nonce(&chain, COOP_DEPLOYER).await, 3, "three deployments and nothing else");
    assert_eq!(nonce(&chain, DEPLOYER).await, deployer_nonce);
    assert_eq!(uniswap_factory.allPairsLength().call().await.unwrap(), pairs_before, "no pool created");
    let supplies = (
        chain.data(DEPLOYER).totalSupply().call().await.unwrap(),
        chain.dai(DEPLOYER).totalSupply().call().await.unwrap(),
    );
    assert_eq!(supplies, supplies_before, "nothing minted");

    let market = Marketplace::new(coop.marketplace, provider.clone());
    assert_eq!(market.token().call().await.unwrap(), old.data_token);
    let du_factory = DataUnionFactory::new(coop.data_union_factory, provider.clone());
    assert_eq!(du_factory.token().call().await.unwrap(), old.data_token);
    assert_eq!(
        du_factory.minimumFreezePeriod().call().await.unwrap(),
        U256::from(deploy::minimum_freeze_period(coop.chain_id))
    );
    let adapter = UniswapAdapter::new(coop.uniswap_adapter, provider.clone());
    assert_eq!(adapter.marketplace().call().await.unwrap(), coop.marketplace);
    assert_eq!(adapter.router().call().await.unwrap(), old.uniswap_router);
    assert_eq!(adapter.weth().call().await.unwrap(), old.weth);

    // A product on the new marketplace, bought through the new adapter with ETH and with DAI, through
    // the existing pools.
    let chain = Chain { anvil: chain.anvil, deployment: coop };
    let beneficiary = chain.address(OTHER);
    let (per_second, seconds) = (U256::from(TOKEN / 100), U256::from(600));
    let price = per_second * seconds;
    let id = chain.create_product(OWNER, "Air quality", beneficiary, per_second, U256::from(60)).await;
    let buyer = chain.address(BUYER);
    let deadline = U256::from(chain.timestamp().await + 20 * 60);

    let beneficiary_before = chain.data_balance(beneficiary).await;
    let quote = chain.adapter(BUYER).quote(id, seconds, old.weth).call().await.unwrap();
    send(chain.adapter(BUYER).buyWithETH(id, seconds, per_second, beneficiary, deadline).value(quote * U256::from(2)))
        .await;
    assert_eq!(chain.data_balance(beneficiary).await, beneficiary_before + price);

    let quote = chain.adapter(BUYER).quote(id, seconds, old.dai_token).call().await.unwrap();
    send(chain.dai(BUYER).approve(chain.deployment.uniswap_adapter, quote)).await;
    let dai_before = chain.dai_balance(buyer).await;
    send(chain.adapter(BUYER).buyWithERC20(id, seconds, per_second, beneficiary, old.dai_token, quote, deadline)).await;
    assert_eq!(chain.dai_balance(buyer).await, dai_before - quote);
    assert_eq!(chain.data_balance(beneficiary).await, beneficiary_before + price * U256::from(2));
    assert!(chain.marketplace(BUYER).hasValidSubscription(id, buyer).call().await.unwrap());
    assert_eq!(chain.data_balance(chain.deployment.uniswap_adapter).await, U256::ZERO);
}

#[tokio::test]
async fn deploying_against_existing_contracts_again_reuses_the_file_and_refuses_other_contracts() {
    let chain = Chain::start().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("deployment.json");
    let existing = existing_of(&chain.deployment);
    let url = chain.anvil.endpoint();

    let first =
        deploy::deploy_with_existing_to_file(&file, &url, chain.signer(COOP_DEPLOYER), &existing).await.unwrap();
    assert_eq!(Deployment::load(&file).unwrap(), Some(first.clone()));
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("\"external\": [\n    \"data_token\""), "{text}");
    let (nonce_before, block_before) = (nonce(&chain, COOP_DEPLOYER).await, chain.block_number().await);

    // Naming WETH as well changes nothing: the same contracts.
    let with_weth = ExistingContracts { weth: Some(chain.deployment.weth), ..existing };
    let again =
        deploy::deploy_with_existing_to_file(&file, &url, chain.signer(COOP_DEPLOYER), &with_weth).await.unwrap();
    assert_eq!(again, first);

    // Other contracts while the file's deployment is still there: refused, the file kept.
    let swapped = ExistingContracts { data_token: existing.dai_token, dai_token: existing.data_token, ..existing };
    let error = deploy::deploy_with_existing_to_file(&file, &url, chain.signer(COOP_DEPLOYER), &swapped)
        .await
        .expect_err("a live deployment of other contracts is not replaced");
    let error = format!("{error:#}");
    assert!(error.contains("data_token") && error.contains("--data-token"), "{error}");
    assert_eq!(Deployment::load(&file).unwrap(), Some(first));

    assert_eq!(nonce(&chain, COOP_DEPLOYER).await, nonce_before, "nothing was sent");
    assert_eq!(chain.block_number().await, block_before);
}

#[tokio::test]
async fn a_wrong_address_is_refused_naming_its_option_and_nothing_is_sent() {
    let chain = Chain::start().await;
    let d = chain.deployment.clone();
    let right = existing_of(&d);
    let block_before = chain.block_number().await;
    let nowhere = Address::repeat_byte(0x42);
    let someone = chain.address(OTHER);

    let no_code = ExistingContracts { data_token: nowhere, ..right };
    assert_refused(&chain, no_code, &["--data-token", &nowhere.to_string(), "no contract"]).await;
    let an_account = ExistingContracts { uniswap_router: someone, ..right };
    assert_refused(&chain, an_account, &["--uniswap-router", &someone.to_string(), "no contract"]).await;
    let weth_nowhere = ExistingContracts { weth: Some(nowhere), ..right };
    assert_refused(&chain, weth_nowhere, &["--weth", &nowhere.to_string(), "no contract"]).await;
    let not_a_token = ExistingContracts { dai_token: d.marketplace, ..right };
    assert_refused(&chain, not_a_token, &["--dai-token", &d.marketplace.to_string(), "decimals()"]).await;
    let not_a_router = ExistingContracts { uniswap_router: d.uniswap_factory, ..right };
    assert_refused(&chain, not_a_router, &["--uniswap-router", &d.uniswap_factory.to_string(), "WETH()"]).await;
    let twice = ExistingContracts { dai_token: d.data_token, ..right };
    assert_refused(&chain, twice, &["--data-token and --dai-token name the same address"]).await;
    let weth_as_dai = ExistingContracts { dai_token: d.weth, ..right };
    assert_refused(&chain, weth_as_dai, &["--dai-token", "is the WETH of --uniswap-router"]).await;

    assert_eq!(nonce(&chain, COOP_DEPLOYER).await, 0, "nothing was sent");
    assert_eq!(chain.block_number().await, block_before);
}

#[tokio::test]
async fn a_router_with_another_weth_or_a_missing_pool_is_refused() {
    let chain = Chain::start().await;
    let d = chain.deployment.clone();
    let right = existing_of(&d);
    // Contracts of the right kinds that do not fit together: another WETH, and tokens with no pool.
    let other_weth = *WETH9::deploy(chain.wallet(OTHER)).await.unwrap().address();
    let poolless_dai = *TestDai::deploy(chain.wallet(OTHER), chain.address(OTHER)).await.unwrap().address();
    let poolless_data = *TestDai::deploy(chain.wallet(OTHER), chain.address(OTHER)).await.unwrap().address();
    let block_before = chain.block_number().await;

    let another_weth = ExistingContracts { weth: Some(other_weth), ..right };
    assert_refused(
        &chain,
        another_weth,
        &["--weth", &other_weth.to_string(), "is not the WETH of --uniswap-router", &d.weth.to_string()],
    )
    .await;
    let no_dai_pool = ExistingContracts { dai_token: poolless_dai, ..right };
    assert_refused(&chain, no_dai_pool, &["no DAI/WETH pool", "--dai-token", &poolless_dai.to_string()]).await;
    let no_data_pool = ExistingContracts { data_token: poolless_data, ..right };
    assert_refused(&chain, no_data_pool, &["no DATA/WETH pool", "--data-token", &poolless_data.to_string()]).await;

    assert_eq!(nonce(&chain, COOP_DEPLOYER).await, 0, "nothing was sent");
    assert_eq!(chain.block_number().await, block_before);
}
