//! The editor's fields: each with its label, a hint, and its own message when it is wrong.

use coop::amount::{DATA_DECIMALS, Period, format_units};
use leptos::prelude::*;

use super::state::EditorState;
use crate::products::{Category, Draft, DraftField, DraftKind};

pub const INPUT: &str = "mt-1 min-h-11 w-full rounded-lg border border-stone-300 bg-white px-3 py-2 text-sm \
                         focus:border-emerald-600 focus:outline-none aria-[invalid=true]:border-red-600";

/// The hint under a field, or its message when it is wrong.
#[component]
pub fn FieldMessage(state: EditorState, field: DraftField, hint: &'static str) -> impl IntoView {
    view! {
        <p id=format!("{field}-message") class="mt-1 text-xs text-stone-500">
            {move || match state.error(field) {
                Some(text) => view! { <span class="text-red-700" role="alert">{text}</span> }.into_any(),
                None => view! { <span>{hint}</span> }.into_any(),
            }}
        </p>
    }
}

/// A one-line text field bound to one field of the draft.
#[component]
pub fn TextField(
    state: EditorState,
    field: DraftField,
    label: &'static str,
    hint: &'static str,
    get: fn(&Draft) -> String,
    set: fn(&mut Draft, String),
    #[prop(optional)] disabled: Option<Signal<bool>>,
) -> impl IntoView {
    view! {
        <div>
            <label for=field.as_str() class="text-sm font-medium">{label}</label>
            <input
                id=field.as_str()
                name=field.as_str()
                class=INPUT
                autocomplete="off"
                prop:value=move || state.draft.with(get)
                on:input=move |event| state.update(|draft| set(draft, event_target_value(&event)))
                disabled=move || disabled.is_some_and(|disabled| disabled.get())
                aria-invalid=move || state.error(field).is_some().to_string()
                aria-describedby=format!("{field}-message")
            />
            <FieldMessage state field hint />
        </div>
    }
}

/// Data product or Data Union: a Data Union's product pays its contract, which shares out each sale.
#[component]
pub fn KindChooser(state: EditorState, locked: Signal<bool>) -> impl IntoView {
    let option = move |kind: DraftKind, text: &'static str| {
        view! {
            <label class=move || {
                let chosen = state.draft.with(|draft| draft.kind() == Some(kind));
                format!(
                    "flex cursor-pointer gap-3 rounded-xl border p-4 {}",
                    if chosen { "border-emerald-600 bg-emerald-50" } else { "border-stone-200 bg-white" }
                )
            }>
                <input
                    type="radio"
                    name="kind"
                    value=kind.as_str()
                    class="mt-1 accent-emerald-700"
                    prop:checked=move || state.draft.with(|draft| draft.kind() == Some(kind))
                    disabled=move || locked.get()
                    on:change=move |_| state.update(|draft| draft.kind = kind.to_string())
                />
                <span>
                    <span class="block font-medium">{kind.label()}</span>
                    <span class="block text-sm text-stone-600">{text}</span>
                </span>
            </label>
        }
    };
    view! {
        <fieldset>
            <legend class="text-sm font-medium">"What are you selling?"</legend>
            <div class="mt-2 grid gap-3 sm:grid-cols-2">
                {option(DraftKind::Data, "Your own data; payments go to your address.")}
                {option(DraftKind::Union, "Data pooled from many members; each sale is shared among them.")}
            </div>
        </fieldset>
    }
    .into_any()
}

/// A few lines of text bound to one field of the draft.
#[component]
pub fn TextAreaField(
    state: EditorState,
    field: DraftField,
    label: &'static str,
    hint: &'static str,
    get: fn(&Draft) -> String,
    set: fn(&mut Draft, String),
) -> impl IntoView {
    view! {
        <div>
            <label for=field.as_str() class="text-sm font-medium">{label}</label>
            <textarea
                id=field.as_str()
                name=field.as_str()
                rows="4"
                class=INPUT
                prop:value=move || state.draft.with(get)
                on:input=move |event| state.update(|draft| set(draft, event_target_value(&event)))
                aria-invalid=move || state.error(field).is_some().to_string()
                aria-describedby=format!("{field}-message")
            ></textarea>
            <FieldMessage state field hint />
        </div>
    }
}

