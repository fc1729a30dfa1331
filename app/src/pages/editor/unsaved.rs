//! The unsaved-changes warning: the browser's own prompt when the tab is closed or reloaded, and a
//! confirmation before a link in the app leads away from the editor.

use leptos::prelude::*;

/// What the confirmation says.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
pub const LEAVE_QUESTION: &str = "You have unsaved changes. Leave the editor and lose them?";

/// Warns before leaving while `dirty` says there are unsaved changes.
pub fn warn_before_leaving(dirty: Signal<bool>) {
    #[cfg(feature = "hydrate")]
    {
        let unload = window_event_listener(leptos::ev::beforeunload, move |event| {
            if dirty.try_get_untracked().unwrap_or(false) {
                event.prevent_default();
                event.set_return_value(LEAVE_QUESTION);
            }
        });
        on_cleanup(move || unload.remove());
        guard_links(dirty);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = dirty;
}

/// A click on a link is caught before the router sees it (capture phase on the window); when the
/// person does not confirm, the click is cancelled, and the router leaves cancelled clicks alone.
#[cfg(feature = "hydrate")]
fn guard_links(dirty: Signal<bool>) {
    use wasm_bindgen::JsCast;
    use wasm_bindgen::prelude::Closure;

    let on_click = Closure::<dyn Fn(web_sys::Event)>::new(move |event: web_sys::Event| {
        // After the editor is gone its signal is too: nothing to guard.
        if !dirty.try_get_untracked().unwrap_or(false) || event.default_prevented() {
            return;
        }
        let Some(target) = event.target() else { return };
        let target: wasm_bindgen::JsValue = target.into();
        let closest =
            js_sys::Reflect::get(&target, &"closest".into()).ok().and_then(|f| f.dyn_into::<js_sys::Function>().ok());
        let anchor = closest.and_then(|closest| closest.call1(&target, &"a[href]".into()).ok());
        if anchor.is_none_or(|anchor| anchor.is_null()) {
            return;
        }
        if !window().confirm_with_message(LEAVE_QUESTION).unwrap_or(true) {
            event.prevent_default();
            event.stop_immediate_propagation();
        }
    });
    let _ = window().add_event_listener_with_callback_and_bool("click", on_click.as_ref().unchecked_ref(), true);
    // The listener stays for the life of the page (a closure cannot be handed to a cleanup, which
    // must be `Send`); once the editor is gone it finds no signal and does nothing.
    on_click.forget();
}
