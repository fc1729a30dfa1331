//! The service layer: typed questions and actions over the read models and the store, the one
//! place their answers are worked out. The REST handlers (`crate::api`, `crate::joins`) parse a
//! request, call a service and write its answer as JSON; the web app's ports (`crate::ports`) call
//! the same services and hand the pages their types. Nothing here knows of HTTP but the error type,
//! whose variants say what a refusal means.

pub mod joins;
pub mod market;
pub mod quotes;
pub mod unions;

use alloy::primitives::U256;
use serde::{Serialize, Serializer};

/// An amount in wei, written as a decimal string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Wei(pub U256);

impl Serialize for Wei {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&self.0)
    }
}
