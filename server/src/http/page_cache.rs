//! Pages as a visitor without a session sees them are the same for every such visitor: each is
//! rendered once per state and sent as rendered to the next ones, for at most [`MOST_AGE`]. A state
//! is a version of the read models and a count of the changes this instance took (any request but
//! GET, HEAD and OPTIONS, save the web app's server functions that only read), so a page is never of
//! an older block than a fresh render's, never misses a change made through this instance, and
//! misses one made through another for a second at most.
//!
//! A request with a session cookie is always rendered: the owner sees its tools, a member its own
//! figures. Only whole pages (200, HTML, no cookie set) are kept; the API, the bundle and the
//! operational endpoints pass by.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::Services;
use crate::auth::SESSION_COOKIE;

/// How long a rendered page is sent again at most, whatever the models do: bounds how stale anything
/// that is not of the models (the server's own clock, say) can be.
pub const MOST_AGE: Duration = Duration::from_secs(1);

/// How many pages, and how many bytes of them, are kept; past either, all are dropped and kept
/// again as they are asked for. Addresses and query strings make pages without number, so a
/// stranger can make the cache forget, but never grow.
const MOST_PAGES: usize = 256;
const MOST_BYTES_KEPT: usize = 64 << 20;
/// A page larger than this is sent but not kept.
const MOST_BYTES_A_PAGE: usize = 2 << 20;
/// Far above any page (a product page with a full preview of the largest messages is some MB); a
/// render past it is refused rather than held in memory.
const MOST_BYTES_RENDERED: usize = 32 << 20;

/// The rendered pages of the current state.
#[derive(Default)]
pub struct PageCache {
    pages: Mutex<Pages>,
    /// Changes this instance took: requests other than GET, HEAD and OPTIONS.
    changes: AtomicU64,
}

/// The state a page was rendered at: the [`ReadModels::version`](crate::live::ReadModels::version)
/// and this instance's count of changes, both read before rendering began.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
struct Version(u64, u64);

#[derive(Default)]
struct Pages {
    version: Version,
    pages: HashMap<String, Rendered>,
    bytes: usize,
}

#[derive(Clone)]
struct Rendered {
    at: Instant,
    content_type: HeaderValue,
    body: Bytes,
}

impl PageCache {
    fn get(&self, path: &str, version: Version) -> Option<Rendered> {
        let pages = self.pages.lock().unwrap_or_else(PoisonError::into_inner);
        let page = pages.pages.get(path).filter(|_| pages.version == version)?;
        (page.at.elapsed() < MOST_AGE).then(|| page.clone())
    }

    /// Keeps `page`, rendered at `version` (read before rendering began, so the page is of that
    /// version or a later one).
    fn keep(&self, path: String, version: Version, page: Rendered) {
        if page.body.len() > MOST_BYTES_A_PAGE {
            return;
        }
        let mut pages = self.pages.lock().unwrap_or_else(PoisonError::into_inner);
        if version < pages.version {
            return;
        }
        let full = pages.pages.len() >= MOST_PAGES || pages.bytes + page.body.len() > MOST_BYTES_KEPT;
        if version > pages.version || full {
            *pages = Pages { version, ..Pages::default() };
        }
        pages.bytes += page.body.len();
        if let Some(replaced) = pages.pages.insert(path, page) {
            pages.bytes -= replaced.body.len();
        }
    }

    fn version(&self, services: &Services) -> Version {
        Version(services.models.version(), self.changes.load(Ordering::Acquire))
    }
}

/// Whether `request` asks for a page as a visitor without a session sees it.
fn is_shared(request: &Request) -> bool {
    let path = request.uri().path();
    let page = !["/api/", "/pkg/"].iter().any(|prefix| path.starts_with(prefix))
        && !["/healthz", "/readyz", "/metrics"].contains(&path);
    request.method() == Method::GET && page && !has_session(request.headers())
}

/// Whether a request with `method` to `path` can change anything.
fn changes(method: &Method, path: &str) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) && !READS.contains(&path)
}

