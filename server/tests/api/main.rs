//! HTTP tests against a spawned server: a free port, a fresh database, a fresh anvil.

mod health;
mod helpers;
