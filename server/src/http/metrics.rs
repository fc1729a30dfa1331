//! `/metrics` in the Prometheus text format (0.0.4), written by `prometheus-client`: requests by route
//! and status, counted by a middleware, and gauges read from the read models and the chain when
//! scraped.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use alloy::primitives::U256;
use alloy::providers::Provider;
use axum::extract::{MatchedPath, Request, State};
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric, prometheus_text};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::Registry;

use super::Services;
use crate::indexer::SKIPPED_LOGS;
use crate::policy::{Key, Refusal};

const HEAD_TIMEOUT: Duration = Duration::from_secs(2);

/// The labels of `coop_http_requests_total`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct RequestLabels {
    /// The route template, never the concrete path.
    route: String,
    status: u16,
}

/// Counters the middleware feeds.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Requests by route template and status code.
    requests: Family<RequestLabels, Counter>,
    /// Shared pages ([`super::page_cache`]) sent as rendered before, and rendered.
    shared_pages: (Counter, Counter),
}

impl Metrics {
    pub fn count_request(&self, route: &str, status: u16) {
        self.requests.get_or_create(&RequestLabels { route: route.to_owned(), status }).inc();
    }

    /// Counts a shared page, `sent_again` or rendered.
    pub fn count_shared_page(&self, sent_again: bool) {
        if sent_again { &self.shared_pages.0 } else { &self.shared_pages.1 }.inc();
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

/// Prometheus metrics
///
/// `coop_indexed_block`, `coop_head_block`, `coop_chain_up`, `coop_unions`, `coop_members{status}`,
/// `coop_products{status}`, `coop_http_requests_total{route,status}` and the rest of this module's.
#[utoipa::path(
    get,
    path = "/metrics",
    operation_id = "metrics",
    responses((status = 200, description = "Prometheus text format 0.0.4", body = String, content_type = "text/plain"))
)]
pub async fn metrics(State(services): State<Arc<Services>>) -> Response {
    let readings = Readings::read(&services).await;
    match encode(readings, &services.metrics) {
        Ok(text) => ([(CONTENT_TYPE, prometheus_text::CONTENT_TYPE)], text).into_response(),
        Err(std::fmt::Error) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// What one scrape reads from the read models, the chain and the spending account.
#[derive(Debug, Default)]
struct Readings {
    indexed_block: u64,
    leading: bool,
    /// The chain's latest block; `None` when it did not answer in time.
    head_block: Option<u64>,
    unions: u64,
    quarantined: u64,
    /// Chain events passed over while decoding, and by the catalog.
    passed_over: (u64, u64),
    /// Active members, and members who ever joined.
    members: (u64, u64),
    /// Listed (deployed) products, and all of them.
    products: (u64, u64),
    validator_checked: u64,
    validator_mismatches: u64,
    gas_spent_gwei: Vec<(Key, u64)>,
    held_back: BTreeMap<(Key, Refusal), u64>,
}

impl Readings {
    async fn read(services: &Services) -> Self {
        // One snapshot: every figure of a scrape is of the same block.
        let (indexed_block, unions, quarantined, members, validation, products, skipped) = {
            let models = services.models.read().await;
            let (unions, catalog) = (&models.unions, &models.catalog);
            let (active, total) = unions.iter().fold((0, 0), |(active, total), union| {
                let joined = union.history().last().map_or(0, |point| point.total_members);
                (active + union.state().active_count(), total + joined)
            });
            let listed = catalog.products().filter(|p| p.deployed).count();
            (
                unions.as_of(),
                unions.iter().count() as u64,
                unions.quarantined().count() as u64,
                (active, total),
                crate::validator::check(unions),
                (listed as u64, catalog.products().len() as u64),
                catalog.skipped(),
            )
        };
        // A scrape must not hang on a dead RPC: no head line then, and `coop_chain_up 0`.
        let head_block =
            tokio::time::timeout(HEAD_TIMEOUT, services.chain.get_block_number()).await.ok().and_then(Result::ok);
        let now = std::time::Instant::now();
        let spending = &services.serving.spending;
        let gas_spent_gwei = [Key::Operator, Key::Agent, Key::Relayer, Key::Validator]
            .into_iter()
            .map(|key| {
                let gwei = spending.gas_spent(key, now) / U256::from(1_000_000_000u64);
                (key, u64::try_from(gwei).unwrap_or(u64::MAX))
            })
            .collect();
        Readings {
            indexed_block,
            leading: services.leading.load(Ordering::SeqCst),
            head_block,
            unions,
            quarantined,
            passed_over: (SKIPPED_LOGS.load(Ordering::Relaxed), skipped),
            members,
            products,
            validator_checked: validation.checked,
            validator_mismatches: validation.mismatches.len() as u64,
            gas_spent_gwei,
            held_back: spending.held_back(),
        }
    }
}

/// The exposition of one scrape: its readings, then the request counts.
fn encode(readings: Readings, metrics: &Metrics) -> Result<String, std::fmt::Error> {
    let mut registry = Registry::default();
    let shared_pages = (metrics.shared_pages.0.get(), metrics.shared_pages.1.get());
    registry.register_collector(Box::new(Scrape { readings, shared_pages, requests: metrics.requests.clone() }));
    let mut text = String::new();
    prometheus_text::encode(&mut text, &registry)?;
    Ok(text)
}

/// A scrape's families, in a fixed order, each with its HELP and TYPE even while it has no sample.
#[derive(Debug)]
struct Scrape {
    readings: Readings,
    /// Sent again, rendered.
    shared_pages: (u64, u64),
    requests: Family<RequestLabels, Counter>,
}

type Labels = [(&'static str, &'static str)];

const NO_LABELS: &Labels = &[];

impl Collector for Scrape {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let r = &self.readings;
        let e = &mut encoder;
        gauge(e, "coop_indexed_block", "The block the read models are as of.", r.indexed_block)?;
        gauge(e, "coop_chain_role", "1 while this instance indexes, commits and sends joins.", u64::from(r.leading))?;
        gauge(e, "coop_chain_up", "1 when the chain answered this scrape.", u64::from(r.head_block.is_some()))?;
        if let Some(head) = r.head_block {
            gauge(e, "coop_head_block", "The chain's latest block.", head)?;
        }
        gauge(e, "coop_unions", "Data Unions indexed.", r.unions)?;
        gauge(
            e,
            "coop_unions_quarantined",
            "Data Unions set aside because one of their events could not be applied (see their API answer).",
            r.quarantined,
        )?;
        gauges(
            e,
            "coop_events_passed_over",
            "Chain events that could not be used and were passed over.",
            [(&[("stage", "decode")][..], r.passed_over.0), (&[("stage", "catalog")][..], r.passed_over.1)],
        )?;
        gauges(
            e,
            "coop_members",
            "Members of all Data Unions by status (total: ever joined).",
            [(&[("status", "active")][..], r.members.0), (&[("status", "total")][..], r.members.1)],
        )?;
        gauges(
            e,
            "coop_products",
            "Marketplace products (listed: deployed).",
            [(&[("status", "listed")][..], r.products.0), (&[("status", "total")][..], r.products.1)],
        )?;
        gauge(e, "coop_validator_checked", "Commits whose book was rebuilt and compared.", r.validator_checked)?;
        gauge(
            e,
            "coop_validator_mismatches",
            "Commits whose rebuilt book differs from the chain's.",
            r.validator_mismatches,
        )?;
        gauges(
            e,
            "coop_gas_spent_gwei",
            "Gas paid by the server's keys over the last 24 hours, in gwei.",
            r.gas_spent_gwei.iter().map(|(key, gwei)| ([("key", key.name())], *gwei)),
        )?;
        gauges(
            e,
            "coop_unions_held_back",
            "Unions whose commits or member changes the policy holds back now, by key and reason.",
            r.held_back.iter().map(|((key, reason), count)| ([("key", key.name()), ("reason", reason.name())], *count)),
        )?;
        // Named without the `_total` the encoder adds to a counter's name.
        let mut shared = encoder.encode_descriptor(
            "coop_shared_pages",
            "Pages the same for every visitor without a session, sent as rendered before or rendered.",
            None,
            MetricType::Counter,
        )?;
        for (outcome, count) in [("sent_again", self.shared_pages.0), ("rendered", self.shared_pages.1)] {
            ConstCounter::new(count).encode(shared.encode_family(&[("outcome", outcome)])?)?;
        }
        let requests = encoder.encode_descriptor(
            "coop_http_requests",
            "HTTP requests by route and status.",
            None,
            MetricType::Counter,
        )?;
        self.requests.encode(requests)
    }
}

/// A gauge without labels.
fn gauge(encoder: &mut DescriptorEncoder, name: &str, help: &str, value: u64) -> Result<(), std::fmt::Error> {
    gauges(encoder, name, help, [(NO_LABELS, value)])
}

/// A gauge family, its samples in the given order.
fn gauges<L: EncodeLabelSet>(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    samples: impl IntoIterator<Item = (L, u64)>,
) -> Result<(), std::fmt::Error> {
    let mut family = encoder.encode_descriptor(name, help, None, MetricType::Gauge)?;
    for (labels, value) in samples {
        ConstGauge::new(value).encode(family.encode_family(&labels)?)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn readings() -> Readings {
        Readings {
            indexed_block: 120,
            leading: true,
            head_block: Some(123),
            unions: 2,
            quarantined: 0,
            passed_over: (1, 0),
            members: (3, 5),
            products: (1, 2),
            validator_checked: 4,
            validator_mismatches: 0,
            gas_spent_gwei: vec![(Key::Operator, 7), (Key::Agent, 0)],
            held_back: BTreeMap::from([((Key::Operator, Refusal::Quota), 1)]),
        }
    }

    #[test]
    fn a_scrape_is_written_in_the_prometheus_text_format() {
        let metrics = Metrics::default();
        metrics.count_request("/api/v1/unions/{address}", 400);
        metrics.count_request("/api/v1/unions/{address}", 400);
        metrics.count_shared_page(true);

        let text = encode(readings(), &metrics).unwrap();

        assert_eq!(
            text,
            "# HELP coop_indexed_block The block the read models are as of.\n\
             # TYPE coop_indexed_block gauge\n\
             coop_indexed_block 120\n\
             # HELP coop_chain_role 1 while this instance indexes, commits and sends joins.\n\
             # TYPE coop_chain_role gauge\n\
             coop_chain_role 1\n\
             # HELP coop_chain_up 1 when the chain answered this scrape.\n\
             # TYPE coop_chain_up gauge\n\
             coop_chain_up 1\n\
             # HELP coop_head_block The chain's latest block.\n\
             # TYPE coop_head_block gauge\n\
             coop_head_block 123\n\
             # HELP coop_unions Data Unions indexed.\n\
             # TYPE coop_unions gauge\n\
             coop_unions 2\n\
             # HELP coop_unions_quarantined Data Unions set aside because one of their events could not be \
             applied (see their API answer).\n\
             # TYPE coop_unions_quarantined gauge\n\
             coop_unions_quarantined 0\n\
             # HELP coop_events_passed_over Chain events that could not be used and were passed over.\n\
             # TYPE coop_events_passed_over gauge\n\
             coop_events_passed_over{stage=\"decode\"} 1\n\
             coop_events_passed_over{stage=\"catalog\"} 0\n\
             # HELP coop_members Members of all Data Unions by status (total: ever joined).\n\
             # TYPE coop_members gauge\n\
             coop_members{status=\"active\"} 3\n\
             coop_members{status=\"total\"} 5\n\
             # HELP coop_products Marketplace products (listed: deployed).\n\
             # TYPE coop_products gauge\n\
             coop_products{status=\"listed\"} 1\n\
             coop_products{status=\"total\"} 2\n\
             # HELP coop_validator_checked Commits whose book was rebuilt and compared.\n\
             # TYPE coop_validator_checked gauge\n\
             coop_validator_checked 4\n\
             # HELP coop_validator_mismatches Commits whose rebuilt book differs from the chain's.\n\
             # TYPE coop_validator_mismatches gauge\n\
             coop_validator_mismatches 0\n\
             # HELP coop_gas_spent_gwei Gas paid by the server's keys over the last 24 hours, in gwei.\n\
             # TYPE coop_gas_spent_gwei gauge\n\
             coop_gas_spent_gwei{key=\"operator\"} 7\n\
             coop_gas_spent_gwei{key=\"agent\"} 0\n\
             # HELP coop_unions_held_back Unions whose commits or member changes the policy holds back now, by \
             key and reason.\n\
             # TYPE coop_unions_held_back gauge\n\
             coop_unions_held_back{key=\"operator\",reason=\"quota\"} 1\n\
             # HELP coop_shared_pages_total Pages the same for every visitor without a session, sent as \
             rendered before or rendered.\n\
             # TYPE coop_shared_pages_total counter\n\
             coop_shared_pages_total{outcome=\"sent_again\"} 1\n\
             coop_shared_pages_total{outcome=\"rendered\"} 0\n\
             # HELP coop_http_requests_total HTTP requests by route and status.\n\
             # TYPE coop_http_requests_total counter\n\
             coop_http_requests_total{route=\"/api/v1/unions/{address}\",status=\"400\"} 2\n"
        );
    }

    #[test]
    fn a_family_without_samples_keeps_its_help_and_type_and_a_dead_chain_has_no_head() {
        let readings = Readings { head_block: None, held_back: BTreeMap::new(), ..readings() };
        let text = encode(readings, &Metrics::default()).unwrap();
        assert!(text.contains("coop_chain_up 0\n") && !text.contains("coop_head_block"), "{text}");
        assert!(text.contains("# TYPE coop_unions_held_back gauge\n# HELP coop_shared_pages_total"), "{text}");
        assert!(text.ends_with("# TYPE coop_http_requests_total counter\n"), "{text}");
    }

    #[test]
    fn label_values_are_escaped() {
        let metrics = Metrics::default();
        metrics.count_request("/a\"b\\c\nd", 200);
        let text = encode(readings(), &metrics).unwrap();
        assert!(text.contains("coop_http_requests_total{route=\"/a\\\"b\\\\c\\nd\",status=\"200\"} 1\n"), "{text}");
    }
}
