//! The product editor: `/products/new` (a new product, or `?draft=<id>` to go on with a saved draft)
//! and `/products/{id}/edit` (a published product). A data product or a Data Union; name,
//! description, cover, category, price per period with its exact price per second, minimum period,
//! beneficiary; drafts saved on the server for the signed-in seller; publishing and the rest through
//! the wallet.

mod chain;
mod cover;
mod fetch;
mod form;
mod progress;
mod publish;
mod state;
mod streams;
mod terms;
mod union;
mod unsaved;

use alloy_primitives::{B256, U256};
use coop::amount::{DATA_DECIMALS, Period, entered_price, format_units};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use self::cover::CoverField;
use self::form::{CategoryField, DescriptionField, KindChooser, PriceFields, TextField};
use self::publish::{Listing, PublishPanel};
use self::state::EditorState;
use self::streams::DraftStreams;
use self::terms::TermsFields;
use self::union::UnionPanel;
use crate::market::{ProductCard, ProductState, get_product};
use crate::pages::streams::ProductStreams;
use crate::products::{Draft, DraftField, DraftKind, draft_of_product, load_draft, my_drafts};
use crate::wallet::use_wallet;

/// `/products/new`
#[component]
pub fn NewProductPage() -> impl IntoView {
    let query = use_query_map();
    let state = EditorState::new(Draft::default());
    let listing = RwSignal::new(Listing::Unpublished);
    // A saved draft named in the address is loaded once the page runs (drafts are private: the
    // browser asks with its session).
    Effect::new(move |_| {
        let Some(id) = query.with_untracked(|query| query.get("draft")) else { return };
        leptos::task::spawn_local(async move {
            if let Ok(draft) = load_draft(id).await {
                if !draft.product_id.is_empty() {
                    listing.set(Listing::Listed);
                }
                state.load(draft);
            }
        });
    });
    view! {
        <Title text="Sell a data product · Coop" />
        <Editor state listing heading="Sell a data product" />
    }
}

/// `/products/{id}/edit`: the product as the chain has it, with the seller's saved draft if any.
#[component]
pub fn EditProductPage() -> impl IntoView {
    let params = use_params_map();
    let state = EditorState::new(Draft::default());
    let listing = RwSignal::new(Listing::Listed);
    let owner = RwSignal::new(None::<alloy_primitives::Address>);
    Effect::new(move |_| {
        let id = params.with_untracked(|params| params.get("id").unwrap_or_default());
        leptos::task::spawn_local(async move {
            let Ok(product) = id.parse() else { return };
            let Ok(Some(detail)) = get_product(product).await else { return };
            owner.set(Some(detail.product.owner));
            listing.set(if detail.product.state == ProductState::Deployed {
                Listing::Listed
            } else {
                Listing::Unlisted
            });
            let saved = draft_of_product(id).await.ok().flatten();
            state.load(saved.unwrap_or_else(|| draft_from_chain(&detail.product)));
        });
    });
    let wallet = use_wallet();
    let not_owner = move || match (owner.get(), wallet.address.get()) {
        (Some(owner), Some(me)) if owner != me => Some(view! {
            <p class="mx-auto mt-6 max-w-3xl rounded-lg bg-amber-100 px-4 py-2 text-sm text-amber-900" role="alert">
                {format!("Only the product's owner {} can change it; your wallet is another account.", owner.to_checksum(None))}
            </p>
        }),
        _ => None,
    };
    view! {
        <Title text="Edit a product · Coop" />
        {not_owner}
        <Editor state listing heading="Edit your product" opened_listed=true />
    }
}

/// A draft from a product that has none saved: its terms from the chain, the rest from its metadata.
fn draft_from_chain(product: &ProductCard) -> Draft {
    let days = product.minimum_subscription_seconds / U256::from(Period::Day.seconds());
    Draft {
        kind: if product.data_union { DraftKind::Union } else { DraftKind::Data }.to_string(),
        name: product.name.clone(),
        description: product.description.clone(),
        category: product.category.map(|category| category.to_string()).unwrap_or_default(),
        cover: product.cover.clone(),
        licence: product.licence.map(|licence| licence.to_string()).unwrap_or_default(),
        terms: product.terms.clone(),
        contact: product.contact.clone(),
        // The price as the seller typed it (20, not 19.9999999999999584): saving it again gives the
        // same price per second.
        price: format_units(entered_price(product.price_per_second, Period::Day), DATA_DECIMALS),
        period: "day".to_owned(),
        minimum_days: days.to_string(),
        beneficiary: product.beneficiary.to_checksum(None),
        union_address: if product.data_union { product.beneficiary.to_checksum(None) } else { String::new() },
        product_id: product.id.to_string(),
        ..Draft::default()
    }
}

