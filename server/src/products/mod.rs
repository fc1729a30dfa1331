//! Products for the web app: the marketplace port the pages read through, and the editor's side:
//! drafts per owner, covers, and the metadata the marketplace shows beyond the chain.

mod checkout;
pub mod covers;
pub mod drafts;
mod in_process;
mod market;
pub mod metadata;
mod unions;

pub use checkout::{ChainCheckout, provide_checkout};
pub use drafts::{StoreEditor, provide_editor};
pub use market::{ApiMarket, provide_market};
pub use unions::{ApiUnions, provide_unions};
