//! What a seller edits: product drafts (as typed, saved on the server per signed-in owner), the
//! product metadata that is not on chain (description, category, cover), their checks field by field,
//! and the server functions the editor calls, through a port the server fills in.
//!
//! The checks live here, not in the page, because the server runs the same ones on every draft it
//! stores: the page names the wrong field before anything is sent, the server refuses it if it is sent
//! anyway.

use alloy_primitives::{Address, B256, U256};
use coop::amount::{DATA_DECIMALS, Period, parse_units, per_second};
use coop::engine::AdminFee;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::streams::StreamSettings;

crate::named::named_enum! {
    /// What a product is filed under on the marketplace.
    pub enum Category {
        Environment = "environment" ("Environment"),
        Transport = "transport" ("Transport"),
        Health = "health" ("Health"),
        Energy = "energy" ("Energy"),
        Finance = "finance" ("Finance"),
        Social = "social" ("Social media"),
        Location = "location" ("Location"),
        Other = "other" ("Other"),
    }
}

crate::named::named_enum! {
    /// What kind of product a draft is.
    #[derive(Default)]
    pub enum DraftKind {
        /// The seller's own data; payments go to the beneficiary.
        #[default]
        Data = "data" ("Data product"),
        /// Data pooled from many members; each sale is shared among them.
        Union = "union" ("Data Union"),
    }
}

pub const MAX_NAME_CHARS: usize = 100;
pub const MAX_DESCRIPTION_CHARS: usize = 5_000;
/// The most streams a draft may describe.
pub const MAX_DRAFT_STREAMS: usize = 20;
/// The longest minimum subscription the editor offers, in days.
pub const MAX_MINIMUM_DAYS: u32 = 3_650;
/// The longest freeze period the editor offers a Data Union, in days.
pub const MAX_FREEZE_DAYS: u32 = 365;

/// Where covers are uploaded (`POST`, the image as the body) and served from (`GET .../{name}`).
pub const COVERS_PATH: &str = "/api/v1/covers";
/// The largest cover the server takes.
pub const COVER_MAX_BYTES: usize = 2 * 1024 * 1024;
/// The image types a cover may have, with the file extension the server stores it under.
pub const COVER_TYPES: [(&str, &str); 3] = [("image/png", "png"), ("image/jpeg", "jpg"), ("image/webp", "webp")];

crate::named::named_enum! {
    /// The terms a buyer accepts with a purchase: a common data licence, or the seller's own text.
    pub enum Licence {
        CcBy = "cc-by-4.0" ("CC BY 4.0: use with attribution"),
        CcBySa = "cc-by-sa-4.0" ("CC BY-SA 4.0: attribution, share alike"),
        CcByNc = "cc-by-nc-4.0" ("CC BY-NC 4.0: attribution, non-commercial"),
        Cc0 = "cc0-1.0" ("CC0 1.0: no rights reserved"),
        Odbl = "odbl-1.0" ("ODbL 1.0: Open Database License"),
        Own = "own" ("The seller's own terms"),
    }
}

impl Licence {
    /// Where the licence's text is read; `None` for the seller's own terms.
    pub fn url(self) -> Option<&'static str> {
        match self {
            Licence::CcBy => Some("https://creativecommons.org/licenses/by/4.0/"),
            Licence::CcBySa => Some("https://creativecommons.org/licenses/by-sa/4.0/"),
            Licence::CcByNc => Some("https://creativecommons.org/licenses/by-nc/4.0/"),
            Licence::Cc0 => Some("https://creativecommons.org/publicdomain/zero/1.0/"),
            Licence::Odbl => Some("https://opendatacommons.org/licenses/odbl/1-0/"),
            Licence::Own => None,
        }
    }
}

/// The longest own terms of use a seller may write, and the longest contact.
pub const MAX_TERMS_CHARS: usize = 5000;
pub const MAX_CONTACT_CHARS: usize = 200;

/// Checks how buyers reach a seller: an e-mail address or an `https://` page, without spaces.
pub fn check_contact(contact: &str) -> Result<(), String> {
    let contact = contact.trim();
    if contact.chars().count() > MAX_CONTACT_CHARS {
        return Err(format!("the contact is longer than {MAX_CONTACT_CHARS} characters"));
    }
    if contact.chars().any(char::is_whitespace) {
        return Err("the contact has a space in it; give one e-mail address or one https:// address".to_owned());
    }
    let email = contact.split_once('@').is_some_and(|(user, domain)| {
        !user.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.')
    });
    let page = contact.strip_prefix("https://").is_some_and(|rest| rest.contains('.'));
    if email || page {
        Ok(())
    } else {
        Err("give an e-mail address (name@example.org) or an https:// address".to_owned())
    }
}

