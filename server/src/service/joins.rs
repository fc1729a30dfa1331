//! Joining a Data Union: filing a signed join request, its status beside the chain, and the owner's
//! actions (the request list, approvals, rejections, removals, shared secrets). Owner actions take
//! the signed-in address and ask the chain who owns the union.

use std::time::{SystemTime, UNIX_EPOCH};

use alloy::primitives::{Address, B256, keccak256};
use alloy::providers::Provider;
pub use app::unions::Decision;
use app::unions::RequestStatus;
use coop::contracts::DataUnion;
use serde::Serialize;
use utoipa::ToSchema;

use crate::api::openapi::schemas::AnswerAddress;
use crate::api::params::Page;
use crate::http::ErrorCode;
use crate::http::{ApiError, Services};
use crate::joins::{MAX_AGE_SECS, MAX_WAITING_PER_MEMBER, MAX_WAITING_PER_UNION, join_message};
use crate::signatures::{self, MAX_SIGNATURE_BYTES};
use crate::store::{Filed, JoinRequest, JoinSecret, JoinState};

/// How far ahead of the server's clock a request's `issuedAt` may be.
const MAX_AHEAD_SECS: i64 = 60;

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

fn bad(code: ErrorCode, field: &'static str, message: impl Into<String>) -> ApiError {
    ApiError::BadRequest { code, message: message.into(), field: Some(field) }
}

/// A request's status as the API shows it: its stored state, or what the chain says of the member
/// since (joined, or parted after a removal). An active member has joined (unless the owner rejected
/// it since); one that joined and is not active any more was removed.
fn beside_chain(state: JoinState, active: bool) -> RequestStatus {
    match state {
        JoinState::Rejected => RequestStatus::Rejected,
        _ if active => RequestStatus::Joined,
        JoinState::Joined => RequestStatus::Parted,
        stored => shown(stored),
    }
}

/// A stored state as shown without the chain.
fn shown(state: JoinState) -> RequestStatus {
    match state {
        JoinState::Pending => RequestStatus::Pending,
        JoinState::Approved => RequestStatus::Approved,
        JoinState::Rejected => RequestStatus::Rejected,
        JoinState::Sent => RequestStatus::Sent,
        JoinState::Joined => RequestStatus::Joined,
    }
}

