//! Who contributes: the messages the union's members published to its products' streams, day by day
//! over the last weeks, and the members who sent the most.

use alloy_primitives::Address;
use leptos::prelude::*;

use super::format::count_axis;
use crate::components::chart::{Drawing, Series, StepChart};
use crate::unions::{Contributions, live, union_contributions};

const CELL: &str = "px-3 py-2";

#[component]
pub fn UnionContributions(union: Address, block: ReadSignal<Option<u64>>) -> impl IntoView {
    let found = Resource::new(move || union, union_contributions);
    view! {
        <section class="rounded-2xl border border-stone-200 bg-white p-4 shadow-sm" aria-labelledby="contributions-heading">
            <h2 id="contributions-heading" class="text-lg font-semibold">"Who contributes"</h2>
            <Suspense fallback=|| view! { <p class="py-4 text-stone-500">"Loading contributions…"</p> }>
                {move || Suspend::new(async move {
                    super::or_alert(found.await, |initial| view! { <Tally union initial block /> }.into_any())
                })}
            </Suspense>
        </section>
    }
}

/// The messages of each day from the first to today, a day without any at zero.
fn per_day(found: &Contributions) -> Series {
    let mut points: Vec<(u64, f64)> = (found.first_day..=found.today).map(|day| (day, 0.0)).collect();
    for &(day, messages, _) in &found.days {
        if let Some(point) = day.checked_sub(found.first_day).and_then(|at| points.get_mut(at as usize)) {
            point.1 = messages as f64;
        }
    }
    Series { label: "Messages a day".to_owned(), stroke: "stroke-violet-600", points }
}

/// A day since the epoch as its date.
fn day_label(day: u64) -> String {
    super::format::utc(day * 86_400).chars().take(10).collect()
}

#[component]
fn Tally(union: Address, initial: Contributions, block: ReadSignal<Option<u64>>) -> impl IntoView {
    let found = live(initial, block, move || async move { union_contributions(union).await.ok() });
    let drawing =
        Memo::new(move |_| found.with(|found| Drawing::new(&[per_day(found)], found.today + 1, count_axis, day_label)));
    let total = move || found.with(|found| found.days.iter().map(|(_, messages, _)| messages).sum::<u64>());
    let rows = move || {
        let total = total().max(1);
        found.with(|found| {
            found
                .top
                .iter()
                .map(|(publisher, messages)| {
                    let share = (*messages as f64) * 100.0 / total as f64;
                    view! {
                        <tr class="border-t border-stone-100">
                            <td class=format!("{CELL} font-mono text-xs")>{publisher.to_checksum(None)}</td>
                            <td class=format!("{CELL} text-right tabular-nums")>{*messages}</td>
                            <td class=format!("{CELL} text-right tabular-nums")>{format!("{share:.1} %")}</td>
                        </tr>
                    }
                })
                .collect_view()
        })
    };
    view! {
        <p class="mt-1 text-sm text-stone-600">
            {move || format!("{} messages over the last {} days", total(), found.with(|f| f.today - f.first_day + 1))}
            " to the streams of the products paying this union, counted as they are stored."
        </p>
        <Show
            when=move || found.with(|found| !found.top.is_empty())
            fallback=|| view! { <p class="mt-3 text-sm text-stone-500">"No messages yet. Members publish through their apps with an app key from their earnings page."</p> }
        >
            <div class="mt-3 grid items-start gap-4 lg:grid-cols-2">
                {move || view! { <StepChart title="Contributions".to_owned() drawing=drawing.get() /> }}
                <table class="w-full text-sm" aria-label="Members who sent the most">
                    <thead class="text-left text-xs uppercase tracking-wide text-stone-500">
                        <tr>
                            <th class=CELL>"Member"</th>
                            <th class=format!("{CELL} text-right")>"Messages"</th>
                            <th class=format!("{CELL} text-right")>"Share"</th>
                        </tr>
                    </thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
        </Show>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_day_is_drawn_and_a_quiet_one_is_zero() {
        let found = Contributions { first_day: 10, today: 13, days: vec![(11, 5, 2), (13, 1, 1)], top: vec![] };
        assert_eq!(per_day(&found).points, [(10, 0.0), (11, 5.0), (12, 0.0), (13, 1.0)]);
        assert_eq!(day_label(20_429), "2025-12-07");
    }
}
