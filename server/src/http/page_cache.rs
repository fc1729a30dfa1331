//! Pages that read the chain alone are the same for every visitor without a session until the read
//! models move: such a page is rendered once per state of the models and sent as rendered to the
//! next visitors, for at most [`MOST_AGE`].
//!
//! Only the Data Union dashboard qualifies. Its anonymous view is a function of the read models
//! (figures, history, members, the products paying in, all at the chain time of one block), and it is
//! the page people share. Other pages also read what changes between blocks (product descriptions,
//! stream messages) or depend on who asks, so they are rendered every time. A request with a session
//! cookie is always rendered: the owner sees its tools, a member its own figures.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::Services;
use crate::auth::SESSION_COOKIE;

/// How long a rendered page is sent again at most, whatever the models do: bounds how stale anything
/// that is not of the models (the server's own clock, say) can be.
pub const MOST_AGE: Duration = Duration::from_secs(1);

/// How many pages are kept; past it the oldest state's pages are all dropped. Each page is one union's
/// dashboard, some tens of KB.
const MOST_PAGES: usize = 256;

/// Far above any dashboard (its history and member list are bounded); a render past it is refused
/// rather than held in memory.
const MOST_BYTES: usize = 32 << 20;

/// The rendered pages of the models' current state.
#[derive(Default)]
pub struct PageCache(Mutex<Pages>);

#[derive(Default)]
struct Pages {
    /// The [`ReadModels::version`](crate::live::ReadModels::version) the pages were rendered at.
    version: u64,
    pages: HashMap<String, Rendered>,
}

#[derive(Clone)]
struct Rendered {
    at: Instant,
    content_type: HeaderValue,
    body: Bytes,
}

impl PageCache {
    fn get(&self, path: &str, version: u64) -> Option<Rendered> {
        let pages = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let page = pages.pages.get(path).filter(|_| pages.version == version)?;
        (page.at.elapsed() < MOST_AGE).then(|| page.clone())
    }

    /// Keeps `page`, rendered from the models at `version` (read before rendering began, so the page
    /// is of that state or a later one).
    fn keep(&self, path: String, version: u64, page: Rendered) {
        let mut pages = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if version < pages.version {
            return;
        }
        if version > pages.version || pages.pages.len() >= MOST_PAGES {
            pages.pages.clear();
            pages.version = version;
        }
        pages.pages.insert(path, page);
    }
}

/// Whether `request` asks for a page that is the same for everyone at one state of the models.
fn is_shared(request: &Request) -> bool {
    let uri = request.uri();
    let dashboard = uri.path().strip_prefix("/unions/").is_some_and(|address| {
        address.len() == 42 && address.starts_with("0x") && address[2..].bytes().all(|b| b.is_ascii_hexdigit())
    });
    request.method() == Method::GET && dashboard && uri.query().is_none() && !has_session(request.headers())
}

fn has_session(headers: &HeaderMap) -> bool {
    headers.get_all(header::COOKIE).iter().any(|cookie| {
        cookie.to_str().map_or(true, |cookies| {
            cookies.split(';').any(|pair| pair.trim_start().split('=').next() == Some(SESSION_COOKIE))
        })
    })
}

/// Middleware: answers a shared page from the cache, or renders it and keeps it.
pub async fn shared_pages(
    State((services, cache)): State<(Arc<Services>, Arc<PageCache>)>,
    request: Request,
    next: Next,
) -> Response {
    if !is_shared(&request) {
        return next.run(request).await;
    }
    let path = request.uri().path().to_owned();
    let version = services.models.version();
    if let Some(page) = cache.get(&path, version) {
        services.metrics.count_shared_page(true);
        return page.into_response();
    }
    services.metrics.count_shared_page(false);
    let response = next.run(request).await;
    let keepable = response.status() == StatusCode::OK && !response.headers().contains_key(header::SET_COOKIE);
    let Some(content_type) = response.headers().get(header::CONTENT_TYPE).filter(|_| keepable).cloned() else {
        return response;
    };
    let (parts, body) = response.into_parts();
    match axum::body::to_bytes(body, MOST_BYTES).await {
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

    fn request(path: &str, cookie: Option<&str>) -> Request {
        let mut builder = Request::builder().uri(path);
        if let Some(cookie) = cookie {
            builder = builder.header(header::COOKIE, cookie);
        }
        builder.body(Body::empty()).unwrap()
    }

    const DASHBOARD: &str = "/unions/0x3B02fF1e626Ed7a8fd6eC5299e2C54e1421B626B";

    #[test]
    fn only_a_dashboard_asked_for_without_a_session_is_shared() {
        assert!(is_shared(&request(DASHBOARD, None)));
        assert!(is_shared(&request(DASHBOARD, Some("theme=dark"))));
        assert!(!is_shared(&request(DASHBOARD, Some(&format!("theme=dark; {SESSION_COOKIE}=abc")))));
        assert!(!is_shared(&request(&format!("{DASHBOARD}?members=active"), None)));
        assert!(!is_shared(&request("/unions/0x3B02fF1e626Ed7a8fd6eC5299e2C54e1421B626", None)));
        assert!(!is_shared(&request("/unions/not-an-address-but-forty-two-characters-", None)));
        assert!(!is_shared(&request("/products/0x01", None)));
        assert!(!is_shared(&request("/", None)));
    }

    fn page(body: &'static str) -> Rendered {
        Rendered { at: Instant::now(), content_type: HeaderValue::from_static("text/html"), body: Bytes::from(body) }
    }

    #[test]
    fn a_page_is_sent_again_only_while_the_models_stand_still() {
        let cache = PageCache::default();
        cache.keep(DASHBOARD.to_owned(), 3, page("at 3"));
        assert_eq!(cache.get(DASHBOARD, 3).map(|p| p.body), Some(Bytes::from("at 3")));
        assert!(cache.get(DASHBOARD, 4).is_none(), "the models moved on");
        assert!(cache.get("/unions/other", 3).is_none());
        // A render that began before the models moved is not kept over a newer one.
        cache.keep(DASHBOARD.to_owned(), 4, page("at 4"));
        cache.keep(DASHBOARD.to_owned(), 3, page("late, at 3"));
        assert_eq!(cache.get(DASHBOARD, 4).map(|p| p.body), Some(Bytes::from("at 4")));
    }

    #[test]
    fn a_page_is_sent_again_for_a_second_at_most() {
        let cache = PageCache::default();
        let old = Rendered { at: Instant::now() - MOST_AGE, ..page("old") };
        cache.keep(DASHBOARD.to_owned(), 1, old);
        assert!(cache.get(DASHBOARD, 1).is_none());
    }

    #[test]
    fn the_cache_holds_a_bounded_number_of_pages() {
        let cache = PageCache::default();
        for n in 0..MOST_PAGES * 3 {
            cache.keep(format!("/unions/{n}"), 1, page("a page"));
            assert!(cache.0.lock().unwrap().pages.len() <= MOST_PAGES);
        }
    }
}
