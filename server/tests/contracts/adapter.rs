//! UniswapAdapter: buying with ETH, DAI and DATA (permit) through the real Uniswap V2, exact accounting,
//! nothing left in the adapter, and the revert paths.

use alloy::{
    primitives::{Address, B256, U256},
    sol,
};
use coop::contracts::{
    DataToken,
    Marketplace::{self, MarketplaceErrors},
    UniswapAdapter::{self, UniswapAdapterErrors as E},
    UniswapV2Router02, WETH9,
};

use crate::helpers::*;

sol!(
    #[sol(rpc)]
    EtherRefusingBuyer,
    "../contracts/artifacts/EtherRefusingBuyer.json"
);

/// 0.01 DATA a second, at least a minute; bought for ten minutes (6 DATA).
const PRICE_PER_SECOND: u128 = TOKEN / 100;
const MINIMUM_SECONDS: u64 = 60;
const SECONDS: u64 = 600;
/// 0.5 % slippage on top of the quote, as the checkout allows by default.
const SLIPPAGE_PER_MILLE: u64 = 5;

struct Shop {
    chain: Chain,
    id: B256,
    beneficiary: Address,
    price: U256,
}

async fn shop() -> Shop {
    let chain = Chain::start().await;
    shop_paying(chain, None).await
}

/// A product paying `beneficiary` (default: the account `OTHER`).
async fn shop_paying(chain: Chain, beneficiary: Option<Address>) -> Shop {
    let beneficiary = beneficiary.unwrap_or(chain.address(OTHER));
    let (per_second, minimum) = (U256::from(PRICE_PER_SECOND), U256::from(MINIMUM_SECONDS));
    let id = chain.create_product(OWNER, "Air quality", beneficiary, per_second, minimum).await;
    let price = U256::from(PRICE_PER_SECOND) * U256::from(SECONDS);
    Shop { chain, id, beneficiary, price }
}

impl Shop {
    fn seconds(&self) -> U256 {
        U256::from(SECONDS)
    }

    /// The most the buyer pays per second: the product's price when it looked.
    fn max_price(&self) -> U256 {
        U256::from(PRICE_PER_SECOND)
    }

    async fn deadline(&self) -> U256 {
        U256::from(self.chain.timestamp().await + 20 * 60)
    }

    /// The router's quote for the DATA price, paying with `token_in` (WETH for ETH).
    async fn quote(&self, token_in: Address) -> U256 {
        let quoted = self.chain.adapter(BUYER).quote(self.id, self.seconds(), token_in).call().await.unwrap();
        if token_in == self.chain.deployment.data_token {
            return quoted;
        }
        let router = UniswapV2Router02::new(self.chain.deployment.uniswap_router, self.chain.wallet(BUYER));
        let path = self.chain.adapter(BUYER).pathFrom(token_in).call().await.unwrap();
        let amounts = router.getAmountsIn(self.price, path).call().await.unwrap();
        assert_eq!(quoted, amounts[0], "the adapter quotes what the router does");
        quoted
    }

    /// The adapter holds nothing of anything.
    async fn assert_adapter_is_empty(&self) {
        let adapter = self.chain.deployment.uniswap_adapter;
        assert_eq!(self.chain.eth_balance(adapter).await, U256::ZERO, "ETH in the adapter");
        assert_eq!(self.chain.data_balance(adapter).await, U256::ZERO, "DATA in the adapter");
        assert_eq!(self.chain.dai_balance(adapter).await, U256::ZERO, "DAI in the adapter");
        let weth = WETH9::new(self.chain.deployment.weth, self.chain.wallet(BUYER));
        assert_eq!(weth.balanceOf(adapter).call().await.unwrap(), U256::ZERO, "WETH in the adapter");
        let data = self.chain.data(BUYER);
        let allowance = data.allowance(adapter, self.chain.deployment.marketplace).call().await.unwrap();
        assert_eq!(allowance, U256::ZERO, "DATA allowance left to the marketplace");
    }

    async fn assert_buyer_subscribed(&self) {
        let buyer = self.chain.address(BUYER);
        let market = Marketplace::new(self.chain.deployment.marketplace, self.chain.wallet(BUYER));
        assert!(market.hasValidSubscription(self.id, buyer).call().await.unwrap());
    }

