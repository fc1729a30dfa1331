//! The Marketplace in memory: products and subscriptions, built from the stored event log and kept
//! current as it grows, like the unions. Every server instance builds the same catalog from the same
//! log.
//!
//! A subscription is what the chain says it is: each `Subscribed` event carries the subscription's
//! new end, so an extension replaces the end instead of adding to it, and a purchase is never counted
//! twice however many events it emitted.

use std::collections::{BTreeMap, HashMap};

use crate::chain_event::{ChainEvent, ProductFields, StoredEvent};
use crate::live::ReadModel;
use alloy::primitives::{Address, B256, U256};

/// One Marketplace product, as of the catalog's block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Product {
    pub id: B256,
    pub name: String,
    pub owner: Address,
    /// Who is paid: a Data Union's address for a Data Union product.
    pub beneficiary: Address,
    pub price_per_second: U256,
    pub minimum_subscription_seconds: U256,
    /// Listed (can be bought); `false` after `deleteProduct` until `redeployProduct`.
    pub deployed: bool,
    pub created_block: u64,
    /// The block of the last change to the product itself (not its sales).
    pub updated_block: u64,
    /// Paid purchases (grants are not purchases).
    pub purchases: u64,
    /// DATA paid for it, in wei.
    pub revenue: U256,
    /// Addresses that have ever had a subscription to it.
    pub subscribers: u64,
}

/// One subscriber's subscription to one product.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Subscription {
    pub product: B256,
    pub subscriber: Address,
    /// Seconds since the epoch; valid while the chain's time is before it.
    pub end_timestamp: U256,
    /// The block of the last purchase, extension or grant.
    pub updated_block: u64,
}

/// What one product sold in one block: the steps of a seller's charts over time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sale {
    pub block: u64,
    /// The block's time, seconds since 1970.
    pub at: u64,
    /// Paid purchases in the block.
    pub purchases: u64,
    /// DATA paid in the block, in wei.
    pub revenue: U256,
    /// Addresses that subscribed to the product for the first time in the block.
    pub new_subscribers: u64,
}

/// Every product and subscription, as of the end of block `as_of`.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    products: HashMap<B256, Product>,
    /// Product ids in order of creation.
    order: Vec<B256>,
    subscriptions: HashMap<Address, BTreeMap<B256, Subscription>>,
    /// Each product's subscribers, in the order they first subscribed.
    subscribers: HashMap<B256, Vec<Address>>,
    /// Each product's sales, one entry per block where it sold something, in block order.
    sales: HashMap<B256, Vec<Sale>>,
    /// Events that could not be applied and were passed over (each is logged once, when applied).
    skipped: u64,
    as_of: u64,
}

impl Catalog {
    pub fn as_of(&self) -> u64 {
        self.as_of
    }

    pub fn product(&self, id: &B256) -> Option<&Product> {
        self.products.get(id)
    }

    /// Every product, oldest first.
    pub fn products(&self) -> impl DoubleEndedIterator<Item = &Product> + ExactSizeIterator {
        self.order.iter().map(|id| &self.products[id])
    }

    /// How many stored events could not be applied and were passed over.
    pub fn skipped(&self) -> u64 {
        self.skipped
    }

    /// A subscriber's subscriptions, one per product, by product id.
    pub fn subscriptions_of(&self, subscriber: &Address) -> impl Iterator<Item = &Subscription> {
        self.subscriptions.get(subscriber).into_iter().flat_map(BTreeMap::values)
    }

    /// What `product` sold, block by block, oldest first.
    pub fn sales_of(&self, product: &B256) -> &[Sale] {
        self.sales.get(product).map_or(&[], Vec::as_slice)
    }

    /// The subscriptions to `product`, one per subscriber, in the order they first subscribed.
    pub fn subscriptions_to<'a>(&'a self, product: &'a B256) -> impl Iterator<Item = &'a Subscription> {
        let subscribers = self.subscribers.get(product).into_iter().flatten();
        subscribers.filter_map(move |subscriber| self.subscriptions.get(subscriber)?.get(product))
    }
}

