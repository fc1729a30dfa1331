//! Marketplace: products, two-step product ownership, subscriptions and every revert path.

use alloy::primitives::{Address, B256, U256};
use coop::contracts::{
    DataToken::{self, DataTokenErrors},
    Marketplace::{self, MarketplaceErrors as E},
};

use crate::helpers::*;

/// 0.001 DATA a second, at least an hour.
const PRICE_PER_SECOND: u128 = TOKEN / 1000;
const MINIMUM_SECONDS: u64 = 3600;

/// A chain with one product owned by `OWNER`, paying `OTHER`.
async fn setup() -> (Chain, B256) {
    let chain = Chain::start().await;
    let id = product_id("weather");
    send(chain.marketplace(OWNER).createProduct(
        id,
        "Weather".into(),
        chain.address(OTHER),
        U256::from(PRICE_PER_SECOND),
        U256::from(MINIMUM_SECONDS),
    ))
    .await;
    (chain, id)
}

async fn approve_marketplace(chain: &Chain, account: usize) {
    send(chain.data(account).approve(chain.deployment.marketplace, U256::MAX)).await;
}

#[tokio::test]
async fn a_product_is_created_updated_deleted_and_redeployed_by_its_owner() {
    let chain = Chain::start().await;
    let market = chain.marketplace(OWNER);
    let id = product_id("traffic");

    let receipt =
        send(market.createProduct(id, "Traffic".into(), chain.address(OTHER), U256::from(5), U256::from(10))).await;
    let created = event::<Marketplace::ProductCreated>(&receipt);
    assert_eq!((created.owner, created.id, created.name.as_str()), (chain.address(OWNER), id, "Traffic"));
    assert_eq!((created.pricePerSecond, created.minimumSubscriptionSeconds), (U256::from(5), U256::from(10)));

    let receipt =
        send(market.updateProduct(id, "Traffic 2".into(), chain.address(MEMBER), U256::from(7), U256::from(20))).await;
    let updated = event::<Marketplace::ProductUpdated>(&receipt);
    assert_eq!((updated.name.as_str(), updated.beneficiary), ("Traffic 2", chain.address(MEMBER)));
    let product = market.getProduct(id).call().await.unwrap();
    assert_eq!(product.name, "Traffic 2");
    assert_eq!((product.owner, product.beneficiary), (chain.address(OWNER), chain.address(MEMBER)));
    assert_eq!((product.pricePerSecond, product.minimumSubscriptionSeconds), (U256::from(7), U256::from(20)));
    assert_eq!(product.state, 1, "deployed");
    assert_eq!(market.priceOf(id, U256::from(100)).call().await.unwrap(), U256::from(700));

    let receipt = send(market.deleteProduct(id)).await;
    assert_eq!(event::<Marketplace::ProductDeleted>(&receipt).id, id);
    assert_eq!(market.getProduct(id).call().await.unwrap().state, 0, "not deployed");
    let error = revert::<E, _, _>(market.deleteProduct(id)).await;
    assert_eq!(error, E::ProductNotDeployed(Marketplace::ProductNotDeployed { productId: id }));
    approve_marketplace(&chain, BUYER).await;
    let error = revert::<E, _, _>(chain.marketplace(BUYER).buy(id, U256::from(20))).await;
    assert_eq!(error, E::ProductNotDeployed(Marketplace::ProductNotDeployed { productId: id }));

    let receipt = send(market.redeployProduct(id)).await;
    assert_eq!(event::<Marketplace::ProductRedeployed>(&receipt).id, id);
    let error = revert::<E, _, _>(market.redeployProduct(id)).await;
    assert_eq!(error, E::ProductAlreadyDeployed(Marketplace::ProductAlreadyDeployed { productId: id }));
    send(chain.marketplace(BUYER).buy(id, U256::from(20))).await;
}