/// What the API shows of a request.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = JoinRequest)]
pub struct RequestView {
    #[schema(value_type = AnswerAddress)]
    pub union: Address,
    #[schema(value_type = AnswerAddress)]
    pub member: Address,
    /// `sent`: the join-part agent sent `addMembers`; `joined`: the chain shows the member active;
    /// `parted`: joined once, removed since (only in a member's own view).
    pub status: RequestStatus,
    /// The signed time of the request (Unix seconds).
    pub issued_at: i64,
    /// Whether a shared secret approved it.
    pub by_secret: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

impl From<JoinRequest> for RequestView {
    fn from(request: JoinRequest) -> Self {
        Self {
            union: request.union,
            member: request.member,
            status: shown(request.status),
            issued_at: request.issued_at,
            by_secret: request.secret_id.is_some(),
            created_at: request.created_at,
            updated_at: request.updated_at,
        }
    }
}

/// The union must be indexed; returns whether `member` is an active member of it.
async fn union_membership(services: &Services, union: Address, member: Address) -> Result<bool, ApiError> {
    let unions = services.models.unions().await;
    let union = unions.get(&union).ok_or_else(|| ApiError::NotFound(format!("no Data Union at {union}")))?;
    Ok(union.state().member(&member).is_some_and(|m| m.active))
}

/// Refuses anyone but the union's owner: 404 for a union not indexed, 403 for another address. The
/// owner is asked of the contract at the confirmed block (head minus the confirmations), not read
/// from this instance's models: a replica may be blocks behind a transfer of ownership, and a
/// deposed owner must not approve, remove or make secrets meanwhile. A union younger than the
/// confirmation depth is asked at its creation block: its creator owned it then.
async fn owner_only(services: &Services, union: Address, who: Address) -> Result<(), ApiError> {
    let created = services.models.unions().await.get(&union).map(|found| found.created_block);
    let created = created.ok_or_else(|| ApiError::NotFound(format!("no Data Union at {union}")))?;
    let owner = confirmed_owner(services, union, created).await?;
    if owner != who {
        return Err(ApiError::Forbidden {
            code: ErrorCode::NotOwner,
            message: format!("only the owner of {union} can do this, and {who} is not"),
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
            code: ErrorCode::NoJoinAgent,
            message: "this server runs no join-part agent, so it cannot add members to any Data Union".to_owned(),
        });
    };
    let owner = services.models.unions().await.get(&union).map(|found| found.state().owner());
    if let Some(owner) = owner
        && !services.serving.policy.admits(owner)
    {
        return Err(ApiError::Conflict {
            code: ErrorCode::NotServed,
            message: format!("this server does not serve the Data Unions of {owner}, the owner of {union}"),
        });
    }
    if !is_union_agent(services, union, agent).await? {
        return Err(ApiError::Conflict {
            code: ErrorCode::NotServed,
            message: format!(
                "this server adds members with its join-part agent {agent}, which is not an agent of {union}; the \
                 owner can add it with `addJoinPartAgent`"
            ),
        });
    }
    Ok(())
}

/// A signed join request, as a member files it.
#[derive(Debug, Clone)]
pub struct NewRequest {
    pub member: Address,
    /// The time written into the signed message.
    pub issued_at: i64,
    /// Hex of the member's signature of [`join_message`].
    pub signature: String,
    /// A shared secret of the union, which approves the request at once; blank is none.
    pub secret: Option<String>,
}

/// Files `request` to join `union`, checked in order: fresh, signed by the member (or its contract
/// account), a known secret, not a member already, within the waiting quotas, and served by this
/// server's agent.
pub async fn file(services: &Services, union: Address, request: NewRequest) -> Result<RequestView, ApiError> {
    let NewRequest { member, issued_at, .. } = request;
    let now = now();
    if issued_at < now - MAX_AGE_SECS || issued_at > now + MAX_AHEAD_SECS {
        return Err(bad(
            ErrorCode::StaleRequest,
            "issuedAt",
            format!("`issuedAt` must be within {MAX_AGE_SECS} seconds of now ({now}); sign a new request"),
        ));
    }
    let signature = signatures::parse(&request.signature).ok_or_else(|| {
        bad(
            ErrorCode::MalformedSignature,
            "signature",
            format!("`signature` is not hex of 1 to {MAX_SIGNATURE_BYTES} bytes"),
        )
    })?;
    let message = join_message(union, member, services.chain_id, issued_at);
    // Its account's ECDSA signature, or its contract's (a Safe's, say) approval (EIP-1271).
    if !signatures::is_signed_by(&services.chain, member, message.as_bytes(), &signature).await? {
        return Err(bad(
            ErrorCode::BadSignature,
            "signature",
            "`signature` is not the member's signature of the join message",
        ));
    }
    let secret_id = secret_of(services, union, request.secret.as_deref()).await?;
    let active = union_membership(services, union, member).await?;
    if active {
        return Err(ApiError::Conflict {
            code: ErrorCode::AlreadyMember,
            message: format!("{member} is already a member"),
        });
    }
    if secret_id.is_none() {
        check_quotas(services, union, member).await?;
    }
    served_here(services, union).await?;
    let status = JoinState::of_new_request(secret_id.is_some());
    // A request that joined, of a member no longer active (removed since), may be replaced.
    let parted = !active;
    let filed = services
        .store
        .file_join_request(union, member, status, issued_at, &request.signature, secret_id.as_deref(), parted, now)
        .await?;
    match filed {
        Filed::Stored(stored) => {
            tracing::info!(target: "joins", %union, %member, %status, "join request filed");
            Ok(RequestView::from(stored))
        }
        Filed::NotNewer => Err(bad(
            ErrorCode::ReplayedRequest,
            "issuedAt",
            "a request as new as this one was already filed; sign a new request",
        )),
        Filed::AlreadyRequested(existing) => Err(ApiError::Conflict {
            code: ErrorCode::AlreadyRequested,
            message: format!("{member} already has a request that is {}", existing.status),
        }),
    }
}

/// The id of the union's join secret `secret` names, `None` without one; a 400 when it names none.
async fn secret_of(services: &Services, union: Address, secret: Option<&str>) -> Result<Option<String>, ApiError> {
    let Some(secret) = secret.map(str::trim).filter(|s| !s.is_empty()) else { return Ok(None) };
    let value: B256 = secret
        .parse()
        .map_err(|_| bad(ErrorCode::MalformedSecret, "secret", "`secret` is not 0x and 64 hex digits"))?;
    let id = services.store.find_join_secret(union, keccak256(value)).await?;
    let id =
        id.ok_or_else(|| bad(ErrorCode::UnknownSecret, "secret", "`secret` is not a secret of this Data Union"))?;
    Ok(Some(id))
}

/// A request without a secret waits for the owner: a union, and a member, may have only so many
/// waiting at once.
async fn check_quotas(services: &Services, union: Address, member: Address) -> Result<(), ApiError> {
    let (waiting_in_union, waiting_of_member) = services.store.waiting_join_requests(union, member).await?;
    if waiting_in_union >= MAX_WAITING_PER_UNION {
        return Err(ApiError::Conflict {
            code: ErrorCode::QuotaExceeded,
            message: format!("{union} has {waiting_in_union} requests waiting for its owner; try again later"),
        });
    }
    if waiting_of_member >= MAX_WAITING_PER_MEMBER {
        return Err(ApiError::Conflict {
            code: ErrorCode::QuotaExceeded,
            message: format!(
                "{member} has {waiting_of_member} requests waiting in other unions; wait for their owners"
            ),
        });
    }
    Ok(())
}

/// `member`'s request to join `union`; `joined` also when the chain says so, `parted` once a joined
/// member was removed. `None` when it never asked; a 404 when there is no such union.
pub async fn status(services: &Services, union: Address, member: Address) -> Result<Option<RequestView>, ApiError> {
    let active = union_membership(services, union, member).await?;
    let Some(request) = services.store.join_request(union, member).await? else { return Ok(None) };
    // The store keeps a request as it was when it joined; the chain says what happened since.
    let status = beside_chain(request.status, active);
    Ok(Some(RequestView { status, ..RequestView::from(request) }))
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = JoinRequestList)]
pub struct RequestList {
    pub offset: u64,
    #[schema(minimum = 1)]
    pub limit: u64,
    /// Requests on all pages (of the asked status).
    pub total: u64,
    pub requests: Vec<RequestView>,
    /// This server's join-part agent, which carries out the approved requests; `null` when this server
    /// runs none.
    #[schema(required = true)]
    pub agent: Option<AgentView>,
}

