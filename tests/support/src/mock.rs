//! An in-process mock registry for what `docker-registry` 2.8.2 cannot do: tag pagination
//! (`?n=`, `Link: <…>; rel="next"` with `last=` or opaque cursors), cross-host links, faults.

use std::collections::{BTreeMap, VecDeque};
use std::fmt::Write as _;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::Response;
use base64::Engine as _;
use sha2::{Digest as _, Sha256};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

const JSON: &str = "application/json";
const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// How the mock's `Link: <…>; rel="next"` header continues a tag listing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum CursorStyle {
    /// Distribution's style: `</v2/NAME/tags/list?n=N&last=TAG>; rel="next"`. Only `last` is
    /// honoured (not `next_page`).
    #[default]
    Last,
    /// Quay's style: `</v2/NAME/tags/list?next_page=TOKEN>; rel="next"`, where `TOKEN` is opaque
    /// (URL-safe base64) and carries the page size. Only `next_page` is honoured (not `last`),
    /// so a client must follow the `Link` rather than build its own URL.
    Opaque,
}

/// A failure the mock serves instead of a normal `tags/list` answer. Faults are consumed in order,
/// one per `tags/list` request that passes authentication.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Fault {
    /// `429 Too Many Requests` with a `TOOMANYREQUESTS` error body and, when given, this
    /// `Retry-After` header value (seconds or an HTTP date).
    TooManyRequests {
        /// The `Retry-After` value, verbatim.
        retry_after: Option<String>,
    },
    /// This status (e.g. 500, 502, 503) with an `UNKNOWN` error body. Statuses outside
    /// 100..=999 become 500.
    Status(u16),
    /// Waits this long, then answers normally (for timeout tests).
    Slow(Duration),
    /// `200` with `Content-Type: application/json` and a truncated JSON body.
    MalformedJson,
}

/// What a [`MockRegistry`] serves. Build it with the fields or the builder methods:
///
/// ```
/// use imagebump_testsupport::{CursorStyle, Fault, MockConfig};
///
/// let config = MockConfig::default()
///     .repository("team/app", ["1.0.0", "1.1.0", "2.0.0"])
///     .page_size(2)
///     .cursor(CursorStyle::Opaque)
///     .fault(Fault::Status(503));
/// assert_eq!(config.repositories["team/app"].len(), 3);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MockConfig {
    /// Repository name → its tags, served in this order.
    pub repositories: BTreeMap<String, Vec<String>>,
    /// The server's maximum page size. A client's smaller `?n=` is honoured, a larger one is
    /// capped. `None`: no server maximum (everything at once unless the client sends `?n=`).
    pub page_size: Option<usize>,
    /// How `Link` headers continue a listing.
    pub cursor: CursorStyle,
    /// When set, `Link` URLs are absolute, `http://LINK_HOST/v2/…`, instead of relative (for
    /// tests that a client does not follow links to another host).
    pub link_host: Option<String>,
    /// Failures served, in order, to `tags/list` requests (see [`Fault`]).
    pub faults: Vec<Fault>,
    /// When set, every `/v2/` request needs `Authorization: Basic` with these credentials, and
    /// gets `401` with `WWW-Authenticate: Basic realm="mock"` otherwise.
    pub basic_auth: Option<(String, String)>,
}

impl MockConfig {
    /// Adds (or replaces) a repository and its tags.
    #[must_use]
    pub fn repository<I, T>(mut self, name: &str, tags: I) -> Self
    where
        I: IntoIterator<Item = T>,
        T: Into<String>,
    {
        self.repositories
            .insert(name.to_owned(), tags.into_iter().map(Into::into).collect());
        self
    }

    /// Sets the server's maximum page size.
    #[must_use]
    pub fn page_size(mut self, page_size: usize) -> Self {
        self.page_size = Some(page_size);
        self
    }

    /// Sets the cursor style of `Link` headers.
    #[must_use]
    pub fn cursor(mut self, cursor: CursorStyle) -> Self {
        self.cursor = cursor;
        self
    }

