//! A number of whole days typed by hand, as the grant and free-subscription forms ask for it.

use leptos::prelude::*;

/// The input of a form's "Days" field; the text stays as typed until the form checks it.
#[component]
pub fn DaysField(days: RwSignal<String>) -> impl IntoView {
    view! {
        <label class="text-sm">
            <span class="block text-xs text-stone-500">"Days"</span>
            <input
                name="days"
                inputmode="numeric"
                class="min-h-11 w-24 rounded-lg border border-stone-300 px-3 py-1.5 text-sm"
                prop:value=move || days.get()
                on:input=move |event| days.set(event_target_value(&event))
            />
        </label>
    }
}

/// The green submit button of a small form, shown `label`.
#[component]
pub fn SubmitButton(label: Signal<&'static str>, disabled: Signal<bool>) -> impl IntoView {
    view! {
        <button
            type="submit"
            class="min-h-11 rounded-full bg-emerald-700 px-4 text-sm font-medium text-white hover:bg-emerald-800 disabled:opacity-60"
            disabled=disabled
        >
            {label}
        </button>
    }
}
