//! The HTTP client for one registry configuration (CA, client certificate, proxy), and the
//! options every operation takes.

use std::time::Duration;

/// Per-operation settings; all have sensible defaults.
#[derive(Debug, Clone)]
pub struct Options {
    /// Bound on the whole operation, credentials and every page included (Flux:
    /// `spec.timeout`, defaulting to `spec.interval`, floored at 1 s).
    pub timeout: Duration,
    /// Bound on one HTTP request.
    pub request_timeout: Duration,
    /// Tags asked for per page (`?n=`). 1000 is what ECR accepts at most.
    pub page_size: usize,
    /// Attempts per request for retryable failures (408, 429, 5xx, connection errors).
    pub max_attempts: u32,
    /// First retry delay; doubles per attempt with jitter, unless `Retry-After` says otherwise.
    pub initial_backoff: Duration,
    /// Largest retry delay taken from our own backoff (a `Retry-After` may ask for more, up to
    /// the deadline).
    pub max_backoff: Duration,
    /// Stop after this many pages (a registry whose `Link` never ends is broken).
    pub max_pages: usize,
    /// Use plain HTTP (`spec.insecure`).
    pub insecure: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            timeout: Duration::from_mins(1),
            request_timeout: Duration::from_secs(30),
            page_size: 1000,
            max_attempts: 5,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(10),
            max_pages: 100_000,
            insecure: false,
        }
    }
}

impl Options {
    /// Flux's rule for `spec.timeout`: default to the interval, never below one second.
    #[must_use]
    pub fn scan_timeout(timeout: Option<Duration>, interval: Duration) -> Duration {
        timeout.unwrap_or(interval).max(Duration::from_secs(1))
    }
}

/// An HTTP client set up for a registry's TLS and proxy needs. Cheap to clone; share it
/// between scans of repositories with the same settings.
#[derive(Debug, Clone)]
pub struct Client {
    pub(crate) http: reqwest::Client,
}

