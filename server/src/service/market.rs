//! The Marketplace as indexed: products, searched and sorted, each with whether its beneficiary is a
//! Data Union, and a subscriber's subscriptions.

use std::collections::HashSet;

use alloy::primitives::{Address, B256, U256};
pub use app::market::{ProductKind, ProductState, Sort};
use serde::Serialize;
use utoipa::ToSchema;

use super::Wei;
use crate::api::openapi::schemas::{AnswerAddress, Hash};
use crate::api::params::Page;
use crate::catalog::{self, Catalog};
use crate::http::{ApiError, Services};
use crate::live::Models;
use crate::store::{Store, StoreError};
use crate::unions::Unions;

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Product {
    #[schema(value_type = Hash)]
    pub id: B256,
    pub name: String,
    #[schema(value_type = AnswerAddress)]
    pub owner: Address,
    #[schema(value_type = AnswerAddress)]
    pub beneficiary: Address,
    /// The beneficiary is a Data Union: purchases are its revenue.
    pub data_union: bool,
    /// DATA wei per second.
    pub price_per_second: Wei,
    pub minimum_subscription_seconds: Wei,
    pub state: ProductState,
    pub created_block: u64,
    pub updated_block: u64,
    pub purchases: u64,
    /// DATA paid for it.
    pub revenue: Wei,
    pub subscribers: u64,
}

pub fn product(product: &catalog::Product, unions: &Unions) -> Product {
    Product {
        id: product.id,
        name: product.name.clone(),
        owner: product.owner,
        beneficiary: product.beneficiary,
        data_union: unions.get(&product.beneficiary).is_some(),
        price_per_second: Wei(product.price_per_second),
        minimum_subscription_seconds: Wei(product.minimum_subscription_seconds),
        state: if product.deployed { ProductState::Deployed } else { ProductState::Deleted },
        created_block: product.created_block,
        updated_block: product.updated_block,
        purchases: product.purchases,
        revenue: Wei(product.revenue),
        subscribers: product.subscribers,
    }
}

/// The product `id`, or a 404 that says which block the answer is as of.
pub fn find<'a>(catalog: &'a Catalog, id: &B256) -> Result<&'a catalog::Product, ApiError> {
    catalog.product(id).ok_or_else(|| ApiError::NotFound(format!("no product {id} (as of block {})", catalog.as_of())))
}

/// Which products a list holds, by state: listed (deployed), deleted, or all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum Listed {
    #[default]
    Deployed,
    Deleted,
    All,
}

impl Listed {
    pub const NAMES: [&'static str; 3] = ["deployed", "deleted", "all"];

    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "deployed" => Some(Self::Deployed),
            "deleted" => Some(Self::Deleted),
            "all" => Some(Self::All),
            _ => None,
        }
    }

    fn admits(self, product: &catalog::Product) -> bool {
        match self {
            Self::Deployed => product.deployed,
            Self::Deleted => !product.deployed,
            Self::All => true,
        }
    }
}

/// What a product list is asked for.
#[derive(Debug, Clone, Default)]
pub struct ProductFilter {
    /// Lower-case text the name or the owner's description contains.
    pub search: Option<String>,
    /// The `(product, owner)` pairs whose description contains `search`, read from the store
    /// ([`described`]) before the read models' lock is taken.
    pub described: HashSet<(B256, Address)>,
    /// Only Data Union products, or only single sellers'.
    pub kind: ProductKind,
    pub sort: Sort,
    pub listed: Listed,
    pub owner: Option<Address>,
    pub beneficiary: Option<Address>,
}

/// The products whose owner's description contains `search` (lower case), for
/// [`ProductFilter::described`]; none without a search.
pub async fn described(store: &Store, search: Option<&str>) -> Result<HashSet<(B256, Address)>, StoreError> {
    match search {
        Some(search) => Ok(store.products_describing(search).await?.into_iter().collect()),
        None => Ok(HashSet::new()),
    }
}

/// Every product matching `filter`, in its order.
pub fn matching<'a>(models: &'a Models, filter: &ProductFilter) -> Vec<&'a catalog::Product> {
    let found = |p: &catalog::Product, q: &String| {
        p.name.to_lowercase().contains(q.as_str()) || filter.described.contains(&(p.id, p.owner))
    };
    let is_union = |p: &catalog::Product| models.unions.get(&p.beneficiary).is_some();
    let mut matching: Vec<&catalog::Product> = models
        .catalog
        .products()
        .rev()
        .filter(|p| filter.listed.admits(p))
        .filter(|p| filter.owner.is_none_or(|owner| p.owner == owner))
        .filter(|p| filter.beneficiary.is_none_or(|beneficiary| p.beneficiary == beneficiary))
        .filter(|p| filter.search.as_ref().is_none_or(|q| found(p, q)))
        .filter(|p| match filter.kind {
            ProductKind::All => true,
            ProductKind::Union => is_union(p),
            ProductKind::Single => !is_union(p),
        })
        .collect();
    if filter.sort == Sort::Price {
        // Stable: among equal prices the newest stays first.
        matching.sort_by_key(|p| p.price_per_second);
    }
    matching
}

