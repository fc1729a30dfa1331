//! Parsing of path segments, query parameters and JSON bodies. Every failure is a 400 whose `field`
//! names the parameter (or the body) and whose message says what is wrong with it.

use std::collections::HashMap;
use std::ops::RangeInclusive;
use std::str::FromStr;

use alloy::primitives::{Address, B256, U256};
use app::named::UnknownName;
use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query};
use coop::text::{TextError, parse_address, parse_amount};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::http::ApiError;
use crate::http::ErrorCode;

/// A whole number in a JSON body, written as JSON may write it: `131` or `131.0` (JSON Schema
/// counts both as integers, and some clients write every number with a point). For
/// `#[serde(deserialize_with = "whole")]`.
pub fn whole<'de, D: serde::Deserializer<'de>, T: TryFrom<u64>>(deserializer: D) -> Result<T, D::Error> {
    use serde::Deserialize;
    use serde::de::Error;
    let number = serde_json::Number::deserialize(deserializer)?;
    // 2^64 as a float: every whole float below it fits a u64.
    const LIMIT: f64 = 18_446_744_073_709_551_616.0;
    let whole = number.as_u64().or_else(|| {
        number.as_f64().filter(|float| float.fract() == 0.0 && (0.0..LIMIT).contains(float)).map(|float| float as u64)
    });
    whole
        .and_then(|value| T::try_from(value).ok())
        .ok_or_else(|| D::Error::custom(format!("{number} is not a whole number in range")))
}

/// Page size when none is asked for, and the largest one allowed.
pub const DEFAULT_LIMIT: u64 = 50;
pub const MAX_LIMIT: u64 = 1000;

fn bad(code: ErrorCode, field: &'static str, message: String) -> ApiError {
    ApiError::BadRequest { code, message, field: Some(field) }
}

/// The path's segments, or a 400 when they cannot be read (bad percent-encoding).
pub fn path<T>(path: Result<Path<T>, PathRejection>) -> Result<T, ApiError> {
    path.map(|Path(value)| value).map_err(|rejection| ApiError::BadRequest {
        code: ErrorCode::InvalidPath,
        message: rejection.body_text(),
        field: None,
    })
}

/// A JSON body read as `T`, or a 400 `invalid_body`. Only an object is read: serde would also read a
/// struct from an array of its fields in order, which no client means and the document does not allow.
pub fn body<T: DeserializeOwned>(json: Result<Json<Value>, JsonRejection>) -> Result<T, ApiError> {
    let invalid = |message: String| ApiError::BadRequest { code: ErrorCode::InvalidBody, message, field: Some("body") };
    let Json(value) = json.map_err(|rejection| invalid(rejection.body_text()))?;
    if !value.is_object() {
        return Err(invalid("the body must be a JSON object".to_owned()));
    }
    serde_json::from_value(value)
        .map_err(|error| invalid(format!("Failed to deserialize the JSON body into the target type: {error}")))
}

pub fn address(text: &str, field: &'static str) -> Result<Address, ApiError> {
    parse_address(text).map_err(|error| {
        let code = if matches!(error, TextError::AddressChecksum { .. }) {
            ErrorCode::BadChecksum
        } else {
            ErrorCode::InvalidAddress
        };
        bad(code, field, format!("`{field}`: {error}"))
    })
}

/// A product id: `0x` and 64 hex digits.
pub fn product_id(text: &str, field: &'static str) -> Result<B256, ApiError> {
    let valid =
        text.strip_prefix("0x").is_some_and(|hex| hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()));
    match text.parse() {
        Ok(id) if valid => Ok(id),
        _ => Err(bad(
            ErrorCode::InvalidProductId,
            field,
            format!("`{field}`: {text:?} is not a product id (0x and 64 hex digits)"),
        )),
    }
}

/// A whole number in plain digits that fits 64 bits.
pub fn integer(text: &str, field: &'static str) -> Result<u64, ApiError> {
    let amount =
        parse_amount(text).map_err(|error| bad(ErrorCode::InvalidInteger, field, format!("`{field}`: {error}")))?;
    u64::try_from(amount).map_err(|_| bad(ErrorCode::OutOfRange, field, format!("`{field}`: {text} is too large")))
}

/// A positive amount (of wei, of seconds) in plain digits.
pub fn positive_amount(text: &str, field: &'static str) -> Result<U256, ApiError> {
    let amount =
        parse_amount(text).map_err(|error| bad(ErrorCode::InvalidAmount, field, format!("`{field}`: {error}")))?;
    if amount.is_zero() {
        return Err(bad(ErrorCode::OutOfRange, field, format!("`{field}` must be at least 1")));
    }
    Ok(amount)
}

/// The query string's parameters.
pub struct Params(HashMap<String, String>);

