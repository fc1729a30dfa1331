//! The Data Unions in memory, built from the stored event log and kept current as it grows. Every
//! server instance builds the same states from the same log, and answers reads from them.
//!
//! Each union keeps its engine inputs, so the book of any past block (a commit's) can be rebuilt
//! exactly; the books last asked for are cached, within a bound, so readers share them under a read lock.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};

use alloy::primitives::{Address, B256, U256};
use coop::book::Book;
use coop::engine::{
    AdminFee, Commit, CommittedBook, Event, EventKind, MemberFigures, UnionState, latest_commit, member_figures,
    unlocked_commit,
};

use crate::chain_event::{ChainEvent, StoredEvent, UnionCreated};
use crate::live::ReadModel;

#[derive(Debug, thiserror::Error)]
pub enum UnionsError {
    #[error("union {union} has no book at block {block}: {reason}")]
    NoBook { union: Address, block: u64, reason: String },
}

/// Why a union was set aside: the first of its events that could not be applied. Its figures would
/// be wrong from there on, so none are given; every other union goes on.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Quarantine {
    pub block: u64,
    pub log_index: u64,
    pub reason: String,
}

impl std::fmt::Display for Quarantine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "its event at block {} log {} could not be applied: {}", self.block, self.log_index, self.reason)
    }
}

/// A point of a union's history, one per block where something changed: what charts draw.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct HistoryPoint {
    pub block: u64,
    /// The block's time, seconds since 1970.
    pub at: u64,
    pub active_members: u64,
    pub total_members: u64,
    pub revenue: U256,
}

/// A change the owner announced, which waits until `effective_at` (chain seconds) so that members
/// see it coming; someone applies it on chain after that.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Announced<T> {
    pub value: T,
    pub effective_at: u64,
}

/// One Data Union.
#[derive(Debug, Clone)]
pub struct Union {
    pub address: Address,
    pub created_block: u64,
    /// Seconds a commit stays frozen before members can withdraw with it.
    pub freeze_period: u64,
    /// The address allowed to commit its books: the creator's choice, then each change's.
    pub operator: Address,
    pub announced_operator: Option<Announced<Address>>,
    pub announced_admin_fee: Option<Announced<AdminFee>>,
    /// The addresses that may veto a frozen commit, each with its announced removal, if any.
    pub validators: BTreeMap<Address, Option<u64>>,
    /// The union this one took over from (`MigrationStarted`), if any.
    pub predecessor: Option<Address>,
    /// The union that took over from this one, when the same owner started it (anyone can name any
    /// union as its predecessor, so only the owner's word counts).
    pub successor: Option<Address>,
    /// Shared with the book builds in flight, which run away from the lock the unions sit behind;
    /// an event applied meanwhile copies it once.
    events: Arc<Vec<Event>>,
    state: UnionState,
    withdrawn: HashMap<Address, U256>,
    first_joined: HashMap<Address, u64>,
    last_joined: HashMap<Address, u64>,
    history: Vec<HistoryPoint>,
    books: Arc<BookCache>,
}

impl Union {
    pub fn state(&self) -> &UnionState {
        &self.state
    }

    pub fn withdrawn(&self, member: &Address) -> U256 {
        self.withdrawn.get(member).copied().unwrap_or_default()
    }

    pub fn total_withdrawn(&self) -> U256 {
        self.withdrawn.values().fold(U256::ZERO, |sum, amount| sum.saturating_add(*amount))
    }

    /// The block of the member's first join (`None` for the owner's leaf if it never joined).
    pub fn first_joined(&self, member: &Address) -> Option<u64> {
        self.first_joined.get(member).copied()
    }

    /// The block of the member's latest join, if it ever joined.
    pub fn last_joined(&self, member: &Address) -> Option<u64> {
        self.last_joined.get(member).copied()
    }

