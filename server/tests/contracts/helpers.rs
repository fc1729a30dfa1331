//! A fresh anvil with everything deployed, per test, and the small tools the tests share.

use alloy::{
    contract::{CallBuilder, CallDecoder},
    network::Ethereum,
    primitives::{Address, B256, U256},
    providers::{DynProvider, Provider, ProviderBuilder, ext::AnvilApi},
    rpc::types::TransactionReceipt,
    signers::SignerSync,
    signers::local::PrivateKeySigner,
    sol_types::{SolEvent, SolInterface, SolStruct, eip712_domain},
};
use coop::contracts::{DataToken, DataUnion, DataUnionFactory, Marketplace, TestDai, UniswapAdapter};
use coop_server::{
    deploy::{self, Deployment},
    devnet::{self, DevChain},
};

alloy::sol! {
    /// An EIP-2612 permit, as the test DATA token checks it.
    struct Permit {
        address owner;
        address spender;
        uint256 value;
        uint256 nonce;
        uint256 deadline;
    }
}

/// One DATA (or DAI, or ETH) in wei.
pub const TOKEN: u128 = 1_000_000_000_000_000_000;

/// anvil's accounts by role; account 0 deploys and owns the test tokens.
pub const DEPLOYER: usize = 0;
pub const OWNER: usize = 1;
pub const OPERATOR: usize = 2;
pub const AGENT: usize = 3;
pub const MEMBER: usize = 4;
pub const OTHER: usize = 5;
pub const BUYER: usize = 6;

pub struct Chain {
    // Dropping it kills anvil, so it lives as long as the test.
    pub anvil: DevChain,
    pub deployment: Deployment,
}

impl Chain {
    /// A fresh anvil with `deploy_all` run on it by account 0.
    pub async fn start() -> Chain {
        let anvil = devnet::spawn_anvil(None).expect("anvil starts");
        let deployment =
            deploy::deploy_all(&anvil.endpoint(), anvil.signer(DEPLOYER), None).await.expect("everything deploys");
        Chain { anvil, deployment }
    }

    pub fn signer(&self, account: usize) -> PrivateKeySigner {
        self.anvil.signer(account)
    }

    pub fn address(&self, account: usize) -> Address {
        self.anvil.addresses()[account]
    }

    /// A provider that signs as `account`. It asks the node for the nonce of every transaction: a
    /// cached nonce would be used up by each expected revert and leave a gap that is never mined.
    pub fn wallet(&self, account: usize) -> DynProvider {
        ProviderBuilder::new()
            .disable_recommended_fillers()
            .with_gas_estimation()
            .with_simple_nonce_management()
            .fetch_chain_id()
            .wallet(self.signer(account))
            .connect_client(coop_server::rpc::client(&self.anvil.endpoint()))
            .erased()
    }

    pub fn data(&self, account: usize) -> DataToken::DataTokenInstance<DynProvider> {
        DataToken::new(self.deployment.data_token, self.wallet(account))
    }

    pub fn dai(&self, account: usize) -> TestDai::TestDaiInstance<DynProvider> {
        TestDai::new(self.deployment.dai_token, self.wallet(account))
    }

    pub fn marketplace(&self, account: usize) -> Marketplace::MarketplaceInstance<DynProvider> {
        Marketplace::new(self.deployment.marketplace, self.wallet(account))
    }

    pub fn adapter(&self, account: usize) -> UniswapAdapter::UniswapAdapterInstance<DynProvider> {
        UniswapAdapter::new(self.deployment.uniswap_adapter, self.wallet(account))
    }

    pub fn du_factory(&self, account: usize) -> DataUnionFactory::DataUnionFactoryInstance<DynProvider> {
        DataUnionFactory::new(self.deployment.data_union_factory, self.wallet(account))
    }

    /// The DU at `address` as seen by `account`.
    pub fn du(&self, address: Address, account: usize) -> DataUnion::DataUnionInstance<DynProvider> {
        DataUnion::new(address, self.wallet(account))
    }

    /// A DU owned by `OWNER`, committed to by `OPERATOR`, with `AGENT` as its join-part agent and no
    /// validators.
    pub async fn create_data_union(&self, admin_fee: U256, freeze_seconds: u64) -> Address {
        self.create_data_union_with_validators(admin_fee, freeze_seconds, vec![]).await
    }

