//! Changing the admin fee: `setAdminFee` sent from the owner's wallet, with its progress. A lower fee
//! applies at once to revenue received after it; a higher one is announced and waits a freeze period.

use alloy_primitives::{Address, U256};
use alloy_sol_types::SolCall;
use coop::contracts::DataUnion;
use leptos::prelude::*;

use crate::components::error_notice::ErrorNotice;
use crate::products::admin_fee_wei;
use crate::wallet::{TxProgress, UnsignedTx, use_wallet};

#[component]
pub fn AdminFeeForm(union: Address, current: Signal<String>) -> impl IntoView {
    let wallet = use_wallet();
    let text = RwSignal::new(String::new());
    let problem = RwSignal::new(None::<String>);
    let progress = RwSignal::new(None::<ReadSignal<TxProgress>>);
    let busy = move || progress.get().is_some_and(|p| p.get().is_busy());
    let submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        match admin_fee_wei(&text.get_untracked()) {
            Err(error) => problem.set(Some(error)),
            Ok(fee) => {
                problem.set(None);
                let data = DataUnion::setAdminFeeCall { newAdminFee: fee }.abi_encode().into();
                progress.set(Some(wallet.send_transaction(UnsignedTx { to: union, data, value: U256::ZERO })));
            }
        }
    };
    view! {
        <section class="rounded-2xl border border-stone-200 bg-white p-4 shadow-sm" aria-labelledby="fee-heading">
            <h2 id="fee-heading" class="text-lg font-semibold">"Admin fee"</h2>
            <p class="mt-1 text-sm text-stone-600">
                "Now " <strong>{move || format!("{} %", current.get())}</strong>
                ". The owner's share of each purchase; earlier revenue keeps its split. A lower fee applies at                  once; a higher one is announced to the members and applies after the freeze period."
            </p>
            <form class="mt-3 flex flex-wrap items-end gap-2" on:submit=submit>
                <label class="text-sm">
                    <span class="block text-xs text-stone-500">"New admin fee (%)"</span>
                    <input
                        name="fee"
                        inputmode="decimal"
                        class="w-28 rounded-lg border border-stone-300 px-3 py-1.5 text-sm"
                        prop:value=move || text.get()
                        on:input=move |event| text.set(event_target_value(&event))
                    />
                </label>
                <button
                    type="submit"
                    class="rounded-full bg-emerald-700 px-4 py-1.5 text-sm font-medium text-white hover:bg-emerald-800 disabled:opacity-60"
                    disabled=move || busy() || !wallet.is_connected()
                >
                    "Change admin fee"
                </button>
            </form>
            <Show when=move || !wallet.is_connected()>
                <p class="mt-2 text-xs text-stone-500">"Connect the owner's wallet to send the change."</p>
            </Show>
            {move || problem.get().map(|error| view! { <ErrorNotice message=error class="mt-2" /> })}
            {move || progress.get().map(|p| view! { <p role="status" class="mt-2 text-sm text-stone-700">{move || p.get().describe()}</p> })}
        </section>
    }
}
