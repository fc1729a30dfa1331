//! Where a union came from or went: after `coop migrate`, the new union names the old one and the
//! earnings its members carried over; the old union (when this server indexes it) points to the new
//! one, where its members' unproven earnings and its later revenue went.

use leptos::prelude::*;

use super::format::data_exact;
use crate::unions::UnionStats;

#[component]
pub fn Moved(stats: ReadSignal<UnionStats>) -> impl IntoView {
    let moved_to = move || stats.with(|s| s.moved_to);
    let moved_from = move || stats.with(|s| s.moved_from);
    view! {
        {move || {
            moved_to()
                .map(|to| {
                    let to = to.to_checksum(None);
                    view! {
                        <section class="rounded-2xl border border-amber-300 bg-amber-50 p-4 text-sm" data-moved-to=to.clone()>
                            <h2 class="text-lg font-semibold">"This union has moved"</h2>
                            <p class="mt-1">
                                "Its owner moved it to " <a class="break-all font-mono text-xs underline" href=format!("/unions/{to}")>{to.clone()}</a>
                                ". Earnings members had not proven here were carried there, and what reaches this union from now on is forwarded there. What you proved here and have not withdrawn stays yours to withdraw here."
                            </p>
                        </section>
                    }
                })
        }}
        {move || {
            moved_from()
                .map(|from| {
                    let (old, marker) = (from.union.to_checksum(None), from.union.to_checksum(None));
                    let carry = if from.closed {
                        format!("{} of earnings carried over from its book.", data_exact(from.carried))
                    } else {
                        format!(
                            "{} of earnings carried over so far; {} received and waiting to be carried.",
                            data_exact(from.carried),
                            data_exact(from.awaiting_carry),
                        )
                    };
                    view! {
                        <section class="rounded-2xl border border-stone-200 bg-white p-4 text-sm shadow-sm" data-moved-from=marker>
                            <h2 class="text-lg font-semibold">"Moved from an earlier union"</h2>
                            <p class="mt-1">
                                "This union took over from " <span class="break-all font-mono text-xs">{old}</span> ": " {carry}
                                " Members withdraw what they earned there and here with one proof."
                            </p>
                        </section>
                    }
                })
        }}
    }
}