    /// Makes `Link` URLs absolute, pointing at `host` (`host` or `host:port`).
    #[must_use]
    pub fn link_host(mut self, host: &str) -> Self {
        self.link_host = Some(host.to_owned());
        self
    }

    /// Appends a fault.
    #[must_use]
    pub fn fault(mut self, fault: Fault) -> Self {
        self.faults.push(fault);
        self
    }

    /// Requires these Basic credentials.
    #[must_use]
    pub fn basic_auth(mut self, user: &str, password: &str) -> Self {
        self.basic_auth = Some((user.to_owned(), password.to_owned()));
        self
    }
}

/// The digest the mock reports for `tag`'s manifest: `sha256:` + hex SHA-256 of the tag name
/// itself. (It is not the digest of the manifest body the mock serves; the mock serves it under
/// both the tag and this digest.)
#[must_use]
pub fn mock_digest(tag: &str) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(tag.as_bytes())))
}

/// `n` distinct, deterministic, semver-like tags: `1.0.0`, `1.0.1`, … `1.0.8`, `1.0.9-rc.1`,
/// `1.1.0`, …, with a `-rc.1` on every 20th from the 10th and `-beta.2` on every 20th from the
/// 20th; the major version goes up every 100 tags.
#[must_use]
pub fn generate_tags(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            let (major, minor, patch) = (1 + i / 100, (i / 10) % 10, i % 10);
            let suffix = match i % 20 {
                9 => "-rc.1",
                19 => "-beta.2",
                _ => "",
            };
            format!("{major}.{minor}.{patch}{suffix}")
        })
        .collect()
}

/// A mock registry serving [`MockConfig`] over plain HTTP on 127.0.0.1, in a task of the
/// current tokio runtime. Dropping it stops the server.
///
/// It answers like distribution does (`Content-Type: application/json`, error bodies
/// `{"errors":[{"code":…,"message":…,"detail":…}]}`, `Docker-Distribution-API-Version`):
///
/// * `GET /v2/` → `200 {}`;
/// * `GET /v2/NAME/tags/list[?n=N][&last=TAG | &next_page=TOKEN]` → `{"name":…,"tags":[…]}`,
///   one page, with `Link: <…>; rel="next"` when more follow; `404 NAME_UNKNOWN` for unknown
///   repositories; `400 PAGINATION_NUMBER_INVALID` for a bad `n`;
/// * `GET`/`HEAD /v2/NAME/manifests/REF` (REF a tag or its [`mock_digest`]) → an OCI image
///   manifest with `Docker-Content-Digest: `[`mock_digest`]`(tag)`; `404 MANIFEST_UNKNOWN`
///   otherwise;
/// * with [`MockConfig::basic_auth`], `401` without the right credentials, everywhere.
#[derive(Debug)]
pub struct MockRegistry {
    addr: SocketAddr,
    host: String,
    base_url: String,
    state: Arc<Shared>,
    shutdown: Option<oneshot::Sender<()>>,
}

#[derive(Debug)]
struct Shared {
    config: MockConfig,
    faults: Mutex<VecDeque<Fault>>,
    tag_requests: AtomicUsize,
    requests: Mutex<Vec<String>>,
}

