//! The web app's marketplace port, answered by the REST API itself, in process: the pages show exactly
//! what `/api/v1/products` and `/api/v1/unions/{address}` answer, with no second query path to keep in step.

use std::sync::Arc;

use alloy::primitives::{Address, B256};
use app::market::ssr::{Answer, Market, RequestMarket};
use app::market::{MarketError, PAGE_SIZE, ProductCard, ProductDetail, ProductPage, ProductQuery, UnionFigures};
use axum::Router;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::Response;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::in_process;
use crate::http::{self, Services};

/// The REST API's router, asked in process.
#[derive(Clone)]
pub struct ApiMarket {
    api: Router,
    /// For the metadata the sellers saved (description, category, cover).
    store: crate::store::Store,
}

impl ApiMarket {
    pub fn new(services: Arc<Services>) -> Self {
        Self { store: services.store.clone(), api: http::routes(services) }
    }

    /// `Ok(None)` on a 404; the API's message on a 400.
    async fn get<T: DeserializeOwned>(&self, uri: String) -> Result<Option<T>, MarketError> {
        let reply = in_process::get(&self.api, &uri).await.map_err(unavailable)?;
        match reply.status {
            StatusCode::OK => reply.json(&uri).map(Some).map_err(unavailable),
            StatusCode::NOT_FOUND => Ok(None),
            status if status.is_client_error() => Err(MarketError::BadRequest(
                reply.message().unwrap_or_else(|| "the search could not be read".to_owned()),
            )),
            status => Err(unavailable(anyhow::anyhow!("{uri} answered {status}"))),
        }
    }

    /// A page of the products filed under `query.category`: every listed product matching the
    /// search, in the asked order, kept when its owner filed it there.
    async fn in_category(&self, query: &ProductQuery) -> Result<ProductList, MarketError> {
        let filed =
            super::metadata::in_category(&self.store, &query.category).await.map_err(|e| unavailable(e.into()))?;
        let mut matching = Vec::new();
        let mut offset = 0;
        loop {
            let uri = format!(
                "/api/v1/products?state=deployed&sort={}&offset={offset}&limit=1000&q={}",
                encode(&query.sort),
                encode(&query.q),
            );
            let list: ProductList = self.get(uri).await?.ok_or(MarketError::Unavailable)?;
            let seen = list.products.len();
            matching.extend(list.products.into_iter().filter(|card| filed.contains(&(card.id, card.owner))));
            offset += seen;
            if seen == 0 || offset >= list.total {
                break;
            }
        }
        let total = matching.len();
        Ok(ProductList { total, products: matching.into_iter().skip(query.offset).take(PAGE_SIZE).collect() })
    }

    async fn union(&self, address: Address) -> Result<Option<UnionFigures>, MarketError> {
        self.get(format!("/api/v1/unions/{address}")).await
    }
}

#[derive(Deserialize)]
struct ProductList {
    total: usize,
    products: Vec<ProductCard>,
}

fn unavailable(error: anyhow::Error) -> MarketError {
    tracing::error!(target: "products::market", error = format!("{error:#}"), "the marketplace could not answer");
    MarketError::Unavailable
}

fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => char::from(b).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}

impl Market for ApiMarket {
    fn products(&self, query: ProductQuery) -> Answer<'_, ProductPage> {
        Box::pin(async move {
            let uri = format!(
                "/api/v1/products?state=deployed&sort={}&offset={}&limit={PAGE_SIZE}&q={}",
                encode(&query.sort),
                query.offset,
                encode(&query.q),
            );
            let list: ProductList = if query.category.is_empty() {
                self.get(uri).await?.ok_or(MarketError::Unavailable)?
            } else {
                self.in_category(&query).await?
            };
            let mut products = list.products;
            super::metadata::describe(&self.store, &mut products).await.map_err(|e| unavailable(e.into()))?;
            for card in products.iter_mut().filter(|card| card.data_union) {
                card.members = self.union(card.beneficiary).await?.map(|union| union.active_members);
            }
            Ok(ProductPage { total: list.total, offset: query.offset, products })
        })
    }

    fn product(&self, id: B256) -> Answer<'_, Option<ProductDetail>> {
        Box::pin(async move {
            let Some(mut product) = self.get::<ProductCard>(format!("/api/v1/products/{id}")).await? else {
                return Ok(None);
            };
            let union = if product.data_union { self.union(product.beneficiary).await? } else { None };
            product.members = union.as_ref().map(|union| union.active_members);
            super::metadata::describe(&self.store, std::slice::from_mut(&mut product))
                .await
                .map_err(|e| unavailable(e.into()))?;
            Ok(Some(ProductDetail { product, union }))
        })
    }
}

/// Middleware: hands each request the marketplace port, for the pages' server functions.
pub async fn provide_market(
    axum::extract::State(market): axum::extract::State<ApiMarket>,
    mut request: Request,
    next: Next,
) -> Response {
    request.extensions_mut().insert(RequestMarket(Arc::new(market)));
    next.run(request).await
}
