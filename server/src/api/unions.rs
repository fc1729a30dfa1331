//! `/api/v1/unions`: the list, one union's stats, its history, and its book at a block.

use std::collections::HashMap;
use std::sync::Arc;

use alloy::primitives::{Address, B256};
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use serde::Serialize;
use tokio::sync::Semaphore;
use utoipa::ToSchema;

use super::Answer;
use super::openapi::params::{BookPath, Paging, UnionPath, UnionsQuery};
use super::openapi::schemas::{AnswerAddress, Hash};
use super::openapi::{BadRequest, Conflict, NotFound};
use super::params::{self, Page, Params};
use crate::http::ErrorCode;
use crate::http::{ApiError, Services};
use crate::service::unions::{self as service, Point, Stats, Summary, find};
use crate::unions::{BookBuild, BookJob};

/// Books built at once for `/books/{block}`, each on a blocking thread and outside the unions' lock:
/// a stranger asking for the book of every block gets a 503, not the server's every core.
static BOOK_BUILDS: Semaphore = Semaphore::const_new(2);

#[derive(Serialize, ToSchema)]
#[schema(as = UnionList)]
pub struct List {
    #[serde(flatten)]
    page: Page,
    /// Items matching the filters, on all pages.
    total: usize,
    unions: Vec<Summary>,
}

/// List Data Unions
///
/// Every union, oldest first, a page at a time.
#[utoipa::path(
    get,
    path = "/api/v1/unions",
    operation_id = "listUnions",
    params(Paging, UnionsQuery),
    responses(
        (
            status = 200,
            description = "A page of unions",
            body = inline(Answer<List>),
            links(
                ("union" = (operation_id = "getUnion", parameters(("address" = "$response.body#/unions/0/address")))),
                ("history" = (
                    operation_id = "getUnionHistory",
                    parameters(("address" = "$response.body#/unions/0/address"))
                )),
                ("members" = (
                    operation_id = "listMembers",
                    parameters(("address" = "$response.body#/unions/0/address"))
                )),
                ("joinRequests" = (
                    operation_id = "listJoinRequests",
                    parameters(("address" = "$response.body#/unions/0/address"))
                )),
                ("secrets" = (
                    operation_id = "listSecrets",
                    parameters(("address" = "$response.body#/unions/0/address"))
                )),
            )
        ),
        (status = 400, response = BadRequest),
    )
)]
pub async fn list(
    State(services): State<Arc<Services>>,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<Answer<List>, ApiError> {
    let params = Params::from_query(query)?;
    let page = params.page()?;
    let owner = params.address("owner")?;
    let unions = services.models.unions().await;
    let (total, summaries) = service::list(&unions, owner, page);
    Ok(Answer::new(unions.as_of(), List { page, total, unions: summaries }))
}

/// A Data Union's stats
///
/// One union's figures: totals, carry, members, commits, withdrawals.
#[utoipa::path(
    get,
    path = "/api/v1/unions/{address}",
    operation_id = "getUnion",
    params(UnionPath),
    responses(
        (status = 200, description = "The union", body = inline(Answer<Stats>)),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
    )
)]
pub async fn one(
    State(services): State<Arc<Services>>,
    address: Result<Path<String>, PathRejection>,
) -> Result<Answer<Stats>, ApiError> {
    let address = params::address(&params::path(address)?, "address")?;
    let unions = services.models.unions().await;
    let union = find(&unions, &address)?;
    Ok(Answer::new(unions.as_of(), service::stats(union)))
}

/// One point per block where members or revenue changed.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct History {
    #[schema(value_type = AnswerAddress)]
    address: Address,
    points: Vec<Point>,
}

