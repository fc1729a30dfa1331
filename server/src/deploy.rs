//! Deploys every contract Coop needs onto a chain, in order: the test tokens (DATA with permit, DAI),
//! WETH9, the real Uniswap V2 factory and Router02, the Marketplace, the DataUnionFactory and the
//! UniswapAdapter; then DATA/WETH and DAI/WETH pools with liquidity, and DATA and DAI for the node's
//! unlocked accounts (anvil's ten demo accounts). The result is a [`Deployment`], saved as JSON and
//! read back by the server. Deploying is idempotent: a deployment that is still on the chain is reused.

use std::path::Path;

use alloy::contract::{CallBuilder, CallDecoder};
use alloy::{
    network::Ethereum,
    primitives::{Address, U256},
    providers::{PendingTransactionBuilder, Provider, ProviderBuilder},
    rpc::types::{BlockId, TransactionReceipt},
    signers::local::PrivateKeySigner,
};
use anyhow::{Context, bail, ensure};
use coop::contracts::{
    DataToken, DataUnionFactory, Marketplace, TestDai, UniswapAdapter, UniswapV2Factory, UniswapV2Router02, WETH9,
};
use serde::{Deserialize, Serialize};

/// One token with 18 decimals, in wei.
const TOKEN: u128 = 1_000_000_000_000_000_000;
/// Pool DATA/WETH: 100 ETH against 100,000 DATA (1 DATA = 0.001 ETH).
const DATA_POOL_ETH: u128 = 100 * TOKEN;
const DATA_POOL_DATA: u128 = 100_000 * TOKEN;
/// Pool DAI/WETH: 100 ETH against 300,000 DAI (1 ETH = 3,000 DAI).
const DAI_POOL_ETH: u128 = 100 * TOKEN;
const DAI_POOL_DAI: u128 = 300_000 * TOKEN;
/// What each demo account gets of DATA and of DAI.
const DEMO_FUNDS: u128 = 10_000 * TOKEN;
/// How many of the node's unlocked accounts get demo funds (anvil has ten).
const DEMO_ACCOUNTS: usize = 10;
/// The DataUnionFactory's minimum freeze period off a dev chain: one day.
const PUBLIC_MINIMUM_FREEZE_SECONDS: u64 = 24 * 60 * 60;
/// anvil's and hardhat's chain ids, where DUs may use a freeze period of seconds.
const DEV_CHAIN_IDS: [u64; 2] = [31_337, 1_337];

/// Where everything is on one chain; the server's deployment file.
///
/// ```json
/// { "chain_id": 31337, "deploy_block": 1,
///   "data_token": "0x…", "dai_token": "0x…", "weth": "0x…",
///   "uniswap_factory": "0x…", "uniswap_router": "0x…",
///   "data_weth_pair": "0x…", "dai_weth_pair": "0x…",
///   "marketplace": "0x…", "data_union_factory": "0x…", "uniswap_adapter": "0x…" }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Deployment {
    pub chain_id: u64,
    /// The block of the first deployment transaction: nothing of Coop's happened before it.
    pub deploy_block: u64,
    pub data_token: Address,
    pub dai_token: Address,
    pub weth: Address,
    pub uniswap_factory: Address,
    pub uniswap_router: Address,
    pub data_weth_pair: Address,
    pub dai_weth_pair: Address,
    pub marketplace: Address,
    pub data_union_factory: Address,
    pub uniswap_adapter: Address,
}

impl Deployment {
    /// Reads a deployment file; `None` when there is no file.
    pub fn load(path: &Path) -> anyhow::Result<Option<Self>> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
        };
        let deployment =
            serde_json::from_str(&text).with_context(|| format!("parsing the deployment file {}", path.display()))?;
        Ok(Some(deployment))
    }

    /// Writes the deployment file (through a temporary file, so a reader never sees half of it).
    pub fn save(&self, path: &Path) -> anyhow::Result<()> {
        if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        let mut text = serde_json::to_string_pretty(self).context("serialising the deployment")?;
        text.push('\n');
        let tmp = path.with_extension("json.tmp");
        std::fs::write(&tmp, text).with_context(|| format!("writing {}", tmp.display()))?;
        std::fs::rename(&tmp, path).with_context(|| format!("renaming to {}", path.display()))
    }

    /// Every contract address, named, in deployment order.
    pub fn contracts(&self) -> [(&'static str, Address); 10] {
        [
            ("data_token", self.data_token),
            ("dai_token", self.dai_token),
            ("weth", self.weth),
            ("uniswap_factory", self.uniswap_factory),
            ("uniswap_router", self.uniswap_router),
            ("data_weth_pair", self.data_weth_pair),
            ("dai_weth_pair", self.dai_weth_pair),
            ("marketplace", self.marketplace),
            ("data_union_factory", self.data_union_factory),
            ("uniswap_adapter", self.uniswap_adapter),
        ]
    }

    /// Whether this deployment is on the chain behind `provider`: same chain id, code at every address.
    pub async fn is_live(&self, provider: &impl Provider) -> anyhow::Result<bool> {
        let chain_id = provider.get_chain_id().await.context("reading the chain id")?;
        if chain_id != self.chain_id {
            return Ok(false);
        }
        for (name, address) in self.contracts() {
            let code = provider
                .get_code_at(address)
                .await
                .with_context(|| format!("reading the code of {name} at {address}"))?;
            if code.is_empty() {
                return Ok(false);
            }
        }
        Ok(true)
    }
}

