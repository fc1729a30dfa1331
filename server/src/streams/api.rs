//! The streams' REST endpoints: definitions, publishing, history, downloads and app keys (the live
//! feeds are in `follow.rs`). Each handler parses, calls `service::streams` and writes its answer.

use std::collections::HashMap;
use std::sync::Arc;

use alloy::primitives::{Address, B256};
use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use coop::stream::{AppKey, AppKeyGrant, Content, StreamDefinition};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::store::{MAX_READ, Stored, StreamKey};
use crate::api::openapi::params::ProductPath;
use crate::api::openapi::schemas::{Address as AnyAddress, AnswerAddress, Hash, Signature};
use crate::api::openapi::{BadRequest, Conflict, Forbidden, NotFound, TooManyRequests, Unauthorized};
use crate::api::params::{self, Params};
use crate::auth::{Reading, SignedIn};
use crate::http::{ApiError, ErrorCode, RouteTable, Services};
use crate::service::streams::{self as service, Access, HistoryQuery};

pub(crate) fn routes(table: RouteTable) -> RouteTable {
    table
        .get("/api/v1/products/{id}/streams", list)
        .on(axum::http::Method::PUT, "/api/v1/products/{id}/streams/{stream}", save)
        .delete("/api/v1/products/{id}/streams/{stream}", remove)
        .post("/api/v1/products/{id}/streams/{stream}/messages", publish)
        .post("/api/v1/products/{id}/streams/{stream}/messages/batch", publish_batch)
        .get("/api/v1/products/{id}/streams/{stream}/messages", history)
        .get("/api/v1/products/{id}/streams/{stream}/live", super::follow::sse)
        .get("/api/v1/products/{id}/streams/{stream}/socket", super::follow::socket)
        .get("/api/v1/products/{id}/streams/{stream}/download", download)
        .post("/api/v1/app-keys", grant)
        .get("/api/v1/app-keys", app_keys)
        .delete("/api/v1/app-keys/{key}", revoke)
}

/// A product and one of its streams, named in the path.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
pub struct StreamPath {
    /// The product id.
    id: Hash,
    /// The stream's name: 1 to 40 lower-case letters, digits and dashes.
    #[param(pattern = "^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$")]
    stream: String,
}

pub(super) fn stream_key(segments: Result<Path<(String, String)>, PathRejection>) -> Result<StreamKey, ApiError> {
    let (product, name) = params::path(segments)?;
    Ok(StreamKey { product: params::product_id(&product, "id")?, name: service::stream_name(&name)? })
}

/// A stream as its seller describes it.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Stream)]
struct StreamView {
    #[schema(value_type = Hash)]
    product: B256,
    name: String,
    description: String,
    /// What a message's content looks like, or null.
    #[schema(value_type = Option<Object>)]
    example: Option<serde_json::Value>,
    /// Days messages are kept; 0 for as long as the server keeps anything.
    retention_days: u32,
    /// The most bytes of messages kept (the oldest go first); 0 for as much as the server keeps.
    retention_bytes: u64,
    /// How many of the newest messages anyone may read without a subscription.
    public_preview: u32,
}

impl From<StreamDefinition> for StreamView {
    fn from(definition: StreamDefinition) -> Self {
        StreamView {
            product: definition.product,
            name: definition.name.to_string(),
            description: definition.description,
            example: definition.example.and_then(|example| serde_json::from_str(example.as_str()).ok()),
            retention_days: definition.retention_days,
            retention_bytes: definition.retention_bytes,
            public_preview: definition.public_preview,
        }
    }
}

#[derive(Serialize, ToSchema)]
struct StreamList {
    streams: Vec<StreamView>,
}

/// A product's streams
///
/// What its seller attached to it: names, descriptions, examples, retention and preview.
#[utoipa::path(
    get,
    path = "/api/v1/products/{id}/streams",
    operation_id = "listStreams",
    params(ProductPath),
    responses(
        (status = 200, description = "The streams, by name", body = StreamList),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
    )
)]
async fn list(
    State(services): State<Arc<Services>>,
    segments: Result<Path<String>, PathRejection>,
) -> Result<Json<StreamList>, ApiError> {
    let product = params::product_id(&params::path(segments)?, "id")?;
    let streams = service::definitions(&services, product).await?;
    Ok(Json(StreamList { streams: streams.into_iter().map(StreamView::from).collect() }))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = StreamSettings)]
