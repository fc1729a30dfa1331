//! A Data Union product's own steps: deploy the union through the factory (owned by the seller, run
//! by this server's operator and join-part agent), set its admin fee, and manage the shared secrets
//! that let members join at once (a created secret is shown once; the list shows names only).

use alloy_primitives::{Address, U256};
use leptos::prelude::*;
use serde::Deserialize;

use super::chain;
use super::fetch;
use super::form::{FieldMessage, INPUT, TextField};
use super::progress::{Step, StepStatus};
use super::publish::wallet_blocker;
use super::state::EditorState;
use crate::components::error_notice::ErrorNotice;
use crate::products::{Draft, DraftField, FieldError, admin_fee_wei, freeze_period_seconds};
use crate::wallet::{Wallet, use_wallet};

const BUTTON: &str = "rounded-lg bg-stone-900 px-4 py-2 text-sm font-medium text-white hover:bg-stone-700 disabled:cursor-not-allowed disabled:opacity-50";

/// What `GET /api/v1/unions?owner=` lists of a union.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct UnionSummary {
    address: Address,
    admin_fee_percent: String,
    created_block: u64,
}

#[derive(Deserialize)]
struct UnionList {
    unions: Vec<UnionSummary>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Secret {
    id: String,
    name: String,
    #[serde(default)]
    secret: Option<String>,
}

#[derive(Deserialize)]
struct SecretList {
    secrets: Vec<Secret>,
}

fn union_address(state: EditorState) -> Option<Address> {
    state.draft.with(|draft| draft.union_address.parse().ok())
}

/// The union as the server has indexed it, waiting up to `tries` seconds for it to appear.
async fn find_union(owner: Address, wanted: impl Fn(&UnionSummary) -> bool, tries: u32) -> Option<UnionSummary> {
    for _ in 0..tries.max(1) {
        let path = format!("/api/v1/unions?owner={owner}&limit=1000");
        if let Ok(list) = fetch::get_json::<UnionList>(&path).await
            && let Some(found) = list.unions.into_iter().find(|union| wanted(union))
        {
            return Some(found);
        }
        sleep_a_second().await;
    }
    None
}

async fn sleep_a_second() {
    #[cfg(feature = "hydrate")]
    {
        let promise = js_sys::Promise::new(&mut |resolve, _| {
            let _ = leptos::prelude::window().set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 1_000);
        });
        let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
    }
}

#[component]
pub fn UnionPanel(state: EditorState) -> impl IntoView {
    let wallet = use_wallet();
    let step = Step::new();
    let problem = RwSignal::new(None::<String>);
    // The admin fee the chain holds, once the server has indexed the union.
    let chain_fee = RwSignal::new(None::<String>);
    let deployed = Signal::derive(move || union_address(state).is_some());
    let blocked = Signal::derive(move || wallet_blocker(wallet).is_some() || step.is_busy());

    let deploy = move |_| leptos::task::spawn_local(deploy(wallet, state, step, problem, chain_fee));
    let set_fee = move |_| leptos::task::spawn_local(set_fee(wallet, state, step, problem, chain_fee));
    view! {
        <section class="grid gap-4 rounded-2xl border border-emerald-200 bg-emerald-50/60 p-5" aria-labelledby="union-heading">
            <div>
                <h2 id="union-heading" class="text-lg font-semibold">"Data Union"</h2>
                <p class="text-sm text-stone-600">
                    "Its contract receives the payments and shares them among the members; this server commits "
                    "the members' earnings and adds the members who join."
                </p>
            </div>
            <TextField state field=DraftField::AdminFee label="Admin fee in %" hint="your share of each sale before the members', 0 to 100"
                get=|draft| draft.admin_fee.clone() set=|draft, value| draft.admin_fee = value />
            <TextField state field=DraftField::FreezeDays label="Freeze period in days"
                hint="how long each commit of the members' earnings waits before they can withdraw it; fixed at deployment"
                get=|draft| draft.freeze_days.clone() set=|draft, value| draft.freeze_days = value disabled=deployed />
            {move || match union_address(state) {
                None => view! {
                    <div>
                        <button type="button" class=BUTTON on:click=deploy disabled=move || blocked.get()>"Deploy the Data Union"</button>
                        <FieldMessage state field=DraftField::Union hint="one transaction; you become the union's owner" />
                    </div>
                }.into_any(),
                Some(address) => view! {
                    <div class="grid gap-2 text-sm">
                        <p>"Deployed at " <span class="break-all font-mono" data-testid="union-address">{address.to_checksum(None)}</span></p>
                        <p data-testid="chain-fee">{move || chain_fee.get().map(|fee| format!("Admin fee on chain: {fee} %"))}</p>
                        <div><button type="button" class=BUTTON on:click=set_fee disabled=move || blocked.get()>"Set admin fee"</button></div>
                    </div>
                }.into_any(),
            }}
            {move || problem.get().map(|text| view! { <ErrorNotice message=text /> })}
            <StepStatus step />
            <Show when=move || deployed.get()>
                <Secrets state />
            </Show>
        </section>
    }
    .into_any()
}

