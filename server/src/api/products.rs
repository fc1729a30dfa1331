//! `/api/v1/products` and `/api/v1/subscriptions`: the Marketplace as indexed.

use std::collections::HashMap;
use std::sync::Arc;

use alloy::primitives::{Address, B256};
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use serde::Serialize;

use super::params::{self, Page, Params};
use super::{Answer, Wei};
use crate::catalog::{self, Catalog};
use crate::http::{ApiError, Services};
use crate::unions::Unions;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Product {
    id: B256,
    name: String,
    owner: Address,
    beneficiary: Address,
    /// The beneficiary is a Data Union: purchases are its revenue.
    data_union: bool,
    /// DATA wei per second.
    price_per_second: Wei,
    minimum_subscription_seconds: Wei,
    /// `deployed` (can be bought) or `deleted` (unlisted; running subscriptions go on).
    state: &'static str,
    created_block: u64,
    updated_block: u64,
    purchases: u64,
    revenue: Wei,
    subscribers: u64,
}

fn product(product: &catalog::Product, unions: &Unions) -> Product {
    Product {
        id: product.id,
        name: product.name.clone(),
        owner: product.owner,
        beneficiary: product.beneficiary,
        data_union: unions.get(&product.beneficiary).is_some(),
        price_per_second: Wei(product.price_per_second),
        minimum_subscription_seconds: Wei(product.minimum_subscription_seconds),
        state: if product.deployed { "deployed" } else { "deleted" },
        created_block: product.created_block,
        updated_block: product.updated_block,
        purchases: product.purchases,
        revenue: Wei(product.revenue),
        subscribers: product.subscribers,
    }
}

/// The product `id`, or a 404 that says which block the answer is as of.
pub(super) fn find<'a>(catalog: &'a Catalog, id: &B256) -> Result<&'a catalog::Product, ApiError> {
    catalog.product(id).ok_or_else(|| ApiError::NotFound(format!("no product {id} (as of block {})", catalog.as_of())))
}

#[derive(Serialize)]
pub struct List {
    #[serde(flatten)]
    page: Page,
    total: usize,
    products: Vec<Product>,
}

const SORTS: [&str; 2] = ["newest", "price"];
const STATES: [&str; 3] = ["deployed", "deleted", "all"];

/// Products matching `q` (in the name, without case), `owner`, `beneficiary` and `state`, sorted newest
/// first or by price per second (cheapest first, newest first among equals).
pub async fn list(
    State(services): State<Arc<Services>>,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<Answer<List>, ApiError> {
    let params = Params::from_query(query)?;
    let page = params.page()?;
    let search = params.search("q", 200)?;
    let sort = params.choice("sort", &SORTS)?;
    let state = params.choice("state", &STATES)?;
    let owner = params.address("owner")?;
    let beneficiary = params.address("beneficiary")?;
    let catalog = services.catalog.read().await;
    let mut matching: Vec<&catalog::Product> = catalog
        .products()
        .rev()
        .filter(|p| match state {
            "deployed" => p.deployed,
            "deleted" => !p.deployed,
            _ => true,
        })
        .filter(|p| owner.is_none_or(|owner| p.owner == owner))
        .filter(|p| beneficiary.is_none_or(|beneficiary| p.beneficiary == beneficiary))
        .filter(|p| search.as_ref().is_none_or(|q| p.name.to_lowercase().contains(q.as_str())))
        .collect();
    if sort == "price" {
        // Stable: among equal prices the newest stays first.
        matching.sort_by_key(|p| p.price_per_second);
    }
    let total = matching.len();
    let unions = services.unions.read().await;
    let products = page.of(matching.into_iter()).into_iter().map(|p| product(p, &unions)).collect();
    Ok(Answer::new(catalog.as_of(), List { page, total, products }))
}

pub async fn one(
    State(services): State<Arc<Services>>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Answer<Product>, ApiError> {
    let id = params::product_id(&params::path(id)?, "id")?;
    let catalog = services.catalog.read().await;
    let found = find(&catalog, &id)?;
    let unions = services.unions.read().await;
    Ok(Answer::new(catalog.as_of(), product(found, &unions)))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Subscriptions {
    subscriber: Address,
    /// The chain time `active` is judged at: the timestamp of the block the answer is as of.
    chain_time: u64,
    subscriptions: Vec<Subscription>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Subscription {
    product_id: B256,
    product_name: String,
    /// Seconds since the epoch (a uint256 on chain, hence a string).
    end_timestamp: Wei,
    active: bool,
    updated_block: u64,
}

/// A subscriber's subscriptions, one per product with its current end.
pub async fn subscriptions(
    State(services): State<Arc<Services>>,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<Answer<Subscriptions>, ApiError> {
    let params = Params::from_query(query)?;
    let subscriber = params::address(params.required("subscriber")?, "subscriber")?;
    // The time is read without holding the lock; if the catalog moved meanwhile, read it again.
    let mut block = services.catalog.read().await.as_of();
    let (catalog, now) = loop {
        let now = services.clock.time_of(&services.chain, block).await?;
        let catalog = services.catalog.read().await;
        if catalog.as_of() == block {
            break (catalog, now);
        }
        block = catalog.as_of();
    };
    let subscriptions = catalog
        .subscriptions_of(&subscriber)
        .map(|s| Subscription {
            product_id: s.product,
            product_name: catalog.product(&s.product).map(|p| p.name.clone()).unwrap_or_default(),
            end_timestamp: Wei(s.end_timestamp),
            active: s.end_timestamp > alloy::primitives::U256::from(now),
            updated_block: s.updated_block,
        })
        .collect();
    Ok(Answer::new(catalog.as_of(), Subscriptions { subscriber, chain_time: now, subscriptions }))
}