    /// A permit for the adapter to take `value` DATA from the buyer, signed by the buyer.
    async fn permit(&self, value: U256, deadline: U256) -> (u8, B256, B256) {
        self.chain.adapter_permit(BUYER, value, deadline).await
    }
}

fn with_slippage(quote: U256) -> U256 {
    quote * U256::from(1000 + SLIPPAGE_PER_MILLE) / U256::from(1000)
}

#[tokio::test]
async fn buying_with_eth_pays_the_quote_and_refunds_the_rest() {
    let shop = shop().await;
    let buyer = shop.chain.address(BUYER);
    let quote = shop.quote(shop.chain.deployment.weth).await;
    let sent = with_slippage(quote);
    let (eth_before, beneficiary_before) =
        (shop.chain.eth_balance(buyer).await, shop.chain.data_balance(shop.beneficiary).await);

    let receipt = send(
        shop.chain
            .adapter(BUYER)
            .buyWithETH(shop.id, shop.seconds(), shop.max_price(), shop.beneficiary, shop.deadline().await)
            .value(sent),
    )
    .await;
    report_gas("UniswapAdapter.buyWithETH", &receipt);

    assert_eq!(shop.chain.eth_balance(buyer).await, eth_before - quote - fee_of(&receipt));
    assert_eq!(shop.chain.data_balance(shop.beneficiary).await, beneficiary_before + shop.price);
    shop.assert_adapter_is_empty().await;
    shop.assert_buyer_subscribed().await;
}

#[tokio::test]
async fn buying_with_dai_takes_exactly_the_quote() {
    let shop = shop().await;
    let buyer = shop.chain.address(BUYER);
    let quote = shop.quote(shop.chain.deployment.dai_token).await;
    let max_in = with_slippage(quote);
    send(shop.chain.dai(BUYER).approve(shop.chain.deployment.uniswap_adapter, max_in)).await;
    let (dai_before, beneficiary_before) =
        (shop.chain.dai_balance(buyer).await, shop.chain.data_balance(shop.beneficiary).await);

    let receipt = send(shop.chain.adapter(BUYER).buyWithERC20(
        shop.id,
        shop.seconds(),
        shop.max_price(),
        shop.beneficiary,
        shop.chain.deployment.dai_token,
        max_in,
        shop.deadline().await,
    ))
    .await;
    report_gas("UniswapAdapter.buyWithERC20 (DAI, after approve)", &receipt);

    assert_eq!(shop.chain.dai_balance(buyer).await, dai_before - quote);
    assert_eq!(shop.chain.data_balance(shop.beneficiary).await, beneficiary_before + shop.price);
    // The unused part of the maximum was never taken.
    let left = shop.chain.dai(BUYER).allowance(buyer, shop.chain.deployment.uniswap_adapter).call().await.unwrap();
    assert_eq!(left, max_in - quote);
    shop.assert_adapter_is_empty().await;
    shop.assert_buyer_subscribed().await;
}

#[tokio::test]
async fn buying_with_data_and_a_permit_is_one_transaction() {
    let shop = shop().await;
    let buyer = shop.chain.address(BUYER);
    assert_eq!(shop.quote(shop.chain.deployment.data_token).await, shop.price);
    let deadline = shop.deadline().await;
    let (v, r, s) = shop.permit(shop.price, deadline).await;
    let (data_before, beneficiary_before) =
        (shop.chain.data_balance(buyer).await, shop.chain.data_balance(shop.beneficiary).await);

    let receipt = send(shop.chain.adapter(BUYER).buyWithDataPermit(
        shop.id,
        shop.seconds(),
        shop.max_price(),
        shop.beneficiary,
        deadline,
        v,
        r,
        s,
    ))
    .await;
    report_gas("UniswapAdapter.buyWithDataPermit", &receipt);

    assert_eq!(shop.chain.data_balance(buyer).await, data_before - shop.price);
    assert_eq!(shop.chain.data_balance(shop.beneficiary).await, beneficiary_before + shop.price);
    let allowance =
        shop.chain.data(BUYER).allowance(buyer, shop.chain.deployment.uniswap_adapter).call().await.unwrap();
    assert_eq!(allowance, U256::ZERO);
    shop.assert_adapter_is_empty().await;
    shop.assert_buyer_subscribed().await;
}