/// A Data Union's history
///
/// One point per block where members or revenue changed: what the charts draw.
#[utoipa::path(
    get,
    path = "/api/v1/unions/{address}/history",
    operation_id = "getUnionHistory",
    params(UnionPath),
    responses(
        (status = 200, description = "The history", body = inline(Answer<History>)),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
    )
)]
pub async fn history(
    State(services): State<Arc<Services>>,
    address: Result<Path<String>, PathRejection>,
) -> Result<Answer<History>, ApiError> {
    let address = params::address(&params::path(address)?, "address")?;
    let unions = services.models.unions().await;
    let points = service::history(find(&unions, &address)?);
    Ok(Answer::new(unions.as_of(), History { address, points }))
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BookView {
    #[schema(value_type = AnswerAddress)]
    address: Address,
    block: u64,
    #[schema(value_type = Hash)]
    root: B256,
    #[schema(value_type = Hash)]
    book_hash: B256,
    leaf_count: usize,
    /// The commit of this block, if any, and whether this book is what it committed.
    #[schema(required = true)]
    commit: Option<BookCommit>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BookCommit {
    #[schema(value_type = Hash)]
    root: B256,
    #[schema(value_type = Hash)]
    book_hash: B256,
    committed_block: u64,
    /// Both the root and the book hash equal the committed ones.
    matches: bool,
}

/// What the book route answers, as the document shows it: [`BookView`], then the canonical book,
/// which [`Answer::with_raw`] writes after it as is. Only described, never built.
#[derive(Serialize, ToSchema)]
#[schema(as = Book)]
#[allow(dead_code)]
pub struct BookAnswer {
    #[serde(flatten)]
    view: BookView,
    /// The canonical JSON of the book, byte for byte as hashed into bookHash; it is the last field of
    /// the body.
    book: CanonicalBook,
}

/// `Book::to_canonical_json`: the block and every leaf, addresses in lower case.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct CanonicalBook {
    block: u64,
    leaves: Vec<CanonicalLeaf>,
}

#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct CanonicalLeaf {
    #[schema(pattern = "^0x[0-9a-f]{40}$")]
    address: String,
    earnings: super::Wei,
}

/// The book at a block
///
/// The book at the end of `block`: its root, `bookHash`, whether it matches the commit of that block
/// if there is one, and the canonical JSON the hash is of, in the field `book`, byte for byte.
#[utoipa::path(
    get,
    path = "/api/v1/unions/{address}/books/{block}",
    operation_id = "getBook",
    params(BookPath),
    responses(
        (status = 200, description = "The book", body = inline(Answer<BookAnswer>)),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
    )
)]
pub async fn book(
    State(services): State<Arc<Services>>,
    segments: Result<Path<(String, String)>, PathRejection>,
) -> Result<Answer<BookView>, ApiError> {
    let (address, block) = params::path(segments)?;
    let address = params::address(&address, "address")?;
    let block = params::integer(&block, "block")?;
    let (as_of, job, commit) = {
        let unions = services.models.unions().await;
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
            code: ErrorCode::Busy,
            reason: "the server is building other books; try again shortly".to_owned(),
        });
    };
    tokio::task::spawn_blocking(move || build.run())
        .await
        .map_err(|error| ApiError::Unexpected(anyhow::Error::new(error).context("building a book")))?
        .map_err(|error| ApiError::Conflict { code: ErrorCode::NoBook, message: error.to_string() })
}

#[cfg(test)]
mod tests {
    use alloy::primitives::{Address, U256};
    use coop::engine::AdminFee;

    use super::*;
    use crate::chain_event::{ChainEvent, StoredEvent, UnionCreated};
    use crate::live::ReadModel;
    use crate::unions::Unions;

    const UNION: Address = Address::repeat_byte(0xd0);

    fn created() -> StoredEvent {
        let created = UnionCreated {
            owner: Address::ZERO,
            admin_fee: AdminFee::ZERO,
            freeze_period: U256::ZERO,
            operator: Address::ZERO,
        };
        let (block_hash, event) = (B256::repeat_byte(1), ChainEvent::Created(created));
        StoredEvent { block: 1, tx_index: 0, log_index: 0, block_hash, time: 1_012, contract: UNION, event }
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

        assert!(matches!(refused, ApiError::Unavailable { code: ErrorCode::Busy, .. }), "{refused}");
        drop(busy);
        assert_eq!(build_book(build(3)).await.unwrap().block(), 3);
    }
}