impl MockRegistry {
    /// Starts serving `config` on a free port of 127.0.0.1.
    ///
    /// # Panics
    ///
    /// When no loopback port can be bound.
    pub async fn start(config: MockConfig) -> MockRegistry {
        Self::start_on(config, SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
            .await
            .expect("binding 127.0.0.1:0 for the mock registry")
    }

    /// Starts serving `config` on `addr` (port 0: any free port).
    pub async fn start_on(config: MockConfig, addr: SocketAddr) -> std::io::Result<MockRegistry> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(Shared {
            faults: Mutex::new(config.faults.iter().cloned().collect()),
            config,
            tag_requests: AtomicUsize::new(0),
            requests: Mutex::new(Vec::new()),
        });
        let app = Router::new().fallback(handle).with_state(Arc::clone(&state));
        let (shutdown, stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let server = axum::serve(listener, app).with_graceful_shutdown(async move {
                let _ = stopped.await;
            });
            if let Err(e) = server.await {
                eprintln!("mock registry on {addr}: {e}");
            }
        });
        let host = addr.to_string();
        Ok(MockRegistry {
            addr,
            base_url: format!("http://{host}"),
            host,
            state,
            shutdown: Some(shutdown),
        })
    }

    /// The address it listens on.
    #[must_use]
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `127.0.0.1:PORT`.
    #[must_use]
    pub fn host(&self) -> &str {
        &self.host
    }

    /// `http://127.0.0.1:PORT` (no trailing slash).
    #[must_use]
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// How many `tags/list` requests arrived, including failed ones (401, faults, 404).
    #[must_use]
    pub fn tag_requests(&self) -> usize {
        self.state.tag_requests.load(Ordering::SeqCst)
    }

    /// Every request so far, in arrival order, as `METHOD PATH?QUERY` (e.g.
    /// `GET /v2/team/app/tags/list?n=2`).
    #[must_use]
    pub fn requests(&self) -> Vec<String> {
        lock(&self.state.requests).clone()
    }

    /// Appends a fault to those still to be served.
    pub fn add_fault(&self, fault: Fault) {
        lock(&self.state.faults).push_back(fault);
    }

    /// How many faults are still to be served.
    #[must_use]
    pub fn remaining_faults(&self) -> usize {
        lock(&self.state.faults).len()
    }
}

impl Drop for MockRegistry {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

/// Locks a mutex, ignoring poisoning (a panicking test must not hide its first panic).
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

async fn handle(State(state): State<Arc<Shared>>, method: Method, uri: Uri, headers: HeaderMap) -> Response {
    let path_and_query = uri.path_and_query().map_or(uri.path(), |pq| pq.as_str());
    lock(&state.requests).push(format!("{method} {path_and_query}"));

    let path = uri.path();
    let rest = if path == "/v2" || path == "/v2/" {
        ""
    } else if let Some(rest) = path.strip_prefix("/v2/") {
        rest
    } else {
        return not_found();
    };
    let tags_name = rest.strip_suffix("/tags/list");
    if tags_name.is_some() {
        state.tag_requests.fetch_add(1, Ordering::SeqCst);
    }

    if let Some((user, password)) = &state.config.basic_auth
        && !basic_auth_matches(&headers, user, password)
    {
        let mut response = error(
            StatusCode::UNAUTHORIZED,
            "UNAUTHORIZED",
            "authentication required",
            &serde_json::Value::Null,
        );
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"mock\""),
        );
        return response;
    }
    if method != Method::GET && method != Method::HEAD {
        return error(
            StatusCode::METHOD_NOT_ALLOWED,
            "UNSUPPORTED",
            "the operation is unsupported",
            &serde_json::Value::Null,
        );
    }

    if rest.is_empty() {
        json_response(StatusCode::OK, b"{}".to_vec())
    } else if let Some(name) = tags_name {
        tags_list(&state, name, &uri).await
    } else if let Some((name, reference)) = rest.rsplit_once("/manifests/") {
        manifest(&state, name, reference)
    } else {
        not_found()
    }
}

