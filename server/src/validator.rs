//! The validator: rebuilds the book of every commit of every union from the indexed events and
//! compares its root and book hash with what the operator committed on chain. A differing one is a
//! mismatch, reported in the log, in `/metrics` and at `GET /api/v1/validation`.
//!
//! Every instance can answer the check (books are cached per union, so a repeated check only builds
//! the books of new commits); `coop serve --validate` also runs a worker that logs each mismatch as an
//! error as soon as it is indexed.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use alloy::primitives::{Address, B256};
use axum::extract::State;
use serde::Serialize;
use tokio::sync::watch;
use utoipa::ToSchema;

use crate::api::Answer;
use crate::api::openapi::schemas::{AnswerAddress, Hash};
use crate::http::{ApiError, Services};
use crate::live::ReadModels;
use crate::unions::Unions;

/// How often the worker checks for new commits.
const EVERY: Duration = Duration::from_secs(2);

/// The outcome of checking every commit known at block `as_of`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Validation)]
pub struct Report {
    /// Commits checked (every commit of every union).
    pub checked: u64,
    /// The commits whose rebuilt book differs from the committed root or book hash.
    pub mismatches: Vec<Mismatch>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Mismatch {
    #[schema(value_type = AnswerAddress)]
    pub union: Address,
    /// The block the commit transaction was mined in, and its log index.
    pub committed_block: u64,
    pub log_index: u64,
    /// The block whose book was committed.
    pub book_block: u64,
    #[schema(value_type = Hash)]
    pub committed_root: B256,
    /// `null` when the book could not be rebuilt at all.
    #[schema(value_type = Option<Hash>, required = true)]
    pub rebuilt_root: Option<B256>,
    #[schema(value_type = Hash)]
    pub committed_book_hash: B256,
    #[schema(value_type = Option<Hash>, required = true)]
    pub rebuilt_book_hash: Option<B256>,
}

/// Checks every commit of every union. Only roots not seen before are rebuilt, so this runs under the
/// read lock, beside the readers.
pub fn check(unions: &Unions) -> Report {
    let mut report = Report::default();
    let mut addresses: Vec<Address> = unions.iter().map(|union| union.address).collect();
    addresses.sort();
    for address in addresses {
        let Some(union) = unions.get(&address) else { continue };
        let commits = union.state().commits().to_vec();
        for commit in commits {
            report.checked += 1;
            let rebuilt = union.root_at(commit.book_block).ok();
            if rebuilt != Some((commit.root, commit.book_hash)) {
                report.mismatches.push(Mismatch {
                    union: address,
                    committed_block: commit.key.block,
                    log_index: commit.key.log_index,
                    book_block: commit.book_block,
                    committed_root: commit.root,
                    rebuilt_root: rebuilt.map(|(root, _)| root),
                    committed_book_hash: commit.book_hash,
                    rebuilt_book_hash: rebuilt.map(|(_, hash)| hash),
                });
            }
        }
    }
    report
}

/// Validation of the committed books
///
/// Every commit of every union, its book rebuilt from the indexed events and compared with the
/// committed root and book hash. A mismatch means the operator committed a book that the chain's
/// events do not give.
#[utoipa::path(
    get,
    path = "/api/v1/validation",
    operation_id = "getValidation",
    responses((status = 200, description = "The commits checked and the mismatches", body = inline(Answer<Report>)))
)]
pub async fn validation(State(services): State<Arc<Services>>) -> Result<Answer<Report>, ApiError> {
    let unions = services.models.unions().await;
    let report = check(&unions);
    Ok(Answer::new(unions.as_of(), report))
}

/// Checks again whenever the unions move on and logs every new mismatch once: as an error when
/// `loud` (`--validate`), as a warning otherwise.
pub async fn run(models: ReadModels, loud: bool, mut stopped: watch::Receiver<bool>) {
    let mut reported: HashSet<Mismatch> = HashSet::new();
    let mut last_as_of = None;
    let mut last_checked = 0;
    loop {
        {
            let unions = models.unions().await;
            if last_as_of != Some(unions.as_of()) {
                last_as_of = Some(unions.as_of());
                let report = check(&unions);
                for mismatch in report.mismatches {
                    if reported.insert(mismatch.clone()) {
                        if loud {
                            tracing::error!(target: "validator", ?mismatch, "a committed book differs from the rebuilt one");
                        } else {
                            tracing::warn!(target: "validator", ?mismatch, "a committed book differs from the rebuilt one");
                        }
                    }
                }
                if loud && report.checked != last_checked {
                    tracing::info!(
                        target: "validator",
                        checked = report.checked,
                        mismatches = reported.len(),
                        as_of = unions.as_of(),
                        "commits checked"
                    );
                }
                last_checked = report.checked;
            }
        }
        tokio::select! {
            () = tokio::time::sleep(EVERY) => {}
            _ = stopped.changed() => {}
        }
        if *stopped.borrow() {
            return;
        }
    }
}
