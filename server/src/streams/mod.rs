//! Product streams, the data a product sells: messages kept behind the [`store::StreamStore`] port,
//! published and read through the REST endpoints in [`api`]; who may do what is worked out in
//! `service::streams`.

pub mod api;
pub mod embedded;
pub mod nats;
pub mod store;
