//! Coop's pure core: no I/O, no clock, no randomness; everything it needs comes in as arguments.
//! It builds for wasm32 too, so the web app computes with the same code as the server.

/// Token amounts as decimal text with exact integer maths, and prices per period.
pub mod amount;
/// Contract bindings (`sol!` over `contracts/artifacts`): call encoding, event and error decoding.
pub mod contracts;

/// The Merkle book at a block: leaves, root, proofs, `bookHash`, and book files (CSV or JSON).
pub mod book;
/// The Data Union engine: events in chain order, O(1) per event, snapshots, member figures.
pub mod engine;
/// Read tokens: a program's own signed, short-lived permission to read as its address.
pub mod read_token;
/// The JSON reports of the offline commands `coop replay` and `coop book`.
pub mod report;
/// Product streams: messages, the bytes their signatures cover, and app key grants.
pub mod stream;
/// Addresses and decimal wei amounts as text, parsed strictly at the edges.
pub mod text;