/// A product as the seller typed it. Every field is text as typed, so a half-finished draft can be
/// saved; [`Draft::check`] says what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[cfg_attr(
    feature = "ssr",
    schema(description = "A product as the seller typed it in the editor; every field is text as typed, so a draft \
        may be incomplete. Wrong fields are refused with 400 naming the field (`name`, `description`, `category`, \
        `cover`, `licence`, `terms`, `contact`, `price`, `period`, `minimum`, `beneficiary`, `adminFee`, `union`, `productId`, `kind`, `streams`).")
)]
pub struct Draft {
    /// Given by the server on the first save; empty before.
    pub id: String,
    /// What kind of product it is: a `DraftKind`'s name.
    #[cfg_attr(feature = "ssr", schema(value_type = DraftKind))]
    pub kind: String,
    #[cfg_attr(feature = "ssr", schema(max_length = 100))]
    pub name: String,
    #[cfg_attr(feature = "ssr", schema(max_length = 5000))]
    pub description: String,
    /// A [`Category`]'s name, or empty.
    #[cfg_attr(feature = "ssr", schema(schema_with = crate::schemas::category))]
    pub category: String,
    /// The uploaded cover's name (as `POST /api/v1/covers` answered it), or empty.
    pub cover: String,
    /// A [`Licence`]'s name, or empty while the seller states none.
    #[cfg_attr(feature = "ssr", schema(schema_with = crate::schemas::licence))]
    pub licence: String,
    /// The seller's own terms of use (with the licence `own`).
    #[cfg_attr(feature = "ssr", schema(max_length = 5000))]
    pub terms: String,
    /// How buyers reach the seller: an e-mail address or an `https://` address, or empty.
    #[cfg_attr(feature = "ssr", schema(max_length = 200))]
    pub contact: String,
    /// DATA per `period`, as a decimal.
    pub price: String,
    /// `hour`, `day`, `week` or `month`.
    #[cfg_attr(feature = "ssr", schema(schema_with = crate::schemas::period))]
    pub period: String,
    /// Whole days, 0 to 3650.
    #[cfg_attr(feature = "ssr", schema(pattern = "^[0-9]*$"))]
    pub minimum_days: String,
    /// The address payments go to (data products).
    pub beneficiary: String,
    /// A Data Union's admin fee in percent (0 to 100, decimals allowed).
    pub admin_fee: String,
    /// A Data Union's freeze period in whole days: how long each commit of the members' earnings waits
    /// before they can withdraw with it. Fixed when the union is deployed.
    pub freeze_days: String,
    /// The product's streams while it is not published yet. A save with a product id its seller
    /// holds hands them to the product (created, or changed by name) and answers the draft without
    /// them: from then on the product's streams are edited as the product's.
    pub streams: Vec<StreamSettings>,
    /// The deployed Data Union, once deployed.
    pub union_address: String,
    /// The Marketplace product id, once published; a draft with one sets the product's description,
    /// category and cover.
    #[cfg_attr(feature = "ssr", schema(pattern = "^(0x[0-9a-fA-F]{64})?$"))]
    pub product_id: String,
    /// Unix seconds of the last save; set by the server.
    pub updated_at: i64,
}

impl Default for Draft {
    fn default() -> Self {
        Self {
            id: String::new(),
            kind: DraftKind::Data.to_string(),
            name: String::new(),
            description: String::new(),
            category: String::new(),
            cover: String::new(),
            licence: String::new(),
            terms: String::new(),
            contact: String::new(),
            price: String::new(),
            period: "day".to_owned(),
            minimum_days: "1".to_owned(),
            beneficiary: String::new(),
            admin_fee: "10".to_owned(),
            // The factory's minimum on a public chain.
            freeze_days: "1".to_owned(),
            streams: Vec::new(),
            union_address: String::new(),
            product_id: String::new(),
            updated_at: 0,
        }
    }
}

