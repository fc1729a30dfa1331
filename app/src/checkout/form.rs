//! The buy form of a product page: period, currency, slippage and deadline; a live quote with the
//! maximum, the price impact and the network fee; "not enough funds" before anything is signed; then
//! each step's progress and the subscription's new end.

use alloy_primitives::{B256, U256};
use coop::amount::Period;
use leptos::prelude::*;

use super::dates::{iso, show_utc};
use super::pay::{Order, Step, steps};
use super::port::{CheckoutQuote, QuoteRequest, quote_checkout};
use super::quote::{
    Currency, DEFAULT_DEADLINE_MINUTES, DEFAULT_SLIPPAGE, FieldError, HIGH_IMPACT_BPS, PERIODS, deadline,
    default_period, describe_seconds, parse_count, parse_deadline_minutes, parse_slippage, plan, price_impact_bps,
    show_bps, subscription_seconds,
};
use crate::components::error_notice::ErrorNotice;
use crate::error::answer_or;
use crate::market::{ProductCard, ProductState};
use crate::wallet::{Wallet, use_wallet};

/// How often the quote is asked again while the page is open.
const REFRESH_MS: u64 = 12_000;

/// What the page says when the server gave no quote at all.
const NO_PRICES: &str = "prices are not available right now; try again in a moment";

const INPUT: &str = "mt-1 min-h-11 w-full rounded-lg border border-stone-300 px-3 py-2 text-sm";

/// A quote and the buyer's clock when it arrived (the deadline counts from it).
type Dated = (CheckoutQuote, u64);

/// How the last checkout ended (only the browser pays).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
enum Outcome {
    Refused(String),
    Bought { block: u64, end: U256 },
}

/// The form as the buyer left it. Numbers stay text until they are read, so a half-typed one shows as
/// typed and is named as wrong only where it stops something.
#[derive(Clone, Copy)]
struct Choices {
    count: RwSignal<String>,
    period: RwSignal<Period>,
    currency: RwSignal<Currency>,
    slippage: RwSignal<String>,
    minutes: RwSignal<String>,
}

impl Choices {
    /// The shortest period the product allows a new subscription, paid in DATA, with the usual slippage
    /// and deadline.
    fn new(minimum: U256) -> Self {
        let (count, period) = default_period(minimum);
        Self {
            count: RwSignal::new(count.to_string()),
            period: RwSignal::new(period),
            currency: RwSignal::new(Currency::Data),
            slippage: RwSignal::new(DEFAULT_SLIPPAGE.to_owned()),
            minutes: RwSignal::new(DEFAULT_DEADLINE_MINUTES.to_owned()),
        }
    }

    /// The quote these choices ask for, or the field that keeps them from asking.
    fn request(self, product: B256, wallet: Wallet) -> Memo<Result<QuoteRequest, FieldError>> {
        Memo::new(move |_| {
            let count = parse_count(&self.count.get())?;
            let seconds = U256::from(count) * U256::from(self.period.get().seconds());
            Ok(QuoteRequest { product, seconds, currency: self.currency.get(), buyer: wallet.address.get() })
        })
    }
}

/// The quote the page shows, kept up to date.
#[derive(Clone, Copy)]
struct LiveQuote {
    /// The last good quote: it stays on screen while the next one loads, so the figures do not blink.
    shown: RwSignal<Option<Dated>>,
    /// Why the last ask got no quote, until one comes.
    error: RwSignal<Option<String>>,
    /// Bumped to ask again with the same request.
    refresh: RwSignal<u64>,
}

impl LiveQuote {
    /// Asks for a quote whenever `request` changes or `refresh` is bumped (only the browser asks).
    fn follow(request: Memo<Result<QuoteRequest, FieldError>>) -> Self {
        let live = Self { shown: RwSignal::new(None), error: RwSignal::new(None), refresh: RwSignal::new(0) };
        let refresh = live.refresh;
        let fetched = LocalResource::new(move || {
            refresh.track();
            let request = request.get();
            async move {
                let request = request.ok()?;
                let answer = answer_or(quote_checkout(request, None).await, || NO_PRICES.to_owned());
                Some(answer.map(|quote| (quote, clock())))
            }
        });
        Effect::new(move |_| {
            let fetched: Option<Result<Dated, String>> = fetched.get().flatten();
            match fetched {
                Some(Ok(dated)) => {
                    live.shown.set(Some(dated));
                    live.error.set(None);
                }
                Some(Err(error)) => live.error.set(Some(error)),
                None => {}
            }
        });
        live
    }