impl ReadModel for Catalog {
    /// Never fails: an event that cannot be applied (it names no known product, say) is passed over,
    /// logged and counted, and the catalog goes on.
    fn apply_one(&mut self, stored: &StoredEvent) {
        if let Err(reason) = self.try_apply(stored) {
            tracing::warn!(
                target: "catalog",
                block = stored.block,
                log_index = stored.log_index,
                kind = stored.event.kind(),
                "event passed over: {reason}"
            );
            self.skipped += 1;
        }
    }

    fn stand_at(&mut self, block: u64) {
        self.as_of = self.as_of.max(block);
    }
}

impl Catalog {
    fn try_apply(&mut self, stored: &StoredEvent) -> Result<(), String> {
        match &stored.event {
            ChainEvent::ProductCreated(fields) => {
                if self.products.contains_key(&fields.id) {
                    return Err(format!("product {} was already created", fields.id));
                }
                self.products.insert(fields.id, Product::created(fields, stored.block));
                self.order.push(fields.id);
            }
            ChainEvent::ProductUpdated(fields) => self.known(&fields.id, stored)?.take_terms(fields),
            ChainEvent::ProductDeleted(fields) => {
                let product = self.known(&fields.id, stored)?;
                product.take_terms(fields);
                product.deployed = false;
            }
            ChainEvent::ProductRedeployed(fields) => {
                let product = self.known(&fields.id, stored)?;
                product.take_terms(fields);
                product.deployed = true;
            }
            ChainEvent::ProductOwnerChanged { id, owner } => self.known(id, stored)?.owner = *owner,
            &ChainEvent::Subscribed { product, subscriber, end_timestamp } => {
                let known = self.products.get_mut(&product).ok_or_else(|| format!("no product {product}"))?;
                let subscription = Subscription { product, subscriber, end_timestamp, updated_block: stored.block };
                if self.subscriptions.entry(subscriber).or_default().insert(product, subscription).is_none() {
                    known.subscribers += 1;
                    self.subscribers.entry(product).or_default().push(subscriber);
                    self.sale(product, stored).new_subscribers += 1;
                }
            }
            &ChainEvent::Purchased { product, price, .. } => {
                let known = self.products.get_mut(&product).ok_or_else(|| format!("no product {product}"))?;
                known.purchases += 1;
                known.revenue = known.revenue.saturating_add(price);
                let sale = self.sale(product, stored);
                sale.purchases += 1;
                sale.revenue = sale.revenue.saturating_add(price);
            }
            // Data Union events: the unions' concern.
            _ => {}
        }
        Ok(())
    }

    /// The entry of `product`'s sales for the block of `stored`, added if it has none yet.
    fn sale(&mut self, product: B256, stored: &StoredEvent) -> &mut Sale {
        let sales = self.sales.entry(product).or_default();
        if sales.last().is_none_or(|last| last.block != stored.block) {
            let empty =
                Sale { block: stored.block, at: stored.time, purchases: 0, revenue: U256::ZERO, new_subscribers: 0 };
            sales.push(empty);
        }
        // Just pushed, or the block's own.
        sales.last_mut().expect("a sale of the block")
    }

    /// A created product that `stored` changes.
    fn known(&mut self, id: &B256, stored: &StoredEvent) -> Result<&mut Product, String> {
        let product = self.products.get_mut(id).ok_or_else(|| format!("no product {id} was created"))?;
        product.updated_block = stored.block;
        Ok(product)
    }
}

impl Product {
    fn created(fields: &ProductFields, block: u64) -> Product {
        Product {
            id: fields.id,
            name: fields.name.clone(),
            owner: fields.owner,
            beneficiary: fields.beneficiary,
            price_per_second: fields.price_per_second,
            minimum_subscription_seconds: fields.minimum_subscription_seconds,
            deployed: true,
            created_block: block,
            updated_block: block,
            purchases: 0,
            revenue: U256::ZERO,
            subscribers: 0,
        }
    }

