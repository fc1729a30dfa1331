//! A small step chart drawn as SVG on the server, so it reads without JavaScript: values that change at
//! some times (a block's, a day) and hold in between (members, revenue so far). Positions use `f64`; only pixels, never money.

use leptos::prelude::*;

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 220.0;
const LEFT: f64 = 56.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 28.0;
const GRID_LINES: usize = 4;

/// One line of a chart: a value from each block (or day) on, until the next point.
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

/// The most points a chart is drawn from: about one per two pixels of its width. A union's history
/// has a point for every block where something changed, which grows without bound; more points than
/// this would not show, yet would be rendered and sent on every page view.
pub const MOST_POINTS: usize = 280;

/// At most `most` of `points` (in block order), for a step chart: the blocks from the first point's
/// to the last's split into `most` equal spans, and of each span the last point, the value the line
/// holds when the span ends. The first point is always kept, so the line starts where it did. Changes
/// inside one span that are undone within it do not show, as they would not at this width either.
pub fn sample<T: Clone>(points: &[T], most: usize, block: impl Fn(&T) -> u64) -> Vec<T> {
    let (Some(first), Some(last)) = (points.first(), points.last()) else { return Vec::new() };
    if points.len() <= most || most < 2 {
        return points.to_vec();
    }
    let (start, blocks) = (block(first), block(last) - block(first) + 1);
    // The first point has a span of its own; the rest share `most - 1`.
    let span = blocks.div_ceil(most as u64 - 1);
    let span_of = |point: &T| (block(point) - start).div_ceil(span);
    let mut kept = vec![first.clone()];
    for (at, point) in points.iter().enumerate().skip(1) {
        if points.get(at + 1).is_none_or(|next| span_of(next) != span_of(point)) {
            kept.push(point.clone());
        }
    }
    kept
}

/// Writes a position in pixels to a tenth (`583.2`, `-3.3`). By hand: float formatting (`{:.1}`), and
/// even `write!` of integers, is most of what drawing a chart costs, on every page view.
fn push_px(out: &mut String, value: f64) {
    let tenths = (value * 10.0).round() as i64;
    if tenths < 0 {
        out.push('-');
    }
    let tenths = tenths.unsigned_abs();
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut whole = tenths / 10;
    loop {
        at -= 1;
        digits[at] = b'0' + (whole % 10) as u8;
        whole /= 10;
        if whole == 0 {
            break;
        }
    }
    // Only ASCII digits were written.
    out.push_str(std::str::from_utf8(&digits[at..]).unwrap_or_default());
    out.push('.');
    out.push(char::from(b'0' + (tenths % 10) as u8));
}

/// The SVG path of a step line, or `None` without points.
fn step_path(points: &[(u64, f64)], x: impl Fn(u64) -> f64, y: impl Fn(f64) -> f64, last_block: u64) -> Option<String> {
    let (first_block, first_value) = points.first()?;
    // About 14 characters a step.
    let mut path = String::with_capacity(16 * points.len() + 16);
    path.push('M');
    push_px(&mut path, x(*first_block));
    path.push(',');
    push_px(&mut path, y(*first_value));
    for (block, value) in &points[1..] {
        path.push_str(" H");
        push_px(&mut path, x(*block));
        path.push_str(" V");
        push_px(&mut path, y(*value));
    }
    path.push_str(" H");
    push_px(&mut path, x(last_block));
    Some(path)
}

/// Where `value` sits on the chart, from the top; `top_value` is at the top of the axis.
fn y_of(value: f64, top_value: f64) -> f64 {
    TOP + (1.0 - value / top_value) * (HEIGHT - TOP - BOTTOM)
}

