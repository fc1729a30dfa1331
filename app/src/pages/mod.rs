//! One module per page.

pub mod editor;
pub mod earnings;
pub mod home;
pub mod join;
pub mod marketplace;
pub mod not_found;
pub mod product;
pub mod union;
pub mod purchases;