struct Settings {
    #[schema(max_length = 2000)]
    description: String,
    /// What a message's content looks like: one JSON object, at most 64 KiB written out.
    example: Option<serde_json::Map<String, serde_json::Value>>,
    /// Days messages are kept; 0 keeps them as long as the server keeps anything.
    #[serde(default, deserialize_with = "params::whole")]
    #[schema(minimum = 0, maximum = 3650)]
    retention_days: u32,
    /// The most bytes of messages kept, at least 1 MB (1000000): past it the oldest go first,
    /// though every message of the last 20 minutes is kept. 0 keeps as much as the server keeps.
    #[serde(default, deserialize_with = "params::whole")]
    #[schema(schema_with = app::schemas::retention_bytes)]
    retention_bytes: u64,
    /// How many of the newest messages anyone may read without a subscription.
    #[serde(default, deserialize_with = "params::whole")]
    #[schema(minimum = 0, maximum = 100)]
    public_preview: u32,
}

/// Create or change a stream
///
/// The product's owner only (Sign-in with Ethereum session cookie).
#[utoipa::path(
    put,
    path = "/api/v1/products/{id}/streams/{stream}",
    operation_id = "saveStream",
    params(StreamPath),
    request_body = Settings,
    security(("session" = [])),
    responses(
        (status = 200, description = "The stream as saved", body = StreamView),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    )
)]
async fn save(
    State(services): State<Arc<Services>>,
    who: SignedIn,
    segments: Result<Path<(String, String)>, PathRejection>,
    json: Result<Json<serde_json::Value>, JsonRejection>,
) -> Result<Json<StreamView>, ApiError> {
    let stream = stream_key(segments)?;
    let settings: Settings = params::body(json)?;
    let example = match settings.example {
        None => None,
        Some(object) => {
            let text = serde_json::Value::Object(object).to_string();
            Some(text.parse::<Content>().map_err(|error| ApiError::BadRequest {
                code: ErrorCode::InvalidBody,
                message: format!("`example`: {error}"),
                field: Some("example"),
            })?)
        }
    };
    let definition = StreamDefinition {
        product: stream.product,
        name: stream.name,
        description: settings.description,
        example,
        retention_days: settings.retention_days,
        retention_bytes: settings.retention_bytes,
        public_preview: settings.public_preview,
    };
    Ok(Json(service::save_definition(&services, who.0, definition).await?.into()))
}

/// Remove a stream
///
/// The product's owner only. Its messages are no longer served.
#[utoipa::path(
    delete,
    path = "/api/v1/products/{id}/streams/{stream}",
    operation_id = "removeStream",
    params(StreamPath),
    security(("session" = [])),
    responses(
        (status = 204, description = "Removed"),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    )
)]
async fn remove(
    State(services): State<Arc<Services>>,
    who: SignedIn,
    segments: Result<Path<(String, String)>, PathRejection>,
) -> Result<StatusCode, ApiError> {
    let stream = stream_key(segments)?;
    service::delete_definition(&services, who.0, &stream).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = NewMessage)]
struct NewMessage {
    /// Whose message it is: the product's owner or an active member of its Data Union.
    #[schema(value_type = AnyAddress)]
    publisher: String,
    /// Per publisher and stream, strictly increasing; at most 2^53 - 1.
    #[serde(deserialize_with = "params::whole")]
    #[schema(maximum = 9_007_199_254_740_991_u64)]
    sequence: u64,
    /// Milliseconds since the epoch; within 10 minutes of the server's clock.
    #[serde(deserialize_with = "params::whole")]
    #[schema(maximum = 9_007_199_254_740_991_u64)]
    timestamp: u64,
    /// The text of one JSON object, at most 64 KiB, exactly as signed.
    content: String,
    /// The key that signed: the publisher, or an app key it granted for the product's Data Union.
    #[schema(value_type = AnyAddress)]
    signer: String,
    /// EIP-191 personal_sign by `signer` of the message's 32-byte digest (docs/streams.md).
    #[schema(value_type = String, pattern = "^(0x)?[0-9a-fA-F]{130}$")]
    signature: String,
}

