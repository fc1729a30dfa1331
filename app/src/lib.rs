//! Coop's web app: routes, pages and components, rendered on the server and hydrated in the browser.
//! The app never imports the server: what its server functions need comes in as context.
// Deeply nested views (the Data Union charts, the editor) need more than the default 128.
#![recursion_limit = "256"]

pub mod checkout;
pub mod components;
pub mod error;
pub mod market;
pub mod named;
pub mod pages;
pub mod products;
pub mod routes;
#[cfg(feature = "ssr")]
pub mod schemas;
pub mod streams;
pub mod unions;
pub mod wallet;

use leptos::prelude::*;
use leptos_meta::{HashedStylesheet, MetaTags, Title, provide_meta_context};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{Lazy, ParamSegment, SsrMode, StaticSegment};

use crate::components::layout::{Footer, Header};
use crate::pages::home::HomePage;
use crate::pages::not_found::NotFound;
use crate::routes::{
    EarningsRoute, EditProductRoute, JoinRoute, NewProductRoute, ProductRoute, PurchasesRoute, SellRoute, UnionRoute,
};

/// The port `T` the server put into the request's extensions, or the refusal that `service` is not
/// there to ask (a page rendered without a server behind it).
#[cfg(feature = "ssr")]
pub(crate) fn request_port<T: Clone + Send + Sync + 'static>(service: error::Service) -> Result<T, error::AppError> {
    use_context::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<T>().cloned())
        .ok_or(error::AppError::Unavailable(service))
}

/// The HTML document around the app, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="description" content="Coop: a data marketplace where communities sell their data together" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <AutoReload options=options.clone() />
                // `/pkg/coop.css`, or its hashed name in a release build (`make release`).
                <HashedStylesheet options=options.clone() id="leptos" />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body class="min-h-screen bg-stone-50 text-stone-900 antialiased">
                <App />
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    wallet::provide_wallet();
    view! {
        <Title text="Coop: sell your data together" />
        <Router>
            <div class="flex min-h-screen flex-col">
                <Header />
                <main class="flex-1">
                    <Routes fallback=NotFound>
                        // Whole pages at once: their content reads without JavaScript, and the status (404) is right.
                        <Route path=StaticSegment("") view=HomePage ssr=SsrMode::Async />
                        <Route path=(StaticSegment("products"), StaticSegment("new")) view={Lazy::<NewProductRoute>::new()} />
                        <Route path=(StaticSegment("products"), ParamSegment("id"), StaticSegment("edit")) view={Lazy::<EditProductRoute>::new()} />
                        <Route path=(StaticSegment("products"), ParamSegment("id")) view={Lazy::<ProductRoute>::new()} ssr=SsrMode::Async />
                        <Route path=(StaticSegment("unions"), ParamSegment("address")) view={Lazy::<UnionRoute>::new()} ssr=SsrMode::Async />
                        <Route path=StaticSegment("earnings") view={Lazy::<EarningsRoute>::new()} ssr=SsrMode::Async />
                        <Route path=(StaticSegment("join"), ParamSegment("union")) view={Lazy::<JoinRoute>::new()} ssr=SsrMode::Async />
                        <Route path=StaticSegment("purchases") view={Lazy::<PurchasesRoute>::new()} />
                        <Route path=StaticSegment("sell") view={Lazy::<SellRoute>::new()} ssr=SsrMode::Async />
                    </Routes>
                </main>
                <Footer />
            </div>
        </Router>
    }
}
