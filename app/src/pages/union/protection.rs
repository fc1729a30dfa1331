//! What protects the members from the owner and the operator: who commits, who may veto a frozen
//! commit, and the owner's announced changes, which wait a freeze period so that members see them
//! coming. Anyone may apply a change once it is due.

use alloy_primitives::{Address, U256};
use alloy_sol_types::SolCall;
use coop::contracts::DataUnion;
use leptos::prelude::*;

use super::format::{utc, wait};
use crate::unions::{Announced, AnnouncedChange, UnionStats};
use crate::wallet::{TxProgress, UnsignedTx, use_wallet};

#[component]
pub fn Protection(stats: ReadSignal<UnionStats>) -> impl IntoView {
    let operator = move || stats.with(|s| s.operator.to_checksum(None));
    let validators = move || {
        stats.with(|s| {
            if s.validators.is_empty() {
                "None yet: the owner may add validators, who can veto a wrong commit while it is frozen.".to_owned()
            } else {
                s.validators.iter().map(|v| v.to_checksum(None)).collect::<Vec<_>>().join(", ")
            }
        })
    };
    let freeze = move || stats.with(|s| s.freeze_period);
    let announced = move || stats.with(|s| s.announced.clone());
    view! {
        <section class="rounded-2xl border border-stone-200 bg-white p-4 shadow-sm" aria-labelledby="protection-heading">
            <h2 id="protection-heading" class="text-lg font-semibold">"Member protection"</h2>
            <dl class="mt-2 grid gap-2 text-sm sm:grid-cols-[auto_1fr] sm:gap-x-4">
                <dt class="text-stone-500">"Operator"</dt>
                <dd class="break-all font-mono text-xs" data-operator>{operator}</dd>
                <dt class="text-stone-500">"Validators"</dt>
                <dd class="break-all font-mono text-xs" data-validators>{validators}</dd>
                <dt class="text-stone-500">"Freeze period"</dt>
                <dd>
                    {move || format!("{} s", freeze())}
                    <span class="text-stone-500">
                        ": a commit can be vetoed for this long, and a new operator, a higher fee or a validator's \
                         removal waits this long after the owner announces it."
                    </span>
                </dd>
            </dl>
            <h3 class="mt-3 text-sm font-semibold">"Announced changes"</h3>
            <ul class="mt-1 flex flex-col gap-2 text-sm" data-announced>
                <For
                    each=announced
                    key=|change| (change.change.clone(), change.effective_at)
                    children=move |change| view! { <AnnouncedRow union=stats.with_untracked(|s| s.address) change stats /> }
                />
            </ul>
            <Show when=move || stats.with(|s| s.announced.is_empty())>
                <p class="text-sm text-stone-500">"None: the terms stand as they are."</p>
            </Show>
        </section>
    }
}

#[component]
fn AnnouncedRow(union: Address, change: Announced, stats: ReadSignal<UnionStats>) -> impl IntoView {
    let wallet = use_wallet();
    let progress = RwSignal::new(None::<ReadSignal<TxProgress>>);
    let effective_at = change.effective_at;
    let due = move || stats.with(|s| s.chain_time >= effective_at);
    let when = move || {
        let now = stats.with(|s| s.chain_time);
        if now >= effective_at {
            format!("Due since {}: anyone may apply it.", utc(effective_at))
        } else {
            format!("Takes effect from {} ({}).", utc(effective_at), wait(effective_at - now))
        }
    };
    let call = apply_call(&change.change);
    let apply = move |_| {
        progress.set(Some(wallet.send_transaction(UnsignedTx {
            to: union,
            data: call.clone().into(),
            value: U256::ZERO,
        })));
    };
    view! {
        <li class="rounded-lg border border-amber-200 bg-amber-50 p-3">
            <p class="font-medium">{change.describe()}</p>
            <p class="text-stone-600">{when}</p>
            <Show when=move || due() && wallet.is_connected()>
                <button
                    type="button"
                    class="mt-2 min-h-11 rounded-full border border-stone-300 px-4 text-sm font-medium hover:bg-white"
                    on:click=apply.clone()
                >
                    "Apply it"
                </button>
            </Show>
            {move || progress.get().map(|p| view! { <p role="status" class="mt-1 text-stone-700">{move || p.get().describe()}</p> })}
        </li>
    }
}

/// The transaction that applies an announced change once it is due.
fn apply_call(change: &AnnouncedChange) -> Vec<u8> {
    match change {
        AnnouncedChange::AdminFee(_) => DataUnion::applyAdminFeeChangeCall {}.abi_encode(),
        AnnouncedChange::Operator(_) => DataUnion::applyOperatorChangeCall {}.abi_encode(),
        AnnouncedChange::ValidatorRemoval(validator) => {
            DataUnion::applyValidatorRemovalCall { validator: *validator }.abi_encode()
        }
    }
}
