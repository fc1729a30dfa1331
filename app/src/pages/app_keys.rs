//! A member's app keys for one Data Union, on the earnings page: the apps (a browser extension, a
//! phone app) the member lets publish data in its name, each until a time; granted by signing one
//! message in the wallet (no transaction, no fee), revoked at once.

use alloy_primitives::Address;
use coop::stream::AppKey;
use leptos::prelude::*;

use crate::components::error_notice::ErrorNotice;
use crate::pages::union::format::utc;
use crate::streams::{app_keys, grant_app_key, prepare_app_key, revoke_app_key};
use crate::wallet::use_wallet;

/// The choices of how long a grant lasts, in days.
const VALIDITY: [u32; 4] = [7, 30, 90, 365];

#[component]
pub fn AppKeys(union: Address, member: Address) -> impl IntoView {
    let wallet = use_wallet();
    let changed = RwSignal::new(0u32);
    let keys = Resource::new(move || (member, changed.get()), |(member, _)| app_keys(member));
    let own = move || wallet.address.get() == Some(member);
    view! {
        <section class="mt-4 border-t border-stone-100 pt-4" aria-label="App keys">
            <h3 class="font-semibold">"App keys"</h3>
            <p class="mt-1 text-sm text-stone-600">
                "Apps that publish your data to this union's streams sign with a key of their own; you authorise "
                "it here once, until a time, and can revoke it at any moment."
            </p>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    match keys.await {
                        Ok(keys) => {
                            let keys: Vec<AppKey> = keys.into_iter().filter(|key| key.grant.union == union).collect();
                            view! { <KeyList keys changed /> }.into_any()
                        }
                        Err(error) => view! { <ErrorNotice message=error.to_string() class="mt-2" /> }.into_any(),
                    }
                })}
            </Transition>
            <Show when=own>
                <GrantForm union member changed />
            </Show>
        </section>
    }
}

#[component]
fn KeyList(keys: Vec<AppKey>, changed: RwSignal<u32>) -> impl IntoView {
    if keys.is_empty() {
        return view! { <p class="mt-2 text-sm text-stone-500">"No app key yet."</p> }.into_any();
    }
    let problem = RwSignal::new(None::<String>);
    let rows = keys
        .into_iter()
        .map(|key| {
            let address = key.grant.key;
            let state = match key.revoked_at {
                Some(at) => format!("revoked {}", utc(at)),
                None => format!("until {}", utc(key.grant.expires)),
            };
            let standing = key.revoked_at.is_none();
            let revoke = move |_| {
                leptos::task::spawn_local(async move {
                    match revoke_app_key(address).await {
                        Ok(()) => changed.update(|n| *n += 1),
                        Err(error) => problem.set(Some(error.to_string())),
                    }
                });
            };
            view! {
                <li class="flex flex-wrap items-center justify-between gap-2 py-1" data-app-key=address.to_checksum(None)>
                    <span class="break-all font-mono text-xs">{address.to_checksum(None)}</span>
                    <span class="text-xs text-stone-600">{state}</span>
                    {standing.then(|| view! {
                        <button type="button" class="rounded-full border border-stone-300 px-3 py-1 text-xs hover:bg-stone-50" on:click=revoke>
                            "Revoke"
                        </button>
                    })}
                </li>
            }
        })
        .collect_view();
    view! {
        <ul class="mt-2 divide-y divide-stone-100">{rows}</ul>
        {move || problem.get().map(|error| view! { <ErrorNotice message=error class="mt-2" /> })}
    }
    .into_any()
}

#[component]
fn GrantForm(union: Address, member: Address, changed: RwSignal<u32>) -> impl IntoView {
    let wallet = use_wallet();
    let key_text = RwSignal::new(String::new());
    let days = RwSignal::new(30u32);
    let problem = RwSignal::new(None::<String>);
    let signing = RwSignal::new(false);
    let submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let key = match coop::text::parse_address(key_text.get_untracked().trim()) {
            Ok(key) => key,
            Err(error) => {
                problem.set(Some(format!("app key: {error}")));
                return;
            }
        };
        problem.set(None);
        signing.set(true);
        let days = days.get_untracked();
        leptos::task::spawn_local(async move {
            let granted = async {
                let grant = prepare_app_key(union, member, key, days).await.map_err(|error| error.to_string())?;
                let signature = wallet.sign_message(grant.text()).await.map_err(|error| error.to_string())?;
                grant_app_key(grant, signature).await.map_err(|error| error.to_string())
            };
            match granted.await {
                Ok(_) => {
                    key_text.set(String::new());
                    changed.update(|n| *n += 1);
                }
                Err(error) => problem.set(Some(error)),
            }
            signing.set(false);
        });
    };
    let options = VALIDITY
        .iter()
        .map(|&n| view! { <option value=n.to_string() selected=n == 30>{format!("{n} days")}</option> })
        .collect_view();
    view! {
        <form class="mt-3 flex flex-wrap items-end gap-2" on:submit=submit>
            <label class="w-full text-sm sm:w-auto">
                <span class="block text-xs text-stone-500">"The app's key (its address)"</span>
                <input
                    class="w-full rounded-lg border sm:w-96 border-stone-300 px-3 py-1.5 font-mono text-sm"
                    placeholder="0x…"
                    prop:value=move || key_text.get()
                    on:input=move |event| key_text.set(event_target_value(&event))
                />
            </label>
            <label class="text-sm">
                <span class="block text-xs text-stone-500">"For"</span>
                <select
                    class="rounded-lg border border-stone-300 px-2 py-1.5 text-sm"
                    on:change=move |event| days.set(event_target_value(&event).parse().unwrap_or(30))
                >
                    {options}
                </select>
            </label>
            <button
                type="submit"
                class="rounded-full bg-stone-800 px-4 py-1.5 text-sm font-medium text-white hover:bg-stone-900 disabled:opacity-60"
                disabled=move || signing.get()
            >
                {move || if signing.get() { "Check your wallet…" } else { "Authorise this app key" }}
            </button>
        </form>
        <p class="mt-1 text-xs text-stone-500">"You sign a message in your wallet: no transaction, no fee."</p>
        {move || problem.get().map(|error| view! { <ErrorNotice message=error class="mt-2" /> })}
    }
}
