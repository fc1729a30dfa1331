//! Product drafts per signed-in owner: `GET/POST /api/v1/drafts`, `GET/PUT/DELETE /api/v1/drafts/{id}`,
//! and the web app's editor port over the same code. A draft is checked with the editor's own checks
//! ([`Draft::check`] at [`Stage::Draft`]): empty fields are fine, wrong ones are refused naming the
//! field, and nothing is stored. A draft with a product id also sets that product's metadata.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use alloy::primitives::{Address, B256};
use app::error::{AppError, Service};
use app::products::ssr::{Answer, Editor, RequestEditor};
use app::products::{Draft, DraftField, FieldError, ProductMetadata, Stage};
use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use coop::stream::StreamDefinition;
use serde::Serialize;
use utoipa::ToSchema;

use crate::api::openapi::params::DraftPath;
use crate::api::openapi::{BadRequest, Conflict, NotFound, Unauthorized};
use crate::api::params;
use crate::auth::SignedIn;
use crate::http::ErrorCode;
use crate::http::{ApiError, RouteTable, Services};
use crate::live::ReadModels;
use crate::store::{Store, StoreError};

pub(crate) fn routes(table: RouteTable) -> RouteTable {
    table
        .get("/api/v1/drafts", list)
        .post("/api/v1/drafts", create)
        .get("/api/v1/drafts/{id}", one)
        .on(axum::http::Method::PUT, "/api/v1/drafts/{id}", replace)
        .delete("/api/v1/drafts/{id}", remove)
}

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

/// Drafts one seller may keep.
pub const MAX_DRAFTS_PER_SELLER: i64 = 100;
/// Products one seller may describe (metadata is stored for any product id a draft names, listed
/// or not, so it is bounded too).
pub const MAX_DESCRIBED_PER_SELLER: i64 = 500;

/// Why a save failed, before it becomes an API error or an editor error.
#[derive(Debug)]
pub enum SaveError {
    Invalid(Vec<FieldError>),
    NotFound,
    /// The seller keeps as many drafts, or describes as many products, as one may.
    Quota(String),
    Store(StoreError),
}

impl From<StoreError> for SaveError {
    fn from(error: StoreError) -> Self {
        SaveError::Store(error)
    }
}

/// Checks and stores `draft` for `owner` (a new one when its id is empty), and the product's
/// metadata when it has a product id. A draft with a product id and streams hands its streams to
/// the product (see [`Draft::streams`]). Answers the draft as stored.
pub async fn save(store: &Store, models: &ReadModels, owner: Address, mut draft: Draft) -> Result<Draft, SaveError> {
    if let Err(errors) = draft.check(Stage::Draft) {
        return Err(SaveError::Invalid(errors));
    }
    let now = now();
    draft.updated_at = now;
    let product = draft.product_id.parse::<B256>().ok();
    if let Some(product) = product {
        let (described, this) = store.metadata_count(owner, product).await?;
        if !this && described >= MAX_DESCRIBED_PER_SELLER {
            return Err(SaveError::Quota(format!(
                "you describe {described} products, the most one seller may; remove a draft's product id first"
            )));
        }
    }
    // Every refusal before anything is stored.
    let new = draft.id.is_empty();
    if new {
        let kept = store.draft_count(owner).await?;
        if kept >= MAX_DRAFTS_PER_SELLER {
            return Err(SaveError::Quota(format!("you keep {kept} drafts, the most one seller may; delete one first")));
        }
    }
    let streams = match product {
        Some(product) if !draft.streams.is_empty() => streams_for(models, owner, product, &draft).await?,
        _ => Vec::new(),
    };
    if !new && !streams.is_empty() && store.find_draft(owner, &draft.id).await?.is_none() {
        return Err(SaveError::NotFound);
    }
    // Stored before the draft lets go of them: a save that fails after this leaves them in the
    // draft, and the next save hands them over again, the same.
    for stream in &streams {
        store.save_stream_definition(stream, now).await?;
    }
    if !streams.is_empty() {
        draft.streams.clear();
    }
    if new {
        draft.id = format!("{:x}", B256::random())[..16].to_owned();
        store.insert_draft(owner, &draft, now).await?;
    } else if !store.update_draft(owner, &draft, now).await? {
        return Err(SaveError::NotFound);
    }
    if let Some(product) = product {
        store.save_metadata(product, owner, &ProductMetadata::of_draft(&draft), now).await?;
    }
    tracing::info!(target: "products", %owner, id = draft.id, "draft saved");
    Ok(draft)
}

