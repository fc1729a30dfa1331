//! Subscribing to a free product: one `Marketplace.buy` from the subscriber's wallet with a maximum
//! price of 0, so nothing is paid, no token is approved, and should the seller set a price in the
//! meantime the contract refuses the subscription rather than charge for it.

use alloy_primitives::{Address, U256};
use alloy_sol_types::SolCall;
use coop::contracts::Marketplace;
use leptos::prelude::*;

use super::quote::describe_seconds;
use crate::components::days::{DaysField, SubmitButton};
use crate::components::error_notice::ErrorNotice;
use crate::market::ProductCard;
use crate::wallet::{TxProgress, UnsignedTx, use_wallet};

/// The longest free subscription taken at once, in days: ten years.
const MAX_DAYS: u64 = 3650;

/// The days asked for, as seconds, if they are whole, at most [`MAX_DAYS`] and at least the product's
/// minimum for a new subscription (`minimum` seconds); otherwise what is wrong.
pub fn check_days(days: &str, minimum: U256) -> Result<U256, String> {
    let least = least_days(minimum);
    match days.trim().parse::<u64>() {
        Ok(days) if (least..=MAX_DAYS).contains(&days) => Ok(U256::from(days * 86_400)),
        _ if least > MAX_DAYS => {
            Err(format!("Days: this product's minimum ({}) is longer than ten years", describe_seconds(minimum)))
        }
        _ => Err(format!("Days: enter a whole number of days from {least} to {MAX_DAYS}")),
    }
}

/// The fewest whole days that cover `minimum` seconds, and at least one.
fn least_days(minimum: U256) -> u64 {
    u64::try_from(minimum.div_ceil(U256::from(86_400))).unwrap_or(u64::MAX).max(1)
}

/// The form a free product's page shows instead of the checkout.
#[component]
pub fn FreeAccess(product: ProductCard) -> impl IntoView {
    let wallet = use_wallet();
    let (id, beneficiary, minimum) = (product.id, product.beneficiary, product.minimum_subscription_seconds);
    let days = RwSignal::new(least_days(minimum).clamp(30, MAX_DAYS).to_string());
    let problem = RwSignal::new(None::<String>);
    let progress = RwSignal::new(None::<ReadSignal<TxProgress>>);
    let busy = move || progress.get().is_some_and(|p| p.get().is_busy());
    // Once mined, the page's streams ask again as of its block.
    if let Some(super::Purchases(bought_in)) = use_context() {
        Effect::new(move |_| {
            if let Some(TxProgress::Confirmed(confirmed)) = progress.get().map(|p| p.get()) {
                bought_in.set(confirmed.block);
            }
        });
    }
    let submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        // Without a wallet the button connects one; the subscriber presses it again.
        if wallet.address.get_untracked().is_none() {
            wallet.connect(None);
            return;
        }
        let marketplace = wallet.chain.get_untracked().and_then(|chain| chain.contracts.get("marketplace").copied());
        let Some(marketplace) = marketplace else {
            problem.set(Some("this server names no Marketplace contract".to_owned()));
            return;
        };
        match check_days(&days.get_untracked(), minimum) {
            Err(error) => problem.set(Some(error)),
            Ok(seconds) => {
                problem.set(None);
                progress.set(Some(wallet.send_transaction(subscribe(marketplace, id, seconds, beneficiary))));
            }
        }
    };
    let label =
        move || if wallet.address.get().is_some() { "Subscribe for free" } else { "Connect a wallet to subscribe" };
    view! {
        <section class="mt-6 rounded-2xl border border-stone-200 bg-white p-5 shadow-sm" aria-labelledby="free-heading">
            <h2 id="free-heading" class="text-lg font-semibold">"Subscribe for free"</h2>
            <p class="mt-1 text-sm text-stone-600">
                "This product costs nothing. A subscription is recorded on chain like a paid one, so reading its streams works the same way; you pay only the network fee."
            </p>
            <form class="mt-3 flex flex-wrap items-end gap-2" on:submit=submit>
                <DaysField days />
                <SubmitButton label=Signal::derive(label) disabled=Signal::derive(busy) />
            </form>
            {move || problem.get().map(|error| view! { <ErrorNotice message=error class="mt-2" testid="free-problem" /> })}
            {move || progress.get().map(|p| view! {
                <p role="status" class="mt-2 text-sm text-stone-700" data-testid="free-progress">{move || p.get().describe()}</p>
            })}
        </section>
    }
}

/// `buy(product, seconds, 0, beneficiary)`: the subscription of a product that costs nothing.
fn subscribe(marketplace: Address, product: alloy_primitives::B256, seconds: U256, beneficiary: Address) -> UnsignedTx {
    let call =
        Marketplace::buyCall { productId: product, addSeconds: seconds, maxPricePerSecond: U256::ZERO, beneficiary };
    UnsignedTx { to: marketplace, data: call.abi_encode().into(), value: U256::ZERO }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_whole_and_cover_the_minimum() {
        let hour = U256::from(3_600);
        assert_eq!(check_days(" 3 ", hour), Ok(U256::from(3 * 86_400)));
        assert!(check_days("0", hour).unwrap_err().starts_with("Days: enter a whole number of days from 1"));
        assert!(check_days("1.5", hour).is_err());
        assert!(check_days("3651", hour).is_err());
        let week = U256::from(7 * 86_400);
        assert!(check_days("6", week).unwrap_err().contains("from 7 to"));
        assert_eq!(check_days("7", week), Ok(week));
        assert!(check_days("1", U256::MAX).unwrap_err().contains("longer than ten years"));
    }

    #[test]
    fn a_free_subscription_offers_to_pay_nothing() {
        let tx = subscribe(
            Address::repeat_byte(1),
            alloy_primitives::B256::repeat_byte(2),
            U256::from(60),
            Address::repeat_byte(3),
        );
        let call = Marketplace::buyCall::abi_decode(&tx.data).unwrap();
        assert_eq!((call.maxPricePerSecond, tx.value), (U256::ZERO, U256::ZERO));
    }
}
