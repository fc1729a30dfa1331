//! The product's streams in the editor. Until the product is published they are part of the draft,
//! saved with it; the save that records the product's id hands them to the product. From then on
//! they are the product's own, edited here as on its page.

use leptos::prelude::*;

use super::form::{FieldMessage, INPUT};
use super::state::EditorState;
use crate::products::DraftField;
use crate::streams::{BYTES_PER_MB, StreamSettings};

/// The draft's streams: each one's settings, a button to remove it and one to add another.
#[component]
pub fn DraftStreams(state: EditorState) -> impl IntoView {
    let count = move || state.draft.with(|draft| draft.streams.len());
    let add = move |_| {
        state.update(|draft| {
            draft.streams.push(StreamSettings { retention_days: 30, public_preview: 3, ..StreamSettings::default() })
        })
    };
    view! {
        <fieldset class="grid gap-3" aria-describedby="streams-message" data-testid="draft-streams">
            <legend class="text-sm font-medium">"Streams"</legend>
            <p class="text-xs text-stone-500">
                "The data buyers get. You (and, for a Data Union, its members) publish messages to each stream; \
                 subscribers read them live and download them. Saved with the draft, created with the product \
                 when you publish."
            </p>
            <For each=move || 0..count() key=|at| *at let:at>
                <DraftStream state at />
            </For>
            <div>
                <button
                    type="button"
                    class="min-h-11 rounded-full border border-stone-300 px-4 text-sm font-medium hover:bg-stone-100"
                    on:click=add
                >
                    "Add a stream"
                </button>
            </div>
            <FieldMessage state field=DraftField::Streams hint="" />
        </fieldset>
    }
}

/// The settings of the draft's stream number `at`.
#[component]
fn DraftStream(state: EditorState, at: usize) -> impl IntoView {
    let remove = move |_| {
        state.update(|draft| {
            if at < draft.streams.len() {
                draft.streams.remove(at);
            }
        })
    };
    view! {
        <div class="grid gap-3 rounded-xl border border-dashed border-stone-300 p-4 sm:grid-cols-2" data-draft-stream=at>
            <StreamField state at label="Name: lower-case letters, digits and dashes"
                get=|stream| stream.name.clone() set=|stream, value| stream.name = value />
            <StreamField state at label="Description"
                get=|stream| stream.description.clone() set=|stream, value| stream.description = value />
            <div class="sm:col-span-2">
                <StreamField state at label="Example message (one JSON object), optional"
                    get=|stream| stream.example.clone() set=|stream, value| stream.example = value />
            </div>
            <StreamField state at numeric=true label="Keep messages for (days; 0: as long as the server keeps any)"
                get=|stream| stream.retention_days.to_string()
                set=|stream, days| stream.retention_days = u32::try_from(whole(&days)).unwrap_or(u32::MAX) />
            <StreamField state at numeric=true label="Keep at most (MB, the oldest go first; 0: as much as the server keeps)"
                get=|stream| (stream.retention_bytes / BYTES_PER_MB).to_string()
                set=|stream, megabytes| stream.retention_bytes = whole(&megabytes).saturating_mul(BYTES_PER_MB) />
            <StreamField state at numeric=true label="Newest messages anyone may read"
                get=|stream| stream.public_preview.to_string()
                set=|stream, count| stream.public_preview = u32::try_from(whole(&count)).unwrap_or(u32::MAX) />
            <div class="flex items-end">
                <button
                    type="button"
                    class="min-h-11 rounded-full border border-red-200 px-4 text-sm text-red-700 hover:bg-red-50"
                    on:click=remove
                >
                    "Remove this stream"
                </button>
            </div>
        </div>
    }
}

/// One setting of the draft's stream number `at`: text, or a whole number (what is not one reads
/// as 0, as a number input gives "" for it).
#[component]
fn StreamField(
    state: EditorState,
    at: usize,
    label: &'static str,
    get: fn(&StreamSettings) -> String,
    set: fn(&mut StreamSettings, String),
    #[prop(optional)] numeric: bool,
) -> impl IntoView {
    view! {
        <label class="text-sm">
            <span class="block text-xs text-stone-600">{label}</span>
            <input
                type=if numeric { "number" } else { "text" }
                min=numeric.then_some("0")
                inputmode=numeric.then_some("numeric")
                class=INPUT
                autocomplete="off"
                prop:value=move || state.draft.with(|draft| draft.streams.get(at).map(get).unwrap_or_default())
                on:input=move |event| {
                    let value = event_target_value(&event);
                    state.update(|draft| {
                        if let Some(stream) = draft.streams.get_mut(at) {
                            set(stream, value);
                        }
                    });
                }
            />
        </label>
    }
}

/// A whole number as typed, 0 for anything else.
fn whole(text: &str) -> u64 {
    text.trim().parse().unwrap_or(0)
}
