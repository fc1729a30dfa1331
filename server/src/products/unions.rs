//! The web app's Data Union port, answered by the REST API itself, in process and with the request's
//! session cookie: the pages show what `/api/v1/unions/...` answers, and owner actions are refused by
//! the same checks that refuse them over HTTP. The few figures the API has no route for (active
//! subscribers counted once each, revenue per member per month) are worked out here from the same
//! in-memory catalog and stored log the API reads.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use alloy::eips::BlockNumberOrTag;
use alloy::primitives::{Address, B256, U256};
use alloy::providers::Provider;
use anyhow::Context;
use app::unions::ssr::{Answer, RequestUnions, Unions};
use app::unions::{
    CommitInfo, HistoryPoint, JoinAgent, JoinPrompt, JoinQueue, JoinSecret, JoinStatus, MEMBERS_PAGE, MemberFigures,
    MemberPage, MemberQuery, MemberRow, SignedJoin, UnionError, UnionProduct, UnionStats, WithdrawProof,
};
use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::{CONTENT_TYPE, COOKIE};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use serde_json::{Value, json};

use super::in_process::{self, Reply};
use crate::http::{self, Services};
use crate::indexer::decode::kinds;

/// Revenue per member is given per 30 days.
const MONTH_SECS: u64 = 30 * 86_400;
/// How many unions one page of `/api/v1/unions` may hold.
const UNIONS_PAGE: usize = 1000;

/// The REST API's router with the session layer, asked in process; one per server.
#[derive(Clone)]
pub struct ApiUnions {
    api: Router,
    services: Arc<Services>,
    /// Active subscribers per union at the block they were counted at: pages poll every block, and
    /// the count reads the event log, so it is read once per block however many pages ask (after a
    /// reorg to the same height the count may lag by one block).
    subscribers: Arc<Mutex<HashMap<Address, (u64, u64)>>>,
}

impl ApiUnions {
    pub fn new(services: Arc<Services>) -> Self {
        let api =
            http::routes(services.clone()).layer(crate::auth::session_layer(services.store.clone(), &services.origin));
        Self { api, services, subscribers: Default::default() }
    }
}

/// Middleware: hands each request the union port, carrying its session cookie.
pub async fn provide_unions(State(unions): State<ApiUnions>, mut request: Request, next: Next) -> Response {
    let cookie = request.headers().get(COOKIE).cloned();
    request.extensions_mut().insert(RequestUnions(Arc::new(SessionUnions { api: unions, cookie })));
    next.run(request).await
}

/// The port for one request.
struct SessionUnions {
    api: ApiUnions,
    cookie: Option<HeaderValue>,
}

fn unavailable(error: anyhow::Error) -> UnionError {
    tracing::error!(target: "products::unions", error = format!("{error:#}"), "the unions could not answer");
    UnionError::Unavailable
}

impl SessionUnions {
    fn services(&self) -> &Services {
        &self.api.services
    }

    /// Asks the API; a refusal becomes the [`UnionError`] that says why, in the API's words.
    async fn call(&self, method: Method, uri: &str, body: Option<Value>) -> Result<Reply, UnionError> {
        let mut request = Request::builder().method(method).uri(uri);
        if let Some(cookie) = &self.cookie {
            request = request.header(COOKIE, cookie.clone());
        }
        let body = match body {
            Some(json) => {
                request = request.header(CONTENT_TYPE, "application/json");
                Body::from(json.to_string())
            }
            None => Body::empty(),
        };
        let request = request.body(body).context("building the request").map_err(unavailable)?;
        let reply = in_process::call(&self.api.api, request).await.map_err(unavailable)?;
        if reply.status.is_success() {
            return Ok(reply);
        }
        Err(match (reply.status, reply.message()) {
            (StatusCode::UNAUTHORIZED, _) => UnionError::NotSignedIn,
            (StatusCode::FORBIDDEN, Some(message)) => UnionError::NotOwner(message),
            (StatusCode::NOT_FOUND, Some(message)) => UnionError::NotFound(message),
            (StatusCode::CONFLICT, Some(message)) => UnionError::Conflict(message),
            (StatusCode::BAD_REQUEST, Some(message)) => UnionError::BadRequest(message),
            (status, _) => unavailable(anyhow::anyhow!("{uri} answered {status}")),
        })
    }

    async fn json<T: DeserializeOwned>(&self, method: Method, uri: &str, body: Option<Value>) -> Result<T, UnionError> {
        self.call(method, uri, body).await?.json(uri).map_err(unavailable)
    }

    async fn get<T: DeserializeOwned>(&self, uri: &str) -> Result<T, UnionError> {
        self.json(Method::GET, uri, None).await
    }

