//! `/api/v1/unions`: the list, one union's stats, its history, and its book at a block.

use std::collections::HashMap;
use std::sync::Arc;

use alloy::primitives::{Address, B256};
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use coop::engine::{Commit, latest_commit};
use serde::Serialize;
use tokio::sync::Semaphore;

use super::params::{self, Page, Params};
use super::{Answer, Wei};
use crate::http::{ApiError, Services};
use crate::unions::{BookBuild, BookJob, Quarantine, Union, Unions};

/// Books built at once for `/books/{block}`, each on a blocking thread and outside the unions' lock:
/// a stranger asking for the book of every block gets a 503, not the server's every core.
static BOOK_BUILDS: Semaphore = Semaphore::const_new(2);

/// What the list shows of a union.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    address: Address,
    owner: Address,
    /// The admin fee scaled by 1e18 (1e18 is 100 %).
    admin_fee: Wei,
    admin_fee_percent: String,
    active_members: u64,
    /// Addresses that have ever joined (parted ones included).
    total_members: u64,
    total_revenue: Wei,
    latest_commit: Option<CommitView>,
    created_block: u64,
    /// Seconds a commit stays frozen.
    freeze_period: u64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CommitView {
    /// The block whose book was committed.
    book_block: u64,
    root: B256,
    book_hash: B256,
    /// The block the commit transaction was mined in, and its time.
    committed_block: u64,
    committed_at: u64,
    /// From this chain time on, members can withdraw with it.
    provable_at: u64,
}

impl CommitView {
    fn new(commit: &Commit, freeze_period: u64) -> Self {
        Self {
            book_block: commit.book_block,
            root: commit.root,
            book_hash: commit.book_hash,
            committed_block: commit.key.block,
            committed_at: commit.timestamp,
            provable_at: commit.provable_at(freeze_period),
        }
    }
}

/// Members that have ever joined: the history's last point counts them.
fn total_members(union: &Union) -> u64 {
    union.history().last().map_or(0, |point| point.total_members)
}

fn summary(union: &Union) -> Summary {
    let state = union.state();
    Summary {
        address: union.address,
        owner: state.owner(),
        admin_fee: Wei(state.admin_fee().value()),
        admin_fee_percent: state.admin_fee().percent(),
        active_members: state.active_count(),
        total_members: total_members(union),
        total_revenue: Wei(state.totals().revenue),
        latest_commit: latest_commit(state.commits()).map(|c| CommitView::new(c, union.freeze_period)),
        created_block: union.created_block,
        freeze_period: union.freeze_period,
    }
}

/// The union at `address`, or a 404 that says which block the answer is as of, or a 409 that says
/// why the union was set aside.
pub(super) fn find<'a>(unions: &'a Unions, address: &Address) -> Result<&'a Union, ApiError> {
    if let Some(quarantine) = unions.quarantine(address) {
        return Err(quarantined(address, quarantine));
    }
    unions.get(address).ok_or_else(|| not_found(address, unions.as_of()))
}

pub(crate) fn quarantined(address: &Address, quarantine: &Quarantine) -> ApiError {
    ApiError::Conflict {
        code: "union_quarantined",
        message: format!("data union {address} is set aside and has no figures: {quarantine}"),
    }
}

pub(super) fn not_found(address: &Address, as_of: u64) -> ApiError {
    ApiError::NotFound(format!("no data union at {address} (as of block {as_of})"))
}

#[derive(Serialize)]
pub struct List {
    #[serde(flatten)]
    page: Page,
    total: usize,
    unions: Vec<Summary>,
}

