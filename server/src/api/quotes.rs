//! `/api/v1/quotes`: what a subscription costs in DATA, ETH or DAI (`crate::service::quotes`).

use std::collections::HashMap;
use std::sync::Arc;

use app::checkout::quote::Currency;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};

use super::Answer;
use super::openapi::params::QuoteQuery;
use super::openapi::{BadRequest, Conflict, NotFound};
use super::params::{self, Params};
use crate::http::{ApiError, Services};
use crate::service::quotes::{self as service, Quote};

/// What `currency` may be; the first when it is left out.
pub(crate) const CURRENCIES: [&str; 3] = ["DATA", "ETH", "DAI"];

/// Quote a subscription
///
/// The DATA price, and what it costs in ETH or DAI through Uniswap V2 at the block the answer is as of.
#[utoipa::path(
    get,
    path = "/api/v1/quotes",
    operation_id = "getQuote",
    params(QuoteQuery),
    responses(
        (status = 200, description = "The quote", body = inline(Answer<Quote>)),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
    )
)]
pub async fn quote(
    State(services): State<Arc<Services>>,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<Answer<Quote>, ApiError> {
    let params = Params::from_query(query)?;
    let id = params::product_id(params.required("product")?, "product")?;
    let seconds = params::positive_amount(params.required("seconds")?, "seconds")?;
    let currency = Currency::from_symbol(params.choice("currency", &CURRENCIES)?).unwrap_or(Currency::Data);
    let quote = service::quote(&services, id, seconds, currency).await?;
    Ok(Answer::new(quote.block, quote))
}