#[tokio::test]
async fn bad_product_terms_are_refused() {
    let (chain, id) = setup().await;
    let market = chain.marketplace(MEMBER);
    let beneficiary = chain.address(MEMBER);

    let error =
        revert::<E, _, _>(market.createProduct(B256::ZERO, "x".into(), beneficiary, U256::from(1), U256::ZERO)).await;
    assert_eq!(error, E::ZeroProductId(Marketplace::ZeroProductId {}));
    let error = revert::<E, _, _>(market.createProduct(id, "x".into(), beneficiary, U256::from(1), U256::ZERO)).await;
    assert_eq!(error, E::ProductExists(Marketplace::ProductExists { productId: id }));
    let other = product_id("other");
    let error = revert::<E, _, _>(market.createProduct(other, "x".into(), beneficiary, U256::ZERO, U256::ZERO)).await;
    assert_eq!(error, E::FreeProduct(Marketplace::FreeProduct {}));
    let error =
        revert::<E, _, _>(market.createProduct(other, "x".into(), Address::ZERO, U256::from(1), U256::ZERO)).await;
    assert_eq!(error, E::ZeroAddress(Marketplace::ZeroAddress {}));

    // An id stays taken after its product is deleted.
    send(chain.marketplace(OWNER).deleteProduct(id)).await;
    let error = revert::<E, _, _>(market.createProduct(id, "x".into(), beneficiary, U256::from(1), U256::ZERO)).await;
    assert_eq!(error, E::ProductExists(Marketplace::ProductExists { productId: id }));

    let missing = product_id("missing");
    let error =
        revert::<E, _, _>(market.updateProduct(missing, "x".into(), beneficiary, U256::from(1), U256::ZERO)).await;
    assert_eq!(error, E::ProductNotFound(Marketplace::ProductNotFound { productId: missing }));
    let error = revert::<E, _, _>(market.buy(missing, U256::from(1))).await;
    assert_eq!(error, E::ProductNotFound(Marketplace::ProductNotFound { productId: missing }));
}

#[tokio::test]
async fn only_the_product_owner_changes_a_product() {
    let (chain, id) = setup().await;
    let stranger = chain.marketplace(MEMBER);
    let not_owner = E::NotProductOwner(Marketplace::NotProductOwner { productId: id, caller: chain.address(MEMBER) });

    let beneficiary = chain.address(MEMBER);
    assert_eq!(
        revert::<E, _, _>(stranger.updateProduct(id, "x".into(), beneficiary, U256::from(1), U256::ZERO)).await,
        not_owner
    );
    assert_eq!(revert::<E, _, _>(stranger.deleteProduct(id)).await, not_owner);
    assert_eq!(revert::<E, _, _>(stranger.redeployProduct(id)).await, not_owner);
    assert_eq!(revert::<E, _, _>(stranger.offerProductOwnership(id, beneficiary)).await, not_owner);
    assert_eq!(
        revert::<E, _, _>(stranger.grantSubscription(id, U256::from(MINIMUM_SECONDS), beneficiary)).await,
        not_owner
    );
}

#[tokio::test]
async fn product_ownership_moves_in_two_steps() {
    let (chain, id) = setup().await;
    let (owner, next) = (chain.marketplace(OWNER), chain.marketplace(MEMBER));

    let receipt = send(owner.offerProductOwnership(id, chain.address(MEMBER))).await;
    let offered = event::<Marketplace::ProductOwnershipOffered>(&receipt);
    assert_eq!((offered.owner, offered.id, offered.to), (chain.address(OWNER), id, chain.address(MEMBER)));
    assert_eq!(owner.getProduct(id).call().await.unwrap().owner, chain.address(OWNER));
    assert_eq!(owner.getProduct(id).call().await.unwrap().newOwnerCandidate, chain.address(MEMBER));

    let error = revert::<E, _, _>(chain.marketplace(BUYER).claimProductOwnership(id)).await;
    assert_eq!(
        error,
        E::NotOwnershipCandidate(Marketplace::NotOwnershipCandidate { productId: id, caller: chain.address(BUYER) })
    );

    let receipt = send(next.claimProductOwnership(id)).await;
    let changed = event::<Marketplace::ProductOwnershipChanged>(&receipt);
    assert_eq!((changed.newOwner, changed.id, changed.oldOwner), (chain.address(MEMBER), id, chain.address(OWNER)));
    assert_eq!(next.getProduct(id).call().await.unwrap().owner, chain.address(MEMBER));
    let error = revert::<E, _, _>(owner.deleteProduct(id)).await;
    assert_eq!(error, E::NotProductOwner(Marketplace::NotProductOwner { productId: id, caller: chain.address(OWNER) }));
    let error = revert::<E, _, _>(next.claimProductOwnership(id)).await;
    assert_eq!(
        error,
        E::NotOwnershipCandidate(Marketplace::NotOwnershipCandidate { productId: id, caller: chain.address(MEMBER) })
    );
}

