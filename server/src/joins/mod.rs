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

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use alloy::primitives::{Address, B256, keccak256};
use alloy::providers::Provider;
use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use coop::contracts::DataUnion;
use serde::{Deserialize, Serialize};

use crate::api::params::{self, Params};
use crate::auth::SignedIn;
use crate::http::{ApiError, RouteTable, Services};
use crate::signatures::{self, MAX_SIGNATURE_BYTES};
use crate::store::{Filed, JoinRequest, JoinSecret, JoinState};

/// Requests that may wait for one union's owner at once: anyone can file one, for any address it
/// holds a key of, so a union's list is bounded. A request with the union's secret does not wait.
pub const MAX_WAITING_PER_UNION: u64 = 10_000;
/// Requests one member may have waiting, across all unions.
pub const MAX_WAITING_PER_MEMBER: u64 = 20;

/// How old a signed join request may be, in seconds (and how far ahead of the server's clock).
pub const MAX_AGE_SECS: i64 = 10 * 60;
const MAX_AHEAD_SECS: i64 = 60;
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

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

fn bad(code: &'static str, field: &'static str, message: impl Into<String>) -> ApiError {
    ApiError::BadRequest { code, message: message.into(), field: Some(field) }
}

fn body<T>(json: Result<Json<T>, JsonRejection>) -> Result<T, ApiError> {
    json.map(|Json(value)| value).map_err(|rejection| bad("invalid_body", "body", rejection.body_text()))
}

/// A request's status as the API shows it: its stored state, or what the chain says of the member
/// since (joined, or parted after a removal).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(untagged)]
enum RequestStatus {
    Stored(JoinState),
    Derived(Membership),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
enum Membership {
    Joined,
    Parted,
}

impl RequestStatus {
    /// `state` as seen beside the chain: an active member has joined (unless the owner rejected it
    /// since); one that joined and is not active any more was removed.
    fn beside_chain(state: JoinState, active: bool) -> Self {
        match state {
            JoinState::Rejected => RequestStatus::Stored(state),
            _ if active => RequestStatus::Derived(Membership::Joined),
            JoinState::Joined => RequestStatus::Derived(Membership::Parted),
            _ => RequestStatus::Stored(state),
        }
    }
}

/// What the API shows of a request.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestView {
    union: Address,
    member: Address,
    status: RequestStatus,
    issued_at: i64,
    /// Whether a shared secret approved it.
    by_secret: bool,
    created_at: i64,
    updated_at: i64,
}

impl From<JoinRequest> for RequestView {
    fn from(request: JoinRequest) -> Self {
        Self {
            union: request.union,
            member: request.member,
            status: RequestStatus::Stored(request.status),
            issued_at: request.issued_at,
            by_secret: request.secret_id.is_some(),
            created_at: request.created_at,
            updated_at: request.updated_at,
        }
    }
}

/// The union must be indexed; returns whether `member` is an active member of it.
async fn union_membership(services: &Services, union: Address, member: Address) -> Result<bool, ApiError> {
    let unions = services.unions.read().await;
    let union = unions.get(&union).ok_or_else(|| ApiError::NotFound(format!("no Data Union at {union}")))?;
    Ok(union.state().member(&member).is_some_and(|m| m.active))
}

/// Refuses anyone but the union's owner: 404 for a union not indexed, 403 for another address. The
/// owner is asked of the contract at the confirmed block (head minus the confirmations), not read
/// from this instance's models: a replica may be blocks behind a transfer of ownership, and a
/// deposed owner must not approve, remove or make secrets meanwhile. A union younger than the
/// confirmation depth is asked at its creation block: its creator owned it then.
async fn owner_only(services: &Services, union: Address, who: SignedIn) -> Result<(), ApiError> {
    let created = services.unions.read().await.get(&union).map(|found| found.created_block);
    let created = created.ok_or_else(|| ApiError::NotFound(format!("no Data Union at {union}")))?;
    let owner = confirmed_owner(services, union, created).await?;
    if owner != who.0 {
        return Err(ApiError::Forbidden {
            code: "not_owner",
            message: format!("only the owner of {union} can do this, and {} is not", who.0),
        });
    }
    Ok(())
}

