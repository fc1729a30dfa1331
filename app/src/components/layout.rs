//! The frame of every page: header with navigation, and footer.
//!
//! On a phone the links fold into a menu beside the wallet, so nothing runs off the screen. The
//! menu is a `<details>`, so it opens without JavaScript too; with it, the menu closes when a link
//! in it has been clicked.

use leptos::prelude::*;

use crate::components::sent::SentTransactions;
use crate::components::wallet::WalletMenu;

/// Where the header leads, in its order.
const LINKS: [(&str, &str); 4] =
    [("/", "Marketplace"), ("/sell", "Sell"), ("/earnings", "Earnings"), ("/purchases", "Purchases")];

#[component]
pub fn Header() -> impl IntoView {
    view! {
        <header class="border-b border-stone-200 bg-white/80 backdrop-blur">
            <nav class="mx-auto flex max-w-6xl items-center justify-between gap-2 px-3 py-2 sm:px-4" aria-label="Main">
                <a href="/" class="flex min-h-11 shrink-0 items-center gap-2 text-lg font-semibold tracking-tight">
                    <img src="/favicon.svg" alt="" class="h-7 w-7" />
                    "Coop"
                </a>
                <div class="flex min-w-0 items-center gap-2 text-sm text-stone-600 md:gap-5">
                    <div class="hidden items-center gap-5 md:flex">
                        {LINKS.map(|(href, label)| view! {
                            <a href=href class="flex min-h-11 items-center hover:text-stone-900">{label}</a>
                        })}
                    </div>
                    <WalletMenu />
                    <PhoneMenu />
                </div>
            </nav>
            <SentTransactions />
        </header>
    }
}

/// The links as a menu, on screens too narrow to show them in a row.
#[component]
fn PhoneMenu() -> impl IntoView {
    let menu = NodeRef::<leptos::html::Details>::new();
    // A link followed inside the page leaves the header in place: close the menu behind it.
    let close = move |_| {
        if let Some(menu) = menu.get_untracked() {
            menu.set_open(false);
        }
    };
    view! {
        <details class="relative md:hidden" node_ref=menu data-phone-menu>
            <summary
                class="flex h-11 w-11 cursor-pointer list-none items-center justify-center rounded-full border border-stone-300 bg-white text-stone-800 hover:bg-stone-100 [&::-webkit-details-marker]:hidden"
                aria-label="Menu"
            >
                <svg viewBox="0 0 20 20" class="h-5 w-5" aria-hidden="true">
                    <path d="M3 5h14M3 10h14M3 15h14" stroke="currentColor" stroke-width="2" stroke-linecap="round" />
                </svg>
            </summary>
            <ul class="absolute right-0 top-full z-30 mt-2 w-56 rounded-2xl border border-stone-200 bg-white p-2 shadow-xl" on:click=close>
                {LINKS.map(|(href, label)| view! {
                    <li>
                        <a href=href class="flex min-h-11 items-center rounded-lg px-3 text-base text-stone-800 hover:bg-stone-100">
                            {label}
                        </a>
                    </li>
                })}
            </ul>
        </details>
    }
}

#[component]
pub fn Footer() -> impl IntoView {
    view! {
        <footer class="border-t border-stone-200 py-6 text-center text-xs text-stone-500">
            "Coop: data products and Data Unions, settled on Ethereum."
        </footer>
    }
}
