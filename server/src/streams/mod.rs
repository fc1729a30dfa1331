//! Product streams, the data a product sells: messages kept behind the [`store::StreamStore`] port,
//! published and read through the REST endpoints in [`api`] and followed live through [`follow`]
//! (Server-Sent Events and WebSocket); who may do what is worked out in `service::streams`.

pub mod api;
pub mod embedded;
pub mod follow;
pub mod nats;
pub mod store;
