//! `/metrics`: Prometheus text with the indexed and head blocks, the unions, and requests by status.

use alloy::primitives::U256;

use crate::chain::{AGENT, MEMBER, OTHER, send};
use crate::helpers::spawn_app_with_contracts;

/// The value of the sample whose name and labels are exactly `series`.
fn sample(text: &str, series: &str) -> Option<u64> {
    text.lines().find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

#[tokio::test]
async fn metrics_report_the_indexed_and_head_blocks_the_members_and_requests_by_status() {
    let app = spawn_app_with_contracts().await;
    let chain = app.chain();
    let du = chain.create_data_union(U256::ZERO, 0).await;
    send(chain.du(du, AGENT).addMembers(vec![chain.address(MEMBER), chain.address(OTHER)])).await;
    send(chain.du(du, AGENT).partMembers(vec![chain.address(OTHER)])).await;
    app.caught_up().await;
    let head = chain.block_number().await;
    app.get(&format!("/api/v1/unions/{du}")).await;
    app.get("/api/v1/unions/0xbad").await;
    app.get("/api/v1/unions/0xbad").await;

    let response = app.client.get(app.url("/metrics")).send().await.unwrap();

    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
    let text = response.text().await.unwrap();
    assert_eq!(sample(&text, "coop_indexed_block"), Some(head), "{text}");
    assert!(sample(&text, "coop_head_block").unwrap() >= head, "{text}");
    assert_eq!(sample(&text, "coop_chain_up"), Some(1));
    assert_eq!(sample(&text, "coop_unions"), Some(1));
    assert_eq!(sample(&text, r#"coop_members{status="active"}"#), Some(1), "{text}");
    assert_eq!(sample(&text, r#"coop_members{status="total"}"#), Some(2), "{text}");
    assert_eq!(
        sample(&text, r#"coop_http_requests_total{route="/api/v1/unions/{address}",status="400"}"#),
        Some(2),
        "{text}"
    );
    assert!(sample(&text, r#"coop_http_requests_total{route="/api/v1/unions/{address}",status="200"}"#) >= Some(1));
    assert!(text.contains("# TYPE coop_http_requests_total counter"));
}
