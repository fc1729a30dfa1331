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

/// A chain with one product, "Weather", owned by `OWNER`, paying `OTHER`.
async fn setup() -> (Chain, B256) {
    let chain = Chain::start().await;
    let (beneficiary, price, minimum) =
        (chain.address(OTHER), U256::from(PRICE_PER_SECOND), U256::from(MINIMUM_SECONDS));
    let id = chain.create_product(OWNER, "Weather", beneficiary, price, minimum).await;
    (chain, id)
}

/// The terms of the product `setup` lists: its price per second and its beneficiary.
fn terms(chain: &Chain) -> (U256, Address) {
    (U256::from(PRICE_PER_SECOND), chain.address(OTHER))
}

async fn approve_marketplace(chain: &Chain, account: usize) {
    send(chain.data(account).approve(chain.deployment.marketplace, U256::MAX)).await;
}

#[tokio::test]
async fn a_product_is_created_updated_deleted_and_redeployed_by_its_owner() {
    let chain = Chain::start().await;
    let market = chain.marketplace(OWNER);
    let id = product_id(chain.address(OWNER), "Traffic");

    let receipt = send(market.createProduct(
        product_salt("Traffic"),
        "Traffic".into(),
        chain.address(OTHER),
        U256::from(5),
        U256::from(10),
    ))
    .await;
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
    let (price, beneficiary) = (U256::from(7), chain.address(MEMBER));
    let error = revert::<E, _, _>(chain.marketplace(BUYER).buy(id, U256::from(20), price, beneficiary)).await;
    assert_eq!(error, E::ProductNotDeployed(Marketplace::ProductNotDeployed { productId: id }));

    let receipt = send(market.redeployProduct(id)).await;
    assert_eq!(event::<Marketplace::ProductRedeployed>(&receipt).id, id);
    let error = revert::<E, _, _>(market.redeployProduct(id)).await;
    assert_eq!(error, E::ProductAlreadyDeployed(Marketplace::ProductAlreadyDeployed { productId: id }));
    send(chain.marketplace(BUYER).buy(id, U256::from(20), price, beneficiary)).await;
}

/// A product priced at 0 is open data: anyone subscribes with `buy` and a maximum of 0, paying nothing
/// and needing no allowance, and has the subscription a payment would give; a price the seller sets
/// afterwards is refused to such a buyer rather than charged.
#[tokio::test]
async fn a_free_product_is_subscribed_to_without_paying() {
    let chain = Chain::start().await;
    let (beneficiary, days) = (chain.address(OTHER), U256::from(86_400));
    let id = chain.create_product(OWNER, "Open data", beneficiary, U256::ZERO, U256::from(3600)).await;
    let buyer = chain.address(BUYER);
    let (buyer_before, beneficiary_before) = (chain.data_balance(buyer).await, chain.data_balance(beneficiary).await);

    let market = chain.marketplace(BUYER);
    let receipt = send(market.buy(id, days, U256::ZERO, beneficiary)).await;
    let bought = event::<Marketplace::Purchased>(&receipt);
    assert_eq!((bought.subscriber, bought.price), (buyer, U256::ZERO));
    let subscription = market.getSubscription(id, buyer).call().await.unwrap();
    assert!(subscription.isValid);
    assert_eq!(subscription.endTimestamp, U256::from(chain.timestamp().await) + days);
    assert_eq!(chain.data_balance(buyer).await, buyer_before, "the buyer paid nothing");
    assert_eq!(chain.data_balance(beneficiary).await, beneficiary_before);

    // The minimum still holds for a new subscription.
    let error = revert::<E, _, _>(chain.marketplace(MEMBER).buy(id, U256::from(60), U256::ZERO, beneficiary)).await;
    assert_eq!(
        error,
        E::SubscriptionTooShort(Marketplace::SubscriptionTooShort {
            addSeconds: U256::from(60),
            minimumSubscriptionSeconds: U256::from(3600),
        })
    );

    // Once the seller sets a price, a buyer who agreed to 0 is refused, not charged.
    let price = U256::from(PRICE_PER_SECOND);
    send(chain.marketplace(OWNER).updateProduct(id, "Open data".into(), beneficiary, price, U256::from(3600))).await;
    let error = revert::<E, _, _>(market.buy(id, days, U256::ZERO, beneficiary)).await;
    assert_eq!(error, E::TermsChanged(Marketplace::TermsChanged { productId: id, pricePerSecond: price, beneficiary }));
}

