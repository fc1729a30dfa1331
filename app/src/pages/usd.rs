//! What a product costs and a member earns in money people know: US dollars, estimated from the
//! Uniswap pools on chain (what DAI buys a day of a product for, the checkout's own quote; what a
//! member's DATA would sell for in DAI), with the block it was read at. No outside price feed: DAI
//! stands in for the dollar, and the estimate says so.

use alloy_primitives::{B256, U256};
use coop::amount::Period;
use leptos::prelude::*;

use crate::checkout::port::{CheckoutQuote, DaiValue, QuoteRequest, dai_value_of, quote_checkout};
use crate::checkout::quote::Currency;

/// `"$4.23"`: DAI wei (18 decimals) as dollars and cents, rounded half up.
pub fn dollars(dai: U256) -> String {
    let cent = U256::from(10u64).pow(U256::from(u32::from(Currency::DECIMALS) - 2));
    let cents = dai.saturating_add(cent / U256::from(2)) / cent;
    let hundred = U256::from(100);
    format!("${}.{:02}", cents / hundred, (cents % hundred).to::<u64>())
}

/// "About $4.23 a day"; nothing when the chain has no DAI route. Asked by the browser once the
/// page is up (an effect, not a resource), so the server's render and the page's suspense never wait
/// on the chain.
#[component]
pub fn UsdPerDay(product: B256) -> impl IntoView {
    let quote = RwSignal::new(None::<CheckoutQuote>);
    Effect::new(move |_| {
        let request =
            QuoteRequest { product, seconds: U256::from(Period::Day.seconds()), currency: Currency::Dai, buyer: None };
        leptos::task::spawn_local(async move {
            if let Ok(answer) = quote_checkout(request, None).await {
                quote.set(Some(answer));
            }
        });
    });
    move || {
        quote.get().map(|quote| {
            view! {
                <p class="mt-1 text-sm text-stone-500" data-testid="usd-estimate">
                    {format!(
                        "About {} a day: an estimate, what DAI buys a day for through the pool on chain at block {}.",
                        dollars(quote.amount_in),
                        quote.block
                    )}
                </p>
            }
        })
    }
}

/// "About $12.34 earned, $5.67 withdrawable": what a member's DATA would sell for in DAI through
/// the pools. Asked by the browser when the amounts change; nothing when the chain has no route.
#[component]
pub fn UsdEarnings(
    /// Lifetime earnings and what can be withdrawn now, in DATA wei.
    amounts: Memo<Option<(U256, U256)>>,
) -> impl IntoView {
    let values = RwSignal::new(None::<(DaiValue, DaiValue)>);
    Effect::new(move |_| {
        let Some((earned, withdrawable)) = amounts.get() else { return };
        leptos::task::spawn_local(async move {
            if let (Ok(earned), Ok(withdrawable)) = (dai_value_of(earned).await, dai_value_of(withdrawable).await) {
                values.set(Some((earned, withdrawable)));
            }
        });
    });
    move || {
        values.get().map(|(earned, withdrawable)| {
            view! {
                <p class="mt-2 text-sm text-stone-600" data-testid="usd-earnings">
                    {format!(
                        "About {} earned, {} withdrawable: an estimate, what the DATA would sell for in DAI through the pools on chain at block {}.",
                        dollars(earned.dai),
                        dollars(withdrawable.dai),
                        withdrawable.block.max(earned.block)
                    )}
                </p>
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dai_reads_as_dollars_and_cents() {
        let cent = U256::from(10u64).pow(U256::from(16));
        assert_eq!(dollars(U256::from(423) * cent), "$4.23");
        assert_eq!(dollars(U256::from(423) * cent + U256::from(1)), "$4.23");
        assert_eq!(dollars(U256::from(4235) * cent / U256::from(10)), "$4.24");
        assert_eq!(dollars(U256::from(42) * cent * U256::from(10)), "$4.20");
        assert_eq!(dollars(U256::ZERO), "$0.00");
    }
}
