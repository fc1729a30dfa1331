//! `/api/v1/products` and `/api/v1/subscriptions`: the Marketplace as indexed.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use serde::Serialize;
use utoipa::ToSchema;

use super::Answer;
use super::openapi::params::{Paging, ProductPath, ProductsQuery, SubscriptionsQuery};
use super::openapi::{BadRequest, NotFound};
use super::params::{self, Page, Params};
use crate::http::{ApiError, Services};
use crate::service::market::{self as service, Listed, Product, ProductFilter, Subscriptions};

#[derive(Serialize, ToSchema)]
#[schema(as = ProductList)]
pub struct List {
    #[serde(flatten)]
    page: Page,
    /// Items matching the filters, on all pages.
    total: usize,
    products: Vec<Product>,
}

/// List Marketplace products
///
/// Products matching `q` (in the name or the description, without case), `kind`, `owner`, `beneficiary`
/// and `state`, sorted newest
/// first or by price per second (cheapest first, newest first among equals).
#[utoipa::path(
    get,
    path = "/api/v1/products",
    operation_id = "listProducts",
    params(Paging, ProductsQuery),
    responses(
        (
            status = 200,
            description = "A page of products",
            body = inline(Answer<List>),
            links(
                ("product" = (operation_id = "getProduct", parameters(("id" = "$response.body#/products/0/id")))),
                ("metadata" = (
                    operation_id = "getProductMetadata",
                    parameters(("id" = "$response.body#/products/0/id"))
                )),
            )
        ),
        (status = 400, response = BadRequest),
    )
)]
pub async fn list(
    State(services): State<Arc<Services>>,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<Answer<List>, ApiError> {
    let params = Params::from_query(query)?;
    let page = params.page()?;
    let search = params.search("q", 200)?;
    let filter = ProductFilter {
        described: service::described(&services.store, search.as_deref()).await?,
        search,
        kind: params.named("kind")?,
        sort: params.named("sort")?,
        listed: Listed::parse(params.choice("state", &Listed::NAMES)?).unwrap_or_default(),
        owner: params.address("owner")?,
        beneficiary: params.address("beneficiary")?,
    };
    let models = services.models.read().await;
    let (total, products) = service::list(&models, &filter, page);
    Ok(Answer::new(models.as_of(), List { page, total, products }))
}

/// One product
#[utoipa::path(
    get,
    path = "/api/v1/products/{id}",
    operation_id = "getProduct",
    params(ProductPath),
    responses(
        (status = 200, description = "The product", body = inline(Answer<Product>)),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
    )
)]
pub async fn one(
    State(services): State<Arc<Services>>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Answer<Product>, ApiError> {
    let id = params::product_id(&params::path(id)?, "id")?;
    let models = services.models.read().await;
    let found = service::find(&models.catalog, &id)?;
    Ok(Answer::new(models.as_of(), service::product(found, &models.unions)))
}

/// A subscriber's subscriptions
///
/// One per product with its current end.
#[utoipa::path(
    get,
    path = "/api/v1/subscriptions",
    operation_id = "listSubscriptions",
    params(SubscriptionsQuery),
    responses(
        (status = 200, description = "The subscriptions", body = inline(Answer<Subscriptions>)),
        (status = 400, response = BadRequest),
    )
)]
pub async fn subscriptions(
    State(services): State<Arc<Services>>,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<Answer<Subscriptions>, ApiError> {
    let params = Params::from_query(query)?;
    let subscriber = params::address(params.required("subscriber")?, "subscriber")?;
    let (as_of, subscriptions) = service::subscriptions(&services, subscriber).await?;
    Ok(Answer::new(as_of, subscriptions))
}
