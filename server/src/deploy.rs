//! Deploys every contract Coop needs onto a chain, in order: the test tokens (DATA with permit, DAI),
//! WETH9, the real Uniswap V2 factory and Router02, the Marketplace, the DataUnionFactory and the
//! UniswapAdapter; then DATA/WETH and DAI/WETH pools with liquidity, and DATA and DAI for the node's
//! unlocked accounts (anvil's ten demo accounts). The result is a [`Deployment`], saved as JSON and
//! read back by the server. Deploying is idempotent: a deployment that is still on the chain is reused.
//!
//! On a public chain DATA, DAI, WETH and Uniswap V2 are already there: [`deploy_with_existing`] (`coop
//! deploy --data-token … --dai-token … --uniswap-router …`) checks them, then deploys only Coop's own
//! Marketplace, DataUnionFactory and UniswapAdapter, and the deployment file names the others as
//! [`Deployment::external`].

use std::path::Path;

use alloy::contract::{CallBuilder, CallDecoder};
use alloy::{
    network::Ethereum,
    primitives::{Address, U256},
    providers::{PendingTransactionBuilder, Provider, ProviderBuilder},
    rpc::types::{BlockId, TransactionReceipt},
    signers::local::PrivateKeySigner,
};
use anyhow::{Context, anyhow, bail, ensure};
use coop::contracts::{
    DataToken, DataUnionFactory, Marketplace, TestDai, UniswapAdapter, UniswapV2Factory, UniswapV2Pair,
    UniswapV2Router02, WETH9,
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
/// The decimals Coop counts DATA, DAI and WETH in (the checkout and the amounts on the pages).
const DECIMALS: u8 = 18;

alloy::sol! {
    /// The parts of an ERC-20 token a deployment checks before it uses the token.
    #[sol(rpc)]
    interface IErc20Metadata {
        function decimals() external view returns (uint8);
        function symbol() external view returns (string);
    }
}

/// A contract of a [`Deployment`], named as in the deployment file and in [`Deployment::contracts`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Contract {
    DataToken,
    DaiToken,
    Weth,
    UniswapFactory,
    UniswapRouter,
    DataWethPair,
    DaiWethPair,
    Marketplace,
    DataUnionFactory,
    UniswapAdapter,
}

/// What a deployment against existing contracts ([`deploy_with_existing`]) finds on the chain rather
/// than deploys: everything but Coop's Marketplace, DataUnionFactory and UniswapAdapter.
pub const EXISTING: [Contract; 7] = [
    Contract::DataToken,
    Contract::DaiToken,
    Contract::Weth,
    Contract::UniswapFactory,
    Contract::UniswapRouter,
    Contract::DataWethPair,
    Contract::DaiWethPair,
];

/// Where everything is on one chain; the server's deployment file.
///
/// ```json
/// { "chain_id": 31337, "deploy_block": 1,
///   "data_token": "0x…", "dai_token": "0x…", "weth": "0x…",
///   "uniswap_factory": "0x…", "uniswap_router": "0x…",
///   "data_weth_pair": "0x…", "dai_weth_pair": "0x…",
///   "marketplace": "0x…", "data_union_factory": "0x…", "uniswap_adapter": "0x…",
///   "external": [] }
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
    /// The contracts that were on the chain before and that Coop did not deploy: [`EXISTING`] for a
    /// deployment against a public chain's DATA, DAI, WETH and Uniswap (`coop deploy --data-token …`);
    /// empty when Coop deployed everything, as on a development chain, and in files written before
    /// the field existed.
    #[serde(default)]
    pub external: Vec<Contract>,
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
        external: Vec::new(),
    };
    tracing::info!(chain_id, deploy_block, %marketplace, %data_union_factory, "deployed");
    Ok(deployment)
}