    /// The shown quote while it answers `request` as it is now; a quote for other choices counts for
    /// nothing, even in the moment before the new one arrives.
    fn current(self, request: Memo<Result<QuoteRequest, FieldError>>) -> Memo<Option<Dated>> {
        Memo::new(move |_| {
            let (quote, fetched_at) = self.shown.get()?;
            (request.get().ok() == Some(quote.request.clone())).then_some((quote, fetched_at))
        })
    }

    /// Asks again every [`REFRESH_MS`] while the page is open, so prices follow the pools. Not while
    /// paying: the payment asks for its own fresh quote, and the one on screen is what was agreed to.
    fn refresh_unless(self, busy: RwSignal<bool>) {
        #[cfg(feature = "hydrate")]
        Effect::new(move |_| {
            let ticking = set_interval_with_handle(
                move || {
                    if busy.try_get_untracked() == Some(false) {
                        self.refresh.try_update(|n| *n += 1);
                    }
                },
                std::time::Duration::from_millis(REFRESH_MS),
            );
            if let Ok(handle) = ticking {
                on_cleanup(move || handle.clear());
            }
        });
        #[cfg(not(feature = "hydrate"))]
        let _ = (self, busy, REFRESH_MS);
    }
}

/// Everything the buyer would agree to by pressing the button, or why not. The reason is empty while
/// there is no quote: the quote box already says one is coming.
fn order_of(
    choices: Choices,
    current: Memo<Option<Dated>>,
    running: Memo<bool>,
    minimum: U256,
) -> Memo<Result<Order, String>> {
    Memo::new(move |_| -> Result<Order, String> {
        let count = parse_count(&choices.count.get()).map_err(|e| e.to_string())?;
        let (quote, fetched_at) = current.get().ok_or_else(String::new)?;
        subscription_seconds(count, choices.period.get(), minimum, running.get()).map_err(|e| e.to_string())?;
        let slippage_bps = parse_slippage(&choices.slippage.get()).map_err(|e| e.to_string())?;
        let minutes = parse_deadline_minutes(&choices.minutes.get()).map_err(|e| e.to_string())?;
        let funds = quote.buyer.as_ref().map(|buyer| buyer.funds.clone()).unwrap_or_default();
        let plan = plan(quote.request.currency, quote.amount_in, slippage_bps, quote.gas_price, &funds);
        if quote.buyer.is_some()
            && let Some(shortfall) = plan.shortfall
        {
            return Err(shortfall);
        }
        let deadline = deadline(quote.block_timestamp, fetched_at, minutes);
        Ok(Order { quote, slippage_bps, maximum: plan.maximum, deadline })
    })
}

/// A payment under way, and how the last one ended.
#[derive(Clone, Copy)]
struct Payment {
    busy: RwSignal<bool>,
    progress: RwSignal<Vec<Step>>,
    outcome: RwSignal<Option<Outcome>>,
    /// The page's count of purchases, when it keeps one.
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    purchases: Option<super::Purchases>,
}

impl Payment {
    fn new() -> Self {
        Self {
            busy: RwSignal::new(false),
            progress: RwSignal::new(Vec::new()),
            outcome: RwSignal::new(None),
            purchases: use_context(),
        }
    }

    /// Pays `order` step by step through the wallet. Afterwards the quote is asked again, so the page
    /// shows the subscription as it now is.
    fn start(self, wallet: Wallet, order: Order, quote: LiveQuote) {
        let funds = order.quote.buyer.as_ref().map(|buyer| buyer.funds.clone()).unwrap_or_default();
        let approve = order.quote.request.currency == Currency::Dai && funds.allowance < order.maximum;
        self.progress.set(steps(order.quote.request.currency, approve, order.maximum));
        self.outcome.set(None);
        self.busy.set(true);
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(async move {
            let request = order.quote.request.clone();
            match super::pay::pay(wallet, order, self.progress).await {
                Ok(confirmed) => {
                    // The subscription as the chain has it once the purchase's block is read.
                    let end = match quote_checkout(request, Some(confirmed.block)).await {
                        Ok(quote) => quote.buyer.map(|buyer| buyer.subscription_end).unwrap_or_default(),
                        _ => U256::ZERO,
                    };
                    self.outcome.set(Some(Outcome::Bought { block: confirmed.block, end }));
                    if let Some(super::Purchases(bought_in)) = self.purchases {
                        bought_in.set(confirmed.block);
                    }
                }
                Err(refusal) => {
                    if let Some(fresh) = refusal.fresh {
                        quote.shown.set(Some((*fresh, clock())));
                    }
                    self.outcome.set(Some(Outcome::Refused(refusal.reason)));
                }
            }
            self.busy.set(false);
            quote.refresh.update(|n| *n += 1);
        });
        #[cfg(not(feature = "hydrate"))]
        let _ = (wallet, quote);
    }
}

