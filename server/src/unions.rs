//! The Data Unions in memory, built from the stored event log and kept current as it grows. Every
//! server instance builds the same states from the same log, and answers reads from them.
//!
//! Each union keeps its engine inputs, so the book of any past block (a commit's) can be rebuilt
//! exactly; the books last asked for are cached, within a bound, so readers share them under a read lock.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};

use alloy::primitives::{Address, B256, U256};
use coop::book::Book;
use coop::engine::{
    CommittedBook, EngineError, Event, MemberFigures, UnionState, latest_commit, member_figures, parse_events,
    unlocked_commit,
};
use serde_json::Value;

use crate::indexer::decode::{FREEZE_PERIOD, OPERATOR, kinds};
use crate::live::ReadModel;
use crate::store::{CREATED, StoredEvent};

#[derive(Debug, thiserror::Error)]
pub enum UnionsError {
    #[error("stored event at block {block} log {log_index} ({kind}) is not valid: {reason}")]
    BadEvent { block: u64, log_index: u64, kind: String, reason: String },
    #[error("union {union}: {source}")]
    Engine { union: Address, source: EngineError },
    #[error("union {union} has no book at block {block}: {reason}")]
    NoBook { union: Address, block: u64, reason: String },
}

/// A point of a union's history, one per block where something changed: what charts draw.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct HistoryPoint {
    pub block: u64,
    pub active_members: u64,
    pub total_members: u64,
    pub revenue: U256,
}

/// One Data Union.
#[derive(Debug, Clone)]
pub struct Union {
    pub address: Address,
    pub created_block: u64,
    /// Seconds a commit stays frozen before members can withdraw with it.
    pub freeze_period: u64,
    /// The address allowed to commit its books: the creator's choice, then each `setOperator`'s.
    pub operator: Address,
    events: Vec<Event>,
    state: UnionState,
    withdrawn: HashMap<Address, U256>,
    first_joined: HashMap<Address, u64>,
    history: Vec<HistoryPoint>,
    books: BookCache,
}

impl Union {
    pub fn state(&self) -> &UnionState {
        &self.state
    }

    pub fn withdrawn(&self, member: &Address) -> U256 {
        self.withdrawn.get(member).copied().unwrap_or_default()
    }

    pub fn total_withdrawn(&self) -> U256 {
        self.withdrawn.values().fold(U256::ZERO, |sum, amount| sum + *amount)
    }

    /// The block of the member's first join (`None` for the owner's leaf if it never joined).
    pub fn first_joined(&self, member: &Address) -> Option<u64> {
        self.first_joined.get(member).copied()
    }

    pub fn history(&self) -> &[HistoryPoint] {
        &self.history
    }

    /// The root and book hash of the book at the end of `block`. Once a book was built its root is
    /// kept for good (two hashes a block), so checking old commits again rebuilds nothing.
    pub fn root_at(&self, block: u64) -> Result<(B256, B256), UnionsError> {
        match self.books.root(block) {
            Some(root) => Ok(root),
            None => self.book_at(block).map(|book| (book.root(), book.book_hash())),
        }
    }

    /// The book at the end of `block`, rebuilt from the union's events unless it is cached. Takes
    /// `&self`, so readers holding the unions' read lock can ask for books side by side.
    pub fn book_at(&self, block: u64) -> Result<Arc<Book>, UnionsError> {
        if let Some(book) = self.books.get(block) {
            return Ok(book);
        }
        let no_book = |reason: String| UnionsError::NoBook { union: self.address, block, reason };
        let state = UnionState::replay(self.events.iter().take_while(|e| e.key.block <= block), Some(block))
            .map_err(|error| no_book(error.to_string()))?;
        let book = Arc::new(state.book());
        self.books.insert(book.clone());
        Ok(book)
    }

    /// A member's figures at chain time `now` (seconds), with the proof for the withdrawable commit.
    /// Commits whose book does not match what the chain committed are skipped: members are never
    /// given a proof that fails.
    pub fn figures(&self, member: &Address, now: u64) -> Result<MemberFigures, UnionsError> {
        let earnings = self.state.member(member).map(|m| m.earnings).unwrap_or_default();
        let commits = self.state.commits().to_vec();
        let latest = latest_commit(&commits).copied();
        let unlocked = unlocked_commit(&commits, now, self.freeze_period).copied();
        let latest_book = latest.map(|c| self.book_at(c.book_block)).transpose()?;
        let unlocked_book = unlocked.map(|c| self.book_at(c.book_block)).transpose()?;
        let pair = |commit: &Option<coop::engine::Commit>, book: &Option<Arc<Book>>| match (commit, book) {
            (Some(commit), Some(book)) => Some((*commit, book.clone())),
            _ => None,
        };
        let (latest, unlocked) = (pair(&latest, &latest_book), pair(&unlocked, &unlocked_book));
        let latest = latest.as_ref().and_then(|(c, b)| CommittedBook::new(c, b).ok());
        let unlocked = unlocked.as_ref().and_then(|(c, b)| CommittedBook::new(c, b).ok());
        Ok(member_figures(member, earnings, latest, unlocked, self.withdrawn(member)))
    }

