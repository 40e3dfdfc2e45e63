//! The cloud logins against loopback stand-ins: moto for ECR, small axum servers for Google's
//! and Entra ID's token endpoints, the metadata servers and ACR's `/oauth2/exchange`.

mod aws;
mod azure;
mod gcp;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::IntoResponse;
use imagebump_auth::cloud::{Cloud, CloudObserver};
use imagebump_auth::{Clock, Credential, Credentials};

/// One request a [`Fake`] received.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: Method,
    pub path: String,
    pub query: HashMap<String, String>,
    pub headers: HeaderMap,
    pub form: HashMap<String, String>,
}

type Responder = dyn Fn(&Recorded) -> (StatusCode, serde_json::Value) + Send + Sync;

/// A loopback HTTP server answering every request with `respond` and recording it.
pub struct Fake {
    pub base: String,
    requests: Arc<Mutex<Vec<Recorded>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Fake {
    pub async fn start(
        respond: impl Fn(&Recorded) -> (StatusCode, serde_json::Value) + Send + Sync + 'static,
    ) -> Fake {
        let requests = Arc::new(Mutex::new(Vec::new()));
        let respond: Arc<Responder> = Arc::new(respond);
        let seen = Arc::clone(&requests);
        let router =
            axum::Router::new().fallback(move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                let respond = Arc::clone(&respond);
                let seen = Arc::clone(&seen);
                async move {
                    let pairs = |text: &str| -> HashMap<String, String> {
                        url::form_urlencoded::parse(text.as_bytes())
                            .into_owned()
                            .collect()
                    };
                    let recorded = Recorded {
                        method,
                        path: uri.path().to_owned(),
                        query: pairs(uri.query().unwrap_or_default()),
                        headers,
                        form: pairs(&String::from_utf8_lossy(&body)),
                    };
                    let (status, json) = respond(&recorded);
                    seen.lock().unwrap().push(recorded);
                    (status, axum::Json(json)).into_response()
                }
            });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            axum::serve(listener, router).await.unwrap();
        });
        Fake { base, requests, task }
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }

    /// `127.0.0.1:PORT`.
    pub fn host(&self) -> &str {
        self.base.trim_start_matches("http://")
    }
}

impl Drop for Fake {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A clock the test sets.
#[derive(Debug)]
pub struct ManualClock(Mutex<SystemTime>);

impl ManualClock {
    pub fn at(time: SystemTime) -> Arc<Self> {
        Arc::new(Self(Mutex::new(time)))
    }
    pub fn advance(&self, by: Duration) {
        *self.0.lock().unwrap() += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> SystemTime {
        *self.0.lock().unwrap()
    }
}

/// Counts what the cloud providers report.
#[derive(Debug, Default)]
pub struct Counts {
    pub requests_ok: AtomicUsize,
    pub requests_failed: AtomicUsize,
    pub hits: AtomicUsize,
    pub misses: AtomicUsize,
}

impl Counts {
    /// `(ok token requests, failed token requests, cache hits, cache misses)`.
    pub fn get(&self) -> (usize, usize, usize, usize) {
        (
            self.requests_ok.load(Ordering::SeqCst),
            self.requests_failed.load(Ordering::SeqCst),
            self.hits.load(Ordering::SeqCst),
            self.misses.load(Ordering::SeqCst),
        )
    }
}

impl CloudObserver for Counts {
    fn token_request(&self, _cloud: Cloud, ok: bool) {
        let counter = if ok {
            &self.requests_ok
        } else {
            &self.requests_failed
        };
        counter.fetch_add(1, Ordering::SeqCst);
    }
    fn cache(&self, _cloud: Cloud, hit: bool) {
        let counter = if hit { &self.hits } else { &self.misses };
        counter.fetch_add(1, Ordering::SeqCst);
    }
}

/// The password or token inside a credential.
pub fn secret_of(credentials: &Credentials) -> &str {
    match &credentials.credential {
        Credential::Basic { password, .. } => password.expose(),
        Credential::IdentityToken(token) | Credential::RegistryToken(token) => token.expose(),
        Credential::Anonymous => "",
    }
}

/// Panics if any of `secrets` shows up in `text`.
pub fn assert_hidden(text: &str, secrets: &[&str]) {
    for secret in secrets {
        assert!(!text.contains(secret), "{secret:?} leaked into: {text}");
    }
}

/// `expires_at` is `seconds` from now, give or take a few seconds of test run time.
pub fn assert_expires_in(credentials: &Credentials, seconds: u64) {
    let at = credentials.expires_at.expect("an expiry");
    let expected = SystemTime::now() + Duration::from_secs(seconds);
    let skew = at
        .duration_since(expected)
        .or_else(|e| Ok::<_, ()>(e.duration()))
        .unwrap();
    assert!(
        skew < Duration::from_secs(10),
        "expires {at:?}, expected about {expected:?}"
    );
}

/// An error with its whole source chain, as the daemon logs it.
pub fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