/// `coop deploy`'s options naming contracts already on the chain. All of `--data-token`, `--dai-token`
/// and `--uniswap-router`, or none (then everything is deployed, test tokens and Uniswap included, as
/// on a development chain).
#[derive(Debug, Clone, Default, PartialEq, Eq, clap::Args)]
pub struct DeployArgs {
    /// An existing DATA token (ERC-20, 18 decimals). With --dai-token and --uniswap-router, deploy only
    /// Coop's Marketplace, DataUnionFactory and UniswapAdapter: no tokens, no Uniswap, no pools, no
    /// minting.
    #[arg(long, value_name = "ADDRESS", value_parser = parse_address, requires = "dai_token", requires = "uniswap_router")]
    pub data_token: Option<Address>,
    /// An existing DAI token (18 decimals), which the checkout quotes through the DAI/WETH pool.
    #[arg(long, value_name = "ADDRESS", value_parser = parse_address, requires = "data_token", requires = "uniswap_router")]
    pub dai_token: Option<Address>,
    /// An existing Uniswap V2 Router02. Its factory must have a DATA/WETH and a DAI/WETH pool.
    #[arg(long, value_name = "ADDRESS", value_parser = parse_address, requires = "data_token", requires = "dai_token")]
    pub uniswap_router: Option<Address>,
    /// The WETH of --uniswap-router, as a check: the router's `WETH()` must be this address. Default:
    /// the router's `WETH()`.
    #[arg(long, value_name = "ADDRESS", value_parser = parse_address, requires = "uniswap_router")]
    pub weth: Option<Address>,
}

impl DeployArgs {
    /// The existing contracts named, or `None` when the options name none; an error for a partial set.
    pub fn existing(&self) -> anyhow::Result<Option<ExistingContracts>> {
        match (self.data_token, self.dai_token, self.uniswap_router) {
            (None, None, None) if self.weth.is_none() => Ok(None),
            (Some(data_token), Some(dai_token), Some(uniswap_router)) => {
                Ok(Some(ExistingContracts { data_token, dai_token, weth: self.weth, uniswap_router }))
            }
            _ => bail!("name all of --data-token, --dai-token and --uniswap-router (and optionally --weth), or none"),
        }
    }
}

/// An address as an option names it: `0x` and 40 hex digits. A mixed-case address must have a valid
/// EIP-55 checksum, so that a mistyped checksummed address is caught here.
pub(crate) fn parse_address(text: &str) -> Result<Address, String> {
    let text = text.trim();
    let digits = text.strip_prefix("0x").ok_or("an address starts with 0x")?;
    if digits.len() != 40 || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err("an address is 0x and 40 hex digits".to_owned());
    }
    let mixed_case = digits.bytes().any(|b| b.is_ascii_lowercase()) && digits.bytes().any(|b| b.is_ascii_uppercase());
    if mixed_case {
        Address::parse_checksummed(text, None)
            .map_err(|_| "the address's checksum (its mix of upper and lower case) is wrong: a typo?".to_owned())
    } else {
        text.parse().map_err(|e| format!("{e}"))
    }
}

/// Contracts already on the chain that a deployment uses instead of deploying its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExistingContracts {
    pub data_token: Address,
    pub dai_token: Address,
    /// `None`: the router's `WETH()`. Named, it must be the router's.
    pub weth: Option<Address>,
    pub uniswap_router: Address,
}

impl ExistingContracts {
    /// Where `deployment` uses other contracts than these, as a message; `None` when it uses these.
    fn difference(&self, deployment: &Deployment) -> Option<String> {
        let named = [
            ("data_token", "--data-token", Some(self.data_token), deployment.data_token),
            ("dai_token", "--dai-token", Some(self.dai_token), deployment.dai_token),
            ("uniswap_router", "--uniswap-router", Some(self.uniswap_router), deployment.uniswap_router),
            ("weth", "--weth", self.weth, deployment.weth),
        ];
        named.into_iter().find_map(|(field, option, named, saved)| {
            named.filter(|&named| named != saved).map(|named| format!("{field} {saved} where {option} names {named}"))
        })
    }
}

/// What the checks of [`ExistingContracts`] found on the chain.
struct Found {
    chain_id: u64,
    weth: Address,
    uniswap_factory: Address,
    data_weth_pair: Address,
    dai_weth_pair: Address,
}

/// [`deploy_with_existing`] with the deployment in `file` as the previous one; writes the result to
/// `file`. `coop deploy --data-token …` runs this.
pub async fn deploy_with_existing_to_file(
    file: &Path,
    rpc_url: &url::Url,
    deployer: PrivateKeySigner,
    existing: &ExistingContracts,
) -> anyhow::Result<Deployment> {
    let previous = Deployment::load(file)?;
    let deployment = deploy_with_existing(rpc_url, deployer, existing, previous).await?;
    deployment.save(file)?;
    tracing::info!(file = %file.display(), marketplace = %deployment.marketplace, "deployment file written");
    Ok(deployment)
}

