//! The web app's marketplace port: the cards and product pages show what the services answer the
//! REST API with, plus the metadata sellers saved, all of one block.

use std::collections::HashSet;
use std::sync::Arc;

use alloy::primitives::{Address, B256};
use app::components::chart;
use app::error::{AppError, Service};
use app::market::ssr::{Answer, Market, RequestMarket};
use app::market::{
    PAGE_SIZE, ProductCard, ProductDetail, ProductPage, ProductQuery, RELATED, SalesPoint, SellerListings, UnionFigures,
};
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;

use crate::api::params::Page;
use crate::http::{ApiError, Services};
use crate::live::Models;
use crate::products::metadata;
use crate::service::market::{self as service, Listed, Product, ProductFilter};
use crate::service::unions as union_service;

/// The longest search the marketplace takes, as the API.
const MAX_SEARCH: usize = 200;

/// The services behind the marketplace port; one per server.
#[derive(Clone)]
pub struct ServiceMarket {
    services: Arc<Services>,
}

/// A union's summary as a product's page and a seller's page show it.
fn figures(summary: union_service::Summary) -> UnionFigures {
    UnionFigures {
        address: summary.address,
        active_members: summary.active_members,
        total_members: summary.total_members,
        total_revenue: summary.total_revenue.0,
        admin_fee_percent: summary.admin_fee_percent,
    }
}

impl ServiceMarket {
    pub fn new(services: Arc<Services>) -> Self {
        Self { services }
    }
}

/// Middleware: hands each request the marketplace port, for the pages' server functions.
pub async fn provide_market(State(market): State<ServiceMarket>, mut request: Request, next: Next) -> Response {
    request.extensions_mut().insert(RequestMarket(Arc::new(market)));
    next.run(request).await
}

fn refused(error: ApiError) -> AppError {
    super::refused(Service::Marketplace, error)
}

fn unavailable(error: crate::store::StoreError) -> AppError {
    refused(ApiError::from(error))
}

/// A card for `product`, with its union's active members when it pays into one.
fn card(product: Product, models: &Models) -> ProductCard {
    let members = models.unions.get(&product.beneficiary).map(|union| union.state().active_count());
    ProductCard {
        id: product.id,
        name: product.name,
        owner: product.owner,
        beneficiary: product.beneficiary,
        data_union: product.data_union,
        price_per_second: product.price_per_second.0,
        minimum_subscription_seconds: product.minimum_subscription_seconds.0,
        state: product.state,
        purchases: product.purchases,
        revenue: product.revenue.0,
        subscribers: product.subscribers,
        members: product.data_union.then_some(members).flatten(),
        description: String::new(),
        category: None,
        cover: String::new(),
        licence: None,
        terms: String::new(),
        contact: String::new(),
    }
}

impl ServiceMarket {
    /// The page of listed products `query` asks for: all matching, or those their owners filed under
    /// `query.category`.
    async fn page(&self, query: &ProductQuery) -> Result<(usize, Vec<ProductCard>), AppError> {
        let search = query.q.trim().to_lowercase();
        if search.chars().count() > MAX_SEARCH {
            return Err(AppError::BadRequest(format!("`q` is longer than {MAX_SEARCH} characters")));
        }
        let search = (!search.is_empty()).then_some(search);
        let filter = ProductFilter {
            described: service::described(&self.services.store, search.as_deref()).await.map_err(unavailable)?,
            search,
            kind: query.kind,
            sort: query.sort,
            listed: Listed::Deployed,
            owner: None,
            beneficiary: None,
        };
        let page = Page { offset: query.offset as u64, limit: PAGE_SIZE as u64 };
        // Read before the models' lock is taken: the store is slower than memory.
        let filed = match query.category {
            None => None,
            Some(category) => Some(metadata::in_category(&self.services.store, category).await.map_err(unavailable)?),
        };
        let models = self.services.models.read().await;
        let matching = service::matching(&models, &filter);
        let matching: Vec<_> = match &filed {
            None => matching,
            Some(filed) => matching.into_iter().filter(|p| filed.contains(&(p.id, p.owner))).collect(),
        };
        let total = matching.len();
        let cards = page
            .of(matching.into_iter())
            .into_iter()
            .map(|product| card(service::product(product, &models.unions), &models))
            .collect();
        Ok((total, cards))
    }

