//! A product's page: what it is, its price per period, its seller and, for a Data Union, its members
//! and revenue, and the checkout to buy or extend a subscription. Rendered on the server, so it reads the
//! same without JavaScript (the checkout itself needs the wallet, so JavaScript).

use alloy_primitives::B256;
use coop::amount::{DATA_DECIMALS, Period, format_units};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::checkout::form::CheckoutPanel;
use crate::checkout::quote::describe_seconds;
use crate::components::error_notice::PageErrorNotice;
use crate::components::product_card::cover_style;
use crate::error::answer_or;
use crate::market::{ProductDetail, ProductState, UnionFigures, counted, get_product, price_label};
use crate::pages::marketplace::unavailable;
use crate::pages::not_found::NotFound;
use crate::pages::streams::ProductStreams;
use crate::pages::union::format::{data_exact, data_short};

#[component]
pub fn ProductPage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.with(|params| params.get("id").unwrap_or_default()));
    // An id that is not `0x` and 64 hex digits names no product.
    let detail = Resource::new(
        move || id.get(),
        |id| async move {
            match id.parse::<B256>() {
                Ok(id) => get_product(id).await,
                Err(_) => Ok(None),
            }
        },
    );
    view! {
        <Suspense fallback=|| view! { <p class="mx-auto max-w-4xl px-4 py-10 text-stone-500">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match answer_or(detail.await, unavailable) {
                    Ok(Some(detail)) => view! { <ProductView detail /> }.into_any(),
                    Ok(None) => view! { <NotFound /> }.into_any(),
                    Err(reason) => view! { <PageErrorNotice message=reason /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn ProductView(detail: ProductDetail) -> impl IntoView {
    let product = detail.product;
    let unlisted = product.state != ProductState::Deployed;
    let minimum = if product.minimum_subscription_seconds.is_zero() {
        "none".to_owned()
    } else {
        describe_seconds(product.minimum_subscription_seconds)
    };
    let prices = [Period::Hour, Period::Day, Period::Week, Period::Month]
        .into_iter()
        .map(|period| {
            view! {
                <div class="rounded-xl bg-stone-50 p-3">
                    <dt class="text-xs uppercase tracking-wide text-stone-500">{format!("per {}", period.name())}</dt>
                    <dd class="mt-1 font-semibold">{price_label(product.price_per_second, period)}</dd>
                </div>
            }
        })
        .collect_view();
    view! {
        <Title text=format!("{} · Coop", product.name) />
        <article class="mx-auto max-w-4xl px-4 py-8">
            <div class="flex aspect-[21/9] items-end rounded-2xl p-6 shadow-sm" style=cover_style(&product)>
                {product.data_union.then(|| view! {
                    <span class="rounded-full bg-white/90 px-3 py-1 text-xs font-semibold text-emerald-800">"Data Union"</span>
                })}
            </div>
            <h1 class="mt-6 text-3xl font-bold tracking-tight">{product.name.clone()}</h1>
            {unlisted.then(|| view! {
                <p class="mt-2 inline-block rounded bg-amber-100 px-2 py-1 text-sm text-amber-900">
                    "Unlisted: the seller took this product off the marketplace. Running subscriptions go on."
                </p>
            })}
            <p class="mt-3 text-stone-600">
                "Seller " <span class="font-mono text-sm">{product.owner.to_checksum(None)}</span>
            </p>
            {product.category.map(|category| category.label()).map(|label| view! {
                <p class="mt-2"><span class="rounded-full bg-stone-100 px-2 py-0.5 text-xs text-stone-600">{label}</span></p>
            })}
            {(!product.description.is_empty()).then(|| view! {
                <p class="mt-4 max-w-prose whitespace-pre-line text-stone-800">{product.description.clone()}</p>
            })}
            <section class="mt-6 rounded-2xl border border-stone-200 bg-white p-5 shadow-sm" aria-labelledby="price-heading">
                <h2 id="price-heading" class="text-lg font-semibold">"Price"</h2>
                <dl class="mt-3 grid grid-cols-2 gap-3 sm:grid-cols-4">{prices}</dl>
                <p class="mt-3 text-sm text-stone-500">
                    {format!(
                        "Exactly {} DATA per second. Minimum subscription: {minimum}.",
                        format_units(product.price_per_second, DATA_DECIMALS),
                    )}
                </p>
                <p class="mt-1 text-sm text-stone-500">
                    {format!("{}, {}.", counted(product.subscribers, "subscriber"), counted(product.purchases, "purchase"))}
                </p>
            </section>
            <CheckoutPanel product=product.clone() />
            // Type-erased: the page's view type is otherwise too deep for the compiler.
            {view! { <ProductStreams product=product.id owner=product.owner /> }.into_any()}
            {detail.union.map(|union| view! { <UnionSection union /> })}
            <section class="mt-6 text-sm text-stone-600">
                <h2 class="text-lg font-semibold text-stone-900">"Payments go to"</h2>
                <p class="mt-1 break-all font-mono">{product.beneficiary.to_checksum(None)}</p>
            </section>
        </article>
    }
}

#[component]
fn UnionSection(union: UnionFigures) -> impl IntoView {
    view! {
        <section class="mt-6 rounded-2xl border border-emerald-200 bg-emerald-50 p-5" aria-labelledby="union-heading">
            <h2 id="union-heading" class="text-lg font-semibold">"Data Union"</h2>
            <p class="mt-1 text-sm">
                <a class="text-emerald-800 underline" href=format!("/unions/{}", union.address.to_checksum(None))>
                    "Its dashboard: members, revenue, joining"
                </a>
            </p>
            <dl class="mt-3 grid grid-cols-2 gap-3 sm:grid-cols-4">
                <div>
                    <dt class="text-xs uppercase tracking-wide text-stone-500">"Members"</dt>
                    <dd class="mt-1 text-xl font-semibold">{union.active_members}</dd>
                </div>
                <div>
                    <dt class="text-xs uppercase tracking-wide text-stone-500">"Ever joined"</dt>
                    <dd class="mt-1 text-xl font-semibold">{union.total_members}</dd>
                </div>
                <div>
                    <dt class="text-xs uppercase tracking-wide text-stone-500">"Revenue"</dt>
                    <dd class="mt-1 text-xl font-semibold" title=data_exact(union.total_revenue)>{data_short(union.total_revenue)}</dd>
                </div>
                <div>
                    <dt class="text-xs uppercase tracking-wide text-stone-500">"Admin fee"</dt>
                    <dd class="mt-1 text-xl font-semibold">{format!("{} %", union.admin_fee_percent)}</dd>
                </div>
            </dl>
        </section>
    }
}
