//! Following a stream live: Server-Sent Events for simple clients, a WebSocket for programs and
//! pages that want one connection. Both send the same messages from the same feed: gapless from the
//! offset asked for, and cut off within a block of the reader's access ending.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;

use alloy::primitives::Address;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::ws::{Message as Frame, WebSocket, WebSocketUpgrade, rejection::WebSocketUpgradeRejection};
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::{Stream, StreamExt};
use utoipa::IntoParams;

use super::api::{MAX_EXACT, StreamPath, stream_key};
use super::store::{Stored, StreamKey, following, retry_after};
use crate::api::openapi::{BadRequest, Forbidden, NotFound, Unauthorized};
use crate::api::params::Params;
use crate::auth::Reading;
use crate::http::{ApiError, ErrorCode, Services};
use crate::service::streams as service;

/// Where a live feed starts.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
struct LiveParams {
    /// The first offset to send; default: the next message stored. For Server-Sent Events, a
    /// reconnecting client's `Last-Event-ID` header (the last offset it got) takes precedence.
    #[param(minimum = 0, maximum = 9_007_199_254_740_991_u64)]
    from: Option<u64>,
}

/// Follow a stream live
///
/// Server-Sent Events: each message is an event whose `id` is its offset and whose data is the
/// message as JSON. A client that reconnects with `Last-Event-ID` resumes after it, with no gap and
/// no duplicate. The owner and subscribers only (signed in, or with a read token); an expired
/// subscription is cut off at the next message, and a feed opened with a read token ends with it.
#[utoipa::path(
    get,
    path = "/api/v1/products/{id}/streams/{stream}/live",
    operation_id = "followStream",
    params(StreamPath, LiveParams),
    security(("session" = []), ("readToken" = [])),
    responses(
        (status = 200, description = "text/event-stream of messages", content_type = "text/event-stream", body = String),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    )
)]
pub async fn sse(
    State(services): State<Arc<Services>>,
    who: Option<Reading>,
    headers: HeaderMap,
    segments: Result<Path<(String, String)>, PathRejection>,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<Response, ApiError> {
    let (stream, reader, query) = reader_of(&services, who, segments, query).await?;
    let resume = headers
        .get("last-event-id")
        .and_then(|value| value.to_str().ok())
        .and_then(|text| text.trim().parse::<u64>().ok())
        .map(|last| last.saturating_add(1));
    let from = match resume {
        Some(from) => from,
        None => start(&services, &stream, &query).await?,
    };
    let events = checked_feed(services, stream, reader, from).await.filter_map(|stored| async move {
        let data = serde_json::to_string(&stored).ok()?;
        Some(Ok::<_, Infallible>(Event::default().id(stored.offset.to_string()).data(data)))
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::default()).into_response())
}

/// Follow a stream live over a WebSocket
///
/// The feed `followStream` sends, as WebSocket text frames: each frame one message as JSON, with its
/// `offset`. To resume, connect again with `from` set to the last offset received plus one: no gap,
/// no duplicate. The server sends nothing else but a ping every 15 s, reads nothing but pings,
/// pongs and the close, and closes the socket when the reader's access ends (within a block of its
/// subscription ending), when a read token it was opened with ends, or when it stops. The owner
/// and subscribers only (signed in, or with a read token). A browser
/// page of another site may not open it (403 `cross_site`): it would read with its visitor's
/// session.
#[utoipa::path(
    get,
    path = "/api/v1/products/{id}/streams/{stream}/socket",
    operation_id = "followStreamSocket",
    params(StreamPath, LiveParams),
    security(("session" = []), ("readToken" = [])),
    responses(
        (status = 101, description = "Switching to the WebSocket protocol; then one text frame per message"),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    )
)]
pub async fn socket(
    State(services): State<Arc<Services>>,
    who: Option<Reading>,
    headers: HeaderMap,
    segments: Result<Path<(String, String)>, PathRejection>,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    if let Some(origin) = crate::http::foreign_origin(&headers, &services.origin) {
        return Err(ApiError::Forbidden {
            code: ErrorCode::CrossSite,
            message: format!("a page on {origin} cannot follow a stream with its visitor's session"),
        });
    }
    let (stream, reader, query) = reader_of(&services, who, segments, query).await?;
    let from = start(&services, &stream, &query).await?;
    let upgrade = upgrade.map_err(|rejection| ApiError::BadRequest {
        code: ErrorCode::NotAWebSocket,
        message: format!("this endpoint speaks WebSocket only: {rejection}"),
        field: None,
    })?;
    let feed = checked_feed(services, stream, reader, from).await;
    Ok(upgrade.on_upgrade(move |socket| send_feed(socket, feed)))
}

