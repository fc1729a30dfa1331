//! The join page (`/join/{union}`): a shareable link, with `?secret=` to join at once, or without it
//! to ask the owner. The member signs a join message in its wallet (no transaction, no fee); the page
//! then shows where the request stands: pending, approved, rejected, sent to the chain, joined.

use alloy_primitives::Address;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::components::error_notice::{ErrorNotice, PageErrorNotice};
use crate::error::{Service, answer_or};
use crate::pages::not_found::NotFound;
use crate::unions::{
    JoinStatus, RequestStatus as JoinRequestStatus, UnionStats, get_join_prompt, get_join_status, request_to_join,
    union_in_address_bar, use_chain_block,
};
use crate::wallet::use_wallet;

/// What a status means to the person who asked, beyond its label.
fn explain(status: JoinRequestStatus) -> &'static str {
    match status {
        JoinRequestStatus::Pending => "The owner has your request and decides whether to let you in.",
        JoinRequestStatus::Approved => "You are in: Coop adds you to the Data Union on chain in a moment.",
        JoinRequestStatus::Sent => "Your membership is on its way to the chain.",
        JoinRequestStatus::Joined => "Purchases of this Data Union's products now earn you a share.",
        JoinRequestStatus::Rejected => "The owner did not approve this request.",
        JoinRequestStatus::Parted => "You keep what you earned, and can withdraw it on your earnings page.",
    }
}

#[component]
pub fn JoinPage() -> impl IntoView {
    let params = use_params_map();
    let union = Memo::new(move |_| params.with(|p| p.get("union").unwrap_or_default()));
    let stats = Resource::new(move || union.get(), union_in_address_bar);
    view! {
        <Title text="Join a Data Union · Coop" />
        <Suspense fallback=|| view! { <p class="mx-auto max-w-2xl px-4 py-10 text-stone-500">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match answer_or(stats.await, || Service::DataUnions.to_string()) {
                    Ok(Some(stats)) => view! { <JoinView stats /> }.into_any(),
                    Ok(None) => view! { <NotFound /> }.into_any(),
                    Err(reason) => view! { <PageErrorNotice message=reason /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn JoinView(stats: UnionStats) -> impl IntoView {
    let query = use_query_map();
    let secret = Memo::new(move |_| query.with(|q| q.get("secret")).filter(|s| !s.trim().is_empty()));
    let union = stats.address;
    // The request this page filed, until the server's answer about it catches up.
    let filed = RwSignal::new(None::<JoinStatus>);
    let name = stats.products.first().map_or_else(|| "a Data Union".to_owned(), |p| p.name.clone());
    view! {
        <section class="mx-auto max-w-2xl px-4 py-10">
            <p class="text-sm font-medium text-emerald-700">"Join a Data Union"</p>
            <h1 class="mt-1 text-3xl font-bold tracking-tight">{name}</h1>
            <p class="mt-2 break-all font-mono text-xs text-stone-500">{union.to_checksum(None)}</p>
            <p class="mt-4 text-stone-600">
                {format!(
                    "{} members share what buyers pay, after a {} % admin fee. ",
                    stats.active_members, stats.admin_fee_percent
                )}
                {move || if secret.get().is_some() {
                    "This link carries a secret from the owner: you join at once."
                } else {
                    "Your request goes to the owner for approval."
                }}
            </p>
            <div class="mt-6 rounded-2xl border border-stone-200 bg-white p-5 shadow-sm">
                <RequestStatus union filed />
                <JoinAction union secret filed />
            </div>
        </section>
    }
}

/// Where the visitor's request stands, asked again at each new block (approval and the chain move
/// it on without the visitor doing anything); nothing before a request exists.
#[component]
fn RequestStatus(union: Address, filed: RwSignal<Option<JoinStatus>>) -> impl IntoView {
    let wallet = use_wallet();
    let block = use_chain_block();
    let member = move || wallet.address.get().or_else(|| wallet.signed_in().map(|who| who.address));
    let status = Resource::new(
        move || (member(), block.get(), filed.get().map(|f| f.status)),
        move |(member, _, _)| async move {
            match member {
                Some(member) => get_join_status(union, member).await.ok().flatten(),
                None => None,
            }
        },
    );
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let current = status.await.or_else(|| filed.get_untracked());
                match current {
                    Some(current) => {
                        let (title, detail) = (current.status.label(), explain(current.status));
                        view! {
                            <div role="status" data-join-status=current.status.as_str()>
                                <p class="text-lg font-semibold">{title}</p>
                                <p class="mt-1 text-sm text-stone-600">{detail}</p>
                            </div>
                        }
                        .into_any()
                    }
                    None => ().into_any(),
                }
            })}
        </Transition>
    }
}

/// The button that signs and files the request, with the secret when the link carries one; or, with
/// no wallet, how to connect one.
#[component]
fn JoinAction(union: Address, secret: Memo<Option<String>>, filed: RwSignal<Option<JoinStatus>>) -> impl IntoView {
    let wallet = use_wallet();
    let problem = RwSignal::new(None::<String>);
    let signing = RwSignal::new(false);
    let join = move |_| {
        let Some(member) = wallet.address.get_untracked() else { return };
        let secret = secret.get_untracked();
        problem.set(None);
        signing.set(true);
        leptos::task::spawn_local(async move {
            match ask_to_join(wallet, union, member, secret).await {
                Ok(status) => filed.set(Some(status)),
                Err(error) => problem.set(Some(error)),
            }
            signing.set(false);
        });
    };
    view! {
        <Show
            when=move || wallet.is_connected()
            fallback=|| view! { <p class="text-sm text-stone-600">"Connect your wallet (top right) to join."</p> }
        >
            <button
                type="button"
                class="mt-4 rounded-full bg-emerald-700 px-5 py-2 text-sm font-medium text-white hover:bg-emerald-800 disabled:opacity-60"
                disabled=move || signing.get()
                on:click=join
            >
                {move || match (signing.get(), secret.get().is_some()) {
                    (true, _) => "Check your wallet…",
                    (false, true) => "Join with this link",
                    (false, false) => "Ask to join",
                }}
            </button>
            <p class="mt-2 text-xs text-stone-500">"You sign a message in your wallet: no transaction, no fee."</p>
        </Show>
        {move || problem.get().map(|error| view! { <ErrorNotice message=error class="mt-3" /> })}
    }
}

/// Signs the join message in the wallet and files the request.
async fn ask_to_join(
    wallet: crate::wallet::Wallet,
    union: Address,
    member: Address,
    secret: Option<String>,
) -> Result<JoinStatus, String> {
    let prompt = get_join_prompt(union, member).await.map_err(|error| error.to_string())?;
    let signature = wallet.sign_message(prompt.message).await.map_err(|error| error.to_string())?;
    request_to_join(union, member, prompt.issued_at, signature, secret).await.map_err(|error| error.to_string())
}
