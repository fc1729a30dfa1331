//! What a click in the wallet corner starts, and the restoring of a returning visitor's wallet, each
//! loaded from a chunk of its own on first use in a split bundle (see `crate::routes`): a first-time
//! visitor who only browses never downloads the code that connects, switches chains or signs in.

use leptos::prelude::*;

use super::{Wallet, connection, discovery, sent, session};

/// A returning visitor's page: reconnect the remembered wallet, follow remembered transactions.
#[leptos::lazy]
pub async fn start(wallet: Wallet) {
    connection::start(wallet);
    sent::watch(wallet);
}

#[leptos::lazy]
pub async fn connect(wallet: Wallet, rdns: Option<String>) {
    connection::start(wallet);
    connection::connect(wallet, rdns).await;
}

/// Discovery starts here on a first visit: installed wallets announce themselves at once when asked.
#[leptos::lazy]
pub async fn connect_or_choose(wallet: Wallet, choosing: RwSignal<bool>) {
    connection::start(wallet);
    if discovery::list().len() > 1 {
        choosing.update(|open| *open = !*open);
    } else {
        connection::connect(wallet, None).await;
    }
}

#[leptos::lazy]
pub async fn disconnect(wallet: Wallet) {
    connection::disconnect(wallet).await;
}

#[leptos::lazy]
pub async fn switch_chain(wallet: Wallet) {
    let _ = connection::switch_chain(wallet).await;
}

#[leptos::lazy]
pub async fn sign_in(wallet: Wallet) {
    session::sign_in(wallet).await;
}

#[leptos::lazy]
pub async fn sign_out(wallet: Wallet) {
    session::sign_out(wallet).await;
}