#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AgentView {
    #[schema(value_type = AnswerAddress)]
    pub address: Address,
    /// Whether the union lists it as a join-part agent now (approved requests wait while it does not);
    /// `null` when the chain could not be asked, so the requests are still listed.
    #[schema(required = true)]
    pub is_union_agent: Option<bool>,
}

/// The union's join requests (of one state, when given), a page at a time: owner only.
pub async fn requests(
    services: &Services,
    who: Address,
    union: Address,
    status: Option<JoinState>,
    page: Page,
) -> Result<RequestList, ApiError> {
    owner_only(services, union, who).await?;
    let (requests, total) = services.store.join_requests_page(union, status, page.offset, page.limit).await?;
    let agent = match services.join_agent {
        Some(address) => {
            Some(AgentView { address, is_union_agent: is_union_agent(services, union, address).await.ok() })
        }
        None => None,
    };
    let requests = requests.into_iter().map(RequestView::from).collect();
    Ok(RequestList { offset: page.offset, limit: page.limit, total, requests, agent })
}

/// The states an owner's decision takes a request from, and to.
fn transition(decision: Decision) -> (&'static [JoinState], JoinState) {
    match decision {
        Decision::Approve => (JoinState::APPROVABLE, JoinState::Approved),
        Decision::Reject => (JoinState::REJECTABLE, JoinState::Rejected),
    }
}

