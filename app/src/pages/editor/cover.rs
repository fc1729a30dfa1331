//! The cover image: chosen in the browser, checked for type and size before it is sent, uploaded to
//! the server (which checks again) and shown back from there.

use leptos::prelude::*;

use super::form::FieldMessage;
use super::state::EditorState;
use crate::products::{COVER_TYPES, COVERS_PATH, DraftField};

#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
#[derive(serde::Deserialize)]
struct Stored {
    name: String,
}

#[component]
pub fn CoverField(state: EditorState) -> impl IntoView {
    let uploading = RwSignal::new(false);
    let accept = COVER_TYPES.iter().map(|(mime, _)| *mime).collect::<Vec<_>>().join(",");
    let on_change = move |event: leptos::ev::Event| {
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(upload(state, uploading, event));
        #[cfg(not(feature = "hydrate"))]
        let _ = (event, uploading);
    };
    view! {
        <div>
            <span class="text-sm font-medium">"Cover image"</span>
            <div class="mt-1 flex items-center gap-4">
                <div
                    class="flex h-20 w-32 shrink-0 items-center justify-center overflow-hidden rounded-lg border border-dashed border-stone-300 bg-stone-100 bg-cover bg-center text-xs text-stone-600"
                    data-testid="cover-preview"
                    style=move || state.draft.with(|draft| {
                        if draft.cover.is_empty() { String::new() } else { format!("background-image: url({COVERS_PATH}/{})", draft.cover) }
                    })
                >
                    {move || state.draft.with(|draft| draft.cover.is_empty()).then_some("No cover")}
                </div>
                <div class="text-sm">
                    <label for="cover" class="cursor-pointer rounded-lg border border-stone-300 bg-white px-3 py-1.5 hover:bg-stone-100">
                        {move || if uploading.get() { "Uploading…" } else { "Choose an image" }}
                    </label>
                    <input id="cover" name="cover" type="file" accept=accept class="sr-only" on:change=on_change aria-describedby="cover-message" />
                    {move || state.draft.with(|draft| !draft.cover.is_empty()).then(|| view! {
                        <button type="button" class="ml-2 text-stone-600 underline" on:click=move |_| state.update(|draft| draft.cover.clear())>"Remove"</button>
                    })}
                </div>
            </div>
            <FieldMessage state field=DraftField::Cover hint="PNG, JPEG or WebP, at most 2 MiB; 16:9 looks best" />
        </div>
    }
    .into_any()
}

/// Checks the chosen file and uploads it; the draft then names it.
#[cfg(feature = "hydrate")]
async fn upload(state: EditorState, uploading: RwSignal<bool>, event: leptos::ev::Event) {
    use js_sys::Reflect;
    use wasm_bindgen::JsValue;

    use super::fetch::{Body, send};
    use crate::products::{COVER_MAX_BYTES, FieldError};

    let fail = |message: String| {
        state.errors.update(|errors| {
            errors.retain(|e| e.field != DraftField::Cover);
            errors.push(FieldError { field: DraftField::Cover, message });
        });
    };
    let Some(target) = event.target() else { return };
    let target: JsValue = target.into();
    let file = Reflect::get(&target, &"files".into()).and_then(|files| Reflect::get(&files, &JsValue::from(0)));
    let Ok(file) = file else { return };
    if file.is_undefined() || file.is_null() {
        return;
    }
    let size = Reflect::get(&file, &"size".into()).ok().and_then(|size| size.as_f64()).unwrap_or(0.0);
    let mime = Reflect::get(&file, &"type".into()).ok().and_then(|mime| mime.as_string()).unwrap_or_default();
    if !COVER_TYPES.iter().any(|(known, _)| *known == mime) {
        return fail("the cover must be a PNG, JPEG or WebP image".to_owned());
    }
    if size > COVER_MAX_BYTES as f64 {
        return fail(format!("the cover is {:.1} MiB; at most 2 MiB is allowed", size / 1_048_576.0));
    }
    uploading.set(true);
    let answer = send("POST", COVERS_PATH, Some(Body::File(file)), Some(&mime)).await;
    uploading.set(false);
    match answer.and_then(|text| serde_json::from_str::<Stored>(&text).map_err(|_| "the upload failed".to_owned())) {
        Ok(stored) => {
            state.errors.update(|errors| errors.retain(|e| e.field != DraftField::Cover));
            state.update(|draft| draft.cover = stored.name);
        }
        Err(message) => fail(message),
    }
}
