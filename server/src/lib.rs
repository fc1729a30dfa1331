//! The `coop` server: the web app (SSR + hydration), the REST API, and the chain-facing workers.
//!
//! Modules, one concern each:

/// The REST API under `/api/v1`: unions, members, books, products, subscriptions, quotes, OpenAPI.
pub mod api;
/// Sign-in with Ethereum (EIP-4361), sessions, and the `SignedIn` extractor for owner actions.
pub mod auth;
/// The Marketplace's products and subscriptions in memory, built from the event log.
pub mod catalog;
/// What a chain log means to Coop, decoded once and stored as it is.
pub mod chain_event;
/// `GET /api/v1/chain`: the chain and contracts, as wallets need them.
pub mod chain_info;
/// Typed configuration: defaults, a TOML file, `COOP_*` environment overrides, validated at start-up.
pub mod config;
/// Deploys the contracts, Uniswap pools and demo funds; the deployment file.
pub mod deploy;
/// `coop dev`: local chain, deployment, server.
pub mod dev;
/// The local development chain (anvil from npm), killed when dropped.
pub mod devnet;
/// Follows the chain into the store, with reorg rollback and exact resume.
pub mod guard;
/// HTTP: health and readiness, and the REST API under `/api/v1`.
pub mod http;
pub mod indexer;
/// Join requests, shared secrets, and the join-part agent that adds and removes members.
pub mod joins;
/// Keeps the in-memory unions and catalog equal to the stored event log.
pub mod live;
/// `coop migrate`: moves a union of the previous contracts to the current ones.
pub mod migrate;
/// Offline commands over files: `coop replay` and `coop book`.
pub mod offline;
/// Commits the books of confirmed blocks, batched by a policy.
pub mod operator;
/// What the server's keys may spend gas on: unions admitted, quotas, a daily budget.
pub mod policy;
/// The web app's ports: the pages' server functions answered by the service layer.
pub mod ports;
/// Products' drafts, covers and metadata: the editor's side.
pub mod products;
/// `coop publish`: the reference client that publishes JSON Lines to a product stream.
pub mod publish;
/// `coop read-token`: a read token for a server, as an `Authorization` header.
pub mod read_token;
/// The chain role (indexer and operator), held by one instance at a time.
pub mod role;
/// The chain's JSON-RPC client, with request deadlines.
pub mod rpc;
/// The transactions the server's keys send: receipt deadlines, replacements with higher fees.
pub mod sender;
/// The service layer: typed questions and actions that the REST API and the ports both call.
pub mod service;
/// Who signed a message: an account (ECDSA) or a smart-contract account (EIP-1271).
pub mod signatures;
/// Builds the axum router and runs the server.
pub mod startup;
/// Storage behind one API, on SQLite (default) or PostgreSQL.
pub mod store;
/// Product streams: the messages a product sells, their store, and their endpoints.
pub mod streams;
/// Logging with an env filter.
pub mod telemetry;
/// The Data Unions in memory, built from the event log.
pub mod unions;
/// Rebuilds every committed book and reports the ones that differ from the chain's.
pub mod validator;
