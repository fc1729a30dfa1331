//! Schemas of the text forms the API reads and writes that have no type of their own here: addresses
//! and hashes (alloy types, written as text), choices read by name, and image bodies.

use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{KnownFormat, Object, ObjectBuilder, Schema, SchemaFormat, Type};
use utoipa::{PartialSchema, ToSchema};

pub use app::schemas::{AnswerAddress, Signature};

/// An address as a request may write it.
pub struct Address;

impl PartialSchema for Address {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some("^0x([0-9a-f]{40}|[0-9A-F]{40})$"))
            .description(Some(
                "An address in lower or upper case hex; the mixed-case EIP-55 checksum form is accepted too, \
                 and mixed case with a wrong checksum is refused (400 `bad_checksum`). Answers use the checksum \
                 form.",
            ))
            .into()
    }
}

impl ToSchema for Address {}

/// A 32-byte hash or id (a root, a book hash, a product id) as answers write it.
pub struct Hash;

impl PartialSchema for Hash {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new().schema_type(Type::String).pattern(Some("^0x[0-9a-f]{64}$")).into()
    }
}

impl ToSchema for Hash {}

/// A body that is a file, sent or answered as it is.
pub struct Binary;

impl PartialSchema for Binary {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
            .into()
    }
}

impl ToSchema for Binary {}

/// A string that is one of `names`.
pub fn one_of(names: &[&str]) -> Object {
    ObjectBuilder::new().schema_type(Type::String).enum_values(Some(names.iter().copied())).build()
}
