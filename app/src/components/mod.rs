//! Components shared by several pages.

pub mod chart;
pub mod days;
pub mod error_notice;
pub mod layout;
pub mod product_card;
pub mod sent;
pub mod wallet;
