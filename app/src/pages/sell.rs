//! A seller's own page (`/sell`): what its products sold over time, every product it lists or took
//! off the marketplace with what each sold, links to edit each one and to its Data Union's dashboard,
//! and the unions it owns.
//!
//! Whose: `?address=` when given, else the connected wallet, else the signed-in address, as on the
//! earnings page. A seller's products are public on chain, so nothing here needs a session.

use alloy_primitives::Address;
use coop::amount::Period;
use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::chart::{Drawing, Series, StepChart};
use crate::components::error_notice::ErrorNotice;
use crate::error::answer_or;
use crate::market::{
    ProductCard, ProductState, SalesPoint, SellerListings, UnionFigures, counted, listings_of, price_label,
};
use crate::pages::union::format::{count_axis, data_axis, data_exact, data_float, data_short, utc};
use crate::pages::{use_address_query_problem, use_viewed_address};

const ACTION: &str = "inline-flex min-h-11 items-center rounded-full border border-stone-300 bg-white px-4 text-sm \
                      font-medium text-stone-800 hover:bg-stone-100";

#[component]
pub fn SellerPage() -> impl IntoView {
    let seller = use_viewed_address();
    let problem = use_address_query_problem();
    let listings = Resource::new(
        move || seller.get(),
        |seller| async move {
            let seller = seller?;
            Some(answer_or(listings_of(seller).await, || {
                "your products are not available right now; try again in a moment".to_owned()
            }))
        },
    );
    view! {
        <Title text="Your products · Coop" />
        <section class="mx-auto flex max-w-5xl flex-col gap-6 px-4 py-8">
            <header class="flex flex-wrap items-end justify-between gap-4">
                <div>
                    <h1 class="text-3xl font-bold tracking-tight">"Your products"</h1>
                    <p class="mt-2 text-stone-600">"What you sell, what it sold, and the Data Unions you own."</p>
                    {move || seller.get().map(|seller| view! {
                        <p class="mt-1 break-all font-mono text-xs text-stone-500">{seller.to_checksum(None)}</p>
                    })}
                </div>
                <a href="/products/new" class="inline-flex min-h-11 items-center rounded-full bg-emerald-700 px-5 text-sm font-medium text-white hover:bg-emerald-800">
                    "New product"
                </a>
            </header>
            <Transition fallback=|| view! { <p class="text-stone-500">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match listings.await {
                        None => match problem.get_untracked() {
                            Some(problem) => view! { <ErrorNotice message=problem testid="address-problem" /> }.into_any(),
                            None => view! {
                                <p class="rounded-2xl border border-dashed border-stone-300 p-6 text-stone-600">
                                    "Connect your wallet to see the products you sell."
                                </p>
                            }
                            .into_any(),
                        },
                        Some(Err(error)) => view! { <ErrorNotice message=error /> }.into_any(),
                        Some(Ok(listings)) => view! { <Listings listings /> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn Listings(listings: SellerListings) -> impl IntoView {
    let SellerListings { products, unions, sales, chain_time, .. } = listings;
    if products.is_empty() && unions.is_empty() {
        return view! {
            <p class="rounded-2xl border border-dashed border-stone-300 p-6 text-stone-600">
                "Nothing listed yet. A product takes a minute: describe it, set a price, publish."
            </p>
        }
        .into_any();
    }
    view! {
        {(!sales.is_empty()).then(|| view! { <SalesCharts sales now=chain_time /> })}
        <section aria-labelledby="products-heading">
            <h2 id="products-heading" class="text-xl font-semibold">{counted(products.len() as u64, "product")}</h2>
            <ul class="mt-3 flex flex-col gap-3">
                {products.into_iter().map(|product| view! { <ProductRow product /> }).collect_view()}
            </ul>
        </section>
        {(!unions.is_empty()).then(|| view! {
            <section aria-labelledby="unions-heading">
                <h2 id="unions-heading" class="text-xl font-semibold">"Your Data Unions"</h2>
                <ul class="mt-3 flex flex-col gap-3">
                    {unions.into_iter().map(|union| view! { <UnionRow union /> }).collect_view()}
                </ul>
            </section>
        })}
    }
    .into_any()
}

/// Revenue, purchases and subscribers over time, all the seller's products together; drawn on the
/// server, so they read without JavaScript.
#[component]
fn SalesCharts(sales: Vec<SalesPoint>, now: u64) -> impl IntoView {
    let revenue = Series {
        label: "Revenue (DATA)".to_owned(),
        stroke: "stroke-amber-500",
        points: sales.iter().map(|p| (p.at, data_float(p.revenue))).collect(),
    };
    let counts = [
        Series {
            label: "Subscribers".to_owned(),
            stroke: "stroke-sky-500",
            points: sales.iter().map(|p| (p.at, p.subscribers as f64)).collect(),
        },
        Series {
            label: "Purchases".to_owned(),
            stroke: "stroke-emerald-600",
            points: sales.iter().map(|p| (p.at, p.purchases as f64)).collect(),
        },
    ];
    view! {
        <section aria-labelledby="sales-heading">
            <h2 id="sales-heading" class="text-xl font-semibold">"Sales over time"</h2>
            <div class="mt-3 grid gap-4 lg:grid-cols-2">
                <StepChart title="Revenue".to_owned() drawing=Drawing::new(&[revenue], now, data_axis, utc) />
                <StepChart title="Subscribers and purchases".to_owned() drawing=Drawing::new(&counts, now, count_axis, utc) />
            </div>
        </section>
    }
}

/// One product: its name, state and price, what it sold, and what the seller can do with it.
#[component]
fn ProductRow(product: ProductCard) -> impl IntoView {
    let listed = product.state == ProductState::Deployed;
    let union = product.data_union.then_some(product.beneficiary);
    view! {
        <li class="rounded-2xl border border-stone-200 bg-white p-4 shadow-sm" data-product=product.id.to_string()>
            <div class="flex flex-wrap items-baseline justify-between gap-2">
                <a href=format!("/products/{}", product.id) class="text-lg font-semibold hover:text-emerald-700">
                    {product.name.clone()}
                </a>
                <span class=if listed {
                    "rounded-full bg-emerald-100 px-2 py-0.5 text-xs font-medium text-emerald-900"
                } else {
                    "rounded-full bg-amber-100 px-2 py-0.5 text-xs font-medium text-amber-900"
                }>{product.state.label()}</span>
            </div>
            <dl class="mt-3 grid grid-cols-2 gap-3 text-sm sm:grid-cols-4">
                <Figure label="Price per day" value=price_label(product.price_per_second, Period::Day) />
                <Figure label="Purchases" value=product.purchases.to_string() />
                <Figure label="Subscribers" value=product.subscribers.to_string() />
                <div>
                    <dt class="text-xs uppercase tracking-wide text-stone-500">"Revenue"</dt>
                    <dd class="mt-0.5 font-semibold" title=data_exact(product.revenue)>{data_short(product.revenue)}</dd>
                </div>
            </dl>
            <p class="mt-3 flex flex-wrap gap-2">
                <a href=format!("/products/{}/edit", product.id) class=ACTION>"Edit"</a>
                {union.map(|union| view! { <a href=union_href(union) class=ACTION>"Union dashboard"</a> })}
            </p>
        </li>
    }
}

#[component]
fn UnionRow(union: UnionFigures) -> impl IntoView {
    view! {
        <li class="rounded-2xl border border-emerald-200 bg-emerald-50 p-4">
            <a href=union_href(union.address) class="break-all font-mono text-sm text-emerald-900 underline">
                {union.address.to_checksum(None)}
            </a>
            <dl class="mt-3 grid grid-cols-2 gap-3 text-sm sm:grid-cols-4">
                <Figure label="Members" value=union.active_members.to_string() />
                <Figure label="Ever joined" value=union.total_members.to_string() />
                <div>
                    <dt class="text-xs uppercase tracking-wide text-stone-500">"Revenue"</dt>
                    <dd class="mt-0.5 font-semibold" title=data_exact(union.total_revenue)>{data_short(union.total_revenue)}</dd>
                </div>
                <Figure label="Admin fee" value=format!("{} %", union.admin_fee_percent) />
            </dl>
        </li>
    }
}

#[component]
fn Figure(label: &'static str, value: String) -> impl IntoView {
    view! {
        <div>
            <dt class="text-xs uppercase tracking-wide text-stone-500">{label}</dt>
            <dd class="mt-0.5 font-semibold">{value}</dd>
        </div>
    }
}

fn union_href(union: Address) -> String {
    format!("/unions/{}", union.to_checksum(None))
}
