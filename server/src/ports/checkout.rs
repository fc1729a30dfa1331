//! The web app's checkout port: the price comes from the quote service `/api/v1/quotes` answers with,
//! and everything else a buyer signs with (the pools for the price impact, balances, the DAI allowance, the
//! DATA permit's nonce and domain, the current subscription) is read from the chain at that same block.

use std::sync::Arc;

use alloy::eips::BlockId;
use alloy::primitives::{Address, U256};
use alloy::providers::Provider;
use anyhow::Context;
use app::checkout::port::ssr::{Answer, Checkout, RequestCheckout};
use app::checkout::port::{
    BuyerState, CheckoutQuote, DaiValue, PermitDomain, QuoteRequest, Subscription, Subscriptions, Terms,
};
use app::checkout::quote::{Currency, Funds, Hop};
use app::error::{AppError, Service};
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use coop::contracts::{DataToken, Marketplace, UniswapV2Pair};

use crate::deploy::Deployment;
use crate::http::{ApiError, Services};
use crate::service::market;
use crate::service::quotes::{self, Quote};

#[derive(Clone)]
pub struct ChainCheckout {
    services: Arc<Services>,
}

impl ChainCheckout {
    pub fn new(services: Arc<Services>) -> Self {
        Self { services }
    }

    async fn read_chain(&self, request: &QuoteRequest, quoted: Quote) -> anyhow::Result<CheckoutQuote> {
        let services = &self.services;
        let deployment = services.deployment.as_ref().context("no deployment")?;
        let chain = &services.chain;
        let at = BlockId::number(quoted.block);
        let block_timestamp =
            services.clock.time_of(chain, quoted.block).await.map_err(|e| anyhow::anyhow!("{e:?}"))?;
        let gas_price = U256::from(chain.get_gas_price().await.context("reading the gas price")?);
        let mut hops = Vec::new();
        for pair in quoted.path.windows(2) {
            hops.push(self.hop(deployment, pair[0], pair[1], at).await?);
        }
        let token = match request.currency {
            Currency::Eth => None,
            Currency::Dai => Some(deployment.dai_token),
            Currency::Data => Some(deployment.data_token),
        };
        let data = DataToken::new(deployment.data_token, chain.clone());
        let permit = if request.currency == Currency::Data {
            let domain = data.eip712Domain().block(at).call().await.context("reading DATA's permit domain")?;
            Some(PermitDomain {
                name: domain.name,
                version: domain.version,
                chain_id: domain.chainId.try_into().context("chain id")?,
                verifying_contract: domain.verifyingContract,
            })
        } else {
            None
        };
        let buyer = match request.buyer {
            Some(buyer) => Some(self.buyer(deployment, request, token, buyer, at).await?),
            None => None,
        };
        let product = Marketplace::new(deployment.marketplace, chain.clone())
            .getProduct(request.product)
            .block(at)
            .call()
            .await
            .context("reading the product's terms")?;
        let terms = Terms { price_per_second: product.pricePerSecond, beneficiary: product.beneficiary };
        Ok(CheckoutQuote {
            request: request.clone(),
            price: quoted.price.0,
            terms,
            amount_in: quoted.amount_in.0,
            hops,
            block: quoted.block,
            block_timestamp,
            gas_price,
            adapter: deployment.uniswap_adapter,
            token,
            permit,
            buyer,
        })
    }

    /// The reserves of the pool swapping `from` into `to`, in that direction.
    async fn hop(&self, deployment: &Deployment, from: Address, to: Address, at: BlockId) -> anyhow::Result<Hop> {
        let dai_pool = [deployment.dai_token, deployment.weth];
        let pair = if dai_pool.contains(&from) && dai_pool.contains(&to) {
            deployment.dai_weth_pair
        } else {
            deployment.data_weth_pair
        };
        let pool = UniswapV2Pair::new(pair, self.services.chain.clone());
        let token0 = pool.token0().block(at).call().await.context("reading a pool's token0")?;
        let reserves = pool.getReserves().block(at).call().await.context("reading a pool's reserves")?;
        let (r0, r1) = (U256::from(reserves._reserve0.to::<u128>()), U256::from(reserves._reserve1.to::<u128>()));
        let (reserve_in, reserve_out) = if token0 == from { (r0, r1) } else { (r1, r0) };
        Ok(Hop { reserve_in, reserve_out })
    }