/// A field as typed, parsed; its message is shown under it when it is wrong.
fn checked<T>(
    state: EditorState,
    field: DraftField,
    text: fn(&Draft) -> String,
    parse: fn(&str) -> Result<T, String>,
) -> Option<T> {
    let parsed = parse(&state.draft.with_untracked(text));
    state.errors.update(|errors| {
        errors.retain(|e| e.field != field);
        if let Err(message) = &parsed {
            errors.push(FieldError { field, message: message.clone() });
        }
    });
    parsed.ok()
}

fn checked_fee(state: EditorState) -> Option<U256> {
    checked(state, DraftField::AdminFee, |draft| draft.admin_fee.clone(), admin_fee_wei)
}

async fn deploy(
    wallet: Wallet,
    state: EditorState,
    step: Step,
    problem: RwSignal<Option<String>>,
    chain_fee: RwSignal<Option<String>>,
) {
    problem.set(None);
    let freeze = checked(state, DraftField::FreezeDays, |draft| draft.freeze_days.clone(), freeze_period_seconds);
    let (Some(fee), Some(freeze)) = (checked_fee(state), freeze) else { return };
    if let Some(reason) = untrack(|| wallet_blocker(wallet)) {
        return problem.set(Some(reason));
    }
    let chain = wallet.chain.get_untracked();
    let factory = chain.as_ref().and_then(|chain| chain.contracts.get("data_union_factory").copied());
    let roles = chain.as_ref().and_then(|chain| chain.operator.zip(chain.join_agent));
    let (Some(factory), Some((operator, agent)), Some(owner)) = (factory, roles, wallet.address.get_untracked()) else {
        return problem.set(Some(
            "This server runs no Data Union operator or join-part agent, so it cannot serve a new Data Union."
                .to_owned(),
        ));
    };
    let Some(block) = step
        .send(wallet, "Deploying the Data Union", {
            let validators = chain.as_ref().and_then(|chain| chain.validator).into_iter().collect();
            chain::create_data_union(factory, operator, agent, validators, fee, freeze)
        })
        .await
    else {
        return;
    };
    let Some(union) = find_union(owner, |union| union.created_block == block, 60).await else {
        return problem.set(Some(
            "The Data Union is deployed, but this server has not seen it yet. Reload the page in a minute.".to_owned(),
        ));
    };
    chain_fee.set(Some(union.admin_fee_percent.clone()));
    state.update(|draft| draft.union_address = union.address.to_checksum(None));
    let _ = state.save().await;
}

async fn set_fee(
    wallet: Wallet,
    state: EditorState,
    step: Step,
    problem: RwSignal<Option<String>>,
    chain_fee: RwSignal<Option<String>>,
) {
    problem.set(None);
    let (Some(fee), Some(union), Some(owner)) =
        (checked_fee(state), untrack(|| union_address(state)), wallet.address.get_untracked())
    else {
        return;
    };
    if step.send(wallet, "Setting the admin fee", chain::set_admin_fee(union, fee)).await.is_none() {
        return;
    }
    let on_chain = |u: &UnionSummary| u.address == union && admin_fee_wei(&u.admin_fee_percent) == Ok(fee);
    if let Some(found) = find_union(owner, on_chain, 30).await {
        chain_fee.set(Some(found.admin_fee_percent));
    }
    let _ = state.save().await;
}