#[tokio::test]
async fn bad_product_terms_are_refused() {
    let (chain, id) = setup().await;
    let (owner, market) = (chain.marketplace(OWNER), chain.marketplace(MEMBER));
    let beneficiary = chain.address(MEMBER);
    let (weather, other) = (product_salt("Weather"), product_salt("other"));

    let error =
        revert::<E, _, _>(owner.createProduct(weather, "x".into(), beneficiary, U256::from(1), U256::ZERO)).await;
    assert_eq!(error, E::ProductExists(Marketplace::ProductExists { productId: id }));
    let error =
        revert::<E, _, _>(market.createProduct(other, "x".into(), Address::ZERO, U256::from(1), U256::ZERO)).await;
    assert_eq!(error, E::ZeroAddress(Marketplace::ZeroAddress {}));

    // An id stays taken after its product is deleted.
    send(owner.deleteProduct(id)).await;
    let error =
        revert::<E, _, _>(owner.createProduct(weather, "x".into(), beneficiary, U256::from(1), U256::ZERO)).await;
    assert_eq!(error, E::ProductExists(Marketplace::ProductExists { productId: id }));

    let missing = product_id(chain.address(OWNER), "missing");
    let error =
        revert::<E, _, _>(market.updateProduct(missing, "x".into(), beneficiary, U256::from(1), U256::ZERO)).await;
    assert_eq!(error, E::ProductNotFound(Marketplace::ProductNotFound { productId: missing }));
    let error = revert::<E, _, _>(market.buy(missing, U256::from(1), U256::from(1), beneficiary)).await;
    assert_eq!(error, E::ProductNotFound(Marketplace::ProductNotFound { productId: missing }));
}

#[tokio::test]
async fn a_product_id_is_its_owners_and_salts_so_nobody_can_take_a_sellers_id() {
    let (chain, id) = setup().await;
    let (owner, stranger) = (chain.address(OWNER), chain.address(MEMBER));
    let salt = product_salt("Weather");
    let market = chain.marketplace(MEMBER);

    // The chain, the core and the web app derive the same id.
    assert_eq!(market.productIdOf(owner, salt).call().await.unwrap(), coop::contracts::product_id(owner, salt));
    assert_eq!(id, coop::contracts::product_id(owner, salt));
    assert_eq!(id, app::products::product_id(owner, "Weather"));
    assert_eq!(salt, app::products::product_salt("Weather"));

    // The same account cannot list the same salt twice ...
    let error = revert::<E, _, _>(chain.marketplace(OWNER).createProduct(
        salt,
        "Weather again".into(),
        owner,
        U256::from(1),
        U256::ZERO,
    ))
    .await;
    assert_eq!(error, E::ProductExists(Marketplace::ProductExists { productId: id }));

    // ... while another account's listing with that salt gets an id of its own and leaves the seller's alone.
    let receipt = send(market.createProduct(salt, "Weather".into(), stranger, U256::from(1), U256::ZERO)).await;
    let created = event::<Marketplace::ProductCreated>(&receipt);
    assert_eq!(created.id, coop::contracts::product_id(stranger, salt));
    assert_eq!(created.id, market.productIdOf(stranger, salt).call().await.unwrap());
    assert_ne!(created.id, id);
    let sellers = market.getProduct(id).call().await.unwrap();
    assert_eq!((sellers.owner, sellers.beneficiary), (owner, chain.address(OTHER)));
    assert_eq!(sellers.pricePerSecond, U256::from(PRICE_PER_SECOND));
    assert_eq!(market.getProduct(created.id).call().await.unwrap().owner, stranger);
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

    let (max_price, agreed) = terms(&chain);
    let receipt = send(market.buy(id, U256::from(MINIMUM_SECONDS), max_price, agreed)).await;
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
    let receipt = send(market.buy(id, U256::from(10), max_price, agreed)).await;
    let extended = event::<Marketplace::SubscriptionExtended>(&receipt);
    assert_eq!(extended.endTimestamp, first_end + U256::from(10));
    assert!(events::<Marketplace::NewSubscription>(&receipt).is_empty());
    let subscription = market.getSubscription(id, buyer).call().await.unwrap();
    assert!(subscription.isValid);
    assert_eq!(subscription.endTimestamp, first_end + U256::from(10));
    let error = revert::<E, _, _>(market.buy(id, U256::ZERO, max_price, agreed)).await;
    assert_eq!(error, E::ZeroSeconds(Marketplace::ZeroSeconds {}));

    // Once it has ended, a new one must be at least the minimum again.
    chain.advance_time(MINIMUM_SECONDS + 20).await;
    assert!(!market.hasValidSubscription(id, buyer).call().await.unwrap());
    let error = revert::<E, _, _>(market.buy(id, U256::from(MINIMUM_SECONDS - 1), max_price, agreed)).await;
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
    let (price, beneficiary) = terms(&chain);
    let seconds = U256::from(MINIMUM_SECONDS);

    let receipt = send(chain.marketplace(BUYER).buyFor(id, seconds, member, price, beneficiary)).await;

    let purchased = event::<Marketplace::Purchased>(&receipt);
    assert_eq!((purchased.subscriber, purchased.payer), (member, chain.address(BUYER)));
    assert!(chain.marketplace(BUYER).hasValidSubscription(id, member).call().await.unwrap());
    assert!(!chain.marketplace(BUYER).hasValidSubscription(id, chain.address(BUYER)).call().await.unwrap());
    let error =
        revert::<E, _, _>(chain.marketplace(BUYER).buyFor(id, seconds, Address::ZERO, price, beneficiary)).await;
    assert_eq!(error, E::ZeroAddress(Marketplace::ZeroAddress {}));
}

