//! The frame of every page: header with navigation, and footer.

use leptos::prelude::*;

use crate::components::wallet::WalletMenu;

#[component]
pub fn Header() -> impl IntoView {
    view! {
        <header class="border-b border-stone-200 bg-white/80 backdrop-blur">
            <nav class="mx-auto flex max-w-6xl items-center justify-between px-4 py-3" aria-label="Main">
                <a href="/" class="flex items-center gap-2 text-lg font-semibold tracking-tight">
                    <img src="/favicon.svg" alt="" class="h-7 w-7" />
                    "Coop"
                </a>
                <div class="flex items-center gap-5 text-sm text-stone-600">
                    <a href="/" class="hover:text-stone-900">"Marketplace"</a>
                    <a href="/products/new" class="hover:text-stone-900">"Sell"</a>
                    <a href="/earnings" class="hover:text-stone-900">"Earnings"</a>
                    <a href="/purchases" class="hover:text-stone-900">"Purchases"</a>
                    <WalletMenu />
                </div>
            </nav>
        </header>
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
