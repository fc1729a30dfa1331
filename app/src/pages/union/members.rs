//! The member list: every address that ever joined, parted ones too, with status, join time,
//! earnings and withdrawals; searched by address and filtered by status through the URL (a plain GET
//! form, so it works without JavaScript); the owner can remove active members.

use alloy_primitives::Address;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::format::{data_exact, utc};
use crate::unions::{
    MEMBERS_PAGE, MemberPage, MemberQuery, MemberRow, MemberStatus, RemoveMember, live, union_members,
};

const CELL: &str = "px-3 py-2";

#[component]
pub fn MemberList(union: Address, block: ReadSignal<Option<u64>>, is_owner: Signal<bool>) -> impl IntoView {
    let query_map = use_query_map();
    let query = Memo::new(move |_| {
        query_map.with(|q| MemberQuery {
            search: q.get("search").unwrap_or_default(),
            status: q.get("status").and_then(|status| status.parse().ok()).unwrap_or_default(),
            offset: q.get("offset").and_then(|o| o.parse().ok()).unwrap_or(0),
        })
    });
    let page = Resource::new(move || query.get(), move |query| union_members(union, query));
    view! {
        <section class="rounded-2xl border border-stone-200 bg-white p-4 shadow-sm" aria-labelledby="members-heading">
            <div class="flex flex-wrap items-end justify-between gap-3">
                <h2 id="members-heading" class="text-lg font-semibold">"Members"</h2>
                <SearchForm query />
            </div>
            <Transition fallback=|| view! { <p class="py-4 text-stone-500">"Loading members…"</p> }>
                {move || Suspend::new(async move {
                    super::or_alert(page.await, |initial| {
                        let query = query.get_untracked();
                        view! { <MemberTable union initial query block is_owner /> }.into_any()
                    })
                })}
            </Transition>
        </section>
    }
}

#[component]
fn SearchForm(query: Memo<MemberQuery>) -> impl IntoView {
    let current = query.get_untracked();
    let options = MemberStatus::ALL
        .iter()
        .map(|&status| {
            view! { <option value=status.as_str() selected=current.status == status>{status.label()}</option> }
        })
        .collect_view();
    view! {
        <form method="get" class="flex flex-wrap items-end gap-2" role="search">
            <label class="text-sm">
                <span class="block text-xs text-stone-500">"Address"</span>
                <input
                    name="search"
                    value=current.search
                    placeholder="0x12ab… or any hex digits"
                    class="min-h-11 w-56 rounded-lg border border-stone-300 px-3 py-1.5 font-mono text-sm"
                />
            </label>
            <label class="text-sm">
                <span class="block text-xs text-stone-500">"Status"</span>
                <select name="status" class="min-h-11 rounded-lg border border-stone-300 px-2 py-1.5 text-sm">{options}</select>
            </label>
            <button type="submit" class="min-h-11 rounded-full bg-stone-800 px-4 py-1.5 text-sm font-medium text-white hover:bg-stone-900">
                "Search"
            </button>
        </form>
    }
}

#[component]
fn RemoveButton(union: Address, member: String, remove: ServerAction<RemoveMember>) -> impl IntoView {
    view! {
        <ActionForm action=remove>
            <input type="hidden" name="union" value=union.to_checksum(None) />
            <input type="hidden" name="member" value=member.clone() />
            <button
                type="submit"
                class="rounded-full border border-red-300 px-3 py-1 text-xs text-red-700 hover:bg-red-50"
                aria-label=format!("Remove {member}")
            >
                "Remove"
            </button>
        </ActionForm>
    }
}

fn page_href(query: &MemberQuery, offset: usize) -> String {
    format!("?search={}&status={}&offset={offset}", query.search, query.status)
}

