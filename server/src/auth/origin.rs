//! The origin people reach this server at: what a Sign-in with Ethereum message must name. It is
//! configured (`public_origin`), never read from the request: a phishing site collects a signature
//! of a message naming its own domain, and can send that message with any `Host` header it likes.

use std::net::SocketAddr;

use url::Url;

/// The `host[:port]` forms a sign-in message may name, as a browser's `location.host` writes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicOrigin {
    domains: Vec<String>,
    /// Reached over https: the session cookie is then sent over TLS only (`Secure`).
    https: bool,
}

impl PublicOrigin {
    /// The configured origin; without one, the address the server listens on, and for a loopback or
    /// unspecified address `localhost` and `127.0.0.1` at its port, which only this machine reaches.
    pub fn new(configured: Option<&Url>, listening: SocketAddr) -> Self {
        if let Some(url) = configured
            && let Some(domain) = authority(url)
        {
            return PublicOrigin { domains: vec![domain], https: url.scheme() == "https" };
        }
        let mut domains = vec![listening.to_string()];
        if listening.ip().is_loopback() || listening.ip().is_unspecified() {
            domains.extend([format!("localhost:{}", listening.port()), format!("127.0.0.1:{}", listening.port())]);
        }
        let mut seen = std::collections::HashSet::new();
        domains.retain(|domain| seen.insert(domain.clone()));
        PublicOrigin { domains, https: false }
    }

    pub fn domains(&self) -> &[String] {
        &self.domains
    }

    pub fn is_https(&self) -> bool {
        self.https
    }
}

/// `host[:port]` of a URL, without the port when it is the scheme's default (as browsers write it).
pub fn authority(url: &Url) -> Option<String> {
    let host = url.host_str()?;
    Some(match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_configured_origin_is_the_only_domain_and_a_default_port_is_left_out() {
        let listening = SocketAddr::from(([127, 0, 0, 1], 3001));
        let https = Url::parse("https://coop.example").unwrap();
        assert_eq!(PublicOrigin::new(Some(&https), listening).domains(), ["coop.example"]);
        let port = Url::parse("http://coop.example:8080/").unwrap();
        assert_eq!(PublicOrigin::new(Some(&port), listening).domains(), ["coop.example:8080"]);
        assert!(PublicOrigin::new(Some(&https), listening).is_https());
        assert!(!PublicOrigin::new(Some(&port), listening).is_https());
        assert!(!PublicOrigin::new(None, listening).is_https());
    }

    #[test]
    fn without_one_a_loopback_listener_is_reached_as_localhost_too() {
        let listening = SocketAddr::from(([127, 0, 0, 1], 3000));
        assert_eq!(PublicOrigin::new(None, listening).domains(), ["127.0.0.1:3000", "localhost:3000"]);
        let everywhere = SocketAddr::from(([0, 0, 0, 0], 3000));
        assert_eq!(PublicOrigin::new(None, everywhere).domains(), ["0.0.0.0:3000", "localhost:3000", "127.0.0.1:3000"]);
    }
}
