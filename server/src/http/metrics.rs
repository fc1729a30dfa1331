//! `/metrics` in the Prometheus text format, from a small registry: requests by route and status,
//! counted by a middleware, and gauges read from the read models and the chain when scraped.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use alloy::primitives::U256;
use alloy::providers::Provider;
use axum::extract::{MatchedPath, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::Services;
use crate::indexer::SKIPPED_LOGS;
use crate::policy::Key;

const HEAD_TIMEOUT: Duration = Duration::from_secs(2);

/// Counters the middleware feeds.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Requests by (route template, status code).
    requests: Mutex<BTreeMap<(String, u16), u64>>,
}

impl Metrics {
    pub fn count_request(&self, route: &str, status: u16) {
        let mut requests = self.requests.lock().unwrap_or_else(PoisonError::into_inner);
        *requests.entry((route.to_owned(), status)).or_default() += 1;
    }

    fn requests(&self) -> BTreeMap<(String, u16), u64> {
        self.requests.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

/// Counts every routed request by its route template (not its concrete path, which would let
/// clients grow the registry without bound) and its status.
pub async fn count_requests(State(services): State<Arc<Services>>, request: Request, next: Next) -> Response {
    let route = request.extensions().get::<MatchedPath>().map_or("unmatched".to_owned(), |m| m.as_str().to_owned());
    let response = next.run(request).await;
    services.metrics.count_request(&route, response.status().as_u16());
    response
}

pub async fn metrics(State(services): State<Arc<Services>>) -> Response {
    let mut text = String::new();
    let (indexed, unions, quarantined, active, members) = {
        let unions = services.models.unions().await;
        let (active, total) = unions.iter().fold((0, 0), |(active, total), union| {
            let joined = union.history().last().map_or(0, |point| point.total_members);
            (active + union.state().active_count(), total + joined)
        });
        (unions.as_of(), unions.iter().count(), unions.quarantined().count(), active, total)
    };
    let validation = crate::validator::check(&*services.models.unions().await);
    let (products, listed, skipped) = {
        let catalog = services.models.catalog().await;
        (catalog.products().len(), catalog.products().filter(|p| p.deployed).count(), catalog.skipped())
    };
    gauge(&mut text, "coop_indexed_block", "The block the read models are as of.", &[], indexed);
    let leading = services.leading.load(Ordering::SeqCst);
    gauge(
        &mut text,
        "coop_chain_role",
        "1 while this instance indexes, commits and sends joins.",
        &[],
        u64::from(leading),
    );
    // A scrape must not hang on a dead RPC: no head line then, and `coop_chain_up 0`.
    let head = tokio::time::timeout(HEAD_TIMEOUT, services.chain.get_block_number()).await.ok().and_then(Result::ok);
    gauge(&mut text, "coop_chain_up", "1 when the chain answered this scrape.", &[], u64::from(head.is_some()));
    if let Some(head) = head {
        gauge(&mut text, "coop_head_block", "The chain's latest block.", &[], head);
    }
    gauge(&mut text, "coop_unions", "Data Unions indexed.", &[], unions as u64);
    gauge(
        &mut text,
        "coop_unions_quarantined",
        "Data Unions set aside because one of their events could not be applied (see their API answer).",
        &[],
        quarantined as u64,
    );
    help(&mut text, "coop_events_passed_over", "Chain events that could not be used and were passed over.", "gauge");
    sample(&mut text, "coop_events_passed_over", &[("stage", "decode")], SKIPPED_LOGS.load(Ordering::Relaxed));
    sample(&mut text, "coop_events_passed_over", &[("stage", "catalog")], skipped);
    help(&mut text, "coop_members", "Members of all Data Unions by status (total: ever joined).", "gauge");
    sample(&mut text, "coop_members", &[("status", "active")], active);
    sample(&mut text, "coop_members", &[("status", "total")], members);
    help(&mut text, "coop_products", "Marketplace products (listed: deployed).", "gauge");
    sample(&mut text, "coop_products", &[("status", "listed")], listed as u64);
    sample(&mut text, "coop_products", &[("status", "total")], products as u64);
    gauge(&mut text, "coop_validator_checked", "Commits whose book was rebuilt and compared.", &[], validation.checked);
    let mismatches = validation.mismatches.len() as u64;
    gauge(
        &mut text,
        "coop_validator_mismatches",
        "Commits whose rebuilt book differs from the chain's.",
        &[],
        mismatches,
    );
    let now = std::time::Instant::now();
    help(&mut text, "coop_gas_spent_gwei", "Gas paid by the server's keys over the last 24 hours, in gwei.", "gauge");
    for key in [Key::Operator, Key::Agent] {
        let gwei = services.serving.spending.gas_spent(key, now) / U256::from(1_000_000_000u64);
        sample(&mut text, "coop_gas_spent_gwei", &[("key", key.name())], u64::try_from(gwei).unwrap_or(u64::MAX));
    }
    help(
        &mut text,
        "coop_unions_held_back",
        "Unions whose commits or member changes the policy holds back now, by key and reason.",
        "gauge",
    );
    for ((key, reason), count) in services.serving.spending.held_back() {
        sample(&mut text, "coop_unions_held_back", &[("key", key.name()), ("reason", reason.name())], count);
    }
    help(&mut text, "coop_http_requests_total", "HTTP requests by route and status.", "counter");
    for ((route, status), count) in services.metrics.requests() {
        sample(&mut text, "coop_http_requests_total", &[("route", &route), ("status", &status.to_string())], count);
    }
    ([(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], text).into_response()
}

fn gauge(text: &mut String, name: &str, about: &str, labels: &[(&str, &str)], value: u64) {
    help(text, name, about, "gauge");
    sample(text, name, labels, value);
}

fn help(text: &mut String, name: &str, about: &str, kind: &str) {
    let _ = writeln!(text, "# HELP {name} {about}\n# TYPE {name} {kind}");
}

fn sample(text: &mut String, name: &str, labels: &[(&str, &str)], value: u64) {
    text.push_str(name);
    if !labels.is_empty() {
        let labels: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{}\"", escape(v))).collect();
        let _ = write!(text, "{{{}}}", labels.join(","));
    }
    let _ = writeln!(text, " {value}");
}

/// Label values escape backslash, double quote and newline.
fn escape(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}