    async fn buyer(
        &self,
        deployment: &Deployment,
        request: &QuoteRequest,
        token: Option<Address>,
        buyer: Address,
        at: BlockId,
    ) -> anyhow::Result<BuyerState> {
        let chain = &self.services.chain;
        let eth = chain.get_balance(buyer).block_id(at).await.context("reading the buyer's ETH")?;
        // DAI and DATA are both plain ERC-20 reads; DATA's binding serves for either.
        let (balance, allowance) = match token {
            Some(token) => {
                let erc20 = DataToken::new(token, chain.clone());
                let balance = erc20.balanceOf(buyer).block(at).call().await.context("reading a balance")?;
                let allowance = erc20
                    .allowance(buyer, deployment.uniswap_adapter)
                    .block(at)
                    .call()
                    .await
                    .context("reading an allowance")?;
                (balance, allowance)
            }
            None => (eth, U256::ZERO),
        };
        let data = DataToken::new(deployment.data_token, chain.clone());
        let permit_nonce = data.nonces(buyer).block(at).call().await.context("reading the permit nonce")?;
        let market = Marketplace::new(deployment.marketplace, chain.clone());
        let subscription = market
            .getSubscription(request.product, buyer)
            .block(at)
            .call()
            .await
            .context("reading the buyer's subscription")?;
        Ok(BuyerState {
            funds: Funds { eth, token: balance, allowance },
            permit_nonce,
            subscription_end: subscription.endTimestamp,
        })
    }
}

fn unavailable(error: anyhow::Error) -> AppError {
    refused(ApiError::Unexpected(error))
}

fn refused(error: ApiError) -> AppError {
    super::refused(Service::Prices, error)
}

impl Checkout for ChainCheckout {
    fn quote(&self, request: QuoteRequest, min_block: u64) -> Answer<'_, CheckoutQuote> {
        Box::pin(async move {
            super::wait_for_block(&self.services, min_block).await;
            if request.seconds.is_zero() {
                return Err(AppError::BadRequest("`seconds` must be at least 1".to_owned()));
            }
            let quoted = quotes::quote(&self.services, request.product, request.seconds, request.currency)
                .await
                .map_err(refused)?;
            self.read_chain(&request, quoted).await.map_err(unavailable)
        })
    }

    fn dai_value(&self, data: U256) -> Answer<'_, DaiValue> {
        Box::pin(async move {
            let (dai, block) = quotes::dai_value(&self.services, data).await.map_err(refused)?;
            Ok(DaiValue { dai, block })
        })
    }

    fn subscriptions(&self, subscriber: Address) -> Answer<'_, Subscriptions> {
        Box::pin(async move {
            let (as_of_block, found) = market::subscriptions(&self.services, subscriber).await.map_err(refused)?;
            Ok(Subscriptions {
                as_of_block,
                chain_time: found.chain_time,
                subscriptions: found
                    .subscriptions
                    .into_iter()
                    .map(|s| Subscription {
                        product_id: s.product_id,
                        product_name: s.product_name,
                        end_timestamp: s.end_timestamp.0,
                        active: s.active,
                        updated_block: s.updated_block,
                    })
                    .collect(),
            })
        })
    }
}

/// Middleware: hands each request the checkout port, for the pages' server functions.
pub async fn provide_checkout(
    axum::extract::State(checkout): axum::extract::State<ChainCheckout>,
    mut request: Request,
    next: Next,
) -> Response {
    request.extensions_mut().insert(RequestCheckout(Arc::new(checkout)));
    next.run(request).await
}
