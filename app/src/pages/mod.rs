//! One module per page, and what several pages share.

pub mod app_keys;
pub mod earnings;
pub mod editor;
pub mod home;
pub mod join;
pub mod marketplace;
pub mod not_found;
pub mod product;
pub mod purchases;
pub mod relayed;
pub mod streams;
pub mod union;

use alloy_primitives::Address;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::wallet::use_wallet;

/// Whose figures a personal page (earnings, purchases) shows: `?address=` when given, else the
/// connected wallet, else the signed-in address. The last two are known to the server only when
/// signed in, so such a page is rendered on the server for a link or a session.
pub fn use_viewed_address() -> Memo<Option<Address>> {
    let wallet = use_wallet();
    let query = use_query_map();
    Memo::new(move |_| {
        let asked = query.with(|q| q.get("address")).and_then(|text| coop::text::parse_address(&text).ok());
        asked.or_else(|| wallet.address.get()).or_else(|| wallet.signed_in().map(|who| who.address))
    })
}
