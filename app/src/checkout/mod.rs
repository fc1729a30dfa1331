//! Checkout: buying a subscription with ETH, DAI or DATA through the Uniswap adapter.
//!
//! - [`quote`]: the exact arithmetic (period, slippage in basis points, price impact, deadline, funds
//!   with the network fee), shared by the page and its tests.
//! - [`port`]: the server functions the page asks for a quote and for a buyer's subscriptions.
//! - [`permit`]: DATA's EIP-2612 permit as typed data, and its signature.
//! - [`pay`]: the transactions of each currency and the checks before signing.
//! - [`form`]: the buy form of a product page, with its live quote and the steps' progress.
//! - [`free`]: what a free product's page offers instead: a subscription for nothing.

pub mod dates;
pub mod form;
pub mod free;
pub mod pay;
pub mod permit;
pub mod port;
pub mod quote;

/// The block of the last purchase or free subscription made on this page (0 before any): what
/// shows what a subscription gives (the product's data) asks again when it changes, as of that
/// block.
#[derive(Debug, Clone, Copy)]
pub struct Purchases(pub leptos::prelude::RwSignal<u64>);
