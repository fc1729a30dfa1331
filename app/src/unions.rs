//! Data Unions as their owners and members see them: stats, history, members, a member's figures with
//! the proof to withdraw with, join requests and shared secrets. Server functions over a port the
//! server fills in per request (with the request's session, so owner actions are the API's to refuse).

use alloy_primitives::{Address, B256, U256};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// How many members a page of the member list shows.
pub const MEMBERS_PAGE: usize = 20;

crate::named::named_enum! {
    /// Which members a list shows.
    #[derive(Default)]
    pub enum MemberStatus {
        #[default]
        All = "all" ("All"),
        Active = "active" ("Active"),
        Parted = "parted" ("Parted"),
    }
}

impl MemberStatus {
    /// Whether a member who is (or is not) `active` is in the list.
    pub fn admits(self, active: bool) -> bool {
        match self {
            MemberStatus::All => true,
            MemberStatus::Active => active,
            MemberStatus::Parted => !active,
        }
    }
}

crate::named::named_enum! {
    /// Where a join request stands, beside the chain: the owner's decision, the agent's transaction,
    /// then what the chain says of the member.
    pub enum RequestStatus {
        Pending = "pending" ("Waiting for approval"),
        Approved = "approved" ("Approved"),
        Rejected = "rejected" ("Not approved"),
        /// The agent's `addMembers` is on its way.
        Sent = "sent" ("Approved"),
        Joined = "joined" ("You are a member"),
        /// Joined, and removed since.
        Parted = "parted" ("No longer a member"),
    }
}

impl RequestStatus {
    /// An owner may approve it: waiting, or rejected and reconsidered.
    pub fn can_approve(self) -> bool {
        matches!(self, RequestStatus::Pending | RequestStatus::Rejected)
    }

    /// An owner may reject it until the agent has sent it.
    pub fn can_reject(self) -> bool {
        matches!(self, RequestStatus::Pending | RequestStatus::Approved)
    }

    /// Where the owner's list puts it: waiting first, then the accepted, then the refused.
    pub fn queue_rank(self) -> u8 {
        match self {
            RequestStatus::Pending => 0,
            RequestStatus::Approved | RequestStatus::Sent => 1,
            RequestStatus::Rejected => 2,
            RequestStatus::Joined | RequestStatus::Parted => 3,
        }
    }
}

/// A union's latest commit, as the dashboard shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitInfo {
    /// The block whose book was committed.
    pub book_block: u64,
    /// Chain time of the commit, and the first second members can withdraw with it.
    pub committed_at: u64,
    pub provable_at: u64,
}

/// A product that pays into the union.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnionProduct {
    pub id: B256,
    pub name: String,
}

/// The owner dashboard's tiles.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnionStats {
    pub address: Address,
    pub owner: Address,
    /// Exact percentage (`"12.5"`).
    pub admin_fee_percent: String,
    pub active_members: u64,
    /// Addresses that ever joined.
    pub total_members: u64,
    pub total_revenue: U256,
    pub admin_fees: U256,
    pub total_withdrawn: U256,
    /// Member shares per member ever joined, per 30 days since the union was created (at least one
    /// such month, so a young union is not extrapolated).
    pub revenue_per_member_month: U256,
    /// Addresses with a running subscription to any of the union's products, each counted once.
    pub active_subscribers: u64,
    /// Seconds a commit stays frozen; also how long the owner's announced changes wait.
    pub freeze_period: u64,
    pub operator: Address,
    /// The addresses that may veto a frozen commit.
    pub validators: Vec<Address>,
    /// Changes the owner announced that have not taken effect yet, soonest first.
    pub announced: Vec<Announced>,
    /// The union this one took over from, if it did.
    pub moved_from: Option<MovedFrom>,
    /// The union this one moved to, started by the same owner.
    pub moved_to: Option<Address>,
    pub latest_commit: Option<CommitInfo>,
    pub products: Vec<UnionProduct>,
    pub as_of_block: u64,
    /// The chain time of `as_of_block` (seconds).
    pub chain_time: u64,
}

