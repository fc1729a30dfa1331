//! The web app's streams port: a product's streams and their newest messages, as the request's
//! signed-in reader (or anyone) may read them, through the same service as the REST API.

use std::sync::Arc;

use alloy::primitives::{Address, B256};
use app::error::{AppError, Service};
use app::streams::ssr::{Answer, RequestStreams, Streams};
use app::streams::{Access, Delivered, LATEST, StreamOverview, StreamSettings};
use axum::extract::{Request, State};
use axum::http::Extensions;
use axum::middleware::Next;
use axum::response::Response;
use coop::stream::{AppKey, AppKeyGrant, StreamDefinition};
use tower_sessions::Session;

use crate::auth::SignedIn;
use crate::http::{ApiError, Services};
use crate::service::streams as service;
use crate::streams::store::StreamKey;

/// The services behind the streams port; one per server.
#[derive(Clone)]
pub struct ServiceStreams {
    services: Arc<Services>,
}

impl ServiceStreams {
    pub fn new(services: Arc<Services>) -> Self {
        Self { services }
    }
}

/// Middleware: hands each request the streams port, with the request's session (who reads).
pub async fn provide_streams(State(streams): State<ServiceStreams>, mut request: Request, next: Next) -> Response {
    let mut extensions = Extensions::new();
    if let Some(session) = request.extensions().get::<Session>() {
        extensions.insert(session.clone());
    }
    let port = SessionStreams { services: streams.services, extensions };
    request.extensions_mut().insert(RequestStreams(Arc::new(port)));
    next.run(request).await
}

struct SessionStreams {
    services: Arc<Services>,
    extensions: Extensions,
}

fn refused(error: ApiError) -> AppError {
    super::refused(Service::Streams, error)
}

impl SessionStreams {
    async fn reader(&self) -> Result<Option<Address>, AppError> {
        Ok(SignedIn::of(&self.extensions).await.map_err(refused)?.map(|SignedIn(who)| who))
    }
}

impl Streams for SessionStreams {
    fn prepare_app_key(&self, union: Address, publisher: Address, key: Address, days: u32) -> Answer<'_, AppKeyGrant> {
        Box::pin(async move { service::prepare_grant(&self.services, union, publisher, key, days).map_err(refused) })
    }

    fn grant_app_key(&self, grant: AppKeyGrant, signature: String) -> Answer<'_, AppKey> {
        Box::pin(async move { service::grant(&self.services, grant, &signature).await.map_err(refused) })
    }

    fn app_keys(&self, publisher: Address) -> Answer<'_, Vec<AppKey>> {
        Box::pin(async move { service::app_keys(&self.services, publisher).await.map_err(refused) })
    }

    fn save_stream(&self, product: B256, settings: StreamSettings) -> Answer<'_, StreamDefinition> {
        Box::pin(async move {
            let Some(who) = self.reader().await? else { return Err(AppError::NotSignedIn) };
            let definition = settings
                .definition(product)
                .map_err(|(field, message)| AppError::BadRequest(format!("{field}: {message}")))?;
            service::save_definition(&self.services, who, definition).await.map_err(refused)
        })
    }

    fn remove_stream(&self, product: B256, name: String) -> Answer<'_, ()> {
        Box::pin(async move {
            let Some(who) = self.reader().await? else { return Err(AppError::NotSignedIn) };
            let name = service::stream_name(&name).map_err(refused)?;
            service::delete_definition(&self.services, who, &StreamKey { product, name }).await.map_err(refused)
        })
    }

    fn revoke_app_key(&self, key: Address) -> Answer<'_, ()> {
        Box::pin(async move {
            let Some(who) = self.reader().await? else { return Err(AppError::NotSignedIn) };
            service::revoke(&self.services, who, key).await.map_err(refused)
        })
    }

    fn overview(&self, product: B256, min_block: u64) -> Answer<'_, Vec<StreamOverview>> {
        Box::pin(async move {
            super::wait_for_block(&self.services, min_block).await;
            let reader = self.reader().await?;
            let overviews = service::overview(&self.services, product, reader, LATEST).await.map_err(refused)?;
            Ok(overviews
                .into_iter()
                .map(|overview| StreamOverview {
                    definition: overview.definition,
                    access: match overview.access {
                        service::Access::Full => Access::Full,
                        service::Access::PreviewFrom(_) => Access::Preview,
                    },
                    count: overview.count,
                    latest: overview
                        .messages
                        .into_iter()
                        .map(|stored| Delivered { offset: stored.offset, message: stored.message })
                        .collect(),
                })
                .collect())
        })
    }
}