#[component]
fn Editor(
    state: EditorState,
    listing: RwSignal<Listing>,
    heading: &'static str,
    /// Whether the page opened a product the chain lists (not a draft).
    #[prop(optional)]
    opened_listed: bool,
) -> impl IntoView {
    let wallet = use_wallet();
    // The beneficiary follows the connected account until the seller types another one.
    Effect::new(move |_| {
        if let Some(address) = wallet.address.get() {
            let fill = state.draft.with_untracked(|draft| draft.beneficiary.is_empty());
            if fill {
                state.update(|draft| draft.beneficiary = address.to_checksum(None));
                state.saved.update(|saved| saved.beneficiary = address.to_checksum(None));
            }
        }
    });
    unsaved::warn_before_leaving(Signal::derive(move || state.is_dirty()));
    let published = Signal::derive(move || listing.get() != Listing::Unpublished);
    let is_union = move || state.draft.with(Draft::is_union);
    // The published product, whose streams are its own from then on (see `streams`).
    let product = Memo::new(move |_| state.draft.with(|draft| draft.product_id.parse::<B256>().ok()));
    let draft_streams = move || product.get().is_none() || state.draft.with(|draft| !draft.streams.is_empty());
    // A listed product's streams, edited as on its page; one published just now is listed once the
    // server has read its block, so its page takes them from there.
    let product_streams = move || {
        let product = product.get()?;
        let owner = wallet.address.get()?;
        Some(if opened_listed {
            view! { <ProductStreams product owner /> }.into_any()
        } else {
            view! {
                <p class="mt-6 text-sm text-stone-600" data-testid="streams-moved">
                    "Its streams are the product's now: add, change or remove them on "
                    <a class="text-emerald-700 underline" href=format!("/products/{product}")>"its page"</a> "."
                </p>
            }
            .into_any()
        })
    };
    view! {
        <section class="mx-auto grid max-w-6xl gap-8 px-4 py-10 lg:grid-cols-[1fr_18rem]">
            <div>
                <h1 class="text-3xl font-bold tracking-tight">{heading}</h1>
                <p class="mt-2 text-stone-600">"Buyers subscribe by the second; you set the price for the period you think in."</p>
                <form class="mt-8 grid gap-5 rounded-2xl border border-stone-200 bg-white p-6 shadow-sm" on:submit=move |event| event.prevent_default()>
                    <KindChooser state locked=published />
                    <TextField state field=DraftField::Name label="Name" hint="what buyers see on the marketplace"
                        get=|draft| draft.name.clone() set=|draft, value| draft.name = value />
                    <DescriptionField state />
                    <div class="grid gap-5 sm:grid-cols-2">
                        <CategoryField state />
                        <TextField state field=DraftField::Minimum label="Minimum subscription in days" hint="0 for none"
                            get=|draft| draft.minimum_days.clone() set=|draft, value| draft.minimum_days = value />
                    </div>
                    <PriceFields state />
                    <CoverField state />
                    <TermsFields state />
                    <Show when=move || !is_union()>
                        <TextField state field=DraftField::Beneficiary label="Payments go to" hint="your connected address unless you change it"
                            get=|draft| draft.beneficiary.clone() set=|draft, value| draft.beneficiary = value />
                    </Show>
                    <Show when=is_union>
                        <UnionPanel state />
                    </Show>
                    <Show when=draft_streams>
                        <DraftStreams state />
                    </Show>
                    <PublishPanel state listing />
                </form>
                {product_streams}
            </div>
            <DraftList state />
        </section>
    }
    .into_any()
}

/// The signed-in seller's drafts, to go on with one.
#[component]
fn DraftList(state: EditorState) -> impl IntoView {
    let wallet = use_wallet();
    // Asked again after each save, so the list shows the draft being edited.
    let drafts = LocalResource::new(move || {
        let signed_in = wallet.signed_in().is_some();
        state.saved.with(|saved| saved.updated_at);
        async move { if signed_in { my_drafts().await.ok() } else { None } }
    });
    view! {
        <aside class="h-fit rounded-2xl border border-stone-200 bg-white p-5 text-sm shadow-sm" aria-labelledby="drafts-heading">
            <h2 id="drafts-heading" class="font-semibold">"Your drafts"</h2>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    let Some(drafts) = drafts.await else {
                        return view! { <p class="mt-2 text-stone-500">"Sign in to see your saved drafts."</p> }.into_any();
                    };
                    if drafts.is_empty() {
                        return view! { <p class="mt-2 text-stone-500">"No drafts yet: “Save draft” keeps one here."</p> }.into_any();
                    }
                    view! {
                        <ul class="mt-2 grid gap-1">
                            {drafts.into_iter().map(|draft| {
                                let label = if draft.name.trim().is_empty() { "Untitled".to_owned() } else { draft.name.clone() };
                                let href = if draft.product_id.is_empty() { format!("/products/new?draft={}", draft.id) } else { format!("/products/{}/edit", draft.product_id) };
                                view! { <li><a class="text-emerald-700 hover:underline" href=href rel="external">{label}</a></li> }
                            }).collect_view()}
                        </ul>
                    }.into_any()
                })}
            </Suspense>
            <a href="/products/new" rel="external" class="mt-4 inline-block text-stone-600 underline">"Start a new product"</a>
        </aside>
    }
}
