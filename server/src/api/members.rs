//! `/api/v1/unions/{address}/members`: the member list (parted members included) and one member's
//! figures with the proof to withdraw with.

use std::collections::HashMap;
use std::sync::Arc;

use alloy::primitives::{Address, B256};
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use coop::engine::MemberView;
use serde::Serialize;

use super::params::{self, Page, Params};
use super::unions::find;
use super::{Answer, Wei};
use crate::http::{ApiError, Services};
use crate::unions::Union;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Member {
    address: Address,
    leaf_index: usize,
    earnings: Wei,
    active: bool,
    status: &'static str,
    first_joined_block: u64,
    withdrawn: Wei,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct List {
    address: Address,
    #[serde(flatten)]
    page: Page,
    /// Members matching the filters, on all pages.
    total: usize,
    members: Vec<Member>,
}

const STATUSES: [&str; 3] = ["all", "active", "parted"];

/// Members in leaf order (the order they first joined): every address that ever joined, parted ones
/// with the earnings they keep. An owner's leaf that never joined is not a member.
pub async fn list(
    State(services): State<Arc<Services>>,
    address: Result<Path<String>, PathRejection>,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<Answer<List>, ApiError> {
    let address = params::address(&params::path(address)?, "address")?;
    let params = Params::from_query(query)?;
    let page = params.page()?;
    let status = params.choice("status", &STATUSES)?;
    let search = params.search("search", 42)?;
    if let Some(search) = &search {
        let hex = search.strip_prefix("0x").unwrap_or(search);
        if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(ApiError::BadRequest {
                code: "invalid_search",
                message: format!("`search` is {search:?}, but must be hex digits of an address"),
                field: Some("search"),
            });
        }
    }
    let unions = services.unions.read().await;
    let union = find(&unions, &address)?;
    let matches = |member: &(MemberView, u64)| {
        let (view, _) = member;
        let status_matches = match status {
            "active" => view.active,
            "parted" => !view.active,
            _ => true,
        };
        let search_matches = search.as_ref().is_none_or(|search| {
            let text = format!("{:#x}", view.address);
            let hex = search.strip_prefix("0x").unwrap_or(search);
            if search.starts_with("0x") { text[2..].starts_with(hex) } else { text[2..].contains(hex) }
        });
        status_matches && search_matches
    };
    let joined = || union.state().members().filter_map(|view| Some((view, union.first_joined(&view.address)?)));
    let total = joined().filter(matches).count();
    let members =
        page.of(joined().filter(matches)).into_iter().map(|(view, first)| member(union, view, first)).collect();
    Ok(Answer::new(unions.as_of(), List { address, page, total, members }))
}

fn member(union: &Union, view: MemberView, first_joined_block: u64) -> Member {
    Member {
        address: view.address,
        leaf_index: view.index,
        earnings: Wei(view.earnings),
        active: view.active,
        status: if view.active { "active" } else { "parted" },
        first_joined_block,
        withdrawn: Wei(union.withdrawn(&view.address)),
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Figures {
    union: Address,
    address: Address,
    leaf_index: usize,
    active: bool,
    /// `null` for an owner's leaf that never joined.
    first_joined_block: Option<u64>,
    /// Lifetime earnings now.
    earnings: Wei,
    /// Lifetime earnings in the latest commit.
    committed: Wei,
    /// Earnings in the newest commit whose freeze has passed, minus what was withdrawn on chain.
    withdrawable: Wei,
    /// Committed earnings still frozen.
    frozen: Wei,
    withdrawn: Wei,
    /// What `withdrawAll(block, earnings, proof)` takes; `null` until a commit is unfrozen.
    proof: Option<Proof>,
    /// The chain time the freeze was judged at: the timestamp of the block the answer is as of.
    chain_time: u64,
}

#[derive(Serialize)]
pub struct Proof {
    block: u64,
    earnings: Wei,
    proof: Vec<B256>,
}

/// How often to re-read when the unions move between reading the block time and taking the lock.
const ATTEMPTS: usize = 3;

pub async fn one(
    State(services): State<Arc<Services>>,
    segments: Result<Path<(String, String)>, PathRejection>,
) -> Result<Answer<Figures>, ApiError> {
    let (address, member) = params::path(segments)?;
    let address = params::address(&address, "address")?;
    let member = params::address(&member, "member")?;
    let mut attempt = 0;
    loop {
        attempt += 1;
        let block = services.unions.read().await.as_of();
        let now = services.clock.time_of(&services.chain, block).await?;
        // A read lock: the union builds missing books behind a lock of its own cache.
        let unions = services.unions.read().await;
        let as_of = unions.as_of();
        if as_of != block && attempt < ATTEMPTS {
            continue;
        }
        let union = find(&unions, &address)?;
        let Some(view) = union.state().member(&member) else {
            return Err(ApiError::NotFound(format!(
                "{member} has never been a member of data union {address} (as of block {as_of})"
            )));
        };
        let figures = union.figures(&member, now);
        let answer = Figures {
            union: address,
            address: member,
            leaf_index: view.index,
            active: view.active,
            first_joined_block: union.first_joined(&member),
            earnings: Wei(figures.earnings),
            committed: Wei(figures.committed),
            withdrawable: Wei(figures.withdrawable),
            frozen: Wei(figures.frozen),
            withdrawn: Wei(figures.withdrawn),
            proof: figures.proof.map(|p| Proof { block: p.block, earnings: Wei(p.earnings), proof: p.proof }),
            chain_time: now,
        };
        return Ok(Answer::new(as_of, answer));
    }
}
