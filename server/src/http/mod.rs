//! HTTP endpoints that are not pages: liveness, readiness, and (later) the REST API.

mod error;
mod health;

use std::sync::Arc;

use alloy::providers::DynProvider;
use axum::Router;
use axum::routing::get;

pub use error::ApiError;

use crate::deploy::Deployment;
use crate::store::Store;
use crate::unions::Unions;
use tokio::sync::RwLock;

/// What the handlers share.
#[derive(Clone)]
pub struct Services {
    pub store: Store,
    pub chain: DynProvider,
    /// The chain id the server was started against.
    pub chain_id: u64,
    /// The contracts; `None` when the server was started without a deployment file.
    pub deployment: Option<Deployment>,
    /// Every Data Union, as of the last indexed block.
    pub unions: Arc<RwLock<Unions>>,
}

pub fn routes(services: Arc<Services>) -> Router {
    Router::new().route("/healthz", get(health::healthz)).route("/readyz", get(health::readyz)).with_state(services)
}
