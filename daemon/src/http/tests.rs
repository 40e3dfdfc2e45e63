//! The real server on loopback, spoken to in raw HTTP/1.1 (the daemon has no HTTP client).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;

use super::{Health, HttpState, bind, router, serve};
use crate::metrics::Metrics;

/// A running server and the handles a test needs to drive it.
struct Server {
    addr: SocketAddr,
    metrics: Arc<Metrics>,
    health: watch::Sender<Health>,
    stop: oneshot::Sender<()>,
    task: JoinHandle<std::io::Result<()>>,
}

async fn start() -> Server {
    let listener = bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let metrics = Arc::new(Metrics::new());
    let (health, health_rx) = watch::channel(Health::Starting);
    let (stop, stop_rx) = oneshot::channel::<()>();
    let app = router(HttpState {
        metrics: Arc::clone(&metrics),
        health: health_rx,
    });
    let task = tokio::spawn(serve(listener, app, async {
        let _ = stop_rx.await;
    }));
    Server {
        addr,
        metrics,
        health,
        stop,
        task,
    }
}

/// A response split into status line, header block (lower-cased) and body.
struct Response {
    status: String,
    headers: String,
    body: String,
}

async fn get(addr: SocketAddr, path: &str) -> Response {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut raw = String::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_string(&mut raw))
        .await
        .unwrap()
        .unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    let (status, headers) = head.split_once("\r\n").unwrap_or((head, ""));
    Response {
        status: status.to_owned(),
        headers: headers.to_ascii_lowercase(),
        body: body.to_owned(),
    }
}

#[tokio::test]
async fn healthz_answers_ok_even_while_starting() {
    let server = start().await;
    let response = get(server.addr, "/healthz").await;
    assert_eq!(response.status, "HTTP/1.1 200 OK");
    assert_eq!(response.body, "ok");
}

#[tokio::test]
async fn readyz_follows_the_published_health() {
    let server = start().await;
    let response = get(server.addr, "/readyz").await;
    assert_eq!(response.status, "HTTP/1.1 503 Service Unavailable");
    assert_eq!(response.body, "starting");

    server
        .health
        .send(Health::NotReady(
            "state store: /var/lib/imagebump is locked".into(),
        ))
        .unwrap();
    let response = get(server.addr, "/readyz").await;
    assert_eq!(response.status, "HTTP/1.1 503 Service Unavailable");
    assert!(
        response.headers.contains("content-type: text/plain"),
        "{}",
        response.headers
    );
    assert_eq!(response.body, "state store: /var/lib/imagebump is locked");

    server.health.send(Health::Ready).unwrap();
    let response = get(server.addr, "/readyz").await;
    assert_eq!(response.status, "HTTP/1.1 200 OK");
    assert_eq!(response.body, "ready");
}

#[tokio::test]
async fn metrics_are_openmetrics_text() {
    let server = start().await;
    server
        .metrics
        .scan_finished("flux-system", "podinfo", Duration::from_millis(30), Some(13));
    let response = get(server.addr, "/metrics").await;
    assert_eq!(response.status, "HTTP/1.1 200 OK");
    assert!(
        response
            .headers
            .contains("content-type: application/openmetrics-text; version=1.0.0; charset=utf-8"),
        "{}",
        response.headers
    );
    let body = &response.body;
    for line in [
        r#"imagebump_scans_total{namespace="flux-system",name="podinfo",outcome="success"} 1"#,
        r#"imagebump_scan_duration_seconds_bucket{le="0.05",namespace="flux-system",name="podinfo"} 1"#,
        r#"imagebump_scan_duration_seconds_count{namespace="flux-system",name="podinfo"} 1"#,
        r#"imagebump_repository_tags{namespace="flux-system",name="podinfo"} 13"#,
    ] {
        assert!(body.lines().any(|l| l == line), "missing {line:?} in\n{body}");
    }
    assert!(body.ends_with("# EOF\n"), "{body}");
}

#[tokio::test]
async fn unknown_paths_are_404() {
    let server = start().await;
    assert_eq!(get(server.addr, "/nope").await.status, "HTTP/1.1 404 Not Found");
}

#[tokio::test]
async fn merged_routes_are_served_beside_the_builtin_ones() {
    let listener = bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (_health, health_rx) = watch::channel(Health::Ready);
    let hooks = axum::Router::new().route("/hook/{digest}", axum::routing::get(|| async { "hook" }));
    let app = router(HttpState {
        metrics: Arc::new(Metrics::new()),
        health: health_rx,
    })
    .merge(hooks);
    let (stop, stop_rx) = oneshot::channel::<()>();
    let task = tokio::spawn(serve(listener, app, async {
        let _ = stop_rx.await;
    }));
    assert_eq!(get(addr, "/hook/abc").await.body, "hook");
    assert_eq!(get(addr, "/healthz").await.body, "ok");
    stop.send(()).unwrap();
    task.await.unwrap().unwrap();
}

#[tokio::test]
async fn shutdown_ends_serve() {
    let server = start().await;
    assert_eq!(get(server.addr, "/healthz").await.status, "HTTP/1.1 200 OK");
    server.stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(10), server.task)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(
        TcpStream::connect(server.addr).await.is_err(),
        "listener still open after shutdown"
    );
}

#[tokio::test]
async fn bind_error_names_the_address_and_the_setting() {
    let taken = bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let addr = taken.local_addr().unwrap();
    let error = bind(addr).await.unwrap_err();
    assert_eq!(
        error.to_string(),
        format!("cannot listen on {addr}: address in use; set [http] listen in imagebump.toml")
    );
}