async fn tags_list(state: &Shared, name: &str, uri: &Uri) -> Response {
    let fault = lock(&state.faults).pop_front();
    if let Some(response) = serve_fault(fault, name).await {
        return response;
    }
    let Some(tags) = state.config.repositories.get(name) else {
        return name_unknown(name);
    };
    let Ok(Query(params)) = Query::<Vec<(String, String)>>::try_from_uri(uri) else {
        return error(
            StatusCode::BAD_REQUEST,
            "UNSUPPORTED",
            "malformed query string",
            &serde_json::Value::Null,
        );
    };
    let param = |key: &str| {
        params
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    };

    let client_n = match param("n").map(str::parse::<usize>) {
        None => None,
        Some(Ok(n)) => Some(n),
        Some(Err(_)) => {
            return error(
                StatusCode::BAD_REQUEST,
                "PAGINATION_NUMBER_INVALID",
                "invalid number of results requested",
                &serde_json::json!({ "n": param("n") }),
            );
        }
    };
    let (start, token_n) = match state.config.cursor {
        CursorStyle::Last => {
            let start = param("last").map_or(0, |last| {
                tags.iter().position(|t| t == last).map_or_else(
                    // Not one of ours: the tags that sort after it, as the OCI spec says.
                    || tags.iter().position(|t| t.as_str() > last).unwrap_or(tags.len()),
                    |i| i + 1,
                )
            });
            (start, None)
        }
        CursorStyle::Opaque => match param("next_page").map(decode_cursor) {
            None => (0, None),
            Some(Some((offset, n))) => (offset.min(tags.len()), Some(n)),
            Some(None) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    "UNSUPPORTED",
                    "invalid next_page token",
                    &serde_json::Value::Null,
                );
            }
        },
    };
    let requested = client_n.or(token_n);
    let n = match (requested, state.config.page_size) {
        (Some(c), Some(max)) => c.min(max),
        (Some(c), None) => c,
        (None, Some(max)) => max,
        (None, None) => tags.len(),
    };
    let end = start.saturating_add(n).min(tags.len());
    let page = &tags[start..end];

    let body = serde_json::to_vec(&serde_json::json!({ "name": name, "tags": page }))
        .expect("a JSON value serializes");
    let mut response = json_response(StatusCode::OK, body);
    if end < tags.len() && n > 0 {
        let query = match state.config.cursor {
            CursorStyle::Last => format!("n={n}&last={}", percent_encode(&tags[end - 1])),
            CursorStyle::Opaque => format!("next_page={}", encode_cursor(end, n)),
        };
        let origin = state
            .config
            .link_host
            .as_ref()
            .map_or_else(String::new, |host| format!("http://{host}"));
        let link = format!("<{origin}/v2/{name}/tags/list?{query}>; rel=\"next\"");
        response.headers_mut().insert(
            header::LINK,
            HeaderValue::from_str(&link).expect("the Link header is ASCII"),
        );
    }
    response
}

/// Serves a fault: `Some(response)` instead of the listing, or `None` to list (after a delay).
async fn serve_fault(fault: Option<Fault>, name: &str) -> Option<Response> {
    match fault? {
        Fault::Slow(delay) => {
            tokio::time::sleep(delay).await;
            None
        }
        Fault::TooManyRequests { retry_after } => {
            let mut response = error(
                StatusCode::TOO_MANY_REQUESTS,
                "TOOMANYREQUESTS",
                "too many requests",
                &serde_json::Value::Null,
            );
            if let Some(value) = retry_after.and_then(|v| HeaderValue::from_str(&v).ok()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            Some(response)
        }
        Fault::Status(code) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            Some(error(
                status,
                "UNKNOWN",
                "unknown error (injected fault)",
                &serde_json::Value::Null,
            ))
        }
        Fault::MalformedJson => {
            let body = format!("{{\"name\":\"{name}\",\"tags\":[\"1.0");
            Some(json_response(StatusCode::OK, body.into_bytes()))
        }
    }
}

