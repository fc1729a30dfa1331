use leptos::prelude::*;

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <section class="mx-auto max-w-xl px-4 py-24 text-center">
            <h1 class="text-3xl font-semibold">"Page not found"</h1>
            <p class="mt-3 text-stone-600">"There is nothing at this address."</p>
            <a href="/" class="mt-6 inline-block text-emerald-700 underline">"Back to the marketplace"</a>
        </section>
    }
}
