//! What the marketplace shows of a product beyond the chain (description, category, cover), read
//! with the chain's owner: a seller's words count only for the products the seller owns now.
//! `GET /api/v1/products/{id}/metadata` answers it; the marketplace port adds it to the cards.

use std::collections::HashSet;
use std::sync::Arc;

use alloy::primitives::{Address, B256};
use app::market::ProductCard;
use app::products::{Category, ProductMetadata};
use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};

use crate::api::openapi::params::ProductPath;
use crate::api::openapi::{BadRequest, NotFound};
use crate::api::params;
use crate::http::{ApiError, RouteTable, Services};
use crate::store::{Store, StoreError};

pub(crate) fn routes(table: RouteTable) -> RouteTable {
    table.get("/api/v1/products/{id}/metadata", one)
}

/// What the product's owner wrote of it beyond the chain
///
/// Description, category and cover, as saved by the address that owns the product on chain now;
/// empty strings when nothing was saved.
#[utoipa::path(
    get,
    path = "/api/v1/products/{id}/metadata",
    operation_id = "getProductMetadata",
    params(ProductPath),
    responses(
        (status = 200, description = "The metadata", body = ProductMetadata),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
    )
)]
async fn one(
    State(services): State<Arc<Services>>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<ProductMetadata>, ApiError> {
    let id = params::product_id(&params::path(id)?, "id")?;
    let owner = {
        let catalog = services.models.catalog().await;
        let product = catalog
            .product(&id)
            .ok_or_else(|| ApiError::NotFound(format!("no product {id} (as of block {})", catalog.as_of())))?;
        product.owner
    };
    let metadata = services
        .store
        .product_metadata(id, owner)
        .await
        .map_err(|error| ApiError::Unexpected(anyhow::Error::new(error).context("product metadata")))?;
    Ok(Json(metadata.unwrap_or_default()))
}

/// Fills in each card's description, category and cover from what its owner saved: one question to the
/// store for the whole page.
pub async fn describe(store: &Store, cards: &mut [ProductCard]) -> Result<(), StoreError> {
    let asked: Vec<(B256, Address)> = cards.iter().map(|card| (card.id, card.owner)).collect();
    let mut said = store.products_metadata(&asked).await?;
    for card in cards {
        if let Some(metadata) = said.remove(&(card.id, card.owner)) {
            card.description = metadata.description;
            card.category = metadata.category;
            card.cover = metadata.cover;
            card.licence = metadata.licence;
            card.terms = metadata.terms;
            card.contact = metadata.contact;
        }
    }
    Ok(())
}

/// The products filed under `category` by their owner, as `(product, owner)` pairs to match cards against.
pub async fn in_category(store: &Store, category: Category) -> Result<HashSet<(B256, Address)>, StoreError> {
    Ok(store.products_in_category(category).await?.into_iter().collect())
}
