//! One authenticated conversation with a registry about one repository: scheme detection,
//! the `/v2/` challenge, Basic or Bearer-token auth, retries with backoff and `Retry-After`,
//! and the deadline that bounds it all.
//!
//! Operations (`list_tags`, `digest`) build a [`Session`] and call [`Session::send`]; every
//! failure below that is a [`Error`] that names the registry, the URL path, the status and
//! what the registry said, and never a credential.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::net::IpAddr;
use std::time::{Duration, Instant, SystemTime};

use base64::Engine;
use imagebump_auth::Credential;
use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderMap, RETRY_AFTER, WWW_AUTHENTICATE};
use reqwest::{Method, Response, StatusCode};
use url::Url;

use crate::client::{Client, Options};
use crate::reference::{ImageRef, Scheme, split_port};

/// A request to a registry failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// No connection (refused, reset, DNS, TLS handshake).
    #[error("registry {registry}: cannot reach {path}: {reason}")]
    Connect {
        /// Registry host.
        registry: String,
        /// URL path and query.
        path: String,
        /// The network error.
        reason: String,
    },
    /// The registry's TLS certificate is not trusted (wrong host, expired, or signed by a CA
    /// that is not in the system roots nor in `certSecretRef`'s `ca.crt`).
    #[error("registry {registry}: TLS certificate rejected for {path}: {reason}")]
    Certificate {
        /// Registry host.
        registry: String,
        /// URL path and query.
        path: String,
        /// The TLS error.
        reason: String,
    },
    /// The registry speaks TLS but ended the handshake; most often it demands a client
    /// certificate that was not given.
    #[error(
        "registry {registry}: TLS handshake failed for {path} (does the registry require a client \
         certificate? give tls.crt and tls.key): {reason}"
    )]
    TlsHandshake {
        /// Registry host.
        registry: String,
        /// URL path and query.
        path: String,
        /// The TLS error.
        reason: String,
    },
    /// One request took longer than the request timeout.
    #[error("registry {registry}: {path} did not answer within {after:?}")]
    Timeout {
        /// Registry host.
        registry: String,
        /// URL path and query.
        path: String,
        /// The request timeout.
        after: Duration,
    },
    /// The whole operation ran out of time (`spec.timeout`).
    #[error("registry {registry}: gave up on {path}: the {timeout:?} timeout for this scan ran out{}", last_note(.last.as_deref()))]
    DeadlineExceeded {
        /// Registry host.
        registry: String,
        /// URL path and query.
        path: String,
        /// The operation's timeout.
        timeout: Duration,
        /// The failure that was being retried, if any.
        last: Option<String>,
    },
    /// The proxy refused our proxy credentials (407).
    #[error("registry {registry}: the proxy refused the proxy credentials (407) for {path}")]
    ProxyAuthenticationFailed {
        /// Registry host.
        registry: String,
        /// URL path and query.
        path: String,
    },
    /// The registry refused the credentials (401/403), or demands some and none were given.
    #[error("registry {registry}: authentication failed for {path}: {status} {message}")]
    AuthenticationFailed {
        /// Registry host.
        registry: String,
        /// URL path and query.
        path: String,
        /// 401 or 403.
        status: u16,
        /// What the registry said.
        message: String,
    },
    /// The repository or tag does not exist (404).
    #[error("registry {registry}: {path}: 404 not found: {message}")]
    NotFound {
        /// Registry host.
        registry: String,
        /// URL path and query.
        path: String,
        /// What the registry said.
        message: String,
    },
    /// Any other unexpected status (after retries, for retryable ones).
    #[error("registry {registry}: {path}: {status} {message}")]
    Status {
        /// Registry host.
        registry: String,
        /// URL path and query.
        path: String,
        /// The HTTP status.
        status: u16,
        /// What the registry said.
        message: String,
    },
    /// The token endpoint named by the registry's challenge failed.
    #[error("registry {registry}: token request to {realm} failed: {reason}")]
    Token {
        /// Registry host.
        registry: String,
        /// The token endpoint (scheme, host and path only).
        realm: String,
        /// What went wrong.
        reason: String,
        /// Whether trying again later may help.
        transient: bool,
    },
    /// The challenge points somewhere we refuse to send credentials to.
    #[error("registry {registry}: refusing token realm {realm}: {reason}")]
    UnsafeRealm {
        /// Registry host.
        registry: String,
        /// The realm as given (scheme, host and path only).
        realm: String,
        /// Why.
        reason: &'static str,
    },
    /// The response body could not be read or was too large.
    #[error("registry {registry}: {path}: bad response body: {reason}")]
    Body {
        /// Registry host.
        registry: String,
        /// URL path and query.
        path: String,
        /// What went wrong.
        reason: String,
    },
}

