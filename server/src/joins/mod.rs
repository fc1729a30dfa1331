//! Joining a Data Union: join requests signed by the member's wallet (EIP-191), shared secrets that
//! approve a request at once, the owner's approvals, rejections and removals, and the join-part agent
//! that sends approved joins and removals to the contract in batches.
//!
//! The signed message names the union, the member, the chain and the time it was issued:
//!
//! ```text
//! Join the Data Union 0x… on Coop
//! Member: 0x…
//! Chain ID: 31337
//! Issued At: 1700000000
//! ```
//!
//! A request older than [`MAX_AGE_SECS`] (or from the future) is stale; one not newer than the
//! member's last request is a replay. Secrets are 32 random bytes, shown once; only their keccak256
//! is stored.

pub mod agent;

use std::collections::HashMap;
use std::sync::Arc;

use alloy::primitives::Address;
use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use crate::api::params::{self, Params};
use crate::auth::SignedIn;
use crate::http::ErrorCode;
use crate::http::{ApiError, RouteTable, Services};
use crate::service::joins::{self as service, Decision, RequestList, RequestView, SecretView};
use crate::store::JoinState;

/// Requests that may wait for one union's owner at once: anyone can file one, for any address it
/// holds a key of, so a union's list is bounded. A request with the union's secret does not wait.
pub const MAX_WAITING_PER_UNION: u64 = 10_000;
/// Requests one member may have waiting, across all unions.
pub const MAX_WAITING_PER_MEMBER: u64 = 20;

/// How old a signed join request may be, in seconds.
pub const MAX_AGE_SECS: i64 = 10 * 60;
/// The message a member signs to ask to join `union`.
pub fn join_message(union: Address, member: Address, chain_id: u64, issued_at: i64) -> String {
    format!("Join the Data Union {union} on Coop\nMember: {member}\nChain ID: {chain_id}\nIssued At: {issued_at}")
}

pub(crate) fn routes(table: RouteTable) -> RouteTable {
    table
        .post("/api/v1/unions/{address}/join-requests", file)
        .get("/api/v1/unions/{address}/join-requests", list)
        .get("/api/v1/unions/{address}/join-requests/{member}", status)
        .post("/api/v1/unions/{address}/join-requests/{member}/approve", approve)
        .post("/api/v1/unions/{address}/join-requests/{member}/reject", reject)
        .post("/api/v1/unions/{address}/members/{member}/remove", remove)
        .post("/api/v1/unions/{address}/secrets", create_secret)
        .get("/api/v1/unions/{address}/secrets", secrets)
        .delete("/api/v1/unions/{address}/secrets/{id}", delete_secret)
}

fn body<T>(json: Result<Json<T>, JsonRejection>) -> Result<T, ApiError> {
    json.map(|Json(value)| value).map_err(|rejection| ApiError::BadRequest {
        code: ErrorCode::InvalidBody,
        message: rejection.body_text(),
        field: Some("body"),
    })
}

