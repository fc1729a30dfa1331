//! Shared secrets for the owner: a secret approves a join request at once, so a link that carries one
//! lets people join without waiting. Its value is shown once, when it is created; only its hash is kept.

use alloy_primitives::Address;
use leptos::prelude::*;

use super::format::utc;
use crate::unions::{CreateSecret, JoinSecret, RevokeSecret, join_secrets};

/// The page a secret's link opens: relative, so it works on whatever host serves Coop.
pub fn join_link(union: Address, secret: &str) -> String {
    format!("/join/{}?secret={secret}", union.to_checksum(None))
}

#[component]
pub fn SecretsPanel(union: Address) -> impl IntoView {
    let create = ServerAction::<CreateSecret>::new();
    let revoke = ServerAction::<RevokeSecret>::new();
    let secrets = Resource::new(move || (create.version().get(), revoke.version().get()), move |_| join_secrets(union));
    view! {
        <section class="rounded-2xl border border-stone-200 bg-white p-4 shadow-sm" aria-labelledby="secrets-heading">
            <h2 id="secrets-heading" class="text-lg font-semibold">"Shared secrets"</h2>
            <p class="mt-1 text-sm text-stone-600">"A link with a secret lets people join at once, without your approval. Revoke it to stop that."</p>
            <ActionForm action=create>
                <div class="mt-3 flex flex-wrap items-end gap-2">
                    <input type="hidden" name="union" value=union.to_checksum(None) />
                    <label class="text-sm">
                        <span class="block text-xs text-stone-500">"Name"</span>
                        <input name="name" required maxlength="100" placeholder="Newsletter readers" class="w-56 rounded-lg border border-stone-300 px-3 py-1.5 text-sm" />
                    </label>
                    <button type="submit" class="rounded-full bg-emerald-700 px-4 py-1.5 text-sm font-medium text-white hover:bg-emerald-800">
                        "Create secret"
                    </button>
                </div>
            </ActionForm>
            <CreatedSecret union create />
            <Transition fallback=|| view! { <p class="mt-2 text-stone-500">"Loading secrets…"</p> }>
                {move || Suspend::new(async move {
                    super::or_alert(secrets.await, |list| {
                        if list.is_empty() {
                            view! { <p class="mt-3 text-sm text-stone-500">"No secrets yet."</p> }.into_any()
                        } else {
                            view! { <SecretList union list revoke /> }.into_any()
                        }
                    })
                })}
            </Transition>
        </section>
    }
}

/// The secret just created, with its join link: the only time its value is shown, since only its
/// hash is kept.
#[component]
fn CreatedSecret(union: Address, create: ServerAction<CreateSecret>) -> impl IntoView {
    move || {
        create.value().get().map(|answer| match answer {
            Ok(JoinSecret { name, secret: Some(secret), .. }) => {
                let link = join_link(union, &secret.to_string());
                view! {
                    <div role="status" class="mt-3 rounded-xl border border-amber-300 bg-amber-50 p-3 text-sm">
                        <p class="font-medium">{format!("Secret “{name}” created. Copy it now: it is not shown again.")}</p>
                        <p class="mt-1 break-all font-mono text-xs" data-secret="value">{secret.to_string()}</p>
                        <p class="mt-2">"Join link: " <a class="break-all font-mono text-xs underline" href=link.clone() data-secret="link">{link.clone()}</a></p>
                    </div>
                }
                .into_any()
            }
            failed => super::or_alert(failed, |_| ().into_any()),
        })
    }
}

#[component]
fn SecretList(union: Address, list: Vec<JoinSecret>, revoke: ServerAction<RevokeSecret>) -> impl IntoView {
    let rows = list
        .into_iter()
        .map(|secret| {
            view! {
                <li class="flex items-center justify-between gap-2 py-2">
                    <div>
                        <p class="text-sm font-medium">{secret.name.clone()}</p>
                        <p class="text-xs text-stone-500">{format!("created {}", utc(secret.created_at.max(0) as u64))}</p>
                    </div>
                    <ActionForm action=revoke>
                        <input type="hidden" name="union" value=union.to_checksum(None) />
                        <input type="hidden" name="id" value=secret.id.clone() />
                        <button type="submit" class="rounded-full border border-red-300 px-3 py-1 text-xs text-red-700 hover:bg-red-50" aria-label=format!("Revoke {}", secret.name)>
                            "Revoke"
                        </button>
                    </ActionForm>
                </li>
            }
        })
        .collect_view();
    view! { <ul class="mt-3 divide-y divide-stone-100">{rows}</ul> }
}
