//! `/api/v1/unions/{address}/members`: the member list (parted members included) and one member's
//! figures with the proof to withdraw with.

use std::collections::HashMap;
use std::sync::Arc;

use alloy::primitives::Address;
use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use serde::Serialize;
use utoipa::ToSchema;

use super::Answer;
use super::openapi::params::{MemberPath, MembersQuery, Paging, UnionPath};
use super::openapi::schemas::AnswerAddress;
use super::openapi::{BadRequest, Conflict, NotFound};
use super::params::{self, Page, Params};
use crate::http::{ApiError, Services};
use crate::service::relay::{self, RelayQuote, Relayed, SignedWithdrawal};
use crate::service::unions::{self as service, AddressSearch, Figures, Member, MemberStatus, find};

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = MemberList)]
pub struct List {
    #[schema(value_type = AnswerAddress)]
    address: Address,
    #[serde(flatten)]
    page: Page,
    /// Members matching the filters, on all pages.
    total: usize,
    members: Vec<Member>,
}

/// A Data Union's members
///
/// Members in leaf order, parted members included, filtered by `status` and `search`, a page at a time.
#[utoipa::path(
    get,
    path = "/api/v1/unions/{address}/members",
    operation_id = "listMembers",
    params(UnionPath, Paging, MembersQuery),
    responses(
        (
            status = 200,
            description = "A page of members",
            body = inline(Answer<List>),
            links(("member" = (
                operation_id = "getMember",
                parameters(("address" = "$request.path.address"), ("member" = "$response.body#/members/0/address"))
            )))
        ),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
    )
)]
pub async fn list(
    State(services): State<Arc<Services>>,
    address: Result<Path<String>, PathRejection>,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<Answer<List>, ApiError> {
    let address = params::address(&params::path(address)?, "address")?;
    let params = Params::from_query(query)?;
    let page = params.page()?;
    let status = params.named::<MemberStatus>("status")?;
    let search = params.search("search", 42)?.map(|text| AddressSearch::parse(&text, "search")).transpose()?;
    let unions = services.models.unions().await;
    let (total, members) = service::members(find(&unions, &address)?, status, search.as_ref(), page);
    Ok(Answer::new(unions.as_of(), List { address, page, total, members }))
}

/// A member's figures and proof
///
/// One member's figures, judged at the chain time of the block the answer is as of; the proof is for
/// the newest unfrozen commit.
#[utoipa::path(
    get,
    path = "/api/v1/unions/{address}/members/{member}",
    operation_id = "getMember",
    params(MemberPath),
    responses(
        (status = 200, description = "The member", body = inline(Answer<Figures>)),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
    )
)]
pub async fn one(
    State(services): State<Arc<Services>>,
    segments: Result<Path<(String, String)>, PathRejection>,
) -> Result<Answer<Figures>, ApiError> {
    let (address, member) = params::path(segments)?;
    let address = params::address(&address, "address")?;
    let member = params::address(&member, "member")?;
    service::at_chain_time(&services, |models, now| {
        let union = find(&models.unions, &address)?;
        let figures = service::figures(union, member, now).ok_or_else(|| {
            ApiError::NotFound(format!(
                "{member} has never been a member of data union {address} (as of block {})",
                models.as_of()
            ))
        })?;
        Ok(Answer::new(models.as_of(), figures))
    })
    .await
}

/// What relaying a withdrawal costs
///
/// For a member without ETH: the fee this server's relayer takes (DATA wei, covering the gas now at
/// the DATA/WETH pool's price) and the `nonce` the member signs in an EIP-712 `Withdrawal(address
/// member,address recipient,uint256 fee,uint256 nonce,uint256 deadline)` of the domain `Coop Data
/// Union`, version `2`, this chain, the union as verifying contract. 409 `not_served` when this
/// server relays nothing or not for this union, `nothing_to_withdraw` when nothing is withdrawable.
#[utoipa::path(
    get,
    path = "/api/v1/unions/{address}/members/{member}/relay",
    operation_id = "getRelayQuote",
    params(MemberPath),
    responses(
        (status = 200, description = "The fee and the nonce to sign", body = RelayQuote),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
    )
)]
pub async fn relay_quote(
    State(services): State<Arc<Services>>,
    segments: Result<Path<(String, String)>, PathRejection>,
) -> Result<Json<RelayQuote>, ApiError> {
    let (address, member) = params::path(segments)?;
    let (union, member) = (params::address(&address, "address")?, params::address(&member, "member")?);
    Ok(Json(relay::quote(&services, union, member).await?))
}

/// Relay a signed withdrawal
///
/// Checks the member's signed withdrawal of everything withdrawable (`withdrawAllToSigned`), runs it
/// dry, and has this server's relayer send it: the fee to the relayer, the rest to the recipient. The
/// answer comes before it is mined (202); the member's figures show it once it is (`withdrawn`).
/// The fee must be at least the quote's; the signature must be the member's (an account's key; a
/// contract wallet's signature is checked by the union itself, but not relayed here).
#[utoipa::path(
    post,
    path = "/api/v1/unions/{address}/members/{member}/relay",
    operation_id = "relayWithdrawal",
    params(MemberPath),
    request_body = SignedWithdrawal,
    responses(
        (status = 202, description = "The withdrawal, on its way", body = Relayed),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
    )
)]
pub async fn relay_withdrawal(
    State(services): State<Arc<Services>>,
    segments: Result<Path<(String, String)>, PathRejection>,
    json: Result<Json<serde_json::Value>, JsonRejection>,
) -> Result<(axum::http::StatusCode, Json<Relayed>), ApiError> {
    let (address, member) = params::path(segments)?;
    let (union, member) = (params::address(&address, "address")?, params::address(&member, "member")?);
    let signed: SignedWithdrawal = params::body(json)?;
    Ok((axum::http::StatusCode::ACCEPTED, Json(relay::relay(&services, union, member, signed).await?)))
}
