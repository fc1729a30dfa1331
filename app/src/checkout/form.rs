//! The buy form of a product page: period, currency, slippage and deadline; a live quote with the
//! maximum, the price impact and the network fee; "not enough funds" before anything is signed; then
//! each step's progress and the subscription's new end.

use alloy_primitives::U256;
use coop::amount::Period;
use leptos::prelude::*;

use super::dates::{iso, show_utc};
use super::pay::{Order, Step, steps};
use super::port::{CheckoutQuote, QuoteRequest, quote_checkout};
use super::quote::{
    Currency, DEFAULT_DEADLINE_MINUTES, DEFAULT_SLIPPAGE, HIGH_IMPACT_BPS, PERIODS, deadline, default_period,
    describe_seconds, parse_count, parse_deadline_minutes, parse_slippage, plan, price_impact_bps, show_bps,
    subscription_seconds,
};
use crate::market::ProductCard;
use crate::wallet::use_wallet;

/// How often the quote is asked again while the page is open.
const REFRESH_MS: u64 = 12_000;

/// A quote and the buyer's clock when it arrived (the deadline counts from it).
type Fetched = Option<Result<(CheckoutQuote, u64), String>>;

/// How the last checkout ended (only the browser pays).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
enum Outcome {
    Refused(String),
    Bought { block: u64, end: U256 },
}

