//! A member's earnings (`/earnings`): every Data Union the address belongs to or once did, with its
//! earnings now, committed, withdrawable, frozen (and when it unfreezes) and withdrawn, and a
//! withdrawal through the wallet with the proof the API gives, to itself or to another address.
//!
//! Whose earnings: `?address=` when given, else the connected wallet, else the signed-in address.

use alloy_primitives::{Address, U256};
use alloy_sol_types::SolCall;
use coop::contracts::DataUnion;
use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::error_notice::ErrorNotice;
use crate::pages::app_keys::AppKeys;
use crate::pages::relayed::RelayedWithdraw;
use crate::pages::union::format::{data_exact, utc, wait};
use crate::pages::union::or_alert;
use crate::pages::usd::UsdEarnings;
use crate::pages::{use_address_query_problem, use_viewed_address};
use crate::unions::{MemberFigures, live, memberships, use_chain_block};
use crate::wallet::{TxProgress, UnsignedTx, use_wallet};

#[component]
pub fn EarningsPage() -> impl IntoView {
    let member = use_viewed_address();
    let problem = use_address_query_problem();
    let list = Resource::new(
        move || member.get(),
        |member| async move {
            match member {
                Some(member) => memberships(member).await.map(Some),
                None => Ok(None),
            }
        },
    );
    view! {
        <Title text="Your earnings · Coop" />
        <div class="mx-auto flex max-w-5xl flex-col gap-6 px-4 py-8">
            <header>
                <h1 class="text-3xl font-bold tracking-tight">"Your earnings"</h1>
                <p class="mt-2 text-stone-600">
                    "What you earn in each Data Union you belong to, or once belonged to. Purchases are split at once; "
                    "the operator commits the books on chain, and after the freeze period you can withdraw with a proof."
                </p>
                {move || member.get().map(|member| view! {
                    <p class="mt-1 break-all font-mono text-xs text-stone-500">{member.to_checksum(None)}</p>
                })}
            </header>
            <Transition fallback=|| view! { <p class="text-stone-500">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    or_alert(list.await, |initial| match initial {
                        Some(initial) => {
                            let member = member.get_untracked().unwrap_or_default();
                            view! { <Memberships member initial /> }.into_any()
                        }
                        None => match problem.get_untracked() {
                            Some(problem) => view! { <ErrorNotice message=problem testid="address-problem" /> }.into_any(),
                            None => view! {
                                <p class="rounded-2xl border border-dashed border-stone-300 p-6 text-stone-600">
                                    "Connect your wallet to see your earnings."
                                </p>
                            }
                            .into_any(),
                        },
                    })
                })}
            </Transition>
        </div>
    }
}

#[component]
fn Memberships(member: Address, initial: Vec<MemberFigures>) -> impl IntoView {
    let block = use_chain_block();
    let all = live(initial, block, move || async move { memberships(member).await.ok() });
    let unions = move || all.with(|all| all.iter().map(|f| f.union).collect::<Vec<_>>());
    view! {
        <Show
            when=move || !unions().is_empty()
            fallback=|| view! {
                <p class="rounded-2xl border border-dashed border-stone-300 p-6 text-stone-600">
                    "This address has not joined any Data Union yet. A union's owner can send you a join link."
                </p>
            }
        >
            <For each=unions key=|union| *union let:union>
                <UnionEarnings figures=Signal::derive(move || {
                    all.with(|all| all.iter().find(|f| f.union == union).cloned())
                }) />
            </For>
        </Show>
    }
}

#[component]
fn Figure(label: &'static str, value: Signal<String>, #[prop(optional)] note: Option<Signal<String>>) -> impl IntoView {
    view! {
        <div class="rounded-xl bg-stone-50 p-3">
            <dt class="text-xs uppercase tracking-wide text-stone-500">{label}</dt>
            <dd class="mt-1 break-all text-sm font-semibold tabular-nums" data-figure=label>{value}</dd>
            {note.map(|note| view! { <dd class="mt-1 text-xs text-stone-500">{note}</dd> })}
        </div>
    }
}