async fn confirmed_owner(services: &Services, union: Address, created: u64) -> Result<Address, ApiError> {
    let unavailable = |error: alloy::contract::Error| {
        ApiError::chain_unavailable(format_args!("asking {union} for its owner: {error}"))
    };
    let head = services.chain.get_block_number().await.map_err(|error| unavailable(error.into()))?;
    let confirmed = head.saturating_sub(services.confirmations).max(created);
    DataUnion::new(union, &services.chain).owner().block(confirmed.into()).call().await.map_err(unavailable)
}

/// Whether `union` lists `agent` as one of its join-part agents now (asked of the chain).
async fn is_union_agent(services: &Services, union: Address, agent: Address) -> Result<bool, ApiError> {
    DataUnion::new(union, &services.chain)
        .isJoinPartAgent(agent)
        .call()
        .await
        .map_err(|error| ApiError::chain_unavailable(format_args!("asking {union} for its join-part agents: {error}")))
}

/// Refuses join requests this server could never carry out: it runs no join-part agent, or its agent
/// is not (or no longer) one of the union's. An owner who removes the agent after a request was filed
/// leaves that request waiting until the agent is added back (the owner's list says so).
async fn served_here(services: &Services, union: Address) -> Result<(), ApiError> {
    let Some(agent) = services.join_agent else {
        return Err(ApiError::Conflict {
            code: "no_join_agent",
            message: "this server runs no join-part agent, so it cannot add members to any Data Union".to_owned(),
        });
    };
    let owner = services.unions.read().await.get(&union).map(|found| found.state().owner());
    if let Some(owner) = owner
        && !services.serving.policy.admits(owner)
    {
        return Err(ApiError::Conflict {
            code: "not_served",
            message: format!("this server does not serve the Data Unions of {owner}, the owner of {union}"),
        });
    }
    if !is_union_agent(services, union, agent).await? {
        return Err(ApiError::Conflict {
            code: "not_served",
            message: format!(
                "this server adds members with its join-part agent {agent}, which is not an agent of {union}; the \
                 owner can add it with `addJoinPartAgent`"
            ),
        });
    }
    Ok(())
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
    let member = params::address(&request.member, "member")?;
    let now = now();
    if request.issued_at < now - MAX_AGE_SECS || request.issued_at > now + MAX_AHEAD_SECS {
        return Err(bad(
            "stale_request",
            "issuedAt",
            format!("`issuedAt` must be within {MAX_AGE_SECS} seconds of now ({now}); sign a new request"),
        ));
    }
    let signature = signatures::parse(&request.signature).ok_or_else(|| {
        bad("malformed_signature", "signature", format!("`signature` is not hex of 1 to {MAX_SIGNATURE_BYTES} bytes"))
    })?;
    let message = join_message(union, member, services.chain_id, request.issued_at);
    // Its account's ECDSA signature, or its contract's (a Safe's, say) approval (EIP-1271).
    if !signatures::is_signed_by(&services.chain, member, message.as_bytes(), &signature).await? {
        return Err(bad("bad_signature", "signature", "`signature` is not the member's signature of the join message"));
    }
    let secret_id = match request.secret.as_deref().filter(|s| !s.trim().is_empty()) {
        None => None,
        Some(secret) => {
            let value: B256 = secret
                .trim()
                .parse()
                .map_err(|_| bad("malformed_secret", "secret", "`secret` is not 0x and 64 hex digits"))?;
            let id = services.store.find_join_secret(union, keccak256(value)).await?;
            Some(id.ok_or_else(|| bad("unknown_secret", "secret", "`secret` is not a secret of this Data Union"))?)
        }
    };
    let active = union_membership(&services, union, member).await?;
    if active {
        return Err(ApiError::Conflict { code: "already_member", message: format!("{member} is already a member") });
    }
    let (waiting_in_union, waiting_of_member) = services.store.waiting_join_requests(union, member).await?;
    if secret_id.is_none() && waiting_in_union >= MAX_WAITING_PER_UNION {
        return Err(ApiError::Conflict {
            code: "quota_exceeded",
            message: format!("{union} has {waiting_in_union} requests waiting for its owner; try again later"),
        });
    }
    if secret_id.is_none() && waiting_of_member >= MAX_WAITING_PER_MEMBER {
        return Err(ApiError::Conflict {
            code: "quota_exceeded",
            message: format!(
                "{member} has {waiting_of_member} requests waiting in other unions; wait for their owners"
            ),
        });
    }
    served_here(&services, union).await?;
    let status = JoinState::of_new_request(secret_id.is_some());
    // A request that joined, of a member no longer active (removed since), may be replaced.
    let parted = !active;
    let filed = services
        .store
        .file_join_request(
            union,
            member,
            status,
            request.issued_at,
            &request.signature,
            secret_id.as_deref(),
            parted,
            now,
        )
        .await?;
    match filed {
        Filed::Stored(stored) => {
            tracing::info!(target: "joins", %union, %member, %status, "join request filed");
            Ok((StatusCode::CREATED, Json(RequestView::from(stored))).into_response())
        }
        Filed::NotNewer => Err(bad(
            "replayed_request",
            "issuedAt",
            "a request as new as this one was already filed; sign a new request",
        )),
        Filed::AlreadyRequested(existing) => Err(ApiError::Conflict {
            code: "already_requested",
            message: format!("{member} already has a request that is {}", existing.status),
        }),
    }
}

