//! Components shared by several pages.

pub mod layout;
pub mod wallet;
pub mod product_card;