fn last_note(last: Option<&str>) -> String {
    last.map_or_else(String::new, |l| format!(" (last error: {l})"))
}

impl Error {
    /// Whether trying again later may help. Authentication failures and refused realms need
    /// a configuration change; a missing repository may still be pushed.
    #[must_use]
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Connect { .. }
            | Error::Timeout { .. }
            | Error::DeadlineExceeded { .. }
            | Error::NotFound { .. }
            | Error::Body { .. } => true,
            Error::Status { status, .. } => retryable_status(*status),
            Error::Token { transient, .. } => *transient,
            Error::AuthenticationFailed { .. }
            | Error::ProxyAuthenticationFailed { .. }
            | Error::UnsafeRealm { .. }
            | Error::Certificate { .. }
            | Error::TlsHandshake { .. } => false,
        }
    }

    /// The HTTP status involved, if any.
    #[must_use]
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::AuthenticationFailed { status, .. } | Error::Status { status, .. } => Some(*status),
            Error::NotFound { .. } => Some(404),
            _ => None,
        }
    }
}

/// 408, 429, 5xx that proxies and registries use for "try again" (499 and 522 included, as
/// go-containerregistry does).
fn retryable_status(status: u16) -> bool {
    matches!(status, 408 | 429 | 499 | 500 | 502 | 503 | 504 | 522)
}

/// Largest body read from a registry (a tag page of 1000 long tags is ~150 KiB).
const MAX_BODY: usize = 32 * 1024 * 1024;

/// A token endpoint's answer: Docker's `token`, or OAuth2's `access_token`.
#[derive(serde::Deserialize)]
struct TokenResponse {
    token: Option<String>,
    access_token: Option<String>,
}

/// An open conversation about one repository.
pub(crate) struct Session<'a> {
    client: &'a Client,
    image: &'a ImageRef,
    credential: &'a Credential,
    options: &'a Options,
    deadline: Instant,
    base: Url,
    authorization: Option<String>,
    /// Jitter source, seeded per session.
    random: RandomState,
}

