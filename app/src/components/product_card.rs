//! A product as a card on the marketplace: cover, name, price per day and week, Data Union badge.

use coop::amount::Period;
use leptos::prelude::*;

use crate::market::{ProductCard, price_label, short_address};

/// The uploaded cover, or else one drawn from the product id.
pub fn cover_style(card: &ProductCard) -> String {
    if crate::products::is_cover_name(&card.cover) {
        return format!(
            "background-image: url({}/{}); background-size: cover; background-position: center",
            crate::products::COVERS_PATH,
            card.cover
        );
    }
    let bytes = card.id.as_slice();
    let (a, b) = (hue(bytes[0]), hue(bytes[1]));
    format!("background-image: linear-gradient(135deg, hsl({a} 70% 45%), hsl({b} 75% 60%))")
}

/// A byte spread over the colour wheel, 0 to 358 degrees.
fn hue(byte: u8) -> u32 {
    u32::from(byte) * 360 / 256
}

#[component]
pub fn ProductCardView(card: ProductCard) -> impl IntoView {
    let href = format!("/products/{}", card.id);
    // The drawn cover carries the name's initial; an uploaded one speaks for itself.
    let initial = if card.cover.is_empty() {
        card.name.chars().next().unwrap_or('?').to_uppercase().to_string()
    } else {
        String::new()
    };
    let category = card.category.map(|category| category.label()).map(|label| {
        view! { <span class="rounded-full bg-stone-100 px-2 py-0.5 text-xs text-stone-600">{label}</span> }
    });
    let per_day = price_label(card.price_per_second, Period::Day);
    let per_week = price_label(card.price_per_second, Period::Week);
    let badge = card.data_union.then(|| {
        let members = card.members.unwrap_or(0);
        let noun = if members == 1 { "member" } else { "members" };
        view! {
            <span class="absolute left-3 top-3 rounded-full bg-white/90 px-2.5 py-1 text-xs font-semibold text-emerald-800 shadow-sm">
                {format!("Data Union · {members} {noun}")}
            </span>
        }
    });
    view! {
        <li class="group overflow-hidden rounded-2xl border border-stone-200 bg-white shadow-sm transition hover:-translate-y-0.5 hover:shadow-md">
            <a href=href class="block" aria-label=card.name.clone()>
                <div class="relative flex aspect-[16/9] items-center justify-center" style=cover_style(&card)>
                    <span class="text-5xl font-bold text-white/80" aria-hidden="true">{initial}</span>
                    {badge}
                </div>
                <div class="p-4">
                    <h3 class="truncate text-base font-semibold group-hover:text-emerald-700">{card.name.clone()}</h3>
                    <p class="mt-1 flex items-center gap-2 text-xs text-stone-500"><span>"by " {short_address(&card.owner)}</span> {category}</p>
                    {if card.price_per_second.is_zero() {
                        view! {
                            <p class="mt-3 flex items-baseline justify-between gap-2">
                                <span class="text-lg font-semibold text-emerald-700" data-testid="price-per-day">"Free"</span>
                                <span class="text-xs text-stone-500">"open to anyone"</span>
                            </p>
                        }
                        .into_any()
                    } else {
                        view! {
                            <p class="mt-3 flex items-baseline justify-between gap-2">
                                <span class="text-lg font-semibold" data-testid="price-per-day">{per_day} <span class="text-sm font-normal text-stone-500">" / day"</span></span>
                                <span class="text-xs text-stone-500">{per_week} " / week"</span>
                            </p>
                        }
                        .into_any()
                    }}
                </div>
            </a>
        </li>
    }
}

#[cfg(test)]
mod tests {
    use super::hue;

    #[test]
    fn every_byte_has_a_hue_on_the_wheel() {
        assert_eq!(hue(0), 0);
        assert_eq!(hue(0x80), 180);
        assert_eq!(hue(0xff), 358);
    }
}
