//! The transactions sent from these pages, under the header on every page: pending ones (also after
//! a reload) with their hash, and how each ended until the person dismisses it.

use leptos::prelude::*;

use crate::wallet::sent::{SentState, Tracked};
use crate::wallet::use_wallet;

#[component]
pub fn SentTransactions() -> impl IntoView {
    let wallet = use_wallet();
    let any = move || wallet.sent.with(|all| !all.is_empty());
    view! {
        <Show when=any>
            // A polite live region, so a screen reader hears a transaction end without losing its place.
            <ul class="mx-auto flex max-w-6xl flex-col gap-1 px-3 pb-2 sm:px-4" aria-label="Your transactions" aria-live="polite">
                <For each=move || wallet.sent.get() key=|tracked| (tracked.tx.hash, tracked.state) let:tracked>
                    <SentRow tracked />
                </For>
            </ul>
        </Show>
    }
}

#[component]
fn SentRow(tracked: Tracked) -> impl IntoView {
    let wallet = use_wallet();
    let hash = tracked.tx.hash;
    let tone = match tracked.state {
        SentState::Pending => "border-amber-200 bg-amber-50 text-amber-950",
        SentState::Mined { .. } => "border-emerald-200 bg-emerald-50 text-emerald-950",
        SentState::Reverted { .. } | SentState::Dropped => "border-red-200 bg-red-50 text-red-900",
    };
    let settled = tracked.state != SentState::Pending;
    view! {
        <li
            class=format!("flex flex-wrap items-center gap-x-3 gap-y-1 rounded-xl border px-3 py-2 text-sm {tone}")
            data-testid="sent-tx"
        >
            <span>{tracked.describe()}</span>
            <span class="break-all font-mono text-xs" title="Transaction hash">{hash.to_string()}</span>
            {settled.then(|| view! {
                <button
                    type="button"
                    class="ml-auto min-h-11 rounded-full px-3 text-xs font-medium underline"
                    on:click=move |_| wallet.dismiss_sent(hash)
                >
                    "Dismiss"
                </button>
            })}
        </li>
    }
}