/// A message as stored and delivered, with the signature a reader checks.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = StreamMessage)]
#[allow(dead_code)]
struct MessageDoc {
    /// Its place in the stream: 0, 1, 2, …
    offset: u64,
    /// When the server stored it, milliseconds since the epoch.
    received_at: u64,
    #[schema(value_type = Hash)]
    product: String,
    stream: String,
    #[schema(value_type = AnswerAddressLower)]
    publisher: String,
    sequence: u64,
    timestamp: u64,
    /// The JSON text as the publisher signed it.
    content: String,
    #[schema(value_type = AnswerAddressLower)]
    signer: String,
    /// 65 bytes, 0x and hex.
    signature: String,
}

/// An address as messages carry it: lower-case hex.
#[derive(ToSchema)]
#[schema(value_type = String, pattern = "^0x[0-9a-f]{40}$")]
#[allow(dead_code)]
struct AnswerAddressLower(String);

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct Published {
    offset: u64,
    received_at: u64,
}

/// Publish a message
///
/// Signed by the publisher or by an app key it granted (`POST /api/v1/app-keys`). Refused before
/// anything is stored: 400 for a malformed message or a timestamp far from the server's clock
/// (`stale_message`), 401 `bad_signature`, 403 when the signer may not speak for the publisher
/// (`app_key_not_granted`: no grant, revoked or expired) or the publisher may not write
/// (`not_a_publisher`: not the owner, not an active member), 404 for an unknown stream, 409
/// `sequence_not_after` for a replay, 429 above the publisher's rate.
#[utoipa::path(
    post,
    path = "/api/v1/products/{id}/streams/{stream}/messages",
    operation_id = "publishMessage",
    params(StreamPath),
    request_body = NewMessage,
    responses(
        (status = 201, description = "Stored at this offset", body = Published),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 429, response = TooManyRequests),
    )
)]
async fn publish(
    State(services): State<Arc<Services>>,
    segments: Result<Path<(String, String)>, PathRejection>,
    json: Result<Json<serde_json::Value>, JsonRejection>,
) -> Result<Response, ApiError> {
    let stream = stream_key(segments)?;
    let sent = sent(params::body(json)?)?;
    let placed = service::publish(&services, stream, sent).await?;
    let answer = Published { offset: placed.offset, received_at: placed.received_at };
    Ok((StatusCode::CREATED, Json(answer)).into_response())
}

