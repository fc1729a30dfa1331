//! The hydrate entry: attaches the server-rendered page to the wasm app.
// The app's view types nest deeply, and hydrating them is one async block here.
#![recursion_limit = "256"]

use wasm_bindgen::JsValue;

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // A page's code may be in a chunk of its own (`app::routes`): hydration waits for it to load.
    wasm_bindgen_futures::spawn_local(async {
        let app = leptos::mount::hydrate_from_async(leptos::tachys::dom::body(), app::App).await;
        app.forget();
        app::wallet::start_after_hydration();
        // A marker that end-to-end tests wait for before they click.
        let _ = js_sys::Reflect::set(&js_sys::global(), &JsValue::from_str("__coopHydrated"), &JsValue::TRUE);
    });
}