/// What having a withdrawal relayed costs: the member signs it (EIP-712 `Withdrawal`) and the
/// server's relayer sends it, taking `fee` DATA wei from what is withdrawn instead of ETH for gas.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RelayOffer {
    pub relayer: Address,
    /// The least fee the relayer takes now.
    pub fee: U256,
    /// What is withdrawn in all, the fee included.
    pub withdrawable: U256,
    /// The union's `withdrawalNonce(member)`, which the signature names.
    pub nonce: U256,
    pub chain_id: u64,
}

/// A relayed withdrawal on its way: the member's figures show it once it is mined.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RelayedWithdrawal {
    /// What the recipient gets.
    pub amount: U256,
    pub fee: U256,
}

/// A member's signed withdrawal, for the relayer to send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedWithdrawal {
    pub recipient: Address,
    pub fee: U256,
    /// Unix seconds after which the signature is void.
    pub deadline: u64,
    /// The 65-byte signature, hex.
    pub signature: String,
}

/// A union's predecessor and what its members carried over from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MovedFrom {
    pub union: Address,
    /// Earnings carried over to members so far.
    pub carried: U256,
    /// Received from the predecessor and not carried yet (revenue once the carry closes).
    pub awaiting_carry: U256,
    /// Whether the carry is closed.
    pub closed: bool,
}

/// A change the owner announced: anyone may apply it on chain from `effective_at` (chain seconds).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Announced {
    pub change: AnnouncedChange,
    pub effective_at: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AnnouncedChange {
    /// A higher admin fee, as an exact percentage (`"12.5"`).
    AdminFee(String),
    Operator(Address),
    ValidatorRemoval(Address),
}

impl Announced {
    /// What the dashboard says of it.
    pub fn describe(&self) -> String {
        match &self.change {
            AnnouncedChange::AdminFee(percent) => format!("The admin fee rises to {percent} %"),
            AnnouncedChange::Operator(operator) => format!("{operator} becomes the operator"),
            AnnouncedChange::ValidatorRemoval(validator) => format!("{validator} stops being a validator"),
        }
    }
}

/// One point of a union's history: what the charts draw. Sent as an array, `[block, at, active,
/// total, revenue]`: a page carries up to [`MOST_POINTS`](crate::components::chart::MOST_POINTS) of
/// them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "(u64, u64, u64, u64, U256)", into = "(u64, u64, u64, u64, U256)")]
pub struct HistoryPoint {
    pub block: u64,
    /// The block's time, seconds since 1970.
    pub at: u64,
    pub active_members: u64,
    pub total_members: u64,
    /// Revenue received up to and including this block.
    pub revenue: U256,
}

impl From<(u64, u64, u64, u64, U256)> for HistoryPoint {
    fn from((block, at, active_members, total_members, revenue): (u64, u64, u64, u64, U256)) -> Self {
        HistoryPoint { block, at, active_members, total_members, revenue }
    }
}

impl From<HistoryPoint> for (u64, u64, u64, u64, U256) {
    fn from(point: HistoryPoint) -> Self {
        (point.block, point.at, point.active_members, point.total_members, point.revenue)
    }
}

/// What a union's members sent to the streams of its products, day by day: who contributes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contributions {
    /// The first day counted and today, in days since the epoch (UTC).
    pub first_day: u64,
    pub today: u64,
    /// `(day, messages, publishers)` of each day with messages, oldest first.
    pub days: Vec<(u64, u64, u64)>,
    /// The publishers that sent the most over those days, with how many, most first.
    pub top: Vec<(Address, u64)>,
}

/// What the member list is asked for.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct MemberQuery {
    /// Hex digits of an address: a prefix with `0x`, anywhere without.
    pub search: String,
    #[serde(default)]
    pub status: MemberStatus,
    pub offset: usize,
}