#[component]
fn MemberTable(
    union: Address,
    initial: MemberPage,
    query: MemberQuery,
    block: ReadSignal<Option<u64>>,
    is_owner: Signal<bool>,
) -> impl IntoView {
    let fetch_query = query.clone();
    let page = live(initial, block, move || {
        let query = fetch_query.clone();
        async move { union_members(union, query).await.ok() }
    });
    let remove = ServerAction::<RemoveMember>::new();
    let rows = move || {
        page.get().members.into_iter().map(|member| view! { <Member member union is_owner remove /> }).collect_view()
    };
    let total = Signal::derive(move || page.with(|p| p.total));
    view! {
        <RemovalNote remove />
        // Focusable, so a keyboard can scroll a table wider than a phone.
        <div class="mt-3 overflow-x-auto" tabindex="0" role="region" aria-label="Members">
            <table class="w-full text-left text-sm">
                <thead class="text-xs uppercase tracking-wide text-stone-500">
                    <tr>
                        <th class=CELL>"Address"</th>
                        <th class=CELL>"Status"</th>
                        <th class=CELL>"Joined"</th>
                        <th class=CELL>"Earnings"</th>
                        <th class=CELL>"Withdrawn"</th>
                        <Show when=move || is_owner.get()>
                            <th class=CELL><span class="sr-only">"Actions"</span></th>
                        </Show>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
        <MemberPages query total />
    }
}

/// One member's row. The owner's column holds a remove button for an active member; a parted one
/// has nothing left to remove.
#[component]
fn Member(
    member: MemberRow,
    union: Address,
    is_owner: Signal<bool>,
    remove: ServerAction<RemoveMember>,
) -> impl IntoView {
    let address = member.address.to_checksum(None);
    let removable = member.active;
    let for_owner = address.clone();
    view! {
        <tr class="border-t border-stone-100" data-member=address.clone()>
            <td class=format!("{CELL} font-mono text-xs break-all")>{address.clone()}</td>
            <td class=CELL><StatusBadge active=member.active /></td>
            <td class=format!("{CELL} tabular-nums") title=format!("block {}", member.first_joined_block)>
                {utc(member.first_joined_at)}
            </td>
            <td class=format!("{CELL} tabular-nums")>{data_exact(member.earnings)}</td>
            <td class=format!("{CELL} tabular-nums")>{data_exact(member.withdrawn)}</td>
            <Show when=move || is_owner.get()>
                <td class=CELL>
                    {removable.then(|| view! { <RemoveButton union member=for_owner.clone() remove /> })}
                </td>
            </Show>
        </tr>
    }
}

#[component]
fn StatusBadge(active: bool) -> impl IntoView {
    if active {
        view! { <span class="rounded-full bg-emerald-100 px-2 py-0.5 text-xs text-emerald-800">"active"</span> }
    } else {
        view! { <span class="rounded-full bg-stone-200 px-2 py-0.5 text-xs text-stone-700">"parted"</span> }
    }
}

/// What became of the owner's last removal: the agent removes on chain later, so success is a queue.
#[component]
fn RemovalNote(remove: ServerAction<RemoveMember>) -> impl IntoView {
    move || {
        remove.value().get().map(|answer| match answer {
            Ok(()) => view! {
                <p role="status" class="mt-3 text-sm text-emerald-800">
                    "Removal queued: Coop's agent removes the member on chain shortly. It keeps what it earned and can still withdraw it."
                </p>
            }
            .into_any(),
            failed => super::or_alert(failed, |()| ().into_any()),
        })
    }
}

/// How many members match, and links to the pages before and after (plain links: the query is in
/// the URL, so they work without JavaScript).
#[component]
fn MemberPages(query: MemberQuery, total: Signal<usize>) -> impl IntoView {
    let (previous, next) = (query.offset.checked_sub(MEMBERS_PAGE), query.offset + MEMBERS_PAGE);
    view! {
        <nav class="mt-3 flex items-center justify-between text-sm text-stone-600" aria-label="Member pages">
            <span>{move || match total.get() { 1 => "1 member matches".to_owned(), n => format!("{n} members match") }}</span>
            <span class="flex gap-3">
                {previous.map(|offset| view! { <a class="underline" href=page_href(&query, offset)>"Previous"</a> })}
                {move || (next < total.get()).then(|| view! { <a class="underline" href=page_href(&query, next)>"Next"</a> })}
            </span>
        </nav>
    }
}