#[component]
pub fn CheckoutPanel(product: ProductCard) -> impl IntoView {
    if product.state != ProductState::Deployed {
        return view! {
            <p class="mt-6 rounded-xl bg-amber-50 p-4 text-sm text-amber-900">
                "This product cannot be bought while it is unlisted."
            </p>
        }
        .into_any();
    }
    if product.price_per_second.is_zero() {
        return view! { <super::free::FreeAccess product /> }.into_any();
    }
    let wallet = use_wallet();
    let minimum = product.minimum_subscription_seconds;
    let choices = Choices::new(minimum);
    let payment = Payment::new();
    let request = choices.request(product.id, wallet);
    let quote = LiveQuote::follow(request);
    quote.refresh_unless(payment.busy);
    let current = quote.current(request);
    let running = Memo::new(move |_| current.get().is_some_and(|(quote, _)| quote.running()));
    let order = order_of(choices, current, running, minimum);

    let submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        if payment.busy.get_untracked() {
            return;
        }
        // Without a wallet the button connects one; the buyer presses it again to pay.
        if wallet.address.get_untracked().is_none() {
            wallet.connect(None);
            return;
        }
        if let Ok(order) = order.get_untracked() {
            payment.start(wallet, order, quote);
        }
    };
    let heading = move || if running.get() { "Extend your subscription" } else { "Buy a subscription" };

    view! {
        <section class="mt-6 rounded-2xl border border-stone-200 bg-white p-5 shadow-sm" aria-labelledby="buy-heading">
            <h2 id="buy-heading" class="text-lg font-semibold">{heading}</h2>
            <SubscriptionLine current />
            <form class="mt-4 space-y-4" on:submit=submit>
                <PeriodFields choices minimum />
                <CurrencyChoice currency=choices.currency />
                <SlippageAndDeadline choices />
                <QuoteBox current order quote_error=quote.error />
                <BuyButton running order busy=payment.busy currency=choices.currency />
            </form>
            <StepList progress=payment.progress />
            <OutcomeNotice outcome=payment.outcome />
        </section>
    }
    .into_any()
}

/// How long: a number of periods and their unit, and the shortest a new subscription may be.
#[component]
fn PeriodFields(choices: Choices, minimum: U256) -> impl IntoView {
    let Choices { count, period, .. } = choices;
    // Selected as the form starts; afterwards the select itself holds the choice.
    let options = PERIODS
        .iter()
        .map(|p| view! { <option value=p.name() selected=*p == period.get_untracked()>{format!("{}s", p.name())}</option> })
        .collect_view();
    view! {
        <div class="grid grid-cols-2 gap-3 sm:max-w-sm">
            <label class="text-sm">
                "Period"
                <input class=INPUT inputmode="numeric" aria-label="Number of periods" prop:value=count on:input=move |ev| count.set(event_target_value(&ev)) />
            </label>
            <label class="text-sm">
                "Unit"
                <select class=INPUT aria-label="Period unit" on:change=move |ev| {
                    if let Some(p) = Period::from_name(&event_target_value(&ev)) { period.set(p) }
                }>{options}</select>
            </label>
        </div>
        <p class="text-xs text-stone-500">{format!("Minimum for a new subscription: {}.", describe_seconds(minimum))}</p>
    }
}

/// ETH, DAI or DATA, as radio buttons that look like tiles.
#[component]
fn CurrencyChoice(currency: RwSignal<Currency>) -> impl IntoView {
    let tiles = Currency::ALL
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
    view! {
        <fieldset>
            <legend class="text-sm">"Pay with"</legend>
            <div class="mt-1 flex flex-wrap gap-2">{tiles}</div>
        </fieldset>
    }
}

/// The two limits a buyer rarely changes, folded away.
#[component]
fn SlippageAndDeadline(choices: Choices) -> impl IntoView {
    let Choices { slippage, minutes, .. } = choices;
    view! {
        <details class="text-sm">
            <summary class="flex min-h-11 cursor-pointer items-center text-stone-600">"Slippage and deadline"</summary>
            <div class="mt-2 grid grid-cols-2 gap-3 sm:max-w-sm">
                <label>"Slippage (%)"
                    <input class=INPUT aria-label="Slippage (%)" prop:value=slippage on:input=move |ev| slippage.set(event_target_value(&ev)) />
                </label>
                <label>"Deadline (minutes)"
                    <input class=INPUT aria-label="Deadline (minutes)" prop:value=minutes on:input=move |ev| minutes.set(event_target_value(&ev)) />
                </label>
            </div>
        </details>
    }
}