    /// The terms every product event carries.
    fn take_terms(&mut self, fields: &ProductFields) {
        self.name.clone_from(&fields.name);
        self.owner = fields.owner;
        self.beneficiary = fields.beneficiary;
        self.price_per_second = fields.price_per_second;
        self.minimum_subscription_seconds = fields.minimum_subscription_seconds;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: B256 = B256::repeat_byte(7);
    const OWNER: Address = Address::repeat_byte(1);
    const BUYER: Address = Address::repeat_byte(2);

    fn event(block: u64, event: ChainEvent) -> StoredEvent {
        StoredEvent {
            block,
            tx_index: 0,
            log_index: 0,
            block_hash: B256::ZERO,
            time: 1_000 + 12 * block,
            contract: Address::ZERO,
            event,
        }
    }

    fn product(block: u64, state: &str, price: u64) -> StoredEvent {
        let fields = ProductFields {
            id: ID,
            owner: OWNER,
            name: "Weather".into(),
            beneficiary: OWNER,
            price_per_second: U256::from(price),
            minimum_subscription_seconds: U256::from(10),
        };
        let change = match state {
            "created" => ChainEvent::ProductCreated(fields),
            "updated" => ChainEvent::ProductUpdated(fields),
            "deleted" => ChainEvent::ProductDeleted(fields),
            "redeployed" => ChainEvent::ProductRedeployed(fields),
            other => unreachable!("no product event `{other}`"),
        };
        event(block, change)
    }

    fn subscribed(block: u64, end: u64) -> StoredEvent {
        event(block, ChainEvent::Subscribed { product: ID, subscriber: BUYER, end_timestamp: U256::from(end) })
    }

    fn purchased(block: u64, price: u64) -> StoredEvent {
        let (add_seconds, price) = (U256::from(1), U256::from(price));
        event(block, ChainEvent::Purchased { product: ID, subscriber: BUYER, payer: BUYER, add_seconds, price })
    }

    #[test]
    fn an_extension_replaces_the_end_of_a_subscription_instead_of_adding_one() {
        let events =
            [product(1, "created", 3), subscribed(2, 100), purchased(2, 30), subscribed(3, 150), purchased(3, 15)];

        let catalog = Catalog::build(&events, 3);

        let subscriptions: Vec<_> = catalog.subscriptions_of(&BUYER).collect();
        assert_eq!(subscriptions.len(), 1);
        assert_eq!((subscriptions[0].end_timestamp, subscriptions[0].updated_block), (U256::from(150), 3));
        let product = catalog.product(&ID).unwrap();
        assert_eq!((product.purchases, product.revenue, product.subscribers), (2, U256::from(45), 1));
        let to_product: Vec<_> = catalog.subscriptions_to(&ID).collect();
        assert_eq!(to_product, subscriptions, "the same subscription, found from either side");
    }

    #[test]
    fn sales_are_kept_block_by_block_with_the_block_time() {
        let other = Address::repeat_byte(3);
        let also = event(3, ChainEvent::Subscribed { product: ID, subscriber: other, end_timestamp: U256::from(90) });
        let events = [
            product(1, "created", 3),
            subscribed(2, 100),
            purchased(2, 30),
            subscribed(3, 150),
            also,
            purchased(3, 15),
        ];

        let catalog = Catalog::build(&events, 3);

        let sale = |block, at, purchases, revenue: u64, new_subscribers| Sale {
            block,
            at,
            purchases,
            revenue: U256::from(revenue),
            new_subscribers,
        };
        assert_eq!(catalog.sales_of(&ID), [sale(2, 1_024, 1, 30, 1), sale(3, 1_036, 1, 15, 1)]);
        assert!(catalog.sales_of(&B256::ZERO).is_empty());
    }

    #[test]
    fn a_deleted_product_is_unlisted_and_a_redeployed_one_listed_again_with_its_new_terms() {
        let mut catalog = Catalog::build(&[product(1, "created", 3), product(2, "deleted", 3)], 2);
        assert!(!catalog.product(&ID).unwrap().deployed);

        catalog.apply(&[product(4, "updated", 9), product(5, "redeployed", 9)], 6);

        let product = catalog.product(&ID).unwrap();
        assert!(product.deployed);
        assert_eq!((product.price_per_second, product.created_block, product.updated_block), (U256::from(9), 1, 5));
        assert_eq!(catalog.as_of(), 6);
    }

    #[test]
    fn an_event_for_an_unknown_product_is_passed_over_and_counted() {
        let catalog = Catalog::build(&[subscribed(2, 100), product(3, "created", 3), purchased(4, 6)], 4);

        assert_eq!(catalog.skipped(), 1);
        assert!(catalog.subscriptions_of(&BUYER).next().is_none());
        assert_eq!(catalog.product(&ID).unwrap().revenue, U256::from(6));
        assert_eq!(catalog.as_of(), 4);
    }
}