/// The streams `draft` hands to `product`, if `owner` holds it: the chain shows `owner` as its
/// owner, or it is not listed yet and is the id the marketplace gives `owner` for the draft's name
/// (the product a seller is publishing; the id is derived from the seller, so nobody else can
/// list it).
async fn streams_for(
    models: &ReadModels,
    owner: Address,
    product: B256,
    draft: &Draft,
) -> Result<Vec<StreamDefinition>, SaveError> {
    let listed_owner = models.read().await.catalog.product(&product).map(|listed| listed.owner);
    let holds = match listed_owner {
        Some(listed) => listed == owner,
        None => app::products::product_id(owner, draft.name.trim()) == product,
    };
    if !holds {
        return Err(SaveError::Invalid(vec![FieldError {
            field: DraftField::ProductId,
            message: "streams go only to a product of yours; this product id is another seller's".to_owned(),
        }]));
    }
    // Checked with the draft already.
    draft
        .streams
        .iter()
        .map(|stream| {
            stream.definition(product).map_err(|(field, message)| {
                SaveError::Invalid(vec![FieldError {
                    field: DraftField::Streams,
                    message: format!("{field}: {message}"),
                }])
            })
        })
        .collect()
}

impl From<SaveError> for ApiError {
    fn from(error: SaveError) -> Self {
        match error {
            SaveError::Invalid(errors) => {
                let first = &errors[0];
                ApiError::BadRequest {
                    code: ErrorCode::InvalidDraft,
                    message: errors
                        .iter()
                        .map(|e| format!("`{}`: {}", e.field, e.message))
                        .collect::<Vec<_>>()
                        .join("; "),
                    field: Some(first.field.as_str()),
                }
            }
            SaveError::NotFound => ApiError::NotFound("you have no draft with this id".to_owned()),
            SaveError::Quota(message) => ApiError::Conflict { code: ErrorCode::QuotaExceeded, message },
            SaveError::Store(error) => error.into(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct DraftList {
    drafts: Vec<Draft>,
}

/// The signed-in seller's product drafts
///
/// Signed in only (Sign-in with Ethereum session cookie); a draft is its owner's alone. Last saved
/// first.
#[utoipa::path(
    get,
    path = "/api/v1/drafts",
    operation_id = "listDrafts",
    security(("session" = [])),
    responses(
        (status = 200, description = "The drafts", body = DraftList),
        (status = 401, response = Unauthorized),
    )
)]
async fn list(State(services): State<Arc<Services>>, who: SignedIn) -> Result<Json<DraftList>, ApiError> {
    Ok(Json(DraftList { drafts: services.store.drafts(who.0).await? }))
}

/// Save a new draft
///
/// Signed in only (Sign-in with Ethereum session cookie); a draft is its owner's alone. Empty
/// fields are fine; wrong ones are refused naming the field, and nothing is stored. Any `id` in the
/// body is ignored.
#[utoipa::path(
    post,
    path = "/api/v1/drafts",
    operation_id = "createDraft",
    request_body = Draft,
    security(("session" = [])),
    responses(
        (
            status = 201,
            description = "The draft as stored, with its id",
            body = Draft,
            links(
                ("draft" = (operation_id = "getDraft", parameters(("id" = "$response.body#/id")))),
                ("replace" = (operation_id = "replaceDraft", parameters(("id" = "$response.body#/id")))),
                ("delete" = (operation_id = "deleteDraft", parameters(("id" = "$response.body#/id")))),
            )
        ),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 409, response = Conflict),
    )
)]
async fn create(
    State(services): State<Arc<Services>>,
    who: SignedIn,
    json: Result<Json<serde_json::Value>, JsonRejection>,
) -> Result<Response, ApiError> {
    let draft = Draft { id: String::new(), ..params::body(json)? };
    let saved = save(&services.store, &services.models, who.0, draft).await?;
    Ok((StatusCode::CREATED, Json(saved)).into_response())
}

