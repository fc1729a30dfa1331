//! Contract tests: alloy against a fresh anvil per test, with everything deployed by `deploy_all`.
//! Every revert is asserted by its custom error. `TEST_LOG=1` prints the gas of the main calls.

mod adapter;
mod agreement;
mod data_union;
mod deploy;
mod factory;
mod helpers;
mod marketplace;
mod migration;
mod properties;
mod relay;
mod trust;