impl<'a> Session<'a> {
    /// Decides the scheme and authenticates, as a client's first contact with `/v2/` does.
    pub(crate) async fn open(
        client: &'a Client,
        image: &'a ImageRef,
        credential: &'a Credential,
        options: &'a Options,
    ) -> Result<Session<'a>, Error> {
        let deadline = Instant::now() + options.timeout;
        let make = |scheme: &str| -> Session<'a> {
            let base = Url::parse(&format!("{scheme}://{}/", image.registry()))
                .unwrap_or_else(|_| unreachable_url());
            Session {
                client,
                image,
                credential,
                options,
                deadline,
                base,
                authorization: None,
                random: RandomState::new(),
            }
        };
        let mut session = match image.scheme(options.insecure) {
            Scheme::Https => make("https"),
            Scheme::Http => make("http"),
            Scheme::HttpsThenHttp => {
                let mut https = make("https");
                // One quick probe: a plain-HTTP registry answers a TLS hello with garbage.
                let tls_failure = match https.ping(1).await {
                    Err(e @ (Error::Connect { .. } | Error::Timeout { .. })) => e,
                    other => {
                        other?;
                        return Ok(https);
                    }
                };
                // If plain HTTP cannot be spoken either (no answer, or the 400 a TLS server
                // gives a plain request), the registry does speak TLS and the handshake failed
                // (e.g. it demands a client certificate): the TLS error is the useful one.
                let mut http = make("http");
                return match http.ping(options.max_attempts).await {
                    Ok(()) => Ok(http),
                    // The 400 proves a TLS server: the handshake itself went wrong.
                    Err(Error::Status { status: 400, .. }) => Err(match tls_failure {
                        Error::Connect {
                            registry,
                            path,
                            reason,
                        } => Error::TlsHandshake {
                            registry,
                            path,
                            reason,
                        },
                        other => other,
                    }),
                    Err(Error::Connect { .. } | Error::Timeout { .. }) => Err(tls_failure),
                    Err(e) => Err(e),
                };
            }
        };
        session.ping(options.max_attempts).await?;
        Ok(session)
    }

    /// `GET /v2/`: learns how the registry wants to be authenticated.
    async fn ping(&mut self, attempts: u32) -> Result<(), Error> {
        let url = self.url("v2/");
        let response = self
            .attempt_with_retries(&Method::GET, &url, None, false, attempts)
            .await?;
        match response.status() {
            s if s.is_success() => {
                // Anonymous access works at the root; still send Basic credentials when we
                // have them, since some registries check them per repository.
                self.authorization = self.basic_header();
                Ok(())
            }
            StatusCode::UNAUTHORIZED => self.authenticate(response.headers(), &url).await,
            _ => Err(self.status_error(&url, response).await),
        }
    }

    fn basic_header(&self) -> Option<String> {
        match self.credential {
            Credential::Basic { username, password } => {
                let raw = format!("{username}:{}", password.expose());
                Some(format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(raw)
                ))
            }
            _ => None,
        }
    }

    /// Answers a 401 challenge: Basic credentials, or a Bearer token from the realm.
    async fn authenticate(&mut self, headers: &HeaderMap, url: &Url) -> Result<(), Error> {
        let challenge = headers
            .get_all(WWW_AUTHENTICATE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter_map(Challenge::parse)
            .min_by_key(|c| u8::from(c.scheme != "bearer"));
        match challenge {
            Some(c) if c.scheme == "bearer" => {
                self.authorization = Some(format!("Bearer {}", self.fetch_token(&c).await?));
                Ok(())
            }
            Some(_) | None => {
                self.authorization = self.basic_header();
                if self.authorization.is_none() {
                    return Err(Error::AuthenticationFailed {
                        registry: self.registry(),
                        path: path_of(url),
                        status: 401,
                        message: "the registry requires credentials and none are configured (secretRef)"
                            .into(),
                    });
                }
                Ok(())
            }
        }
    }

    /// Gets a Bearer token for `repository:<repo>:pull` from the challenge's realm.
    async fn fetch_token(&self, challenge: &Challenge) -> Result<String, Error> {
        if let Credential::RegistryToken(token) = self.credential {
            return Ok(token.expose().to_owned());
        }
        let realm = self.check_realm(challenge.param("realm"))?;
        let token_error = |reason: String, transient: bool| Error::Token {
            registry: self.registry(),
            realm: display_realm(&realm),
            reason,
            transient,
        };
        let scope = format!("repository:{}:pull", self.image.repository());
        let service = challenge.param("service").unwrap_or_default();
        let timeout = self
            .request_timeout()
            .ok_or_else(|| self.deadline_error(&realm, None))?;
        let request = if let Credential::IdentityToken(refresh) = self.credential {
            // OAuth2 refresh-token grant, as docker does with an `identitytoken`.
            self.client.http.post(realm.clone()).form(&[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh.expose()),
                ("service", service),
                ("scope", &scope),
                ("client_id", "imagebump"),
            ])
        } else {
            {
                let mut url = realm.clone();
                {
                    let mut query = url.query_pairs_mut();
                    if !service.is_empty() {
                        query.append_pair("service", service);
                    }
                    query.append_pair("scope", &scope);
                }
                let mut request = self.client.http.get(url);
                if let Some(basic) = self.basic_header() {
                    request = request.header(AUTHORIZATION, basic);
                }
                request
            }
        };
        let response = request
            .timeout(timeout)
            .send()
            .await
            .map_err(|e| token_error(describe_reqwest(&e), true))?;
        let status = response.status();
        if !status.is_success() {
            let message = registry_message(&read_capped(response).await.unwrap_or_default());
            let transient = retryable_status(status.as_u16());
            return Err(token_error(format!("{} {message}", status.as_u16()), transient));
        }
        let body = read_capped(response).await.map_err(|e| token_error(e, true))?;
        let parsed: TokenResponse = serde_json::from_slice(&body)
            .map_err(|e| token_error(format!("the answer is not token JSON: {e}"), true))?;
        parsed
            .token
            .or(parsed.access_token)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| token_error("the answer carries no token".into(), true))
    }

    /// SSRF guard: the realm must use HTTPS (HTTP only when the registry itself is plain
    /// HTTP), and may point at a private or loopback address only if that is the registry's
    /// own host.
    fn check_realm(&self, realm: Option<&str>) -> Result<Url, Error> {
        let refuse = |realm: &str, reason| Error::UnsafeRealm {
            registry: self.registry(),
            realm: realm.chars().take(200).collect(),
            reason,
        };
        let raw = realm.ok_or_else(|| refuse("", "the Bearer challenge names no realm"))?;
        let url = Url::parse(raw).map_err(|_| refuse(raw, "not an absolute URL"))?;
        let plain_ok = self.base.scheme() == "http";
        match url.scheme() {
            "https" => {}
            "http" if plain_ok => {}
            _ => {
                return Err(refuse(
                    raw,
                    "only https realms are accepted for an https registry",
                ));
            }
        }
        let realm_host = url
            .host_str()
            .unwrap_or_default()
            .trim_start_matches('[')
            .trim_end_matches(']');
        let (registry_host, _) = split_port(self.image.registry());
        let registry_host = registry_host.trim_start_matches('[').trim_end_matches(']');
        if realm_host != registry_host && realm_host.parse::<IpAddr>().is_ok_and(is_internal) {
            return Err(refuse(
                raw,
                "a private, loopback or link-local address that is not the registry's",
            ));
        }
        Ok(url)
    }

    /// Sends a request, answering one fresh 401 challenge (an expired token) by
    /// re-authenticating, and retrying what is retryable.
    pub(crate) async fn send(
        &mut self,
        method: Method,
        url: &Url,
        accept: Option<&str>,
    ) -> Result<Response, Error> {
        let attempts = self.options.max_attempts;
        let response = self
            .attempt_with_retries(&method, url, accept, true, attempts)
            .await?;
        // A 401 after authenticating is worth one more try only for a Bearer challenge (the
        // token expired, or the registry wants another scope); Basic credentials that were
        // refused once will be refused again.
        if response.status() != StatusCode::UNAUTHORIZED || !wants_bearer(response.headers()) {
            return self.check(url, response).await;
        }
        self.authenticate(response.headers(), url).await?;
        let response = self
            .attempt_with_retries(&method, url, accept, true, attempts)
            .await?;
        self.check(url, response).await
    }

    async fn check(&self, url: &Url, response: Response) -> Result<Response, Error> {
        if response.status().is_success() {
            Ok(response)
        } else {
            Err(self.status_error(url, response).await)
        }
    }

    /// Retries connection errors and retryable statuses with backoff; returns the first
    /// response that is not retryable (which may be an error status).
    async fn attempt_with_retries(
        &self,
        method: &Method,
        url: &Url,
        accept: Option<&str>,
        authorize: bool,
        max_attempts: u32,
    ) -> Result<Response, Error> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let timeout = self
                .request_timeout()
                .ok_or_else(|| self.deadline_error(url, None))?;
            let mut request = self
                .client
                .http
                .request(method.clone(), url.clone())
                .timeout(timeout);
            if let Some(accept) = accept {
                request = request.header(ACCEPT, accept);
            }
            if let (true, Some(auth)) = (authorize, &self.authorization) {
                request = request.header(AUTHORIZATION, auth);
            }
            let (failure, retry_after) = match request.send().await {
                // A certificate problem will not go away by retrying, and it proves the
                // server speaks TLS (so no plain-HTTP fallback either).
                Err(e) if is_certificate_error(&e) => {
                    return Err(Error::Certificate {
                        registry: self.registry(),
                        path: path_of(url),
                        reason: describe_reqwest(&e),
                    });
                }
                Ok(response) if !retryable_status(response.status().as_u16()) => return Ok(response),
                Ok(response) => {
                    let retry_after = retry_after(response.headers());
                    (self.status_error(url, response).await, retry_after)
                }
                Err(e) if e.is_timeout() => (
                    Error::Timeout {
                        registry: self.registry(),
                        path: path_of(url),
                        after: timeout,
                    },
                    None,
                ),
                Err(e) => (
                    Error::Connect {
                        registry: self.registry(),
                        path: path_of(url),
                        reason: describe_reqwest(&e),
                    },
                    None,
                ),
            };
            if attempt >= max_attempts {
                return Err(failure);
            }
            let delay = retry_after.unwrap_or_else(|| self.backoff(attempt));
            if Instant::now() + delay >= self.deadline {
                return Err(self.deadline_error(url, Some(&failure)));
            }
            tokio::time::sleep(delay).await;
        }
    }

    /// Exponential backoff with ±20 % jitter, capped.
    fn backoff(&self, attempt: u32) -> Duration {
        let base = self
            .options
            .initial_backoff
            .saturating_mul(1 << attempt.saturating_sub(1).min(16))
            .min(self.options.max_backoff);
        let mut hasher = self.random.build_hasher();
        hasher.write_u32(attempt);
        let unit = (hasher.finish() % 1000) as f64 / 1000.0; // 0.0 ..< 1.0
        base.mul_f64(0.8 + 0.4 * unit)
    }

    fn request_timeout(&self) -> Option<Duration> {
        let left = self.deadline.checked_duration_since(Instant::now())?;
        (!left.is_zero()).then(|| left.min(self.options.request_timeout))
    }

    fn deadline_error(&self, url: &Url, last: Option<&Error>) -> Error {
        Error::DeadlineExceeded {
            registry: self.registry(),
            path: path_of(url),
            timeout: self.options.timeout,
            last: last.map(ToString::to_string),
        }
    }

    async fn status_error(&self, url: &Url, response: Response) -> Error {
        let status = response.status().as_u16();
        let message = registry_message(&read_capped(response).await.unwrap_or_default());
        let (registry, path) = (self.registry(), path_of(url));
        match status {
            401 | 403 => Error::AuthenticationFailed {
                registry,
                path,
                status,
                message,
            },
            404 => Error::NotFound {
                registry,
                path,
                message,
            },
            _ => Error::Status {
                registry,
                path,
                status,
                message,
            },
        }
    }

    /// Reads a successful body, capped.
    pub(crate) async fn body(&self, url: &Url, response: Response) -> Result<Vec<u8>, Error> {
        read_capped(response).await.map_err(|reason| Error::Body {
            registry: self.registry(),
            path: path_of(url),
            reason,
        })
    }

    /// `base` joined with a path such as `v2/org/app/tags/list`.
    pub(crate) fn url(&self, path: &str) -> Url {
        self.base.join(path).unwrap_or_else(|_| self.base.clone())
    }

    /// The scheme and host requests go to, for the same-origin check on `Link`.
    pub(crate) fn base(&self) -> &Url {
        &self.base
    }

    pub(crate) fn registry(&self) -> String {
        self.image.registry().to_owned()
    }
}

