//! Saving and publishing: save the draft; publish with `createProduct`; then update, unpublish
//! (`deleteProduct`) and republish (`redeployProduct`), each through the wallet with its progress.
//! The draft is saved before anything is sent, so what was published is never lost, and saved again
//! with the product id once confirmed, which gives the product its description, category and cover.

use alloy_primitives::{Address, B256};
use leptos::prelude::*;

use super::chain;
use super::progress::{Step, StepStatus};
use super::state::{EditorState, Notice};
use crate::components::error_notice::ErrorNotice;
use crate::products::{Stage, product_id, product_salt};
use crate::wallet::{Wallet, use_wallet};

/// Where the product stands on the Marketplace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listing {
    /// Not created yet.
    Unpublished,
    Listed,
    /// Deleted from the marketplace; can be republished.
    Unlisted,
}

const PRIMARY: &str = "min-h-11 rounded-lg bg-emerald-700 px-5 py-2.5 text-sm font-medium text-white hover:bg-emerald-800 disabled:cursor-not-allowed disabled:opacity-50";
const SECONDARY: &str = "min-h-11 rounded-lg border border-stone-300 bg-white px-4 py-2.5 text-sm font-medium hover:bg-stone-100 disabled:cursor-not-allowed disabled:opacity-50";

/// Why the wallet cannot publish now, in words; `None` when it can.
pub fn wallet_blocker(wallet: Wallet) -> Option<String> {
    if !wallet.is_connected() {
        return Some("Connect your wallet (top right) to publish.".to_owned());
    }
    if !wallet.is_right_chain() {
        return Some(format!("Your wallet is on another network. Switch to {} to publish.", wallet.chain_name()));
    }
    if wallet.signed_in().is_none() {
        return Some("Sign in (top right) so your draft, description and cover are saved with the product.".to_owned());
    }
    None
}

fn marketplace(wallet: Wallet) -> Option<Address> {
    wallet.chain.get_untracked().and_then(|chain| chain.contracts.get("marketplace").copied())
}

#[component]
pub fn PublishPanel(state: EditorState, listing: RwSignal<Listing>) -> impl IntoView {
    let wallet = use_wallet();
    let step = Step::new();
    let problem = RwSignal::new(None::<String>);
    let busy = Signal::derive(move || step.is_busy() || state.saving.get());
    let blocked = Signal::derive(move || wallet_blocker(wallet).is_some());

    let save = move |_| {
        leptos::task::spawn_local(async move {
            let _ = state.save().await;
        });
    };
    let publish = move |_| leptos::task::spawn_local(publish(wallet, state, step, problem, listing));
    let update = move |_| leptos::task::spawn_local(update(wallet, state, step, problem));
    let toggle = move |_| leptos::task::spawn_local(toggle_listing(wallet, state, step, problem, listing));

    let product_link = move || {
        let id = state.draft.with(|draft| draft.product_id.clone());
        (!id.is_empty() && listing.get() != Listing::Unpublished).then(|| {
            view! {
                <a class="text-sm text-emerald-700 underline" href=format!("/products/{id}")>"See your product"</a>
            }
        })
    };
    view! {
        <div class="grid gap-3">
            {move || wallet_blocker(wallet).map(|text| view! {
                <p class="rounded-lg bg-stone-100 px-3 py-2 text-sm text-stone-700" data-testid="wallet-blocker">{text}</p>
            })}
            <div class="flex flex-wrap items-center gap-3">
                <button type="button" class=SECONDARY on:click=save disabled=move || busy.get()>
                    {move || if state.saving.get() { "Saving…" } else { "Save draft" }}
                </button>
                {move || match listing.get() {
                    Listing::Unpublished => view! {
                        <button type="button" class=PRIMARY on:click=publish disabled=move || busy.get() || blocked.get()>"Publish"</button>
                    }.into_any(),
                    current => view! {
                        <button type="button" class=PRIMARY on:click=update disabled=move || busy.get() || blocked.get()>"Save changes"</button>
                        <button type="button" class=SECONDARY on:click=toggle disabled=move || busy.get() || blocked.get()>
                            {if current == Listing::Listed { "Unpublish" } else { "Republish" }}
                        </button>
                    }.into_any(),
                }}
                {product_link}
                <span class="text-sm text-stone-500" role="status" data-testid="save-notice">
                    {move || match state.notice.get() {
                        Some(Notice::Saved) => Some(view! { <span>"Draft saved."</span> }.into_any()),
                        Some(Notice::Problem(text)) => Some(view! { <span class="text-red-700">{text}</span> }.into_any()),
                        None => None,
                    }}
                </span>
            </div>
            {move || problem.get().map(|text| view! { <ErrorNotice message=text /> })}
            <StepStatus step />
        </div>
    }
    .into_any()
}

