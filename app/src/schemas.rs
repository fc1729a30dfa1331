//! OpenAPI schemas of the text forms the REST API reads and writes, for the types here that it takes
//! or answers with (`ChainInfo`, `SignedInAs`, `SignInRequest`, `Draft`, `ProductMetadata`). The
//! server's document collects them with the rest; the browser build has none of this.

use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::{PartialSchema, ToSchema};

use crate::products::{Category, Licence};

fn text(pattern: &str, description: &str) -> RefOr<Schema> {
    ObjectBuilder::new().schema_type(Type::String).pattern(Some(pattern)).description(Some(description)).into()
}

/// An address as answers write it.
pub struct AnswerAddress;

impl PartialSchema for AnswerAddress {
    fn schema() -> RefOr<Schema> {
        text(
            "^0x[0-9a-fA-F]{40}$",
            "An address as answers write it: EIP-55 checksummed (lower case in a canonical book).",
        )
    }
}

impl ToSchema for AnswerAddress {}

/// A signature in hex, as a wallet or a contract account makes it.
pub struct Signature;

impl PartialSchema for Signature {
    fn schema() -> RefOr<Schema> {
        text("^(0x)?([0-9a-fA-F]{2}){1,2048}$", "Hex, 1 to 2048 bytes.")
    }
}

impl ToSchema for Signature {}

/// A category as text: a [`Category`]'s name, or empty for none.
pub fn category() -> Schema {
    let values = std::iter::once("").chain(Category::ALL.iter().map(|category| category.as_str()));
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(values))
        .description(Some(format!("{}, or empty.", Category::names())))
        .into()
}

/// A licence as text: a [`Licence`]'s name, or empty for none stated.
pub fn licence() -> Schema {
    let values = std::iter::once("").chain(Licence::ALL.iter().map(|licence| licence.as_str()));
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(values))
        .description(Some(format!("{}, or empty.", Licence::names())))
        .into()
}

/// A draft's period: what its price is per, any period but a second (as `Draft::check` takes it).
pub fn period() -> Schema {
    let periods = coop::amount::Period::ALL.into_iter().filter(|period| *period != coop::amount::Period::Second);
    ObjectBuilder::new().schema_type(Type::String).enum_values(Some(periods.map(|period| period.name()))).into()
}

/// A stream's retention in bytes: 0 (as much as the server keeps), or at least
/// [`coop::stream::MIN_RETENTION_BYTES`].
pub fn retention_bytes() -> Schema {
    let none = ObjectBuilder::new().schema_type(Type::Integer).enum_values(Some([0u64]));
    let least = ObjectBuilder::new()
        .schema_type(Type::Integer)
        .minimum(Some(coop::stream::MIN_RETENTION_BYTES as f64))
        .maximum(Some(coop::stream::MAX_RETENTION_BYTES as f64));
    utoipa::openapi::schema::OneOfBuilder::new()
        .item(none)
        .item(least)
        .description(Some(format!(
            "0 keeps as much as the server keeps; else {} bytes (1 MB) to {}.",
            coop::stream::MIN_RETENTION_BYTES,
            coop::stream::MAX_RETENTION_BYTES
        )))
        .into()
}
