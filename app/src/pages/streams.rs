//! A product's data on its page: each stream the seller attached, and its newest messages, all of
//! them for the owner and subscribers, the seller's public preview for anyone else. Each message
//! shows whether its signature is its signer's, checked here with the core's code, in the browser
//! as on the server.

use alloy_primitives::{Address, B256};
use coop::stream::StreamDefinition;
use leptos::prelude::*;

use crate::components::error_notice::ErrorNotice;
use crate::error::{Service, answer_or};
use crate::market::{counted, short_address};
use crate::streams::{
    Access, BYTES_PER_MB, Delivered, StreamOverview, StreamSettings, product_streams, remove_stream, save_stream,
};
use crate::wallet::use_wallet;

/// The longest content a row shows; the API gives it whole.
const SHOWN_CONTENT: usize = 160;

#[component]
pub fn ProductStreams(product: B256, owner: Address) -> impl IntoView {
    let wallet = use_wallet();
    // Bumped when the owner adds, changes or removes a stream.
    let changed = RwSignal::new(0u32);
    // Asked again when someone signs in or out, or subscribes on this page (as of the block it was
    // mined in): what they may read changes.
    let purchases = use_context::<crate::checkout::Purchases>();
    let streams = Resource::new(
        move || {
            let bought_in = purchases.map_or(0, |crate::checkout::Purchases(block)| block.get());
            (product, wallet.signed_in().map(|who| who.address), changed.get(), bought_in)
        },
        |(product, _, _, bought_in)| product_streams(product, bought_in),
    );
    let is_owner = Signal::derive(move || wallet.signed_in().is_some_and(|who| who.address == owner));
    view! {
        <section class="mt-6" aria-labelledby="streams-heading">
            <h2 id="streams-heading" class="text-lg font-semibold">"Data"</h2>
            <Suspense fallback=|| view! { <p class="mt-2 text-sm text-stone-500">"Loading the data…"</p> }>
                {move || Suspend::new(async move {
                    match answer_or(streams.await, || Service::Streams.to_string()) {
                        Ok(list) if list.is_empty() => view! {
                            <p class="mt-2 text-sm text-stone-600">"The seller has not attached a stream of data yet."</p>
                        }.into_any(),
                        Ok(list) => list
                            .into_iter()
                            .map(|overview| view! { <StreamCard overview is_owner changed /> })
                            .collect_view()
                            .into_any(),
                        Err(reason) => view! { <ErrorNotice message=reason class="mt-2" /> }.into_any(),
                    }
                })}
            </Suspense>
            <Show when=move || is_owner.get()>
                {view! { <StreamEditor product changed /> }.into_any()}
            </Show>
        </section>
    }
}

/// The owner's form to add a stream, or change one by giving its name again.
#[component]
fn StreamEditor(product: B256, changed: RwSignal<u32>) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let description = RwSignal::new(String::new());
    let example = RwSignal::new(String::new());
    let retention_days = RwSignal::new(30u32);
    let retention_megabytes = RwSignal::new(0u32);
    let public_preview = RwSignal::new(3u32);
    let problem = RwSignal::new(None::<String>);
    let saving = RwSignal::new(false);
    let submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let settings = StreamSettings {
            name: name.get_untracked(),
            description: description.get_untracked(),
            example: example.get_untracked(),
            retention_days: retention_days.get_untracked(),
            retention_bytes: u64::from(retention_megabytes.get_untracked()) * BYTES_PER_MB,
            public_preview: public_preview.get_untracked(),
        };
        problem.set(None);
        saving.set(true);
        leptos::task::spawn_local(async move {
            match save_stream(product, settings).await {
                Ok(_) => {
                    for field in [name, description, example] {
                        field.set(String::new());
                    }
                    changed.update(|n| *n += 1);
                }
                Err(error) => problem.set(Some(error.to_string())),
            }
            saving.set(false);
        });
    };
    view! {
        <form class="mt-3 grid gap-3 rounded-2xl border border-dashed border-stone-300 p-5 sm:grid-cols-2" on:submit=submit aria-label="Add a stream">
            <h3 class="font-semibold sm:col-span-2">"Add a stream (or change one: give its name)"</h3>
            <TextField label="Name: lower-case letters, digits and dashes" value=name />
            <TextField label="Description" value=description />
            <div class="sm:col-span-2"><TextField label="Example message (one JSON object), optional" value=example /></div>
            <NumberField label="Keep messages for (days; 0: as long as the server keeps any)" value=retention_days />
            <NumberField label="Keep at most (MB, the oldest go first; 0: as much as the server keeps)" value=retention_megabytes />
            <NumberField label="Newest messages anyone may read" value=public_preview />
            <div class="sm:col-span-2">
                <button
                    type="submit"
                    class="rounded-full bg-stone-800 px-4 py-1.5 text-sm font-medium text-white hover:bg-stone-900 disabled:opacity-60"
                    disabled=move || saving.get()
                >
                    "Save the stream"
                </button>
            </div>
            {move || problem.get().map(|error| view! { <div class="sm:col-span-2"><ErrorNotice message=error /></div> })}
        </form>
    }
}

