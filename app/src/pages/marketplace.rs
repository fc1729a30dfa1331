//! The marketplace on the home page: search, sort, a page of product cards, and paging. The search
//! form is a plain `GET` form, so it works before hydration and without JavaScript.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::components::error_notice::ErrorNotice;
use crate::components::product_card::ProductCardView;
use crate::error::answer_or;
use crate::market::{PAGE_SIZE, ProductKind, ProductPage, ProductQuery, Sort, list_products};
use crate::products::Category;

/// The query the address bar holds; unknown sorts fall back to newest, bad offsets to the start.
fn query_from_url() -> Memo<ProductQuery> {
    let params = use_query_map();
    Memo::new(move |_| {
        params.with(|params| ProductQuery {
            q: params.get("q").unwrap_or_default().trim().chars().take(200).collect(),
            sort: params.get("sort").and_then(|sort| sort.parse().ok()).unwrap_or_default(),
            offset: params.get("offset").and_then(|offset| offset.parse().ok()).unwrap_or(0),
            category: params.get("category").and_then(|category| category.parse().ok()),
            kind: params.get("kind").and_then(|kind| kind.parse().ok()).unwrap_or_default(),
        })
    })
}

/// What the marketplace and a product's page say when the server gave no answer.
pub(crate) fn unavailable() -> String {
    "the marketplace is not available right now; try again in a moment".to_owned()
}

fn page_href(query: &ProductQuery, offset: usize) -> String {
    let mut href = format!("/?sort={}&offset={offset}", query.sort);
    if let Some(category) = query.category {
        href.push_str("&category=");
        href.push_str(category.as_str());
    }
    if query.kind != ProductKind::All {
        href.push_str("&kind=");
        href.push_str(query.kind.as_str());
    }
    if !query.q.is_empty() {
        href.push_str("&q=");
        href.push_str(&url_encode(&query.q));
    }
    href
}

fn url_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            b' ' => "+".to_owned(),
            other => format!("%{other:02X}"),
        })
        .collect()
}

#[component]
pub fn Marketplace() -> impl IntoView {
    let query = query_from_url();
    let products = Resource::new(move || query.get(), list_products);
    view! {
        <section class="mx-auto max-w-6xl px-4 py-10" aria-labelledby="products-heading">
            <div class="flex flex-col gap-4 lg:flex-row lg:items-end lg:justify-between">
                <h2 id="products-heading" class="text-2xl font-semibold">"Data products"</h2>
                <SearchForm query />
            </div>
            <Transition fallback=|| view! { <p class="mt-8 text-stone-500">"Loading products…"</p> }>
                {move || Suspend::new(async move {
                    match answer_or(products.await, unavailable) {
                        Ok(page) => view! { <ProductGrid page query=query.get_untracked() /> }.into_any(),
                        Err(reason) => view! { <ErrorNotice message=reason class="mt-8" /> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

/// A field of the search form: tall enough to tap on a phone.
const FIELD: &str = "min-h-11 rounded-lg border border-stone-300 bg-white px-3 py-2 text-sm";

/// Search, kind, category and sort as a plain `GET` form: it works before hydration and without JavaScript,
/// and the address it opens is a page anyone can share. A search loads that page anew rather than
/// through the router's `<Form>`, whose code would weigh on every first visit (11 KB gzip).
#[component]
fn SearchForm(query: Memo<ProductQuery>) -> impl IntoView {
    view! {
        <form method="get" action="/" class="flex w-full flex-col gap-2 sm:flex-row sm:flex-wrap lg:w-auto lg:flex-nowrap" role="search">
            <label class="sr-only" for="search">"Search products"</label>
            <input
                id="search"
                name="q"
                type="search"
                placeholder="Search products"
                prop:value=move || query.get().q
                class=format!("{FIELD} w-full sm:w-56")
            />
            <label class="sr-only" for="category">"Category"</label>
            <select id="category" name="category" class=FIELD>
                <option value="" selected=move || query.get().category.is_none()>"All categories"</option>
                {Category::ALL
                    .iter()
                    .map(|&category| {
                        view! {
                            <option value=category.as_str() selected=move || query.get().category == Some(category)>
                                {category.label()}
                            </option>
                        }
                    })
                    .collect_view()}
            </select>
            <label class="sr-only" for="kind">"Kind of product"</label>
            <select id="kind" name="kind" class=FIELD>
                {ProductKind::ALL
                    .iter()
                    .map(|&kind| {
                        view! {
                            <option value=kind.as_str() selected=move || query.get().kind == kind>
                                {kind.label()}
                            </option>
                        }
                    })
                    .collect_view()}
            </select>
            <label class="sr-only" for="sort">"Sort by"</label>
            <select id="sort" name="sort" class=FIELD>
                {Sort::ALL
                    .iter()
                    .map(|&sort| {
                        view! {
                            <option value=sort.as_str() selected=move || query.get().sort == sort>
                                {sort.label()}
                            </option>
                        }
                    })
                    .collect_view()}
            </select>
            <button type="submit" class="min-h-11 rounded-lg bg-emerald-700 px-4 py-2 text-sm font-medium text-white hover:bg-emerald-800">
                "Search"
            </button>
        </form>
    }
}

#[component]
fn ProductGrid(page: ProductPage, query: ProductQuery) -> impl IntoView {
    if page.products.is_empty() {
        let text = if query.q.is_empty() && (query.category.is_some() || query.kind != ProductKind::All) {
            "No products of this kind yet.".to_owned()
        } else if query.q.is_empty() {
            "No products yet. Be the first to sell your data.".to_owned()
        } else {
            format!("No products match \u{201c}{}\u{201d}.", query.q)
        };
        return view! { <p class="mt-8 rounded-xl border border-dashed border-stone-300 p-8 text-center text-stone-500">{text}</p> }
            .into_any();
    }
    let first = page.offset + 1;
    let last = page.offset + page.products.len();
    let previous = (page.offset > 0).then(|| page_href(&query, page.offset.saturating_sub(PAGE_SIZE)));
    let next = (last < page.total).then(|| page_href(&query, last));
    view! {
        <ul class="mt-6 grid gap-5 sm:grid-cols-2 lg:grid-cols-3">
            {page.products.into_iter().map(|card| view! { <ProductCardView card /> }).collect_view()}
        </ul>
        <nav class="mt-6 flex items-center justify-between text-sm text-stone-600" aria-label="Pages">
            <span>{format!("{first}–{last} of {}", page.total)}</span>
            <span class="flex gap-3">
                {previous.map(|href| view! { <a href=href class="inline-flex min-h-11 items-center rounded-lg border border-stone-300 bg-white px-3 hover:bg-stone-100">"Previous"</a> })}
                {next.map(|href| view! { <a href=href class="inline-flex min-h-11 items-center rounded-lg border border-stone-300 bg-white px-3 hover:bg-stone-100">"Next"</a> })}
            </span>
        </nav>
    }
    .into_any()
}