#[tokio::test]
async fn a_used_or_wrong_permit_is_refused() {
    let shop = shop().await;
    let deadline = shop.deadline().await;
    let (v, r, s) = shop.permit(shop.price, deadline).await;
    let adapter = shop.chain.adapter(BUYER);
    let (max_price, beneficiary) = (shop.max_price(), shop.beneficiary);
    send(adapter.buyWithDataPermit(shop.id, shop.seconds(), max_price, beneficiary, deadline, v, r, s)).await;

    // The same signature again: the nonce has moved on and there is no allowance left.
    let buy = |v, r, s| adapter.buyWithDataPermit(shop.id, shop.seconds(), max_price, beneficiary, deadline, v, r, s);
    let error = revert::<E, _, _>(buy(v, r, s)).await;
    assert_eq!(error, E::PermitFailed(UniswapAdapter::PermitFailed {}));
    // A permit for less than the agreed price.
    let (v, r, s) = shop.permit(shop.price - U256::from(1), deadline).await;
    let error = revert::<E, _, _>(buy(v, r, s)).await;
    assert_eq!(error, E::PermitFailed(UniswapAdapter::PermitFailed {}));
    // A permit for more than the agreed price: the permit signed is not the one the adapter asks for.
    let (v, r, s) = shop.permit(shop.price + U256::from(1), deadline).await;
    let error = revert::<E, _, _>(buy(v, r, s)).await;
    assert_eq!(error, E::PermitFailed(UniswapAdapter::PermitFailed {}));
}

#[tokio::test]
async fn a_permit_front_run_by_someone_else_still_buys() {
    let shop = shop().await;
    let deadline = shop.deadline().await;
    let (v, r, s) = shop.permit(shop.price, deadline).await;
    let owner = shop.chain.address(BUYER);
    send(shop.chain.data(OTHER).permit(owner, shop.chain.deployment.uniswap_adapter, shop.price, deadline, v, r, s))
        .await;

    let (max_price, beneficiary) = (shop.max_price(), shop.beneficiary);
    send(shop.chain.adapter(BUYER).buyWithDataPermit(
        shop.id,
        shop.seconds(),
        max_price,
        beneficiary,
        deadline,
        v,
        r,
        s,
    ))
    .await;

    shop.assert_buyer_subscribed().await;
    shop.assert_adapter_is_empty().await;
}

#[tokio::test]
async fn an_expired_deadline_is_refused() {
    let shop = shop().await;
    let adapter = shop.chain.adapter(BUYER);
    let expired = U256::from(shop.chain.timestamp().await - 1);
    send(shop.chain.dai(BUYER).approve(shop.chain.deployment.uniswap_adapter, U256::MAX)).await;
    let (v, r, s) = shop.permit(shop.price, expired).await;

    let (id, seconds, max_price, beneficiary) = (shop.id, shop.seconds(), shop.max_price(), shop.beneficiary);
    let dai = shop.chain.deployment.dai_token;
    let calls = [
        revert::<E, _, _>(adapter.buyWithETH(id, seconds, max_price, beneficiary, expired).value(tokens(1))).await,
        revert::<E, _, _>(adapter.buyWithERC20(id, seconds, max_price, beneficiary, dai, tokens(100), expired)).await,
        revert::<E, _, _>(adapter.buyWithDataPermit(id, seconds, max_price, beneficiary, expired, v, r, s)).await,
    ];

    for error in calls {
        let E::DeadlineExpired(UniswapAdapter::DeadlineExpired { deadline, timestamp }) = error else {
            panic!("expected DeadlineExpired, got {error:?}");
        };
        assert_eq!(deadline, expired);
        assert!(timestamp > expired);
    }
}

