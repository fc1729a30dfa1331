//! `/api/v1/quotes`: what a subscription costs in DATA, ETH or DAI. The DATA price is the
//! Marketplace's `pricePerSecond * seconds`; ETH and DAI go through Uniswap V2 as the adapter routes
//! them (`[WETH, DATA]`, `[DAI, WETH, DATA]`), priced with the router's `getAmountsIn` at the block
//! the catalog stands at.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use alloy::eips::BlockId;
use alloy::primitives::{Address, B256, U256};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use coop::contracts::UniswapV2Router02;
use serde::Serialize;

use super::params::{self, Params};
use super::products::find;
use super::{Answer, Wei};
use crate::http::{ApiError, Services};

const CURRENCIES: [&str; 3] = ["DATA", "ETH", "DAI"];
const TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Quote {
    product_id: B256,
    seconds: Wei,
    currency: &'static str,
    price_per_second: Wei,
    minimum_subscription_seconds: Wei,
    /// DATA wei the Marketplace takes.
    price: Wei,
    /// Wei of `currency` to pay, slippage not included.
    amount_in: Wei,
    /// The swap path, empty for DATA.
    path: Vec<Address>,
    /// The block the pools were read at (the same as `asOfBlock`).
    block: u64,
}

pub async fn quote(
    State(services): State<Arc<Services>>,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<Answer<Quote>, ApiError> {
    let params = Params::from_query(query)?;
    let id = params::product_id(params.required("product")?, "product")?;
    let seconds = params::positive_amount(params.required("seconds")?, "seconds")?;
    let currency = params.choice("currency", &CURRENCIES)?;
    let (block, price_per_second, minimum) = {
        let catalog = services.catalog.read().await;
        let product = find(&catalog, &id)?;
        if !product.deployed {
            return Err(ApiError::Conflict {
                code: "product_not_listed",
                message: format!("product {id} is deleted and cannot be bought until it is redeployed"),
            });
        }
        (catalog.as_of(), product.price_per_second, product.minimum_subscription_seconds)
    };
    let price = price_per_second.checked_mul(seconds).ok_or_else(|| ApiError::BadRequest {
        code: "out_of_range",
        message: format!("`seconds`: {seconds} seconds cost more than 2^256 wei"),
        field: Some("seconds"),
    })?;
    let deployment = services.deployment.as_ref().ok_or_else(|| ApiError::Unavailable {
        code: "not_deployed",
        reason: "the server has no deployment file, so it knows no Uniswap router".to_owned(),
    })?;
    let path = match currency {
        "ETH" => vec![deployment.weth, deployment.data_token],
        "DAI" => vec![deployment.dai_token, deployment.weth, deployment.data_token],
        _ => Vec::new(),
    };
    let amount_in = if path.is_empty() { price } else { amount_in(&services, price, path.clone(), block).await? };
    let quote = Quote {
        product_id: id,
        seconds: Wei(seconds),
        currency,
        price_per_second: Wei(price_per_second),
        minimum_subscription_seconds: Wei(minimum),
        price: Wei(price),
        amount_in: Wei(amount_in),
        path,
        block,
    };
    Ok(Answer::new(block, quote))
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
            code: "insufficient_liquidity",
            message: format!("`seconds`: the pools cannot supply {price} DATA wei at block {block}"),
            field: Some("seconds"),
        }),
        Ok(Err(error)) => Err(ApiError::chain_unavailable(error)),
    }
}
