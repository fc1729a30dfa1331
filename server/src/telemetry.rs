//! Logs through `tracing`, filtered by `RUST_LOG` when set, else by the configured `log` directive.

use tracing_subscriber::EnvFilter;

pub fn init(default_directive: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_directive));
    // A second init (tests start several servers in one process) keeps the first subscriber.
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_target(true).try_init();
}
