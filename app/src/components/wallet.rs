//! The header's wallet corner: connect (choosing among several wallets), switch to Coop's network,
//! sign in, and the account menu with sign out and disconnect. Problems show in plain words below it.
//!
//! Rendered on the server with the session's signed-in address, so a signed-in visitor sees it at
//! once, and signing out works as a plain form post without JavaScript.

use leptos::prelude::*;
use leptos::wasm_bindgen::JsCast;
use leptos::web_sys;

use crate::wallet::session::SIGN_OUT_PATH;
use crate::wallet::{SignInState, SignedInAs, WalletInfo, WalletStatus, short_address, use_wallet};

const BUTTON: &str = "inline-flex min-h-11 items-center gap-2 rounded-full px-4 py-2 text-sm font-medium shadow-sm \
                      transition focus:outline-none focus-visible:ring-2 focus-visible:ring-emerald-500 \
                      disabled:cursor-not-allowed disabled:opacity-60";
const PRIMARY: &str = "bg-emerald-700 text-white hover:bg-emerald-800";
const SECONDARY: &str = "border border-stone-300 bg-white text-stone-800 hover:bg-stone-100";
const MENU_ITEM: &str =
    "block min-h-11 w-full rounded-lg px-3 py-2 text-left text-sm text-stone-700 hover:bg-stone-100";

#[component]
pub fn WalletMenu() -> impl IntoView {
    let wallet = use_wallet();
    view! {
        <div class="relative flex items-center gap-2">
            <NetworkWarning />
            {move || match wallet.signed_in() {
                Some(who) => view! { <AccountMenu who /> }.into_any(),
                None => view! { <ConnectOrSignIn /> }.into_any(),
            }}
            <WalletNotice />
        </div>
    }
}

/// A panel that opens under the wallet corner: as wide as it needs on a desktop, never wider than
/// the room a phone leaves left of the corner (the menu button sits to its right).
const POPOVER: &str = "absolute right-0 top-full mt-2 max-w-[calc(100vw-5rem)] rounded-2xl border shadow-xl";

/// "Switch to ..." when the connected wallet is on another chain.
#[component]
fn NetworkWarning() -> impl IntoView {
    let wallet = use_wallet();
    let wrong = move || wallet.is_connected() && !wallet.is_right_chain();
    view! {
        <Show when=wrong>
            <button
                type="button"
                class=format!("{BUTTON} bg-amber-700 text-white hover:bg-amber-800")
                title="Your wallet is on another network"
                aria-label=move || format!("Switch to {}", wallet.chain_name())
                disabled=move || wallet.switching.get()
                on:click=move |_| wallet.switch_chain()
            >
                <span class="h-2 w-2 rounded-full bg-white" aria-hidden="true"></span>
                {move || {
                    if wallet.switching.get() {
                        view! { <span>"Switching…"</span> }.into_any()
                    } else {
                        view! {
                            <span class="sm:hidden">"Wrong network"</span>
                            <span class="hidden sm:inline">{format!("Switch to {}", wallet.chain_name())}</span>
                        }
                            .into_any()
                    }
                }}
            </button>
        </Show>
    }
}

/// Connect, or (connected) the address and "Sign in".
#[component]
fn ConnectOrSignIn() -> impl IntoView {
    let wallet = use_wallet();
    move || match (wallet.status.get(), wallet.address.get()) {
        (WalletStatus::Connected, Some(address)) => {
            let signing = move || wallet.sign_in.get() == SignInState::SigningIn;
            view! {
                <span class="hidden font-mono text-sm text-stone-600 sm:inline" title=address.to_checksum(None)>
                    {short_address(&address)}
                </span>
                <button
                    type="button"
                    class=format!("{BUTTON} {PRIMARY}")
                    disabled=move || signing() || !wallet.is_right_chain()
                    on:click=move |_| wallet.sign_in()
                >
                    {move || if signing() { "Check your wallet…" } else { "Sign in" }}
                </button>
            }
            .into_any()
        }
        (WalletStatus::Connecting | WalletStatus::Reconnecting, _) => view! {
            <button type="button" class=format!("{BUTTON} {SECONDARY}") disabled=true>
                "Connecting…"
            </button>
        }
        .into_any(),
        _ => view! { <ConnectButton /> }.into_any(),
    }
}

/// "Connect wallet"; with several wallets in the browser, a list to choose from.
#[component]
fn ConnectButton() -> impl IntoView {
    let wallet = use_wallet();
    let choosing = RwSignal::new(false);
    let button = NodeRef::<leptos::html::Button>::new();
    // Closing without a choice gives the focus back to where the keyboard user was.
    let cancel = move || {
        choosing.set(false);
        if let Some(button) = button.get_untracked() {
            let _ = button.focus();
        }
    };
    let on_click = move |_| wallet.connect_or_choose(choosing);
    view! {
        <button
            type="button"
            class=format!("{BUTTON} {PRIMARY}")
            aria-haspopup="dialog"
            aria-expanded=move || choosing.get().to_string()
            node_ref=button
            on:click=on_click
        >
            "Connect wallet"
        </button>
        <Show when=move || choosing.get()>
            <WalletChooser on_choose=move |rdns| {
                choosing.set(false);
                wallet.connect(Some(rdns));
            } on_cancel=cancel />
        </Show>
    }
}

