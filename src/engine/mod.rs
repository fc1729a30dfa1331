//! The Data Union engine: a union's events in, every member's lifetime earnings out.
//!
//! The rules (DESIGN.md section 4):
//! - One leaf per address in order of first appearance; the owner at creation is leaf 0, inactive unless
//!   it joins; a later owner gets a leaf when it first becomes owner; leaves are never removed.
//! - Join appends a new address (active, earnings 0), reactivates a parted one (earnings kept), and does
//!   nothing to an active one. Part deactivates an active member (earnings kept), and does nothing else.
//! - Revenue `amount`: `fee = floor(amount * adminFee / 1e18)` goes to the current owner; `pool = amount -
//!   fee + carry` is split equally among the `a` active members, each getting `floor(pool / a)`, and
//!   `carry = pool mod a` waits for the next revenue. With no active member the owner gets `amount +
//!   carry` and `carry = 0`. Total revenue always grows by `amount`.
//!
//! Each event costs O(1) ([`UnionState`]); the book costs O(n) ([`crate::book::Book`]).

mod event;
mod events_file;
mod fee;
mod figures;
mod snapshot;
mod state;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod reference;

pub use event::{Commit, Event, EventKey, EventKind};
pub use events_file::{EventsFileError, format_event, parse_events};
pub use fee::{AdminFee, AdminFeeError, FEE_SCALE};
pub use figures::{
    CommittedBook, FiguresError, MemberFigures, WithdrawProof, latest_commit, member_figures, unlocked_commit,
};
pub use snapshot::SnapshotError;
pub use state::{EngineError, MemberView, Totals, UnionState};
