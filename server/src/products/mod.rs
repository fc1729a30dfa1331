//! Products for the web app: the marketplace port the pages read through.

mod market;

pub use market::{ApiMarket, provide_market};
