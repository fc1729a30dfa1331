//! `/healthz`: the process answers. `/readyz`: the database and the chain answer too.

use std::fmt::Display;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use alloy::providers::Provider;
use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;

use super::{ApiError, Services};
use crate::api::openapi::schemas::one_of;
use crate::http::ErrorCode;

const DEPENDENCY_TIMEOUT: Duration = Duration::from_secs(3);

#[derive(Serialize, ToSchema)]
pub struct Alive {
    #[schema(schema_with = ok)]
    status: &'static str,
}

fn ok() -> utoipa::openapi::schema::Object {
    one_of(&["ok"])
}

#[derive(Serialize, ToSchema)]
pub struct Ready {
    #[schema(schema_with = ready)]
    status: &'static str,
    chain_id: u64,
    /// The chain's latest block.
    block: u64,
}

fn ready() -> utoipa::openapi::schema::Object {
    one_of(&["ready"])
}

/// Liveness
///
/// The process answers.
#[utoipa::path(
    get,
    path = "/healthz",
    operation_id = "liveness",
    responses((status = 200, description = "Alive", body = Alive))
)]
pub async fn healthz() -> Json<Alive> {
    Json(Alive { status: "ok" })
}

/// Readiness
///
/// The database and the chain answer too.
#[utoipa::path(
    get,
    path = "/readyz",
    operation_id = "readiness",
    responses((status = 200, description = "Ready", body = Ready))
)]
pub async fn readyz(State(services): State<Arc<Services>>) -> Result<Json<Ready>, ApiError> {
    answers(services.store.ping()).await.map_err(|cause| {
        tracing::warn!(target: "http", %cause, "the database does not answer");
        ApiError::Unavailable {
            code: ErrorCode::DatabaseUnavailable,
            reason: "the database does not answer; try again shortly".to_owned(),
        }
    })?;
    let block = answers(services.chain.get_block_number()).await.map_err(ApiError::chain_unavailable)?;
    Ok(Json(Ready { status: "ready", chain_id: services.chain_id, block }))
}

/// Waits for a dependency's answer; no answer in time, or an error, makes the server unready. The
/// cause is for the log only.
async fn answers<T, E: Display>(call: impl Future<Output = Result<T, E>>) -> Result<T, String> {
    match tokio::time::timeout(DEPENDENCY_TIMEOUT, call).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(error)) => Err(error.to_string()),
        Err(_) => Err(format!("no answer within {} s", DEPENDENCY_TIMEOUT.as_secs())),
    }
}