/// Every union, oldest first, a page at a time.
pub async fn list(
    State(services): State<Arc<Services>>,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<Answer<List>, ApiError> {
    let params = Params::from_query(query)?;
    let page = params.page()?;
    let owner = params.address("owner")?;
    let unions = services.unions.read().await;
    let mut all: Vec<&Union> = unions.iter().filter(|u| owner.is_none_or(|o| u.state().owner() == o)).collect();
    all.sort_by_key(|union| (union.created_block, union.address));
    let total = all.len();
    let unions_page = page.of(all.into_iter()).into_iter().map(summary).collect();
    Ok(Answer::new(unions.as_of(), List { page, total, unions: unions_page }))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    #[serde(flatten)]
    summary: Summary,
    /// Leaves in the book: every address that ever joined, plus owners.
    leaf_count: usize,
    totals: Totals,
    /// Wei waiting for the next revenue because it did not divide evenly among the members.
    carry: Wei,
    commits: Vec<CommitView>,
    total_withdrawn: Wei,
    /// Member shares divided by the members that ever joined (rounded down).
    average_revenue_per_member: Wei,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Totals {
    revenue: Wei,
    admin_fees: Wei,
    /// Revenue credited to the owner because no member was active.
    owner_without_members: Wei,
    member_shares: Wei,
}

pub async fn one(
    State(services): State<Arc<Services>>,
    address: Result<Path<String>, PathRejection>,
) -> Result<Answer<Stats>, ApiError> {
    let address = params::address(&params::path(address)?, "address")?;
    let unions = services.unions.read().await;
    let union = find(&unions, &address)?;
    let state = union.state();
    let totals = state.totals();
    let members = total_members(union);
    let average =
        if members == 0 { Default::default() } else { totals.member_shares / alloy::primitives::U256::from(members) };
    let stats = Stats {
        summary: summary(union),
        leaf_count: state.leaf_count(),
        totals: Totals {
            revenue: Wei(totals.revenue),
            admin_fees: Wei(totals.admin_fees),
            owner_without_members: Wei(totals.owner_without_members),
            member_shares: Wei(totals.member_shares),
        },
        carry: Wei(state.carry()),
        commits: state.commits().iter().map(|c| CommitView::new(c, union.freeze_period)).collect(),
        total_withdrawn: Wei(union.total_withdrawn()),
        average_revenue_per_member: Wei(average),
    };
    Ok(Answer::new(unions.as_of(), stats))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct History {
    address: Address,
    points: Vec<Point>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Point {
    block: u64,
    active_members: u64,
    total_members: u64,
    /// Revenue received up to and including this block.
    revenue: Wei,
}

/// One point per block where members or revenue changed: what the charts draw.
pub async fn history(
    State(services): State<Arc<Services>>,
    address: Result<Path<String>, PathRejection>,
) -> Result<Answer<History>, ApiError> {
    let address = params::address(&params::path(address)?, "address")?;
    let unions = services.unions.read().await;
    let union = find(&unions, &address)?;
    let points = union
        .history()
        .iter()
        .map(|p| Point {
            block: p.block,
            active_members: p.active_members,
            total_members: p.total_members,
            revenue: Wei(p.revenue),
        })
        .collect();
    Ok(Answer::new(unions.as_of(), History { address, points }))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BookView {
    address: Address,
    block: u64,
    root: B256,
    book_hash: B256,
    leaf_count: usize,
    /// The commit of this block, if any, and whether this book is what it committed.
    commit: Option<BookCommit>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BookCommit {
    root: B256,
    book_hash: B256,
    committed_block: u64,
    /// Both the root and the book hash equal the committed ones.
    matches: bool,
}

/// The book at the end of `block`: its root, `bookHash`, and the canonical JSON the hash is of, in
/// the field `book`, byte for byte.
pub async fn book(
    State(services): State<Arc<Services>>,
    segments: Result<Path<(String, String)>, PathRejection>,
) -> Result<Answer<BookView>, ApiError> {
    let (address, block) = params::path(segments)?;
    let address = params::address(&address, "address")?;
    let block = params::integer(&block, "block")?;
    let (as_of, job, commit) = {
        let unions = services.unions.read().await;
        let as_of = unions.as_of();
        let union = find(&unions, &address)?;
        if block > as_of {
            return Err(ApiError::NotFound(format!("block {block} is not indexed yet (as of block {as_of})")));
        }
        if block < union.created_block {
            let created = union.created_block;
            return Err(ApiError::NotFound(format!(
                "data union {address} was created at block {created}, after {block}"
            )));
        }
        let commit = union.state().commits().iter().find(|c| c.book_block == block).copied();
        (as_of, union.book_job(block), commit)
    };
    let book = match job {
        BookJob::Ready(book) => book,
        BookJob::Build(build) => build_book(build).await?,
    };
    let (root, book_hash) = (book.root(), book.book_hash());
    let commit = commit.map(|c| BookCommit {
        root: c.root,
        book_hash: c.book_hash,
        committed_block: c.key.block,
        matches: c.root == root && c.book_hash == book_hash,
    });
    let view = BookView { address, block, root, book_hash, leaf_count: book.len(), commit };
    Ok(Answer::new(as_of, view).with_raw("book", book.to_canonical_json()))
}

async fn build_book(build: BookBuild) -> Result<Arc<coop::book::Book>, ApiError> {
    let Ok(_permit) = BOOK_BUILDS.try_acquire() else {
        return Err(ApiError::Unavailable {
            code: "busy",
            reason: "the server is building other books; try again shortly".to_owned(),
        });
    };
    tokio::task::spawn_blocking(move || build.run())
        .await
        .map_err(|error| ApiError::Unexpected(anyhow::Error::new(error).context("building a book")))?
        .map_err(|error| ApiError::Conflict { code: "no_book", message: error.to_string() })
}

#[cfg(test)]
mod tests {
    use alloy::primitives::Address;
    use coop::engine::{AdminFee, Event, EventKey, EventKind, format_event};

    use super::*;
    use crate::live::ReadModel;
    use crate::store::StoredEvent;

    const UNION: Address = Address::repeat_byte(0xd0);

    fn created() -> StoredEvent {
        let kind = EventKind::Created { owner: Address::ZERO, admin_fee: AdminFee::ZERO };
        let mut payload: serde_json::Value =
            serde_json::from_str(&format_event(&Event { key: EventKey::new(1, 0, 0), kind })).unwrap();
        payload["freezePeriod"] = "0".into();
        payload["operator"] = serde_json::to_value(Address::ZERO).unwrap();
        StoredEvent {
            block: 1,
            tx_index: 0,
            log_index: 0,
            block_hash: B256::repeat_byte(1),
            contract: UNION,
            kind: "created".to_owned(),
            payload,
        }
    }

    #[tokio::test]
    async fn a_book_asked_for_while_two_are_being_built_is_a_503_to_retry_not_a_queue() {
        let unions = Unions::build(&[created()], 5);
        let build = |block| match unions.get(&UNION).unwrap().book_job(block) {
            BookJob::Build(build) => build,
            BookJob::Ready(_) => panic!("nothing is cached yet"),
        };
        let busy = (BOOK_BUILDS.try_acquire().unwrap(), BOOK_BUILDS.try_acquire().unwrap());

        let refused = build_book(build(3)).await.unwrap_err();

        assert!(matches!(refused, ApiError::Unavailable { code: "busy", .. }), "{refused}");
        drop(busy);
        assert_eq!(build_book(build(3)).await.unwrap().block(), 3);
    }
}