crate::named::named_enum! {
    /// A field of a draft, as the form, the checks and the API name it.
    pub enum DraftField {
        Kind = "kind" ("Kind"),
        Name = "name" ("Name"),
        Description = "description" ("Description"),
        Category = "category" ("Category"),
        Cover = "cover" ("Cover"),
        Licence = "licence" ("Terms of use"),
        Terms = "terms" ("Your terms"),
        Contact = "contact" ("Contact"),
        Price = "price" ("Price"),
        Period = "period" ("Period"),
        Minimum = "minimum" ("Minimum subscription"),
        Beneficiary = "beneficiary" ("Payments go to"),
        AdminFee = "adminFee" ("Admin fee"),
        FreezeDays = "freezeDays" ("Freeze period"),
        Streams = "streams" ("Streams"),
        Union = "union" ("Data Union"),
        ProductId = "productId" ("Product id"),
    }
}

/// A message about one field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: DraftField,
    pub message: String,
}

/// How complete a draft must be: a draft may leave fields empty, a product to publish may not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Draft,
    Publish,
}

/// A checked product, ready for the Marketplace's `createProduct` or `updateProduct`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductInput {
    pub name: String,
    /// DATA wei per second: the price per period divided by the period's seconds, rounded down.
    pub price_per_second: U256,
    pub minimum_seconds: U256,
    pub beneficiary: Address,
}

struct Checker {
    stage: Stage,
    errors: Vec<FieldError>,
}

impl Checker {
    fn fail(&mut self, field: DraftField, message: impl Into<String>) {
        self.errors.push(FieldError { field, message: message.into() });
    }

    /// `None` (and no message) for an empty field in a draft; a message for an empty one to publish.
    fn present<'a>(&mut self, field: DraftField, value: &'a str, missing: &str) -> Option<&'a str> {
        let value = value.trim();
        if value.is_empty() {
            if self.stage == Stage::Publish {
                self.fail(field, missing);
            }
            return None;
        }
        Some(value)
    }
}

impl Draft {
    pub fn is_union(&self) -> bool {
        self.kind() == Some(DraftKind::Union)
    }

    /// The kind, `None` while the text is none of them.
    pub fn kind(&self) -> Option<DraftKind> {
        self.kind.parse().ok()
    }

    pub fn period(&self) -> Period {
        Period::from_name(&self.period).unwrap_or(Period::Day)
    }

    /// Every field that is wrong, each with its message; empty when the draft is fine for `stage`.
    pub fn problems(&self, stage: Stage) -> Vec<FieldError> {
        match self.check(stage) {
            Ok(_) => Vec::new(),
            Err(errors) => errors,
        }
    }

    /// Checks every field. For [`Stage::Publish`] the result is the product to send; for a draft it
    /// is `None` when some fields are still empty.
    pub fn check(&self, stage: Stage) -> Result<Option<ProductInput>, Vec<FieldError>> {
        let mut check = Checker { stage, errors: Vec::new() };
        if self.kind().is_none() {
            check.fail(DraftField::Kind, "choose a data product or a Data Union");
        }
        let name = check.present(DraftField::Name, &self.name, "enter a name").map(str::to_owned);
        if name.as_ref().is_some_and(|name| name.chars().count() > MAX_NAME_CHARS) {
            check.fail(DraftField::Name, format!("the name is longer than {MAX_NAME_CHARS} characters"));
        }
        if self.description.chars().count() > MAX_DESCRIPTION_CHARS {
            check.fail(
                DraftField::Description,
                format!("the description is longer than {MAX_DESCRIPTION_CHARS} characters"),
            );
        }
        if let Some(category) = check.present(DraftField::Category, &self.category, "choose a category")
            && category.parse::<Category>().is_err()
        {
            check.fail(DraftField::Category, "choose one of the categories");
        }
        if !self.cover.is_empty() && !is_cover_name(&self.cover) {
            check.fail(DraftField::Cover, "upload the cover again");
        }
        self.check_terms(&mut check);
        if !self.product_id.is_empty() && self.product_id.parse::<B256>().is_err() {
            check.fail(DraftField::ProductId, "the product id is not 0x and 64 hex digits");
        }
        let price = self.check_price(&mut check);
        let minimum_seconds = self.check_minimum(&mut check);
        let beneficiary = self.check_beneficiary(&mut check);
        self.check_union(&mut check);
        self.check_streams(&mut check);
        if !check.errors.is_empty() {
            return Err(check.errors);
        }
        Ok(match (name, price, minimum_seconds, beneficiary) {
            (Some(name), Some(price_per_second), Some(minimum_seconds), Some(beneficiary)) => {
                Some(ProductInput { name, price_per_second, minimum_seconds, beneficiary })
            }
            _ => None,
        })
    }

