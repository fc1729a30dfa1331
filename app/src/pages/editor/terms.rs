//! The terms a buyer accepts (a common data licence, or the seller's own words) and how buyers
//! reach the seller. The product's page shows both before anyone pays.

use leptos::prelude::*;

use super::form::{ChoiceField, FieldMessage, INPUT, TextField};
use super::state::EditorState;
use crate::products::{DraftField, Licence};

#[component]
pub fn TermsFields(state: EditorState) -> impl IntoView {
    let own = move || state.draft.with(|draft| draft.licence == Licence::Own.as_str());
    view! {
        <ChoiceField
            state
            field=DraftField::Licence
            label="Terms of use"
            hint="what buyers may do with the data; they see it before paying"
            none="None stated"
            choices=Licence::ALL.iter().map(|l| (l.as_str(), l.label())).collect()
            get=|draft| &draft.licence
            set=|draft, value| draft.licence = value
        />
        <Show when=own>
            <div>
                <label for="terms" class="text-sm font-medium">"Your terms"</label>
                <textarea
                    id="terms"
                    name="terms"
                    rows="4"
                    class=INPUT
                    prop:value=move || state.draft.with(|draft| draft.terms.clone())
                    on:input=move |event| state.update(|draft| draft.terms = event_target_value(&event))
                    aria-invalid=move || state.error(DraftField::Terms).is_some().to_string()
                    aria-describedby="terms-message"
                ></textarea>
                <FieldMessage state field=DraftField::Terms hint="what buyers may and may not do with the data" />
            </div>
        </Show>
        <TextField state field=DraftField::Contact label="Contact" hint="an e-mail or https:// address where buyers reach you"
            get=|draft| draft.contact.clone() set=|draft, value| draft.contact = value />
    }
}
