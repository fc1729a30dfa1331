//! Who reads a product's streams: the signed-in session (pages, and programs that sign in), or the
//! holder of a read token (`Authorization: Bearer coop-read.…`, see [`coop::read_token`]): a program
//! that signs one with its key reads without a session, on every replica, for an hour at most.
//!
//! A request with an `Authorization` header is judged by it alone. A token reads only: the owner's
//! actions take [`SignedIn`], which knows nothing of tokens.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use alloy::primitives::Address;
use axum::extract::OptionalFromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use coop::read_token::ReadToken;

use super::SignedIn;
use crate::http::limits::Accounts;
use crate::http::{ApiError, ErrorCode, Services};

/// The address a request reads as, and until when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reading {
    pub reader: Address,
    /// When a read token ends (seconds since the epoch): a live feed it opened stops then. None for a
    /// session, which a feed outlives.
    pub until: Option<u64>,
}

impl OptionalFromRequestParts<Arc<Services>> for Reading {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, services: &Arc<Services>) -> Result<Option<Self>, ApiError> {
        let Some(header) = parts.headers.get(AUTHORIZATION) else {
            let who = SignedIn::of(&parts.extensions).await?;
            return Ok(who.map(|SignedIn(reader)| Reading { reader, until: None }));
        };
        let token = header
            .to_str()
            .ok()
            .and_then(|header| header.strip_prefix("Bearer "))
            .ok_or_else(|| invalid("the Authorization header is not `Bearer <read token>`".to_owned()))?;
        let token: ReadToken = token.parse().map_err(|error| invalid(format!("{error}")))?;
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |since| since.as_secs());
        let reader = token
            .check(services.origin.domains(), services.chain_id, now)
            .map_err(|error| invalid(format!("{error}")))?;
        if let Some(accounts) = parts.extensions.get::<Accounts>() {
            accounts.check(reader)?;
        }
        Ok(Some(Reading { reader, until: Some(token.expires) }))
    }
}

fn invalid(message: String) -> ApiError {
    ApiError::Unauthorized { code: ErrorCode::InvalidReadToken, message, field: Some("Authorization") }
}
