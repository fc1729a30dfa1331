//! How every page says that something failed: a load that got no answer, an action the server or the
//! wallet refused. One look and one role, so a reader and a screen reader meet failures the same way.

use leptos::prelude::*;

/// The reason a load or an action failed, in plain words.
///
/// It is an alert: a screen reader reads it out as soon as it appears, which is what someone who just
/// pressed a button and waits for an answer needs. It shows only while there is something to say, so
/// a page never carries an empty alert.
#[component]
pub fn ErrorNotice(
    /// What went wrong, as the person should read it.
    #[prop(into)]
    message: String,
    /// Where it sits in the page around it (margins, width); the look is the notice's own.
    #[prop(optional)]
    class: &'static str,
    /// A handle for the browser tests, where one needs to tell this notice from others.
    #[prop(optional)]
    testid: Option<&'static str>,
) -> impl IntoView {
    view! {
        <p role="alert" class=format!("{class} rounded-lg bg-red-50 px-3 py-2 text-sm text-red-800") data-testid=testid>
            {message}
        </p>
    }
}

/// A page that could not load at all: the notice stands where the page would have been, in the
/// page's width, rather than edge to edge under the header.
#[component]
pub fn PageErrorNotice(#[prop(into)] message: String) -> impl IntoView {
    view! {
        <div class="mx-auto max-w-4xl px-4 py-10">
            <ErrorNotice message />
        </div>
    }
}