/// Deploys only Coop's own contracts (Marketplace, DataUnionFactory, UniswapAdapter) with `deployer`,
/// against the DATA, DAI, WETH and Uniswap V2 router of `existing`; mints nothing and creates no pool.
///
/// Every named contract is checked before anything is sent: code at its address, ERC-20 tokens that
/// answer `decimals()` (18) and `symbol()`, a router whose `WETH()` is the WETH named, and a factory
/// (the router's `factory()`) with DATA/WETH and DAI/WETH pairs. A check that fails is an error naming
/// the option, and nothing is sent.
///
/// A `previous` deployment still on the chain that uses these contracts is returned unchanged; one that
/// is still on the chain but uses others is an error (deploying anew would leave a live deployment
/// behind unnoticed); one no longer on the chain is replaced.
pub async fn deploy_with_existing(
    rpc_url: &url::Url,
    deployer: PrivateKeySigner,
    existing: &ExistingContracts,
    previous: Option<Deployment>,
) -> anyhow::Result<Deployment> {
    let provider = ProviderBuilder::new().wallet(deployer).connect_client(crate::rpc::client(rpc_url));
    if let Some(previous) = previous {
        if previous.is_live(&provider).await? {
            if let Some(difference) = existing.difference(&previous) {
                bail!(
                    "the deployment file names a deployment still on this chain with {difference}; move the file \
                     away (or set deployment_file) to deploy anew"
                );
            }
            tracing::info!(chain_id = previous.chain_id, "the deployment is still on the chain; reusing it");
            return Ok(previous);
        }
        tracing::info!(chain_id = previous.chain_id, "the saved deployment is not on this chain; deploying anew");
    }
    let found = check_existing(&provider, existing).await?;

    let (marketplace, deploy_block) =
        deployed(Marketplace::deploy_builder(&provider, existing.data_token), "Marketplace").await?;
    let minimum_freeze = U256::from(minimum_freeze_period(found.chain_id));
    let (data_union_factory, _) =
        deployed(DataUnionFactory::deploy_builder(&provider, existing.data_token, minimum_freeze), "DataUnionFactory")
            .await?;
    let (uniswap_adapter, _) =
        deployed(UniswapAdapter::deploy_builder(&provider, marketplace, existing.uniswap_router), "UniswapAdapter")
            .await?;

    let deployment = Deployment {
        chain_id: found.chain_id,
        deploy_block,
        data_token: existing.data_token,
        dai_token: existing.dai_token,
        weth: found.weth,
        uniswap_factory: found.uniswap_factory,
        uniswap_router: existing.uniswap_router,
        data_weth_pair: found.data_weth_pair,
        dai_weth_pair: found.dai_weth_pair,
        marketplace,
        data_union_factory,
        uniswap_adapter,
        external: EXISTING.to_vec(),
    };
    tracing::info!(
        chain_id = found.chain_id, deploy_block, %marketplace, %data_union_factory, %uniswap_adapter,
        "deployed Coop's contracts against existing DATA, DAI, WETH and Uniswap"
    );
    Ok(deployment)
}

