//! HTTP tests against a spawned server: a free port, a fresh database, a fresh anvil (with every
//! contract deployed for the API tests, driven by real transactions).

#[allow(dead_code)]
#[path = "../contracts/helpers.rs"]
mod chain;
#[path = "../support/cookies.rs"]
mod cookies;
#[allow(dead_code)]
#[path = "../support/faulty_rpc.rs"]
mod faulty_rpc;

mod agent;
mod auth;
mod drafts;
mod errors;
mod health;
mod helpers;
mod joins;
mod limits;
mod metrics;
mod openapi;
mod products;
mod relay;
mod story;
mod streams;
mod unions;
mod validation;