#[component]
pub fn CheckoutPanel(product: ProductCard) -> impl IntoView {
    if product.state != "deployed" {
        return view! {
            <p class="mt-6 rounded-xl bg-amber-50 p-4 text-sm text-amber-900">
                "This product cannot be bought while it is unlisted."
            </p>
        }
        .into_any();
    }
    let wallet = use_wallet();
    let minimum = product.minimum_subscription_seconds;
    let (count, period) = default_period(minimum);
    let count = RwSignal::new(count.to_string());
    let period = RwSignal::new(period);
    let currency = RwSignal::new(Currency::Data);
    let slippage = RwSignal::new(DEFAULT_SLIPPAGE.to_owned());
    let minutes = RwSignal::new(DEFAULT_DEADLINE_MINUTES.to_owned());
    let refresh = RwSignal::new(0u64);
    let busy = RwSignal::new(false);
    let progress = RwSignal::new(Vec::<Step>::new());
    let outcome = RwSignal::new(None::<Outcome>);

    let product_id = product.id;
    let request = Memo::new(move |_| {
        let count = parse_count(&count.get())?;
        let seconds = U256::from(count) * U256::from(period.get().seconds());
        Ok::<_, super::quote::FieldError>(QuoteRequest {
            product: product_id,
            seconds,
            currency: currency.get(),
            buyer: wallet.address.get(),
        })
    });
    let quote = LocalResource::new(move || {
        refresh.track();
        let request = request.get();
        async move {
            let request = request.ok()?;
            Some(match quote_checkout(request, None).await {
                Ok(Ok(quote)) => Ok((quote, clock())),
                Ok(Err(error)) => Err(error.to_string()),
                Err(_) => Err("prices are not available right now; try again in a moment".to_owned()),
            })
        }
    });
    // The last good quote stays on screen while the next one loads.
    let shown = RwSignal::new(None::<(CheckoutQuote, u64)>);
    let quote_error = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        let fetched: Fetched = quote.get().flatten();
        match fetched {
            Some(Ok(fetched)) => {
                shown.set(Some(fetched));
                quote_error.set(None);
            }
            Some(Err(error)) => quote_error.set(Some(error)),
            None => {}
        }
    });
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        let ticking = set_interval_with_handle(
            move || {
                if busy.try_get_untracked() == Some(false) {
                    refresh.try_update(|n| *n += 1);
                }
            },
            std::time::Duration::from_millis(REFRESH_MS),
        );
        if let Ok(handle) = ticking {
            on_cleanup(move || handle.clear());
        }
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = REFRESH_MS;

    // The quote only counts while it answers the form as it is now.
    let current = Memo::new(move |_| {
        let (quote, fetched_at) = shown.get()?;
        (request.get().ok() == Some(quote.request.clone())).then_some((quote, fetched_at))
    });
    let running = Memo::new(move |_| current.get().is_some_and(|(quote, _)| quote.running()));
    // Everything the buyer would agree to by pressing the button, or why not.
    let order = Memo::new(move |_| -> Result<Order, String> {
        let count = parse_count(&count.get()).map_err(|e| e.to_string())?;
        let (quote, fetched_at) = current.get().ok_or_else(String::new)?;
        subscription_seconds(count, period.get(), minimum, running.get()).map_err(|e| e.to_string())?;
        let slippage_bps = parse_slippage(&slippage.get()).map_err(|e| e.to_string())?;
        let minutes = parse_deadline_minutes(&minutes.get()).map_err(|e| e.to_string())?;
        let funds = quote.buyer.as_ref().map(|buyer| buyer.funds.clone()).unwrap_or_default();
        let plan = plan(quote.request.currency, quote.amount_in, slippage_bps, quote.gas_price, &funds);
        if quote.buyer.is_some()
            && let Some(shortfall) = plan.shortfall
        {
            return Err(shortfall);
        }
        let deadline = deadline(quote.block_timestamp, fetched_at, minutes);
        Ok(Order { quote, slippage_bps, maximum: plan.maximum, deadline })
    });

    let submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        if busy.get_untracked() {
            return;
        }
        if wallet.address.get_untracked().is_none() {
            wallet.connect(None);
            return;
        }
        let Ok(order) = order.get_untracked() else { return };
        let funds = order.quote.buyer.as_ref().map(|buyer| buyer.funds.clone()).unwrap_or_default();
        let approve = order.quote.request.currency == Currency::Dai && funds.allowance < order.maximum;
        progress.set(steps(order.quote.request.currency, approve, order.maximum));
        outcome.set(None);
        busy.set(true);
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(async move {
            let request = order.quote.request.clone();
            match super::pay::pay(wallet, order, progress).await {
                Ok(confirmed) => {
                    // The subscription as the chain has it once the purchase's block is read.
                    let end = match quote_checkout(request, Some(confirmed.block)).await {
                        Ok(Ok(quote)) => quote.buyer.map(|buyer| buyer.subscription_end).unwrap_or_default(),
                        _ => U256::ZERO,
                    };
                    outcome.set(Some(Outcome::Bought { block: confirmed.block, end }));
                }
                Err(refusal) => {
                    if let Some(fresh) = refusal.fresh {
                        shown.set(Some((*fresh, clock())));
                    }
                    outcome.set(Some(Outcome::Refused(refusal.reason)));
                }
            }
            busy.set(false);
            refresh.update(|n| *n += 1);
        });
    };

    let period_options = PERIODS
        .iter()
        .map(|p| view! { <option value=p.name() selected=*p == period.get_untracked()>{format!("{}s", p.name())}</option> })
        .collect_view();
    let currency_options = Currency::ALL
        .into_iter()
        .map(|c| {
            view! {
                <label class="flex cursor-pointer items-center gap-2 rounded-lg border border-stone-300 px-3 py-2 text-sm has-[:checked]:border-emerald-600 has-[:checked]:bg-emerald-50">
                    <input
                        type="radio"
                        name="currency"
                        value=c.symbol()
                        checked=move || currency.get() == c
                        on:change=move |_| currency.set(c)
                    />
                    {c.symbol()}
                </label>
            }
        })
        .collect_view();
    let heading = move || if running.get() { "Extend your subscription" } else { "Buy a subscription" };
    let button = move || {
        if wallet.address.get().is_none() {
            "Connect your wallet to buy".to_owned()
        } else if busy.get() {
            "Paying…".to_owned()
        } else {
            let verb = if running.get() { "Extend" } else { "Buy" };
            format!("{verb} with {}", currency.get().symbol())
        }
    };
    let disabled = move || busy.get() || (wallet.address.get().is_some() && order.get().is_err());
    let input = "mt-1 w-full rounded-lg border border-stone-300 px-3 py-2 text-sm";

    view! {
        <section class="mt-6 rounded-2xl border border-stone-200 bg-white p-5 shadow-sm" aria-labelledby="buy-heading">
            <h2 id="buy-heading" class="text-lg font-semibold">{heading}</h2>
            <SubscriptionLine current />
            <form class="mt-4 space-y-4" on:submit=submit>
                <div class="grid grid-cols-2 gap-3 sm:max-w-sm">
                    <label class="text-sm">
                        "Period"
                        <input class=input inputmode="numeric" aria-label="Number of periods" prop:value=count on:input=move |ev| count.set(event_target_value(&ev)) />
                    </label>
                    <label class="text-sm">
                        "Unit"
                        <select class=input aria-label="Period unit" on:change=move |ev| {
                            if let Some(p) = Period::from_name(&event_target_value(&ev)) { period.set(p) }
                        }>{period_options}</select>
                    </label>
                </div>
                <p class="text-xs text-stone-500">{format!("Minimum for a new subscription: {}.", describe_seconds(minimum))}</p>
                <fieldset>
                    <legend class="text-sm">"Pay with"</legend>
                    <div class="mt-1 flex flex-wrap gap-2">{currency_options}</div>
                </fieldset>
                <details class="text-sm">
                    <summary class="cursor-pointer text-stone-600">"Slippage and deadline"</summary>
                    <div class="mt-2 grid grid-cols-2 gap-3 sm:max-w-sm">
                        <label>"Slippage (%)"
                            <input class=input aria-label="Slippage (%)" prop:value=slippage on:input=move |ev| slippage.set(event_target_value(&ev)) />
                        </label>
                        <label>"Deadline (minutes)"
                            <input class=input aria-label="Deadline (minutes)" prop:value=minutes on:input=move |ev| minutes.set(event_target_value(&ev)) />
                        </label>
                    </div>
                </details>
                <QuoteBox current order quote_error />
                <button
                    type="submit"
                    class="w-full rounded-xl bg-emerald-700 px-4 py-3 font-semibold text-white hover:bg-emerald-800 disabled:cursor-not-allowed disabled:bg-stone-300 sm:w-auto"
                    disabled=disabled
                >
                    {button}
                </button>
            </form>
            <StepList progress />
            {move || outcome.get().map(|outcome| match outcome {
                Outcome::Refused(reason) => view! {
                    <p class="mt-4 rounded-lg bg-red-50 p-3 text-sm text-red-800" role="alert" data-testid="checkout-refused">{reason}</p>
                }.into_any(),
                Outcome::Bought { block, end } => view! {
                    <p class="mt-4 rounded-lg bg-emerald-50 p-3 text-sm text-emerald-900" role="status" data-testid="checkout-done">
                        {format!("Paid in block {block}. Your subscription now ends ")}
                        <time datetime=iso(end) data-unix=end.to_string()>{show_utc(end)}</time>"."
                    </p>
                }.into_any(),
            })}
        </section>
    }
    .into_any()
}

