//! A product's streams as its page shows them: what each stream is, and its newest messages, all of
//! them for the owner and subscribers, the public preview for anyone else.

use alloy_primitives::{Address, B256};
use coop::stream::{AppKey, AppKeyGrant, SignedMessage, StreamDefinition, StreamError};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// How many of a stream's newest messages a page shows a reader with access.
pub const LATEST: usize = 10;

/// What the reader may read of a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Access {
    /// The owner, or a subscriber whose subscription runs.
    Full,
    /// Anyone else: the newest messages the seller shows.
    Preview,
}

/// A message as delivered, with its place in the stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivered {
    pub offset: u64,
    pub message: SignedMessage,
}

/// One stream on a product's page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamOverview {
    pub definition: StreamDefinition,
    pub access: Access,
    /// How many messages the stream has ever had.
    pub count: u64,
    /// The newest messages the reader may read, oldest first.
    pub latest: Vec<Delivered>,
}

/// Bytes in the megabyte the forms ask for a stream's retention in.
pub const BYTES_PER_MB: u64 = 1_000_000;

/// What a seller fills in for one of its product's streams, as typed: on the product page, or in a
/// draft before the product is published.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
// The API's own `StreamSettings` is the body of `PUT …/streams/{stream}`, which names the stream in
// its path.
#[cfg_attr(feature = "ssr", schema(as = DraftStream))]
pub struct StreamSettings {
    /// Lower-case letters, digits and dashes, 1 to 40.
    pub name: String,
    #[cfg_attr(feature = "ssr", schema(max_length = 2000))]
    pub description: String,
    /// An example message: the text of one JSON object, or empty for none.
    pub example: String,
    /// Days messages are kept; 0 for as long as the server keeps anything.
    #[cfg_attr(feature = "ssr", schema(maximum = 3650))]
    pub retention_days: u32,
    /// Bytes of messages kept (0, or at least 1000000); 0 for as much as the server keeps.
    #[cfg_attr(feature = "ssr", schema(schema_with = crate::schemas::retention_bytes))]
    pub retention_bytes: u64,
    /// How many of the newest messages anyone may read.
    #[cfg_attr(feature = "ssr", schema(maximum = 100))]
    pub public_preview: u32,
}

impl StreamSettings {
    /// The stream of `product` these settings describe, or what is wrong with them, naming the field.
    pub fn definition(&self, product: B256) -> Result<StreamDefinition, (&'static str, String)> {
        let name = self.name.trim().parse().map_err(|error: StreamError| ("name", error.to_string()))?;
        let example = match self.example.trim() {
            "" => None,
            text => Some(text.parse().map_err(|error: StreamError| ("example", error.to_string()))?),
        };
        let definition = StreamDefinition {
            product,
            name,
            description: self.description.trim().to_owned(),
            example,
            retention_days: self.retention_days,
            retention_bytes: self.retention_bytes,
            public_preview: self.public_preview,
        };
        match definition.problem() {
            Some(problem) => Err(problem),
            None => Ok(definition),
        }
    }
}

/// Creates or changes a stream of `product`: its owner only, signed in.
#[server(endpoint = "save_stream")]
pub async fn save_stream(product: B256, settings: StreamSettings) -> Result<StreamDefinition, AppError> {
    ssr::streams()?.save_stream(product, settings).await
}

/// Removes a stream of `product`: its owner only, signed in.
#[server(endpoint = "remove_stream")]
pub async fn remove_stream(product: B256, name: String) -> Result<(), AppError> {
    ssr::streams()?.remove_stream(product, name).await
}

/// The streams of product `id`, as the signed-in reader (or anyone) may read them, as of block
/// `min_block` or later (once the server has read it, within seconds; 0 for any).
#[server(endpoint = "product_streams")]
pub async fn product_streams(id: B256, min_block: u64) -> Result<Vec<StreamOverview>, AppError> {
    ssr::streams()?.overview(id, min_block).await
}

/// The grant `publisher` would sign to let app key `key` publish to `union`'s streams for `days`
/// days: this server's chain, and the expiry counted from the server's clock. The wallet signs
/// [`AppKeyGrant::text`]; nothing is kept until [`grant_app_key`].
#[server(endpoint = "prepare_app_key")]
pub async fn prepare_app_key(
    union: Address,
    publisher: Address,
    key: Address,
    days: u32,
) -> Result<AppKeyGrant, AppError> {
    ssr::streams()?.prepare_app_key(union, publisher, key, days).await
}

/// Keeps a grant its publisher signed (hex `signature` of its text).
#[server(endpoint = "grant_app_key")]
pub async fn grant_app_key(grant: AppKeyGrant, signature: String) -> Result<AppKey, AppError> {
    ssr::streams()?.grant_app_key(grant, signature).await
}

/// `publisher`'s app keys, newest first, revoked ones too.
#[server(endpoint = "app_keys")]
pub async fn app_keys(publisher: Address) -> Result<Vec<AppKey>, AppError> {
    ssr::streams()?.app_keys(publisher).await
}

/// Revokes the signed-in member's grants of `key`, at once.
#[server(endpoint = "revoke_app_key")]
pub async fn revoke_app_key(key: Address) -> Result<(), AppError> {
    ssr::streams()?.revoke_app_key(key).await
}

/// The port the server implements; it puts a [`ssr::RequestStreams`] into every request's extensions.
#[cfg(feature = "ssr")]
pub mod ssr {
    use std::future::Future;
    use std::pin::Pin;
    use std::sync::Arc;

    use super::{StreamOverview, StreamSettings};
    use crate::error::{AppError, Service};
    use alloy_primitives::{Address, B256};
    use coop::stream::{AppKey, AppKeyGrant, StreamDefinition};

    pub type Answer<'a, T> = Pin<Box<dyn Future<Output = Result<T, AppError>> + Send + 'a>>;

    pub trait Streams: Send + Sync {
        fn overview(&self, product: B256, min_block: u64) -> Answer<'_, Vec<StreamOverview>>;
        fn prepare_app_key(
            &self,
            union: Address,
            publisher: Address,
            key: Address,
            days: u32,
        ) -> Answer<'_, AppKeyGrant>;
        fn grant_app_key(&self, grant: AppKeyGrant, signature: String) -> Answer<'_, AppKey>;
        fn app_keys(&self, publisher: Address) -> Answer<'_, Vec<AppKey>>;
        fn revoke_app_key(&self, key: Address) -> Answer<'_, ()>;
        fn save_stream(&self, product: B256, settings: StreamSettings) -> Answer<'_, StreamDefinition>;
        fn remove_stream(&self, product: B256, name: String) -> Answer<'_, ()>;
    }

    #[derive(Clone)]
    pub struct RequestStreams(pub Arc<dyn Streams>);

    pub(super) fn streams() -> Result<Arc<dyn Streams>, AppError> {
        crate::request_port::<RequestStreams>(Service::Streams).map(|streams| streams.0)
    }
}