/// The factory's minimum DU freeze period on a chain: none on a dev chain, one day elsewhere.
pub fn minimum_freeze_period(chain_id: u64) -> u64 {
    if DEV_CHAIN_IDS.contains(&chain_id) { 0 } else { PUBLIC_MINIMUM_FREEZE_SECONDS }
}

/// Deploys everything with `deployer` (which pays and owns the test tokens), or returns `existing`
/// unchanged when it is still on this chain.
pub async fn deploy_all(
    rpc_url: &url::Url,
    deployer: PrivateKeySigner,
    existing: Option<Deployment>,
) -> anyhow::Result<Deployment> {
    let me = deployer.address();
    let provider = ProviderBuilder::new().wallet(deployer).connect_client(crate::rpc::client(rpc_url));
    if let Some(existing) = existing {
        if existing.is_live(&provider).await? {
            tracing::info!(chain_id = existing.chain_id, "the deployment is still on the chain; reusing it");
            return Ok(existing);
        }
        tracing::info!(chain_id = existing.chain_id, "the saved deployment is not on this chain; deploying anew");
    }
    let chain_id = provider.get_chain_id().await.context("reading the chain id")?;

    let (data_token, deploy_block) = deployed(DataToken::deploy_builder(&provider, me), "DataToken").await?;
    let (dai_token, _) = deployed(TestDai::deploy_builder(&provider, me), "TestDai").await?;
    let (weth, _) = deployed(WETH9::deploy_builder(&provider), "WETH9").await?;
    let (uniswap_factory, _) = deployed(UniswapV2Factory::deploy_builder(&provider, me), "UniswapV2Factory").await?;
    let (uniswap_router, _) =
        deployed(UniswapV2Router02::deploy_builder(&provider, uniswap_factory, weth), "UniswapV2Router02").await?;
    let (marketplace, _) = deployed(Marketplace::deploy_builder(&provider, data_token), "Marketplace").await?;
    let minimum_freeze = U256::from(minimum_freeze_period(chain_id));
    let (data_union_factory, _) =
        deployed(DataUnionFactory::deploy_builder(&provider, data_token, minimum_freeze), "DataUnionFactory").await?;
    let (uniswap_adapter, _) =
        deployed(UniswapAdapter::deploy_builder(&provider, marketplace, uniswap_router), "UniswapAdapter").await?;

    let data = DataToken::new(data_token, &provider);
    let dai = TestDai::new(dai_token, &provider);
    let router = UniswapV2Router02::new(uniswap_router, &provider);
    let deadline = U256::from(latest_timestamp(&provider).await? + 3600);

    confirmed(data.mint(me, U256::from(DATA_POOL_DATA)), "minting DATA for the pool").await?;
    confirmed(data.approve(uniswap_router, U256::MAX), "approving DATA to the router").await?;
    confirmed(
        router
            .addLiquidityETH(data_token, U256::from(DATA_POOL_DATA), U256::ZERO, U256::ZERO, me, deadline)
            .value(U256::from(DATA_POOL_ETH)),
        "adding DATA/WETH liquidity",
    )
    .await?;
    confirmed(dai.mint(me, U256::from(DAI_POOL_DAI)), "minting DAI for the pool").await?;
    confirmed(dai.approve(uniswap_router, U256::MAX), "approving DAI to the router").await?;
    confirmed(
        router
            .addLiquidityETH(dai_token, U256::from(DAI_POOL_DAI), U256::ZERO, U256::ZERO, me, deadline)
            .value(U256::from(DAI_POOL_ETH)),
        "adding DAI/WETH liquidity",
    )
    .await?;

    let factory = UniswapV2Factory::new(uniswap_factory, &provider);
    let data_weth_pair = factory.getPair(data_token, weth).call().await.context("reading the DATA/WETH pair")?;
    let dai_weth_pair = factory.getPair(dai_token, weth).call().await.context("reading the DAI/WETH pair")?;
    ensure!(data_weth_pair != Address::ZERO && dai_weth_pair != Address::ZERO, "the Uniswap pools were not created");

    fund_demo_accounts(&provider, &data, &dai).await?;

    let deployment = Deployment {
        chain_id,
        deploy_block,
        data_token,
        dai_token,
        weth,
        uniswap_factory,
        uniswap_router,
        data_weth_pair,
        dai_weth_pair,
        marketplace,
        data_union_factory,
        uniswap_adapter,
    };
    tracing::info!(chain_id, deploy_block, %marketplace, %data_union_factory, "deployed");
    Ok(deployment)
}

