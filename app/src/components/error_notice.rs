//! How every page says that something failed: a load that got no answer, an action the server or the
//! wallet refused. One look and one role, so a reader and a screen reader meet failures the same way.

use std::fmt::Display;

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

/// A server function's answer as a value, or why not in words: the server's own reason when it refused,
/// else `unavailable`, since a call that got no answer has nothing better to tell the person.
pub fn answer_or<T, E: Display>(
    answer: Result<Result<T, E>, ServerFnError>,
    unavailable: impl FnOnce() -> String,
) -> Result<T, String> {
    match answer {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(refused)) => Err(refused.to_string()),
        Err(_) => Err(unavailable()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_keeps_the_servers_words_and_a_lost_call_says_it_is_unavailable() {
        let unavailable = || "not available right now".to_owned();
        assert_eq!(answer_or(Ok::<Result<u8, String>, _>(Ok(7)), unavailable), Ok(7));
        assert_eq!(
            answer_or(Ok::<Result<u8, _>, _>(Err("no such product")), unavailable),
            Err("no such product".into())
        );
        let lost: Result<Result<u8, String>, ServerFnError> = Err(ServerFnError::Request("timeout".into()));
        assert_eq!(answer_or(lost, unavailable), Err("not available right now".into()));
    }
}
