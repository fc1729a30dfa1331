//! A small step chart drawn as SVG on the server, so it reads without JavaScript: values that change at
//! blocks and hold in between (members, revenue so far). Positions use `f64`; only pixels, never money.

use std::fmt::{self, Write};

use leptos::prelude::*;

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 220.0;
const LEFT: f64 = 56.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 28.0;
const GRID_LINES: usize = 4;

/// One line of a chart: a value from each block on, until the next point.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub label: String,
    /// Tailwind stroke class (`stroke-emerald-600`).
    pub stroke: &'static str,
    /// `(block, value)` in block order.
    pub points: Vec<(u64, f64)>,
}

/// The top of the axis: [`GRID_LINES`] steps of 1, 2 or 5 times a power of ten, at or above `value`,
/// so every grid label reads as a round number.
fn nice_ceiling(value: f64) -> f64 {
    let step = value / GRID_LINES as f64;
    if step <= 0.0 {
        return GRID_LINES as f64;
    }
    let magnitude = 10f64.powf(step.log10().floor());
    let nice = [1.0, 2.0, 5.0, 10.0].into_iter().map(|m| m * magnitude).find(|nice| *nice >= step).unwrap_or(step);
    nice * GRID_LINES as f64
}

/// A position in pixels to a tenth. Written through integers: exact float formatting (`{:.1}`) is slow,
/// and a union's chart can have thousands of steps, each drawn on every page view.
struct Px(f64);

impl fmt::Display for Px {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tenths = (self.0 * 10.0).round() as i64;
        let sign = if tenths < 0 { "-" } else { "" };
        write!(f, "{sign}{}.{}", tenths.unsigned_abs() / 10, tenths.unsigned_abs() % 10)
    }
}

/// The SVG path of a step line, or `None` without points.
fn step_path(points: &[(u64, f64)], x: impl Fn(u64) -> f64, y: impl Fn(f64) -> f64, last_block: u64) -> Option<String> {
    let (first_block, first_value) = points.first()?;
    // About 14 characters a step.
    let mut path = String::with_capacity(16 * points.len() + 16);
    // Writing into a `String` cannot fail.
    let _ = write!(path, "M{},{}", Px(x(*first_block)), Px(y(*first_value)));
    for (block, value) in &points[1..] {
        let _ = write!(path, " H{} V{}", Px(x(*block)), Px(y(*value)));
    }
    let _ = write!(path, " H{}", Px(x(last_block)));
    Some(path)
}

/// Where `value` sits on the chart, from the top; `top_value` is at the top of the axis.
fn y_of(value: f64, top_value: f64) -> f64 {
    TOP + (1.0 - value / top_value) * (HEIGHT - TOP - BOTTOM)
}

/// A chart of `series` from the first point's block up to `last_block`; `format` writes axis values.
#[component]
pub fn StepChart(
    /// Names the chart for screen readers and as its heading.
    title: String,
    series: Vec<Series>,
    last_block: u64,
    format: fn(f64) -> String,
) -> impl IntoView {
    let first_block = series.iter().filter_map(|s| s.points.first().map(|p| p.0)).min().unwrap_or(last_block);
    let last_block = last_block.max(first_block + 1);
    let top_value = nice_ceiling(series.iter().flat_map(|s| s.points.iter().map(|p| p.1)).fold(0.0, f64::max));
    let x = move |block: u64| {
        LEFT + (block - first_block) as f64 / (last_block - first_block) as f64 * (WIDTH - LEFT - RIGHT)
    };
    let y = move |value: f64| y_of(value, top_value);
    let summary = series
        .iter()
        .map(|s| {
            let last = s.points.last().map_or(0.0, |p| p.1);
            format!("{}: {} now", s.label, format(last))
        })
        .collect::<Vec<_>>()
        .join("; ");
    let lines = series
        .iter()
        .filter_map(|s| {
            let path = step_path(&s.points, x, y, last_block)?;
            Some(view! { <path d=path fill="none" stroke-width="2.5" class=s.stroke /> })
        })
        .collect_view();
    let title_id = format!("chart-{}", title.to_lowercase().replace(' ', "-"));
    view! {
        <figure class="rounded-2xl border border-stone-200 bg-white p-4 shadow-sm">
            <figcaption class="flex flex-wrap items-baseline justify-between gap-2">
                <h3 id=title_id.clone() class="font-semibold">{title.clone()}</h3>
                <Legend series />
            </figcaption>
            <svg
                viewBox=format!("0 0 {WIDTH} {HEIGHT}")
                class="mt-2 h-auto w-full"
                role="img"
                aria-labelledby=title_id
            >
                <desc>{summary}</desc>
                <Grid top_value format />
                {lines}
                <text x=LEFT y=HEIGHT - 6.0 class="fill-stone-500 text-[11px]">{format!("block {first_block}")}</text>
                <text x=WIDTH - RIGHT y=HEIGHT - 6.0 text-anchor="end" class="fill-stone-500 text-[11px]">
                    {format!("block {last_block}")}
                </text>
            </svg>
        </figure>
    }
}

/// The horizontal lines the values are read against, each labelled with its value.
#[component]
fn Grid(top_value: f64, format: fn(f64) -> String) -> impl IntoView {
    (0..=GRID_LINES)
        .map(|line| {
            let value = top_value * line as f64 / GRID_LINES as f64;
            let at = y_of(value, top_value);
            view! {
                <line x1=LEFT x2=WIDTH - RIGHT y1=at y2=at class="stroke-stone-200" stroke-width="1" />
                <text x=LEFT - 6.0 y=at + 4.0 text-anchor="end" class="fill-stone-500 text-[11px]">{format(value)}</text>
            }
        })
        .collect_view()
}

/// Which line is which: a short stroke in each line's colour beside its name.
#[component]
fn Legend(series: Vec<Series>) -> impl IntoView {
    let items = series
        .into_iter()
        .map(|s| {
            view! {
                <li class="flex items-center gap-2">
                    <svg width="16" height="4" aria-hidden="true"><line x1="0" x2="16" y1="2" y2="2" stroke-width="3" class=s.stroke /></svg>
                    {s.label}
                </li>
            }
        })
        .collect_view();
    view! { <ul class="flex gap-4 text-xs text-stone-600">{items}</ul> }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_axis_top_is_a_round_number_at_or_above_the_largest_value() {
        assert_eq!(nice_ceiling(0.0), 4.0);
        assert_eq!(nice_ceiling(3.0), 4.0);
        assert_eq!(nice_ceiling(5.0), 8.0);
        assert_eq!(nice_ceiling(600.0), 800.0);
        assert!((nice_ceiling(0.17) - 0.2).abs() < 1e-12);
    }

    #[test]
    fn a_position_is_written_to_a_tenth_as_float_formatting_would() {
        for value in [0.0, 0.04, 12.34, 12.36, 99.95001, 583.2, 640.0, -3.26] {
            assert_eq!(Px(value).to_string(), format!("{value:.1}"), "{value}");
        }
    }

    #[test]
    fn a_step_line_holds_each_value_until_the_next_block() {
        let path = step_path(&[(0, 0.0), (5, 2.0)], |b| b as f64, |v| v * 10.0, 10).unwrap();
        assert_eq!(path, "M0.0,0.0 H5.0 V20.0 H10.0");
        assert_eq!(step_path(&[], |b| b as f64, |v| v, 1), None);
    }
}
