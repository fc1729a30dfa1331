//! What one client may ask of the server: requests per second per client address (tower_governor)
//! and per signed-in account (governor), a deadline per request, a cap on requests served at once,
//! and a small share of the database for sign-in, which anyone can call without an account.
//!
//! Every refusal is an [`ApiError`] (429 with `Retry-After`, or 503), so clients see one error shape.

use std::net::{IpAddr, Ipv6Addr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use alloy::primitives::Address;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::middleware::NoOpMiddleware;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use tokio::sync::Semaphore;
use tower_governor::GovernorError;
use tower_governor::governor::{GovernorConfig, GovernorConfigBuilder};
use tower_governor::key_extractor::KeyExtractor;

use super::ApiError;
use super::serve::peer_of;
use crate::config::Config;
use crate::http::ErrorCode;

/// Sign-in requests (nonces, sign-ins, sign-outs) handled at once. Each writes to the database;
/// anyone may send them, so they get this many of its connections and no more, and the indexer's
/// and the operator's work always finds one free.
pub const SIGN_IN_CONCURRENCY: usize = 2;

/// The per-address limiter behind [`per_ip_layer`].
pub type PerIp = tower_governor::GovernorLayer<ClientIp, NoOpMiddleware, Body>;

/// The limit per client address, or `None` when the config sets none.
pub fn per_ip_layer(config: &Config) -> Option<(PerIp, Arc<GovernorConfig<ClientIp, NoOpMiddleware>>)> {
    let per_second = NonZeroU32::new(config.requests_per_second_per_ip)?;
    let governor = GovernorConfigBuilder::default()
        .period(Duration::from_secs(1) / per_second.get())
        .burst_size(config.request_burst_per_ip)
        .key_extractor(ClientIp { trusted_proxies: config.trusted_proxies.clone().into() })
        .finish()?;
    let governor = Arc::new(governor);
    let layer = tower_governor::GovernorLayer::new(governor.clone()).error_handler(refusal);
    Some((layer, governor))
}

/// Drops the records of clients not seen lately, so the limiters' memory follows the clients of
/// the last minutes, not every address ever seen.
pub async fn forget_idle_clients(
    ip: Option<Arc<GovernorConfig<ClientIp, NoOpMiddleware>>>,
    accounts: Option<Accounts>,
) {
    let mut every = tokio::time::interval(Duration::from_secs(60));
    loop {
        every.tick().await;
        if let Some(ip) = &ip {
            ip.limiter().retain_recent();
        }
        if let Some(accounts) = &accounts {
            accounts.0.retain_recent();
        }
    }
}

fn refusal(error: GovernorError) -> Response {
    match error {
        GovernorError::TooManyRequests { wait_time, .. } => too_many(wait_time).into_response(),
        GovernorError::UnableToExtractKey | GovernorError::Other { .. } => {
            ApiError::Unexpected(anyhow::anyhow!("the rate limiter could not tell who the client is")).into_response()
        }
    }
}

fn too_many(wait_seconds: u64) -> ApiError {
    // The limiter rounds down; a client told to wait 0 s would come straight back.
    let retry_after = wait_seconds.max(1);
    ApiError::TooManyRequests { message: format!("too many requests; try again in {retry_after} s"), retry_after }
}

/// Who a request is from, for the per-address limit: the peer, or when the peer is a trusted proxy,
/// the last address before the trusted proxies in `X-Forwarded-For`. An IPv6 client is its /64,
/// the block one subscriber usually gets.
#[derive(Debug, Clone)]
pub struct ClientIp {
    trusted_proxies: Arc<[IpAddr]>,
}

impl KeyExtractor for ClientIp {
    type Key = IpAddr;

    fn extract<T>(&self, request: &axum::http::Request<T>) -> Result<IpAddr, GovernorError> {
        let peer = peer_of(request).ok_or(GovernorError::UnableToExtractKey)?.ip();
        Ok(client_block(client_ip(peer, request.headers(), &self.trusted_proxies)))
    }
}

/// The client's address as the trusted proxies saw it. Each proxy appends the address it was
/// reached from, so the list is read from the right, and what a client wrote itself (on the left)
/// is believed only as far as the trusted proxies vouch for it.
fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[IpAddr]) -> IpAddr {
    let mut client = peer;
    if !trusted.contains(&peer) {
        return client;
    }
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .collect();
    for hop in hops.into_iter().rev() {
        match hop.parse::<IpAddr>() {
            Ok(address) => {
                client = address;
                if !trusted.contains(&address) {
                    break;
                }
            }
            // A hop that is no address was written by someone no trusted proxy vouches for.
            Err(_) => break,
        }
    }
    client
}