    /// `None` for a 404.
    async fn find<T: DeserializeOwned>(&self, uri: &str) -> Result<Option<T>, UnionError> {
        match self.get(uri).await {
            Ok(found) => Ok(Some(found)),
            Err(UnionError::NotFound(_)) => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// The products paying into `union`, oldest first.
    async fn products_of(&self, union: Address) -> Vec<UnionProduct> {
        let catalog = self.services().catalog.read().await;
        catalog
            .products()
            .filter(|product| product.beneficiary == union)
            .map(|product| UnionProduct { id: product.id, name: product.name.clone() })
            .collect()
    }

    async fn block_time(&self, block: u64) -> Result<u64, UnionError> {
        let header = self
            .services()
            .chain
            .get_block_by_number(BlockNumberOrTag::Number(block))
            .await
            .with_context(|| format!("reading block {block}"))
            .map_err(unavailable)?
            .with_context(|| format!("block {block} is not on the chain"))
            .map_err(unavailable)?;
        Ok(header.header.timestamp)
    }

    /// Addresses whose subscription to any of `products` runs past `now`, each counted once however
    /// many products or extensions it has: the latest end of each (subscriber, product) decides.
    async fn active_subscribers(
        &self,
        products: &[UnionProduct],
        from: u64,
        to: u64,
        now: u64,
    ) -> Result<u64, UnionError> {
        let ids: BTreeSet<B256> = products.iter().map(|product| product.id).collect();
        if ids.is_empty() {
            return Ok(0);
        }
        let events =
            self.services().store.events(from, to).await.context("reading the event log").map_err(unavailable)?;
        let mut ends: BTreeMap<(Address, B256), U256> = BTreeMap::new();
        for event in events.iter().filter(|event| event.kind == kinds::SUBSCRIBED) {
            let text = |name: &str| event.payload.get(name).and_then(Value::as_str).map(str::to_owned);
            let (Some(product), Some(subscriber), Some(end)) =
                (text("productId"), text("subscriber"), text("endTimestamp"))
            else {
                continue;
            };
            let (Ok(product), Ok(subscriber), Ok(end)) =
                (product.parse::<B256>(), subscriber.parse::<Address>(), end.parse::<U256>())
            else {
                continue;
            };
            if ids.contains(&product) {
                // Each event carries the subscription's new end: the last one is the subscription.
                ends.insert((subscriber, product), end);
            }
        }
        let running: BTreeSet<Address> =
            ends.into_iter().filter(|(_, end)| *end > U256::from(now)).map(|((subscriber, _), _)| subscriber).collect();
        Ok(running.len() as u64)
    }
}

/// Amounts in API answers are decimal strings of wei.
fn wei<'de, D: Deserializer<'de>>(deserializer: D) -> Result<U256, D::Error> {
    let text = String::deserialize(deserializer)?;
    coop::text::parse_amount(&text).map_err(serde::de::Error::custom)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireCommit {
    book_block: u64,
    committed_at: u64,
    provable_at: u64,
}

impl From<WireCommit> for CommitInfo {
    fn from(commit: WireCommit) -> Self {
        Self { book_block: commit.book_block, committed_at: commit.committed_at, provable_at: commit.provable_at }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireStats {
    address: Address,
    owner: Address,
    admin_fee_percent: String,
    active_members: u64,
    total_members: u64,
    #[serde(deserialize_with = "wei")]
    total_revenue: U256,
    totals: WireTotals,
    #[serde(deserialize_with = "wei")]
    total_withdrawn: U256,
    latest_commit: Option<WireCommit>,
    created_block: u64,
    freeze_period: u64,
    as_of_block: u64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireTotals {
    #[serde(deserialize_with = "wei")]
    admin_fees: U256,
    #[serde(deserialize_with = "wei")]
    member_shares: U256,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireSummary {
    address: Address,
    latest_commit: Option<WireCommit>,
}

#[derive(Deserialize)]
struct WireUnionList {
    total: usize,
    unions: Vec<WireSummary>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WirePoint {
    block: u64,
    active_members: u64,
    total_members: u64,
    #[serde(deserialize_with = "wei")]
    revenue: U256,
}

#[derive(Deserialize)]
struct WireHistory {
    points: Vec<WirePoint>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireMember {
    address: Address,
    active: bool,
    first_joined_block: u64,
    #[serde(deserialize_with = "wei")]
    earnings: U256,
    #[serde(deserialize_with = "wei")]
    withdrawn: U256,
}

#[derive(Deserialize)]
struct WireMemberList {
    total: usize,
    offset: usize,
    members: Vec<WireMember>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireFigures {
    active: bool,
    #[serde(deserialize_with = "wei")]
    earnings: U256,
    #[serde(deserialize_with = "wei")]
    committed: U256,
    #[serde(deserialize_with = "wei")]
    withdrawable: U256,
    #[serde(deserialize_with = "wei")]
    frozen: U256,
    #[serde(deserialize_with = "wei")]
    withdrawn: U256,
    proof: Option<WireProof>,
    chain_time: u64,
    as_of_block: u64,
}

#[derive(Deserialize)]
struct WireProof {
    block: u64,
    #[serde(deserialize_with = "wei")]
    earnings: U256,
    proof: Vec<B256>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireRequest {
    union: Address,
    member: Address,
    status: String,
    by_secret: bool,
    created_at: i64,
}

impl From<WireRequest> for JoinStatus {
    fn from(request: WireRequest) -> Self {
        Self {
            union: request.union,
            member: request.member,
            status: request.status,
            by_secret: request.by_secret,
            created_at: request.created_at,
        }
    }
}

#[derive(Deserialize)]
struct WireRequests {
    requests: Vec<WireRequest>,
    agent: Option<JoinAgent>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireSecret {
    id: String,
    name: String,
    created_at: i64,
    secret: Option<B256>,
}

impl From<WireSecret> for JoinSecret {
    fn from(secret: WireSecret) -> Self {
        Self { id: secret.id, name: secret.name, created_at: secret.created_at, secret: secret.secret }
    }
}

#[derive(Deserialize)]
struct WireSecrets {
    secrets: Vec<WireSecret>,
}

fn encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// Member shares per member ever joined, per 30 days of the union's life (at least 30 days).
fn per_member_month(member_shares: U256, members: u64, age_secs: u64) -> U256 {
    if members == 0 {
        return U256::ZERO;
    }
    member_shares * U256::from(MONTH_SECS) / (U256::from(members) * U256::from(age_secs.max(MONTH_SECS)))
}

impl Unions for SessionUnions {
    fn as_of_block(&self) -> Answer<'_, u64> {
        Box::pin(async move { Ok(self.services().unions.read().await.as_of()) })
    }

    fn stats(&self, union: Address) -> Answer<'_, Option<UnionStats>> {
        Box::pin(async move {
            let Some(stats) = self.find::<WireStats>(&format!("/api/v1/unions/{union}")).await? else {
                return Ok(None);
            };
            let products = self.products_of(union).await;
            let now = self.block_time(stats.as_of_block).await?;
            let created = self.block_time(stats.created_block).await?;
            let counted = self.api.subscribers.lock().unwrap_or_else(PoisonError::into_inner).get(&union).copied();
            let active_subscribers = match counted {
                Some((block, count)) if block == stats.as_of_block => count,
                _ => {
                    let count = self.active_subscribers(&products, stats.created_block, stats.as_of_block, now).await?;
                    let mut cache = self.api.subscribers.lock().unwrap_or_else(PoisonError::into_inner);
                    cache.insert(union, (stats.as_of_block, count));
                    count
                }
            };
            Ok(Some(UnionStats {
                address: stats.address,
                owner: stats.owner,
                admin_fee_percent: stats.admin_fee_percent,
                active_members: stats.active_members,
                total_members: stats.total_members,
                total_revenue: stats.total_revenue,
                admin_fees: stats.totals.admin_fees,
                total_withdrawn: stats.total_withdrawn,
                revenue_per_member_month: per_member_month(
                    stats.totals.member_shares,
                    stats.total_members,
                    now.saturating_sub(created),
                ),
                active_subscribers,
                freeze_period: stats.freeze_period,
                latest_commit: stats.latest_commit.map(CommitInfo::from),
                products,
                as_of_block: stats.as_of_block,
            }))
        })
    }

    fn history(&self, union: Address) -> Answer<'_, Vec<HistoryPoint>> {
        Box::pin(async move {
            let history: WireHistory = self.get(&format!("/api/v1/unions/{union}/history")).await?;
            Ok(history
                .points
                .into_iter()
                .map(|p| HistoryPoint {
                    block: p.block,
                    active_members: p.active_members,
                    total_members: p.total_members,
                    revenue: p.revenue,
                })
                .collect())
        })
    }

    fn members(&self, union: Address, query: MemberQuery) -> Answer<'_, MemberPage> {
        Box::pin(async move {
            let status = if query.status.is_empty() { "all" } else { query.status.as_str() };
            let mut uri = format!(
                "/api/v1/unions/{union}/members?offset={}&limit={MEMBERS_PAGE}&status={}",
                query.offset,
                encode(status)
            );
            if !query.search.trim().is_empty() {
                uri.push_str(&format!("&search={}", encode(query.search.trim())));
            }
            let list: WireMemberList = self.get(&uri).await?;
            let members = list
                .members
                .into_iter()
                .map(|m| MemberRow {
                    address: m.address,
                    active: m.active,
                    first_joined_block: m.first_joined_block,
                    earnings: m.earnings,
                    withdrawn: m.withdrawn,
                })
                .collect();
            Ok(MemberPage { total: list.total, offset: list.offset, members })
        })
    }

    fn memberships(&self, member: Address) -> Answer<'_, Vec<MemberFigures>> {
        Box::pin(async move {
            let mut unions = Vec::new();
            loop {
                let uri = format!("/api/v1/unions?offset={}&limit={UNIONS_PAGE}", unions.len());
                let page: WireUnionList = self.get(&uri).await?;
                let done = page.unions.is_empty() || unions.len() + page.unions.len() >= page.total;
                unions.extend(page.unions);
                if done {
                    break;
                }
            }
            let mut all = Vec::new();
            for union in unions {
                let uri = format!("/api/v1/unions/{}/members/{member}", union.address);
                let Some(figures) = self.find::<WireFigures>(&uri).await? else { continue };
                let unfreezes_at = union
                    .latest_commit
                    .map(|commit| commit.provable_at)
                    .filter(|at| !figures.frozen.is_zero() && *at > figures.chain_time);
                let product_name = self.products_of(union.address).await.into_iter().next().map(|p| p.name);
                all.push(MemberFigures {
                    union: union.address,
                    member,
                    active: figures.active,
                    earnings: figures.earnings,
                    committed: figures.committed,
                    withdrawable: figures.withdrawable,
                    frozen: figures.frozen,
                    unfreezes_at,
                    withdrawn: figures.withdrawn,
                    proof: figures.proof.map(|p| WithdrawProof {
                        block: p.block,
                        earnings: p.earnings,
                        proof: p.proof,
                    }),
                    chain_time: figures.chain_time,
                    as_of_block: figures.as_of_block,
                    product_name,
                });
            }
            Ok(all)
        })
    }

    fn join_status(&self, union: Address, member: Address) -> Answer<'_, Option<JoinStatus>> {
        Box::pin(async move {
            let uri = format!("/api/v1/unions/{union}/join-requests/{member}");
            Ok(self.find::<WireRequest>(&uri).await?.map(JoinStatus::from))
        })
    }

    fn join_prompt(&self, union: Address, member: Address) -> Answer<'_, JoinPrompt> {
        Box::pin(async move {
            let issued_at = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
            let message = crate::joins::join_message(union, member, self.services().chain_id, issued_at);
            Ok(JoinPrompt { message, issued_at })
        })
    }

    fn file_join(&self, union: Address, request: SignedJoin) -> Answer<'_, JoinStatus> {
        Box::pin(async move {
            let body = json!({
                "member": request.member,
                "issuedAt": request.issued_at,
                "signature": request.signature,
                "secret": request.secret.filter(|secret| !secret.trim().is_empty()),
            });
            let uri = format!("/api/v1/unions/{union}/join-requests");
            Ok(self.json::<WireRequest>(Method::POST, &uri, Some(body)).await?.into())
        })
    }

    fn join_requests(&self, union: Address) -> Answer<'_, JoinQueue> {
        Box::pin(async move {
            // The owner's page shows the first thousand; the API pages past them.
            let list: WireRequests = self.get(&format!("/api/v1/unions/{union}/join-requests?limit=1000")).await?;
            Ok(JoinQueue { requests: list.requests.into_iter().map(JoinStatus::from).collect(), agent: list.agent })
        })
    }

    fn decide(&self, union: Address, member: Address, approve: bool) -> Answer<'_, JoinStatus> {
        Box::pin(async move {
            let verb = if approve { "approve" } else { "reject" };
            let uri = format!("/api/v1/unions/{union}/join-requests/{member}/{verb}");
            Ok(self.json::<WireRequest>(Method::POST, &uri, None).await?.into())
        })
    }

    fn remove(&self, union: Address, member: Address) -> Answer<'_, ()> {
        Box::pin(async move {
            self.call(Method::POST, &format!("/api/v1/unions/{union}/members/{member}/remove"), None).await?;
            Ok(())
        })
    }

    fn secrets(&self, union: Address) -> Answer<'_, Vec<JoinSecret>> {
        Box::pin(async move {
            let list: WireSecrets = self.get(&format!("/api/v1/unions/{union}/secrets")).await?;
            Ok(list.secrets.into_iter().map(JoinSecret::from).collect())
        })
    }

    fn create_secret(&self, union: Address, name: String) -> Answer<'_, JoinSecret> {
        Box::pin(async move {
            let uri = format!("/api/v1/unions/{union}/secrets");
            Ok(self.json::<WireSecret>(Method::POST, &uri, Some(json!({ "name": name }))).await?.into())
        })
    }

    fn revoke_secret(&self, union: Address, id: String) -> Answer<'_, ()> {
        Box::pin(async move {
            if id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
                return Err(UnionError::BadRequest(format!("`id` is {id:?}, but must be the id of a secret")));
            }
            self.call(Method::DELETE, &format!("/api/v1/unions/{union}/secrets/{id}"), None).await?;
            Ok(())
        })
    }
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
}