/// One of the signed-in seller's drafts
///
/// Signed in only (Sign-in with Ethereum session cookie); a draft is its owner's alone. Another
/// seller's draft is a 404.
#[utoipa::path(
    get,
    path = "/api/v1/drafts/{id}",
    operation_id = "getDraft",
    params(DraftPath),
    security(("session" = [])),
    responses(
        (status = 200, description = "The draft", body = Draft),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
    )
)]
async fn one(
    State(services): State<Arc<Services>>,
    who: SignedIn,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<Draft>, ApiError> {
    let id = params::path(id)?;
    let found = services.store.find_draft(who.0, &id).await?;
    found.map(Json).ok_or(SaveError::NotFound.into())
}

/// Replace a draft
///
/// Signed in only (Sign-in with Ethereum session cookie); a draft is its owner's alone. With a
/// `productId`, also sets that product's description, category and cover (shown while the signed-in
/// address owns the product on chain).
#[utoipa::path(
    put,
    path = "/api/v1/drafts/{id}",
    operation_id = "replaceDraft",
    params(DraftPath),
    request_body = Draft,
    security(("session" = [])),
    responses(
        (status = 200, description = "The draft as stored", body = Draft),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
    )
)]
async fn replace(
    State(services): State<Arc<Services>>,
    who: SignedIn,
    id: Result<Path<String>, PathRejection>,
    json: Result<Json<serde_json::Value>, JsonRejection>,
) -> Result<Json<Draft>, ApiError> {
    let id = params::path(id)?;
    let draft = Draft { id, ..params::body(json)? };
    Ok(Json(save(&services.store, &services.models, who.0, draft).await?))
}

/// Delete a draft
///
/// Signed in only (Sign-in with Ethereum session cookie); a draft is its owner's alone.
#[utoipa::path(
    delete,
    path = "/api/v1/drafts/{id}",
    operation_id = "deleteDraft",
    params(DraftPath),
    security(("session" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
    )
)]
async fn remove(
    State(services): State<Arc<Services>>,
    who: SignedIn,
    id: Result<Path<String>, PathRejection>,
) -> Result<StatusCode, ApiError> {
    let id = params::path(id)?;
    if !services.store.delete_draft(who.0, &id).await? {
        return Err(SaveError::NotFound.into());
    }
    Ok(StatusCode::NO_CONTENT)
}

/// The web app's editor port, over the same store and checks as the REST API.
#[derive(Clone)]
pub struct StoreEditor {
    store: Store,
    models: ReadModels,
}

impl StoreEditor {
    pub fn new(store: Store, models: ReadModels) -> Self {
        Self { store, models }
    }
}

/// The REST API's refusal in the editor's terms: fields to mark, or the API's words.
fn editor_error(error: SaveError) -> AppError {
    match error {
        SaveError::Invalid(errors) => AppError::Invalid(errors),
        // The editor shows it where it shows a field's problem.
        SaveError::Quota(message) => AppError::Invalid(vec![FieldError { field: DraftField::Name, message }]),
        other => crate::ports::refused(Service::Drafts, other.into()),
    }
}

fn unavailable(error: StoreError) -> AppError {
    editor_error(SaveError::Store(error))
}

impl Editor for StoreEditor {
    fn drafts(&self, owner: Address) -> Answer<'_, Vec<Draft>> {
        Box::pin(async move { self.store.drafts(owner).await.map_err(unavailable) })
    }

    fn draft(&self, owner: Address, id: String) -> Answer<'_, Draft> {
        Box::pin(async move {
            self.store
                .find_draft(owner, &id)
                .await
                .map_err(unavailable)?
                .ok_or_else(|| editor_error(SaveError::NotFound))
        })
    }

    fn save(&self, owner: Address, draft: Draft) -> Answer<'_, Draft> {
        Box::pin(async move { save(&self.store, &self.models, owner, draft).await.map_err(editor_error) })
    }

    fn delete(&self, owner: Address, id: String) -> Answer<'_, ()> {
        Box::pin(async move {
            match self.store.delete_draft(owner, &id).await {
                Ok(true) => Ok(()),
                Ok(false) => Err(editor_error(SaveError::NotFound)),
                Err(error) => Err(unavailable(error)),
            }
        })
    }
}

/// Middleware: hands each request the editor port, for the editor's server functions.
pub async fn provide_editor(State(editor): State<StoreEditor>, mut request: Request, next: Next) -> Response {
    request.extensions_mut().insert(RequestEditor(Arc::new(editor)));
    next.run(request).await
}
