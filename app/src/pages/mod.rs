//! One module per page, and what several pages share.

pub mod app_keys;
pub mod earnings;
pub mod editor;
pub mod grant;
pub mod home;
pub mod join;
pub mod marketplace;
pub mod not_found;
pub mod product;
pub mod purchases;
pub mod relayed;
pub mod sell;
pub mod streams;
pub mod union;
pub mod usd;

use alloy_primitives::Address;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::wallet::use_wallet;

/// Whose figures a personal page (earnings, purchases) shows: `?address=` when given, else the
/// connected wallet, else the signed-in address. The last two are known to the server only when
/// signed in, so such a page is rendered on the server for a link or a session.
///
/// An `?address=` that does not parse gives `None`, not the visitor's own wallet: showing someone
/// else's figures under a mistyped link would mislead. [`use_address_query_problem`] says why.
pub fn use_viewed_address() -> Memo<Option<Address>> {
    let wallet = use_wallet();
    let query = use_query_map();
    Memo::new(move |_| match query.with(|q| q.get("address")) {
        Some(text) => coop::text::parse_address(text.trim()).ok(),
        None => wallet.address.get().or_else(|| wallet.signed_in().map(|who| who.address)),
    })
}

/// Why the page's `?address=` is not an address (a wrong checksum, a wrong length), in the words
/// the API uses; `None` when there is no such parameter or it parses.
pub fn use_address_query_problem() -> Memo<Option<String>> {
    let query = use_query_map();
    Memo::new(move |_| {
        let text = query.with(|q| q.get("address"))?;
        coop::text::parse_address(text.trim()).err().map(|error| format!("This link's address is not valid: {error}"))
    })
}
