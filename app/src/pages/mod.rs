//! One module per page.

pub mod editor;
pub mod home;
pub mod marketplace;
pub mod not_found;
pub mod product;
pub mod purchases;
