//! The editor's side of products: drafts per owner, covers, and the metadata the marketplace shows
//! beyond the chain.

pub mod covers;
pub mod drafts;
pub mod metadata;

pub use drafts::{StoreEditor, provide_editor};