    fn check_price(&self, check: &mut Checker) -> Option<U256> {
        let period = match Period::from_name(&self.period).filter(|period| *period != Period::Second) {
            Some(period) => period,
            None => {
                check.fail(DraftField::Period, "choose hour, day, week or month");
                return None;
            }
        };
        let text = check.present(DraftField::Price, &self.price, "enter a price in DATA")?;
        match parse_units(text, DATA_DECIMALS) {
            // Free: open data, or a trial anyone may take.
            Ok(price) if price.is_zero() => return Some(U256::ZERO),
            Ok(price) if per_second(price, period).is_zero() => check.fail(
                DraftField::Price,
                format!(
                    "the price is less than 1 wei per second; raise it or use a longer period than a {}",
                    period.name()
                ),
            ),
            Ok(price) => return Some(per_second(price, period)),
            Err(error) => check.fail(DraftField::Price, error.to_string()),
        }
        None
    }

    /// The licence is one of the names or none; the seller's own terms are written out when chosen
    /// (and only then); the contact, when given, is one a buyer can use.
    fn check_terms(&self, check: &mut Checker) {
        let licence = match self.licence.trim() {
            "" => None,
            name => match name.parse::<Licence>() {
                Ok(licence) => Some(licence),
                Err(_) => {
                    check.fail(DraftField::Licence, "choose one of the licences, or your own terms");
                    None
                }
            },
        };
        let terms = self.terms.trim();
        if licence == Some(Licence::Own) && terms.is_empty() {
            check.fail(DraftField::Terms, "write the terms buyers accept, or choose a licence");
        }
        if terms.chars().count() > MAX_TERMS_CHARS {
            check.fail(DraftField::Terms, format!("the terms are longer than {MAX_TERMS_CHARS} characters"));
        }
        if !self.contact.trim().is_empty()
            && let Err(message) = check_contact(&self.contact)
        {
            check.fail(DraftField::Contact, message);
        }
    }

    fn check_minimum(&self, check: &mut Checker) -> Option<U256> {
        let text = check.present(DraftField::Minimum, &self.minimum_days, "enter a minimum in days (0 for none)")?;
        match text.parse::<u32>() {
            Ok(days) if days <= MAX_MINIMUM_DAYS => Some(U256::from(u64::from(days) * Period::Day.seconds())),
            _ => {
                check.fail(DraftField::Minimum, format!("enter a whole number of days from 0 to {MAX_MINIMUM_DAYS}"));
                None
            }
        }
    }

    fn check_beneficiary(&self, check: &mut Checker) -> Option<Address> {
        // A Data Union's products pay the Data Union itself.
        if self.is_union() {
            if self.union_address.trim().is_empty() {
                if check.stage == Stage::Publish {
                    check.fail(DraftField::Union, "deploy the Data Union first: its contract receives the payments");
                }
                return None;
            }
            return match coop::text::parse_address(self.union_address.trim()) {
                Ok(address) => Some(address),
                Err(error) => {
                    check.fail(DraftField::Union, error.to_string());
                    None
                }
            };
        }
        let text = check.present(DraftField::Beneficiary, &self.beneficiary, "enter the address payments go to")?;
        match coop::text::parse_address(text) {
            Ok(address) if address == Address::ZERO => {
                check.fail(DraftField::Beneficiary, "payments cannot go to the zero address");
                None
            }
            Ok(address) => Some(address),
            Err(error) => {
                check.fail(DraftField::Beneficiary, error.to_string());
                None
            }
        }
    }

    /// Each stream as the product page would take it, each name once.
    fn check_streams(&self, check: &mut Checker) {
        if self.streams.len() > MAX_DRAFT_STREAMS {
            check.fail(DraftField::Streams, format!("a product has at most {MAX_DRAFT_STREAMS} streams"));
        }
        for (at, stream) in self.streams.iter().enumerate() {
            let about = match stream.name.trim() {
                "" => format!("stream {}", at + 1),
                name => format!("stream {} ({name})", at + 1),
            };
            if let Err((field, message)) = stream.definition(B256::ZERO) {
                check.fail(DraftField::Streams, format!("{about}, {field}: {message}"));
            } else if self.streams[..at].iter().any(|before| before.name.trim() == stream.name.trim()) {
                check.fail(DraftField::Streams, format!("{about}: another stream has this name"));
            }
        }
    }

