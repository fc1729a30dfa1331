//! `/healthz`: the process answers. `/readyz`: the database and the chain answer too.

use std::fmt::Display;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use alloy::providers::Provider;
use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use super::{ApiError, Services};

const DEPENDENCY_TIMEOUT: Duration = Duration::from_secs(3);

pub async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

pub async fn readyz(State(services): State<Arc<Services>>) -> Result<Json<Value>, ApiError> {
    answers("database", services.store.ping()).await?;
    let block = answers("chain", services.chain.get_block_number()).await?;
    Ok(Json(json!({ "status": "ready", "chain_id": services.chain_id, "block": block })))
}

/// Waits for a dependency's answer; no answer in time, or an error, makes the server unready.
async fn answers<T, E: Display>(
    dependency: &'static str,
    call: impl Future<Output = Result<T, E>>,
) -> Result<T, ApiError> {
    let code = if dependency == "chain" { "chain_unavailable" } else { "database_unavailable" };
    match tokio::time::timeout(DEPENDENCY_TIMEOUT, call).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(error)) => Err(ApiError::Unavailable { code, reason: format!("{dependency}: {error}") }),
        Err(_) => Err(ApiError::Unavailable {
            code,
            reason: format!("{dependency}: no answer within {} s", DEPENDENCY_TIMEOUT.as_secs()),
        }),
    }
}