#[component]
fn UnionEarnings(figures: Signal<Option<MemberFigures>>) -> impl IntoView {
    let amount = move |pick: fn(&MemberFigures) -> U256| {
        Signal::derive(move || figures.with(|f| f.as_ref().map(|f| data_exact(pick(f))).unwrap_or_default()))
    };
    let frozen_note = Signal::derive(move || {
        figures.with(|f| match f.as_ref().and_then(|f| Some((f.unfreezes_at?, f.chain_time))) {
            Some((at, now)) => format!("unfreezes {} ({})", wait(at.saturating_sub(now)), utc(at)),
            None => "nothing frozen".to_owned(),
        })
    });
    let amounts = Memo::new(move |_| figures.with(|f| f.as_ref().map(|f| (f.earnings, f.withdrawable))));
    let Some(first) = figures.get_untracked() else { return ().into_any() };
    let union = first.union;
    let name = first.product_name.clone().unwrap_or_else(|| "Data Union".to_owned());
    view! {
        <article class="rounded-2xl border border-stone-200 bg-white p-5 shadow-sm" data-union=union.to_checksum(None)>
            <div class="flex flex-wrap items-baseline justify-between gap-2">
                <h2 class="text-xl font-semibold">
                    <a class="hover:underline" href=format!("/unions/{}", union.to_checksum(None))>{name}</a>
                </h2>
                {move || figures.with(|f| f.as_ref().map(|f| if f.active {
                    view! { <span class="rounded-full bg-emerald-100 px-2 py-0.5 text-xs text-emerald-800">"member"</span> }
                } else {
                    view! { <span class="rounded-full bg-stone-200 px-2 py-0.5 text-xs text-stone-700">"parted: you keep what you earned"</span> }
                }))}
            </div>
            <p class="mt-1 break-all font-mono text-xs text-stone-500">{union.to_checksum(None)}</p>
            <dl class="mt-4 grid grid-cols-2 gap-3 md:grid-cols-3 lg:grid-cols-5">
                <Figure label="Earnings now" value=amount(|f| f.earnings) />
                <Figure label="Committed" value=amount(|f| f.committed) />
                <Figure label="Withdrawable" value=amount(|f| f.withdrawable) />
                <Figure label="Frozen" value=amount(|f| f.frozen) note=frozen_note />
                <Figure label="Withdrawn" value=amount(|f| f.withdrawn) />
            </dl>
            <UsdEarnings amounts />
            <p class="mt-2 text-xs text-stone-500">
                {move || figures.with(|f| f.as_ref().map(|f| format!("As of {} (block {})", utc(f.chain_time), f.as_of_block)))}
            </p>
            <OperatorWarning figures />
            <Withdraw figures />
            <RelayedWithdraw figures />
            <AppKeys union member=first.member />
        </article>
    }
    .into_any()
}

/// An announced operator change: what the member can do before the new operator takes over.
#[component]
fn OperatorWarning(figures: Signal<Option<MemberFigures>>) -> impl IntoView {
    let warning = move || {
        figures.with(|f| {
            let f = f.as_ref()?;
            let (operator, at) = f.announced_operator?;
            let holding = !(f.withdrawable.is_zero() && f.frozen.is_zero());
            holding.then(|| {
                format!(
                    "The owner announced a new operator, {}, who may take over {} ({}). Withdraw what you can \
                     before then: what you withdraw (or prove) is out of any operator's reach.",
                    operator.to_checksum(None),
                    wait(at.saturating_sub(f.chain_time)),
                    utc(at)
                )
            })
        })
    };
    view! {
        {move || warning().map(|text| view! {
            <p role="alert" class="mt-4 rounded-lg border border-amber-300 bg-amber-50 p-3 text-sm text-amber-900" data-operator-warning>
                {text}
            </p>
        })}
    }
}