/// The buyer's subscription to this product, as of the quote.
#[component]
fn SubscriptionLine(current: Memo<Option<(CheckoutQuote, u64)>>) -> impl IntoView {
    move || {
        let (quote, _) = current.get()?;
        let end = quote.buyer.as_ref()?.subscription_end;
        if end.is_zero() {
            return None;
        }
        let verb = if quote.running() { "runs until" } else { "ended on" };
        Some(view! {
            <p class="mt-1 text-sm text-stone-600" data-testid="subscription-end">
                {format!("Your subscription {verb} ")}
                <time datetime=iso(end) data-unix=end.to_string()>{show_utc(end)}</time>"."
            </p>
        })
    }
}

#[component]
fn QuoteBox(
    current: Memo<Option<(CheckoutQuote, u64)>>,
    order: Memo<Result<Order, String>>,
    quote_error: RwSignal<Option<String>>,
) -> impl IntoView {
    let row = |label: &'static str, testid: &'static str, text: String, wei: String| {
        view! {
            <div class="flex justify-between gap-4 py-1">
                <dt class="text-stone-500">{label}</dt>
                <dd class="text-right font-medium" data-testid=testid data-wei=wei>{text}</dd>
            </div>
        }
    };
    move || {
        if let Some(error) = quote_error.get() {
            return view! { <p class="text-sm text-red-700" role="alert">{error}</p> }.into_any();
        }
        let Some((quote, _)) = current.get() else {
            return view! { <p class="text-sm text-stone-500">"Getting a quote…"</p> }.into_any();
        };
        let currency = quote.request.currency;
        let impact = price_impact_bps(quote.amount_in, quote.price, &quote.hops);
        let high = impact.is_some_and(|bps| bps >= HIGH_IMPACT_BPS);
        let order = order.get();
        let (maximum, deadline_at) = match &order {
            Ok(order) => (Some(order.maximum), Some(order.deadline)),
            Err(_) => (None, None),
        };
        let funds = quote.buyer.as_ref().map(|buyer| buyer.funds.clone()).unwrap_or_default();
        let fee = plan(currency, quote.amount_in, 0, quote.gas_price, &funds).fee;
        view! {
            <div class="rounded-xl bg-stone-50 p-4 text-sm" aria-live="polite">
                <dl>
                    {row("Price", "quote-price", Currency::Data.show_exact(quote.price), quote.price.to_string())}
                    {row("You pay about", "quote-amount", currency.show_exact(quote.amount_in), quote.amount_in.to_string())}
                    {maximum.map(|maximum| row(
                        "At most (with slippage)",
                        "quote-maximum",
                        currency.show_exact(maximum),
                        maximum.to_string(),
                    ))}
                    {impact.map(|bps| row("Price impact", "quote-impact", show_bps(bps), bps.to_string()))}
                    {row("Network fee about", "quote-fee", Currency::Eth.show(fee), fee.to_string())}
                    {deadline_at.map(|at| row(
                        "Offer valid until",
                        "quote-deadline",
                        show_utc(U256::from(at)),
                        at.to_string(),
                    ))}
                    {quote.buyer.as_ref().map(|buyer| row(
                        "Your balance",
                        "quote-balance",
                        currency.show(buyer.funds.token),
                        buyer.funds.token.to_string(),
                    ))}
                </dl>
                <p class="mt-2 text-xs text-stone-500">
                    {format!("Quoted at block {} from the Uniswap pools; asked again before you sign.", quote.block)}
                    {(currency == Currency::Data).then_some(" DATA is paid at the price itself, so nothing can slip.")}
                </p>
                {high.then(|| view! {
                    <p class="mt-2 rounded bg-amber-100 p-2 text-amber-900" role="alert">
                        "High price impact: this purchase moves the pool's price by more than 3 %. Consider paying with another currency or buying a shorter period."
                    </p>
                })}
                {order.err().filter(|reason| !reason.is_empty()).map(|reason| view! {
                    <p class="mt-2 text-red-700" role="alert" data-testid="checkout-problem">{reason}</p>
                })}
            </div>
        }
        .into_any()
    }
}

#[component]
fn StepList(progress: RwSignal<Vec<Step>>) -> impl IntoView {
    move || {
        let steps = progress.get();
        (!steps.is_empty()).then(|| {
            view! {
                <ol class="mt-4 space-y-2 text-sm" aria-label="Checkout steps">
                    {steps.into_iter().enumerate().map(|(index, step)| view! {
                        <li class="rounded-lg border border-stone-200 p-3">
                            <p class="font-medium">{format!("{}. {}", index + 1, step.label)}</p>
                            <p class="text-stone-600">{step.status.describe()}</p>
                        </li>
                    }).collect_view()}
                </ol>
            }
        })
    }
}

/// The buyer's clock in Unix seconds (zero on the server, which never quotes).
pub(crate) fn clock() -> u64 {
    #[cfg(feature = "hydrate")]
    {
        (js_sys::Date::now() / 1_000.0) as u64
    }
    #[cfg(not(feature = "hydrate"))]
    {
        0
    }
}