    /// [`Chain::create_data_union`] naming `validators`, who may veto its frozen commits.
    pub async fn create_data_union_with_validators(
        &self,
        admin_fee: U256,
        freeze_seconds: u64,
        validators: Vec<Address>,
    ) -> Address {
        let receipt = send(self.du_factory(OWNER).createDataUnion(
            self.address(OPERATOR),
            vec![self.address(AGENT)],
            validators,
            admin_fee,
            U256::from(freeze_seconds),
        ))
        .await;
        event::<DataUnionFactory::DataUnionCreated>(&receipt).du
    }

    /// A DU owned by `owner` (any account: a stranger's, say) with no fee, no validators and a freeze
    /// period of `freeze_seconds` (at most `DataUnion.MAX_FREEZE_PERIOD`), naming `OPERATOR` and `AGENT`.
    pub async fn create_data_union_as(&self, owner: usize, freeze_seconds: U256) -> Address {
        let receipt = send(self.du_factory(owner).createDataUnion(
            self.address(OPERATOR),
            vec![self.address(AGENT)],
            vec![],
            U256::ZERO,
            freeze_seconds,
        ))
        .await;
        event::<DataUnionFactory::DataUnionCreated>(&receipt).du
    }

    /// Lists a product as `owner` with the salt of `name` ([`product_salt`]) and answers its id, which the
    /// marketplace derives from the owner and the salt ([`product_id`]).
    pub async fn create_product(
        &self,
        owner: usize,
        name: &str,
        beneficiary: Address,
        price_per_second: U256,
        minimum_seconds: U256,
    ) -> B256 {
        let receipt = send(self.marketplace(owner).createProduct(
            product_salt(name),
            name.into(),
            beneficiary,
            price_per_second,
            minimum_seconds,
        ))
        .await;
        let id = event::<Marketplace::ProductCreated>(&receipt).id;
        assert_eq!(id, product_id(self.address(owner), name), "the marketplace derives the id from owner and salt");
        id
    }

    /// A product's current terms, `(pricePerSecond, beneficiary)`: what a purchase names so that it pays
    /// no more, and nobody else.
    pub async fn terms(&self, product: B256) -> (U256, Address) {
        let product = self.marketplace(DEPLOYER).getProduct(product).call().await.unwrap();
        (product.pricePerSecond, product.beneficiary)
    }

    /// Mints DATA to `to` (the deployer owns the token), for example revenue straight into a DU.
    pub async fn mint_data(&self, to: Address, amount: U256) {
        send(self.data(DEPLOYER).mint(to, amount)).await;
    }

    pub async fn data_balance(&self, of: Address) -> U256 {
        self.data(DEPLOYER).balanceOf(of).call().await.unwrap()
    }

    pub async fn dai_balance(&self, of: Address) -> U256 {
        self.dai(DEPLOYER).balanceOf(of).call().await.unwrap()
    }

    pub async fn eth_balance(&self, of: Address) -> U256 {
        self.wallet(DEPLOYER).get_balance(of).await.unwrap()
    }

    pub async fn block_number(&self) -> u64 {
        self.wallet(DEPLOYER).get_block_number().await.unwrap()
    }

    /// `account`'s EIP-2612 permit for the adapter to take `value` of its DATA until `deadline`, as the
    /// `(v, r, s)` that `buyWithDataPermit` takes.
    pub async fn adapter_permit(&self, account: usize, value: U256, deadline: U256) -> (u8, B256, B256) {
        let owner = self.address(account);
        let nonce = self.data(account).nonces(owner).call().await.unwrap();
        let domain = eip712_domain! {
            name: "Coop Test DATA",
            version: "1",
            chain_id: self.deployment.chain_id,
            verifying_contract: self.deployment.data_token,
        };
        let permit = Permit { owner, spender: self.deployment.uniswap_adapter, value, nonce, deadline };
        let signature = self.signer(account).sign_hash_sync(&permit.eip712_signing_hash(&domain)).unwrap();
        (27 + u8::from(signature.v()), signature.r().into(), signature.s().into())
    }