/// One row of the member list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberRow {
    pub address: Address,
    pub active: bool,
    pub first_joined_block: u64,
    /// The time of that block, seconds since 1970.
    pub first_joined_at: u64,
    pub earnings: U256,
    pub withdrawn: U256,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct MemberPage {
    pub total: usize,
    pub offset: usize,
    pub members: Vec<MemberRow>,
}

/// What `withdrawAll(block, earnings, proof)` takes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WithdrawProof {
    pub block: u64,
    pub earnings: U256,
    pub proof: Vec<B256>,
}

/// A member's figures in one union.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberFigures {
    pub union: Address,
    pub member: Address,
    pub active: bool,
    /// Lifetime earnings now, and in the latest commit.
    pub earnings: U256,
    pub committed: U256,
    pub withdrawable: U256,
    pub frozen: U256,
    /// When the frozen amount can be withdrawn (chain time), while something is frozen.
    pub unfreezes_at: Option<u64>,
    pub withdrawn: U256,
    pub proof: Option<WithdrawProof>,
    /// The chain time the figures are judged at.
    pub chain_time: u64,
    /// A new operator the owner announced, and from when it may take over (chain seconds).
    pub announced_operator: Option<(Address, u64)>,
    pub as_of_block: u64,
    /// The first product paying into the union, to name it.
    pub product_name: Option<String>,
}

/// A join request and where it stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinStatus {
    pub union: Address,
    pub member: Address,
    pub status: RequestStatus,
    /// A shared secret approved it.
    pub by_secret: bool,
    /// Seconds since the epoch.
    pub created_at: i64,
}

/// The owner's join requests, and who carries out the approved ones.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinQueue {
    pub requests: Vec<JoinStatus>,
    /// This server's join-part agent; `None` when the server runs none.
    pub agent: Option<JoinAgent>,
}

/// The join-part agent that adds approved members to a union from this server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JoinAgent {
    pub address: Address,
    /// Whether the union lists it as one of its agents now (approved requests wait while it does
    /// not); `None` when the chain could not be asked.
    pub is_union_agent: Option<bool>,
}

/// The text a member signs to ask to join, and the time written into it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinPrompt {
    pub message: String,
    pub issued_at: i64,
}

/// A shared secret: the value only in the answer that created it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinSecret {
    pub id: String,
    pub name: String,
    pub created_at: i64,
    pub secret: Option<B256>,
}

type Answer<T> = Result<T, AppError>;

/// The block the server's answers stand at: pages poll it and refetch when it moves.
#[server(endpoint = "unions/block")]
pub async fn chain_block() -> Answer<u64> {
    ssr::unions()?.as_of_block().await
}

/// The union at `union`, `None` when there is none.
#[server(endpoint = "unions/stats")]
pub async fn get_union_stats(union: Address) -> Answer<Option<UnionStats>> {
    ssr::unions()?.stats(union).await
}

/// The union the address bar names (`text`): its stats, or a refusal naming what is wrong.
pub async fn union_in_address_bar(text: String) -> Answer<Option<UnionStats>> {
    match coop::text::parse_address(text.trim()) {
        Ok(union) => get_union_stats(union).await,
        Err(error) => Err(AppError::BadRequest(format!("`union`: {error}"))),
    }
}

#[server(endpoint = "unions/history")]
pub async fn union_history(union: Address) -> Answer<Vec<HistoryPoint>> {
    ssr::unions()?.history(union).await
}

/// What the union's members published over the last weeks, and who published the most.
#[server(endpoint = "unions/contributions")]
pub async fn union_contributions(union: Address) -> Answer<Contributions> {
    ssr::unions()?.contributions(union).await
}

#[server(endpoint = "unions/members")]
pub async fn union_members(union: Address, query: MemberQuery) -> Answer<MemberPage> {
    ssr::unions()?.members(union, query).await
}