#[component]
fn WalletChooser(
    on_choose: impl Fn(String) + Copy + Send + Sync + 'static,
    on_cancel: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let wallet = use_wallet();
    let dialog = NodeRef::<leptos::html::Div>::new();
    // Opening moves the focus into the chooser, so a keyboard user lands on the first wallet.
    Effect::new(move |_| {
        if let Some(first) = dialog.get().and_then(|dialog| focusable(&dialog).into_iter().next()) {
            let _ = first.focus();
        }
    });
    view! {
        <div
            role="dialog"
            aria-label="Choose a wallet"
            aria-modal="true"
            class=format!("{POPOVER} z-20 w-72 border-stone-200 bg-white p-2")
            node_ref=dialog
            on:keydown=move |event| keep_focus_inside(&event, dialog, on_cancel)
        >
            <p class="px-3 pb-2 pt-1 text-xs font-medium uppercase tracking-wide text-stone-500">"Choose a wallet"</p>
            <ul>
                <For each=move || wallet.wallets.get() key=|info: &WalletInfo| info.uuid.clone() let:info>
                    <li>
                        <button
                            type="button"
                            class=format!("{MENU_ITEM} flex items-center gap-3")
                            on:click={
                                let rdns = info.rdns.clone();
                                move |_| on_choose(rdns.clone())
                            }
                        >
                            <WalletIcon info=info.clone() />
                            <span class="font-medium">{info.name.clone()}</span>
                        </button>
                    </li>
                </For>
            </ul>
            <button type="button" class=format!("{MENU_ITEM} text-stone-500") on:click=move |_| on_cancel()>
                "Cancel"
            </button>
        </div>
    }
}

/// A modal chooser holds the keyboard: Tab and Shift+Tab go round its buttons, Escape cancels.
fn keep_focus_inside(event: &leptos::ev::KeyboardEvent, dialog: NodeRef<leptos::html::Div>, on_cancel: impl Fn()) {
    match event.key().as_str() {
        "Escape" => {
            event.prevent_default();
            on_cancel();
        }
        "Tab" => {
            let Some(dialog) = dialog.get_untracked() else { return };
            let buttons = focusable(&dialog);
            let (Some(first), Some(last)) = (buttons.first(), buttons.last()) else { return };
            let active = document().active_element();
            let at = |button: &web_sys::HtmlElement| active.as_ref().is_some_and(|active| active == &**button);
            let wrap_to = if event.shift_key() { at(first).then_some(last) } else { at(last).then_some(first) };
            if let Some(target) = wrap_to {
                event.prevent_default();
                let _ = target.focus();
            }
        }
        _ => {}
    }
}

/// The chooser's buttons, in document order.
fn focusable(dialog: &web_sys::HtmlDivElement) -> Vec<web_sys::HtmlElement> {
    let buttons = dialog.get_elements_by_tag_name("button");
    (0..buttons.length()).filter_map(|i| buttons.item(i)?.dyn_into().ok()).collect()
}

#[component]
fn WalletIcon(info: WalletInfo) -> impl IntoView {
    if info.icon.is_empty() {
        view! { <span class="h-7 w-7 rounded-lg bg-stone-200" aria-hidden="true"></span> }.into_any()
    } else {
        view! { <img src=info.icon alt="" class="h-7 w-7 rounded-lg" /> }.into_any()
    }
}

/// The signed-in account: a `<details>` menu, so it opens without JavaScript too.
#[component]
fn AccountMenu(who: SignedInAs) -> impl IntoView {
    let wallet = use_wallet();
    let short = short_address(&who.address);
    let full = who.address.to_checksum(None);
    view! {
        <details class="group relative">
            <summary
                class=format!("{BUTTON} {SECONDARY} cursor-pointer list-none [&::-webkit-details-marker]:hidden")
                aria-label=format!("Account {short}, signed in")
            >
                <span class="h-2 w-2 rounded-full bg-emerald-500" aria-hidden="true"></span>
                <span class="font-mono">{short.clone()}</span>
                <span class="hidden text-xs text-emerald-700 sm:inline">"Signed in"</span>
            </summary>
            <div class=format!("{POPOVER} z-20 w-72 border-stone-200 bg-white p-2")>
                <p class="px-3 pt-1 text-xs font-medium uppercase tracking-wide text-stone-500">"Signed in as"</p>
                <p class="break-all px-3 pb-2 font-mono text-xs text-stone-700">{full}</p>
                <Show when=move || wallet.current.get().is_some()>
                    <p class="px-3 pb-2 text-xs text-stone-500">
                        {move || wallet.current.get().map(|info| format!("Wallet: {}", info.name))}
                    </p>
                </Show>
                <form
                    method="post"
                    action=SIGN_OUT_PATH
                    on:submit=move |event| {
                        event.prevent_default();
                        wallet.sign_out();
                    }
                >
                    <button type="submit" class=MENU_ITEM>"Sign out"</button>
                </form>
                <Show when=move || wallet.is_connected()>
                    <button type="button" class=MENU_ITEM on:click=move |_| wallet.disconnect()>
                        "Disconnect wallet"
                    </button>
                </Show>
            </div>
        </details>
    }
}

/// The last problem, in plain words, with a way to dismiss it.
#[component]
fn WalletNotice() -> impl IntoView {
    let wallet = use_wallet();
    move || {
        wallet.error.get().map(|error| {
            let tone = if error.is_rejection() {
                "border-stone-200 bg-white text-stone-700"
            } else {
                "border-red-200 bg-red-50 text-red-800"
            };
            view! {
                <div
                    role="alert"
                    class=format!("{POPOVER} z-30 flex w-80 items-start gap-3 p-3 text-sm {tone}")
                >
                    <p class="flex-1">{error.to_string()}</p>
                    <button
                        type="button"
                        class="rounded-full px-2 text-stone-500 hover:bg-stone-100"
                        aria-label="Dismiss"
                        on:click=move |_| wallet.error.set(None)
                    >
                        "×"
                    </button>
                </div>
            }
        })
    }
}
