//! The web app's Data Union port: the pages show what the services answer the REST API with, and
//! owner actions are refused by the same checks, with the request's session saying who asks.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use alloy::primitives::Address;
use app::components::chart;
use app::error::{AppError, Service};
use app::unions::ssr::{Answer, RequestUnions, Unions};
use app::unions::{
    Announced, AnnouncedChange, CommitInfo, Contributions, Decision, HistoryPoint, JoinAgent, JoinPrompt, JoinQueue,
    JoinSecret, JoinStatus, MEMBERS_PAGE, MemberFigures, MemberPage, MemberQuery, MemberRow, MovedFrom, RelayOffer,
    RelayedWithdrawal, SignedJoin, SignedWithdrawal, UnionProduct, UnionStats, WithdrawProof,
};
use axum::extract::{Request, State};
use axum::http::Extensions;
use axum::middleware::Next;
use axum::response::Response;
use tower_sessions::Session;

use crate::api::params::Page;
use crate::auth::SignedIn;
use crate::http::limits::Accounts;
use crate::http::{ApiError, Services};
use crate::service::joins::{self, RequestView, SecretView};
use crate::service::unions::{self as service, AddressSearch};

/// The owner's page shows the first thousand join requests; the API pages past them.
const REQUESTS_SHOWN: u64 = 1000;

/// The services behind the union port; one per server.
#[derive(Clone)]
pub struct ServiceUnions {
    services: Arc<Services>,
}

impl ServiceUnions {
    pub fn new(services: Arc<Services>) -> Self {
        Self { services }
    }
}

/// Middleware: hands each request the union port, with the request's session and limits.
pub async fn provide_unions(State(unions): State<ServiceUnions>, mut request: Request, next: Next) -> Response {
    // Only what owner actions read: the session, and the per-account limiter when there is one.
    let mut extensions = Extensions::new();
    if let Some(session) = request.extensions().get::<Session>() {
        extensions.insert(session.clone());
    }
    if let Some(accounts) = request.extensions().get::<Accounts>() {
        extensions.insert(accounts.clone());
    }
    let port = SessionUnions { services: unions.services, extensions };
    request.extensions_mut().insert(RequestUnions(Arc::new(port)));
    next.run(request).await
}

/// The port for one request.
struct SessionUnions {
    services: Arc<Services>,
    /// The request's session and per-account limiter, for owner actions.
    extensions: Extensions,
}

fn refused(error: ApiError) -> AppError {
    super::refused(Service::DataUnions, error)
}

impl SessionUnions {
    /// Who is signed in, or the refusal of an owner action.
    async fn who(&self) -> Result<Address, AppError> {
        match SignedIn::of(&self.extensions).await.map_err(refused)? {
            Some(SignedIn(address)) => Ok(address),
            None => Err(AppError::NotSignedIn),
        }
    }
}

fn join_status(view: RequestView) -> JoinStatus {
    JoinStatus {
        union: view.union,
        member: view.member,
        status: view.status,
        by_secret: view.by_secret,
        created_at: view.created_at,
    }
}

fn announced(change: service::AnnouncedChange) -> Announced {
    let effective_at = change.effective_at();
    let change = match change {
        service::AnnouncedChange::AdminFee { admin_fee_percent, .. } => AnnouncedChange::AdminFee(admin_fee_percent),
        service::AnnouncedChange::Operator { operator, .. } => AnnouncedChange::Operator(operator),
        service::AnnouncedChange::ValidatorRemoval { validator, .. } => AnnouncedChange::ValidatorRemoval(validator),
    };
    Announced { change, effective_at }
}

fn join_secret(view: SecretView) -> JoinSecret {
    JoinSecret { id: view.id, name: view.name, created_at: view.created_at, secret: view.secret }
}