    /// The hash of block `number`, which a commit of that block's book names.
    pub async fn block_hash(&self, number: u64) -> B256 {
        let provider = self.wallet(DEPLOYER);
        let block = provider.get_block_by_number(number.into()).await.unwrap().expect("the block is mined");
        block.header.hash
    }

    pub async fn timestamp(&self) -> u64 {
        let provider = self.wallet(DEPLOYER);
        let block = provider.get_block_by_number(alloy::eips::BlockNumberOrTag::Latest).await.unwrap().unwrap();
        block.header.timestamp
    }

    /// The timestamp the next block will have.
    pub async fn set_next_timestamp(&self, timestamp: u64) {
        self.wallet(DEPLOYER).anvil_set_next_block_timestamp(timestamp).await.unwrap();
    }

    /// Moves the chain's clock forward and mines a block at the new time.
    pub async fn advance_time(&self, seconds: u64) {
        let provider = self.wallet(DEPLOYER);
        provider.anvil_increase_time(seconds).await.unwrap();
        provider.anvil_mine(Some(1), None).await.unwrap();
    }
}

/// Sends a call that must succeed and returns its receipt.
pub async fn send<P: Provider, D: CallDecoder>(call: CallBuilder<P, D, Ethereum>) -> TransactionReceipt {
    deploy::confirmed(call, "a test transaction").await.unwrap_or_else(|e| panic!("{e:#}"))
}

/// Sends a call that must revert, and decodes the revert against the contract's error enum `E`.
pub async fn revert<E: SolInterface, P: Provider, D: CallDecoder>(call: CallBuilder<P, D, Ethereum>) -> E {
    match call.send().await {
        Ok(pending) => panic!("expected a revert, but {} was sent", pending.tx_hash()),
        Err(error) => error
            .as_decoded_interface_error::<E>()
            .unwrap_or_else(|| panic!("expected a {} revert, got: {error}", std::any::type_name::<E>())),
    }
}

/// The first `E` in a receipt's logs.
pub fn event<E: SolEvent>(receipt: &TransactionReceipt) -> E {
    events::<E>(receipt).into_iter().next().unwrap_or_else(|| panic!("no {} event", E::SIGNATURE))
}

/// Every `E` in a receipt's logs, in order.
pub fn events<E: SolEvent>(receipt: &TransactionReceipt) -> Vec<E> {
    receipt.inner.logs().iter().filter_map(|log| log.log_decode::<E>().ok()).map(|log| log.inner.data).collect()
}

/// What a transaction cost its sender in ETH.
pub fn fee_of(receipt: &TransactionReceipt) -> U256 {
    U256::from(receipt.gas_used) * U256::from(receipt.effective_gas_price)
}

/// Prints the gas a call used when `TEST_LOG` is set (the figures in the README come from here).
pub fn report_gas(what: &str, receipt: &TransactionReceipt) {
    if std::env::var_os("TEST_LOG").is_some() {
        eprintln!("gas: {what}: {}", receipt.gas_used);
    }
}

pub fn tokens(n: u64) -> U256 {
    U256::from(n) * U256::from(TOKEN)
}

/// The salt a product named `name` is listed with: the hash of its name, as the web app lists one.
pub fn product_salt(name: &str) -> B256 {
    alloy::primitives::keccak256(name)
}

/// The id of the product `owner` lists as `name`: `Marketplace.productIdOf(owner, product_salt(name))`,
/// which is also what the web app and the server derive (`app::products::product_id`).
pub fn product_id(owner: Address, name: &str) -> B256 {
    coop::contracts::product_id(owner, product_salt(name))
}

/// A small deterministic generator (splitmix64), so random cases are the same on every run.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub fn address(&mut self) -> Address {
        let mut bytes = [0u8; 20];
        for chunk in bytes.chunks_mut(8) {
            chunk.copy_from_slice(&self.next_u64().to_be_bytes()[..chunk.len()]);
        }
        Address::from(bytes)
    }

    /// An amount from 1 wei up to about a million tokens.
    pub fn amount(&mut self) -> U256 {
        U256::from(self.next_u64() % 1_000_000 + 1) * U256::from(self.next_u64() % TOKEN as u64 + 1)
    }
}