#[component]
fn TextField(label: &'static str, value: RwSignal<String>) -> impl IntoView {
    view! {
        <label class="text-sm">
            <span class="block text-xs text-stone-500">{label}</span>
            <input
                class="w-full rounded-lg border border-stone-300 px-3 py-1.5 text-sm"
                prop:value=move || value.get()
                on:input=move |event| value.set(event_target_value(&event))
            />
        </label>
    }
}

#[component]
fn NumberField(label: &'static str, value: RwSignal<u32>) -> impl IntoView {
    view! {
        <label class="text-sm">
            <span class="block text-xs text-stone-500">{label}</span>
            <input
                type="number"
                min="0"
                class="w-32 rounded-lg border border-stone-300 px-3 py-1.5 text-sm"
                prop:value=move || value.get().to_string()
                on:input=move |event| value.set(event_target_value(&event).parse().unwrap_or(0))
            />
        </label>
    }
}

#[component]
fn StreamCard(overview: StreamOverview, is_owner: Signal<bool>, changed: RwSignal<u32>) -> impl IntoView {
    let definition = overview.definition;
    let name = definition.name.to_string();
    let problem = RwSignal::new(None::<String>);
    let api = format!("/api/v1/products/{}/streams/{name}/messages", definition.product);
    let access = access_line(overview.access, overview.count, overview.latest.len());
    // Newest first; for a reader with access, messages arriving live join at the top.
    let latest = RwSignal::new(overview.latest);
    if overview.access == Access::Full {
        follow_live(format!("{}?from={}", api.replace("/messages", "/live"), overview.count), latest);
    }
    let rows = move || {
        latest.with(|latest| {
            latest.iter().rev().cloned().map(|delivered| view! { <MessageRow delivered /> }).collect_view()
        })
    };
    let downloads = (overview.access == Access::Full).then(|| view! { <Downloads api=api.clone() /> });
    let to_remove = name.clone();
    view! {
        <article class="mt-3 rounded-2xl border border-stone-200 bg-white p-5 shadow-sm" data-stream=name.clone()>
            <h3 class="font-mono font-semibold">{definition.name.to_string()}</h3>
            {(!definition.description.is_empty()).then(|| view! {
                <p class="mt-1 text-sm text-stone-700">{definition.description.clone()}</p>
            })}
            <p class="mt-2 text-sm text-stone-600" data-testid="stream-access">{access}</p>
            <p class="mt-1 text-xs text-stone-500" data-testid="stream-retention">{retention_line(&definition)}</p>
            // Focusable, so a keyboard can scroll a table wider than a phone.
            <div class="mt-3 overflow-x-auto" tabindex="0" role="region" aria-label=format!("Messages of {name}")>
                <table class="w-full text-left text-sm">
                    <thead class="text-xs uppercase tracking-wide text-stone-500">
                        <tr>
                            <th class="py-1 pr-3">"#"</th>
                            <th class="py-1 pr-3">"Sent"</th>
                            <th class="py-1 pr-3">"Publisher"</th>
                            <th class="py-1 pr-3">"Content"</th>
                            <th class="py-1">"Signature"</th>
                        </tr>
                    </thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
            {downloads}
            <Show when=move || is_owner.get()>
                <RemoveStream product=definition.product name=to_remove.clone() changed problem />
            </Show>
            {move || problem.get().map(|error| view! { <ErrorNotice message=error class="mt-2" /> })}
            <p class="mt-3 text-xs text-stone-500">
                "Programs read it at " <a class="break-all font-mono underline" href=api.clone()>{api.clone()}</a>
                " and follow it live at " <span class="break-all font-mono">{api.replace("/messages", "/live")}</span>
                " (docs/streams.md)."
            </p>
        </article>
    }
}

/// How long and how much of a stream is kept, as its seller set it.
fn retention_line(definition: &StreamDefinition) -> String {
    let days = match definition.retention_days {
        0 => "as long as this server keeps any".to_owned(),
        days => format!("for {}", counted(u64::from(days), "day")),
    };
    let bytes = match definition.retention_bytes {
        0 => String::new(),
        bytes if bytes % BYTES_PER_MB == 0 => format!(", at most {} MB (the oldest go first)", bytes / BYTES_PER_MB),
        bytes => format!(", at most {bytes} bytes (the oldest go first)"),
    };
    format!("Messages are kept {days}{bytes}.")
}