#[tokio::test]
async fn too_small_a_maximum_input_is_refused() {
    let shop = shop().await;
    let adapter = shop.chain.adapter(BUYER);
    let deadline = shop.deadline().await;
    let deployment = &shop.chain.deployment;
    send(shop.chain.dai(BUYER).approve(deployment.uniswap_adapter, U256::MAX)).await;
    send(shop.chain.data(BUYER).approve(deployment.uniswap_adapter, U256::MAX)).await;
    let eth_quote = shop.quote(deployment.weth).await;
    let dai_quote = shop.quote(deployment.dai_token).await;
    let one = U256::from(1);
    let (id, seconds, max_price, beneficiary) = (shop.id, shop.seconds(), shop.max_price(), shop.beneficiary);

    let error =
        revert::<E, _, _>(adapter.buyWithETH(id, seconds, max_price, beneficiary, deadline).value(eth_quote - one))
            .await;
    let expected = UniswapAdapter::MaxInputTooSmall { requiredInput: eth_quote, maxInput: eth_quote - one };
    assert_eq!(error, E::MaxInputTooSmall(expected));
    let error = revert::<E, _, _>(adapter.buyWithERC20(
        id,
        seconds,
        max_price,
        beneficiary,
        deployment.dai_token,
        dai_quote - one,
        deadline,
    ))
    .await;
    let expected = UniswapAdapter::MaxInputTooSmall { requiredInput: dai_quote, maxInput: dai_quote - one };
    assert_eq!(error, E::MaxInputTooSmall(expected));
    let error = revert::<E, _, _>(adapter.buyWithERC20(
        id,
        seconds,
        max_price,
        beneficiary,
        deployment.data_token,
        shop.price - one,
        deadline,
    ))
    .await;
    let expected = UniswapAdapter::MaxInputTooSmall { requiredInput: shop.price, maxInput: shop.price - one };
    assert_eq!(error, E::MaxInputTooSmall(expected));

    // Exactly the quote is enough (the ETH purchase moved the DATA/WETH price, so quote DAI again).
    send(adapter.buyWithETH(id, seconds, max_price, beneficiary, deadline).value(eth_quote)).await;
    let dai_quote = shop.quote(deployment.dai_token).await;
    send(adapter.buyWithERC20(id, seconds, max_price, beneficiary, deployment.dai_token, dai_quote, deadline)).await;
    shop.assert_adapter_is_empty().await;
}

#[tokio::test]
async fn buying_with_data_through_erc20_takes_exactly_the_price() {
    let shop = shop().await;
    let buyer = shop.chain.address(BUYER);
    send(shop.chain.data(BUYER).approve(shop.chain.deployment.uniswap_adapter, tokens(1000))).await;
    let before = shop.chain.data_balance(buyer).await;

    send(shop.chain.adapter(BUYER).buyWithERC20(
        shop.id,
        shop.seconds(),
        shop.max_price(),
        shop.beneficiary,
        shop.chain.deployment.data_token,
        tokens(1000),
        shop.deadline().await,
    ))
    .await;

    assert_eq!(shop.chain.data_balance(buyer).await, before - shop.price);
    shop.assert_adapter_is_empty().await;
}

#[tokio::test]
async fn a_data_union_product_purchase_lands_its_data_in_the_data_union() {
    let chain = Chain::start().await;
    let du = chain.create_data_union(U256::ZERO, 0).await;
    let shop = shop_paying(chain, Some(du)).await;

    let receipt = send(
        shop.chain
            .adapter(BUYER)
            .buyWithETH(shop.id, shop.seconds(), shop.max_price(), du, shop.deadline().await)
            .value(tokens(1)),
    )
    .await;

    assert_eq!(shop.chain.data_balance(du).await, shop.price);
    // The revenue event the engine consumes: a DATA Transfer whose `to` is the DU.
    let revenue: Vec<_> = receipt
        .inner
        .logs()
        .iter()
        .filter(|log| log.address() == shop.chain.deployment.data_token)
        .filter_map(|log| log.log_decode::<DataToken::Transfer>().ok())
        .map(|log| log.inner.data)
        .filter(|transfer| transfer.to == du)
        .collect();
    assert_eq!(revenue.len(), 1);
    assert_eq!(revenue[0].value, shop.price);
    shop.assert_adapter_is_empty().await;
}

