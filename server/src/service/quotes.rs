//! Quotes: what a subscription costs in DATA, ETH or DAI. The DATA price is the Marketplace's
//! `pricePerSecond * seconds`; ETH and DAI go through Uniswap V2 as the adapter routes them
//! (`[WETH, DATA]`, `[DAI, WETH, DATA]`), priced with the router's `getAmountsIn` at the block the
//! catalog stands at.

use std::time::Duration;

use alloy::eips::BlockId;
use alloy::primitives::{Address, B256, U256};
use app::checkout::quote::Currency;
use coop::contracts::UniswapV2Router02;
use serde::Serialize;
use utoipa::ToSchema;

use super::Wei;
use super::market::find;
use crate::api::openapi::schemas::{AnswerAddress, Hash};
use crate::http::ErrorCode;
use crate::http::{ApiError, Services};

const TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Quote {
    #[schema(value_type = Hash)]
    pub product_id: B256,
    pub seconds: Wei,
    pub currency: Currency,
    pub price_per_second: Wei,
    pub minimum_subscription_seconds: Wei,
    /// DATA wei the Marketplace takes: `pricePerSecond` x `seconds`.
    pub price: Wei,
    /// Wei of `currency` to pay (the router's `getAmountsIn`), slippage not included.
    pub amount_in: Wei,
    /// The swap path: `[WETH, DATA]` for ETH, `[DAI, WETH, DATA]` for DAI, empty for DATA and for a
    /// free product.
    #[schema(value_type = Vec<AnswerAddress>)]
    pub path: Vec<Address>,
    /// The block the pools were read at (the same as `asOfBlock`).
    pub block: u64,
}

/// The price of `seconds` of product `id`, paid in `currency`, at the block the catalog stands at.
pub async fn quote(services: &Services, id: B256, seconds: U256, currency: Currency) -> Result<Quote, ApiError> {
    let (block, price_per_second, minimum) = {
        let catalog = services.models.catalog().await;
        let product = find(&catalog, &id)?;
        if !product.deployed {
            return Err(ApiError::Conflict {
                code: ErrorCode::ProductNotListed,
                message: format!("product {id} is deleted and cannot be bought until it is redeployed"),
            });
        }
        (catalog.as_of(), product.price_per_second, product.minimum_subscription_seconds)
    };
    let price = price_per_second.checked_mul(seconds).ok_or_else(|| ApiError::BadRequest {
        code: ErrorCode::OutOfRange,
        message: format!("`seconds`: {seconds} seconds cost more than 2^256 wei"),
        field: Some("seconds"),
    })?;
    let deployment = services.deployment.as_ref().ok_or_else(|| ApiError::Unavailable {
        code: ErrorCode::NotDeployed,
        reason: "the server has no deployment file, so it knows no Uniswap router".to_owned(),
    })?;
    let path = match currency {
        // A free product costs nothing in any currency, and is not bought through the pools.
        _ if price.is_zero() => Vec::new(),
        Currency::Eth => vec![deployment.weth, deployment.data_token],
        Currency::Dai => vec![deployment.dai_token, deployment.weth, deployment.data_token],
        Currency::Data => Vec::new(),
    };
    let amount_in = if path.is_empty() { price } else { amount_in(services, price, path.clone(), block).await? };
    Ok(Quote {
        product_id: id,
        seconds: Wei(seconds),
        currency,
        price_per_second: Wei(price_per_second),
        minimum_subscription_seconds: Wei(minimum),
        price: Wei(price),
        amount_in: Wei(amount_in),
        path,
        block,
    })
}

/// What `data` DATA wei would sell for in DAI through the pools (`[DATA, WETH, DAI]`, the
/// router's `getAmountsOut`) at the block the catalog stands at, and that block: a member's
/// earnings in money people know, with no outside price feed. Zero DATA is worth zero without a
/// call.
pub async fn dai_value(services: &Services, data: U256) -> Result<(U256, u64), ApiError> {
    let block = services.models.catalog().await.as_of();
    if data.is_zero() {
        return Ok((U256::ZERO, block));
    }
    let deployment = services.deployment.as_ref().ok_or_else(|| ApiError::Unavailable {
        code: ErrorCode::NotDeployed,
        reason: "the server has no deployment file, so it knows no Uniswap router".to_owned(),
    })?;
    let router = UniswapV2Router02::new(deployment.uniswap_router, services.chain.clone());
    let path = vec![deployment.data_token, deployment.weth, deployment.dai_token];
    let call = router.getAmountsOut(data, path).block(BlockId::number(block));
    match tokio::time::timeout(TIMEOUT, call.call()).await {
        Err(_) => Err(ApiError::chain_unavailable(format!("no answer within {} s", TIMEOUT.as_secs()))),
        Ok(Ok(amounts)) => {
            let dai =
                amounts.last().copied().ok_or_else(|| ApiError::chain_unavailable("the router answered no amounts"))?;
            Ok((dai, block))
        }
        Ok(Err(error)) if error.as_revert_data().is_some() => Err(ApiError::BadRequest {
            code: ErrorCode::InsufficientLiquidity,
            message: format!("`amount`: the pools cannot take {data} DATA wei at block {block}"),
            field: Some("amount"),
        }),
        Ok(Err(error)) => Err(ApiError::chain_unavailable(error)),
    }
}

/// `getAmountsIn(price, path)[0]` at `block`. A revert means the pools cannot supply that much DATA.
async fn amount_in(services: &Services, price: U256, path: Vec<Address>, block: u64) -> Result<U256, ApiError> {
    let deployment = services.deployment.as_ref().expect("checked by the caller");
    let router = UniswapV2Router02::new(deployment.uniswap_router, services.chain.clone());
    let call = router.getAmountsIn(price, path).block(BlockId::number(block));
    match tokio::time::timeout(TIMEOUT, call.call()).await {
        Err(_) => Err(ApiError::chain_unavailable(format!("no answer within {} s", TIMEOUT.as_secs()))),
        Ok(Ok(amounts)) => {
            amounts.first().copied().ok_or_else(|| ApiError::chain_unavailable("the router answered no amounts"))
        }
        Ok(Err(error)) if error.as_revert_data().is_some() => Err(ApiError::BadRequest {
            code: ErrorCode::InsufficientLiquidity,
            message: format!("`seconds`: the pools cannot supply {price} DATA wei at block {block}"),
            field: Some("seconds"),
        }),
        Ok(Err(error)) => Err(ApiError::chain_unavailable(error)),
    }
}
