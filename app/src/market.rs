//! The marketplace as the pages read it: products (with their Data Union's figures) through server
//! functions over a port the server fills in, so the pages render on the server and again after
//! hydration from the same data.

use alloy_primitives::{Address, B256, U256};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::products::{Category, Licence};

/// How many products a page of the marketplace shows.
pub const PAGE_SIZE: usize = 12;

crate::named::named_enum! {
    /// The orders the marketplace can list products in.
    #[derive(Default)]
    pub enum Sort {
        #[default]
        Newest = "newest" ("Newest"),
        /// Cheapest per second first, newest first among equals.
        Price = "price" ("Lowest price"),
    }
}

crate::named::named_enum! {
    /// Which products the marketplace lists: all, or only Data Unions' or only single sellers'.
    #[derive(Default)]
    pub enum ProductKind {
        #[default]
        All = "all" ("All products"),
        /// Products whose payments go to a Data Union.
        Union = "union" ("Data Unions"),
        /// Products sold by one seller.
        Single = "single" ("Single sellers"),
    }
}

crate::named::named_enum! {
    /// Whether a product can be bought.
    pub enum ProductState {
        /// Listed: it can be bought.
        Deployed = "deployed" ("Listed"),
        /// Unlisted; running subscriptions go on.
        Deleted = "deleted" ("Unlisted"),
    }
}

/// What the marketplace is asked for: a search, an order and where the page starts.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ProductQuery {
    pub q: String,
    #[serde(default)]
    pub sort: Sort,
    pub offset: usize,
    /// Only products filed under it; all when `None`.
    #[serde(with = "crate::named::empty_is_none", default)]
    pub category: Option<Category>,
    #[serde(default)]
    pub kind: ProductKind,
}

/// One product as the marketplace lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductCard {
    pub id: B256,
    pub name: String,
    pub owner: Address,
    pub beneficiary: Address,
    pub data_union: bool,
    /// DATA wei per second.
    #[serde(with = "wei_text")]
    pub price_per_second: U256,
    #[serde(with = "wei_text")]
    pub minimum_subscription_seconds: U256,
    pub state: ProductState,
    #[serde(default)]
    pub purchases: u64,
    #[serde(with = "wei_text", default)]
    pub revenue: U256,
    #[serde(default)]
    pub subscribers: u64,
    /// The Data Union's active members, for a Data Union product.
    #[serde(default)]
    pub members: Option<u64>,
    /// What the seller wrote beyond the chain (empty when nothing): see `products::ProductMetadata`.
    #[serde(default)]
    pub description: String,
    #[serde(with = "crate::named::empty_is_none", default)]
    pub category: Option<Category>,
    /// The cover's name under `products::COVERS_PATH`, or empty.
    #[serde(default)]
    pub cover: String,
    /// The terms a buyer accepts, `None` when the seller states none.
    #[serde(with = "crate::named::empty_is_none", default)]
    pub licence: Option<Licence>,
    /// The seller's own terms, with [`Licence::Own`].
    #[serde(default)]
    pub terms: String,
    /// How buyers reach the seller (an e-mail or an `https://` address), or empty.
    #[serde(default)]
    pub contact: String,
}

/// A page of the marketplace.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ProductPage {
    pub total: usize,
    pub offset: usize,
    pub products: Vec<ProductCard>,
}

/// A Data Union's figures, for its product's page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UnionFigures {
    pub address: Address,
    pub active_members: u64,
    pub total_members: u64,
    #[serde(with = "wei_text")]
    pub total_revenue: U256,
    /// The admin fee as an exact percentage (`"12.5"`).
    pub admin_fee_percent: String,
}

/// A product's page: the product, and its Data Union when the beneficiary is one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductDetail {
    pub product: ProductCard,
    pub union: Option<UnionFigures>,
    /// Up to [`RELATED`] other listed products of the same category or the same seller: those of
    /// both first, then the category's, then the seller's, newest first within each.
    pub related: Vec<ProductCard>,
}