/// Connects a wallet first; then buys or extends, and is disabled while the order cannot go.
#[component]
fn BuyButton(
    running: Memo<bool>,
    order: Memo<Result<Order, String>>,
    busy: RwSignal<bool>,
    currency: RwSignal<Currency>,
) -> impl IntoView {
    let wallet = use_wallet();
    let label = move || {
        if wallet.address.get().is_none() {
            "Connect your wallet to buy".to_owned()
        } else if busy.get() {
            "Paying…".to_owned()
        } else {
            let verb = if running.get() { "Extend" } else { "Buy" };
            format!("{verb} with {}", currency.get().symbol())
        }
    };
    // Never disabled without a wallet: pressing it is how the buyer connects one.
    let disabled = move || busy.get() || (wallet.address.get().is_some() && order.get().is_err());
    view! {
        <button
            type="submit"
            class="w-full rounded-xl bg-emerald-700 px-4 py-3 font-semibold text-white hover:bg-emerald-800 disabled:cursor-not-allowed disabled:bg-stone-300 sm:w-auto"
            disabled=disabled
        >
            {label}
        </button>
    }
}

/// How the last payment ended: refused before anything was paid, or paid with the new end.
#[component]
fn OutcomeNotice(outcome: RwSignal<Option<Outcome>>) -> impl IntoView {
    move || {
        outcome.get().map(|outcome| match outcome {
            Outcome::Refused(reason) => {
                view! { <ErrorNotice message=reason class="mt-4" testid="checkout-refused" /> }.into_any()
            }
            Outcome::Bought { block, end } => view! {
                <p class="mt-4 rounded-lg bg-emerald-50 p-3 text-sm text-emerald-900" role="status" data-testid="checkout-done">
                    {format!("Paid in block {block}. Your subscription now ends ")}
                    <time datetime=iso(end) data-unix=end.to_string()>{show_utc(end)}</time>"."
                </p>
            }
            .into_any(),
        })
    }
}

/// The buyer's subscription to this product, as of the quote.
#[component]
fn SubscriptionLine(current: Memo<Option<Dated>>) -> impl IntoView {
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

/// The quote for the form as it is: what the buyer pays at most and what could stop the purchase; or
/// why there is no quote, or that one is coming.
#[component]
fn QuoteBox(
    current: Memo<Option<Dated>>,
    order: Memo<Result<Order, String>>,
    quote_error: RwSignal<Option<String>>,
) -> impl IntoView {
    move || {
        if let Some(error) = quote_error.get() {
            return view! { <ErrorNotice message=error /> }.into_any();
        }
        let Some((quote, _)) = current.get() else {
            return view! { <p class="text-sm text-stone-500">"Getting a quote…"</p> }.into_any();
        };
        let order = order.get();
        let currency = quote.request.currency;
        let impact = price_impact_bps(quote.amount_in, quote.price, &quote.hops);
        let high = impact.is_some_and(|bps| bps >= HIGH_IMPACT_BPS);
        view! {
            <div class="rounded-xl bg-stone-50 p-4 text-sm" aria-live="polite">
                <QuoteFigures quote=quote.clone() order=order.as_ref().ok().cloned() impact />
                <p class="mt-2 text-xs text-stone-500">
                    {format!("Quoted at block {} from the Uniswap pools; asked again before you sign.", quote.block)}
                    {(currency == Currency::Data).then_some(" DATA is paid at the price itself, so nothing can slip.")}
                </p>
                {high.then(|| view! {
                    <p class="mt-2 rounded bg-amber-100 p-2 text-amber-900" role="alert">
                        "High price impact: this purchase moves the pool's price by more than 3 %. Consider paying with another currency or buying a shorter period."
                    </p>
                })}
                // An empty reason only means no quote yet, which the box has already said.
                {order.err().filter(|reason| !reason.is_empty()).map(|reason| view! {
                    <ErrorNotice message=reason class="mt-2" testid="checkout-problem" />
                })}
            </div>
        }
        .into_any()
    }
}

/// The quote's figures, each with its exact amount in wei for whoever reads the page by machine. The
/// maximum and the deadline only show for an order that could go.
#[component]
fn QuoteFigures(quote: CheckoutQuote, order: Option<Order>, impact: Option<u64>) -> impl IntoView {
    let row = |label: &'static str, testid: &'static str, text: String, wei: String| {
        view! {
            <div class="flex justify-between gap-4 py-1">
                <dt class="text-stone-500">{label}</dt>
                <dd class="text-right font-medium" data-testid=testid data-wei=wei>{text}</dd>
            </div>
        }
    };
    let currency = quote.request.currency;
    let funds = quote.buyer.as_ref().map(|buyer| buyer.funds.clone()).unwrap_or_default();
    let fee = plan(currency, quote.amount_in, 0, quote.gas_price, &funds).fee;
    let (maximum, deadline_at) = (order.as_ref().map(|o| o.maximum), order.as_ref().map(|o| o.deadline));
    view! {
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