/// A `Url` that cannot fail to parse, for the impossible case of a host `ImageRef` accepted
/// but `Url` does not.
fn unreachable_url() -> Url {
    Url::parse("https://invalid.invalid/").unwrap_or_else(|_| unreachable!("a constant URL parses"))
}

/// Whether rustls refused the peer's certificate. The TLS error sits inside `io::Error`s
/// inside hyper's error; `io::Error::source` skips the error it wraps, so those are unwrapped
/// with `get_ref`.
fn is_certificate_error(error: &reqwest::Error) -> bool {
    let mut next: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(error);
    while let Some(current) = next {
        if let Some(tls) = current.downcast_ref::<rustls::Error>() {
            return matches!(
                tls,
                rustls::Error::InvalidCertificate(_) | rustls::Error::NoCertificatesPresented
            );
        }
        next = match current
            .downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::get_ref)
        {
            Some(inner) => Some(inner),
            None => current.source(),
        };
    }
    false
}

fn wants_bearer(headers: &HeaderMap) -> bool {
    headers
        .get_all(WWW_AUTHENTICATE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(Challenge::parse)
        .any(|c| c.scheme == "bearer")
}

/// Loopback, private (RFC 1918 / ULA), link-local and unspecified addresses.
fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback() || v4.is_private() || v4.is_link_local() || v4.is_unspecified(),
        IpAddr::V6(v6) => {
            v6.is_loopback()
                || v6.is_unspecified()
                || (v6.segments()[0] & 0xfe00) == 0xfc00
                || (v6.segments()[0] & 0xffc0) == 0xfe80
        }
    }
}

