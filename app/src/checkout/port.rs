//! What the checkout asks the server: a quote with everything needed to sign (pools, the buyer's funds,
//! the permit's domain) read at one block, and a buyer's subscriptions. Server functions over a port
//! the server fills in, like [`crate::market`].

use alloy_primitives::{Address, B256, U256};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::quote::{Currency, Funds, Hop};
use crate::error::AppError;

/// A purchase to price: `seconds` of `product`, paid in `currency`, by `buyer` when one is connected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuoteRequest {
    pub product: B256,
    pub seconds: U256,
    pub currency: Currency,
    pub buyer: Option<Address>,
}

/// The price of a purchase and all the checkout signs with, as of `block`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckoutQuote {
    pub request: QuoteRequest,
    /// DATA wei the Marketplace takes (`pricePerSecond × seconds`).
    pub price: U256,
    /// The terms the purchase carries, as of `block`: the marketplace refuses it if the seller changed
    /// either before it is mined.
    pub terms: Terms,
    /// Wei of the currency the swap needs now (the router's `getAmountsIn`; the price for DATA).
    pub amount_in: U256,
    /// The pools of the route, in the swap's direction; empty for DATA.
    pub hops: Vec<Hop>,
    pub block: u64,
    pub block_timestamp: u64,
    /// Wei per gas unit the chain asks now.
    pub gas_price: U256,
    pub adapter: Address,
    /// The ERC-20 paid with; `None` for ETH.
    pub token: Option<Address>,
    /// The EIP-712 domain of DATA's permit (DATA only).
    pub permit: Option<PermitDomain>,
    /// The buyer's side, when a buyer was named.
    pub buyer: Option<BuyerState>,
}

/// A product's price and beneficiary, which a purchase names so that it pays no more and nobody else.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Terms {
    /// DATA wei per second.
    pub price_per_second: U256,
    pub beneficiary: Address,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PermitDomain {
    pub name: String,
    pub version: String,
    pub chain_id: u64,
    pub verifying_contract: Address,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuyerState {
    pub funds: Funds,
    /// The next EIP-2612 nonce of the buyer on DATA.
    pub permit_nonce: U256,
    /// The buyer's subscription end (seconds since the epoch; zero when there never was one).
    pub subscription_end: U256,
}

impl CheckoutQuote {
    /// The buyer has a subscription that runs past the quote's block: the purchase extends it.
    pub fn running(&self) -> bool {
        self.buyer.as_ref().is_some_and(|buyer| buyer.subscription_end > U256::from(self.block_timestamp))
    }
}

/// A subscription as the indexer knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Subscription {
    pub product_id: B256,
    pub product_name: String,
    #[serde(with = "crate::market::wei_text")]
    pub end_timestamp: U256,
    pub active: bool,
    pub updated_block: u64,
}

/// A buyer's subscriptions, as of a block.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Subscriptions {
    #[serde(rename = "asOfBlock")]
    pub as_of_block: u64,
    pub chain_time: u64,
    pub subscriptions: Vec<Subscription>,
}

/// The price of `request` now, with the buyer's funds; with `min_block`, as of that block or a later
/// one (after a purchase, so its subscription is in the answer), waiting a few seconds for the indexer.
#[server(endpoint = "checkout_quote")]
pub async fn quote_checkout(request: QuoteRequest, min_block: Option<u64>) -> Result<CheckoutQuote, AppError> {
    ssr::checkout()?.quote(request, min_block.unwrap_or_default()).await
}

/// What an amount of DATA would sell for in DAI through the pools on chain, at `block`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DaiValue {
    pub dai: U256,
    pub block: u64,
}

/// What `data` DATA wei would sell for in DAI now (the router's `getAmountsOut`): an estimate in
/// dollars of a member's earnings.
#[server(endpoint = "dai_value_of")]
pub async fn dai_value_of(data: U256) -> Result<DaiValue, AppError> {
    ssr::checkout()?.dai_value(data).await
}

/// What `subscriber` has bought.
#[server(endpoint = "subscriptions_of")]
pub async fn subscriptions_of(subscriber: Address) -> Result<Subscriptions, AppError> {
    ssr::checkout()?.subscriptions(subscriber).await
}

/// The port the server implements; it puts a [`ssr::RequestCheckout`] into every request's extensions.
#[cfg(feature = "ssr")]
pub mod ssr {
    use std::future::Future;
    use std::pin::Pin;
    use std::sync::Arc;

    use crate::error::{AppError, Service};
    use alloy_primitives::Address;

    use super::{CheckoutQuote, DaiValue, QuoteRequest, Subscriptions};

    pub type Answer<'a, T> = Pin<Box<dyn Future<Output = Result<T, AppError>> + Send + 'a>>;

    pub trait Checkout: Send + Sync {
        fn quote(&self, request: QuoteRequest, min_block: u64) -> Answer<'_, CheckoutQuote>;
        fn subscriptions(&self, subscriber: Address) -> Answer<'_, Subscriptions>;
        fn dai_value(&self, data: alloy_primitives::U256) -> Answer<'_, DaiValue>;
    }

    #[derive(Clone)]
    pub struct RequestCheckout(pub Arc<dyn Checkout>);

    pub(super) fn checkout() -> Result<Arc<dyn Checkout>, AppError> {
        crate::request_port::<RequestCheckout>(Service::Prices).map(|checkout| checkout.0)
    }
}
