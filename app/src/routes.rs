//! The pages other than the home page, each loaded in the browser only when it is first shown.
//!
//! A release bundle built with `cargo leptos build --split` keeps each page's code (and what only it
//! uses) in a chunk of its own, fetched when the router first needs that page: a phone opening the
//! marketplace downloads the marketplace, not the editor and the checkout. The server renders every
//! page in full as before; in the browser, hydration waits for the page's chunk.
//!
//! Each route carries no data of its own: a page loads what it shows through its resources, as it
//! would without splitting.

use leptos::prelude::*;
use leptos_router::{LazyRoute, lazy_route};

/// A route whose whole view is split off; `$page` is the page's component.
macro_rules! lazy_page {
    ($(#[$doc:meta])* $route:ident => $page:path) => {
        $(#[$doc])*
        pub struct $route;

        #[lazy_route]
        impl LazyRoute for $route {
            fn data() -> Self {
                Self
            }

            fn view(_this: Self) -> AnyView {
                view! { <$page /> }.into_any()
            }
        }
    };
}

lazy_page!(
    /// `/products/new`
    NewProductRoute => crate::pages::editor::NewProductPage
);
lazy_page!(
    /// `/products/{id}/edit`
    EditProductRoute => crate::pages::editor::EditProductPage
);
lazy_page!(
    /// `/products/{id}`
    ProductRoute => crate::pages::product::ProductPage
);
lazy_page!(
    /// `/unions/{address}`
    UnionRoute => crate::pages::union::UnionPage
);
lazy_page!(
    /// `/earnings`
    EarningsRoute => crate::pages::earnings::EarningsPage
);
lazy_page!(
    /// `/join/{union}`
    JoinRoute => crate::pages::join::JoinPage
);
lazy_page!(
    /// `/purchases`
    PurchasesRoute => crate::pages::purchases::PurchasesPage
);
lazy_page!(
    /// `/sell`
    SellRoute => crate::pages::sell::SellerPage
);
