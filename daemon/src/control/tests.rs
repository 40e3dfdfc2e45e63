//! The socket on both ends: a real listener in a temp dir, the real client, and a small task
//! standing in for the runtime that answers what arrives on the channel.

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use super::protocol::{Kind, Request, Response};
use super::{ControlError, client, server};

fn reconcile(name: &str) -> Request {
    Request::Reconcile {
        kind: Kind::ImageRepository,
        namespace: "flux-system".to_owned(),
        name: name.to_owned(),
    }
}

/// A running server on `path` whose runtime answers every request with its own name, after
/// `delay` (a stand-in for a slow reconcile).
struct Daemon {
    shutdown: watch::Sender<bool>,
    serve: JoinHandle<()>,
}

impl Daemon {
    fn start(path: &Path, delay: std::time::Duration) -> Daemon {
        let listener = server::bind(path).unwrap();
        let (requests, mut inbox) = mpsc::channel::<server::Envelope>(4);
        let (shutdown, stop) = watch::channel(false);
        tokio::spawn(async move {
            while let Some((request, reply)) = inbox.recv().await {
                tokio::time::sleep(delay).await;
                let message = match request {
                    Request::Reconcile { name, .. } => format!("reconciled {name}"),
                    other => format!("{other:?}"),
                };
                let _ = reply.send(Response::Done { message });
            }
        });
        let serve = tokio::spawn(server::serve(listener, requests, stop));
        Daemon { shutdown, serve }
    }

    async fn stop(self) {
        self.shutdown.send(true).unwrap();
        self.serve.await.unwrap();
    }
}

async fn call(path: &Path, request: Request) -> Result<Response, ControlError> {
    let path = path.to_owned();
    tokio::task::spawn_blocking(move || client::call(&path, &request))
        .await
        .unwrap()
}

/// Writes `bytes` on a raw connection and reads the whole answer.
async fn raw(path: &Path, bytes: &[u8]) -> Response {
    let mut stream = tokio::net::UnixStream::connect(path).await.unwrap();
    stream.write_all(bytes).await.unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    assert!(answer.ends_with('\n'), "{answer:?}");
    serde_json::from_str(&answer).unwrap()
}

fn socket_in(dir: &tempfile::TempDir) -> PathBuf {
    // A directory that does not exist yet: bind creates it.
    dir.path().join("run/control.sock")
}

#[tokio::test]
async fn round_trip_and_socket_removed_on_shutdown() {
    let dir = tempfile::tempdir().unwrap();
    let path = socket_in(&dir);
    let daemon = Daemon::start(&path, std::time::Duration::ZERO);
    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o660);

    let response = call(&path, reconcile("podinfo")).await.unwrap();
    assert_eq!(
        response,
        Response::Done {
            message: "reconciled podinfo".to_owned()
        }
    );

    daemon.stop().await;
    assert!(!path.exists(), "the socket file is removed on shutdown");
}

#[tokio::test]
async fn a_client_that_leaves_early_breaks_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = socket_in(&dir);
    let daemon = Daemon::start(&path, std::time::Duration::from_millis(200));
    {
        let mut stream = tokio::net::UnixStream::connect(&path).await.unwrap();
        let mut line = serde_json::to_vec(&reconcile("gone")).unwrap();
        line.push(b'\n');
        stream.write_all(&line).await.unwrap();
    }
    let response = call(&path, reconcile("podinfo")).await.unwrap();
    assert_eq!(
        response,
        Response::Done {
            message: "reconciled podinfo".to_owned()
        }
    );
    daemon.stop().await;
}

#[tokio::test]
async fn a_line_that_is_not_json_is_answered_with_failed() {
    let dir = tempfile::tempdir().unwrap();
    let path = socket_in(&dir);
    let daemon = Daemon::start(&path, std::time::Duration::ZERO);
    let Response::Failed { message } = raw(&path, b"get me everything\n").await else {
        panic!("expected Failed");
    };
    assert!(message.starts_with("bad request: expected value"), "{message}");
    let Response::Failed { message } = raw(&path, b"{\"op\":\"explode\"}\n").await else {
        panic!("expected Failed");
    };
    assert!(message.contains("unknown variant `explode`"), "{message}");
    daemon.stop().await;
}

#[tokio::test]
async fn an_over_long_line_is_refused_and_one_at_the_cap_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let path = socket_in(&dir);
    let daemon = Daemon::start(&path, std::time::Duration::ZERO);
    let response = raw(&path, &vec![b'x'; server::MAX_REQUEST + 1]).await;
    assert!(
        matches!(&response, Response::Failed { message } if message.starts_with("request too long")),
        "{response:?}"
    );
    // Exactly at the cap, the line is read in full and reaches the JSON parser.
    let mut padded = serde_json::to_vec(&reconcile("podinfo")).unwrap();
    padded.resize(server::MAX_REQUEST, b' ');
    padded.push(b'\n');
    let response = raw(&path, &padded).await;
    assert_eq!(
        response,
        Response::Done {
            message: "reconciled podinfo".to_owned()
        }
    );
    daemon.stop().await;
}

#[tokio::test]
async fn a_stale_socket_file_is_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let path = socket_in(&dir);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    // A socket nobody listens on any more, as a killed daemon leaves it.
    drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
    assert!(path.exists());
    assert!(matches!(
        call(&path, reconcile("x")).await,
        Err(ControlError::NotRunning { .. })
    ));

    let daemon = Daemon::start(&path, std::time::Duration::ZERO);
    assert!(call(&path, reconcile("podinfo")).await.is_ok());
    daemon.stop().await;
}

#[tokio::test]
async fn a_second_daemon_on_the_same_socket_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = socket_in(&dir);
    let daemon = Daemon::start(&path, std::time::Duration::ZERO);
    let error = server::bind(&path).unwrap_err();
    assert_eq!(
        error.to_string(),
        format!("another imagebump daemon is listening on {}", path.display())
    );
    // The first daemon is unharmed.
    assert!(call(&path, reconcile("podinfo")).await.is_ok());
    daemon.stop().await;
}

#[tokio::test]
async fn a_file_that_is_not_a_socket_is_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("control.sock");
    std::fs::write(&path, "precious").unwrap();
    assert!(matches!(
        server::bind(&path),
        Err(ControlError::NotASocket { .. })
    ));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "precious");
}

#[test]
fn no_daemon_says_how_to_start_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("control.sock");
    let error = client::call(&path, &reconcile("podinfo")).unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "no imagebump daemon is running (nothing listening on {}); start one with \
             `imagebump daemon --config <file>`",
            path.display()
        )
    );
}

#[tokio::test]
async fn a_runtime_that_is_gone_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let path = socket_in(&dir);
    let listener = server::bind(&path).unwrap();
    let (requests, inbox) = mpsc::channel(1);
    drop(inbox);
    let (shutdown, stop) = watch::channel(false);
    let serve = tokio::spawn(server::serve(listener, requests, stop));
    let response = call(&path, reconcile("podinfo")).await.unwrap();
    assert_eq!(
        response,
        Response::Failed {
            message: "the daemon is shutting down".to_owned()
        }
    );
    shutdown.send(true).unwrap();
    serve.await.unwrap();
}