/// The call that pays out everything the proof allows: to the member, or to `recipient`.
fn withdraw_call(figures: &MemberFigures, recipient: Option<Address>) -> Option<UnsignedTx> {
    let proof = figures.proof.as_ref()?;
    let (block, earnings) = (U256::from(proof.block), proof.earnings);
    let data = match recipient {
        None => DataUnion::withdrawAllCall { blockNumber: block, totalEarnings: earnings, proof: proof.proof.clone() }
            .abi_encode(),
        Some(recipient) => DataUnion::withdrawAllToCall {
            recipient,
            blockNumber: block,
            totalEarnings: earnings,
            proof: proof.proof.clone(),
        }
        .abi_encode(),
    };
    Some(UnsignedTx { to: figures.union, data: data.into(), value: U256::ZERO })
}

#[component]
fn Withdraw(figures: Signal<Option<MemberFigures>>) -> impl IntoView {
    let wallet = use_wallet();
    let to_other = RwSignal::new(false);
    let recipient = RwSignal::new(String::new());
    let problem = RwSignal::new(None::<String>);
    let progress = RwSignal::new(None::<ReadSignal<TxProgress>>);
    let withdrawable = move || figures.with(|f| f.as_ref().map(|f| f.withdrawable).unwrap_or_default());
    let own = move || figures.with(|f| f.as_ref().map(|f| f.member)) == wallet.address.get();
    let busy = move || progress.get().is_some_and(|p| p.get().is_busy());
    let submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let target = if to_other.get_untracked() {
            match coop::text::parse_address(recipient.get_untracked().trim()) {
                Ok(address) => Some(address),
                Err(error) => {
                    problem.set(Some(format!("recipient: {error}")));
                    return;
                }
            }
        } else {
            None
        };
        problem.set(None);
        match figures.get_untracked().as_ref().and_then(|f| withdraw_call(f, target)) {
            Some(tx) => progress.set(Some(wallet.send_transaction(tx))),
            None => problem.set(Some("nothing can be withdrawn yet: no commit is past its freeze".to_owned())),
        }
    };
    view! {
        <form class="mt-4 flex flex-col gap-3 border-t border-stone-100 pt-4" on:submit=submit>
            <RecipientChoice to_other recipient />
            <div class="flex flex-wrap items-center gap-3">
                <button
                    type="submit"
                    class="rounded-full bg-emerald-700 px-5 py-2 text-sm font-medium text-white hover:bg-emerald-800 disabled:cursor-not-allowed disabled:opacity-60"
                    disabled=move || busy() || withdrawable().is_zero() || !own()
                >
                    {move || format!("Withdraw {}", data_exact(withdrawable()))}
                </button>
                <Show when=move || !own()>
                    <span class="text-xs text-stone-500">"Connect this address's wallet to withdraw."</span>
                </Show>
            </div>
            {move || problem.get().map(|error| view! { <ErrorNotice message=error /> })}
            {move || progress.get().map(|p| view! { <p role="status" class="text-sm text-stone-700">{move || p.get().describe()}</p> })}
        </form>
    }
}

/// To the member's own wallet, or to an address typed in (checked when the form is sent).
#[component]
fn RecipientChoice(to_other: RwSignal<bool>, recipient: RwSignal<String>) -> impl IntoView {
    view! {
        <fieldset class="flex flex-wrap gap-4 text-sm">
            <legend class="sr-only">"Where to send it"</legend>
            <label class="flex items-center gap-2">
                <input type="radio" name="to" checked=move || !to_other.get() on:change=move |_| to_other.set(false) />
                "To my wallet"
            </label>
            <label class="flex items-center gap-2">
                <input type="radio" name="to" checked=move || to_other.get() on:change=move |_| to_other.set(true) />
                "To another address"
            </label>
        </fieldset>
        <Show when=move || to_other.get()>
            <label class="text-sm">
                <span class="block text-xs text-stone-500">"Recipient address"</span>
                <input
                    class="w-full max-w-md rounded-lg border border-stone-300 px-3 py-1.5 font-mono text-sm"
                    placeholder="0x…"
                    prop:value=move || recipient.get()
                    on:input=move |event| recipient.set(event_target_value(&event))
                />
            </label>
        </Show>
    }
}
