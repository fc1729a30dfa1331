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
use utoipa::ToSchema;

use crate::api::openapi::params::{JoinRequestsQuery, MemberPath, Paging, SecretPath, UnionPath};
use crate::api::openapi::schemas::{Address as AnyAddress, AnswerAddress, Signature};
use crate::api::openapi::{BadRequest, Conflict, Forbidden, NotFound, Unauthorized};
use crate::api::params::{self, Params};
use crate::auth::SignedIn;
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

/// The union and member a path names.
fn union_and_member(segments: Result<Path<(String, String)>, PathRejection>) -> Result<(Address, Address), ApiError> {
    let (union, member) = params::path(segments)?;
    Ok((params::address(&union, "address")?, params::address(&member, "member")?))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = NewJoinRequest)]
pub struct NewRequest {
    #[schema(value_type = AnyAddress)]
    member: String,
    /// Unix seconds; within 10 minutes of the server's time and newer than the member's last request.
    issued_at: i64,
    /// EIP-191 personal_sign by the member of: "Join the Data Union {union} on Coop\nMember:
    /// {member}\nChain ID: {chainId}\nIssued At: {issuedAt}" (addresses checksummed). A member whose
    /// account is a contract (a Safe, say) sends a signature its isValidSignature (EIP-1271) accepts.
    #[schema(value_type = Signature)]
    signature: String,
    /// A shared secret of the union (0x and 64 hex digits): approves the request at once.
    #[schema(nullable = false)]
    secret: Option<String>,
}

/// Ask to join a Data Union
///
/// A join request signed by the member's wallet. With a valid shared secret it is approved at once,
/// otherwise it waits for the owner. Approved members are added on chain by the join-part agent.
/// Refused with 409 when the member already is one or has a request, and when this server cannot
/// add members to the union: it runs no join-part agent (`no_join_agent`) or its agent is not one
/// of the union's (`not_served`). At most 10,000 requests wait for one union's owner and 20 for one
/// member across unions (409 `quota_exceeded`; a request with the union's secret does not wait).
#[utoipa::path(
    post,
    path = "/api/v1/unions/{address}/join-requests",
    operation_id = "fileJoinRequest",
    params(UnionPath),
    request_body = NewRequest,
    responses(
        (
            status = 201,
            description = "The request, pending or approved",
            body = RequestView,
            links(("request" = (
                operation_id = "getJoinRequest",
                parameters(("address" = "$request.path.address"), ("member" = "$response.body#/member"))
            )))
        ),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
    )
)]
async fn file(
    State(services): State<Arc<Services>>,
    segments: Result<Path<String>, PathRejection>,
    json: Result<Json<serde_json::Value>, JsonRejection>,
) -> Result<Response, ApiError> {
    let union = params::address(&params::path(segments)?, "address")?;
    let request: NewRequest = params::body(json)?;
    let request = service::NewRequest {
        member: params::address(&request.member, "member")?,
        issued_at: request.issued_at,
        signature: request.signature,
        secret: request.secret,
    };
    let filed = service::file(&services, union, request).await?;
    Ok((StatusCode::CREATED, Json(filed)).into_response())
}

/// A union's join requests
///
/// Oldest first, with this server's join-part agent and whether the union lists it as one of its
/// agents now (approved requests wait while it does not). Owner only: the signed-in address
/// (Sign-in with Ethereum session cookie) must be the union's current owner.
#[utoipa::path(
    get,
    path = "/api/v1/unions/{address}/join-requests",
    operation_id = "listJoinRequests",
    params(UnionPath, Paging, JoinRequestsQuery),
    security(("session" = [])),
    responses(
        (status = 200, description = "The requests", body = RequestList),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    )
)]
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

/// A member's join request
///
/// Its status; `joined` when the chain shows the member active, `parted` once a joined member was
/// removed.
#[utoipa::path(
    get,
    path = "/api/v1/unions/{address}/join-requests/{member}",
    operation_id = "getJoinRequest",
    params(MemberPath),
    responses(
        (status = 200, description = "The request", body = RequestView),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
    )
)]
async fn status(
    State(services): State<Arc<Services>>,
    segments: Result<Path<(String, String)>, PathRejection>,
) -> Result<Json<RequestView>, ApiError> {
    let (union, member) = union_and_member(segments)?;
    let request = service::status(&services, union, member).await?;
    Ok(Json(request.ok_or_else(|| ApiError::NotFound(format!("{member} has not asked to join {union}")))?))
}

/// Approve a join request
///
/// A pending or rejected one. Owner only: the signed-in address (Sign-in with Ethereum session
/// cookie) must be the union's current owner.
#[utoipa::path(
    post,
    path = "/api/v1/unions/{address}/join-requests/{member}/approve",
    operation_id = "approveJoinRequest",
    params(MemberPath),
    security(("session" = [])),
    responses(
        (status = 200, description = "The request", body = RequestView),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
    )
)]
async fn approve(
    State(services): State<Arc<Services>>,
    who: SignedIn,
    segments: Result<Path<(String, String)>, PathRejection>,
) -> Result<Json<RequestView>, ApiError> {
    let (union, member) = union_and_member(segments)?;
    Ok(Json(service::decide(&services, who.0, union, member, Decision::Approve).await?))
}

