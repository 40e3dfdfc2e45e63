//! Image repository references (`ImageRepository.spec.image`) and their canonical names.
//!
//! Follows image-reflector-controller: no scheme, no tag or digest; the first path element is a
//! registry host only if it contains `.` or `:` or is `localhost`, otherwise the image lives on
//! Docker Hub, whose canonical host is `index.docker.io` and whose one-element names get
//! `library/`.

use std::fmt;
use std::net::IpAddr;

/// Docker Hub's canonical registry host.
pub const DOCKER_HUB: &str = "index.docker.io";

/// A parsed repository reference.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ImageRef {
    registry: String,
    repository: String,
}

/// How to reach a registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// HTTPS only.
    Https,
    /// HTTPS first, plain HTTP if the registry does not speak TLS (loopback and private
    /// addresses, as Flux allows).
    HttpsThenHttp,
    /// Plain HTTP (`insecure: true`).
    Http,
}

/// Why `spec.image` is not a repository reference.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// `https://ghcr.io/org/app`.
    #[error("image {image:?} should not include URL scheme; remove '{scheme}://'")]
    Scheme {
        /// The image as written (truncated).
        image: String,
        /// The scheme found.
        scheme: String,
    },
    /// `ghcr.io/org/app:1.0` or `…@sha256:…`.
    #[error("image {image:?} should not include a tag or digest; list the repository only")]
    TagOrDigest {
        /// The image as written (truncated).
        image: String,
    },
    /// Empty image, bad registry host, or a path element outside the allowed characters.
    #[error("image {image:?} is not a valid repository reference: {reason}")]
    Invalid {
        /// The image as written (truncated).
        image: String,
        /// What is wrong.
        reason: &'static str,
    },
}

impl Error {
    /// A malformed reference stays malformed: the spec must change.
    #[must_use]
    pub fn is_transient(&self) -> bool {
        false
    }
}

impl ImageRef {
    /// Parses `spec.image`.
    pub fn parse(image: &str) -> Result<Self, Error> {
        let shown = || truncate(image);
        if let Some((scheme, _)) = image.split_once("://") {
            return Err(Error::Scheme {
                image: shown(),
                scheme: truncate(scheme),
            });
        }
        let invalid = |reason| Error::Invalid {
            image: shown(),
            reason,
        };
        if image.is_empty() {
            return Err(invalid("it is empty"));
        }
        let (first, rest) = match image.split_once('/') {
            Some((first, rest)) => (first, Some(rest)),
            None => (image, None),
        };
        let first_is_host = first.contains('.') || first.contains(':') || first == "localhost";
        let (registry, repository) = match rest {
            Some(rest) if first_is_host => (first.to_owned(), rest.to_owned()),
            _ => {
                let repository = if rest.is_none() {
                    format!("library/{image}")
                } else {
                    image.to_owned()
                };
                (DOCKER_HUB.to_owned(), repository)
            }
        };
        if repository.contains(':') || repository.contains('@') {
            return Err(Error::TagOrDigest { image: shown() });
        }
        if !valid_host(&registry) {
            return Err(invalid("the registry host is malformed"));
        }
        if repository.is_empty() || repository.len() > 255 {
            return Err(invalid("the repository path must be 1 to 255 characters"));
        }
        if !repository.split('/').all(valid_path_component) {
            return Err(invalid(
                "path elements are lowercase letters and digits, separated by '.', '_', '__' or dashes",
            ));
        }
        let registry = if registry == "docker.io" {
            DOCKER_HUB.to_owned()
        } else {
            registry
        };
        // go-containerregistry adds `library/` to single-element Docker Hub names however the
        // host is spelled: `docker.io/alpine` is `index.docker.io/library/alpine`.
        let repository = if registry == DOCKER_HUB && !repository.contains('/') {
            format!("library/{repository}")
        } else {
            repository
        };
        Ok(ImageRef { registry, repository })
    }

    /// The registry host, with port if any (`index.docker.io`, `127.0.0.1:5000`).
    #[must_use]
    pub fn registry(&self) -> &str {
        &self.registry
    }

    /// The repository path (`library/alpine`, `org/app`).
    #[must_use]
    pub fn repository(&self) -> &str {
        &self.repository
    }

    /// `registry/repository`, Flux's `status.canonicalImageName`.
    #[must_use]
    pub fn canonical_name(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }

    /// The scheme to use: HTTP when `insecure`, HTTPS with an HTTP fallback for loopback and
    /// private addresses, HTTPS otherwise.
    #[must_use]
    pub fn scheme(&self, insecure: bool) -> Scheme {
        if insecure {
            Scheme::Http
        } else if may_be_plain_http(&self.registry) {
            Scheme::HttpsThenHttp
        } else {
            Scheme::Https
        }
    }
}

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)
    }
}