/// What a chart shows, worked out once: a page keeps it in a memo, as rendering on the server walks
/// a view more than once and the paths are most of its cost.
#[derive(Debug, Clone, PartialEq)]
pub struct Drawing {
    /// What the x-axis reads at its two ends.
    from_label: String,
    to_label: String,
    /// Each series' latest value in words, for screen readers.
    summary: String,
    /// `(label, stroke, SVG path)`; a series without points has no path.
    lines: Vec<(String, &'static str, Option<String>)>,
    /// `(y, label)` of each grid line.
    grid: Vec<(f64, String)>,
}

impl Drawing {
    /// `series` from the first point's x (a block, a day) up to `last_block`; `format` writes axis
    /// values and `x_label` the x-axis's ends.
    pub fn new(series: &[Series], last_block: u64, format: fn(f64) -> String, x_label: fn(u64) -> String) -> Self {
        let first_block = series.iter().filter_map(|s| s.points.first().map(|p| p.0)).min().unwrap_or(last_block);
        // Past every point, whatever the caller's end: a point is never drawn outside the chart.
        let last_point = series.iter().flat_map(|s| s.points.iter().map(|p| p.0)).max().unwrap_or(first_block);
        let last_block = last_block.max(last_point).max(first_block + 1);
        let top_value = nice_ceiling(series.iter().flat_map(|s| s.points.iter().map(|p| p.1)).fold(0.0, f64::max));
        let x = move |block: u64| {
            LEFT + block.saturating_sub(first_block) as f64 / (last_block - first_block) as f64 * (WIDTH - LEFT - RIGHT)
        };
        let y = move |value: f64| y_of(value, top_value);
        let summary = series
            .iter()
            .map(|s| format!("{}: {} now", s.label, format(s.points.last().map_or(0.0, |p| p.1))))
            .collect::<Vec<_>>()
            .join("; ");
        let lines =
            series.iter().map(|s| (s.label.clone(), s.stroke, step_path(&s.points, x, y, last_block))).collect();
        let grid = (0..=GRID_LINES)
            .map(|line| {
                let value = top_value * line as f64 / GRID_LINES as f64;
                (y_of(value, top_value), format(value))
            })
            .collect();
        Drawing { from_label: x_label(first_block), to_label: x_label(last_block), summary, lines, grid }
    }
}

/// A chart drawn as SVG, with its legend.
#[component]
pub fn StepChart(
    /// Names the chart for screen readers and as its heading.
    title: String,
    drawing: Drawing,
) -> impl IntoView {
    let Drawing { from_label, to_label, summary, lines, grid } = drawing;
    let legend = lines
        .iter()
        .map(|(label, stroke, _)| {
            view! {
                <li class="flex items-center gap-2">
                    <svg width="16" height="4" aria-hidden="true"><line x1="0" x2="16" y1="2" y2="2" stroke-width="3" class=*stroke /></svg>
                    {label.clone()}
                </li>
            }
        })
        .collect_view();
    let grid = grid
        .into_iter()
        .map(|(at, label)| {
            view! {
                <line x1=LEFT x2=WIDTH - RIGHT y1=at y2=at class="stroke-stone-200" stroke-width="1" />
                <text x=LEFT - 6.0 y=at + 4.0 text-anchor="end" class="fill-stone-500 text-[11px]">{label}</text>
            }
        })
        .collect_view();
    let paths = lines
        .into_iter()
        .filter_map(|(_, stroke, path)| Some(view! { <path d=path? fill="none" stroke-width="2.5" class=stroke /> }))
        .collect_view();
    let title_id = format!("chart-{}", title.to_lowercase().replace(' ', "-"));
    view! {
        <figure class="rounded-2xl border border-stone-200 bg-white p-4 shadow-sm">
            <figcaption class="flex flex-wrap items-baseline justify-between gap-2">
                <h3 id=title_id.clone() class="font-semibold">{title}</h3>
                <ul class="flex gap-4 text-xs text-stone-600">{legend}</ul>
            </figcaption>
            <svg
                viewBox=format!("0 0 {WIDTH} {HEIGHT}")
                class="mt-2 h-auto w-full"
                role="img"
                aria-labelledby=title_id
            >
                <desc>{summary}</desc>
                {grid}
                {paths}
                <text x=LEFT y=HEIGHT - 6.0 class="fill-stone-500 text-[11px]" data-axis-end="from">{from_label}</text>
                <text x=WIDTH - RIGHT y=HEIGHT - 6.0 text-anchor="end" class="fill-stone-500 text-[11px]" data-axis-end="to">
                    {to_label}
                </text>
            </svg>
        </figure>
    }
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
        for value in [0.0, 0.04, 12.34, 12.36, 99.95001, 583.2, 640.0, -3.26, 1234567.89] {
            let mut written = String::new();
            push_px(&mut written, value);
            assert_eq!(written, format!("{value:.1}"), "{value}");
        }
    }

    #[test]
    fn a_point_past_the_given_end_or_before_the_first_stays_on_the_chart() {
        let series = Series { label: "x".to_owned(), stroke: "", points: vec![(100, 1.0), (90, 2.0), (300, 3.0)] };
        let drawing = Drawing::new(&[series], 200, count_axis_for_tests, |x| x.to_string());
        assert_eq!((drawing.from_label.as_str(), drawing.to_label.as_str()), ("100", "300"));
        let path = drawing.lines[0].2.clone().unwrap();
        let xs: Vec<f64> = path
            .split(' ')
            .filter_map(|step| step.strip_prefix('H').or_else(|| step.strip_prefix('M')?.split(',').next()))
            .map(|x| x.parse().unwrap())
            .collect();
        assert!(xs.iter().all(|x| (LEFT..=WIDTH - RIGHT).contains(x)), "{path}");
    }

    fn count_axis_for_tests(value: f64) -> String {
        value.to_string()
    }

    #[test]
    fn a_short_history_is_drawn_whole() {
        let points = [(3, 1.0), (9, 2.0), (10, 0.0)];
        assert_eq!(sample(&points, 3, |p| p.0), points);
        assert_eq!(sample::<(u64, f64)>(&[], 3, |p| p.0), []);
    }

    #[test]
    fn a_long_history_keeps_the_first_point_and_the_value_each_span_ends_with() {
        // Blocks 0..=99, one point each; 11 points: the first, then the last of each 10 blocks.
        let points: Vec<(u64, u64)> = (0..100).map(|block| (block, block * 2)).collect();
        let kept = sample(&points, 11, |p| p.0);
        assert_eq!(kept.len(), 11);
        assert_eq!(kept[0], (0, 0));
        assert_eq!(kept[1], (10, 20));
        assert_eq!(kept.last(), Some(&(99, 198)), "the line ends at the latest value");
        assert!(kept.windows(2).all(|pair| pair[0].0 < pair[1].0), "in block order");
    }

    #[test]
    fn sampling_never_keeps_more_than_asked_however_the_points_fall() {
        for (count, spread, most) in
            [(1_000, 1, 280), (1_000, 7, 280), (5_000, 3, 100), (300, 1000, 280), (281, 1, 280)]
        {
            let points: Vec<u64> = (0..count).map(|n| 5 + n * spread).collect();
            let kept = sample(&points, most, |block| *block);
            assert!(kept.len() <= most, "{count} points {spread} apart: {} kept", kept.len());
            assert_eq!((kept.first(), kept.last()), (points.first(), points.last()));
        }
    }

    #[test]
    fn a_step_line_holds_each_value_until_the_next_block() {
        let path = step_path(&[(0, 0.0), (5, 2.0)], |b| b as f64, |v| v * 10.0, 10).unwrap();
        assert_eq!(path, "M0.0,0.0 H5.0 V20.0 H10.0");
        assert_eq!(step_path(&[], |b| b as f64, |v| v, 1), None);
    }
}