    fn check_union(&self, check: &mut Checker) {
        if !self.is_union() {
            return;
        }
        if let Some(text) = check.present(DraftField::AdminFee, &self.admin_fee, "enter the admin fee in percent")
            && let Err(message) = admin_fee_wei(text)
        {
            check.fail(DraftField::AdminFee, message);
        }
        if let Some(text) = check.present(DraftField::FreezeDays, &self.freeze_days, "enter the freeze period in days")
            && let Err(message) = freeze_period_seconds(text)
        {
            check.fail(DraftField::FreezeDays, message);
        }
    }
}

/// A freeze period in whole days (`"7"`) as the factory takes it: seconds.
pub fn freeze_period_seconds(days: &str) -> Result<U256, String> {
    match days.trim().parse::<u32>() {
        Ok(days) if days <= MAX_FREEZE_DAYS => Ok(U256::from(u64::from(days) * Period::Day.seconds())),
        _ => Err(format!("enter a whole number of days from 0 to {MAX_FREEZE_DAYS}")),
    }
}

/// An admin fee in percent (`"12.5"`) as the contract takes it: 1e18 is 100 %.
pub fn admin_fee_wei(percent: &str) -> Result<U256, String> {
    AdminFee::from_percent(percent).map(AdminFee::value).map_err(|error| error.to_string())
}

/// Whether `name` is a cover name the server hands out: 32 hex digits and a known extension.
pub fn is_cover_name(name: &str) -> bool {
    let Some((stem, extension)) = name.split_once('.') else { return false };
    stem.len() == 32
        && stem.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        && COVER_TYPES.iter().any(|(_, known)| *known == extension)
}

/// The salt a product is listed with: its name, so one seller's names are unique.
pub fn product_salt(name: &str) -> B256 {
    alloy_primitives::keccak256(name.as_bytes())
}

/// The id the marketplace gives a seller's product (derived on chain from the seller and the salt).
pub fn product_id(seller: Address, name: &str) -> B256 {
    coop::contracts::product_id(seller, product_salt(name))
}

/// What the marketplace shows of a product beyond the chain: kept by the server per product and owner.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
// Read with defaults, but always written whole.
pub struct ProductMetadata {
    #[cfg_attr(feature = "ssr", schema(required = true))]
    pub description: String,
    #[serde(with = "crate::named::empty_is_none")]
    #[cfg_attr(feature = "ssr", schema(required = true, schema_with = crate::schemas::category))]
    pub category: Option<Category>,
    /// The cover's name under `/api/v1/covers/`, or empty.
    #[cfg_attr(feature = "ssr", schema(required = true))]
    pub cover: String,
    /// The terms a buyer accepts; empty when the seller states none.
    #[serde(with = "crate::named::empty_is_none")]
    #[cfg_attr(feature = "ssr", schema(required = true, schema_with = crate::schemas::licence))]
    pub licence: Option<Licence>,
    /// The seller's own terms, with the licence `own`; else empty.
    #[cfg_attr(feature = "ssr", schema(required = true))]
    pub terms: String,
    /// How buyers reach the seller (an e-mail or an `https://` address), or empty.
    #[cfg_attr(feature = "ssr", schema(required = true))]
    pub contact: String,
}

impl ProductMetadata {
    /// What a checked draft says beyond the chain.
    pub fn of_draft(draft: &Draft) -> Self {
        let licence: Option<Licence> = draft.licence.trim().parse().ok();
        ProductMetadata {
            description: draft.description.trim().to_owned(),
            // The checks passed: the category is empty or one of the names.
            category: draft.category.parse().ok(),
            cover: draft.cover.clone(),
            licence,
            // Own terms count only with the licence that says so.
            terms: if licence == Some(Licence::Own) { draft.terms.trim().to_owned() } else { String::new() },
            contact: draft.contact.trim().to_owned(),
        }
    }
}

/// The signed-in seller's drafts, newest first.
#[server(endpoint = "my_drafts")]
pub async fn my_drafts() -> Result<Vec<Draft>, AppError> {
    let (editor, owner) = ssr::signed_in_editor().await?;
    editor.drafts(owner).await
}

/// One of the signed-in seller's drafts.
#[server(endpoint = "load_draft")]
pub async fn load_draft(id: String) -> Result<Draft, AppError> {
    let (editor, owner) = ssr::signed_in_editor().await?;
    editor.draft(owner, id).await
}