fn manifest(state: &Shared, name: &str, reference: &str) -> Response {
    let Some(tags) = state.config.repositories.get(name) else {
        return name_unknown(name);
    };
    let tag = if reference.starts_with("sha256:") {
        tags.iter().find(|t| mock_digest(t) == reference)
    } else {
        tags.iter().find(|t| *t == reference)
    };
    let Some(tag) = tag else {
        return error(
            StatusCode::NOT_FOUND,
            "MANIFEST_UNKNOWN",
            "manifest unknown",
            &serde_json::json!({ "Tag": reference }),
        );
    };
    let config =
        br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]},"config":{}}"#;
    let body = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": format!("sha256:{}", hex::encode(Sha256::digest(config))),
            "size": config.len(),
        },
        "layers": [],
        "annotations": { "org.opencontainers.image.version": tag },
    }))
    .expect("a JSON value serializes");
    let digest = mock_digest(tag);
    let mut response = base_response(StatusCode::OK, OCI_MANIFEST, body);
    let headers = response.headers_mut();
    headers.insert(
        "Docker-Content-Digest",
        HeaderValue::from_str(&digest).expect("a digest is ASCII"),
    );
    headers.insert(
        header::ETAG,
        HeaderValue::from_str(&format!("\"{digest}\"")).expect("a digest is ASCII"),
    );
    response
}

fn basic_auth_matches(headers: &HeaderMap, user: &str, password: &str) -> bool {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b64| base64::engine::general_purpose::STANDARD.decode(b64.trim()).ok())
        .is_some_and(|decoded| decoded == format!("{user}:{password}").as_bytes())
}

fn encode_cursor(offset: usize, n: usize) -> String {
    B64.encode(format!("mock-cursor:{offset}:{n}"))
}

fn decode_cursor(token: &str) -> Option<(usize, usize)> {
    let decoded = String::from_utf8(B64.decode(token).ok()?).ok()?;
    let (offset, n) = decoded.strip_prefix("mock-cursor:")?.split_once(':')?;
    Some((offset.parse().ok()?, n.parse().ok()?))
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
fn percent_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

fn base_response(status: StatusCode, content_type: &'static str, body: Vec<u8>) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        "Docker-Distribution-API-Version",
        HeaderValue::from_static("registry/2.0"),
    );
    response
}

fn json_response(status: StatusCode, body: Vec<u8>) -> Response {
    base_response(status, JSON, body)
}

fn error(status: StatusCode, code: &str, message: &str, detail: &serde_json::Value) -> Response {
    let body = serde_json::to_vec(&serde_json::json!({
        "errors": [{ "code": code, "message": message, "detail": detail }]
    }))
    .expect("a JSON value serializes");
    json_response(status, body)
}

fn name_unknown(name: &str) -> Response {
    error(
        StatusCode::NOT_FOUND,
        "NAME_UNKNOWN",
        "repository name not known to registry",
        &serde_json::json!({ "name": name }),
    )
}

/// Go's `http.NotFound`, as distribution answers paths outside its API.
fn not_found() -> Response {
    let mut response = base_response(
        StatusCode::NOT_FOUND,
        "text/plain; charset=utf-8",
        b"404 page not found\n".to_vec(),
    );
    response.headers_mut().remove("Docker-Distribution-API-Version");
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip() {
        let token = encode_cursor(250, 50);
        assert!(
            token
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
        assert_eq!(decode_cursor(&token), Some((250, 50)));
        assert_eq!(decode_cursor("not base64!"), None);
        assert_eq!(decode_cursor(&B64.encode("other:1:2")), None);
    }

    #[test]
    fn generated_tags_are_distinct_and_deterministic() {
        let tags = generate_tags(1000);
        assert_eq!(tags[..3], ["1.0.0", "1.0.1", "1.0.2"]);
        assert_eq!(tags[9], "1.0.9-rc.1");
        assert_eq!(tags[19], "1.1.9-beta.2");
        assert_eq!(tags[100], "2.0.0");
        let unique: std::collections::BTreeSet<_> = tags.iter().collect();
        assert_eq!(unique.len(), 1000);
        assert_eq!(tags, generate_tags(1000));
    }

    #[test]
    fn percent_encoding() {
        assert_eq!(percent_encode("1.0.0-rc_1~x"), "1.0.0-rc_1~x");
        assert_eq!(percent_encode("a+b/c"), "a%2Bb%2Fc");
    }
}