/// A message as the service takes it, or a 400 naming the field.
fn sent(message: NewMessage) -> Result<service::Sent, ApiError> {
    let signature =
        crate::signatures::parse(&message.signature).filter(|bytes| bytes.len() == 65).ok_or_else(|| {
            ApiError::BadRequest {
                code: ErrorCode::InvalidMessage,
                message: "`signature`: not 65 bytes of hex".to_owned(),
                field: Some("signature"),
            }
        })?;
    Ok(service::Sent {
        publisher: params::address(&message.publisher, "publisher")?,
        sequence: exact_integer(message.sequence, "sequence")?,
        timestamp: exact_integer(message.timestamp, "timestamp")?,
        content: message.content,
        signer: params::address(&message.signer, "signer")?,
        signature,
    })
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewMessages {
    /// 1 to 500 messages (and at most 2 MiB of JSON), each as `publishMessage` takes it.
    #[schema(min_items = 1, max_items = 500)]
    messages: Vec<NewMessage>,
}

#[derive(Serialize, ToSchema)]
struct PublishedAll {
    /// Where each message went, in the order sent.
    messages: Vec<Published>,
}

/// Publish several messages
///
/// Up to 500 messages to one stream in one request, each signed as `publishMessage` takes it (from
/// one publisher or several): an app that collects messages sends them at once. Every message is
/// checked before any is stored, and a refusal names the message it is about (`message 3: …`) with
/// the status and code `publishMessage` would answer. On the embedded store a batch is stored whole
/// or not at all; on NATS one stored in the meantime by another instance with the same sequence
/// numbers ends it at that message, and the answer says how many before it were stored.
#[utoipa::path(
    post,
    path = "/api/v1/products/{id}/streams/{stream}/messages/batch",
    operation_id = "publishMessages",
    params(StreamPath),
    request_body = NewMessages,
    responses(
        (status = 201, description = "Stored at these offsets", body = PublishedAll),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 429, response = TooManyRequests),
    )
)]
async fn publish_batch(
    State(services): State<Arc<Services>>,
    segments: Result<Path<(String, String)>, PathRejection>,
    json: Result<Json<serde_json::Value>, JsonRejection>,
) -> Result<Response, ApiError> {
    let stream = stream_key(segments)?;
    let batch: NewMessages = params::body(json)?;
    if batch.messages.is_empty() {
        return Err(ApiError::BadRequest {
            code: ErrorCode::InvalidMessage,
            message: "`messages` is empty; send at least one".to_owned(),
            field: Some("messages"),
        });
    }
    let several = batch.messages.len() > 1;
    let batch = batch
        .messages
        .into_iter()
        .enumerate()
        .map(|(at, message)| {
            sent(message).map_err(|error| if several { error.about(&format!("message {at}")) } else { error })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let placed = service::publish_all(&services, stream, batch).await?;
    let messages = placed.iter().map(|placed| Published { offset: placed.offset, received_at: placed.received_at });
    Ok((StatusCode::CREATED, Json(PublishedAll { messages: messages.collect() })).into_response())
}

/// The largest integer JavaScript keeps exactly (2^53 - 1): sequence numbers, timestamps and offsets
/// stay below it, so every client reads them as they are.
pub(super) const MAX_EXACT: u64 = (1 << 53) - 1;

fn exact_integer(value: u64, field: &'static str) -> Result<u64, ApiError> {
    if value > MAX_EXACT {
        return Err(ApiError::BadRequest {
            code: ErrorCode::InvalidMessage,
            message: format!("`{field}` is above 2^53 - 1, the largest integer JavaScript keeps exactly"),
            field: Some(field),
        });
    }
    Ok(value)
}

/// Which messages to read.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
struct HistoryParams {
    /// The first offset; default 0.
    #[param(minimum = 0, maximum = 9_007_199_254_740_991_u64, default = 0)]
    from: Option<u64>,
    /// How many; default 100.
    #[param(minimum = 1, maximum = 1000, default = 100)]
    limit: Option<u64>,
    /// Only messages with a timestamp at or after this (milliseconds since the epoch).
    #[param(minimum = 0, maximum = 9_007_199_254_740_991_u64)]
    since: Option<u64>,
    /// Only messages with a timestamp before this (milliseconds since the epoch).
    #[param(minimum = 0, maximum = 9_007_199_254_740_991_u64)]
    until: Option<u64>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct History {
    /// `full` for the owner and subscribers, `preview` for anyone else (only the newest messages the
    /// seller shows).
    #[schema(schema_with = access_schema)]
    access: &'static str,
    #[schema(value_type = Vec<MessageDoc>)]
    messages: Vec<Stored>,
    /// The offset to read from next.
    next: u64,
}

fn access_schema() -> utoipa::openapi::Object {
    crate::api::openapi::schemas::one_of(&["full", "preview"])
}

fn history_query(query: &Params) -> Result<HistoryQuery, ApiError> {
    let from = query.integer("from", 0, 0..=MAX_EXACT)?;
    let limit = query.integer("limit", 100, 1..=MAX_READ as u64)? as usize;
    let since = query.integer("since", 0, 0..=MAX_EXACT)?;
    let until = query.integer("until", MAX_EXACT, 0..=MAX_EXACT)?;
    let between = (query.text("since").is_some() || query.text("until").is_some()).then_some((since, until));
    Ok(HistoryQuery { from, limit, between })
}

/// Read a stream's messages
///
/// By offset, and by publisher timestamp with `since` and `until`. The owner and subscribers with an
/// active subscription (signed in, or with a read token) read everything; anyone else reads the
/// public preview, if the seller shows one.
#[utoipa::path(
    get,
    path = "/api/v1/products/{id}/streams/{stream}/messages",
    operation_id = "readMessages",
    params(StreamPath, HistoryParams),
    security((), ("session" = []), ("readToken" = [])),
    responses(
        (status = 200, description = "A page of messages", body = History),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
    )
)]
async fn history(
    State(services): State<Arc<Services>>,
    who: Option<Reading>,
    segments: Result<Path<(String, String)>, PathRejection>,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<Json<History>, ApiError> {
    let stream = stream_key(segments)?;
    let query = history_query(&Params::from_query(query)?)?;
    let (access, messages) = service::history(&services, &stream, who.map(|who| who.reader), query).await?;
    let next = messages.last().map_or(query.from.max(access.first_offset()), |last| last.offset + 1);
    let access = match access {
        Access::Full => "full",
        Access::PreviewFrom(_) => "preview",
    };
    Ok(Json(History { access, messages, next }))
}

/// The download's format.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
struct DownloadParams {
    /// `jsonl` (one message per line, as the history answers it) or `csv`; default `jsonl`.
    #[param(schema_with = format_schema)]
    format: Option<String>,
}

fn format_schema() -> utoipa::openapi::Object {
    crate::api::openapi::schemas::one_of(&["jsonl", "csv"])
}

/// Download a stream
///
/// Every message stored when the download starts, oldest first, written as it is read: the server
/// holds one page of messages at a time, whatever the stream's size. JSON Lines: each line a message
/// as the history answers it. CSV: a header, then `offset,receivedAt,publisher,sequence,timestamp,
/// signer,signature,content` per message, the content as its JSON text in quotes. The owner and
/// subscribers only (signed in, or with a read token).
#[utoipa::path(
    get,
    path = "/api/v1/products/{id}/streams/{stream}/download",
    operation_id = "downloadStream",
    params(StreamPath, DownloadParams),
    security(("session" = []), ("readToken" = [])),
    responses(
        (status = 200, description = "The messages", content((String = "application/x-ndjson"), (String = "text/csv"))),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    )
)]
async fn download(
    State(services): State<Arc<Services>>,
    who: Option<Reading>,
    segments: Result<Path<(String, String)>, PathRejection>,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<Response, ApiError> {
    let stream = stream_key(segments)?;
    let query = Params::from_query(query)?;
    let format = match query.text("format") {
        None => "jsonl",
        Some(_) => query.choice("format", &["jsonl", "csv"])?,
    };
    service::full_access(&services, &stream, who.map(|who| who.reader)).await?;
    let end = services.streams.store.next_offset(&stream).await.map_err(ApiError::Unexpected)?;
    let store = services.streams.store.clone();
    let csv = format == "csv";
    let filename = format!("{}.{format}", stream.name);
    let body = async_stream::try_stream! {
        if csv {
            yield axum::body::Bytes::from_static(b"offset,receivedAt,publisher,sequence,timestamp,signer,signature,content\n");
        }
        let mut next = 0;
        while next < end {
            let page = store.read(&stream, next, MAX_READ).await?;
            let Some(last) = page.last() else { break };
            next = last.offset + 1;
            let mut chunk = String::new();
            for stored in page.iter().take_while(|stored| stored.offset < end) {
                if csv {
                    csv_row(&mut chunk, stored);
                } else {
                    chunk.push_str(&serde_json::to_string(stored)?);
                    chunk.push('\n');
                }
            }
            yield axum::body::Bytes::from(chunk);
        }
    };
    let body: std::pin::Pin<Box<dyn futures::Stream<Item = anyhow::Result<axum::body::Bytes>> + Send>> = Box::pin(body);
    let content_type = if csv { "text/csv; charset=utf-8" } else { "application/x-ndjson" };
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, content_type.to_owned()),
            (axum::http::header::CONTENT_DISPOSITION, format!("attachment; filename=\"{filename}\"")),
        ],
        axum::body::Body::from_stream(body),
    )
        .into_response())
}

