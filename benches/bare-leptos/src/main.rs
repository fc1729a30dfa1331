//! cargo-leptos expects a server binary beside the bundle; only the bundle (`--frontend-only`) is
//! measured, so there is none.
fn main() {}
