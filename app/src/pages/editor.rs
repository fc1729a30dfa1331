//! The product editor for a plain data product: name, price per period, minimum period and
//! beneficiary (pre-filled with the connected address), checked field by field, then published with
//! the Marketplace's `createProduct` through the wallet, with the transaction's progress.

use alloy_primitives::{Address, B256, U256, keccak256};
use alloy_sol_types::SolCall;
use coop::amount::{DATA_DECIMALS, Period, parse_units, per_second};
use coop::contracts::Marketplace;
use leptos::prelude::*;

use crate::wallet::{TxProgress, UnsignedTx, use_wallet};

/// What the form holds, as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProductForm {
    pub name: String,
    pub price: String,
    pub period: String,
    pub minimum_days: String,
    pub beneficiary: String,
}

/// A checked product, ready for `createProduct`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductInput {
    pub name: String,
    pub price_per_second: U256,
    pub minimum_seconds: U256,
    pub beneficiary: Address,
}

/// One message per field that is wrong, by field name.
pub type FieldErrors = Vec<(&'static str, String)>;

impl ProductForm {
    pub fn check(&self) -> Result<ProductInput, FieldErrors> {
        let mut errors = FieldErrors::new();
        let name = self.name.trim().to_owned();
        if name.is_empty() {
            errors.push(("name", "enter a name".to_owned()));
        } else if name.chars().count() > 100 {
            errors.push(("name", "the name is longer than 100 characters".to_owned()));
        }
        let period = Period::from_name(&self.period).unwrap_or(Period::Day);
        let price_per_second = match parse_units(&self.price, DATA_DECIMALS) {
            Ok(price) if per_second(price, period).is_zero() && !price.is_zero() => {
                errors.push((
                    "price",
                    format!(
                        "the price is less than 1 wei per second; raise it or use a longer period than a {}",
                        period.name()
                    ),
                ));
                U256::ZERO
            }
            Ok(price) if price.is_zero() => {
                errors.push(("price", "the price must be more than 0 DATA".to_owned()));
                U256::ZERO
            }
            Ok(price) => per_second(price, period),
            Err(error) => {
                errors.push(("price", error.to_string()));
                U256::ZERO
            }
        };
        let minimum_seconds = match self.minimum_days.trim().parse::<u32>() {
            Ok(days) if days <= 3650 => U256::from(u64::from(days) * Period::Day.seconds()),
            _ => {
                errors.push(("minimum", "enter a whole number of days from 0 to 3650".to_owned()));
                U256::ZERO
            }
        };
        let beneficiary = match coop::text::parse_address(self.beneficiary.trim()) {
            Ok(address) if address != Address::ZERO => address,
            Ok(_) => {
                errors.push(("beneficiary", "payments cannot go to the zero address".to_owned()));
                Address::ZERO
            }
            Err(error) => {
                errors.push(("beneficiary", error.to_string()));
                Address::ZERO
            }
        };
        if errors.is_empty() {
            Ok(ProductInput { name, price_per_second, minimum_seconds, beneficiary })
        } else {
            Err(errors)
        }
    }
}

/// The product id: the seller and the name, so one seller's names are unique on the Marketplace.
pub fn product_id(seller: Address, name: &str) -> B256 {
    keccak256([seller.as_slice(), name.as_bytes()].concat())
}

fn create_product_call(marketplace: Address, id: B256, input: &ProductInput) -> UnsignedTx {
    let data = Marketplace::createProductCall {
        id,
        name: input.name.clone(),
        beneficiary: input.beneficiary,
        pricePerSecond: input.price_per_second,
        minimumSubscriptionSeconds: input.minimum_seconds,
    }
    .abi_encode();
    UnsignedTx { to: marketplace, data: data.into(), value: U256::ZERO }
}

const INPUT: &str =
    "mt-1 w-full rounded-lg border border-stone-300 bg-white px-3 py-2 text-sm aria-[invalid=true]:border-red-600";

#[component]
pub fn EditorPage() -> impl IntoView {
    let wallet = use_wallet();
    let form =
        RwSignal::new(ProductForm { period: "day".to_owned(), minimum_days: "1".to_owned(), ..Default::default() });
    let errors = RwSignal::new(FieldErrors::new());
    let progress: RwSignal<Option<ReadSignal<TxProgress>>> = RwSignal::new(None);
    let published = RwSignal::new(None::<B256>);
    // The beneficiary follows the connected account until the seller types another one.
    Effect::new(move |_| {
        if let Some(address) = wallet.address.get() {
            form.update(|form| {
                if form.beneficiary.is_empty() {
                    form.beneficiary = address.to_checksum(None);
                }
            });
        }
    });
    let error_for = move |field: &'static str| {
        move || errors.with(|errors| errors.iter().find(|(name, _)| *name == field).map(|(_, message)| message.clone()))
    };
    let publish = move |_| {
        let checked = form.with(ProductForm::check);
        match checked {
            Err(found) => errors.set(found),
            Ok(input) => {
                errors.set(FieldErrors::new());
                let Some(seller) = wallet.address.get_untracked() else {
                    errors.set(vec![("wallet", "connect a wallet to publish".to_owned())]);
                    return;
                };
                let marketplace =
                    wallet.chain.get_untracked().and_then(|chain| chain.contracts.get("marketplace").copied());
                let Some(marketplace) = marketplace else {
                    errors.set(vec![("wallet", "this server has no Marketplace contract".to_owned())]);
                    return;
                };
                let id = product_id(seller, &input.name);
                published.set(Some(id));
                progress.set(Some(wallet.send_transaction(create_product_call(marketplace, id, &input))));
            }
        }
    };
    let field = move |id: &'static str,
                      label: &'static str,
                      hint: &'static str,
                      value: fn(&ProductForm) -> String,
                      set: fn(&mut ProductForm, String)| {
        let message = error_for(id);
        view! {
            <div>
                <label for=id class="text-sm font-medium">{label}</label>
                <input
                    id=id
                    name=id
                    class=INPUT
                    prop:value=move || form.with(value)
                    on:input=move |event| form.update(|form| set(form, event_target_value(&event)))
                    aria-invalid=move || message().is_some().to_string()
                    aria-describedby=format!("{id}-message")
                />
                <p id=format!("{id}-message") class="mt-1 text-xs text-stone-500">
                    {move || message().map_or_else(|| view! { <span>{hint}</span> }.into_any(), |text| view! { <span class="text-red-700" role="alert">{text}</span> }.into_any())}
                </p>
            </div>
        }
    };
    view! {
        <section class="mx-auto max-w-2xl px-4 py-10">
            <h1 class="text-3xl font-bold tracking-tight">"Sell a data product"</h1>
            <p class="mt-2 text-stone-600">"Buyers subscribe by the second; you set the price for the period you think in."</p>
            <form class="mt-8 grid gap-5 rounded-2xl border border-stone-200 bg-white p-6 shadow-sm" on:submit=move |event| event.prevent_default()>
                {field("name", "Name", "what buyers will see on the marketplace", |form| form.name.clone(), |form, value| form.name = value)}
                <div class="grid grid-cols-[1fr_auto] gap-3">
                    {field("price", "Price in DATA", "for example 5 or 0.25", |form| form.price.clone(), |form, value| form.price = value)}
                    <div>
                        <label for="period" class="text-sm font-medium">"per"</label>
                        <select id="period" name="period" class=INPUT on:change=move |event| form.update(|form| form.period = event_target_value(&event))>
                            {[Period::Hour, Period::Day, Period::Week, Period::Month].into_iter().map(|period| view! {
                                <option value=period.name() selected=period == Period::Day>{period.name()}</option>
                            }).collect_view()}
                        </select>
                    </div>
                </div>
                {field("minimum", "Minimum subscription in days", "0 for none", |form| form.minimum_days.clone(), |form, value| form.minimum_days = value)}
                {field("beneficiary", "Payments go to", "your connected address unless you change it", |form| form.beneficiary.clone(), |form, value| form.beneficiary = value)}
                <p class="text-sm text-red-700" role="alert">{error_for("wallet")}</p>
                <button type="button" on:click=publish class="rounded-lg bg-emerald-700 px-5 py-2.5 text-sm font-medium text-white hover:bg-emerald-800 disabled:opacity-50"
                    disabled=move || progress.get().is_some_and(|progress| progress.get().is_busy())>
                    "Publish"
                </button>
                <p class="text-sm text-stone-700" role="status">
                    {move || progress.get().map(|progress| progress.get().describe())}
                    {move || match (progress.get().map(|progress| progress.get()), published.get()) {
                        (Some(TxProgress::Confirmed(_)), Some(id)) => Some(view! { " " <a class="text-emerald-700 underline" href=format!("/products/{id}")>"See your product"</a> }),
                        _ => None,
                    }}
                </p>
            </form>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(price: &str, period: &str, minimum: &str, beneficiary: &str) -> ProductForm {
        ProductForm {
            name: "Weather".into(),
            price: price.into(),
            period: period.into(),
            minimum_days: minimum.into(),
            beneficiary: beneficiary.into(),
        }
    }

    const ADDRESS: &str = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";

    #[test]
    fn a_price_per_day_becomes_whole_wei_per_second() {
        let input = form("5", "day", "1", ADDRESS).check().unwrap();
        assert_eq!(input.price_per_second, U256::from(57_870_370_370_370u64));
        assert_eq!(input.minimum_seconds, U256::from(86_400u64));
    }

    #[test]
    fn each_bad_field_gets_its_own_message() {
        let errors = ProductForm { name: " ".into(), ..form("abc", "day", "-1", "0x12") }.check().unwrap_err();
        let fields: Vec<_> = errors.iter().map(|(field, _)| *field).collect();
        assert_eq!(fields, ["name", "price", "minimum", "beneficiary"]);
        let tiny = form("0.000000000000000001", "month", "0", ADDRESS).check().unwrap_err();
        assert_eq!(tiny[0].0, "price");
    }
}