/// One message as a CSV row (RFC 4180: the content quoted, its quotes doubled).
fn csv_row(out: &mut String, stored: &Stored) {
    use std::fmt::Write;
    let message = &stored.message;
    let fields = &message.message;
    // Writing into a `String` cannot fail.
    let _ = writeln!(
        out,
        "{},{},{:#x},{},{},{:#x},{},\"{}\"",
        stored.offset,
        stored.received_at,
        fields.publisher,
        fields.sequence,
        fields.timestamp,
        message.signer,
        message.signature,
        fields.content.as_str().replace('"', "\"\""),
    );
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = NewAppKey)]
struct NewGrant {
    /// The app's key, which will sign messages.
    #[schema(value_type = AnyAddress)]
    key: String,
    /// The member granting it.
    #[schema(value_type = AnyAddress)]
    publisher: String,
    #[schema(value_type = AnyAddress)]
    union: String,
    /// The chain this server is on (`GET /api/v1/chain`).
    #[serde(deserialize_with = "params::whole")]
    chain_id: u64,
    /// Seconds since the epoch; in the future and within 366 days.
    #[serde(deserialize_with = "params::whole")]
    expires: u64,
    /// EIP-191 personal_sign by the publisher of the grant's text (docs/streams.md); a contract
    /// account's signature is judged by its EIP-1271 `isValidSignature`.
    #[schema(value_type = Signature)]
    signature: String,
}

