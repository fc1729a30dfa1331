//! HTTP endpoints that are not pages: liveness, readiness, metrics, and the REST API under `/api/v1`.
//!
//! Routes are declared in a [`RouteTable`], which records each `(method, path)` as it adds it, so the
//! OpenAPI document can be checked against exactly what is served ([`route_list`]).

mod error;
mod error_code;
pub(crate) mod health;
pub mod limits;
pub mod metrics;
pub mod page_cache;
mod same_origin;
pub mod serve;
pub mod server_fns;

use std::sync::Arc;

use alloy::providers::DynProvider;
use axum::Router;
use axum::handler::Handler;
use axum::http::Method;
use axum::middleware::from_fn_with_state;
use axum::routing::{MethodFilter, on};

pub use error::{ApiError, ErrorBody, ErrorCode};
pub use metrics::Metrics;
pub(crate) use same_origin::foreign_origin;
pub use same_origin::refuse_cross_site;

use crate::api::{self, ChainClock};
use crate::auth;
use crate::deploy::Deployment;
use crate::live::ReadModels;
use crate::store::Store;

/// What the handlers share.
#[derive(Clone)]
pub struct Services {
    pub store: Store,
    pub chain: DynProvider,
    /// The chain id the server was started against.
    pub chain_id: u64,
    /// The origin sign-in messages must name.
    pub origin: crate::auth::PublicOrigin,
    /// Blocks below the head taken as final: owner checks ask the chain at `head - confirmations`.
    pub confirmations: u64,
    /// The contracts; `None` when the server was started without a deployment file.
    pub deployment: Option<Deployment>,
    /// Every Data Union, product and subscription, as of the last indexed block.
    pub models: ReadModels,
    /// Request counts for `/metrics`.
    pub metrics: Arc<Metrics>,
    /// The chain time of the block the answers are as of.
    pub clock: Arc<ChainClock>,
    /// Whether this instance holds the chain role (indexer and operator) right now.
    pub leading: Arc<std::sync::atomic::AtomicBool>,
    /// The address of the join-part agent key this server adds members with, if it has one.
    pub join_agent: Option<alloy::primitives::Address>,
    /// Which unions this server's keys serve, and what they spent.
    pub serving: crate::policy::Serving,
    /// The products' stream messages, and the publishers' rate limit.
    pub streams: crate::service::streams::Streams,
    /// The key that sends members' signed withdrawals, if this instance has one.
    pub relayer: Option<Arc<crate::service::relay::Relayer>>,
}

/// A router that remembers what it routes.
pub struct RouteTable {
    router: Router<Arc<Services>>,
    routes: Vec<(Method, &'static str)>,
}

impl Default for RouteTable {
    fn default() -> Self {
        Self { router: Router::new(), routes: Vec::new() }
    }
}

impl RouteTable {
    pub fn get<H: Handler<T, Arc<Services>>, T: 'static>(self, path: &'static str, handler: H) -> Self {
        self.on(Method::GET, path, handler)
    }

    pub fn post<H: Handler<T, Arc<Services>>, T: 'static>(self, path: &'static str, handler: H) -> Self {
        self.on(Method::POST, path, handler)
    }

    pub fn delete<H: Handler<T, Arc<Services>>, T: 'static>(self, path: &'static str, handler: H) -> Self {
        self.on(Method::DELETE, path, handler)
    }

    /// Adds `handler` for `method` on `path`; several methods on one path are merged.
    pub fn on<H: Handler<T, Arc<Services>>, T: 'static>(
        mut self,
        method: Method,
        path: &'static str,
        handler: H,
    ) -> Self {
        let filter = MethodFilter::try_from(method.clone()).expect("a standard HTTP method");
        self.router = self.router.route(path, on(filter, handler));
        self.routes.push((method, path));
        self
    }

    pub fn routes(&self) -> &[(Method, &'static str)] {
        &self.routes
    }
}

/// The operational endpoints, outside `/api/v1`.
fn operations() -> RouteTable {
    RouteTable::default()
        .get("/healthz", health::healthz)
        .get("/readyz", health::readyz)
        .get("/metrics", metrics::metrics)
}

/// Every `(method, path)` that [`routes`] serves.
pub fn route_list() -> Vec<(Method, &'static str)> {
    let mut list = operations().routes;
    list.extend(api::routes().routes);
    list.extend(auth::routes().routes);
    list
}

pub fn routes(services: Arc<Services>) -> Router {
    let api = api::routes()
        .router
        .merge(auth::routes().router)
        // An API path that names no route is the API's 404, not the web app's page.
        .route("/api/{*rest}", axum::routing::any(no_such_route))
        .layer(from_fn_with_state(services.clone(), api::as_of_header));
    operations()
        .router
        .merge(api)
        .layer(from_fn_with_state(services.clone(), metrics::count_requests))
        .with_state(services)
}

async fn no_such_route(uri: axum::http::Uri) -> ApiError {
    ApiError::NotFound(format!("no API route {}", uri.path()))
}