    fn apply(&mut self, event: Event) -> Result<(), UnionsError> {
        self.state.apply(&event).map_err(|source| UnionsError::Engine { union: self.address, source })?;
        if let coop::engine::EventKind::MemberJoined { member } = event.kind {
            self.first_joined.entry(member).or_insert(event.key.block);
        }
        self.record_history(event.key.block);
        self.events.push(event);
        Ok(())
    }

    fn record_history(&mut self, block: u64) {
        let point = HistoryPoint {
            block,
            active_members: self.state.active_count(),
            total_members: self.first_joined.len() as u64,
            revenue: self.state.totals().revenue,
        };
        match self.history.last_mut() {
            Some(last) if last.block == block => *last = point,
            _ => self.history.push(point),
        }
    }
}

/// Every union, as of the end of block `as_of`.
#[derive(Debug, Clone, Default)]
pub struct Unions {
    unions: HashMap<Address, Union>,
    as_of: u64,
}

impl Unions {
    pub fn as_of(&self) -> u64 {
        self.as_of
    }

    pub fn get(&self, address: &Address) -> Option<&Union> {
        self.unions.get(address)
    }

    pub fn get_mut(&mut self, address: &Address) -> Option<&mut Union> {
        self.unions.get_mut(address)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Union> {
        self.unions.values()
    }
}

impl ReadModel for Unions {
    type Error = UnionsError;

    fn apply_one(&mut self, stored: &StoredEvent) -> Result<(), UnionsError> {
        let bad = |reason: String| UnionsError::BadEvent {
            block: stored.block,
            log_index: stored.log_index,
            kind: stored.kind.clone(),
            reason,
        };
        if stored.kind == kinds::WITHDRAWN {
            let Some(union) = self.unions.get_mut(&stored.contract) else { return Ok(()) };
            let member: Address = field(&stored.payload, "member").map_err(bad)?;
            let amount: U256 = field(&stored.payload, "amount").map_err(bad)?;
            *union.withdrawn.entry(member).or_default() += amount;
            return Ok(());
        }
        if stored.kind == kinds::OPERATOR_CHANGED {
            let Some(union) = self.unions.get_mut(&stored.contract) else { return Ok(()) };
            union.operator = field(&stored.payload, OPERATOR).map_err(bad)?;
            return Ok(());
        }
        let mut payload = stored.payload.clone();
        let mut extra = |name: &str| payload.as_object_mut().and_then(|object| object.remove(name));
        let (freeze_period, operator) = (extra(FREEZE_PERIOD), extra(OPERATOR));
        let line = payload.to_string();
        let Ok(mut parsed) = parse_events(&line) else {
            // Not an engine input (a product or a subscription): another reader's concern.
            return Ok(());
        };
        let Some((_, event)) = parsed.pop() else { return Ok(()) };
        if stored.kind == CREATED {
            let freeze_period: u64 = freeze_period
                .as_ref()
                .and_then(Value::as_str)
                .and_then(|text| text.parse().ok())
                .ok_or_else(|| bad(format!("`{FREEZE_PERIOD}` is missing or not a number")))?;
            let operator: Address = operator
                .and_then(|value| serde_json::from_value(value).ok())
                .ok_or_else(|| bad(format!("`{OPERATOR}` is missing or not an address")))?;
            let state = UnionState::from_created(&event)
                .map_err(|source| UnionsError::Engine { union: stored.contract, source })?;
            let mut union = Union {
                address: stored.contract,
                created_block: stored.block,
                freeze_period,
                operator,
                events: vec![event],
                state,
                withdrawn: HashMap::new(),
                first_joined: HashMap::new(),
                history: Vec::new(),
                books: BookCache::default(),
            };
            union.record_history(stored.block);
            self.unions.insert(stored.contract, union);
            return Ok(());
        }
        match self.unions.get_mut(&stored.contract) {
            Some(union) => union.apply(event),
            None => Err(bad(format!("no union {} was created before it", stored.contract))),
        }
    }

