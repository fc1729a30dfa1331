//! What the offline commands print: `coop replay` (a union's state from an events file) and `coop book`
//! (the root and proofs of a book file). Text in, serialisable reports out, so the binary only reads
//! files and prints.
//!
//! Amounts are decimal strings, hashes `0x` hex, addresses EIP-55 checksummed, keys camelCase.
//!
//! # Invariants
//! - Every proof in a report verifies against the report's root for the reported leaf.
//! - A replay report's members are the book's leaves, in leaf order.

use alloy_primitives::{Address, B256};
use serde::Serialize;

use crate::{
    book::{Book, BookFileError, parse_book},
    engine::{EngineError, EventsFileError, UnionState, parse_events},
};

/// Why a report cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The events file is malformed.
    #[error(transparent)]
    Events(#[from] EventsFileError),
    /// An event the engine refuses (out of order, not created first, ...).
    #[error("line {line}: {source}")]
    Engine {
        /// 1-based line of the refused event.
        line: usize,
        /// Why it was refused.
        source: EngineError,
    },
    /// The events file has no events.
    #[error("the events file has no events")]
    NoEvents,
    /// The book file is malformed.
    #[error(transparent)]
    BookFile(#[from] BookFileError),
    /// A proof was asked for an address without a leaf.
    #[error("--proof {address}: the address has no leaf in the book")]
    UnknownAddress {
        /// The address.
        address: Address,
    },
}

/// `coop replay`: the union at a block.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReplayReport {
    /// The block the state stands at (all events up to it applied).
    pub block: u64,
    /// The current owner.
    pub owner: String,
    /// The current admin fee (1e18 = 100 %).
    pub admin_fee: String,
    /// Active members now.
    pub active_members: u64,
    /// Where revenue went.
    pub totals: TotalsReport,
    /// The remainder waiting for the next revenue.
    pub carry: String,
    /// The Merkle root of the book at `block`.
    pub root: B256,
    /// `keccak256` of the book's canonical JSON.
    pub book_hash: B256,
    /// Every leaf in leaf order.
    pub members: Vec<MemberReport>,
    /// The commits seen up to `block`.
    pub commits: Vec<CommitReport>,
    /// The requested proofs.
    pub proofs: Vec<ProofReport>,
}

/// Where revenue went, decimal wei.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TotalsReport {
    /// All revenue.
    pub revenue: String,
    /// Admin fees credited to owners.
    pub admin_fees: String,
    /// Credited to the owner while no member was active.
    pub owner_without_members: String,
    /// Equal shares credited to members.
    pub member_shares: String,
}

/// One leaf of a replay.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MemberReport {
    /// Leaf index.
    pub index: usize,
    /// Address.
    pub address: String,
    /// Lifetime earnings, decimal wei.
    pub earnings: String,
    /// Whether it shares revenue now.
    pub active: bool,
}

/// One commit.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CommitReport {
    /// The block holding the commit.
    pub block: u64,
    /// The committed book's block.
    pub book_block: u64,
    /// The committed root.
    pub root: B256,
    /// The committed book hash.
    pub book_hash: B256,
    /// The commit block's timestamp.
    pub timestamp: u64,
}

/// A leaf's proof: what `withdrawAll(blockNumber, totalEarnings, proof)` takes.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProofReport {
    /// Address.
    pub address: String,
    /// Leaf index.
    pub index: usize,
    /// Lifetime earnings in the book, decimal wei.
    pub earnings: String,
    /// The leaf hash.
    pub leaf: B256,
    /// Siblings from the leaf upward.
    pub proof: Vec<B256>,
}

/// `coop book root`: a book's root and the requested proofs.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BookReport {
    /// The book's block.
    pub block: u64,
    /// Number of leaves.
    pub leaves: usize,
    /// The Merkle root.
    pub root: B256,
    /// `keccak256` of the canonical JSON.
    pub book_hash: B256,
    /// The requested proofs.
    pub proofs: Vec<ProofReport>,
}

/// `coop book verify`: whether a book has the expected root.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VerifyReport {
    /// The book's block.
    pub block: u64,
    /// The root computed from the book.
    pub root: B256,
    /// The root it was checked against.
    pub expected: B256,
    /// Whether they are equal.
    pub matches: bool,
}

/// Replays an events file to `block` (default: the last event's block) and reports the state, with
/// proofs for the given addresses.
pub fn replay_report(
    events_text: &str,
    block: Option<u64>,
    proof_for: &[Address],
) -> Result<ReplayReport, ReportError> {
    let events = parse_events(events_text)?;
    let state = UnionState::replay_tagged(events.iter().map(|(line, event)| (*line, event)), block).map_err(
        |(line, source)| match line {
            Some(line) => ReportError::Engine { line, source },
            None => ReportError::NoEvents,
        },
    )?;
    let book = state.book();
    let totals = state.totals();
    Ok(ReplayReport {
        block: state.block(),
        owner: state.owner().to_checksum(None),
        admin_fee: state.admin_fee().to_string(),
        active_members: state.active_count(),
        totals: TotalsReport {
            revenue: totals.revenue.to_string(),
            admin_fees: totals.admin_fees.to_string(),
            owner_without_members: totals.owner_without_members.to_string(),
            member_shares: totals.member_shares.to_string(),
        },
        carry: state.carry().to_string(),
        root: book.root(),
        book_hash: book.book_hash(),
        members: state
            .members()
            .map(|m| MemberReport {
                index: m.index,
                address: m.address.to_checksum(None),
                earnings: m.earnings.to_string(),
                active: m.active,
            })
            .collect(),
        commits: state
            .commits()
            .iter()
            .map(|c| CommitReport {
                block: c.key.block,
                book_block: c.book_block,
                root: c.root,
                book_hash: c.book_hash,
                timestamp: c.timestamp,
            })
            .collect(),
        proofs: proofs(&book, proof_for)?,
    })
}