/// Everything a Marketplace transaction needs, or the reason it cannot be sent (shown, nothing sent).
fn ready(wallet: Wallet, state: EditorState, problem: RwSignal<Option<String>>) -> Option<(Address, Address)> {
    problem.set(None);
    if !state.check(Stage::Publish) {
        problem.set(Some("Some fields need a change; nothing was sent.".to_owned()));
        return None;
    }
    if let Some(reason) = untrack(|| wallet_blocker(wallet)) {
        problem.set(Some(reason));
        return None;
    }
    let (Some(seller), Some(marketplace)) = (wallet.address.get_untracked(), marketplace(wallet)) else {
        problem.set(Some("This server has no Marketplace contract to publish to.".to_owned()));
        return None;
    };
    Some((seller, marketplace))
}

async fn publish(
    wallet: Wallet,
    state: EditorState,
    step: Step,
    problem: RwSignal<Option<String>>,
    listing: RwSignal<Listing>,
) {
    let Some((seller, marketplace)) = ready(wallet, state, problem) else { return };
    let Some(input) = state.draft.with_untracked(|draft| draft.check(Stage::Publish).ok().flatten()) else { return };
    if state.save().await.is_err() {
        return;
    }
    let id = product_id(seller, &input.name);
    let listing_tx = chain::create_product(marketplace, product_salt(&input.name), &input);
    if step.send(wallet, "Publishing", listing_tx).await.is_some() {
        listing.set(Listing::Listed);
        state.update(|draft| draft.product_id = id.to_string());
        let _ = state.save().await;
    }
}

fn published_id(state: EditorState) -> Option<B256> {
    state.draft.with_untracked(|draft| draft.product_id.parse().ok())
}

async fn update(wallet: Wallet, state: EditorState, step: Step, problem: RwSignal<Option<String>>) {
    let Some((_, marketplace)) = ready(wallet, state, problem) else { return };
    let (Some(id), Some(input)) =
        (published_id(state), state.draft.with_untracked(|draft| draft.check(Stage::Publish).ok().flatten()))
    else {
        return;
    };
    // The metadata is the server's; the terms are the chain's. Saving first keeps both in step.
    if state.save().await.is_err() {
        return;
    }
    step.send(wallet, "Updating", chain::update_product(marketplace, id, &input)).await;
}

async fn toggle_listing(
    wallet: Wallet,
    state: EditorState,
    step: Step,
    problem: RwSignal<Option<String>>,
    listing: RwSignal<Listing>,
) {
    problem.set(None);
    if let Some(reason) = untrack(|| wallet_blocker(wallet)) {
        return problem.set(Some(reason));
    }
    let (Some(id), Some(marketplace)) = (published_id(state), marketplace(wallet)) else { return };
    let (label, tx, after) = match listing.get_untracked() {
        Listing::Listed => ("Unpublishing", chain::delete_product(marketplace, id), Listing::Unlisted),
        _ => ("Republishing", chain::redeploy_product(marketplace, id), Listing::Listed),
    };
    if step.send(wallet, label, tx).await.is_some() {
        listing.set(after);
    }
}
