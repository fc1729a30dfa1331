//! Data Unions: the list, one union's figures and history, its members, and one member's figures with
//! the proof to withdraw with. Every answer is read under one lock of the read models, so it is of
//! one block, the block it names.

use alloy::primitives::{Address, B256, U256};
pub use app::unions::MemberStatus;
use coop::engine::{Commit, MemberView, latest_commit};
use serde::Serialize;
use utoipa::ToSchema;

use super::Wei;
use crate::api::openapi::schemas::{AnswerAddress, Hash};
use crate::api::params::Page;
use crate::catalog::Catalog;
use crate::http::ErrorCode;
use crate::http::{ApiError, Services};
use crate::live::Models;
use crate::unions::{Quarantine, Union, Unions};

/// Revenue per member is given per 30 days.
const MONTH_SECS: u64 = 30 * 86_400;

/// What the list shows of a union.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = UnionSummary)]
pub struct Summary {
    #[schema(value_type = AnswerAddress)]
    pub address: Address,
    #[schema(value_type = AnswerAddress)]
    pub owner: Address,
    /// The admin fee scaled by 1e18 (1e18 is 100 %).
    pub admin_fee: Wei,
    /// The admin fee in percent, exact.
    #[schema(pattern = r"^[0-9]+(\.[0-9]+)?$", examples("12.5"))]
    pub admin_fee_percent: String,
    pub active_members: u64,
    /// Addresses that have ever joined (parted ones included).
    pub total_members: u64,
    pub total_revenue: Wei,
    #[schema(required = true)]
    pub latest_commit: Option<CommitView>,
    pub created_block: u64,
    /// Seconds a commit stays frozen (a freeze period of 2^64 seconds or more reads as
    /// 18446744073709551615: commits never unlock). The owner's changes that could hurt members wait
    /// this long too.
    pub freeze_period: u64,
    /// The address allowed to commit.
    #[schema(value_type = AnswerAddress)]
    pub operator: Address,
    /// The addresses that may veto a frozen commit, in address order.
    #[schema(value_type = Vec<AnswerAddress>)]
    pub validators: Vec<Address>,
    /// Changes the owner announced that have not taken effect yet, soonest first.
    pub announced: Vec<AnnouncedChange>,
    /// The union this one took over from, and the earnings carried over from it.
    #[schema(required = true)]
    pub moved_from: Option<MovedFrom>,
    /// The union this one moved to (its owner started that union's migration): members' earnings
    /// not proven here were carried there, and later revenue is forwarded there.
    #[schema(required = true, value_type = Option<AnswerAddress>)]
    pub moved_to: Option<Address>,
}

/// Where a union came from: its predecessor, and the earnings carried over from that union's book.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MovedFrom {
    #[schema(value_type = AnswerAddress)]
    pub union: Address,
    /// Earnings carried over to members so far: part of their earnings here.
    pub carried: Wei,
    /// Received from the predecessor and not carried yet; it becomes revenue when the carry closes.
    pub awaiting_carry: Wei,
    /// Whether the carry is closed: what the predecessor sends from now on is revenue.
    pub closed: bool,
}

/// A change the owner announced, which anyone may apply on chain from `effectiveAt` (chain seconds).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(tag = "change", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum AnnouncedChange {
    /// A higher admin fee (a lower one applies at once).
    AdminFee {
        admin_fee: Wei,
        #[schema(pattern = r"^[0-9]+(\.[0-9]+)?$", examples("12.5"))]
        admin_fee_percent: String,
        effective_at: u64,
    },
    /// A new operator.
    Operator {
        #[schema(value_type = AnswerAddress)]
        operator: Address,
        effective_at: u64,
    },
    /// A validator's removal.
    ValidatorRemoval {
        #[schema(value_type = AnswerAddress)]
        validator: Address,
        effective_at: u64,
    },
}

impl AnnouncedChange {
    pub fn effective_at(&self) -> u64 {
        match *self {
            AnnouncedChange::AdminFee { effective_at, .. }
            | AnnouncedChange::Operator { effective_at, .. }
            | AnnouncedChange::ValidatorRemoval { effective_at, .. } => effective_at,
        }
    }
}

