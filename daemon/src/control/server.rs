//! The daemon's end of the control socket: accepts connections, reads one request line each,
//! hands it to the runtime over a channel and writes back the answer.
//!
//! The server knows nothing about objects: the runtime owns them and answers through the
//! oneshot that comes with each request. That keeps this module testable with a ten-line fake
//! runtime and keeps the runtime free of socket code.

use std::io::ErrorKind;
use std::os::unix::fs::{FileTypeExt as _, MetadataExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{mpsc, oneshot, watch};

use super::ControlError;
use super::protocol::{Request, Response};

/// The longest request line accepted, newline excluded. Real requests are a few hundred bytes;
/// the cap keeps a stray `cat /dev/urandom` from growing a buffer without end.
pub const MAX_REQUEST: usize = 64 * 1024;

/// How long a connection may take to send its request. Unlike the wait for the runtime's
/// answer, this is bounded so that idle connections do not pile up as tasks.
const READ_TIMEOUT: Duration = Duration::from_secs(30);

/// Socket permissions: the daemon's user and group may connect, nobody else.
const SOCKET_MODE: u32 = 0o660;

/// What the runtime receives: a request and where to send its answer.
pub type Envelope = (Request, oneshot::Sender<Response>);

/// Binds the control socket at `path`, creating its directory if needed and replacing a socket
/// left behind by a daemon that died. Must be called inside a tokio runtime.
pub fn bind(path: &Path) -> Result<UnixListener, ControlError> {
    let io = |action| {
        move |source| ControlError::Io {
            action,
            path: path.to_owned(),
            source,
        }
    };
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(io("creating the directory of"))?;
    }
    let listener = match UnixListener::bind(path) {
        Err(e) if e.kind() == ErrorKind::AddrInUse => {
            remove_stale(path)?;
            UnixListener::bind(path)
        }
        other => other,
    }
    .map_err(io("binding the control socket"))?;
    // Between bind and chmod the socket has the umask's mode; with the usual 022 umask that
    // lets no one but the owner connect, so the window grants nothing extra.
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(SOCKET_MODE))
        .map_err(io("setting the permissions of"))?;
    Ok(listener)
}

/// Removes the socket file at `path` if no daemon answers on it; fails if one does.
fn remove_stale(path: &Path) -> Result<(), ControlError> {
    let io = |action| {
        move |source| ControlError::Io {
            action,
            path: path.to_owned(),
            source,
        }
    };
    let metadata = std::fs::symlink_metadata(path).map_err(io("inspecting"))?;
    if !metadata.file_type().is_socket() {
        return Err(ControlError::NotASocket {
            path: path.to_owned(),
        });
    }
    match std::os::unix::net::UnixStream::connect(path) {
        Ok(_) => Err(ControlError::AlreadyListening {
            path: path.to_owned(),
        }),
        Err(e) if e.kind() == ErrorKind::ConnectionRefused => {
            std::fs::remove_file(path).map_err(io("removing the stale control socket"))
        }
        Err(e) => Err(io("probing the existing control socket")(e)),
    }
}

/// Accepts connections on `listener` until `shutdown` becomes true, handing each request to
/// the runtime through `requests`. Removes the socket file on the way out.
///
/// Each connection runs in its own task and waits for its answer as long as the runtime takes;
/// connections still waiting when shutdown comes are left to finish.
pub async fn serve(
    listener: UnixListener,
    requests: mpsc::Sender<Envelope>,
    mut shutdown: watch::Receiver<bool>,
) {
    let ours = listener
        .local_addr()
        .ok()
        .and_then(|a| a.as_pathname().map(Path::to_owned))
        .and_then(|path| Some((std::fs::metadata(&path).ok()?.ino(), path)));
    while !*shutdown.borrow_and_update() {
        tokio::select! {
            changed = shutdown.changed() => if changed.is_err() { break },
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    tokio::spawn(handle(stream, requests.clone()));
                }
                Err(error) => {
                    // EMFILE and friends: pause instead of spinning on a loop of errors.
                    tracing::warn!(%error, "control socket: accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
        }
    }
    if let Some((inode, path)) = ours {
        remove_if_ours(&path, inode);
    }
}

/// Removes the socket file only if it is still the one we bound: after a stale-socket takeover
/// by a newer daemon, deleting the path would cut that daemon off.
fn remove_if_ours(path: &PathBuf, inode: u64) {
    if std::fs::metadata(path).is_ok_and(|m| m.ino() == inode)
        && let Err(error) = std::fs::remove_file(path)
    {
        tracing::warn!(%error, path = %path.display(), "control socket: removing it failed");
    }
}

/// Serves one connection: one request line in, one response line out.
async fn handle(stream: UnixStream, requests: mpsc::Sender<Envelope>) {
    let (read, mut write) = stream.into_split();
    let response = match tokio::time::timeout(READ_TIMEOUT, read_request(read)).await {
        Err(_) => failed(format!("no request received within {}s", READ_TIMEOUT.as_secs())),
        Ok(Err(response)) => response,
        Ok(Ok(request)) => answer(request, &requests).await,
    };
    let mut line = serde_json::to_vec(&response).unwrap_or_else(|e| {
        serde_json::to_vec(&failed(format!("the answer could not be encoded: {e}"))).unwrap_or_default()
    });
    line.push(b'\n');
    // The client may have given up (Ctrl-C during a long reconcile); the work is done either
    // way, so a failed write is only worth a debug line.
    if let Err(error) = write.write_all(&line).await {
        tracing::debug!(%error, "control socket: the client left before the answer");
    }
    let _ = write.shutdown().await;
}

/// Reads and parses the request line, or says why there is none.
async fn read_request(read: tokio::net::unix::OwnedReadHalf) -> Result<Request, Response> {
    let mut line = Vec::new();
    // One byte past the cap tells "exactly at the cap" from "over it".
    BufReader::new(read.take(MAX_REQUEST as u64 + 1))
        .read_until(b'\n', &mut line)
        .await
        .map_err(|e| failed(format!("reading the request: {e}")))?;
    if line.last() == Some(&b'\n') {
        line.pop();
    } else if line.len() > MAX_REQUEST {
        return Err(failed(format!("request too long (over {MAX_REQUEST} bytes)")));
    }
    serde_json::from_slice(&line).map_err(|e| failed(format!("bad request: {e}")))
}

/// Hands `request` to the runtime and waits, without a time limit, for its answer.
async fn answer(request: Request, requests: &mpsc::Sender<Envelope>) -> Response {
    let (reply, answer) = oneshot::channel();
    if requests.send((request, reply)).await.is_err() {
        return failed("the daemon is shutting down".to_owned());
    }
    answer
        .await
        .unwrap_or_else(|_| failed("the daemon dropped the request without answering".to_owned()))
}

fn failed(message: String) -> Response {
    Response::Failed { message }
}