/// Every union `member` belongs to or once did, with its figures in each.
/// What relaying `member`'s withdrawal from `union` costs now.
#[server(endpoint = "unions/relay-offer")]
pub async fn get_relay_offer(union: Address, member: Address) -> Answer<RelayOffer> {
    ssr::unions()?.relay_offer(union, member).await
}

/// Has the server's relayer send `member`'s signed withdrawal, once it passed every check.
#[server(endpoint = "unions/relay")]
pub async fn relay_withdrawal(union: Address, member: Address, signed: SignedWithdrawal) -> Answer<RelayedWithdrawal> {
    ssr::unions()?.relay(union, member, signed).await
}

#[server(endpoint = "unions/memberships")]
pub async fn memberships(member: Address) -> Answer<Vec<MemberFigures>> {
    ssr::unions()?.memberships(member).await
}

/// `member`'s join request to `union`, `None` when it never asked.
#[server(endpoint = "unions/join-status")]
pub async fn get_join_status(union: Address, member: Address) -> Answer<Option<JoinStatus>> {
    ssr::unions()?.join_status(union, member).await
}

/// The message `member` signs to ask to join `union` now.
#[server(endpoint = "unions/join-prompt")]
pub async fn get_join_prompt(union: Address, member: Address) -> Answer<JoinPrompt> {
    ssr::unions()?.join_prompt(union, member).await
}

/// Files a signed join request; a valid `secret` approves it at once.
#[server(endpoint = "unions/join")]
pub async fn request_to_join(
    union: Address,
    member: Address,
    issued_at: i64,
    signature: String,
    secret: Option<String>,
) -> Answer<JoinStatus> {
    let request = SignedJoin { member, issued_at, signature, secret };
    ssr::unions()?.file_join(union, request).await
}

/// A signed join request, as the API takes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedJoin {
    pub member: Address,
    pub issued_at: i64,
    pub signature: String,
    pub secret: Option<String>,
}

/// The union's join requests: owner only.
#[server(endpoint = "unions/join-requests")]
pub async fn join_requests(union: Address) -> Answer<JoinQueue> {
    ssr::unions()?.join_requests(union).await
}

crate::named::named_enum! {
    /// What an owner decides on a join request.
    pub enum Decision {
        Approve = "approve" ("Approve"),
        Reject = "reject" ("Reject"),
    }
}

/// Approves or rejects a join request: owner only.
#[server(endpoint = "unions/decide")]
pub async fn decide_join(union: Address, member: Address, decision: Decision) -> Answer<JoinStatus> {
    ssr::unions()?.decide(union, member, decision).await
}

/// Removes a member (the server's join-part agent sends it to the contract): owner only.
#[server(endpoint = "unions/remove")]
pub async fn remove_member(union: Address, member: Address) -> Answer<()> {
    ssr::unions()?.remove(union, member).await
}

/// The union's shared secrets, without their values: owner only.
#[server(endpoint = "unions/secrets")]
pub async fn join_secrets(union: Address) -> Answer<Vec<JoinSecret>> {
    ssr::unions()?.secrets(union).await
}

/// A new shared secret named `name`; its value is in this answer only: owner only.
#[server(endpoint = "unions/secrets/create")]
pub async fn create_secret(union: Address, name: String) -> Answer<JoinSecret> {
    ssr::unions()?.create_secret(union, name).await
}

/// Revokes the secret `id`: links carrying it stop working. Owner only.
#[server(endpoint = "unions/secrets/revoke")]
pub async fn revoke_secret(union: Address, id: String) -> Answer<()> {
    ssr::unions()?.revoke_secret(union, id).await
}

/// The port the server implements; it puts a [`ssr::RequestUnions`], bound to the request's session,
/// into every request's extensions.
#[cfg(feature = "ssr")]
pub mod ssr {
    use std::future::Future;
    use std::pin::Pin;
    use std::sync::Arc;

    use crate::error::Service;
    use alloy_primitives::Address;