/// The web app's server functions that only read. They are posted, like every server function, and
/// often: each open page asks for the block every two seconds and for its figures at each new one.
/// One missing here costs only pages rendered again; a server function that writes must never be.
const READS: [&str; 22] = {
    use app::{checkout::port as checkout, market, products, streams, unions, wallet::session};
    use leptos::server_fn::ServerFn;
    [
        unions::ChainBlock::PATH,
        unions::GetUnionStats::PATH,
        unions::UnionHistory::PATH,
        unions::UnionContributions::PATH,
        unions::UnionMembers::PATH,
        unions::Memberships::PATH,
        unions::GetJoinStatus::PATH,
        unions::GetJoinPrompt::PATH,
        unions::JoinRequests::PATH,
        unions::JoinSecrets::PATH,
        unions::GetRelayOffer::PATH,
        market::ListProducts::PATH,
        market::GetProduct::PATH,
        checkout::QuoteCheckout::PATH,
        checkout::SubscriptionsOf::PATH,
        products::MyDrafts::PATH,
        products::LoadDraft::PATH,
        products::DraftOfProduct::PATH,
        streams::ProductStreams::PATH,
        streams::PrepareAppKey::PATH,
        streams::AppKeys::PATH,
        session::SignedIn::PATH,
    ]
};

fn has_session(headers: &HeaderMap) -> bool {
    headers.get_all(header::COOKIE).iter().any(|cookie| {
        cookie.to_str().map_or(true, |cookies| {
            cookies.split(';').any(|pair| pair.trim_start().split('=').next() == Some(SESSION_COOKIE))
        })
    })
}

/// Middleware: answers a visitor's page from the cache, or renders it and keeps it; counts changes.
pub async fn shared_pages(
    axum::extract::State((services, cache)): axum::extract::State<(Arc<Services>, Arc<PageCache>)>,
    request: Request,
    next: Next,
) -> Response {
    if changes(request.method(), request.uri().path()) {
        let response = next.run(request).await;
        // After the change: a page rendered meanwhile may not have seen it.
        cache.changes.fetch_add(1, Ordering::AcqRel);
        return response;
    }
    if !is_shared(&request) {
        return next.run(request).await;
    }
    let path = request.uri().path_and_query().map_or_else(|| request.uri().path().to_owned(), ToString::to_string);
    let version = cache.version(&services);
    if let Some(page) = cache.get(&path, version) {
        services.metrics.count_shared_page(true);
        return page.into_response();
    }
    services.metrics.count_shared_page(false);
    let response = next.run(request).await;
    let keepable = response.status() == StatusCode::OK && !response.headers().contains_key(header::SET_COOKIE);
    let html = |value: &&HeaderValue| value.to_str().is_ok_and(|text| text.starts_with("text/html"));
    let Some(content_type) = response.headers().get(header::CONTENT_TYPE).filter(html).filter(|_| keepable).cloned()
    else {
        return response;
    };
    let (parts, body) = response.into_parts();
    match axum::body::to_bytes(body, MOST_BYTES_RENDERED).await {
        Ok(body) => {
            let page = Rendered { at: Instant::now(), content_type, body };
            cache.keep(path, version, page.clone());
            Response::from_parts(parts, Body::from(page.body))
        }
        // The render failed part way, or ran past any sensible size.
        Err(error) => {
            tracing::warn!(target: "http", %path, "a shared page was not kept: {error}");
            (StatusCode::INTERNAL_SERVER_ERROR, "the page could not be rendered").into_response()
        }
    }
}