/// `host[:port]` with a DNS name, IPv4 address or bracketed IPv6 address.
fn valid_host(registry: &str) -> bool {
    let (host, port) = split_port(registry);
    let port_ok = port.is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()));
    let host_ok = if let Some(v6) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        v6.parse::<std::net::Ipv6Addr>().is_ok()
    } else {
        !host.is_empty()
            && host
                .split('.')
                .all(|l| !l.is_empty() && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
    };
    host_ok && port_ok
}

/// Splits `host:port`, minding bracketed IPv6 addresses.
pub(crate) fn split_port(registry: &str) -> (&str, Option<&str>) {
    if registry.starts_with('[') {
        return match registry.find("]:") {
            Some(i) => (&registry[..=i], Some(&registry[i + 2..])),
            None => (registry, None),
        };
    }
    match registry.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (registry, None),
    }
}

/// distribution's path component: `[a-z0-9]+` joined by `.`, `_`, `__` or runs of `-`.
fn valid_path_component(component: &str) -> bool {
    let bytes = component.as_bytes();
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if bytes.is_empty() || !alnum(bytes[0]) || !alnum(bytes[bytes.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < bytes.len() {
        if alnum(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && !alnum(bytes[i]) {
            i += 1;
        }
        let separator = &component[start..i];
        let ok = matches!(separator, "." | "_" | "__") || separator.bytes().all(|b| b == b'-');
        if !ok {
            return false;
        }
    }
    true
}

/// Loopback, `localhost`, `*.localhost` and RFC 1918 addresses may serve plain HTTP.
fn may_be_plain_http(registry: &str) -> bool {
    let (host, _) = split_port(registry);
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host == "localhost" || host.ends_with(".localhost") {
        return true;
    }
    match host.parse::<IpAddr>() {
        Ok(IpAddr::V4(ip)) => ip.is_loopback() || ip.is_private(),
        Ok(IpAddr::V6(ip)) => ip.is_loopback(),
        Err(_) => false,
    }
}

fn truncate(text: &str) -> String {
    match text.char_indices().nth(200) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canonical(image: &str) -> String {
        ImageRef::parse(image).map_or_else(|e| format!("error: {e}"), |r| r.canonical_name())
    }

    #[test]
    fn canonical_names_as_flux() {
        let table = [
            ("alpine", "index.docker.io/library/alpine"),
            ("stefanprodan/podinfo", "index.docker.io/stefanprodan/podinfo"),
            (
                "docker.io/stefanprodan/podinfo",
                "index.docker.io/stefanprodan/podinfo",
            ),
            ("docker.io/library/alpine", "index.docker.io/library/alpine"),
            ("docker.io/alpine", "index.docker.io/library/alpine"),
            ("index.docker.io/alpine", "index.docker.io/library/alpine"),
            ("index.docker.io/fluxcd/flux", "index.docker.io/fluxcd/flux"),
            ("ghcr.io/stefanprodan/podinfo", "ghcr.io/stefanprodan/podinfo"),
            ("example.com:9999/foo/bar", "example.com:9999/foo/bar"),
            ("localhost/app", "localhost/app"),
            ("localhost:5000/team/app", "localhost:5000/team/app"),
            ("127.0.0.1:5000/a/b/c", "127.0.0.1:5000/a/b/c"),
            ("[::1]:5000/app", "[::1]:5000/app"),
            ("fluxcd/flux", "index.docker.io/fluxcd/flux"),
        ];
        for (image, want) in table {
            assert_eq!(canonical(image), want, "{image}");
        }
    }

    #[test]
    fn refusals() {
        assert!(
            canonical("https://ghcr.io/org/app").contains("should not include URL scheme; remove 'https://'")
        );
        assert!(canonical("ghcr.io/org/app:1.0").contains("should not include a tag"));
        assert!(canonical("alpine:3").contains("should not include a tag"));
        assert!(canonical("ghcr.io/org/app@sha256:abc").contains("should not include a tag"));
        assert!(canonical("ghcr.io/Org/App").contains("not a valid"));
        assert!(canonical("").contains("not a valid"));
        assert!(canonical("ghcr.io/org//app").contains("not a valid"));
        assert!(canonical("ghcr.io/org/app-").contains("not a valid"));
    }

    #[test]
    fn schemes() {
        let scheme = |image: &str, insecure| ImageRef::parse(image).map(|r| r.scheme(insecure));
        assert_eq!(scheme("ghcr.io/a", false), Ok(Scheme::Https));
        assert_eq!(scheme("ghcr.io/a", true), Ok(Scheme::Http));
        assert_eq!(scheme("127.0.0.1:5000/a", false), Ok(Scheme::HttpsThenHttp));
        assert_eq!(scheme("localhost:5000/a", false), Ok(Scheme::HttpsThenHttp));
        assert_eq!(scheme("registry.localhost/a", false), Ok(Scheme::HttpsThenHttp));
        assert_eq!(scheme("192.168.1.10:5000/a", false), Ok(Scheme::HttpsThenHttp));
        assert_eq!(scheme("8.8.8.8/a", false), Ok(Scheme::Https));
    }
}