fn announced(union: &Union) -> Vec<AnnouncedChange> {
    let fee = union.announced_admin_fee.map(|fee| AnnouncedChange::AdminFee {
        admin_fee: Wei(fee.value.value()),
        admin_fee_percent: fee.value.percent(),
        effective_at: fee.effective_at,
    });
    let operator = union
        .announced_operator
        .map(|op| AnnouncedChange::Operator { operator: op.value, effective_at: op.effective_at });
    let removals = union.validators.iter().filter_map(|(&validator, removal)| {
        removal.map(|effective_at| AnnouncedChange::ValidatorRemoval { validator, effective_at })
    });
    let mut all: Vec<AnnouncedChange> = fee.into_iter().chain(operator).chain(removals).collect();
    all.sort_by_key(AnnouncedChange::effective_at);
    all
}

#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Commit)]
pub struct CommitView {
    /// The block whose book was committed.
    pub book_block: u64,
    #[schema(value_type = Hash)]
    pub root: B256,
    #[schema(value_type = Hash)]
    pub book_hash: B256,
    /// The block the commit transaction was mined in.
    pub committed_block: u64,
    /// The time of that block (seconds).
    pub committed_at: u64,
    /// From this chain time on, members can withdraw with it: `committedAt + freezePeriod + 1`, the
    /// contract's `provableAt` (18446744073709551615: never).
    pub provable_at: u64,
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

pub fn summary(union: &Union) -> Summary {
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
        operator: union.operator,
        validators: union.validators.keys().copied().collect(),
        announced: announced(union),
        moved_from: union.predecessor.map(|predecessor| MovedFrom {
            union: predecessor,
            carried: Wei(state.totals().carried),
            awaiting_carry: Wei(state.predecessor_reserve()),
            closed: state.is_carry_closed(),
        }),
        moved_to: union.successor,
    }
}

/// The union at `address`, or a 404 that says which block the answer is as of, or a 409 that says
/// why the union was set aside.
pub fn find<'a>(unions: &'a Unions, address: &Address) -> Result<&'a Union, ApiError> {
    if let Some(quarantine) = unions.quarantine(address) {
        return Err(quarantined(address, quarantine));
    }
    unions.get(address).ok_or_else(|| not_found(address, unions.as_of()))
}

/// The union at `address`, `None` when there is none; a 409 when it was set aside.
pub fn found<'a>(unions: &'a Unions, address: &Address) -> Result<Option<&'a Union>, ApiError> {
    match find(unions, address) {
        Ok(union) => Ok(Some(union)),
        Err(ApiError::NotFound(_)) => Ok(None),
        Err(refused) => Err(refused),
    }
}

pub(crate) fn quarantined(address: &Address, quarantine: &Quarantine) -> ApiError {
    ApiError::Conflict {
        code: ErrorCode::UnionQuarantined,
        message: format!("data union {address} is set aside and has no figures: {quarantine}"),
    }
}

pub(crate) fn not_found(address: &Address, as_of: u64) -> ApiError {
    ApiError::NotFound(format!("no data union at {address} (as of block {as_of})"))
}

/// Every union (of `owner`, when given), oldest first: how many, and the page asked for.
pub fn list(unions: &Unions, owner: Option<Address>, page: Page) -> (usize, Vec<Summary>) {
    let mut all: Vec<&Union> = unions.iter().filter(|u| owner.is_none_or(|o| u.state().owner() == o)).collect();
    all.sort_by_key(|union| (union.created_block, union.address));
    (all.len(), page.of(all.into_iter()).into_iter().map(summary).collect())
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = UnionStats)]
pub struct Stats {
    #[serde(flatten)]
    pub summary: Summary,
    /// Leaves in the book: every address that ever joined, plus owners.
    pub leaf_count: usize,
    pub totals: Totals,
    /// Wei waiting for the next revenue because it did not divide evenly among the members.
    pub carry: Wei,
    pub commits: Vec<CommitView>,
    pub total_withdrawn: Wei,
    /// Member shares divided by the members that ever joined (rounded down).
    pub average_revenue_per_member: Wei,
}

#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Totals {
    pub revenue: Wei,
    pub admin_fees: Wei,
    /// Revenue credited to the owner because no member was active.
    pub owner_without_members: Wei,
    pub member_shares: Wei,
}