/// The signed-in seller's draft for a published product, if they saved one.
#[server(endpoint = "draft_of_product")]
pub async fn draft_of_product(product_id: String) -> Result<Option<Draft>, AppError> {
    let (editor, owner) = ssr::signed_in_editor().await?;
    Ok(editor.drafts(owner).await?.into_iter().find(|draft| draft.product_id == product_id))
}

/// Saves `draft` (a new one when its id is empty) and answers it as stored. A draft with a product id
/// also sets that product's description, category and cover on the marketplace.
#[server(endpoint = "save_draft")]
pub async fn save_draft(draft: Draft) -> Result<Draft, AppError> {
    let (editor, owner) = ssr::signed_in_editor().await?;
    editor.save(owner, draft).await
}

/// Deletes one of the signed-in seller's drafts.
#[server(endpoint = "delete_draft")]
pub async fn delete_draft(id: String) -> Result<(), AppError> {
    let (editor, owner) = ssr::signed_in_editor().await?;
    editor.delete(owner, id).await
}

/// The port the server implements; it puts a [`ssr::RequestEditor`] into every request's extensions.
#[cfg(feature = "ssr")]
pub mod ssr {
    use std::future::Future;
    use std::pin::Pin;
    use std::sync::Arc;

    use super::Draft;
    use crate::error::{AppError, Service};
    use alloy_primitives::Address;

    pub type Answer<'a, T> = Pin<Box<dyn Future<Output = Result<T, AppError>> + Send + 'a>>;

    /// Drafts per owner; `owner` is always the signed-in address.
    pub trait Editor: Send + Sync {
        fn drafts(&self, owner: Address) -> Answer<'_, Vec<Draft>>;
        fn draft(&self, owner: Address, id: String) -> Answer<'_, Draft>;
        fn save(&self, owner: Address, draft: Draft) -> Answer<'_, Draft>;
        fn delete(&self, owner: Address, id: String) -> Answer<'_, ()>;
    }

    #[derive(Clone)]
    pub struct RequestEditor(pub Arc<dyn Editor>);