/// How many related products a product's page suggests.
pub const RELATED: usize = 3;

/// What a seller has on the marketplace: its products, listed and unlisted, newest first, and the
/// Data Unions it owns, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SellerListings {
    pub seller: Address,
    pub products: Vec<ProductCard>,
    pub unions: Vec<UnionFigures>,
    /// What the products sold over time, all together: at most a chart's worth of points.
    pub sales: Vec<SalesPoint>,
    /// The chain time the listing is as of (seconds): where the charts end.
    pub chain_time: u64,
}

/// A seller's sales after one block where something sold, all its products together.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SalesPoint {
    /// The block's time, seconds since 1970.
    pub at: u64,
    pub purchases: u64,
    /// Addresses that ever subscribed, counted once per product.
    pub subscribers: u64,
    /// DATA paid, in wei.
    pub revenue: U256,
}

/// A page of products for `query`.
#[server(endpoint = "list_products")]
pub async fn list_products(query: ProductQuery) -> Result<ProductPage, AppError> {
    ssr::market()?.products(query).await
}

/// The product `id`, `None` when there is no such product.
#[server(endpoint = "get_product")]
pub async fn get_product(id: B256) -> Result<Option<ProductDetail>, AppError> {
    ssr::market()?.product(id).await
}

/// What `seller` has on the marketplace. Public, as the chain is: the page shows a seller its own.
#[server(endpoint = "listings_of")]
pub async fn listings_of(seller: Address) -> Result<SellerListings, AppError> {
    ssr::market()?.seller(seller).await
}

/// The port the server implements; it puts a [`ssr::RequestMarket`] into every request's extensions.
#[cfg(feature = "ssr")]
pub mod ssr {
    use std::future::Future;
    use std::pin::Pin;
    use std::sync::Arc;

    use super::{ProductDetail, ProductPage, ProductQuery, SellerListings};
    use crate::error::{AppError, Service};
    use alloy_primitives::{Address, B256};

    pub type Answer<'a, T> = Pin<Box<dyn Future<Output = Result<T, AppError>> + Send + 'a>>;

    pub trait Market: Send + Sync {
        fn products(&self, query: ProductQuery) -> Answer<'_, ProductPage>;
        fn product(&self, id: B256) -> Answer<'_, Option<ProductDetail>>;
        fn seller(&self, seller: Address) -> Answer<'_, SellerListings>;
    }

    #[derive(Clone)]
    pub struct RequestMarket(pub Arc<dyn Market>);

    pub(super) fn market() -> Result<Arc<dyn Market>, AppError> {
        crate::request_port::<RequestMarket>(Service::Marketplace).map(|market| market.0)
    }
}

/// `U256` as a decimal string of wei, as the REST API writes amounts.
pub mod wei_text {
    use alloy_primitives::U256;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &U256, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(value)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<U256, D::Error> {
        let text = String::deserialize(deserializer)?;
        coop::text::parse_amount(&text).map_err(serde::de::Error::custom)
    }
}

/// A price per second for a period, in DATA, short enough for a card (`"5 DATA"`, `"~0.0416 DATA"`,
/// `"Free"`).
pub fn price_label(price_per_second: U256, period: coop::amount::Period) -> String {
    if price_per_second.is_zero() {
        return "Free".to_owned();
    }
    let amount = coop::amount::per_period(price_per_second, period);
    format!("{} DATA", coop::amount::format_units_short(amount, coop::amount::DATA_DECIMALS, 4))
}

/// `"1 subscriber"`, `"2 subscribers"`: a count with its noun (one that takes an `s`).
pub fn counted(count: impl Into<u64>, noun: &str) -> String {
    let count = count.into();
    format!("{count} {noun}{}", if count == 1 { "" } else { "s" })
}

/// `0x1234…abcd`.
pub fn short_address(address: &Address) -> String {
    let text = address.to_checksum(None);
    format!("{}…{}", &text[..6], &text[text.len() - 4..])
}