/// Mints DATA and DAI to the node's unlocked accounts (none on a public node). The transactions are
/// sent one after another and awaited together.
async fn fund_demo_accounts<P: Provider>(
    provider: &P,
    data: &DataToken::DataTokenInstance<&P>,
    dai: &TestDai::TestDaiInstance<&P>,
) -> anyhow::Result<()> {
    let accounts = provider.get_accounts().await.context("listing the node's accounts")?;
    let mut pending = Vec::new();
    for &account in accounts.iter().take(DEMO_ACCOUNTS) {
        pending.push(data.mint(account, U256::from(DEMO_FUNDS)).send().await.context("minting demo DATA")?);
        pending.push(dai.mint(account, U256::from(DEMO_FUNDS)).send().await.context("minting demo DAI")?);
    }
    for tx in pending {
        succeeded(tx, "funding a demo account").await?;
    }
    Ok(())
}

async fn latest_timestamp(provider: &impl Provider) -> anyhow::Result<u64> {
    let block = provider
        .get_block_by_number(alloy::eips::BlockNumberOrTag::Latest)
        .await
        .context("reading the latest block")?
        .context("the node has no latest block")?;
    Ok(block.header.timestamp)
}

/// Sends a contract call and waits for its receipt; a revert or a failed transaction is an error
/// naming `what`.
pub async fn confirmed<P: Provider, D: CallDecoder>(
    call: CallBuilder<P, D, Ethereum>,
    what: &str,
) -> anyhow::Result<TransactionReceipt> {
    // The node estimates at the latest block's time, but the transaction lands in a later block: a
    // Uniswap pair's first swap in a new second also writes its cumulative prices, which the estimate
    // then left out. A quarter more covers that; only the gas used is paid.
    let call = call.block(BlockId::pending());
    let estimate = call.estimate_gas().await.with_context(|| format!("estimating the gas of: {what}"))?;
    let pending = call.gas(estimate + estimate / 4).send().await.with_context(|| format!("sending: {what}"))?;
    succeeded(pending, what).await
}

async fn succeeded(pending: PendingTransactionBuilder<Ethereum>, what: &str) -> anyhow::Result<TransactionReceipt> {
    let hash = *pending.tx_hash();
    let receipt = pending.get_receipt().await.with_context(|| format!("waiting for: {what}"))?;
    if !receipt.status() {
        bail!("{what}: transaction {hash} failed");
    }
    Ok(receipt)
}

/// Sends a deployment and returns the new contract's address and block.
async fn deployed<P: Provider, D: CallDecoder>(
    call: CallBuilder<P, D, Ethereum>,
    name: &str,
) -> anyhow::Result<(Address, u64)> {
    let receipt = confirmed(call, &format!("deploying {name}")).await?;
    let address = receipt.contract_address.with_context(|| format!("no address for {name}"))?;
    let block = receipt.block_number.with_context(|| format!("no block for {name}"))?;
    Ok((address, block))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Deployment {
        Deployment {
            chain_id: 31_337,
            deploy_block: 1,
            data_token: Address::repeat_byte(1),
            dai_token: Address::repeat_byte(2),
            weth: Address::repeat_byte(3),
            uniswap_factory: Address::repeat_byte(4),
            uniswap_router: Address::repeat_byte(5),
            data_weth_pair: Address::repeat_byte(6),
            dai_weth_pair: Address::repeat_byte(7),
            marketplace: Address::repeat_byte(8),
            data_union_factory: Address::repeat_byte(9),
            uniswap_adapter: Address::repeat_byte(10),
        }
    }

    #[test]
    fn a_saved_deployment_loads_back_identical() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested").join("deployment.json");
        sample().save(&path).unwrap();
        assert_eq!(Deployment::load(&path).unwrap(), Some(sample()));
    }

    #[test]
    fn a_missing_deployment_file_is_none_and_a_broken_one_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("deployment.json");
        assert_eq!(Deployment::load(&path).unwrap(), None);
        std::fs::write(&path, "{\"chain_id\": 1}").unwrap();
        let error = format!("{:#}", Deployment::load(&path).unwrap_err());
        assert!(error.contains("parsing the deployment file"), "{error}");
    }

    #[test]
    fn only_dev_chains_allow_a_freeze_period_of_seconds() {
        assert_eq!(minimum_freeze_period(31_337), 0);
        assert_eq!(minimum_freeze_period(1), 86_400);
    }
}