/// Approves or rejects `member`'s request: owner only.
pub async fn decide(
    services: &Services,
    who: Address,
    union: Address,
    member: Address,
    decision: Decision,
) -> Result<RequestView, ApiError> {
    owner_only(services, union, who).await?;
    let (from, to) = transition(decision);
    let existing = services
        .store
        .join_request(union, member)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("{member} has not asked to join {union}")))?;
    if !services.store.move_join_request(union, member, from, to, now()).await? {
        return Err(ApiError::Conflict {
            code: ErrorCode::NotDecidable,
            message: format!(
                "the request of {member} is {}; only {} ones can be {to}",
                existing.status,
                from.iter().map(|state| state.as_str()).collect::<Vec<_>>().join(" or ")
            ),
        });
    }
    tracing::info!(target: "joins", %union, %member, %to, "join request decided");
    let request = services.store.join_request(union, member).await?;
    Ok(RequestView::from(request.unwrap_or(existing)))
}

/// Queues `member`'s removal for the join-part agent: owner only.
pub async fn remove(services: &Services, who: Address, union: Address, member: Address) -> Result<(), ApiError> {
    owner_only(services, union, who).await?;
    if !union_membership(services, union, member).await? {
        return Err(ApiError::Conflict {
            code: ErrorCode::NotAMember,
            message: format!("{member} is not an active member"),
        });
    }
    services.store.request_part(union, member, now()).await?;
    tracing::info!(target: "joins", %union, %member, "removal queued");
    Ok(())
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Secret)]
pub struct SecretView {
    pub id: String,
    pub name: String,
    pub created_at: i64,
    /// The secret itself: only in the answer that creates it.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<crate::api::openapi::schemas::Hash>, nullable = false)]
    pub secret: Option<B256>,
}

impl SecretView {
    fn new(secret: JoinSecret, value: Option<B256>) -> Self {
        Self { id: secret.id, name: secret.name, created_at: secret.created_at, secret: value }
    }
}

/// A new shared secret named `name` (1 to 100 characters): its value is in this answer and nowhere
/// else. Owner only.
pub async fn create_secret(
    services: &Services,
    who: Address,
    union: Address,
    name: &str,
) -> Result<SecretView, ApiError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(bad(ErrorCode::InvalidName, "name", "`name` must be 1 to 100 characters"));
    }
    owner_only(services, union, who).await?;
    let value = B256::random();
    let id = format!("{:x}", B256::random())[..16].to_owned();
    let secret = services.store.add_join_secret(union, &id, name, keccak256(value), now()).await?;
    tracing::info!(target: "joins", %union, id, "secret created");
    Ok(SecretView::new(secret, Some(value)))
}

/// The union's secrets, names and ids, never the values: owner only.
pub async fn secrets(services: &Services, who: Address, union: Address) -> Result<Vec<SecretView>, ApiError> {
    owner_only(services, union, who).await?;
    let secrets = services.store.join_secrets(union).await?;
    Ok(secrets.into_iter().map(|s| SecretView::new(s, None)).collect())
}

/// Revokes the secret `id`: links carrying it stop working. Owner only.
pub async fn revoke_secret(services: &Services, who: Address, union: Address, id: &str) -> Result<(), ApiError> {
    owner_only(services, union, who).await?;
    if !services.store.delete_join_secret(union, id).await? {
        return Err(ApiError::NotFound(format!("{union} has no secret {id}")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chain_says_joined_or_parted_over_what_the_store_kept() {
        let shown = |state, active| serde_json::to_value(beside_chain(state, active)).unwrap();
        assert_eq!(shown(JoinState::Sent, true), "joined");
        assert_eq!(shown(JoinState::Joined, false), "parted");
        assert_eq!(shown(JoinState::Rejected, true), "rejected", "an owner's rejection stands");
        assert_eq!(shown(JoinState::Pending, false), "pending");
        assert_eq!(shown(JoinState::Approved, false), "approved");
    }
}