#[component]
pub fn DescriptionField(state: EditorState) -> impl IntoView {
    view! {
        <TextAreaField state field=DraftField::Description label="Description"
            hint="what the data is, how often it is updated, how buyers get it"
            get=|draft| draft.description.clone() set=|draft, value| draft.description = value />
    }
}

/// One of a list of named choices (a named enum's `as_str` and `label`), bound to one field of the
/// draft; the empty value is "none chosen" and reads as `none`.
#[component]
pub fn ChoiceField(
    state: EditorState,
    field: DraftField,
    label: &'static str,
    hint: &'static str,
    none: &'static str,
    choices: Vec<(&'static str, &'static str)>,
    get: fn(&Draft) -> &str,
    set: fn(&mut Draft, String),
) -> impl IntoView {
    view! {
        <div>
            <label for=field.as_str() class="text-sm font-medium">{label}</label>
            <select
                id=field.as_str()
                name=field.as_str()
                class=INPUT
                on:change=move |event| state.update(|draft| set(draft, event_target_value(&event)))
                aria-invalid=move || state.error(field).is_some().to_string()
                aria-describedby=format!("{field}-message")
            >
                <option value="" selected=move || state.draft.with(|draft| get(draft).is_empty())>{none}</option>
                {choices
                    .into_iter()
                    .map(|(value, text)| {
                        view! { <option value=value selected=move || state.draft.with(|draft| get(draft) == value)>{text}</option> }
                    })
                    .collect_view()}
            </select>
            <FieldMessage state field hint />
        </div>
    }
    .into_any()
}

#[component]
pub fn CategoryField(state: EditorState) -> impl IntoView {
    view! {
        <ChoiceField
            state
            field=DraftField::Category
            label="Category"
            hint="buyers filter the marketplace by it"
            none="Choose a category"
            choices=Category::ALL.iter().map(|c| (c.as_str(), c.label())).collect()
            get=|draft| &draft.category
            set=|draft, value| draft.category = value
        />
    }
}

/// The exact price per second the chain will hold, from the price per period as typed.
fn exact_price(draft: &Draft) -> Option<String> {
    let period = draft.period();
    let price = coop::amount::parse_units(draft.price.trim(), DATA_DECIMALS).ok()?;
    if price.is_zero() {
        return Some(
            "Free: anyone may subscribe without paying, and the subscription is recorded like a paid one.".to_owned(),
        );
    }
    let per_second = coop::amount::per_second(price, period);
    if per_second.is_zero() {
        return None;
    }
    let exact_back = coop::amount::per_period(per_second, period);
    let rounded = if exact_back == price {
        String::new()
    } else {
        format!(
            " (buyers pay {} DATA per {}: the price per second is rounded down)",
            format_units(exact_back, DATA_DECIMALS),
            period.name()
        )
    };
    Some(format!("Exactly {} DATA per second ({per_second} wei){rounded}.", format_units(per_second, DATA_DECIMALS)))
}

#[component]
pub fn PriceFields(state: EditorState) -> impl IntoView {
    view! {
        <div>
            <div class="grid grid-cols-[1fr_auto] gap-3">
                <div>
                    <label for="price" class="text-sm font-medium">"Price in DATA"</label>
                    <input
                        id="price"
                        name="price"
                        inputmode="decimal"
                        autocomplete="off"
                        class=INPUT
                        prop:value=move || state.draft.with(|draft| draft.price.clone())
                        on:input=move |event| state.update(|draft| draft.price = event_target_value(&event))
                        aria-invalid=move || state.error(DraftField::Price).is_some().to_string()
                        aria-describedby="price-message"
                    />
                </div>
                <div>
                    <label for="period" class="text-sm font-medium">"per"</label>
                    <select id="period" name="period" class=INPUT on:change=move |event| state.update(|draft| draft.period = event_target_value(&event))>
                        {[Period::Hour, Period::Day, Period::Week, Period::Month]
                            .into_iter()
                            .map(|period| {
                                view! {
                                    <option value=period.name() selected=move || state.draft.with(|draft| draft.period == period.name())>
                                        {period.name()}
                                    </option>
                                }
                            })
                            .collect_view()}
                    </select>
                </div>
            </div>
            <FieldMessage state field=DraftField::Price hint="for example 5 or 0.25, or 0 for a free product; buyers pay by the second" />
            <p class="mt-1 text-xs text-stone-600" data-testid="price-per-second">
                {move || state.draft.with(exact_price)}
            </p>
        </div>
    }
    .into_any()
}
