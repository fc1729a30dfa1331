//! Cross-site request forgery: a page on another site can make a visitor's browser post to Coop
//! with the visitor's session cookie (a form, or `fetch` with `text/plain`), and so sign in as the
//! attacker, or approve, remove and create secrets as a signed-in owner. Browsers say where a
//! request comes from (`Sec-Fetch-Site`, else `Origin`); a change that a browser says comes from
//! another site is refused before any handler sees it. Programs (no such headers) are not browsers
//! and carry no visitor's cookies, so they pass.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::header::ORIGIN;
use axum::http::{HeaderMap, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use url::Url;

use super::{ApiError, Services};
use crate::auth::PublicOrigin;
use crate::http::ErrorCode;

/// Refuses a request that changes something (any method but GET, HEAD and OPTIONS) when the browser
/// that sent it says it comes from another site: 403 `cross_site`.
pub async fn refuse_cross_site(State(services): State<Arc<Services>>, request: Request, next: Next) -> Response {
    let safe = matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if !safe
        && !signed_in_body(request.method(), request.uri().path())
        && let Some(origin) = foreign_origin(request.headers(), &services.origin)
    {
        tracing::info!(target: "http", method = %request.method(), path = request.uri().path(), %origin, "cross-site request refused");
        return ApiError::Forbidden {
            code: ErrorCode::CrossSite,
            message: format!("a page on {origin} cannot change anything here; use Coop's own pages"),
        }
        .into_response();
    }
    next.run(request).await
}

/// Requests whose body carries their own signature and which read no session: publishing a
/// message, granting an app key, asking to join, relaying a signed withdrawal. A forged one proves nothing the signer did not
/// sign, so member apps (a browser extension, another site) may send them from anywhere.
fn signed_in_body(method: &Method, path: &str) -> bool {
    if *method != Method::POST {
        return false;
    }
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    matches!(
        segments.as_slice(),
        ["", "api", "v1", "products", _, "streams", _, "messages"]
            | ["", "api", "v1", "products", _, "streams", _, "messages", "batch"]
            | ["", "api", "v1", "app-keys"]
            | ["", "api", "v1", "unions", _, "join-requests"]
            | ["", "api", "v1", "unions", _, "members", _, "relay"]
    )
}

/// Where a browser says the request comes from, when that is another site.
pub(crate) fn foreign_origin(headers: &HeaderMap, ours: &PublicOrigin) -> Option<String> {
    let text = |name: &str| headers.get(name).and_then(|value| value.to_str().ok());
    let origin = text(ORIGIN.as_str());
    let named = || origin.unwrap_or("another site").to_owned();
    match text("sec-fetch-site") {
        // Same origin, or typed into the address bar or opened from a bookmark.
        Some("same-origin" | "none") => None,
        Some(_) => Some(named()),
        None => {
            let origin = origin?;
            let authority = Url::parse(origin).ok().as_ref().and_then(crate::auth::authority);
            let ours =
                authority.is_some_and(|authority| ours.domains().iter().any(|d| d.eq_ignore_ascii_case(&authority)));
            (!ours).then(named)
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use axum::http::HeaderValue;

    use super::*;

    fn ours() -> PublicOrigin {
        PublicOrigin::new(Some(&Url::parse("https://coop.example").unwrap()), SocketAddr::from(([127, 0, 0, 1], 3000)))
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs.iter().map(|(name, value)| (name.parse().unwrap(), HeaderValue::from_static(value))).collect()
    }

    #[test]
    fn only_requests_signed_in_their_body_may_come_from_anywhere() {
        let product = format!("0x{}", "ab".repeat(32));
        for path in [
            format!("/api/v1/products/{product}/streams/gps/messages"),
            format!("/api/v1/products/{product}/streams/gps/messages/batch"),
            "/api/v1/app-keys".to_owned(),
            "/api/v1/unions/0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed/join-requests".to_owned(),
        ] {
            assert!(signed_in_body(&Method::POST, &path), "{path}");
            assert!(!signed_in_body(&Method::DELETE, &path), "{path}");
        }
        for path in [
            "/api/v1/auth/sign-in".to_owned(),
            format!("/api/v1/products/{product}/streams/gps"),
            "/api/v1/unions/0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed/join-requests/0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed/approve".to_owned(),
            "/api/v1/unions/0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed/secrets".to_owned(),
            "/api/v1/app-keys/extra".to_owned(),
            format!("/api/v1/products/{product}/streams/gps/messages/batch/more"),
            "/api/unions/join".to_owned(),
        ] {
            assert!(!signed_in_body(&Method::POST, &path), "{path}");
        }
    }

    #[test]
    fn a_browser_request_from_another_site_is_foreign_and_ours_or_a_programs_is_not() {
        let foreign = |pairs| foreign_origin(&headers(pairs), &ours());
        assert_eq!(
            foreign(&[("sec-fetch-site", "cross-site"), ("origin", "https://evil.example")]).as_deref(),
            Some("https://evil.example")
        );
        assert!(foreign(&[("sec-fetch-site", "same-site")]).is_some(), "a sibling subdomain is another site");
        assert_eq!(foreign(&[("origin", "https://evil.example")]).as_deref(), Some("https://evil.example"));
        assert!(foreign(&[("origin", "null")]).is_some(), "an opaque origin");
        assert_eq!(foreign(&[("sec-fetch-site", "same-origin"), ("origin", "https://coop.example")]), None);
        assert_eq!(foreign(&[("origin", "https://coop.example")]), None);
        assert_eq!(foreign(&[]), None, "a program");
    }
}
