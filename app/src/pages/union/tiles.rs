//! The dashboard's stat tiles: revenue, members, admin fee, subscribers, revenue per member.

use leptos::prelude::*;

use super::format::{data_exact, data_short};
use crate::unions::UnionStats;

#[component]
fn Tile(label: &'static str, value: Signal<String>, #[prop(optional)] detail: Option<Signal<String>>) -> impl IntoView {
    view! {
        <div class="rounded-2xl border border-stone-200 bg-white p-4 shadow-sm">
            <dt class="text-xs font-medium uppercase tracking-wide text-stone-500">{label}</dt>
            <dd class="mt-1 text-2xl font-semibold tabular-nums" data-tile=label>{value}</dd>
            {detail.map(|detail| view! { <dd class="mt-1 text-xs text-stone-500">{detail}</dd> })}
        </div>
    }
}

#[component]
pub fn StatTiles(stats: ReadSignal<UnionStats>) -> impl IntoView {
    let with = move |f: fn(&UnionStats) -> String| Signal::derive(move || stats.with(f));
    view! {
        <dl class="grid grid-cols-2 gap-3 md:grid-cols-3 lg:grid-cols-6" aria-label="Figures">
            <Tile
                label="Total revenue"
                value=with(|s| data_short(s.total_revenue))
                detail=with(|s| format!("Exactly {}", data_exact(s.total_revenue)))
            />
            <Tile
                label="Active members"
                value=with(|s| s.active_members.to_string())
                detail=with(|s| format!("{} parted", s.total_members - s.active_members))
            />
            <Tile
                label="Members ever"
                value=with(|s| s.total_members.to_string())
                detail=with(|_| "joined at least once".to_owned())
            />
            <Tile
                label="Admin fee"
                value=with(|s| format!("{} %", s.admin_fee_percent))
                detail=with(|s| format!("{} earned", data_short(s.admin_fees)))
            />
            <Tile
                label="Active subscribers"
                value=with(|s| s.active_subscribers.to_string())
                detail=with(|_| "each counted once".to_owned())
            />
            <Tile
                label="Per member per month"
                value=with(|s| data_short(s.revenue_per_member_month))
                detail=with(|_| "members' shares, 30-day months".to_owned())
            />
        </dl>
    }
}