#[derive(Serialize)]
pub struct RequestList {
    offset: u64,
    limit: u64,
    /// Requests on all pages.
    total: u64,
    requests: Vec<RequestView>,
    /// Who carries out the approved requests; `null` when this server runs no join-part agent.
    agent: Option<AgentView>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentView {
    address: Address,
    /// Whether the union lists it as a join-part agent now (approved requests wait while it does not);
    /// `null` when the chain could not be asked, so the requests are still listed.
    is_union_agent: Option<bool>,
}

/// `GET /api/v1/unions/{address}/join-requests?status=`, owner only.
async fn list(
    State(services): State<Arc<Services>>,
    who: SignedIn,
    segments: Result<Path<String>, PathRejection>,
    query: Result<Query<std::collections::HashMap<String, String>>, QueryRejection>,
) -> Result<Json<RequestList>, ApiError> {
    let union = params::address(&params::path(segments)?, "address")?;
    let query = Params::from_query(query)?;
    let status = match query.text("status") {
        None => None,
        Some(_) => JoinState::parse(query.choice("status", &JoinState::NAMES)?),
    };
    let page = query.page()?;
    owner_only(&services, union, who).await?;
    let (requests, total) = services.store.join_requests_page(union, status, page.offset, page.limit).await?;
    let agent = match services.join_agent {
        Some(address) => {
            Some(AgentView { address, is_union_agent: is_union_agent(&services, union, address).await.ok() })
        }
        None => None,
    };
    let requests = requests.into_iter().map(RequestView::from).collect();
    Ok(Json(RequestList { offset: page.offset, limit: page.limit, total, requests, agent }))
}

/// `GET /api/v1/unions/{address}/join-requests/{member}`: a member's request status; `joined` also
/// when the chain says so, `parted` once a joined member was removed.
async fn status(
    State(services): State<Arc<Services>>,
    segments: Result<Path<(String, String)>, PathRejection>,
) -> Result<Json<RequestView>, ApiError> {
    let (union, member) = params::path(segments)?;
    let (union, member) = (params::address(&union, "address")?, params::address(&member, "member")?);
    let active = union_membership(&services, union, member).await?;
    let request = services.store.join_request(union, member).await?;
    let request = request.ok_or_else(|| ApiError::NotFound(format!("{member} has not asked to join {union}")))?;
    // The store keeps a request as it was when it joined; the chain says what happened since.
    let status = RequestStatus::beside_chain(request.status, active);
    Ok(Json(RequestView { status, ..RequestView::from(request) }))
}

async fn decide(
    services: &Services,
    who: SignedIn,
    segments: Result<Path<(String, String)>, PathRejection>,
    from: &[JoinState],
    to: JoinState,
) -> Result<Json<RequestView>, ApiError> {
    let (union, member) = params::path(segments)?;
    let (union, member) = (params::address(&union, "address")?, params::address(&member, "member")?);
    owner_only(services, union, who).await?;
    let existing = services
        .store
        .join_request(union, member)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("{member} has not asked to join {union}")))?;
    if !services.store.move_join_request(union, member, from, to, now()).await? {
        return Err(ApiError::Conflict {
            code: "not_decidable",
            message: format!(
                "the request of {member} is {}; only {} ones can be {to}",
                existing.status,
                from.iter().map(|state| state.as_str()).collect::<Vec<_>>().join(" or ")
            ),
        });
    }
    tracing::info!(target: "joins", %union, %member, %to, "join request decided");
    let request = services.store.join_request(union, member).await?;
    Ok(Json(RequestView::from(request.unwrap_or(existing))))
}