    /// The time of `block`, if something happened to the union in it (every join did).
    pub fn time_of(&self, block: u64) -> Option<u64> {
        let at = self.history.binary_search_by_key(&block, |point| point.block).ok()?;
        Some(self.history[at].at)
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
    /// `&self`, so readers holding the unions' read lock can ask for books side by side; a caller
    /// that must not hold the lock while a book is built uses [`book_job`](Self::book_job).
    pub fn book_at(&self, block: u64) -> Result<Arc<Book>, UnionsError> {
        match self.book_job(block) {
            BookJob::Ready(book) => Ok(book),
            BookJob::Build(build) => build.run(),
        }
    }

    /// The cached book of `block`, or what it takes to build it later: a snapshot of the events, taken
    /// in O(1).
    pub fn book_job(&self, block: u64) -> BookJob {
        match self.books.get(block) {
            Some(book) => BookJob::Ready(book),
            None => BookJob::Build(BookBuild {
                union: self.address,
                block,
                events: self.events.clone(),
                cache: self.books.clone(),
            }),
        }
    }

    /// A member's figures at chain time `now` (seconds), with the proof for the withdrawable commit.
    /// Commits whose book does not match what the chain committed are skipped: members are never
    /// given a proof that fails.
    pub fn figures(&self, member: &Address, now: u64) -> MemberFigures {
        let earnings = self.state.member(member).map(|m| m.earnings).unwrap_or_default();
        let commits = self.valid_commits();
        let with_book = |commit: Option<&Commit>| commit.and_then(|c| Some((*c, self.book_at(c.book_block).ok()?)));
        let latest = with_book(latest_commit(&commits));
        let unlocked = with_book(unlocked_commit(&commits, now, self.freeze_period));
        let latest = latest.as_ref().and_then(|(c, b)| CommittedBook::new(c, b).ok());
        let unlocked = unlocked.as_ref().and_then(|(c, b)| CommittedBook::new(c, b).ok());
        member_figures(member, earnings, latest, unlocked, self.withdrawn(member))
    }

    /// The commits whose root is the root of the book rebuilt for their block. An operator can commit
    /// anything (a block before the union existed, a made-up root); members can only withdraw with
    /// the others, and a later wrong commit must not hide an earlier good one.
    pub fn valid_commits(&self) -> Vec<Commit> {
        let matches = |commit: &&Commit| self.root_at(commit.book_block).is_ok_and(|(root, _)| root == commit.root);
        self.state.commits().iter().filter(matches).copied().collect()
    }

    /// Applies `event`, of a block whose time is `time`.
    fn apply(&mut self, event: Event, time: u64) -> Result<(), String> {
        self.state.apply(&event).map_err(|error| error.to_string())?;
        if let EventKind::MemberJoined { member } = event.kind {
            self.first_joined.entry(member).or_insert(event.key.block);
            self.last_joined.insert(member, event.key.block);
        }
        self.record_history(event.key.block, time);
        Arc::make_mut(&mut self.events).push(event);
        Ok(())
    }

    fn record_history(&mut self, block: u64, at: u64) {
        let point = HistoryPoint {
            block,
            at,
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

/// A book, cached or to be built.
pub enum BookJob {
    Ready(Arc<Book>),
    Build(BookBuild),
}

/// What building one union's book at one block takes, apart from the unions' lock.
pub struct BookBuild {
    union: Address,
    block: u64,
    events: Arc<Vec<Event>>,
    cache: Arc<BookCache>,
}

impl BookBuild {
    /// Replays the events up to the block (O(events) plus O(leaves) for the tree) and caches the book.
    pub fn run(self) -> Result<Arc<Book>, UnionsError> {
        let no_book = |reason: String| UnionsError::NoBook { union: self.union, block: self.block, reason };
        let events = self.events.iter().take_while(|e| e.key.block <= self.block);
        let state = UnionState::replay(events, Some(self.block)).map_err(|error| no_book(error.to_string()))?;
        let book = Arc::new(state.book());
        self.cache.insert(book.clone());
        Ok(book)
    }
}

/// Every union, as of the end of block `as_of`.
#[derive(Debug, Clone, Default)]
pub struct Unions {
    unions: HashMap<Address, Union>,
    /// Unions set aside, and why; their later events are not applied.
    quarantined: HashMap<Address, Quarantine>,
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

    /// Why the union at `address` was set aside, if it was.
    pub fn quarantine(&self, address: &Address) -> Option<&Quarantine> {
        self.quarantined.get(address)
    }

    pub fn quarantined(&self) -> impl Iterator<Item = (&Address, &Quarantine)> {
        self.quarantined.iter()
    }

    /// Applies one event of a union (or of nobody's concern), or says why it cannot be.
    fn try_apply(&mut self, stored: &StoredEvent) -> Result<(), String> {
        let known = self.unions.get_mut(&stored.contract);
        let union = match (&stored.event, known) {
            (ChainEvent::Unreadable { reason }, _) => return Err(reason.clone()),
            (ChainEvent::Created(created), None) => {
                let union = Union::created(stored, created)?;
                self.unions.insert(stored.contract, union);
                return Ok(());
            }
            (ChainEvent::Created(_), Some(_)) => return Err("the union was created twice".to_owned()),
            // Only a known union's logs are stored, so its creation came first, or it is quarantined;
            // the marketplace's events are the catalog's.
            (_, None) => return Ok(()),
            (_, Some(union)) => union,
        };
        match stored.event {
            ChainEvent::Withdrawn { member, amount, .. } => {
                let withdrawn = union.withdrawn.entry(member).or_default();
                *withdrawn = withdrawn.checked_add(amount).ok_or("the withdrawn total overflows 256 bits")?;
                Ok(())
            }
            ChainEvent::OperatorChanged { operator } => {
                union.operator = operator;
                union.announced_operator = None;
                Ok(())
            }
            ChainEvent::OperatorChangeAnnounced { operator, effective_at } => {
                union.announced_operator = Some(Announced { value: operator, effective_at });
                Ok(())
            }
            ChainEvent::AdminFeeChangeAnnounced { admin_fee, effective_at } => {
                union.announced_admin_fee = Some(Announced { value: admin_fee, effective_at });
                Ok(())
            }
            ChainEvent::ValidatorAdded { validator } => {
                union.validators.insert(validator, None);
                Ok(())
            }
            ChainEvent::ValidatorRemovalAnnounced { validator, effective_at } => {
                union.validators.insert(validator, Some(effective_at));
                Ok(())
            }
            ChainEvent::ValidatorRemoved { validator } => {
                union.validators.remove(&validator);
                Ok(())
            }
            // Any fee that takes effect, a cut at once or an announced rise applied, ends the wait.
            ChainEvent::AdminFeeChanged { admin_fee } => {
                union.announced_admin_fee = None;
                union.apply(Event { key: stored.key(), kind: EventKind::AdminFeeChanged { admin_fee } }, stored.time)
            }
            ChainEvent::MigrationStarted { predecessor } => {
                union.predecessor = Some(predecessor);
                let owner = union.state.owner();
                if let Some(previous) = self.unions.get_mut(&predecessor).filter(|p| p.state.owner() == owner) {
                    previous.successor = Some(stored.contract);
                }
                Ok(())
            }
            ref event => match event.engine_input(union.predecessor) {
                Some(kind) => union.apply(Event { key: stored.key(), kind }, stored.time),
                None => Ok(()),
            },
        }
    }
}

impl Union {
    /// A union as its creation makes it.
    fn created(stored: &StoredEvent, created: &UnionCreated) -> Result<Union, String> {
        let kind = EventKind::Created { owner: created.owner, admin_fee: created.admin_fee };
        let event = Event { key: stored.key(), kind };
        let state = UnionState::from_created(&event).map_err(|error| error.to_string())?;
        let mut union = Union {
            address: stored.contract,
            created_block: stored.block,
            freeze_period: freeze_seconds(created.freeze_period),
            operator: created.operator,
            announced_operator: None,
            announced_admin_fee: None,
            validators: BTreeMap::new(),
            predecessor: None,
            successor: None,
            events: Arc::new(vec![event]),
            state,
            withdrawn: HashMap::new(),
            first_joined: HashMap::new(),
            last_joined: HashMap::new(),
            history: Vec::new(),
            books: Arc::default(),
        };
        union.record_history(stored.block, stored.time);
        Ok(union)
    }
}

/// A freeze period from the chain (any `uint256`) in seconds. One past `u64::MAX` seconds (585
/// billion years) no commit ever unlocks: a chain time is a `u64`, and `Commit::is_unlocked` adds in
/// `u128`. So the saturated value answers every question exactly as the true one would.
fn freeze_seconds(period: U256) -> u64 {
    u64::try_from(period).unwrap_or(u64::MAX)
}

impl ReadModel for Unions {
    /// Never fails: an event that cannot be applied sets its own union aside, with the reason.
    fn apply_one(&mut self, stored: &StoredEvent) {
        if self.quarantined.contains_key(&stored.contract) {
            return;
        }
        if let Err(reason) = self.try_apply(stored) {
            tracing::warn!(
                target: "unions",
                union = %stored.contract,
                block = stored.block,
                log_index = stored.log_index,
                kind = stored.event.kind(),
                "union quarantined: {reason}"
            );
            self.unions.remove(&stored.contract);
            let quarantine = Quarantine { block: stored.block, log_index: stored.log_index, reason };
            self.quarantined.insert(stored.contract, quarantine);
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

/// Roots (two hashes each) kept per union, the oldest forgotten first: every commit of years of
/// commits, while a stranger asking for the book of every block cannot grow memory without bound.
const ROOTS_KEPT: usize = 65_536;

/// The books last asked for, least recently used first. Without a bound, every block anyone asked a
/// book of (`/books/{block}` takes any block) would stay in memory for good. The root and book hash
/// of the last [`ROOTS_KEPT`] books built are kept too.
#[derive(Debug)]
pub struct BookCache {
    /// Leaves the books may hold together.
    budget: usize,
    books: Mutex<VecDeque<Arc<Book>>>,
    roots: Mutex<Roots>,
}

/// Roots by block, and the blocks in the order they were added.
#[derive(Debug, Default)]
struct Roots {
    by_block: HashMap<u64, (B256, B256)>,
    order: VecDeque<u64>,
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

    fn roots(&self) -> std::sync::MutexGuard<'_, Roots> {
        self.roots.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn get(&self, block: u64) -> Option<Arc<Book>> {
        let mut books = self.books.lock().unwrap_or_else(PoisonError::into_inner);
        let at = books.iter().position(|book| book.block() == block)?;
        let book = books.remove(at)?;
        books.push_back(book.clone());
        Some(book)
    }

    fn root(&self, block: u64) -> Option<(B256, B256)> {
        self.roots().by_block.get(&block).copied()
    }

    /// Adds `book` (unless a reader raced it in first) and forgets the least recently used books while
    /// the cache holds more leaves than its budget.
    fn insert(&self, book: Arc<Book>) {
        {
            let mut roots = self.roots();
            if roots.by_block.insert(book.block(), (book.root(), book.book_hash())).is_none() {
                roots.order.push_back(book.block());
            }
            while roots.order.len() > ROOTS_KEPT {
                let oldest = roots.order.pop_front();
                oldest.map(|block| roots.by_block.remove(&block));
            }
        }
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