/// Which slice of a list to answer with.
#[derive(Debug, Clone, Copy, serde::Serialize, utoipa::ToSchema)]
pub struct Page {
    pub offset: u64,
    #[schema(minimum = 1, maximum = 1000)]
    pub limit: u64,
}

impl Page {
    /// The items of this page out of `items`.
    pub fn of<T>(&self, items: impl Iterator<Item = T>) -> Vec<T> {
        let offset = usize::try_from(self.offset).unwrap_or(usize::MAX);
        items.skip(offset).take(self.limit as usize).collect()
    }
}

impl Params {
    pub fn from_query(query: Result<Query<HashMap<String, String>>, QueryRejection>) -> Result<Self, ApiError> {
        query.map(|Query(map)| Params(map)).map_err(|rejection| ApiError::BadRequest {
            code: ErrorCode::InvalidQuery,
            message: rejection.body_text(),
            field: None,
        })
    }

    /// The text of `name` as sent, if it was sent (`name=` is sent, and empty).
    pub fn text(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    pub fn required(&self, name: &'static str) -> Result<&str, ApiError> {
        self.text(name).ok_or_else(|| bad(ErrorCode::MissingParameter, name, format!("`{name}` is required")))
    }

    /// An address, when sent; `owner=` is no address, and refused like any other.
    pub fn address(&self, name: &'static str) -> Result<Option<Address>, ApiError> {
        self.text(name).map(|text| address(text, name)).transpose()
    }

    /// One of `choices` (compared without case); the first when absent.
    pub fn choice(&self, name: &'static str, choices: &[&'static str]) -> Result<&'static str, ApiError> {
        let Some(text) = self.text(name) else { return Ok(choices[0]) };
        choices.iter().find(|choice| choice.eq_ignore_ascii_case(text)).copied().ok_or_else(|| {
            bad(
                ErrorCode::InvalidChoice,
                name,
                format!("`{name}` is {text:?}, but must be one of {}", choices.join(", ")),
            )
        })
    }

    /// One of an enum's names (`app::named`), in any case; its default when absent.
    pub fn named<T: FromStr<Err = UnknownName> + Default>(&self, name: &'static str) -> Result<T, ApiError> {
        let Some(text) = self.text(name) else { return Ok(T::default()) };
        text.to_ascii_lowercase().parse().map_err(|UnknownName { expected }| {
            bad(ErrorCode::InvalidChoice, name, format!("`{name}` is {text:?}, but must be one of {expected}"))
        })
    }

    /// A whole number within `range`; `default` when absent.
    pub fn integer(&self, name: &'static str, default: u64, range: RangeInclusive<u64>) -> Result<u64, ApiError> {
        let Some(text) = self.text(name) else { return Ok(default) };
        let value = integer(text, name)?;
        if !range.contains(&value) {
            let (low, high) = (range.start(), range.end());
            return Err(bad(
                ErrorCode::OutOfRange,
                name,
                format!("`{name}` is {value}, but must be from {low} to {high}"),
            ));
        }
        Ok(value)
    }

    /// `offset` (from 0) and `limit` (1 to [`MAX_LIMIT`], default [`DEFAULT_LIMIT`]).
    pub fn page(&self) -> Result<Page, ApiError> {
        Ok(Page {
            offset: self.integer("offset", 0, 0..=u64::MAX)?,
            limit: self.integer("limit", DEFAULT_LIMIT, 1..=MAX_LIMIT)?,
        })
    }

    /// Free text to search for, at most `max` characters; empty: no search.
    pub fn search(&self, name: &'static str, max: usize) -> Result<Option<String>, ApiError> {
        let Some(text) = self.text(name).filter(|text| !text.is_empty()) else { return Ok(None) };
        if text.chars().count() > max {
            return Err(bad(ErrorCode::TooLong, name, format!("`{name}` is longer than {max} characters")));
        }
        Ok(Some(text.to_lowercase()))
    }
}

#[cfg(test)]
mod tests {
    #[derive(Debug, serde::Deserialize)]
    struct Body {
        #[serde(deserialize_with = "super::whole")]
        n: u32,
    }

    fn read(json: &str) -> Result<u32, String> {
        serde_json::from_str::<Body>(json).map(|body| body.n).map_err(|error| error.to_string())
    }

    #[test]
    fn a_whole_number_may_be_written_with_a_point_and_nothing_else_passes() {
        assert_eq!(read(r#"{"n": 131}"#), Ok(131));
        assert_eq!(read(r#"{"n": 131.0}"#), Ok(131));
        assert_eq!(read(r#"{"n": 1e2}"#), Ok(100));
        for bad in [r#"{"n": 1.5}"#, r#"{"n": -1}"#, r#"{"n": 4294967296}"#, r#"{"n": "7"}"#, r#"{"n": 1e30}"#] {
            assert!(read(bad).is_err(), "{bad}");
        }
    }
}