/// The union and member a path names.
fn union_and_member(segments: Result<Path<(String, String)>, PathRejection>) -> Result<(Address, Address), ApiError> {
    let (union, member) = params::path(segments)?;
    Ok((params::address(&union, "address")?, params::address(&member, "member")?))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewRequest {
    member: String,
    issued_at: i64,
    signature: String,
    secret: Option<String>,
}

/// `POST /api/v1/unions/{address}/join-requests`
async fn file(
    State(services): State<Arc<Services>>,
    segments: Result<Path<String>, PathRejection>,
    json: Result<Json<NewRequest>, JsonRejection>,
) -> Result<Response, ApiError> {
    let union = params::address(&params::path(segments)?, "address")?;
    let request = body(json)?;
    let request = service::NewRequest {
        member: params::address(&request.member, "member")?,
        issued_at: request.issued_at,
        signature: request.signature,
        secret: request.secret,
    };
    let filed = service::file(&services, union, request).await?;
    Ok((StatusCode::CREATED, Json(filed)).into_response())
}

/// `GET /api/v1/unions/{address}/join-requests?status=`, owner only.
async fn list(
    State(services): State<Arc<Services>>,
    who: SignedIn,
    segments: Result<Path<String>, PathRejection>,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<Json<RequestList>, ApiError> {
    let union = params::address(&params::path(segments)?, "address")?;
    let query = Params::from_query(query)?;
    let status = match query.text("status") {
        None => None,
        Some(_) => JoinState::parse(query.choice("status", &JoinState::NAMES)?),
    };
    let page = query.page()?;
    Ok(Json(service::requests(&services, who.0, union, status, page).await?))
}

/// `GET /api/v1/unions/{address}/join-requests/{member}`: a member's request status.
async fn status(
    State(services): State<Arc<Services>>,
    segments: Result<Path<(String, String)>, PathRejection>,
) -> Result<Json<RequestView>, ApiError> {
    let (union, member) = union_and_member(segments)?;
    let request = service::status(&services, union, member).await?;
    Ok(Json(request.ok_or_else(|| ApiError::NotFound(format!("{member} has not asked to join {union}")))?))
}

/// `POST .../join-requests/{member}/approve`, owner only.
async fn approve(
    State(services): State<Arc<Services>>,
    who: SignedIn,
    segments: Result<Path<(String, String)>, PathRejection>,
) -> Result<Json<RequestView>, ApiError> {
    let (union, member) = union_and_member(segments)?;
    Ok(Json(service::decide(&services, who.0, union, member, Decision::Approve).await?))
}

/// `POST .../join-requests/{member}/reject`, owner only.
async fn reject(
    State(services): State<Arc<Services>>,
    who: SignedIn,
    segments: Result<Path<(String, String)>, PathRejection>,
) -> Result<Json<RequestView>, ApiError> {
    let (union, member) = union_and_member(segments)?;
    Ok(Json(service::decide(&services, who.0, union, member, Decision::Reject).await?))
}

#[derive(Serialize)]
pub struct Removal {
    union: Address,
    member: Address,
    status: &'static str,
}

/// `POST /api/v1/unions/{address}/members/{member}/remove`, owner only: queued for the agent.
async fn remove(
    State(services): State<Arc<Services>>,
    who: SignedIn,
    segments: Result<Path<(String, String)>, PathRejection>,
) -> Result<Response, ApiError> {
    let (union, member) = union_and_member(segments)?;
    service::remove(&services, who.0, union, member).await?;
    Ok((StatusCode::ACCEPTED, Json(Removal { union, member, status: "queued" })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewSecret {
    name: String,
}

/// `POST /api/v1/unions/{address}/secrets`, owner only: the secret is in this answer and nowhere else.
async fn create_secret(
    State(services): State<Arc<Services>>,
    who: SignedIn,
    segments: Result<Path<String>, PathRejection>,
    json: Result<Json<NewSecret>, JsonRejection>,
) -> Result<Response, ApiError> {
    let union = params::address(&params::path(segments)?, "address")?;
    let request = body(json)?;
    let secret = service::create_secret(&services, who.0, union, &request.name).await?;
    Ok((StatusCode::CREATED, Json(secret)).into_response())
}

#[derive(Serialize)]
pub struct SecretList {
    secrets: Vec<SecretView>,
}

/// `GET /api/v1/unions/{address}/secrets`, owner only: names and ids, never the values.
async fn secrets(
    State(services): State<Arc<Services>>,
    who: SignedIn,
    segments: Result<Path<String>, PathRejection>,
) -> Result<Json<SecretList>, ApiError> {
    let union = params::address(&params::path(segments)?, "address")?;
    Ok(Json(SecretList { secrets: service::secrets(&services, who.0, union).await? }))
}

/// `DELETE /api/v1/unions/{address}/secrets/{id}`, owner only.
async fn delete_secret(
    State(services): State<Arc<Services>>,
    who: SignedIn,
    segments: Result<Path<(String, String)>, PathRejection>,
) -> Result<StatusCode, ApiError> {
    let (union, id) = params::path(segments)?;
    let union = params::address(&union, "address")?;
    service::revoke_secret(&services, who.0, union, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
