//! The path segments and query parameters of the operations, as the document lists them. The handlers
//! read them by name (`api::params`), so that a refusal names the parameter; these types only
//! describe them and are never built.
#![allow(dead_code)]

use utoipa::IntoParams;

use app::checkout::quote::Currency;

use super::schemas::{Address, Hash};
use crate::service::market::{Listed, ProductKind, Sort};
use crate::service::unions::MemberStatus;
use crate::store::JoinState;

/// `offset` and `limit` of a list (`Params::page`).
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Paging {
    /// Items to skip.
    #[param(minimum = 0, maximum = 18_446_744_073_709_551_615_u64, default = 0)]
    offset: Option<u64>,
    /// Items per page.
    #[param(minimum = 1, maximum = 1000, default = 50)]
    limit: Option<u64>,
}

/// A Data Union named in the path.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub struct UnionPath {
    /// The Data Union's address.
    address: Address,
}

/// A member of a Data Union named in the path.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub struct MemberPath {
    /// The Data Union's address.
    address: Address,
    /// The member's address.
    member: Address,
}

/// A block of a Data Union named in the path.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub struct BookPath {
    /// The Data Union's address.
    address: Address,
    /// A block number (64 bits; a larger one is a 400 `out_of_range`).
    #[param(minimum = 0, maximum = 18_446_744_073_709_551_615_u64)]
    block: u64,
}

/// A product named in the path.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ProductPath {
    /// The product id.
    id: Hash,
}

/// A shared secret of a Data Union named in the path.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub struct SecretPath {
    /// The Data Union's address.
    address: Address,
    /// The secret's id.
    id: String,
}

/// A draft named in the path.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub struct DraftPath {
    /// The draft's id.
    id: String,
}

/// A cover named in the path.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub struct CoverPath {
    /// The cover's name, as its upload answered it.
    name: String,
}

/// `GET /api/v1/unions`
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UnionsQuery {
    /// Only unions owned by this address.
    owner: Option<Address>,
}

/// `GET /api/v1/unions/{address}/members`
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MembersQuery {
    /// Which members.
    #[param(inline, default = "all")]
    status: Option<MemberStatus>,
    /// Hex digits of the address: a prefix when written with 0x, anywhere otherwise.
    #[param(max_length = 42, pattern = "^(0[xX])?[0-9a-fA-F]*$")]
    search: Option<String>,
}

/// `GET /api/v1/products`
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProductsQuery {
    /// Text in the name or the seller's description (case-insensitive).
    #[param(max_length = 200)]
    q: Option<String>,
    /// Data Union products only (`union`), single sellers' only (`single`), or all.
    #[param(inline, default = "all")]
    kind: Option<ProductKind>,
    /// Order: newest first, or cheapest first.
    #[param(inline, default = "newest")]
    sort: Option<Sort>,
    /// Listed (deployed), deleted, or all.
    #[param(inline, default = "deployed")]
    state: Option<Listed>,
    /// Only products of this owner.
    owner: Option<Address>,
    /// Only products paying this address (a Data Union).
    beneficiary: Option<Address>,
}

/// `GET /api/v1/subscriptions`
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SubscriptionsQuery {
    /// The subscriber.
    subscriber: Address,
}

/// `GET /api/v1/quotes`
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QuoteQuery {
    /// The product id.
    product: Hash,
    /// Seconds of subscription (a positive integer).
    #[param(pattern = "^0*[1-9][0-9]*$")]
    seconds: String,
    /// What to pay with (case-insensitive).
    #[param(inline, default = "DATA")]
    currency: Option<Currency>,
}

/// `GET /api/v1/unions/{address}/join-requests`
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct JoinRequestsQuery {
    /// Only requests in this state.
    #[param(inline)]
    status: Option<JoinState>,
}

#[cfg(test)]
mod tests {
    use utoipa::openapi::path::Parameter;

    use super::*;
    use crate::api::params::{DEFAULT_LIMIT, MAX_LIMIT};

    fn schema(parameters: Vec<Parameter>, name: &str) -> serde_json::Value {
        let parameter = parameters.into_iter().find(|p| p.name == name).unwrap();
        let schema = serde_json::to_value(parameter.schema).unwrap();
        // An inline enum with a default comes as the one item of a `oneOf` beside the default.
        match schema["oneOf"][0].as_object() {
            Some(item) => {
                let mut item = item.clone();
                item.extend(schema.as_object().unwrap().clone().into_iter().filter(|(key, _)| key != "oneOf"));
                item.into()
            }
            None => schema,
        }
    }

    #[test]
    fn the_page_limits_are_the_ones_the_handlers_apply() {
        let limit = schema(Paging::into_params(|| None), "limit");
        assert_eq!(limit["maximum"], MAX_LIMIT);
        assert_eq!(limit["default"], DEFAULT_LIMIT);
    }

    #[test]
    fn the_choices_listed_are_the_ones_the_handlers_take_and_the_first_is_the_default() {
        let state = schema(ProductsQuery::into_params(|| None), "state");
        assert_eq!(state["enum"], serde_json::json!(Listed::NAMES));
        assert_eq!(state["default"], Listed::NAMES[0]);
        let currency = schema(QuoteQuery::into_params(|| None), "currency");
        assert_eq!(currency["enum"], serde_json::json!(crate::api::quotes::CURRENCIES));
        assert_eq!(currency["default"], crate::api::quotes::CURRENCIES[0]);
        let status = schema(JoinRequestsQuery::into_params(|| None), "status");
        assert_eq!(status["enum"], serde_json::json!(JoinState::NAMES));
        let sort = schema(ProductsQuery::into_params(|| None), "sort");
        let names: Vec<&str> = Sort::ALL.iter().map(|sort| sort.as_str()).collect();
        assert_eq!(sort["enum"], serde_json::json!(names));
        assert_eq!(sort["default"], Sort::default().as_str());
        let status = schema(MembersQuery::into_params(|| None), "status");
        let names: Vec<&str> = MemberStatus::ALL.iter().map(|status| status.as_str()).collect();
        assert_eq!(status["enum"], serde_json::json!(names));
        assert_eq!(status["default"], MemberStatus::default().as_str());
    }
}