pub fn stats(union: &Union) -> Stats {
    let state = union.state();
    let totals = state.totals();
    let members = total_members(union);
    let average = if members == 0 { U256::ZERO } else { totals.member_shares / U256::from(members) };
    Stats {
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
    }
}

/// What the owner's dashboard shows beyond [`Stats`]: figures that take the catalog and chain time.
#[derive(Debug, Clone)]
pub struct Dashboard {
    pub stats: Stats,
    /// Member shares per member ever joined, per 30 days since the union was created (at least one
    /// such month, so a young union is not extrapolated).
    pub revenue_per_member_month: U256,
    /// Addresses with a running subscription to any of the union's products, each counted once.
    pub active_subscribers: u64,
    /// The products paying into the union, oldest first.
    pub products: Vec<(B256, String)>,
    pub as_of: u64,
    /// The chain time of `as_of` (seconds).
    pub chain_time: u64,
}

/// The owner's dashboard of `address`, `None` when there is no such union.
pub async fn dashboard(services: &Services, address: Address) -> Result<Option<Dashboard>, ApiError> {
    let created = {
        let unions = services.models.unions().await;
        let Some(union) = found(&unions, &address)? else { return Ok(None) };
        union.created_block
    };
    let born = services.clock.time_of(&services.chain, created).await?;
    at_chain_time(services, |models, now| {
        let Some(union) = found(&models.unions, &address)? else { return Ok(None) };
        let stats = stats(union);
        let products = products_of(&models.catalog, address);
        let ids: Vec<B256> = products.iter().map(|(id, _)| *id).collect();
        Ok(Some(Dashboard {
            revenue_per_member_month: per_member_month(
                stats.totals.member_shares.0,
                stats.summary.total_members,
                now.saturating_sub(born),
            ),
            active_subscribers: active_subscribers(&models.catalog, &ids, now),
            products,
            stats,
            as_of: models.as_of(),
            chain_time: now,
        }))
    })
    .await
}

/// The products paying into `union`, oldest first.
pub fn products_of(catalog: &Catalog, union: Address) -> Vec<(B256, String)> {
    catalog.products().filter(|product| product.beneficiary == union).map(|p| (p.id, p.name.clone())).collect()
}

/// Addresses whose subscription to any of `products` runs past `now`, each counted once however
/// many products it subscribes to.
fn active_subscribers(catalog: &Catalog, products: &[B256], now: u64) -> u64 {
    let now = U256::from(now);
    let running = products
        .iter()
        .flat_map(|product| catalog.subscriptions_to(product))
        .filter(|subscription| subscription.end_timestamp > now)
        .map(|subscription| subscription.subscriber);
    running.collect::<std::collections::BTreeSet<Address>>().len() as u64
}

/// Member shares per member ever joined, per 30 days of the union's life (at least 30 days).
fn per_member_month(member_shares: U256, members: u64, age_secs: u64) -> U256 {
    if members == 0 {
        return U256::ZERO;
    }
    member_shares * U256::from(MONTH_SECS) / (U256::from(members) * U256::from(age_secs.max(MONTH_SECS)))
}

#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Point {
    pub block: u64,
    /// The block's time, seconds since 1970.
    pub at: u64,
    pub active_members: u64,
    pub total_members: u64,
    /// Revenue received up to and including this block.
    pub revenue: Wei,
}

/// One point per block where members or revenue changed: what the charts draw.
pub fn history(union: &Union) -> Vec<Point> {
    let point = |p: &crate::unions::HistoryPoint| Point {
        block: p.block,
        at: p.at,
        active_members: p.active_members,
        total_members: p.total_members,
        revenue: Wei(p.revenue),
    };
    union.history().iter().map(point).collect()
}

/// Hex digits of an address to look for: a prefix when it starts with `0x`, anywhere otherwise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressSearch(String);