impl IntoResponse for Rendered {
    fn into_response(self) -> Response {
        ([(header::CONTENT_TYPE, self.content_type)], self.body).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(method: Method, path: &str, cookie: Option<&str>) -> Request {
        let mut builder = Request::builder().method(method).uri(path);
        if let Some(cookie) = cookie {
            builder = builder.header(header::COOKIE, cookie);
        }
        builder.body(Body::empty()).unwrap()
    }

    fn get(path: &str, cookie: Option<&str>) -> Request {
        request(Method::GET, path, cookie)
    }

    const DASHBOARD: &str = "/unions/0x3B02fF1e626Ed7a8fd6eC5299e2C54e1421B626B";

    #[test]
    fn pages_asked_for_without_a_session_are_shared() {
        for path in [DASHBOARD, "/", "/?q=weather&sort=newest", "/products/0x01", "/earnings?address=0x01"] {
            assert!(is_shared(&get(path, None)), "{path}");
            assert!(is_shared(&get(path, Some("theme=dark"))), "{path}");
            assert!(!is_shared(&get(path, Some(&format!("theme=dark; {SESSION_COOKIE}=abc")))), "{path}");
            assert!(!is_shared(&request(Method::POST, path, None)), "{path}");
        }
        for path in ["/api/v1/unions", "/api/unions/history", "/pkg/coop.wasm", "/healthz", "/readyz", "/metrics"] {
            assert!(!is_shared(&get(path, None)), "{path}");
        }
        let publish = "/api/v1/products/0x01/streams/gps/messages";
        assert!(changes(&Method::POST, publish) && changes(&Method::DELETE, "/api/v1/app-keys/0x01"));
        assert!(!changes(&Method::GET, "/"));
        assert!(!changes(&Method::POST, "/api/unions/block"), "the block every open page asks for");
        assert!(changes(&Method::POST, "/api/unions/secrets/create"));
    }

    fn page(body: &'static str) -> Rendered {
        Rendered { at: Instant::now(), content_type: HeaderValue::from_static("text/html"), body: Bytes::from(body) }
    }

    #[test]
    fn a_page_is_sent_again_only_in_the_state_it_was_rendered_in() {
        let cache = PageCache::default();
        cache.keep(DASHBOARD.to_owned(), Version(3, 0), page("at 3"));
        assert_eq!(cache.get(DASHBOARD, Version(3, 0)).map(|p| p.body), Some(Bytes::from("at 3")));
        assert!(cache.get(DASHBOARD, Version(4, 0)).is_none(), "the models moved on");
        assert!(cache.get(DASHBOARD, Version(3, 1)).is_none(), "a change came through this instance");
        assert!(cache.get("/unions/other", Version(3, 0)).is_none());
        // A render that began before the models moved is not kept over a newer one.
        cache.keep(DASHBOARD.to_owned(), Version(4, 0), page("at 4"));
        cache.keep(DASHBOARD.to_owned(), Version(3, 0), page("late, at 3"));
        assert_eq!(cache.get(DASHBOARD, Version(4, 0)).map(|p| p.body), Some(Bytes::from("at 4")));
    }

    #[test]
    fn a_page_is_sent_again_for_a_second_at_most() {
        let cache = PageCache::default();
        let old = Rendered { at: Instant::now() - MOST_AGE, ..page("old") };
        cache.keep(DASHBOARD.to_owned(), Version(1, 0), old);
        assert!(cache.get(DASHBOARD, Version(1, 0)).is_none());
    }

    #[test]
    fn the_cache_holds_a_bounded_number_of_pages_and_bytes() {
        let cache = PageCache::default();
        for n in 0..MOST_PAGES * 3 {
            cache.keep(format!("/?q={n}"), Version(1, 0), page("a page"));
            assert!(cache.pages.lock().unwrap().pages.len() <= MOST_PAGES);
        }
        let large = Bytes::from(vec![b'x'; MOST_BYTES_A_PAGE]);
        for n in 0..MOST_BYTES_KEPT / MOST_BYTES_A_PAGE * 2 {
            cache.keep(format!("/products/{n}"), Version(1, 0), Rendered { body: large.clone(), ..page("") });
            let pages = cache.pages.lock().unwrap();
            assert!(pages.bytes <= MOST_BYTES_KEPT);
            assert_eq!(pages.bytes, pages.pages.values().map(|p| p.body.len()).sum::<usize>());
        }
        let too_large = Bytes::from(vec![b'x'; MOST_BYTES_A_PAGE + 1]);
        cache.keep("/big".to_owned(), Version(1, 0), Rendered { body: too_large, ..page("") });
        assert!(cache.get("/big", Version(1, 0)).is_none());
    }
}