/// What the visitor may read of a stream of `count` messages, `shown` of them on the page.
fn access_line(access: Access, count: u64, shown: usize) -> String {
    match access {
        Access::Full => format!("You may read all {}: the newest are below.", counted(count, "message")),
        Access::Preview if shown == 0 => {
            format!("{}; subscribe to read them. The seller shows no preview.", counted(count, "message"))
        }
        Access::Preview => {
            format!("A preview of the newest {shown} of {}; subscribe to read them all.", counted(count, "message"))
        }
    }
}

/// The stream's messages as files, for a reader with access to all of them.
#[component]
fn Downloads(
    /// The stream's `…/messages` path.
    api: String,
) -> impl IntoView {
    let download = api.replace("/messages", "/download");
    view! {
        <p class="mt-3 flex flex-wrap gap-2 text-sm">
            <a class="rounded-full border border-stone-300 px-3 py-1 hover:bg-stone-50" href=download.clone() download>
                "Download JSON Lines"
            </a>
            <a class="rounded-full border border-stone-300 px-3 py-1 hover:bg-stone-50" href=format!("{download}?format=csv") download>
                "Download CSV"
            </a>
        </p>
    }
}

/// The owner's button that removes the stream; `changed` is bumped once it is gone.
#[component]
fn RemoveStream(
    product: B256,
    name: String,
    changed: RwSignal<u32>,
    problem: RwSignal<Option<String>>,
) -> impl IntoView {
    let remove = move |_| {
        let name = name.clone();
        leptos::task::spawn_local(async move {
            match remove_stream(product, name).await {
                Ok(()) => changed.update(|n| *n += 1),
                Err(error) => problem.set(Some(error.to_string())),
            }
        });
    };
    view! {
        <button
            type="button"
            class="mt-3 rounded-full border border-red-300 px-3 py-1 text-xs text-red-800 hover:bg-red-50"
            on:click=remove
        >
            "Remove this stream"
        </button>
    }
}

/// Follows the live feed at `url` in the browser (Server-Sent Events, the session's cookie), keeping
/// the newest [`crate::streams::LATEST`] messages in `latest`. The feed is closed at the first message after the
/// page is gone.
fn follow_live(url: String, latest: RwSignal<Vec<Delivered>>) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        use wasm_bindgen::prelude::Closure;

        /// A message as the feed sends it: its offset beside the signed message.
        #[derive(serde::Deserialize)]
        struct Live {
            offset: u64,
            #[serde(flatten)]
            message: coop::stream::SignedMessage,
        }

        let Ok(source) = web_sys::EventSource::new(&url) else { return };
        let feed = source.clone();
        let on_message = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |event: web_sys::MessageEvent| {
            let Some(live) = event.data().as_string().and_then(|text| serde_json::from_str::<Live>(&text).ok()) else {
                return;
            };
            let kept = latest.try_update(|latest| {
                if latest.last().is_none_or(|last| live.offset > last.offset) {
                    latest.push(Delivered { offset: live.offset, message: live.message });
                    let excess = latest.len().saturating_sub(crate::streams::LATEST);
                    latest.drain(..excess);
                }
            });
            if kept.is_none() {
                feed.close();
            }
        });
        source.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        // It lives as long as the feed; the feed ends with the page (above) or the server.
        on_message.forget();
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (url, latest);
}

#[component]
fn MessageRow(delivered: Delivered) -> impl IntoView {
    let message = &delivered.message.message;
    let signed = delivered.message.is_signed();
    let content = message.content.as_str();
    let shown = match content.char_indices().nth(SHOWN_CONTENT) {
        Some((cut, _)) => format!("{}…", &content[..cut]),
        None => content.to_owned(),
    };
    view! {
        <tr class="border-t border-stone-100 align-top">
            <td class="py-1 pr-3 tabular-nums text-stone-500">{delivered.offset}</td>
            <td class="whitespace-nowrap py-1 pr-3">{coop::text::utc(message.timestamp / 1000)}</td>
            <td class="py-1 pr-3 font-mono text-xs" title=message.publisher.to_checksum(None)>{short_address(&message.publisher)}</td>
            <td class="break-all py-1 pr-3 font-mono text-xs">{shown}</td>
            <td class="py-1 text-xs">
                {if signed {
                    view! { <span class="text-emerald-700">"✓ the publisher's"</span> }.into_any()
                } else {
                    view! { <span class="font-semibold text-red-700">"✗ does not verify"</span> }.into_any()
                }}
            </td>
        </tr>
    }
}