#[component]
fn Secrets(state: EditorState) -> impl IntoView {
    let secrets = RwSignal::new(Vec::<Secret>::new());
    let created = RwSignal::new(None::<Secret>);
    let name = RwSignal::new(String::new());
    let problem = RwSignal::new(None::<String>);
    let path = move || union_address(state).map(|union| format!("/api/v1/unions/{union}/secrets"));
    let reload = move || {
        leptos::task::spawn_local(async move {
            let Some(path) = untrack(path) else { return };
            match fetch::get_json::<SecretList>(&path).await {
                Ok(list) => secrets.set(list.secrets),
                Err(message) => problem.set(Some(message)),
            }
        })
    };
    Effect::new(move |_| reload());
    let create = move |_| {
        leptos::task::spawn_local(async move {
            problem.set(None);
            let Some(path) = untrack(path) else { return };
            let body = serde_json::json!({ "name": name.get_untracked().trim() });
            match fetch::post_json::<Secret>(&path, &body).await {
                Ok(secret) => {
                    name.set(String::new());
                    created.set(Some(secret));
                    reload();
                }
                Err(message) => problem.set(Some(message)),
            }
        })
    };
    let revoke = move |id: String| {
        leptos::task::spawn_local(async move {
            let Some(path) = untrack(path) else { return };
            match fetch::delete(&format!("{path}/{id}")).await {
                Ok(()) => reload(),
                Err(message) => problem.set(Some(message)),
            }
        })
    };
    view! {
        <div class="grid gap-3 border-t border-emerald-200 pt-4">
            <h3 class="font-medium">"Join secrets"</h3>
            <p class="text-sm text-stone-600">"Anyone with a secret joins at once, without waiting for you to approve them. Share it with the members you invite."</p>
            <div class="flex gap-2">
                <label for="secret-name" class="sr-only">"Secret name"</label>
                <input id="secret-name" class=INPUT placeholder="Name, e.g. Newsletter invite" prop:value=move || name.get()
                    on:input=move |event| name.set(event_target_value(&event)) />
                <button type="button" class=BUTTON on:click=create>"Create secret"</button>
            </div>
            {move || problem.get().map(|text| view! { <ErrorNotice message=text /> })}
            <NewSecret created />
            <SecretNames secrets revoke />
        </div>
    }
    .into_any()
}

/// A secret just created: its value shows this once, since the server keeps only its hash.
#[component]
fn NewSecret(created: RwSignal<Option<Secret>>) -> impl IntoView {
    move || {
        created.get().and_then(|secret| {
            secret.secret.clone().map(|value| {
                view! {
                    <div class="rounded-lg border border-amber-300 bg-amber-50 p-3 text-sm" data-testid="new-secret">
                        <p class="font-medium">{format!("Secret \u{201c}{}\u{201d} created. Copy it now: it is not shown again.", secret.name)}</p>
                        <p class="mt-1 break-all font-mono" data-testid="secret-value">{value}</p>
                    </div>
                }
            })
        })
    }
}

/// The union's secrets by name, each with a way to revoke it.
#[component]
fn SecretNames(
    secrets: RwSignal<Vec<Secret>>,
    revoke: impl Fn(String) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    view! {
        <ul class="divide-y divide-emerald-100 text-sm" aria-label="Join secrets">
            {move || secrets.get().into_iter().map(|secret| {
                let id = secret.id.clone();
                view! {
                    <li class="flex items-center justify-between py-2">
                        <span>{secret.name.clone()}</span>
                        <button type="button" class="text-red-700 underline" on:click=move |_| revoke(id.clone())
                            aria-label=format!("Revoke {}", secret.name)>"Revoke"</button>
                    </li>
                }
            }).collect_view()}
        </ul>
    }
}