/// Checks the contracts `existing` names and finds WETH, the factory and the pairs, with calls only.
async fn check_existing(provider: &impl Provider, existing: &ExistingContracts) -> anyhow::Result<Found> {
    let chain_id = provider.get_chain_id().await.context("reading the chain id")?;
    let router_address = existing.uniswap_router;
    let mut named = vec![
        ("--data-token", existing.data_token),
        ("--dai-token", existing.dai_token),
        ("--uniswap-router", router_address),
    ];
    named.extend(existing.weth.map(|weth| ("--weth", weth)));
    for (i, &(option, address)) in named.iter().enumerate() {
        if let Some((other, _)) = named[..i].iter().find(|(_, other)| *other == address) {
            bail!("{other} and {option} name the same address {address}");
        }
    }
    for &(option, address) in &named {
        has_code(provider, chain_id, &format!("{option} {address}"), address).await?;
    }

    let router = UniswapV2Router02::new(router_address, provider);
    let router_weth = router.WETH().call().await.map_err(|e| {
        anyhow!("--uniswap-router {router_address}: does not answer WETH() as a Uniswap V2 Router02 does ({e})")
    })?;
    let weth_option = match existing.weth {
        Some(weth) if weth != router_weth => {
            bail!("--weth {weth} is not the WETH of --uniswap-router {router_address}, which is {router_weth}")
        }
        Some(_) => "--weth".to_owned(),
        None => {
            let option = format!("the WETH of --uniswap-router {router_address}");
            has_code(provider, chain_id, &format!("{option} ({router_weth})"), router_weth).await?;
            for (other, address) in [("--data-token", existing.data_token), ("--dai-token", existing.dai_token)] {
                ensure!(address != router_weth, "{other} {address} is the WETH of --uniswap-router {router_address}");
            }
            option
        }
    };
    let weth = router_weth;
    let factory_address = router.factory().call().await.map_err(|e| {
        anyhow!("--uniswap-router {router_address}: does not answer factory() as a Uniswap V2 Router02 does ({e})")
    })?;
    let factory_name = format!("the factory of --uniswap-router {router_address} ({factory_address})");
    has_code(provider, chain_id, &factory_name, factory_address).await?;

    for (option, token) in
        [("--data-token", existing.data_token), ("--dai-token", existing.dai_token), (weth_option.as_str(), weth)]
    {
        let symbol = check_token(provider, option, token).await?;
        tracing::info!(token = %token, symbol, "{option}: an ERC-20 token with {DECIMALS} decimals");
    }

    let factory = UniswapV2Factory::new(factory_address, provider);
    let mut pairs = Vec::new();
    for (pool, option, token) in
        [("DATA/WETH", "--data-token", existing.data_token), ("DAI/WETH", "--dai-token", existing.dai_token)]
    {
        let pair = factory
            .getPair(token, weth)
            .call()
            .await
            .map_err(|e| anyhow!("{factory_name} does not answer getPair() as a Uniswap V2 factory does ({e})"))?;
        ensure!(
            pair != Address::ZERO,
            "no {pool} pool: {factory_name} has no pair of {option} {token} and WETH {weth}; create the pool, with \
             liquidity, before deploying"
        );
        let reserves = UniswapV2Pair::new(pair, provider)
            .getReserves()
            .call()
            .await
            .with_context(|| format!("reading the reserves of the {pool} pool {pair}"))?;
        if reserves._reserve0 == 0 || reserves._reserve1 == 0 {
            tracing::warn!(%pair, "the {pool} pool has no liquidity: the checkout cannot quote through it until it has");
        }
        pairs.push(pair);
    }
    Ok(Found { chain_id, weth, uniswap_factory: factory_address, data_weth_pair: pairs[0], dai_weth_pair: pairs[1] })
}

/// An error naming `what` unless there is code at `address`.
async fn has_code(provider: &impl Provider, chain_id: u64, what: &str, address: Address) -> anyhow::Result<()> {
    let code = provider.get_code_at(address).await.with_context(|| format!("reading the code of {what}"))?;
    ensure!(!code.is_empty(), "{what}: no contract at this address on chain {chain_id}");
    Ok(())
}

