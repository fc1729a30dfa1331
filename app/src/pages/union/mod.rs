//! A Data Union's dashboard (`/unions/{address}`): where it moved from or to, tiles, what protects the members (operator,
//! validators, announced changes), charts of members and revenue, who contributes to its products'
//! streams, the member list, and for the signed-in owner the join requests, shared secrets and the
//! admin fee. Rendered on the server; the figures follow new blocks
//! without a reload.

mod admin_fee;
mod charts;
mod contributions;
pub mod format;
mod members;
mod moved;
mod protection;
mod requests;
mod secrets;
mod tiles;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::components::error_notice::{ErrorNotice, PageErrorNotice};
use crate::error::answer_or;
use crate::error::{AppError, Service};
use crate::pages::not_found::NotFound;
use crate::unions::{UnionStats, get_union_stats, live, union_in_address_bar, use_chain_block};
use crate::wallet::use_wallet;

pub use secrets::join_link;

/// A server function's answer as a view: `ok` with the value, else the reason in plain words.
pub(crate) fn or_alert<T>(answer: Result<T, AppError>, ok: impl FnOnce(T) -> AnyView) -> AnyView {
    match answer_or(answer, || Service::DataUnions.to_string()) {
        Ok(value) => ok(value),
        Err(reason) => view! { <ErrorNotice message=reason class="my-2" /> }.into_any(),
    }
}

#[component]
pub fn UnionPage() -> impl IntoView {
    let params = use_params_map();
    let address = Memo::new(move |_| params.with(|params| params.get("address").unwrap_or_default()));
    let stats = Resource::new(move || address.get(), union_in_address_bar);
    view! {
        <Suspense fallback=|| view! { <p class="mx-auto max-w-6xl px-4 py-10 text-stone-500">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match answer_or(stats.await, || Service::DataUnions.to_string()) {
                    Ok(Some(stats)) => view! { <Dashboard initial=stats /> }.into_any(),
                    Ok(None) => view! { <NotFound /> }.into_any(),
                    Err(reason) => view! { <PageErrorNotice message=reason /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Dashboard(initial: UnionStats) -> impl IntoView {
    let wallet = use_wallet();
    let block = use_chain_block();
    let (union, owner) = (initial.address, initial.owner);
    let title = initial.products.first().map_or_else(|| "Data Union".to_owned(), |product| product.name.clone());
    let products = initial.products.clone();
    let stats = live(initial, block, move || async move { get_union_stats(union).await.ok()? });
    let is_owner = Signal::derive(move || wallet.signed_in().is_some_and(|who| who.address == owner));
    let as_of = Signal::derive(move || stats.with(|s| s.as_of_block));
    let now = Signal::derive(move || stats.with(|s| s.chain_time));
    let fee = Signal::derive(move || stats.with(|s| s.admin_fee_percent.clone()));
    let product_links = products
        .into_iter()
        .map(|product| view! { <a class="underline" href=format!("/products/{}", product.id)>{product.name}</a> })
        .collect_view();
    view! {
        <Title text=format!("{title}: dashboard · Coop") />
        <div class="mx-auto flex max-w-6xl flex-col gap-6 px-4 py-8">
            <header>
                <p class="text-sm font-medium text-emerald-700">"Data Union dashboard"</p>
                <h1 class="mt-1 text-3xl font-bold tracking-tight">{title}</h1>
                <p class="mt-2 break-all font-mono text-xs text-stone-500">{union.to_checksum(None)}</p>
                <p class="mt-1 flex flex-wrap gap-x-3 text-sm text-stone-600">
                    <span>"Owner " <span class="break-all font-mono text-xs">{owner.to_checksum(None)}</span></span>
                    <span class="flex gap-2">"Products: " {product_links}</span>
                    <span data-as-of=move || as_of.get()>
                        {move || format!("As of {} (block {})", format::utc(now.get()), as_of.get())}
                    </span>
                    <span>{move || stats.with(commit_line)}</span>
                </p>
            </header>
            // Each part type-erased: the page's view type is otherwise too deep for the compiler.
            {view! { <moved::Moved stats /> }.into_any()}
            {view! { <tiles::StatTiles stats /> }.into_any()}
            {view! { <protection::Protection stats /> }.into_any()}
            {view! { <charts::UnionCharts union block now /> }.into_any()}
            {view! { <contributions::UnionContributions union block /> }.into_any()}
            {view! { <members::MemberList union block is_owner /> }.into_any()}
            <Show
                when=move || is_owner.get()
                fallback=move || view! { <OwnerOnly owner=owner.to_checksum(None) /> }
            >
                <div class="grid items-start gap-6 lg:grid-cols-2">
                    {view! { <requests::JoinRequests union block /> }.into_any()}
                    <div class="flex flex-col gap-6">
                        {view! { <admin_fee::AdminFeeForm union current=fee /> }.into_any()}
                        {view! { <secrets::SecretsPanel union /> }.into_any()}
                    </div>
                </div>
            </Show>
        </div>
    }
}

fn commit_line(stats: &UnionStats) -> String {
    match &stats.latest_commit {
        Some(commit) => format!(
            "Last commit: book of block {}, withdrawable from {}",
            commit.book_block,
            format::utc(commit.provable_at)
        ),
        None => "No commit yet".to_owned(),
    }
}

/// What everyone but the signed-in owner sees where the owner's tools are.
#[component]
fn OwnerOnly(owner: String) -> impl IntoView {
    view! {
        <section class="rounded-2xl border border-dashed border-stone-300 p-4 text-sm text-stone-600" aria-label="Owner tools">
            "Join requests, shared secrets, removing members and the admin fee are for the owner of this Data Union ("
            <span class="break-all font-mono text-xs">{owner}</span>
            "), signed in with its wallet."
        </section>
    }
}
