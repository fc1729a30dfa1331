//! The buyer's purchases: every product an address subscribed to, with its end date. The list is the
//! indexer's (`/api/v1/subscriptions`). Whose: `?address=` when given, else the connected wallet, else
//! the signed-in address; rendered on the server when the address is known there.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::checkout::dates::{iso, show_utc};
use crate::checkout::port::{Subscription, Subscriptions, subscriptions_of};
use crate::components::error_notice::ErrorNotice;
use crate::error::answer_or;
use crate::pages::{use_address_query_problem, use_viewed_address};

#[component]
pub fn PurchasesPage() -> impl IntoView {
    let buyer = use_viewed_address();
    let problem = use_address_query_problem();
    let list = Resource::new(
        move || buyer.get(),
        |buyer| async move {
            let buyer = buyer?;
            Some(answer_or(subscriptions_of(buyer).await, || {
                "the purchases are not available right now; try again in a moment".to_owned()
            }))
        },
    );
    view! {
        <Title text="Your purchases · Coop" />
        <section class="mx-auto max-w-4xl px-4 py-8">
            <h1 class="text-3xl font-bold tracking-tight">"Your purchases"</h1>
            <p class="mt-2 text-stone-600">"Subscriptions bought by this address, with the date each one ends."</p>
            {move || buyer.get().map(|buyer| view! {
                <p class="mt-1 break-all font-mono text-xs text-stone-500">{buyer.to_checksum(None)}</p>
            })}
            <Transition fallback=|| view! { <p class="mt-6 text-stone-500">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match list.await {
                        None => match problem.get_untracked() {
                            Some(problem) => view! { <ErrorNotice message=problem class="mt-6" testid="address-problem" /> }.into_any(),
                            None => view! {
                                <p class="mt-6 rounded-xl bg-white p-5 text-stone-600 shadow-sm">"Connect your wallet to see your purchases."</p>
                            }.into_any(),
                        },
                        Some(Err(error)) => view! { <ErrorNotice message=error class="mt-6" /> }.into_any(),
                        Some(Ok(list)) => view! { <PurchaseList list /> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn PurchaseList(list: Subscriptions) -> impl IntoView {
    if list.subscriptions.is_empty() {
        return view! {
            <p class="mt-6 rounded-xl bg-white p-5 text-stone-600 shadow-sm">
                "No purchases yet. " <a class="text-emerald-700 underline" href="/">"Browse the marketplace"</a>
            </p>
        }
        .into_any();
    }
    let mut subscriptions = list.subscriptions;
    // Running ones first, the one ending soonest on top.
    subscriptions.sort_by(|a, b| b.active.cmp(&a.active).then(a.end_timestamp.cmp(&b.end_timestamp)));
    view! {
        <ul class="mt-6 divide-y divide-stone-200 rounded-2xl border border-stone-200 bg-white shadow-sm" aria-label="Subscriptions">
            {subscriptions.into_iter().map(|s| view! { <PurchaseRow subscription=s /> }).collect_view()}
        </ul>
        <p class="mt-3 text-xs text-stone-500">{format!("As of block {}.", list.as_of_block)}</p>
    }
    .into_any()
}

#[component]
fn PurchaseRow(subscription: Subscription) -> impl IntoView {
    let (badge, badge_class) = if subscription.active {
        ("Active", "bg-emerald-100 text-emerald-800")
    } else {
        ("Ended", "bg-stone-100 text-stone-600")
    };
    let name =
        if subscription.product_name.is_empty() { "Unnamed product".to_owned() } else { subscription.product_name };
    let end = subscription.end_timestamp;
    view! {
        <li class="flex flex-col gap-1 p-4 sm:flex-row sm:items-center sm:justify-between" data-product=subscription.product_id.to_string()>
            <a class="font-semibold text-stone-900 hover:underline" href=format!("/products/{}", subscription.product_id)>{name}</a>
            <span class="flex items-center gap-3 text-sm text-stone-600">
                {if subscription.active { "Ends " } else { "Ended " }}
                <time datetime=iso(end) data-unix=end.to_string()>{show_utc(end)}</time>
                <span class=format!("rounded-full px-2 py-0.5 text-xs font-semibold {badge_class}")>{badge}</span>
            </span>
        </li>
    }
}