#[tokio::test]
async fn a_purchase_pays_the_beneficiary_and_a_running_subscription_extends() {
    let (chain, id) = setup().await;
    approve_marketplace(&chain, BUYER).await;
    let market = chain.marketplace(BUYER);
    let (buyer, beneficiary) = (chain.address(BUYER), chain.address(OTHER));
    let (buyer_before, beneficiary_before) = (chain.data_balance(buyer).await, chain.data_balance(beneficiary).await);

    let receipt = send(market.buy(id, U256::from(MINIMUM_SECONDS))).await;
    report_gas("Marketplace.buy (DATA, after approve)", &receipt);
    let started = event::<Marketplace::NewSubscription>(&receipt);
    let first_end = U256::from(chain.timestamp().await + MINIMUM_SECONDS);
    assert_eq!((started.productId, started.subscriber, started.endTimestamp), (id, buyer, first_end));
    assert_eq!(event::<Marketplace::Subscribed>(&receipt).endTimestamp, first_end);
    let purchased = event::<Marketplace::Purchased>(&receipt);
    let price = U256::from(PRICE_PER_SECOND) * U256::from(MINIMUM_SECONDS);
    assert_eq!((purchased.payer, purchased.addSeconds, purchased.price), (buyer, U256::from(MINIMUM_SECONDS), price));
    assert_eq!(chain.data_balance(buyer).await, buyer_before - price);
    assert_eq!(chain.data_balance(beneficiary).await, beneficiary_before + price);

    // While it runs, any positive top-up extends it, even below the minimum.
    let receipt = send(market.buy(id, U256::from(10))).await;
    let extended = event::<Marketplace::SubscriptionExtended>(&receipt);
    assert_eq!(extended.endTimestamp, first_end + U256::from(10));
    assert!(events::<Marketplace::NewSubscription>(&receipt).is_empty());
    let subscription = market.getSubscription(id, buyer).call().await.unwrap();
    assert!(subscription.isValid);
    assert_eq!(subscription.endTimestamp, first_end + U256::from(10));
    let error = revert::<E, _, _>(market.buy(id, U256::ZERO)).await;
    assert_eq!(error, E::ZeroSeconds(Marketplace::ZeroSeconds {}));

    // Once it has ended, a new one must be at least the minimum again.
    chain.advance_time(MINIMUM_SECONDS + 20).await;
    assert!(!market.hasValidSubscription(id, buyer).call().await.unwrap());
    let error = revert::<E, _, _>(market.buy(id, U256::from(MINIMUM_SECONDS - 1))).await;
    assert_eq!(
        error,
        E::SubscriptionTooShort(Marketplace::SubscriptionTooShort {
            addSeconds: U256::from(MINIMUM_SECONDS - 1),
            minimumSubscriptionSeconds: U256::from(MINIMUM_SECONDS),
        })
    );
}

#[tokio::test]
async fn buy_for_gives_the_subscription_to_someone_else() {
    let (chain, id) = setup().await;
    approve_marketplace(&chain, BUYER).await;
    let member = chain.address(MEMBER);

    let receipt = send(chain.marketplace(BUYER).buyFor(id, U256::from(MINIMUM_SECONDS), member)).await;

    let purchased = event::<Marketplace::Purchased>(&receipt);
    assert_eq!((purchased.subscriber, purchased.payer), (member, chain.address(BUYER)));
    assert!(chain.marketplace(BUYER).hasValidSubscription(id, member).call().await.unwrap());
    assert!(!chain.marketplace(BUYER).hasValidSubscription(id, chain.address(BUYER)).call().await.unwrap());
    let error =
        revert::<E, _, _>(chain.marketplace(BUYER).buyFor(id, U256::from(MINIMUM_SECONDS), Address::ZERO)).await;
    assert_eq!(error, E::ZeroAddress(Marketplace::ZeroAddress {}));
}

#[tokio::test]
async fn a_purchase_without_allowance_fails_in_the_token() {
    let (chain, id) = setup().await;
    let price = U256::from(PRICE_PER_SECOND) * U256::from(MINIMUM_SECONDS);

    let error = revert::<DataTokenErrors, _, _>(chain.marketplace(BUYER).buy(id, U256::from(MINIMUM_SECONDS))).await;

    assert_eq!(
        error,
        DataTokenErrors::ERC20InsufficientAllowance(DataToken::ERC20InsufficientAllowance {
            spender: chain.deployment.marketplace,
            allowance: U256::ZERO,
            needed: price,
        })
    );
}

#[tokio::test]
async fn the_product_owner_grants_free_subscriptions() {
    let (chain, id) = setup().await;
    let member = chain.address(MEMBER);
    let before = chain.data_balance(chain.address(OWNER)).await;

    let receipt = send(chain.marketplace(OWNER).grantSubscription(id, U256::from(MINIMUM_SECONDS), member)).await;

    assert_eq!(event::<Marketplace::NewSubscription>(&receipt).subscriber, member);
    assert!(events::<Marketplace::Purchased>(&receipt).is_empty());
    assert_eq!(chain.data_balance(chain.address(OWNER)).await, before);
    assert!(chain.marketplace(OWNER).hasValidSubscription(id, member).call().await.unwrap());
}