    /// The editor port and the request's signed-in address.
    pub(super) async fn signed_in_editor() -> Result<(Arc<dyn Editor>, Address), AppError> {
        let editor = crate::request_port::<RequestEditor>(Service::Drafts)?.0;
        let session = crate::wallet::session::ssr::request_session().ok_or(AppError::NotSignedIn)?;
        let who = session.0.signed_in().await.ok_or(AppError::NotSignedIn)?;
        Ok((editor, who.address))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ADDRESS: &str = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";

    fn filled() -> Draft {
        Draft {
            name: "Weather".into(),
            category: "environment".into(),
            price: "5".into(),
            beneficiary: ADDRESS.into(),
            ..Draft::default()
        }
    }

    fn fields(errors: &[FieldError]) -> Vec<&str> {
        errors.iter().map(|error| error.field.as_str()).collect()
    }

    #[test]
    fn terms_are_a_known_licence_or_the_sellers_own_words_and_a_contact_is_usable() {
        let with = |licence: &str, terms: &str, contact: &str| Draft {
            licence: licence.to_owned(),
            terms: terms.to_owned(),
            contact: contact.to_owned(),
            ..filled()
        };
        let fields = |draft: Draft| draft.problems(Stage::Publish).into_iter().map(|e| e.field).collect::<Vec<_>>();
        assert_eq!(fields(with("", "", "")), []);
        assert_eq!(fields(with("odbl-1.0", "", "data@example.org")), []);
        assert_eq!(fields(with("own", "Research only.", "https://example.org/contact")), []);
        assert_eq!(fields(with("gpl", "", "")), [DraftField::Licence]);
        assert_eq!(fields(with("own", " ", "")), [DraftField::Terms]);
        assert_eq!(fields(with("own", &"x".repeat(MAX_TERMS_CHARS + 1), "")), [DraftField::Terms]);
        for contact in ["me", "a@b", "@example.org", "http://example.org", "javascript:alert(1)", "a b@example.org"] {
            assert_eq!(fields(with("", "", contact)), [DraftField::Contact], "{contact}");
        }
        let long = format!("https://example.org/{}", "a".repeat(MAX_CONTACT_CHARS));
        assert_eq!(fields(with("", "", &long)), [DraftField::Contact]);

        // Own words are kept only with the licence that says so.
        let kept = ProductMetadata::of_draft(&with("own", " Research only. ", " x@example.org "));
        assert_eq!(
            (kept.licence, kept.terms.as_str(), kept.contact.as_str()),
            (Some(Licence::Own), "Research only.", "x@example.org")
        );
        let dropped = ProductMetadata::of_draft(&with("cc0-1.0", "left over", ""));
        assert_eq!((dropped.licence, dropped.terms.as_str()), (Some(Licence::Cc0), ""));
    }

    #[test]
    fn a_price_per_day_becomes_whole_wei_per_second() {
        let input = filled().check(Stage::Publish).unwrap().unwrap();
        assert_eq!(input.price_per_second, U256::from(57_870_370_370_370u64));
        assert_eq!(input.minimum_seconds, U256::from(86_400u64));
    }

    #[test]
    fn a_price_of_zero_is_a_free_product() {
        let free = Draft { price: "0".into(), ..filled() };
        assert_eq!(free.check(Stage::Publish).unwrap().unwrap().price_per_second, U256::ZERO);
    }

    #[test]
    fn each_bad_field_gets_its_own_message() {
        let bad = Draft {
            name: " ".into(),
            price: "abc".into(),
            minimum_days: "-1".into(),
            beneficiary: "0x12".into(),
            ..filled()
        };
        assert_eq!(fields(&bad.problems(Stage::Publish)), ["name", "price", "minimum", "beneficiary"]);
        let tiny = Draft { price: "0.000000000000000001".into(), period: "month".into(), ..filled() };
        assert_eq!(fields(&tiny.problems(Stage::Publish)), ["price"]);
    }

    #[test]
    fn a_draft_may_leave_fields_empty_but_not_wrong() {
        let empty = Draft { minimum_days: String::new(), ..Draft::default() };
        assert_eq!(empty.check(Stage::Draft), Ok(None));
        assert_eq!(fields(&empty.problems(Stage::Publish)), ["name", "category", "price", "minimum", "beneficiary"]);
        let wrong = Draft { price: "1,5".into(), ..Draft::default() };
        assert_eq!(fields(&wrong.problems(Stage::Draft)), ["price"]);
    }

    #[test]
    fn a_data_union_pays_its_contract_and_takes_a_fee_up_to_100_percent() {
        let union = Draft { kind: DraftKind::Union.to_string(), beneficiary: String::new(), ..filled() };
        assert_eq!(fields(&union.problems(Stage::Publish)), ["union"]);
        let deployed = Draft { union_address: ADDRESS.into(), ..union };
        assert_eq!(deployed.check(Stage::Publish).unwrap().unwrap().beneficiary.to_checksum(None), ADDRESS);
        assert_eq!(admin_fee_wei("12.5"), Ok(U256::from(125u64) * U256::from(10u64).pow(U256::from(15))));
        assert_eq!(admin_fee_wei("100"), Ok(U256::from(10u64).pow(U256::from(18))));
        assert_eq!(admin_fee_wei("100.1"), Err("admin fee: at most 100 %".to_owned()));
        assert!(admin_fee_wei("ten").unwrap_err().starts_with("admin fee: "));
        let greedy = Draft { admin_fee: "101".into(), ..deployed.clone() };
        assert_eq!(fields(&greedy.problems(Stage::Publish)), ["adminFee"]);
        let unfrozen = Draft { freeze_days: "0.5".into(), ..deployed };
        assert_eq!(fields(&unfrozen.problems(Stage::Publish)), ["freezeDays"]);
    }

    #[test]
    fn a_freeze_period_is_whole_days_up_to_a_year_in_seconds() {
        assert_eq!(freeze_period_seconds(" 7 "), Ok(U256::from(7u64 * 86_400)));
        assert_eq!(freeze_period_seconds("0"), Ok(U256::ZERO));
        for bad in ["366", "-1", "1.5", "a day", ""] {
            assert!(freeze_period_seconds(bad).is_err(), "{bad}");
        }
        // A draft saved before the field existed reads the default, one day.
        let old: Draft = serde_json::from_str(r#"{"kind":"union","name":"Old"}"#).unwrap();
        assert_eq!(old.freeze_days, "1");
    }

    #[test]
    fn cover_names_are_hex_with_a_known_extension() {
        assert!(is_cover_name("0123456789abcdef0123456789abcdef.png"));
        assert!(!is_cover_name("../../etc/passwd"));
        assert!(!is_cover_name("0123456789abcdef0123456789abcdef.gif"));
    }
}