/// The symbol of the ERC-20 token at `address`, named by `option`, which must have [`DECIMALS`].
async fn check_token(provider: &impl Provider, option: &str, address: Address) -> anyhow::Result<String> {
    let token = IErc20Metadata::new(address, provider);
    let decimals = token
        .decimals()
        .call()
        .await
        .map_err(|e| anyhow!("{option} {address}: does not answer decimals() as an ERC-20 token does ({e})"))?;
    let symbol = token
        .symbol()
        .call()
        .await
        .map_err(|e| anyhow!("{option} {address}: does not answer symbol() as an ERC-20 token does ({e})"))?;
    ensure!(
        decimals == DECIMALS,
        "{option} {address} ({symbol}) has {decimals} decimals; Coop counts DATA, DAI and WETH in {DECIMALS}"
    );
    Ok(symbol)
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
            external: Vec::new(),
        }
    }

    #[test]
    fn a_deployment_against_existing_contracts_names_them_in_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("deployment.json");
        let deployment = Deployment { external: EXISTING.to_vec(), ..sample() };
        deployment.save(&path).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            json["external"],
            serde_json::json!([
                "data_token",
                "dai_token",
                "weth",
                "uniswap_factory",
                "uniswap_router",
                "data_weth_pair",
                "dai_weth_pair"
            ])
        );
        assert_eq!(Deployment::load(&path).unwrap(), Some(deployment));
    }

    #[test]
    fn a_file_written_before_the_external_field_still_loads() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("deployment.json");
        let mut json = serde_json::to_value(sample()).unwrap();
        json.as_object_mut().unwrap().remove("external");
        std::fs::write(&path, json.to_string()).unwrap();
        assert_eq!(Deployment::load(&path).unwrap(), Some(sample()));
        // An unknown contract in the list is refused like any unknown field.
        json["external"] = serde_json::json!(["data_tokn"]);
        std::fs::write(&path, json.to_string()).unwrap();
        assert!(Deployment::load(&path).is_err());
    }

    #[test]
    fn every_contract_is_named_as_in_the_file() {
        let names: Vec<_> = sample().contracts().into_iter().map(|(name, _)| name).collect();
        let all = [EXISTING.as_slice(), &[Contract::Marketplace, Contract::DataUnionFactory, Contract::UniswapAdapter]]
            .concat();
        let serialised: Vec<_> =
            all.iter().map(|c| serde_json::to_value(c).unwrap().as_str().unwrap().to_owned()).collect();
        assert_eq!(serialised, names);
    }

    #[derive(Debug, clap::Parser)]
    struct Cli {
        #[command(flatten)]
        args: DeployArgs,
    }

    fn parse(args: &[&str]) -> Result<DeployArgs, String> {
        use clap::Parser;
        Cli::try_parse_from(std::iter::once("deploy").chain(args.iter().copied()))
            .map(|cli| cli.args)
            .map_err(|e| e.to_string())
    }

    /// Written three ways: checksummed, lower case, upper case.
    const DATA: &str = "0x8f693ca8D21b157107184d29D398A8D082b38b76";
    const DAI: &str = "0x6b175474e89094c44da98b954eedeac495271d0f";
    const ROUTER: &str = "0x7A250D5630B4CF539739DF2C5DACB4C659F2488D";

    #[test]
    fn no_option_deploys_everything_and_the_three_together_name_existing_contracts() {
        assert_eq!(parse(&[]).unwrap().existing().unwrap(), None);
        let args = parse(&["--data-token", DATA, "--dai-token", DAI, "--uniswap-router", ROUTER]).unwrap();
        let existing = args.existing().unwrap().unwrap();
        assert_eq!(existing.data_token, DATA.parse::<Address>().unwrap());
        assert_eq!(existing.dai_token, DAI.parse::<Address>().unwrap());
        assert_eq!(existing.uniswap_router, ROUTER.parse::<Address>().unwrap());
        assert_eq!(existing.weth, None);
    }

    #[test]
    fn a_partial_set_of_options_is_refused_naming_what_is_missing() {
        let error = parse(&["--data-token", DATA, "--uniswap-router", ROUTER]).unwrap_err();
        assert!(error.contains("--dai-token"), "{error}");
        let error = parse(&["--weth", DAI]).unwrap_err();
        assert!(error.contains("--uniswap-router"), "{error}");
        let partial = DeployArgs { data_token: Some(Address::repeat_byte(1)), ..DeployArgs::default() };
        assert!(partial.existing().is_err());
    }

    #[test]
    fn a_mistyped_address_is_refused_by_its_checksum() {
        let data: Address = DATA.parse().unwrap();
        assert_eq!(data.to_checksum(None), DATA, "the example is checksummed");
        assert_eq!(parse_address(DATA).unwrap(), data);
        // One letter's case changed: the same hex, but not the checksum.
        let typo = DATA.replacen('D', "d", 1);
        assert!(parse_address(&typo).unwrap_err().contains("checksum"));
        assert!(parse_address("8f693ca8d21b157107184d29d398a8d082b38b76").is_err());
        assert!(parse_address("0x8f693ca8d21b157107184d29d398a8d082b38b7").is_err());
        let error = parse(&["--data-token", &typo, "--dai-token", DAI, "--uniswap-router", ROUTER]).unwrap_err();
        assert!(error.contains("--data-token"), "{error}");
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
