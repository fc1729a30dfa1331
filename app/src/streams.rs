//! A product's streams as its page shows them: what each stream is, and its newest messages, all of
//! them for the owner and subscribers, the public preview for anyone else.

use alloy_primitives::B256;
use coop::stream::{SignedMessage, StreamDefinition};
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

/// The streams of product `id`, as the signed-in reader (or anyone) may read them.
#[server(endpoint = "product_streams")]
pub async fn product_streams(id: B256) -> Result<Vec<StreamOverview>, AppError> {
    ssr::streams()?.overview(id).await
}

/// The port the server implements; it puts a [`ssr::RequestStreams`] into every request's extensions.
#[cfg(feature = "ssr")]
pub mod ssr {
    use std::future::Future;
    use std::pin::Pin;
    use std::sync::Arc;

    use super::StreamOverview;
    use crate::error::{AppError, Service};
    use alloy_primitives::B256;

    pub type Answer<'a, T> = Pin<Box<dyn Future<Output = Result<T, AppError>> + Send + 'a>>;

    pub trait Streams: Send + Sync {
        fn overview(&self, product: B256) -> Answer<'_, Vec<StreamOverview>>;
    }

    #[derive(Clone)]
    pub struct RequestStreams(pub Arc<dyn Streams>);

    pub(super) fn streams() -> Result<Arc<dyn Streams>, AppError> {
        crate::request_port::<RequestStreams>(Service::Streams).map(|streams| streams.0)
    }
}
