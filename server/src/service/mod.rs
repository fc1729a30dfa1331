//! The service layer: typed questions and actions over the read models and the store, the one
//! place their answers are worked out. The REST handlers (`crate::api`, `crate::joins`) parse a
//! request, call a service and write its answer as JSON; the web app's ports (`crate::ports`) call
//! the same services and hand the pages their types. Nothing here knows of HTTP but the error type,
//! whose variants say what a refusal means.

pub mod joins;
pub mod market;
pub mod quotes;
pub mod relay;
pub mod streams;
pub mod unions;

use alloy::primitives::U256;
use serde::{Serialize, Serializer};
use utoipa::ToSchema;

/// An amount in wei, written as a decimal string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ToSchema)]
#[schema(
    value_type = String,
    pattern = "^[0-9]+$",
    description = "An unsigned 256-bit integer (wei, or a uint256 from the chain) as a decimal string.",
    examples("1000000000000000000")
)]
pub struct Wei(pub U256);

impl Serialize for Wei {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&self.0)
    }
}
