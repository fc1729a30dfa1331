//! The terms a buyer accepts (a common data licence, or the seller's own words) and how buyers
//! reach the seller. The product's page shows both before anyone pays.

use leptos::prelude::*;

use super::form::{ChoiceField, TextAreaField, TextField};
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
            <TextAreaField state field=DraftField::Terms label="Your terms"
                hint="what buyers may and may not do with the data"
                get=|draft| draft.terms.clone() set=|draft, value| draft.terms = value />
        </Show>
        <TextField state field=DraftField::Contact label="Contact" hint="an e-mail or https:// address where buyers reach you"
            get=|draft| draft.contact.clone() set=|draft, value| draft.contact = value />
    }
}
