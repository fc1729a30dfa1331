//! A product's page: what it is, its price per period, its seller and, for a Data Union, its members
//! and revenue, and the checkout to buy or extend a subscription. Rendered on the server, so it reads the
//! same without JavaScript (the checkout itself needs the wallet, so JavaScript).

use alloy_primitives::{Address, B256};
use coop::amount::{DATA_DECIMALS, Period, format_units};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::checkout::form::CheckoutPanel;
use crate::checkout::quote::describe_seconds;
use crate::components::error_notice::PageErrorNotice;
use crate::components::product_card::{ProductCardView, cover_style};
use crate::error::answer_or;
use crate::market::{ProductCard, ProductDetail, ProductState, UnionFigures, counted, get_product, price_label};
use crate::pages::grant::GrantAccess;
use crate::pages::marketplace::unavailable;
use crate::pages::not_found::NotFound;
use crate::pages::streams::ProductStreams;
use crate::pages::union::format::{data_exact, data_short};
use crate::pages::usd::UsdPerDay;
use crate::products::{Licence, check_contact};
use crate::wallet::use_wallet;

#[component]
pub fn ProductPage() -> impl IntoView {
    provide_context(crate::checkout::Purchases(RwSignal::new(0)));
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
    let related = detail.related;
    let unlisted = product.state != ProductState::Deployed;
    let free = product.price_per_second.is_zero();
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
            {view! {
                <div class="mt-6 flex flex-wrap items-start justify-between gap-3">
                    <h1 class="text-3xl font-bold tracking-tight">{product.name.clone()}</h1>
                    <EditLink id=product.id owner=product.owner />
                </div>
            }
            .into_any()}
            {unlisted.then(|| view! {
                <p class="mt-2 inline-block rounded bg-amber-100 px-2 py-1 text-sm text-amber-900">
                    "Unlisted: the seller took this product off the marketplace. Running subscriptions go on."
                </p>
            })}
            <p class="mt-3 text-stone-600">
                "Seller " <span class="break-all font-mono text-sm">{product.owner.to_checksum(None)}</span>
            </p>
            {product.category.map(|category| category.label()).map(|label| view! {
                <p class="mt-2"><span class="rounded-full bg-stone-100 px-2 py-0.5 text-xs text-stone-600">{label}</span></p>
            })}
            {(!product.description.is_empty()).then(|| view! {
                <p class="mt-4 max-w-prose whitespace-pre-line text-stone-800">{product.description.clone()}</p>
            })}
            <section class="mt-6 rounded-2xl border border-stone-200 bg-white p-5 shadow-sm" aria-labelledby="price-heading">
                <h2 id="price-heading" class="text-lg font-semibold">"Price"</h2>
                {if free {
                    view! {
                        <p class="mt-3 text-sm text-stone-700" data-testid="free-product">
                            {format!("Free: anyone may subscribe without paying. Minimum subscription: {minimum}.")}
                        </p>
                    }
                    .into_any()
                } else {
                    view! {
                        <dl class="mt-3 grid grid-cols-2 gap-3 sm:grid-cols-4">{prices}</dl>
                        <p class="mt-3 text-sm text-stone-500">
                            {format!(
                                "Exactly {} DATA per second. Minimum subscription: {minimum}.",
                                format_units(product.price_per_second, DATA_DECIMALS),
                            )}
                        </p>
                        <UsdPerDay product=product.id />
                    }
                    .into_any()
                }}
                <p class="mt-1 text-sm text-stone-500">
                    {format!("{}, {}.", counted(product.subscribers, "subscriber"), counted(product.purchases, "purchase"))}
                </p>
            </section>
            {view! { <TermsOfUse product=product.clone() /> }.into_any()}
            <CheckoutPanel product=product.clone() />
            {view! { <GrantAccess product=product.id owner=product.owner /> }.into_any()}
            // Type-erased: the page's view type is otherwise too deep for the compiler.
            {view! { <ProductStreams product=product.id owner=product.owner /> }.into_any()}
            {detail.union.map(|union| view! { <UnionSection union /> }.into_any())}
            {(!related.is_empty()).then(|| view! { <Related related /> }.into_any())}
            <section class="mt-6 text-sm text-stone-600">
                <h2 class="text-lg font-semibold text-stone-900">"Payments go to"</h2>
                <p class="mt-1 break-all font-mono">{product.beneficiary.to_checksum(None)}</p>
            </section>
        </article>
    }
}

/// "Edit" for the product's owner, signed in; nothing for anyone else. The page is rendered with the
/// session, so the owner sees it before hydration too.
#[component]
fn EditLink(id: B256, owner: Address) -> impl IntoView {
    let wallet = use_wallet();
    move || {
        wallet.signed_in().filter(|who| who.address == owner).map(|_| {
            view! {
                <a
                    href=format!("/products/{id}/edit")
                    class="inline-flex min-h-11 items-center rounded-full border border-stone-300 bg-white px-4 text-sm font-medium text-stone-800 hover:bg-stone-100"
                >
                    "Edit product"
                </a>
            }
        })
    }
}

/// What a buyer accepts with a purchase, and how to reach the seller: shown above the checkout, so
/// it is read before paying.
#[component]
fn TermsOfUse(product: ProductCard) -> impl IntoView {
    let terms = match product.licence {
        Some(Licence::Own) => view! {
            <p class="mt-2 text-sm font-medium">{Licence::Own.label()}":"</p>
            <p class="mt-1 max-w-prose whitespace-pre-line text-sm text-stone-800" data-testid="own-terms">{product.terms.clone()}</p>
        }
        .into_any(),
        Some(licence) => view! {
            <p class="mt-2 text-sm">
                <a class="font-medium text-emerald-800 underline" rel="license" href=licence.url().unwrap_or_default()>{licence.label()}</a>
            </p>
        }
        .into_any(),
        None => view! {
            <p class="mt-2 text-sm text-stone-600">
                "The seller states no terms of use: ask the seller what you may do with the data before you rely on it."
            </p>
        }
        .into_any(),
    };
    // Saved contacts were checked; one that does not pass now is shown as text, not as a link.
    let contact = (!product.contact.is_empty()).then(|| {
        let contact = product.contact.clone();
        let href = match check_contact(&contact) {
            Ok(()) if contact.starts_with("https://") => Some(contact.clone()),
            Ok(()) => Some(format!("mailto:{contact}")),
            Err(_) => None,
        };
        view! {
            <p class="mt-3 text-sm text-stone-600">
                "Questions? Contact the seller: "
                {match href {
                    Some(href) => view! { <a class="break-all text-emerald-800 underline" href=href>{contact}</a> }.into_any(),
                    None => view! { <span class="break-all">{contact}</span> }.into_any(),
                }}
            </p>
        }
    });
    view! {
        <section class="mt-6 rounded-2xl border border-stone-200 bg-white p-5 shadow-sm" aria-labelledby="terms-heading">
            <h2 id="terms-heading" class="text-lg font-semibold">"Terms of use"</h2>
            {terms}
            {contact}
            <p class="mt-3 text-xs text-stone-500">"A purchase accepts these terms."</p>
        </section>
    }
}

/// Other products of the same seller or the same category.
#[component]
fn Related(related: Vec<ProductCard>) -> impl IntoView {
    view! {
        <section class="mt-8" aria-labelledby="related-heading">
            <h2 id="related-heading" class="text-lg font-semibold">"Related products"</h2>
            <ul class="mt-3 grid gap-5 sm:grid-cols-2 lg:grid-cols-3">
                {related.into_iter().map(|card| view! { <ProductCardView card /> }).collect_view()}
            </ul>
        </section>
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