/// `Retry-After` in seconds or as an HTTP date.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(when.duration_since(SystemTime::now()).unwrap_or(Duration::ZERO))
}

/// The path and query of a URL: what error messages show (never credentials: we put none in
/// URLs).
pub(crate) fn path_of(url: &Url) -> String {
    match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_owned(),
    }
}

fn display_realm(url: &Url) -> String {
    format!(
        "{}://{}{}",
        url.scheme(),
        url.host_str().unwrap_or_default(),
        url.path()
    )
}

/// The distribution error format `{"errors":[{"code","message"}]}`, or the start of the body.
fn registry_message(body: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct Errors {
        errors: Vec<ErrorItem>,
    }
    #[derive(serde::Deserialize)]
    struct ErrorItem {
        #[serde(default)]
        code: String,
        #[serde(default)]
        message: String,
    }
    if let Ok(parsed) = serde_json::from_slice::<Errors>(body)
        && !parsed.errors.is_empty()
    {
        return parsed
            .errors
            .iter()
            .map(|e| format!("{}: {}", e.code, e.message))
            .collect::<Vec<_>>()
            .join("; ");
    }
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    match text.char_indices().nth(200) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

async fn read_capped(mut response: Response) -> Result<Vec<u8>, String> {
    if response.content_length().is_some_and(|n| n > MAX_BODY as u64) {
        return Err(format!("larger than {MAX_BODY} bytes"));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| describe_reqwest(&e))? {
        if body.len() + chunk.len() > MAX_BODY {
            return Err(format!("larger than {MAX_BODY} bytes"));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// reqwest's error with its causes, minus the URL (which we print ourselves).
fn describe_reqwest(error: &reqwest::Error) -> String {
    let mut parts = Vec::new();
    let mut source: Option<&dyn std::error::Error> = std::error::Error::source(error);
    while let Some(s) = source {
        parts.push(s.to_string());
        source = s.source();
    }
    if parts.is_empty() {
        let mut text = error.to_string();
        if let Some(url) = error.url() {
            text = text.replace(url.as_str(), "");
        }
        parts.push(text);
    }
    parts.dedup();
    parts.join(": ")
}

/// A `WWW-Authenticate` challenge: scheme and parameters.
#[derive(Debug)]
struct Challenge {
    scheme: String,
    params: Vec<(String, String)>,
}

impl Challenge {
    /// `Bearer realm="https://auth/token",service="registry",scope="repository:a:pull"`.
    fn parse(header: &str) -> Option<Challenge> {
        let header = header.trim();
        let (scheme, rest) = header.split_once(char::is_whitespace).unwrap_or((header, ""));
        let mut params = Vec::new();
        let mut rest = rest.trim();
        while !rest.is_empty() {
            let (key, after) = rest.split_once('=')?;
            let after = after.trim_start();
            let (value, remaining) = if let Some(quoted) = after.strip_prefix('"') {
                let end = quoted.find('"')?;
                (&quoted[..end], &quoted[end + 1..])
            } else {
                after.split_once(',').unwrap_or((after, ""))
            };
            params.push((key.trim().to_ascii_lowercase(), value.to_owned()));
            rest = remaining.trim_start().trim_start_matches(',').trim_start();
        }
        Some(Challenge {
            scheme: scheme.to_ascii_lowercase(),
            params,
        })
    }

    fn param(&self, key: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges() {
        let c = Challenge::parse(
            r#"Bearer realm="https://auth.io/token",service="registry.io",scope="repository:a/b:pull""#,
        )
        .expect("parses");
        assert_eq!(c.scheme, "bearer");
        assert_eq!(c.param("realm"), Some("https://auth.io/token"));
        assert_eq!(c.param("service"), Some("registry.io"));
        assert_eq!(c.param("scope"), Some("repository:a/b:pull"));
        let c = Challenge::parse(r#"Basic realm="test-realm""#).expect("parses");
        assert_eq!(
            (c.scheme.as_str(), c.param("realm")),
            ("basic", Some("test-realm"))
        );
    }

    #[test]
    fn registry_messages() {
        let body = br#"{"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known to registry","detail":{}}]}"#;
        assert_eq!(
            registry_message(body),
            "NAME_UNKNOWN: repository name not known to registry"
        );
        assert_eq!(registry_message(b"  plain text  "), "plain text");
    }

    #[test]
    fn retry_after_forms() {
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, "3".parse().expect("header"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(3)));
        h.insert(
            RETRY_AFTER,
            "Wed, 21 Oct 2015 07:28:00 GMT".parse().expect("header"),
        );
        assert_eq!(retry_after(&h), Some(Duration::ZERO));
    }
}
