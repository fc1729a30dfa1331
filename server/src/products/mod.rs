//! Products for the web app: the marketplace port the pages read through, and the editor's side:
//! drafts per owner, covers, and the metadata the marketplace shows beyond the chain.

pub mod covers;
pub mod drafts;
mod checkout;
mod market;
pub mod metadata;
mod store;

pub use covers::Covers;
pub use drafts::{StoreEditor, provide_editor};
pub use checkout::{ChainCheckout, provide_checkout};
pub use market::{ApiMarket, provide_market};