/// The block a limit counts: an IPv4 address, or the /64 of an IPv6 one.
fn client_block(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V4(_) => address,
        IpAddr::V6(v6) if v6.to_ipv4_mapped().is_some() => IpAddr::V4(v6.to_ipv4_mapped().expect("checked")),
        IpAddr::V6(v6) => {
            let segments = v6.segments();
            IpAddr::V6(Ipv6Addr::new(segments[0], segments[1], segments[2], segments[3], 0, 0, 0, 0))
        }
    }
}

/// The limit per signed-in account, checked where a handler asks who is signed in ([`SignedIn`]):
/// an account that signs in from many addresses is still one account.
///
/// [`SignedIn`]: crate::auth::SignedIn
#[derive(Clone)]
pub struct Accounts(Arc<DefaultKeyedRateLimiter<Address>>);

impl Accounts {
    pub fn new(config: &Config) -> Option<Self> {
        let per_second = NonZeroU32::new(config.requests_per_second_per_account)?;
        let burst = NonZeroU32::new(config.request_burst_per_account)?;
        Some(Accounts(Arc::new(RateLimiter::keyed(Quota::per_second(per_second).allow_burst(burst)))))
    }

    /// Counts one request of `account`; a 429 when it asks too much.
    pub fn check(&self, account: Address) -> Result<(), ApiError> {
        self.0.check_key(&account).map_err(|not_until| {
            too_many(not_until.wait_time_from(DefaultClock::default().now()).as_secs_f64().ceil() as u64)
        })
    }
}

/// Middleware: sign-in requests wait for one of [`SIGN_IN_CONCURRENCY`] turns; when none frees up
/// within a second, 503 `busy` with `Retry-After`, before the session layer touches the database.
pub async fn share_sign_in(State(turns): State<Arc<Semaphore>>, request: Request, next: Next) -> Response {
    if !request.uri().path().starts_with("/api/v1/auth/") {
        return next.run(request).await;
    }
    match tokio::time::timeout(Duration::from_secs(1), turns.acquire_owned()).await {
        Ok(Ok(_turn)) => next.run(request).await,
        _ => ApiError::Unavailable { code: ErrorCode::Busy, reason: "sign-in is busy; try again shortly".to_owned() }
            .into_response(),
    }
}

/// Middleware: a request not answered within `limit` is dropped and answered 503 `timeout`, with
/// the API's error body (and `Retry-After`), like every other refusal.
pub async fn deadline(State(limit): State<Duration>, request: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::Unavailable {
            code: ErrorCode::Timeout,
            reason: format!("no answer within {} s; try again shortly", limit.as_secs()),
        }
        .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn forwarded(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", value.parse().unwrap());
        headers
    }

    const LOOPBACK: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

    #[test]
    fn a_client_that_is_no_proxy_is_its_own_address_whatever_it_claims() {
        let stranger: IpAddr = "203.0.113.9".parse().unwrap();
        assert_eq!(client_ip(stranger, &forwarded("198.51.100.1"), &[LOOPBACK]), stranger);
    }

    #[test]
    fn behind_a_trusted_proxy_the_client_is_the_last_address_it_appended() {
        // The client wrote a made-up first hop; nginx appended the address it really came from.
        let headers = forwarded("10.0.0.1, 198.51.100.7");
        assert_eq!(client_ip(LOOPBACK, &headers, &[LOOPBACK]), "198.51.100.7".parse::<IpAddr>().unwrap());
        assert_eq!(client_ip(LOOPBACK, &HeaderMap::new(), &[LOOPBACK]), LOOPBACK);
        assert_eq!(
            client_ip(LOOPBACK, &forwarded("junk, 198.51.100.7"), &[LOOPBACK]),
            "198.51.100.7".parse::<IpAddr>().unwrap()
        );
    }

    #[test]
    fn an_ipv6_client_is_counted_by_its_64_block() {
        let one: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let other: IpAddr = "2001:db8:1:2:bbbb::2".parse().unwrap();
        assert_eq!(client_block(one), client_block(other));
        assert_ne!(client_block(one), client_block("2001:db8:1:3::1".parse().unwrap()));
        assert_eq!(client_block("::ffff:192.0.2.1".parse().unwrap()), "192.0.2.1".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn an_account_beyond_its_burst_is_told_when_to_come_back() {
        let config = Config { requests_per_second_per_account: 1, request_burst_per_account: 2, ..Config::default() };
        let accounts = Accounts::new(&config).unwrap();
        let account = Address::repeat_byte(7);
        assert!(accounts.check(account).is_ok() && accounts.check(account).is_ok());
        let refused = accounts.check(account).unwrap_err();
        assert!(matches!(refused, ApiError::TooManyRequests { retry_after: 1, .. }), "{refused}");
        assert!(accounts.check(Address::repeat_byte(8)).is_ok(), "another account has its own count");
    }
}
