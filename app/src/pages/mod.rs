//! One module per page.

pub mod earnings;
pub mod editor;
pub mod home;
pub mod join;
pub mod marketplace;
pub mod not_found;
pub mod product;
pub mod purchases;
pub mod union;