    use super::*;

    pub type Answer<'a, T> = Pin<Box<dyn Future<Output = Result<T, AppError>> + Send + 'a>>;

    pub trait Unions: Send + Sync {
        fn as_of_block(&self) -> Answer<'_, u64>;
        fn stats(&self, union: Address) -> Answer<'_, Option<UnionStats>>;
        fn history(&self, union: Address) -> Answer<'_, Vec<HistoryPoint>>;
        fn contributions(&self, union: Address) -> Answer<'_, Contributions>;
        fn members(&self, union: Address, query: MemberQuery) -> Answer<'_, MemberPage>;
        fn memberships(&self, member: Address) -> Answer<'_, Vec<MemberFigures>>;
        fn join_status(&self, union: Address, member: Address) -> Answer<'_, Option<JoinStatus>>;
        fn join_prompt(&self, union: Address, member: Address) -> Answer<'_, JoinPrompt>;
        fn file_join(&self, union: Address, request: SignedJoin) -> Answer<'_, JoinStatus>;
        // Owner actions: the session of the request decides.
        fn join_requests(&self, union: Address) -> Answer<'_, JoinQueue>;
        fn decide(&self, union: Address, member: Address, decision: Decision) -> Answer<'_, JoinStatus>;
        fn remove(&self, union: Address, member: Address) -> Answer<'_, ()>;
        fn secrets(&self, union: Address) -> Answer<'_, Vec<JoinSecret>>;
        fn create_secret(&self, union: Address, name: String) -> Answer<'_, JoinSecret>;
        fn revoke_secret(&self, union: Address, id: String) -> Answer<'_, ()>;
        // Relayed withdrawals: the signature decides, not the session.
        fn relay_offer(&self, union: Address, member: Address) -> Answer<'_, RelayOffer>;
        fn relay(&self, union: Address, member: Address, signed: SignedWithdrawal) -> Answer<'_, RelayedWithdrawal>;
    }

    #[derive(Clone)]
    pub struct RequestUnions(pub Arc<dyn Unions>);

    pub(super) fn unions() -> Result<Arc<dyn Unions>, AppError> {
        crate::request_port::<RequestUnions>(Service::DataUnions).map(|unions| unions.0)
    }
}

/// How often the browser asks which block the server's answers stand at.
const POLL_EVERY: std::time::Duration = std::time::Duration::from_secs(2);

/// The block the server's answers stand at, asked every two seconds in the browser (`None` on the
/// server and until the first answer). Pages refetch their figures when it moves.
pub fn use_chain_block() -> ReadSignal<Option<u64>> {
    let (block, set_block) = signal(None::<u64>);
    #[cfg(feature = "hydrate")]
    {
        let ask = move || {
            leptos::task::spawn_local(async move {
                if let Ok(now) = chain_block().await
                    && block.get_untracked() != Some(now)
                {
                    set_block.set(Some(now));
                }
            });
        };
        if let Ok(handle) = set_interval_with_handle(ask, POLL_EVERY) {
            on_cleanup(move || handle.clear());
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (set_block, POLL_EVERY);
    block
}

/// `initial` (what the server rendered), then `fetch`'s newest answer each time `block` moves: the
/// figures change in place, and what the person is typing or waiting for around them stays.
pub fn live<T, F, Fut>(initial: T, block: ReadSignal<Option<u64>>, fetch: F) -> ReadSignal<T>
where
    T: Send + Sync + 'static,
    F: Fn() -> Fut + 'static,
    Fut: std::future::Future<Output = Option<T>> + 'static,
{
    let (value, set_value) = signal(initial);
    // Effects run in the browser only; the server renders `initial`.
    Effect::new(move |_| {
        if block.get().is_some() {
            let answer = fetch();
            leptos::task::spawn_local(async move {
                if let Some(fresh) = answer.await {
                    set_value.set(fresh);
                }
            });
        }
    });
    value
}