/// An app key as kept.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = AppKey)]
struct AppKeyView {
    #[schema(value_type = AnswerAddress)]
    key: Address,
    #[schema(value_type = AnswerAddress)]
    publisher: Address,
    #[schema(value_type = AnswerAddress)]
    union: Address,
    chain_id: u64,
    expires: u64,
    created_at: u64,
    /// Seconds since the epoch, or null while it stands.
    revoked_at: Option<u64>,
    /// The grant's text the publisher signed, and the signature: anyone can check the grant.
    text: String,
    signature: String,
}

impl From<AppKey> for AppKeyView {
    fn from(key: AppKey) -> Self {
        AppKeyView {
            text: key.grant.text(),
            key: key.grant.key,
            publisher: key.grant.publisher,
            union: key.grant.union,
            chain_id: key.grant.chain_id,
            expires: key.grant.expires,
            created_at: key.created_at,
            revoked_at: key.revoked_at,
            signature: key.signature.to_string(),
        }
    }
}

/// Grant an app key
///
/// A member lets an app's key publish in its name to the streams of a Data Union's products, until a
/// time. The member signs the grant's text once (docs/streams.md); the app never holds the member's
/// wallet. Granting a key again replaces the grant.
#[utoipa::path(
    post,
    path = "/api/v1/app-keys",
    operation_id = "grantAppKey",
    request_body = NewGrant,
    responses(
        (status = 201, description = "The key, granted", body = AppKeyView),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
    )
)]
async fn grant(
    State(services): State<Arc<Services>>,
    json: Result<Json<serde_json::Value>, JsonRejection>,
) -> Result<Response, ApiError> {
    let sent: NewGrant = params::body(json)?;
    let grant = AppKeyGrant {
        key: params::address(&sent.key, "key")?,
        publisher: params::address(&sent.publisher, "publisher")?,
        union: params::address(&sent.union, "union")?,
        chain_id: sent.chain_id,
        expires: sent.expires,
    };
    let key = service::grant(&services, grant, &sent.signature).await?;
    Ok((StatusCode::CREATED, Json(AppKeyView::from(key))).into_response())
}

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
struct AppKeysParams {
    /// Whose keys.
    publisher: AnyAddress,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct AppKeyList {
    keys: Vec<AppKeyView>,
}

/// A member's app keys
///
/// Newest first, revoked ones too. Grants are public: each carries its signed text.
#[utoipa::path(
    get,
    path = "/api/v1/app-keys",
    operation_id = "listAppKeys",
    params(AppKeysParams),
    responses(
        (status = 200, description = "The keys", body = AppKeyList),
        (status = 400, response = BadRequest),
    )
)]
async fn app_keys(
    State(services): State<Arc<Services>>,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<Json<AppKeyList>, ApiError> {
    let query = Params::from_query(query)?;
    let publisher = params::address(query.required("publisher")?, "publisher")?;
    let keys = service::app_keys(&services, publisher).await?;
    Ok(Json(AppKeyList { keys: keys.into_iter().map(AppKeyView::from).collect() }))
}

/// The app key named in the path.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
struct AppKeyPath {
    key: AnyAddress,
}

/// Revoke an app key
///
/// The signed-in member's grants of the key, at once: its next message is refused.
#[utoipa::path(
    delete,
    path = "/api/v1/app-keys/{key}",
    operation_id = "revokeAppKey",
    params(AppKeyPath),
    security(("session" = [])),
    responses(
        (status = 204, description = "Revoked"),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
    )
)]
async fn revoke(
    State(services): State<Arc<Services>>,
    who: SignedIn,
    segments: Result<Path<String>, PathRejection>,
) -> Result<StatusCode, ApiError> {
    let key = params::address(&params::path(segments)?, "key")?;
    service::revoke(&services, who.0, key).await?;
    Ok(StatusCode::NO_CONTENT)
}