#[tokio::test]
async fn a_purchase_without_allowance_fails_in_the_token() {
    let (chain, id) = setup().await;
    let price = U256::from(PRICE_PER_SECOND) * U256::from(MINIMUM_SECONDS);

    let (max_price, beneficiary) = terms(&chain);
    let market = chain.marketplace(BUYER);
    let call = market.buy(id, U256::from(MINIMUM_SECONDS), max_price, beneficiary);
    let error = revert::<DataTokenErrors, _, _>(call).await;

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

#[tokio::test]
async fn a_purchase_fails_with_terms_changed_unless_the_price_is_at_most_the_agreed_one_and_the_beneficiary_the_same() {
    let (chain, id) = setup().await;
    approve_marketplace(&chain, BUYER).await;
    let market = chain.marketplace(BUYER);
    let (price, beneficiary) = chain.terms(id).await;
    let (buyer, seconds) = (chain.address(BUYER), U256::from(MINIMUM_SECONDS));
    let before = chain.data_balance(buyer).await;
    let changed = E::TermsChanged(Marketplace::TermsChanged { productId: id, pricePerSecond: price, beneficiary });

    // A buyer who agreed to less per second, or to paying someone else, is refused and pays nothing.
    let error = revert::<E, _, _>(market.buy(id, seconds, price - U256::from(1), beneficiary)).await;
    assert_eq!(error, changed);
    let error = revert::<E, _, _>(market.buy(id, seconds, price, chain.address(OWNER))).await;
    assert_eq!(error, changed);
    let error =
        revert::<E, _, _>(market.buyFor(id, seconds, chain.address(MEMBER), price, chain.address(MEMBER))).await;
    assert_eq!(error, changed);

    // The seller raises the price in front of a purchase made on the old terms: refused, nothing paid.
    let raised = price * U256::from(2);
    send(chain.marketplace(OWNER).updateProduct(id, "Weather".into(), beneficiary, raised, seconds)).await;
    let error = revert::<E, _, _>(market.buy(id, seconds, price, beneficiary)).await;
    assert_eq!(
        error,
        E::TermsChanged(Marketplace::TermsChanged { productId: id, pricePerSecond: raised, beneficiary })
    );
    // ... and repoints the beneficiary to itself: refused as well.
    send(chain.marketplace(OWNER).updateProduct(id, "Weather".into(), chain.address(OWNER), price, seconds)).await;
    let error = revert::<E, _, _>(market.buy(id, seconds, price, beneficiary)).await;
    let repointed =
        Marketplace::TermsChanged { productId: id, pricePerSecond: price, beneficiary: chain.address(OWNER) };
    assert_eq!(error, E::TermsChanged(repointed));
    assert_eq!(chain.data_balance(buyer).await, before, "nothing was paid");
    assert_eq!(chain.data_balance(chain.address(OWNER)).await, tokens(10_000), "nothing reached the new beneficiary");
    assert!(!market.hasValidSubscription(id, buyer).call().await.unwrap());

    // A price lowered below what the buyer agreed to is accepted, and the lower price is charged.
    let lowered = price / U256::from(2);
    send(chain.marketplace(OWNER).updateProduct(id, "Weather".into(), beneficiary, lowered, seconds)).await;
    let beneficiary_before = chain.data_balance(beneficiary).await;
    let receipt = send(market.buy(id, seconds, price, beneficiary)).await;
    let charged = lowered * seconds;
    assert_eq!(event::<Marketplace::Purchased>(&receipt).price, charged);
    assert_eq!(chain.data_balance(buyer).await, before - charged);
    assert_eq!(chain.data_balance(beneficiary).await, beneficiary_before + charged);
    assert!(market.hasValidSubscription(id, buyer).call().await.unwrap());
}
