//! A product owner grants an address access for a number of days without payment (a trial, a
//! partner, open data): `grantSubscription` from the owner's wallet. The grant is recorded on chain
//! like a purchase's subscription, so reading the product's streams works the same way.

use alloy_primitives::{Address, B256, U256};
use alloy_sol_types::SolCall;
use coop::contracts::Marketplace;
use leptos::prelude::*;

use crate::components::days::{DaysField, SubmitButton};
use crate::components::error_notice::ErrorNotice;
use crate::wallet::{TxProgress, UnsignedTx, use_wallet};

/// The longest grant the page offers, in days: ten years.
const MAX_GRANT_DAYS: u64 = 3650;

const FIELD: &str = "min-h-11 rounded-lg border border-stone-300 px-3 py-1.5 text-sm";

/// What the owner typed, checked: the address that gets access and for how many seconds.
pub fn check_grant(address: &str, days: &str) -> Result<(Address, U256), String> {
    let subscriber = coop::text::parse_address(address.trim()).map_err(|error| format!("Address: {error}"))?;
    if subscriber == Address::ZERO {
        return Err("Address: access cannot be granted to the zero address".to_owned());
    }
    match days.trim().parse::<u64>() {
        Ok(days) if (1..=MAX_GRANT_DAYS).contains(&days) => Ok((subscriber, U256::from(days * 86_400))),
        _ => Err(format!("Days: enter a whole number of days from 1 to {MAX_GRANT_DAYS}")),
    }
}

/// The owner's form on a product's page; shown to the product's owner only.
#[component]
pub fn GrantAccess(product: B256, owner: Address) -> impl IntoView {
    let wallet = use_wallet();
    let is_owner =
        move || wallet.address.get() == Some(owner) || wallet.signed_in().is_some_and(|who| who.address == owner);
    view! { <Show when=is_owner>{move || view! { <GrantForm product owner /> }}</Show> }
}

#[component]
fn GrantForm(product: B256, owner: Address) -> impl IntoView {
    let wallet = use_wallet();
    let address = RwSignal::new(String::new());
    let days = RwSignal::new("30".to_owned());
    let problem = RwSignal::new(None::<String>);
    let progress = RwSignal::new(None::<ReadSignal<TxProgress>>);
    let busy = move || progress.get().is_some_and(|p| p.get().is_busy());
    let can_send = move || wallet.address.get() == Some(owner) && wallet.is_right_chain();
    let submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let marketplace = wallet.chain.get_untracked().and_then(|chain| chain.contracts.get("marketplace").copied());
        let Some(marketplace) = marketplace else {
            problem.set(Some("this server names no Marketplace contract".to_owned()));
            return;
        };
        match check_grant(&address.get_untracked(), &days.get_untracked()) {
            Err(error) => problem.set(Some(error)),
            Ok((subscriber, seconds)) => {
                problem.set(None);
                let call = Marketplace::grantSubscriptionCall { productId: product, addSeconds: seconds, subscriber };
                let tx = UnsignedTx { to: marketplace, data: call.abi_encode().into(), value: U256::ZERO };
                progress.set(Some(wallet.send_transaction(tx)));
            }
        }
    };
    view! {
        <section class="mt-6 rounded-2xl border border-stone-200 bg-white p-5 shadow-sm" aria-labelledby="grant-heading">
            <h2 id="grant-heading" class="text-lg font-semibold">"Grant access"</h2>
            <p class="mt-1 text-sm text-stone-600">
                "Give an address access without payment, for a trial or a partner. It adds to any running subscription."
            </p>
            <form class="mt-3 flex flex-wrap items-end gap-2" on:submit=submit>
                <label class="w-full text-sm sm:w-auto">
                    <span class="block text-xs text-stone-500">"Address"</span>
                    <input
                        name="subscriber"
                        class=format!("{FIELD} w-full font-mono sm:w-96")
                        autocomplete="off"
                        prop:value=move || address.get()
                        on:input=move |event| address.set(event_target_value(&event))
                    />
                </label>
                <DaysField days />
                <SubmitButton label=Signal::stored("Grant access") disabled=Signal::derive(move || busy() || !can_send()) />
            </form>
            <Show when=move || !can_send()>
                <p class="mt-2 text-xs text-stone-500">"Connect the owner's wallet, on Coop's network, to send the grant."</p>
            </Show>
            {move || problem.get().map(|error| view! { <ErrorNotice message=error class="mt-2" testid="grant-problem" /> })}
            {move || progress.get().map(|p| view! {
                <p role="status" class="mt-2 text-sm text-stone-700" data-testid="grant-progress">{move || p.get().describe()}</p>
            })}
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_grant_names_a_real_address_and_whole_days() {
        let address = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
        assert_eq!(check_grant(address, " 3 "), Ok((address.parse().unwrap(), U256::from(3 * 86_400))));
        assert!(check_grant(address, "0").unwrap_err().starts_with("Days:"));
        assert!(check_grant(address, "1.5").unwrap_err().starts_with("Days:"));
        assert!(check_grant(address, "3651").unwrap_err().starts_with("Days:"));
        assert!(check_grant("0x1234", "3").unwrap_err().starts_with("Address:"));
        let zero = "0x0000000000000000000000000000000000000000";
        assert!(check_grant(zero, "3").unwrap_err().contains("zero address"));
    }
}
