//! The hydrate entry: attaches the server-rendered page to the wasm app.

use wasm_bindgen::JsValue;

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
    // A marker that end-to-end tests wait for before they click.
    let _ = js_sys::Reflect::set(&js_sys::global(), &JsValue::from_str("__coopHydrated"), &JsValue::TRUE);
}