/// The stream asked for, who asks, and the query, once the reader may read it all.
async fn reader_of(
    services: &Services,
    who: Option<Reading>,
    segments: Result<Path<(String, String)>, PathRejection>,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<(StreamKey, Option<Reading>, Params), ApiError> {
    let stream = stream_key(segments)?;
    let query = Params::from_query(query)?;
    service::full_access(services, &stream, who.map(|who| who.reader)).await?;
    Ok((stream, who, query))
}

/// The `from` asked for, or the next offset.
async fn start(services: &Services, stream: &StreamKey, query: &Params) -> Result<u64, ApiError> {
    match query.text("from") {
        Some(_) => query.integer("from", 0, 0..=MAX_EXACT),
        None => services.streams.store.next_offset(stream).await.map_err(ApiError::Unexpected),
    }
}

/// The stream's messages from offset `from` on, until the server stops or `reader` may no longer
/// read. Access is checked again before the first message after each change of the read models (a
/// new block, mostly): a subscription that ends ends the feed within a block, a stream removed
/// within a second more (see `DEFINITIONS_AGE`), and a burst of messages within one block costs
/// one check. A store failing for a moment does not end it (see
/// [`following`]); a check that cannot be made holds the next message back while it is tried again,
/// and ends the feed after a few tries. A feed opened with a read token ends when the token does.
async fn checked_feed(
    services: Arc<Services>,
    stream: StreamKey,
    who: Option<Reading>,
    from: u64,
) -> impl Stream<Item = Stored> + Send + 'static {
    let reader = who.map(|who| who.reader);
    let token_ends = who.and_then(|who| who.until).map(|until| {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        tokio::time::sleep(std::time::Duration::from_secs(until).saturating_sub(now))
    });
    let closed = futures::future::select(
        Box::pin(services.streams.closed()),
        Box::pin(async move {
            match token_ends {
                Some(sleep) => sleep.await,
                None => std::future::pending().await,
            }
        }),
    );
    // The read models' version, not their block: it is read without a lock, and changes after a
    // reorg too.
    let mut checked_at = services.models.version();
    let feed = async_stream::stream! {
        let mut messages = std::pin::pin!(following(services.streams.store.clone(), stream.clone(), from));
        while let Some(stored) = messages.next().await {
            let version = services.models.version();
            if version != checked_at {
                if !may_still_read(&services, &stream, reader).await {
                    return;
                }
                checked_at = version;
            }
            yield stored;
        }
    };
    feed.take_until(closed)
}

/// Whether `reader` may still read `stream`. False when refused, and when the check could not be
/// made after a few tries: the feed then ends, and the reader may connect again.
async fn may_still_read(services: &Services, stream: &StreamKey, reader: Option<Address>) -> bool {
    for attempt in 1..=CHECK_TRIES {
        let error = match service::full_access(services, stream, reader).await {
            Ok(()) => return true,
            Err(ApiError::Unexpected(error)) => error.to_string(),
            Err(ApiError::Unavailable { reason, .. }) => reason,
            Err(_refused) => return false,
        };
        tracing::warn!(target: "streams", %stream, attempt, %error, "a reader's access could not be checked");
        tokio::time::sleep(retry_after(attempt)).await;
    }
    false
}

/// Tries of an access check that fails for reasons other than a refusal.
const CHECK_TRIES: u32 = 5;

/// How often a quiet socket is pinged: keeps proxies from closing it, and finds clients that are gone.
const PING_EVERY: std::time::Duration = std::time::Duration::from_secs(15);

/// Writes each message of `feed` to `socket` as a text frame, until the feed ends or the client
/// goes; then closes the socket.
async fn send_feed(mut socket: WebSocket, feed: impl Stream<Item = Stored> + Send + 'static) {
    let mut feed = std::pin::pin!(feed);
    let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + PING_EVERY, PING_EVERY);
    loop {
        tokio::select! {
            _ = ping.tick() => {
                if socket.send(Frame::Ping(Default::default())).await.is_err() {
                    return;
                }
            }
            next = feed.next() => {
                let Some(stored) = next else { break };
                let Ok(text) = serde_json::to_string(&stored) else { break };
                if socket.send(Frame::Text(text.into())).await.is_err() {
                    return;
                }
            }
            // Reading answers pings; the client closing, or going, ends the feed.
            received = socket.recv() => match received {
                Some(Ok(Frame::Close(_)) | Err(_)) | None => return,
                Some(Ok(_)) => {}
            },
        }
    }
    let _ = socket.send(Frame::Close(None)).await;
}
