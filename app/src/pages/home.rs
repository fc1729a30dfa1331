//! The marketplace home: what Coop is, the products on sale, and how each kind of user takes part.

use leptos::prelude::*;

use crate::pages::marketplace::Marketplace;

/// The three roles the home page explains, one tab each.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    Seller,
    Member,
    Buyer,
}

impl Role {
    const ALL: [Role; 3] = [Role::Seller, Role::Member, Role::Buyer];

    fn label(self) -> &'static str {
        match self {
            Role::Seller => "Sellers",
            Role::Member => "Members",
            Role::Buyer => "Buyers",
        }
    }

    fn steps(self) -> [&'static str; 3] {
        match self {
            Role::Seller => [
                "Connect a wallet and describe your data product: name, cover, category, price in DATA.",
                "Choose a Data Union to pool data from many people; Coop deploys its contract for you.",
                "Share a join link. Every purchase is split among the members automatically.",
            ],
            Role::Member => [
                "Join a Data Union with its link, or ask the owner to let you in.",
                "Watch your earnings grow with each purchase, down to the last wei.",
                "Withdraw on chain at any time with a Merkle proof, even after you leave.",
            ],
            Role::Buyer => [
                "Find a product by name or category and pick a subscription period.",
                "Pay with ETH, DAI or DATA: Coop routes the payment through Uniswap.",
                "Your subscription and its end date appear under your purchases.",
            ],
        }
    }
}

#[component]
pub fn HomePage() -> impl IntoView {
    let (role, set_role) = signal(Role::Seller);
    view! {
        <section class="bg-gradient-to-b from-emerald-50 to-stone-50">
            <div class="mx-auto max-w-6xl px-4 py-10 sm:py-14">
                <h1 class="max-w-3xl text-4xl font-bold tracking-tight sm:text-5xl">
                    "Sell your data together."
                </h1>
                <p class="mt-5 max-w-2xl text-lg text-stone-600">
                    "Coop is a data marketplace where communities pool their data in Data Unions. "
                    "Buyers pay in ETH, DAI or DATA; every member's share is computed exactly and "
                    "committed on chain, so each member can withdraw with a proof."
                </p>
            </div>
        </section>

        <Marketplace />

        <section class="mx-auto max-w-6xl px-4 py-12" aria-labelledby="how-it-works">
            <h2 id="how-it-works" class="text-2xl font-semibold">"How it works"</h2>
            <div role="tablist" aria-label="Who you are" class="mt-6 inline-flex rounded-lg bg-stone-200 p-1">
                {Role::ALL
                    .into_iter()
                    .map(|tab| {
                        view! {
                            <button
                                role="tab"
                                aria-selected=move || (role.get() == tab).to_string()
                                class=move || {
                                    if role.get() == tab {
                                        "min-h-11 rounded-md bg-white px-4 py-2 text-sm font-medium shadow"
                                    } else {
                                        "min-h-11 rounded-md px-4 py-2 text-sm text-stone-600 hover:text-stone-900"
                                    }
                                }
                                on:click=move |_| set_role.set(tab)
                            >
                                {tab.label()}
                            </button>
                        }
                    })
                    .collect_view()}
            </div>
            <div role="tabpanel">
            <ol class="mt-6 grid gap-4 sm:grid-cols-3">
                {move || {
                    role.get()
                        .steps()
                        .into_iter()
                        .enumerate()
                        .map(|(index, step)| {
                            view! {
                                <li class="rounded-xl border border-stone-200 bg-white p-5 shadow-sm">
                                    <span class="text-sm font-semibold text-emerald-700">{index + 1}</span>
                                    <p class="mt-2 text-stone-700">{step}</p>
                                </li>
                            }
                        })
                        .collect_view()
                }}
            </ol>
            </div>
        </section>
    }
}