/// `POST .../join-requests/{member}/approve`, owner only.
async fn approve(
    State(services): State<Arc<Services>>,
    who: SignedIn,
    segments: Result<Path<(String, String)>, PathRejection>,
) -> Result<Json<RequestView>, ApiError> {
    decide(&services, who, segments, JoinState::APPROVABLE, JoinState::Approved).await
}

/// `POST .../join-requests/{member}/reject`, owner only.
async fn reject(
    State(services): State<Arc<Services>>,
    who: SignedIn,
    segments: Result<Path<(String, String)>, PathRejection>,
) -> Result<Json<RequestView>, ApiError> {
    decide(&services, who, segments, JoinState::REJECTABLE, JoinState::Rejected).await
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
    let (union, member) = params::path(segments)?;
    let (union, member) = (params::address(&union, "address")?, params::address(&member, "member")?);
    owner_only(&services, union, who).await?;
    if !union_membership(&services, union, member).await? {
        return Err(ApiError::Conflict { code: "not_a_member", message: format!("{member} is not an active member") });
    }
    services.store.request_part(union, member, now()).await?;
    tracing::info!(target: "joins", %union, %member, "removal queued");
    Ok((StatusCode::ACCEPTED, Json(Removal { union, member, status: "queued" })).into_response())
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SecretView {
    id: String,
    name: String,
    created_at: i64,
    /// The secret itself: only in the answer that creates it.
    #[serde(skip_serializing_if = "Option::is_none")]
    secret: Option<B256>,
}

impl SecretView {
    fn new(secret: JoinSecret, value: Option<B256>) -> Self {
        Self { id: secret.id, name: secret.name, created_at: secret.created_at, secret: value }
    }
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
    let name = request.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(bad("invalid_name", "name", "`name` must be 1 to 100 characters"));
    }
    owner_only(&services, union, who).await?;
    let value = B256::random();
    let id = format!("{:x}", B256::random())[..16].to_owned();
    let secret = services.store.add_join_secret(union, &id, name, keccak256(value), now()).await?;
    tracing::info!(target: "joins", %union, id, "secret created");
    Ok((StatusCode::CREATED, Json(SecretView::new(secret, Some(value)))).into_response())
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
    owner_only(&services, union, who).await?;
    let secrets = services.store.join_secrets(union).await?;
    Ok(Json(SecretList { secrets: secrets.into_iter().map(|s| SecretView::new(s, None)).collect() }))
}

/// `DELETE /api/v1/unions/{address}/secrets/{id}`, owner only.
async fn delete_secret(
    State(services): State<Arc<Services>>,
    who: SignedIn,
    segments: Result<Path<(String, String)>, PathRejection>,
) -> Result<StatusCode, ApiError> {
    let (union, id) = params::path(segments)?;
    let union = params::address(&union, "address")?;
    owner_only(&services, union, who).await?;
    if !services.store.delete_join_secret(union, &id).await? {
        return Err(ApiError::NotFound(format!("{union} has no secret {id}")));
    }
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chain_says_joined_or_parted_over_what_the_store_kept() {
        let shown = |state, active| serde_json::to_value(RequestStatus::beside_chain(state, active)).unwrap();
        assert_eq!(shown(JoinState::Sent, true), "joined");
        assert_eq!(shown(JoinState::Joined, false), "parted");
        assert_eq!(shown(JoinState::Rejected, true), "rejected", "an owner's rejection stands");
        assert_eq!(shown(JoinState::Pending, false), "pending");
        assert_eq!(shown(JoinState::Approved, false), "approved");
    }
}