/// Why a [`Client`] could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The CA bundle is not PEM certificates.
    #[error("the CA certificate is not a valid PEM certificate bundle: {0}")]
    Ca(#[source] reqwest::Error),
    /// The client certificate or key is not valid PEM.
    #[error("the client certificate and key are not a valid PEM pair: {0}")]
    ClientCertificate(#[source] reqwest::Error),
    /// The proxy address is not a URL.
    #[error("the proxy address is not a valid URL: {0}")]
    Proxy(#[source] reqwest::Error),
    /// The TLS stack refused the configuration.
    #[error("cannot set up the HTTP client: {0}")]
    Http(#[source] reqwest::Error),
}

impl BuildError {
    /// Bad certificates or proxy settings stay bad until the configuration changes.
    #[must_use]
    pub fn is_transient(&self) -> bool {
        false
    }
}

/// Builds a [`Client`].
#[derive(Debug, Default)]
pub struct ClientBuilder {
    ca_pem: Option<Vec<u8>>,
    identity_pem: Option<Vec<u8>>,
    proxy: Option<(String, Option<(String, String)>)>,
    user_agent: Option<String>,
}

impl ClientBuilder {
    /// Trusts these PEM certificates in addition to the system roots (`ca.crt`).
    #[must_use]
    pub fn ca_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.ca_pem = Some(pem.into());
        self
    }

    /// Presents a client certificate (mTLS): `tls.crt` and `tls.key`, PEM.
    #[must_use]
    pub fn client_certificate(mut self, cert_pem: &[u8], key_pem: &[u8]) -> Self {
        let mut both = cert_pem.to_vec();
        both.push(b'\n');
        both.extend_from_slice(key_pem);
        self.identity_pem = Some(both);
        self
    }

    /// Sends every request through this proxy (Flux's `proxySecretRef`); the environment's
    /// `HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY` and `NO_PROXY` are then ignored.
    #[must_use]
    pub fn proxy(mut self, address: &str, credentials: Option<(&str, &str)>) -> Self {
        self.proxy = Some((
            address.to_owned(),
            credentials.map(|(u, p)| (u.to_owned(), p.to_owned())),
        ));
        self
    }

    /// Overrides the `User-Agent` header.
    #[must_use]
    pub fn user_agent(mut self, agent: &str) -> Self {
        self.user_agent = Some(agent.to_owned());
        self
    }

    /// A digest of everything this builder would put into a client (CA, client certificate,
    /// proxy and its credentials, user agent): equal fingerprints build interchangeable
    /// clients, so callers can share one instead of building it again. The secrets go into a
    /// hash, never into the key in clear.
    #[must_use]
    pub fn fingerprint(&self) -> [u8; 32] {
        use sha2::{Digest as _, Sha256};
        let mut hash = Sha256::new();
        let mut field = |value: Option<&[u8]>| match value {
            None => hash.update([0]),
            Some(bytes) => {
                hash.update([1]);
                hash.update((bytes.len() as u64).to_le_bytes());
                hash.update(bytes);
            }
        };
        field(self.ca_pem.as_deref());
        field(self.identity_pem.as_deref());
        let proxy = self.proxy.as_ref();
        field(proxy.map(|(address, _)| address.as_bytes()));
        let credentials = proxy.and_then(|(_, c)| c.as_ref());
        field(credentials.map(|(user, _)| user.as_bytes()));
        field(credentials.map(|(_, password)| password.as_bytes()));
        field(self.user_agent.as_deref().map(str::as_bytes));
        hash.finalize().into()
    }

    /// Builds the client. Proxies from the environment (`HTTP_PROXY`, `HTTPS_PROXY`,
    /// `ALL_PROXY`, upper or lower case, minus `NO_PROXY`) apply unless
    /// [`ClientBuilder::proxy`] set one. Unlike Go, loopback registries are proxied too when
    /// these are set; list them in `NO_PROXY` to avoid it.
    pub fn build(self) -> Result<Client, BuildError> {
        let agent = self
            .user_agent
            .unwrap_or_else(|| concat!("imagebump/", env!("CARGO_PKG_VERSION")).to_owned());
        // Up to 10 redirects, as Go's client; reqwest drops the Authorization header when a
        // redirect leaves the host, so credentials never follow a bounce elsewhere.
        let mut builder = reqwest::Client::builder()
            .user_agent(agent)
            .redirect(reqwest::redirect::Policy::limited(10))
            .connect_timeout(Duration::from_secs(30));
        if let Some(pem) = &self.ca_pem {
            let certs = reqwest::Certificate::from_pem_bundle(pem).map_err(BuildError::Ca)?;
            builder = builder.tls_certs_merge(certs);
        }
        if let Some(pem) = &self.identity_pem {
            let identity = reqwest::Identity::from_pem(pem).map_err(BuildError::ClientCertificate)?;
            builder = builder.identity(identity);
        }
        if let Some((address, credentials)) = &self.proxy {
            let mut proxy = reqwest::Proxy::all(address).map_err(BuildError::Proxy)?;
            if let Some((user, password)) = credentials {
                proxy = proxy.basic_auth(user, password);
            }
            builder = builder.proxy(proxy);
        }
        Ok(Client {
            http: builder.build().map_err(BuildError::Http)?,
        })
    }
}

impl Client {
    /// A client with system roots and environment proxies.
    pub fn new() -> Result<Self, BuildError> {
        ClientBuilder::default().build()
    }

    /// Starts a [`ClientBuilder`].
    #[must_use]
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_settings_share_a_fingerprint_and_any_difference_changes_it() {
        let proxied = |password: &str| Client::builder().proxy("http://proxy:3128", Some(("bot", password)));
        assert_eq!(proxied("a").fingerprint(), proxied("a").fingerprint());
        assert_ne!(proxied("a").fingerprint(), proxied("b").fingerprint());
        assert_ne!(Client::builder().fingerprint(), proxied("a").fingerprint());
        assert_ne!(
            Client::builder().ca_pem(b"x".to_vec()).fingerprint(),
            Client::builder().fingerprint()
        );
        // Field boundaries count: the CA "ab" is not the CA "a" plus something else.
        assert_ne!(
            Client::builder().ca_pem(b"ab".to_vec()).fingerprint(),
            Client::builder()
                .ca_pem(b"a".to_vec())
                .user_agent("b")
                .fingerprint()
        );
    }
}