impl AddressSearch {
    /// `text` (lower case), or a 400 naming `field` when it is not hex digits of an address.
    pub fn parse(text: &str, field: &'static str) -> Result<Self, ApiError> {
        let text = text.to_lowercase();
        let hex = text.strip_prefix("0x").unwrap_or(&text);
        if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(ApiError::BadRequest {
                code: ErrorCode::InvalidSearch,
                message: format!("`{field}` is {text:?}, but must be hex digits of an address"),
                field: Some(field),
            });
        }
        Ok(Self(text))
    }

    fn matches(&self, address: &Address) -> bool {
        let text = format!("{address:x}");
        match self.0.strip_prefix("0x") {
            Some(prefix) => text.starts_with(prefix),
            None => text.contains(&self.0),
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Member {
    #[schema(value_type = AnswerAddress)]
    pub address: Address,
    pub leaf_index: usize,
    pub earnings: Wei,
    pub active: bool,
    /// `Active` or `Parted`, as the list's filter names them.
    #[schema(schema_with = active_or_parted)]
    pub status: MemberStatus,
    pub first_joined_block: u64,
    /// The time of that block, seconds since 1970.
    pub first_joined_at: u64,
    pub withdrawn: Wei,
}

/// A listed member's status: a list holds members, each active or parted, never `all`.
fn active_or_parted() -> utoipa::openapi::schema::Object {
    crate::api::openapi::schemas::one_of(&[MemberStatus::Active.as_str(), MemberStatus::Parted.as_str()])
}

/// Members in leaf order (the order they first joined): every address that ever joined, parted ones
/// with the earnings they keep. An owner's leaf that never joined is not a member. Answers how many
/// match on all pages, and the page asked for.
pub fn members(
    union: &Union,
    status: MemberStatus,
    search: Option<&AddressSearch>,
    page: Page,
) -> (usize, Vec<Member>) {
    let matches = |(view, _): &(MemberView, u64)| {
        status.admits(view.active) && search.is_none_or(|search| search.matches(&view.address))
    };
    let joined = || union.state().members().filter_map(|view| Some((view, union.first_joined(&view.address)?)));
    let total = match search {
        // Counted as the union goes: a page of a large union does not walk every member to count.
        None => count(union, status) as usize,
        Some(_) => joined().filter(matches).count(),
    };
    let members = page.of(joined().filter(matches)).into_iter().map(|(view, first)| member(union, view, first));
    (total, members.collect())
}

/// How many members have `status`.
fn count(union: &Union, status: MemberStatus) -> u64 {
    let (all, active) = (total_members(union), union.state().active_count());
    match status {
        MemberStatus::All => all,
        MemberStatus::Active => active,
        MemberStatus::Parted => all - active,
    }
}

fn member(union: &Union, view: MemberView, first_joined_block: u64) -> Member {
    Member {
        address: view.address,
        leaf_index: view.index,
        earnings: Wei(view.earnings),
        active: view.active,
        status: if view.active { MemberStatus::Active } else { MemberStatus::Parted },
        first_joined_block,
        first_joined_at: union.time_of(first_joined_block).unwrap_or_default(),
        withdrawn: Wei(union.withdrawn(&view.address)),
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = MemberFigures)]
pub struct Figures {
    #[schema(value_type = AnswerAddress)]
    pub union: Address,
    #[schema(value_type = AnswerAddress)]
    pub address: Address,
    pub leaf_index: usize,
    pub active: bool,
    /// `null` for an owner's leaf that never joined.
    #[schema(required = true)]
    pub first_joined_block: Option<u64>,
    /// The time of that block, seconds since 1970; `null` with it.
    #[schema(required = true)]
    pub first_joined_at: Option<u64>,
    /// Lifetime earnings now.
    pub earnings: Wei,
    /// Lifetime earnings in the latest commit.
    pub committed: Wei,
    /// Earnings in the newest commit whose freeze has passed, minus what was withdrawn on chain.
    pub withdrawable: Wei,
    /// Committed earnings still frozen.
    pub frozen: Wei,
    pub withdrawn: Wei,
    /// What `withdrawAll(block, earnings, proof)` takes; `null` until a commit is unfrozen.
    #[schema(required = true)]
    pub proof: Option<Proof>,
    /// The chain time the freeze was judged at: the timestamp of the block the answer is as of.
    pub chain_time: u64,
    /// A new operator the owner announced: withdrawing (or proving) before it takes over keeps the
    /// member's earnings out of its reach.
    #[schema(required = true)]
    pub announced_operator: Option<OperatorChange>,
    /// When the latest commit's freeze ends, while it holds something frozen (not in the API).
    #[serde(skip)]
    pub unfreezes_at: Option<u64>,
}

/// A new operator, and from when it may take over (chain seconds).
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OperatorChange {
    #[schema(value_type = AnswerAddress)]
    pub operator: Address,
    pub effective_at: u64,
}

/// The arguments of `withdrawAll(block, earnings, proof)`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Proof {
    pub block: u64,
    pub earnings: Wei,
    #[schema(value_type = Vec<Hash>)]
    pub proof: Vec<B256>,
}

/// `member`'s figures in `union` at chain time `now`; `None` when it never was a member.
pub fn figures(union: &Union, member: Address, now: u64) -> Option<Figures> {
    let view = union.state().member(&member)?;
    let figures = union.figures(&member, now);
    let provable_at = latest_commit(union.state().commits()).map(|c| c.provable_at(union.freeze_period));
    Some(Figures {
        union: union.address,
        address: member,
        leaf_index: view.index,
        active: view.active,
        first_joined_block: union.first_joined(&member),
        first_joined_at: union.first_joined(&member).and_then(|block| union.time_of(block)),
        earnings: Wei(figures.earnings),
        committed: Wei(figures.committed),
        withdrawable: Wei(figures.withdrawable),
        frozen: Wei(figures.frozen),
        withdrawn: Wei(figures.withdrawn),
        unfreezes_at: provable_at.filter(|at| !figures.frozen.is_zero() && *at > now),
        proof: figures.proof.map(|p| Proof { block: p.block, earnings: Wei(p.earnings), proof: p.proof }),
        chain_time: now,
        announced_operator: union
            .announced_operator
            .map(|change| OperatorChange { operator: change.value, effective_at: change.effective_at }),
    })
}

/// How often to read again when the models move between reading the block time and taking the lock.
const ATTEMPTS: usize = 3;

/// The read models with the chain time of the block they stand at, read under one lock: `read`
/// gets both. The time is asked without holding the lock; if the models moved meanwhile, they are
/// read again (a few times, then the answer is judged at the time read last).
pub async fn at_chain_time<T>(
    services: &Services,
    read: impl Fn(&Models, u64) -> Result<T, ApiError>,
) -> Result<T, ApiError> {
    let mut block = services.models.as_of().await;
    let mut attempt = 0;
    loop {
        attempt += 1;
        let now = services.clock.time_of(&services.chain, block).await?;
        let models = services.models.read().await;
        if models.as_of() == block || attempt >= ATTEMPTS {
            return read(&models, now);
        }
        block = models.as_of();
    }
}

/// `member`'s figures in every union it belongs to or once did, with the union's first product's
/// name, all of one block.
pub async fn memberships(
    services: &Services,
    member: Address,
) -> Result<(u64, Vec<(Figures, Option<String>)>), ApiError> {
    at_chain_time(services, |models, now| {
        let mut unions: Vec<&Union> = models.unions.iter().collect();
        unions.sort_by_key(|union| (union.created_block, union.address));
        let all = unions
            .into_iter()
            .filter_map(|union| {
                let figures = figures(union, member, now)?;
                let name = products_of(&models.catalog, union.address).into_iter().next().map(|(_, name)| name);
                Some((figures, name))
            })
            .collect();
        Ok((models.as_of(), all))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revenue_per_member_month_counts_at_least_one_month() {
        let shares = U256::from(900u64);
        assert_eq!(per_member_month(shares, 3, 60), U256::from(300u64));
        assert_eq!(per_member_month(shares, 3, 3 * MONTH_SECS), U256::from(100u64));
        assert_eq!(per_member_month(shares, 0, MONTH_SECS), U256::ZERO);
    }

    #[test]
    fn an_address_search_is_a_prefix_with_0x_and_anywhere_without() {
        let address: Address = "0xabcdef0000000000000000000000000000001234".parse().unwrap();
        let search = |text: &str| AddressSearch::parse(text, "search").unwrap().matches(&address);
        assert!(search("0xABCD") && search("1234") && search("ef00"));
        assert!(!search("0x1234"), "0x means a prefix");
        assert!(AddressSearch::parse("0xzz", "search").is_err());
    }
}
