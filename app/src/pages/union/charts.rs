//! Members and revenue over time, from the union's indexed events (one point per block where
//! something changed, at the block's time), drawn on the server so they read without JavaScript.

use alloy_primitives::Address;
use leptos::prelude::*;

use super::format::{count_axis, data_axis, data_float, utc};
use crate::components::chart::{Drawing, Series, StepChart};
use crate::unions::{HistoryPoint, live, union_history};

#[component]
pub fn UnionCharts(
    union: Address,
    block: ReadSignal<Option<u64>>,
    /// The chain time the page is as of: where the lines end.
    now: Signal<u64>,
) -> impl IntoView {
    let history = Resource::new(move || union, union_history);
    view! {
        <Suspense fallback=|| view! { <p class="text-stone-500">"Loading the charts…"</p> }>
            {move || Suspend::new(async move {
                super::or_alert(history.await, |points| view! { <Charts union points block now /> }.into_any())
            })}
        </Suspense>
    }
}

#[component]
fn Charts(
    union: Address,
    points: Vec<HistoryPoint>,
    block: ReadSignal<Option<u64>>,
    now: Signal<u64>,
) -> impl IntoView {
    let points = live(points, block, move || async move { union_history(union).await.ok() });
    // Memos: the paths are worked out once per change, however often the view is walked.
    let members = Memo::new(move |_| {
        let series = points.with(|points| {
            [
                Series {
                    label: "Ever joined".to_owned(),
                    stroke: "stroke-sky-500",
                    points: points.iter().map(|p| (p.at, p.total_members as f64)).collect(),
                },
                Series {
                    label: "Active".to_owned(),
                    stroke: "stroke-emerald-600",
                    points: points.iter().map(|p| (p.at, p.active_members as f64)).collect(),
                },
            ]
        });
        Drawing::new(&series, now.get(), count_axis, utc)
    });
    let revenue = Memo::new(move |_| {
        let series = points.with(|points| Series {
            label: "Revenue (DATA)".to_owned(),
            stroke: "stroke-amber-500",
            points: points.iter().map(|p| (p.at, data_float(p.revenue))).collect(),
        });
        Drawing::new(&[series], now.get(), data_axis, utc)
    });
    view! {
        <div class="grid gap-4 lg:grid-cols-2">
            {move || view! { <StepChart title="Members".to_owned() drawing=members.get() /> }}
            {move || view! { <StepChart title="Revenue".to_owned() drawing=revenue.get() /> }}
        </div>
    }
}