/// The products matching `filter`: how many, and the page asked for.
/// A seller's sales after one block where something sold: running totals over all its products.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SalesPoint {
    pub block: u64,
    /// The block's time, seconds since 1970.
    pub at: u64,
    pub purchases: u64,
    /// Addresses that ever subscribed, counted once per product.
    pub subscribers: u64,
    /// DATA paid, in wei.
    pub revenue: U256,
}

/// What `products` sold together over time: one point per block where any of them sold something.
pub fn sales_history(catalog: &Catalog, products: &[B256]) -> Vec<SalesPoint> {
    let mut sales: Vec<&catalog::Sale> = products.iter().flat_map(|id| catalog.sales_of(id)).collect();
    sales.sort_by_key(|sale| sale.block);
    let mut history: Vec<SalesPoint> = Vec::new();
    let mut total = SalesPoint { block: 0, at: 0, purchases: 0, subscribers: 0, revenue: U256::ZERO };
    for sale in sales {
        total = SalesPoint {
            block: sale.block,
            at: sale.at,
            purchases: total.purchases + sale.purchases,
            subscribers: total.subscribers + sale.new_subscribers,
            revenue: total.revenue.saturating_add(sale.revenue),
        };
        match history.last_mut() {
            Some(last) if last.block == sale.block => *last = total,
            _ => history.push(total),
        }
    }
    history
}

pub fn list(models: &Models, filter: &ProductFilter, page: Page) -> (usize, Vec<Product>) {
    let matching = matching(models, filter);
    let total = matching.len();
    (total, page.of(matching.into_iter()).into_iter().map(|p| product(p, &models.unions)).collect())
}

/// One entry per product with the subscription's current end: extensions move the end, they are not
/// counted twice.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Subscriptions {
    #[schema(value_type = AnswerAddress)]
    pub subscriber: Address,
    /// The chain time `active` is judged at: the timestamp of the block the answer is as of.
    pub chain_time: u64,
    pub subscriptions: Vec<Subscription>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Subscription {
    #[schema(value_type = Hash)]
    pub product_id: B256,
    pub product_name: String,
    /// Seconds since the epoch (a uint256 on chain, hence a string).
    pub end_timestamp: Wei,
    pub active: bool,
    pub updated_block: u64,
}

/// A subscriber's subscriptions, one per product with its current end, judged at the chain time of
/// the block the answer is as of.
pub async fn subscriptions(services: &Services, subscriber: Address) -> Result<(u64, Subscriptions), ApiError> {
    super::unions::at_chain_time(services, |models, now| {
        let catalog = &models.catalog;
        let subscriptions = catalog
            .subscriptions_of(&subscriber)
            .map(|s| Subscription {
                product_id: s.product,
                product_name: catalog.product(&s.product).map(|p| p.name.clone()).unwrap_or_default(),
                end_timestamp: Wei(s.end_timestamp),
                active: s.end_timestamp > U256::from(now),
                updated_block: s.updated_block,
            })
            .collect();
        Ok((models.as_of(), Subscriptions { subscriber, chain_time: now, subscriptions }))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain_event::{ChainEvent, ProductFields, StoredEvent};
    use crate::live::ReadModel;

    fn event(block: u64, event: ChainEvent) -> StoredEvent {
        let (block_hash, contract) = (B256::ZERO, Address::ZERO);
        StoredEvent { block, tx_index: 0, log_index: 0, block_hash, time: 100 * block, contract, event }
    }

    fn created(id: B256) -> StoredEvent {
        let owner = Address::repeat_byte(1);
        let (price_per_second, minimum_subscription_seconds) = (U256::from(1), U256::ZERO);
        let fields = ProductFields {
            id,
            owner,
            name: "x".into(),
            beneficiary: owner,
            price_per_second,
            minimum_subscription_seconds,
        };
        event(1, ChainEvent::ProductCreated(fields))
    }

    fn bought(block: u64, product: B256, subscriber: u8, price: u64) -> [StoredEvent; 2] {
        let subscriber = Address::repeat_byte(subscriber);
        let end_timestamp = U256::from(1_000_000);
        let (add_seconds, price) = (U256::from(1), U256::from(price));
        [
            event(block, ChainEvent::Subscribed { product, subscriber, end_timestamp }),
            event(block, ChainEvent::Purchased { product, subscriber, payer: subscriber, add_seconds, price }),
        ]
    }

    #[test]
    fn a_sellers_sales_add_up_over_its_products_block_by_block() {
        let (a, b, elsewhere) = (B256::repeat_byte(0xa), B256::repeat_byte(0xb), B256::repeat_byte(0xc));
        let mut events = vec![created(a), created(b), created(elsewhere)];
        events.extend(bought(3, a, 7, 10));
        events.extend(bought(3, b, 7, 5));
        events.extend(bought(5, elsewhere, 8, 1_000));
        events.extend(bought(6, a, 7, 10));
        let catalog = Catalog::build(&events, 6);

        let point = |block, purchases, subscribers, revenue: u64| SalesPoint {
            block,
            at: 100 * block,
            purchases,
            subscribers,
            revenue: U256::from(revenue),
        };
        // One subscriber of two products counts for each; a renewal is a purchase, not a subscriber.
        assert_eq!(sales_history(&catalog, &[a, b]), [point(3, 2, 2, 15), point(6, 3, 2, 25)]);
        assert!(sales_history(&catalog, &[]).is_empty());
    }
}