    fn stand_at(&mut self, block: u64) {
        self.as_of = self.as_of.max(block);
    }
}

/// Leaves that the cached books of one union may hold together, at about 150 bytes each (leaf, tree
/// nodes, address index): every book of a small union, a handful at 100,000 members.
const CACHED_LEAVES: usize = 1_000_000;

/// Books kept whatever their size: a member's figures need the latest commit's and the withdrawable one's.
const ALWAYS_CACHED: usize = 2;

/// The books last asked for, least recently used first. Without a bound, every block anyone asked a
/// book of (`/books/{block}` takes any block) would stay in memory for good. The root and book hash
/// of every book built are kept, unbounded but small.
#[derive(Debug)]
struct BookCache {
    /// Leaves the books may hold together.
    budget: usize,
    books: Mutex<VecDeque<Arc<Book>>>,
    roots: Mutex<HashMap<u64, (B256, B256)>>,
}

impl Default for BookCache {
    fn default() -> Self {
        BookCache::with_budget(CACHED_LEAVES)
    }
}

impl BookCache {
    fn with_budget(budget: usize) -> Self {
        BookCache { budget, books: Mutex::default(), roots: Mutex::default() }
    }

    fn get(&self, block: u64) -> Option<Arc<Book>> {
        let mut books = self.books.lock().unwrap_or_else(PoisonError::into_inner);
        let at = books.iter().position(|book| book.block() == block)?;
        let book = books.remove(at)?;
        books.push_back(book.clone());
        Some(book)
    }

    fn root(&self, block: u64) -> Option<(B256, B256)> {
        self.roots.lock().unwrap_or_else(PoisonError::into_inner).get(&block).copied()
    }

    /// Adds `book` (unless a reader raced it in first) and forgets the least recently used books while
    /// the cache holds more leaves than its budget.
    fn insert(&self, book: Arc<Book>) {
        self.roots.lock().unwrap_or_else(PoisonError::into_inner).insert(book.block(), (book.root(), book.book_hash()));
        let mut books = self.books.lock().unwrap_or_else(PoisonError::into_inner);
        if books.iter().any(|cached| cached.block() == book.block()) {
            return;
        }
        books.push_back(book);
        let mut leaves: usize = books.iter().map(|book| book.len()).sum();
        while books.len() > ALWAYS_CACHED && leaves > self.budget {
            leaves -= books.pop_front().map_or(0, |book| book.len());
        }
    }
}

impl Clone for BookCache {
    fn clone(&self) -> Self {
        let books = self.books.lock().unwrap_or_else(PoisonError::into_inner).clone();
        let roots = self.roots.lock().unwrap_or_else(PoisonError::into_inner).clone();
        BookCache { budget: self.budget, books: Mutex::new(books), roots: Mutex::new(roots) }
    }
}

fn field<T: std::str::FromStr>(payload: &Value, name: &str) -> Result<T, String> {
    payload
        .get(name)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("`{name}` is missing"))?
        .parse()
        .map_err(|_| format!("`{name}` is not valid"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const BUDGET: usize = 100;

    fn book(block: u64, leaves: usize) -> Arc<Book> {
        let leaves =
            (0..leaves as u64).map(|n| (Address::left_padding_from(&n.to_be_bytes()), U256::from(n))).collect();
        Arc::new(Book::new(block, leaves).unwrap())
    }

    #[test]
    fn the_book_cache_forgets_the_least_recently_used_books_beyond_its_leaf_budget() {
        let cache = BookCache::with_budget(BUDGET);
        let big = BUDGET / 2;
        cache.insert(book(1, big));
        cache.insert(book(2, big));
        assert!(cache.get(1).is_some(), "within the budget both stay");
        cache.insert(book(3, big));
        assert!(cache.get(2).is_none(), "2 was used least recently");
        assert_eq!(cache.root(2), Some((book(2, big).root(), book(2, big).book_hash())), "its root is kept");
        assert_eq!(cache.get(1).map(|b| b.block()), Some(1));
        assert_eq!(cache.get(3).map(|b| b.block()), Some(3));
    }

    #[test]
    fn the_book_cache_keeps_the_last_books_even_when_they_alone_exceed_the_budget() {
        let cache = BookCache::with_budget(BUDGET);
        cache.insert(book(1, BUDGET + 1));
        cache.insert(book(2, BUDGET + 1));
        assert!(cache.get(1).is_some() && cache.get(2).is_some());
        cache.insert(book(3, 1));
        assert!(cache.get(1).is_none());
        assert!(cache.get(2).is_some() && cache.get(3).is_some());
    }
}