/// Reads a book file (CSV needs `block`) and reports its root, hash and the requested proofs.
pub fn book_report(book_text: &str, block: Option<u64>, proof_for: &[Address]) -> Result<BookReport, ReportError> {
    let book = parse_book(book_text, block)?;
    Ok(BookReport {
        block: book.block(),
        leaves: book.len(),
        root: book.root(),
        book_hash: book.book_hash(),
        proofs: proofs(&book, proof_for)?,
    })
}

/// Reads a book file and compares its root with `expected`.
pub fn verify_report(book_text: &str, block: Option<u64>, expected: B256) -> Result<VerifyReport, ReportError> {
    let book = parse_book(book_text, block)?;
    Ok(VerifyReport { block: book.block(), root: book.root(), expected, matches: book.root() == expected })
}

fn proofs(book: &Book, addresses: &[Address]) -> Result<Vec<ProofReport>, ReportError> {
    addresses
        .iter()
        .map(|&address| {
            let index = book.index_of(&address).ok_or(ReportError::UnknownAddress { address })?;
            let (_, earnings) = book.leaves()[index];
            Ok(ProofReport {
                address: address.to_checksum(None),
                index,
                earnings: earnings.to_string(),
                leaf: book.leaf_hash_at(index).unwrap_or_default(),
                proof: book.proof(index).unwrap_or_default(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use alloy_primitives::address;

    use super::*;
    use crate::book::{leaf_hash, verify_proof};

    const OWNER: &str = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed";
    const ALICE: &str = "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359";
    const BOB: &str = "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB";

    fn events() -> String {
        [
            format!(r#"{{"block":10,"transactionIndex":0,"logIndex":0,"type":"created","owner":"{OWNER}","adminFee":"300000000000000000"}}"#),
            format!(r#"{{"block":11,"transactionIndex":0,"logIndex":0,"type":"memberJoined","member":"{ALICE}"}}"#),
            format!(r#"{{"block":11,"transactionIndex":0,"logIndex":1,"type":"memberJoined","member":"{BOB}"}}"#),
            r#"{"block":12,"transactionIndex":2,"logIndex":5,"type":"revenue","amount":"1001"}"#.to_owned(),
            r#"{"block":14,"transactionIndex":0,"logIndex":0,"type":"revenue","amount":"1000"}"#.to_owned(),
        ]
        .join("\n")
    }

    #[test]
    fn a_replay_reports_members_totals_carry_root_and_verifiable_proofs() {
        let alice = address!("0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359");
        let report = replay_report(&events(), Some(13), &[alice]).unwrap();
        assert_eq!(report.block, 13);
        let earnings: Vec<(&str, bool)> = report.members.iter().map(|m| (m.earnings.as_str(), m.active)).collect();
        assert_eq!(earnings, vec![("300", false), ("350", true), ("350", true)]);
        assert_eq!((report.carry.as_str(), report.totals.revenue.as_str(), report.active_members), ("1", "1001", 2));
        let proof = &report.proofs[0];
        assert_eq!((proof.address.as_str(), proof.index), (ALICE, 1));
        assert_eq!(proof.leaf, leaf_hash(alice, "350".parse().unwrap(), 13));
        assert!(verify_proof(report.root, proof.leaf, &proof.proof));
    }

    #[test]
    fn an_out_of_order_event_is_reported_with_its_line() {
        let mut lines: Vec<String> = events().lines().map(str::to_owned).collect();
        lines.swap(3, 4);
        let error = replay_report(&lines.join("\n"), None, &[]).unwrap_err();
        assert!(matches!(error, ReportError::Engine { line: 5, source: EngineError::OutOfOrder { .. } }), "{error}");
    }

    #[test]
    fn a_proof_for_an_unknown_address_and_an_empty_file_are_errors() {
        assert!(matches!(replay_report(&events(), None, &[Address::ZERO]), Err(ReportError::UnknownAddress { .. })));
        assert!(matches!(replay_report("\n\n", None, &[]), Err(ReportError::NoEvents)));
    }

    #[test]
    fn a_book_report_and_a_verify_report_agree_with_the_replayed_root() {
        let replay = replay_report(&events(), None, &[]).unwrap();
        let csv: String = replay.members.iter().map(|m| format!("{},{}\n", m.address, m.earnings)).collect();
        let book = book_report(&csv, Some(replay.block), &[]).unwrap();
        assert_eq!((book.root, book.book_hash, book.leaves), (replay.root, replay.book_hash, 3));
        assert!(verify_report(&csv, Some(replay.block), replay.root).unwrap().matches);
        assert!(!verify_report(&csv, Some(replay.block + 1), replay.root).unwrap().matches);
    }
}
