//! The session cookie in a server's answer, as a browser keeps it.

use reqwest::header::{HeaderMap, SET_COOKIE};

/// The `coop_session=...` pair a response sets, if it sets one.
pub fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find(|value| value.starts_with("coop_session="))
        .map(|value| value.split(';').next().unwrap().to_owned())
}