#[tokio::test]
async fn a_buyer_that_cannot_take_its_refund_is_refused() {
    let shop = shop().await;
    let buyer = EtherRefusingBuyer::deploy(shop.chain.wallet(BUYER)).await.unwrap();
    let adapter = shop.chain.deployment.uniswap_adapter;
    let quote = shop.quote(shop.chain.deployment.weth).await;
    let deadline = shop.deadline().await;
    let (id, seconds, max_price, beneficiary) = (shop.id, shop.seconds(), shop.max_price(), shop.beneficiary);

    let error = revert::<E, _, _>(
        buyer.buyWithETH(adapter, id, seconds, max_price, beneficiary, deadline).value(quote + tokens(1)),
    )
    .await;

    assert_eq!(error, E::RefundFailed(UniswapAdapter::RefundFailed { buyer: *buyer.address(), amount: tokens(1) }));
    // Sending exactly the quote leaves nothing to refund.
    send(buyer.buyWithETH(adapter, id, seconds, max_price, beneficiary, deadline).value(quote)).await;
    shop.assert_adapter_is_empty().await;
}

#[tokio::test]
async fn an_old_allowance_never_pays_a_price_raised_after_the_buyer_agreed_to_one() {
    let shop = shop().await;
    let chain = &shop.chain;
    let (buyer, adapter) = (chain.address(BUYER), chain.deployment.uniswap_adapter);
    let (id, seconds, agreed, beneficiary) = (shop.id, shop.seconds(), shop.max_price(), shop.beneficiary);
    let deadline = shop.deadline().await;

    // An earlier purchase whose permit allowed up to ten times the price leaves a large allowance behind.
    let generous = agreed * U256::from(10);
    let (v, r, s) = shop.permit(generous * seconds, deadline).await;
    send(chain.adapter(BUYER).buyWithDataPermit(id, seconds, generous, beneficiary, deadline, v, r, s)).await;
    let allowance = chain.data(BUYER).allowance(buyer, adapter).call().await.unwrap();
    assert_eq!(allowance, U256::from(9) * shop.price, "only the price was taken");

    // The seller raises the price; the buyer's next purchase names the terms it saw.
    let raised = agreed * U256::from(2);
    send(chain.marketplace(OWNER).updateProduct(
        id,
        "Air quality".into(),
        beneficiary,
        raised,
        U256::from(MINIMUM_SECONDS),
    ))
    .await;
    let (data_before, beneficiary_before) = (chain.data_balance(buyer).await, chain.data_balance(beneficiary).await);
    let changed = MarketplaceErrors::TermsChanged(Marketplace::TermsChanged {
        productId: id,
        pricePerSecond: raised,
        beneficiary,
    });

    // The used permit fails, the old allowance would cover the new price, and the marketplace refuses.
    let buyer_adapter = chain.adapter(BUYER);
    let with_permit = buyer_adapter.buyWithDataPermit(id, seconds, agreed, beneficiary, deadline, v, r, s);
    assert_eq!(revert::<MarketplaceErrors, _, _>(with_permit).await, changed);
    let data = chain.deployment.data_token;
    let with_allowance = buyer_adapter.buyWithERC20(id, seconds, agreed, beneficiary, data, tokens(1000), deadline);
    assert_eq!(revert::<MarketplaceErrors, _, _>(with_allowance).await, changed);
    let with_eth = buyer_adapter.buyWithETH(id, seconds, agreed, beneficiary, deadline).value(tokens(1));
    assert_eq!(revert::<MarketplaceErrors, _, _>(with_eth).await, changed);

    assert_eq!(chain.data_balance(buyer).await, data_before, "the buyer's DATA is untouched");
    assert_eq!(chain.data_balance(beneficiary).await, beneficiary_before);
    assert_eq!(chain.data(BUYER).allowance(buyer, adapter).call().await.unwrap(), allowance);
    shop.assert_adapter_is_empty().await;

    // Agreeing to the new price buys with what is left of the allowance.
    send(chain.adapter(BUYER).buyWithDataPermit(id, seconds, raised, beneficiary, deadline, v, r, s)).await;
    assert_eq!(chain.data_balance(buyer).await, data_before - raised * seconds);
    shop.assert_adapter_is_empty().await;
}