    /// Listed products of `product`'s category or seller (see [`ProductDetail::related`]).
    async fn related(&self, product: &ProductCard) -> Result<Vec<ProductCard>, AppError> {
        let filed = match product.category {
            None => HashSet::new(),
            Some(category) => metadata::in_category(&self.services.store, category).await.map_err(unavailable)?,
        };
        let mut related: Vec<ProductCard> = {
            let models = self.services.models.read().await;
            let mut found: Vec<_> = service::matching(&models, &ProductFilter::default())
                .into_iter()
                .filter(|p| p.id != product.id && (p.owner == product.owner || filed.contains(&(p.id, p.owner))))
                .collect();
            // The same kind of data first, then the same seller; stable, so newest first within each.
            found.sort_by_key(|p| std::cmp::Reverse((filed.contains(&(p.id, p.owner)), p.owner == product.owner)));
            found.into_iter().take(RELATED).map(|p| card(service::product(p, &models.unions), &models)).collect()
        };
        metadata::describe(&self.services.store, &mut related).await.map_err(unavailable)?;
        Ok(related)
    }
}

impl Market for ServiceMarket {
    fn products(&self, query: ProductQuery) -> Answer<'_, ProductPage> {
        Box::pin(async move {
            let (total, mut products) = self.page(&query).await?;
            metadata::describe(&self.services.store, &mut products).await.map_err(unavailable)?;
            Ok(ProductPage { total, offset: query.offset, products })
        })
    }

    fn product(&self, id: B256) -> Answer<'_, Option<ProductDetail>> {
        Box::pin(async move {
            let (mut product, union) = {
                let models = self.services.models.read().await;
                let Some(found) = models.catalog.product(&id) else { return Ok(None) };
                let product = card(service::product(found, &models.unions), &models);
                let union = match product.data_union {
                    true => union_service::found(&models.unions, &product.beneficiary).map_err(refused)?,
                    false => None,
                };
                let union = union.map(|union| figures(union_service::summary(union)));
                (product, union)
            };
            metadata::describe(&self.services.store, std::slice::from_mut(&mut product)).await.map_err(unavailable)?;
            let related = self.related(&product).await?;
            Ok(Some(ProductDetail { product, union, related }))
        })
    }

    fn seller(&self, seller: Address) -> Answer<'_, SellerListings> {
        Box::pin(async move {
            let mut listings = union_service::at_chain_time(&self.services, |models, chain_time| {
                let filter = ProductFilter { owner: Some(seller), listed: Listed::All, ..ProductFilter::default() };
                let listed = service::matching(models, &filter);
                let ids: Vec<B256> = listed.iter().map(|product| product.id).collect();
                let products =
                    listed.into_iter().map(|product| card(service::product(product, &models.unions), models)).collect();
                let every = Page { offset: 0, limit: u64::MAX };
                let (_, unions) = union_service::list(&models.unions, Some(seller), every);
                let history = service::sales_history(&models.catalog, &ids);
                let sales = chart::sample(&history, chart::MOST_POINTS, |point| point.block)
                    .into_iter()
                    .map(|p| SalesPoint {
                        at: p.at,
                        purchases: p.purchases,
                        subscribers: p.subscribers,
                        revenue: p.revenue,
                    })
                    .collect();
                let unions = unions.into_iter().map(figures).collect();
                Ok(SellerListings { seller, products, unions, sales, chain_time })
            })
            .await
            .map_err(refused)?;
            metadata::describe(&self.services.store, &mut listings.products).await.map_err(unavailable)?;
            Ok(listings)
        })
    }
}