impl Unions for SessionUnions {
    fn as_of_block(&self) -> Answer<'_, u64> {
        Box::pin(async move { Ok(self.services.models.as_of().await) })
    }

    fn stats(&self, union: Address) -> Answer<'_, Option<UnionStats>> {
        Box::pin(async move {
            let Some(dashboard) = service::dashboard(&self.services, union).await.map_err(refused)? else {
                return Ok(None);
            };
            let stats = dashboard.stats;
            let summary = stats.summary;
            Ok(Some(UnionStats {
                address: summary.address,
                owner: summary.owner,
                admin_fee_percent: summary.admin_fee_percent,
                active_members: summary.active_members,
                total_members: summary.total_members,
                total_revenue: summary.total_revenue.0,
                admin_fees: stats.totals.admin_fees.0,
                total_withdrawn: stats.total_withdrawn.0,
                revenue_per_member_month: dashboard.revenue_per_member_month,
                active_subscribers: dashboard.active_subscribers,
                freeze_period: summary.freeze_period,
                operator: summary.operator,
                validators: summary.validators,
                announced: summary.announced.into_iter().map(announced).collect(),
                moved_from: summary.moved_from.map(|moved| MovedFrom {
                    union: moved.union,
                    carried: moved.carried.0,
                    awaiting_carry: moved.awaiting_carry.0,
                    closed: moved.closed,
                }),
                moved_to: summary.moved_to,
                latest_commit: summary.latest_commit.map(|commit| CommitInfo {
                    book_block: commit.book_block,
                    committed_at: commit.committed_at,
                    provable_at: commit.provable_at,
                }),
                products: dashboard.products.into_iter().map(|(id, name)| UnionProduct { id, name }).collect(),
                as_of_block: dashboard.as_of,
                chain_time: dashboard.chain_time,
            }))
        })
    }

    fn relay_offer(&self, union: Address, member: Address) -> Answer<'_, RelayOffer> {
        Box::pin(async move {
            let quote = crate::service::relay::quote(&self.services, union, member).await.map_err(refused)?;
            Ok(RelayOffer {
                relayer: quote.relayer,
                fee: quote.fee.0,
                withdrawable: quote.withdrawable.0,
                nonce: quote.nonce.0,
                chain_id: quote.chain_id,
            })
        })
    }

    fn relay(&self, union: Address, member: Address, signed: SignedWithdrawal) -> Answer<'_, RelayedWithdrawal> {
        Box::pin(async move {
            let signed = crate::service::relay::SignedWithdrawal {
                recipient: signed.recipient.to_checksum(None),
                fee: signed.fee.to_string(),
                deadline: signed.deadline,
                signature: signed.signature,
            };
            let relayed = crate::service::relay::relay(&self.services, union, member, signed).await.map_err(refused)?;
            Ok(RelayedWithdrawal { amount: relayed.amount.0, fee: relayed.fee.0 })
        })
    }

    fn contributions(&self, union: Address) -> Answer<'_, Contributions> {
        Box::pin(async move {
            let found = crate::service::streams::contributions(&self.services, union).await.map_err(refused)?;
            Ok(Contributions { first_day: found.first_day, today: found.today, days: found.days, top: found.top })
        })
    }

    fn history(&self, union: Address) -> Answer<'_, Vec<HistoryPoint>> {
        Box::pin(async move {
            let unions = self.services.models.unions().await;
            let union = service::find(&unions, &union).map_err(refused)?;
            // A chart's worth: the whole history is the API's (`/api/v1/unions/{address}/history`).
            let points = chart::sample(union.history(), chart::MOST_POINTS, |p| p.block);
            Ok(points
                .into_iter()
                .map(|p| HistoryPoint {
                    block: p.block,
                    at: p.at,
                    active_members: p.active_members,
                    total_members: p.total_members,
                    revenue: p.revenue,
                })
                .collect())
        })
    }

    fn members(&self, union: Address, query: MemberQuery) -> Answer<'_, MemberPage> {
        Box::pin(async move {
            let search = match query.search.trim() {
                "" => None,
                text => Some(AddressSearch::parse(text, "search").map_err(refused)?),
            };
            let page = Page { offset: query.offset as u64, limit: MEMBERS_PAGE as u64 };
            let unions = self.services.models.unions().await;
            let union = service::find(&unions, &union).map_err(refused)?;
            let (total, members) = service::members(union, query.status, search.as_ref(), page);
            let members = members
                .into_iter()
                .map(|m| MemberRow {
                    address: m.address,
                    active: m.active,
                    first_joined_block: m.first_joined_block,
                    first_joined_at: m.first_joined_at,
                    earnings: m.earnings.0,
                    withdrawn: m.withdrawn.0,
                })
                .collect();
            Ok(MemberPage { total, offset: query.offset, members })
        })
    }

    fn memberships(&self, member: Address) -> Answer<'_, Vec<MemberFigures>> {
        Box::pin(async move {
            let (as_of, all) = service::memberships(&self.services, member).await.map_err(refused)?;
            Ok(all
                .into_iter()
                .map(|(figures, product_name)| MemberFigures {
                    union: figures.union,
                    member,
                    active: figures.active,
                    earnings: figures.earnings.0,
                    committed: figures.committed.0,
                    withdrawable: figures.withdrawable.0,
                    frozen: figures.frozen.0,
                    unfreezes_at: figures.unfreezes_at,
                    withdrawn: figures.withdrawn.0,
                    proof: figures.proof.map(|p| WithdrawProof {
                        block: p.block,
                        earnings: p.earnings.0,
                        proof: p.proof,
                    }),
                    chain_time: figures.chain_time,
                    announced_operator: figures.announced_operator.map(|c| (c.operator, c.effective_at)),
                    as_of_block: as_of,
                    product_name,
                })
                .collect())
        })
    }

    fn join_status(&self, union: Address, member: Address) -> Answer<'_, Option<JoinStatus>> {
        Box::pin(async move {
            match joins::status(&self.services, union, member).await {
                Ok(request) => Ok(request.map(join_status)),
                // No such union: no request to it either.
                Err(ApiError::NotFound(_)) => Ok(None),
                Err(error) => Err(refused(error)),
            }
        })
    }

    fn join_prompt(&self, union: Address, member: Address) -> Answer<'_, JoinPrompt> {
        Box::pin(async move {
            let issued_at = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
            let message = crate::joins::join_message(union, member, self.services.chain_id, issued_at);
            Ok(JoinPrompt { message, issued_at })
        })
    }

    fn file_join(&self, union: Address, request: SignedJoin) -> Answer<'_, JoinStatus> {
        Box::pin(async move {
            let request = joins::NewRequest {
                member: request.member,
                issued_at: request.issued_at,
                signature: request.signature,
                secret: request.secret,
            };
            joins::file(&self.services, union, request).await.map(join_status).map_err(refused)
        })
    }

    fn join_requests(&self, union: Address) -> Answer<'_, JoinQueue> {
        Box::pin(async move {
            let who = self.who().await?;
            let page = Page { offset: 0, limit: REQUESTS_SHOWN };
            let list = joins::requests(&self.services, who, union, None, page).await.map_err(refused)?;
            Ok(JoinQueue {
                requests: list.requests.into_iter().map(join_status).collect(),
                agent: list
                    .agent
                    .map(|agent| JoinAgent { address: agent.address, is_union_agent: agent.is_union_agent }),
            })
        })
    }

    fn decide(&self, union: Address, member: Address, decision: Decision) -> Answer<'_, JoinStatus> {
        Box::pin(async move {
            let who = self.who().await?;
            joins::decide(&self.services, who, union, member, decision).await.map(join_status).map_err(refused)
        })
    }

    fn remove(&self, union: Address, member: Address) -> Answer<'_, ()> {
        Box::pin(async move {
            let who = self.who().await?;
            joins::remove(&self.services, who, union, member).await.map_err(refused)
        })
    }

    fn secrets(&self, union: Address) -> Answer<'_, Vec<JoinSecret>> {
        Box::pin(async move {
            let who = self.who().await?;
            let secrets = joins::secrets(&self.services, who, union).await.map_err(refused)?;
            Ok(secrets.into_iter().map(join_secret).collect())
        })
    }

    fn create_secret(&self, union: Address, name: String) -> Answer<'_, JoinSecret> {
        Box::pin(async move {
            let who = self.who().await?;
            joins::create_secret(&self.services, who, union, &name).await.map(join_secret).map_err(refused)
        })
    }

    fn revoke_secret(&self, union: Address, id: String) -> Answer<'_, ()> {
        Box::pin(async move {
            let who = self.who().await?;
            joins::revoke_secret(&self.services, who, union, &id).await.map_err(refused)
        })
    }
}