/// Reject a join request
///
/// A pending or approved one. Owner only: the signed-in address (Sign-in with Ethereum session
/// cookie) must be the union's current owner.
#[utoipa::path(
    post,
    path = "/api/v1/unions/{address}/join-requests/{member}/reject",
    operation_id = "rejectJoinRequest",
    params(MemberPath),
    security(("session" = [])),
    responses(
        (status = 200, description = "The request", body = RequestView),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
    )
)]
async fn reject(
    State(services): State<Arc<Services>>,
    who: SignedIn,
    segments: Result<Path<(String, String)>, PathRejection>,
) -> Result<Json<RequestView>, ApiError> {
    let (union, member) = union_and_member(segments)?;
    Ok(Json(service::decide(&services, who.0, union, member, Decision::Reject).await?))
}

#[derive(Serialize, ToSchema)]
pub struct Removal {
    #[schema(value_type = AnswerAddress)]
    union: Address,
    #[schema(value_type = AnswerAddress)]
    member: Address,
    #[schema(schema_with = queued)]
    status: &'static str,
}

fn queued() -> utoipa::openapi::schema::Object {
    crate::api::openapi::schemas::one_of(&["queued"])
}

/// Remove a member
///
/// Queues `partMembers` for the join-part agent. A parted member keeps its earnings and can still
/// withdraw. Owner only: the signed-in address (Sign-in with Ethereum session cookie) must be the
/// union's current owner.
#[utoipa::path(
    post,
    path = "/api/v1/unions/{address}/members/{member}/remove",
    operation_id = "removeMember",
    params(MemberPath),
    security(("session" = [])),
    responses(
        (status = 202, description = "Queued", body = Removal),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
    )
)]
async fn remove(
    State(services): State<Arc<Services>>,
    who: SignedIn,
    segments: Result<Path<(String, String)>, PathRejection>,
) -> Result<Response, ApiError> {
    let (union, member) = union_and_member(segments)?;
    service::remove(&services, who.0, union, member).await?;
    Ok((StatusCode::ACCEPTED, Json(Removal { union, member, status: "queued" })).into_response())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSecret {
    #[schema(min_length = 1, max_length = 100)]
    name: String,
}

/// Create a shared secret
///
/// 32 random bytes; the value is in this answer only, the server keeps its keccak256. Owner only:
/// the signed-in address (Sign-in with Ethereum session cookie) must be the union's current owner.
#[utoipa::path(
    post,
    path = "/api/v1/unions/{address}/secrets",
    operation_id = "createSecret",
    params(UnionPath),
    request_body = NewSecret,
    security(("session" = [])),
    responses(
        (
            status = 201,
            description = "The secret, with its value",
            body = SecretView,
            links(("delete" = (
                operation_id = "deleteSecret",
                parameters(("address" = "$request.path.address"), ("id" = "$response.body#/id"))
            )))
        ),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
    )
)]
async fn create_secret(
    State(services): State<Arc<Services>>,
    who: SignedIn,
    segments: Result<Path<String>, PathRejection>,
    json: Result<Json<serde_json::Value>, JsonRejection>,
) -> Result<Response, ApiError> {
    let union = params::address(&params::path(segments)?, "address")?;
    let request: NewSecret = params::body(json)?;
    let secret = service::create_secret(&services, who.0, union, &request.name).await?;
    Ok((StatusCode::CREATED, Json(secret)).into_response())
}

#[derive(Serialize, ToSchema)]
pub struct SecretList {
    secrets: Vec<SecretView>,
}

/// A union's shared secrets
///
/// Ids and names, never the values. Owner only: the signed-in address (Sign-in with Ethereum
/// session cookie) must be the union's current owner.
#[utoipa::path(
    get,
    path = "/api/v1/unions/{address}/secrets",
    operation_id = "listSecrets",
    params(UnionPath),
    security(("session" = [])),
    responses(
        (status = 200, description = "The secrets", body = SecretList),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    )
)]
async fn secrets(
    State(services): State<Arc<Services>>,
    who: SignedIn,
    segments: Result<Path<String>, PathRejection>,
) -> Result<Json<SecretList>, ApiError> {
    let union = params::address(&params::path(segments)?, "address")?;
    Ok(Json(SecretList { secrets: service::secrets(&services, who.0, union).await? }))
}

/// Delete a shared secret
///
/// Owner only: the signed-in address (Sign-in with Ethereum session cookie) must be the union's
/// current owner.
#[utoipa::path(
    delete,
    path = "/api/v1/unions/{address}/secrets/{id}",
    operation_id = "deleteSecret",
    params(SecretPath),
    security(("session" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
    )
)]
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
