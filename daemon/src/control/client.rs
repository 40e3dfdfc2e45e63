//! The CLI's end of the control socket: one blocking call per command, since the CLI does
//! nothing else while it waits.

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;

use super::ControlError;
use super::protocol::{Request, Response};

/// The largest answer read. A listing of every object is far below it; the cap only keeps a
/// confused peer from filling memory.
const MAX_RESPONSE: u64 = 64 * 1024 * 1024;

/// Sends `request` to the daemon on `socket` and waits for its answer, however long the daemon
/// takes: a reconcile may take minutes.
pub fn call(socket: &Path, request: &Request) -> Result<Response, ControlError> {
    call_then(socket, request, || {})
}

/// [`call`], running `sent` once the daemon has the request: the CLI prints "waiting" only
/// when there is something to wait for.
pub fn call_then(socket: &Path, request: &Request, sent: impl FnOnce()) -> Result<Response, ControlError> {
    let mut stream = UnixStream::connect(socket).map_err(|e| connect_error(socket, e))?;
    let io = |action| {
        move |source| ControlError::Io {
            action,
            path: socket.to_owned(),
            source,
        }
    };
    // Serialising our own request types cannot fail; the fallback keeps this free of expect().
    let mut line = serde_json::to_vec(request).unwrap_or_default();
    line.push(b'\n');
    stream
        .write_all(&line)
        .map_err(io("writing to the control socket"))?;
    sent();
    let mut answer = Vec::new();
    BufReader::new(stream.take(MAX_RESPONSE))
        .read_until(b'\n', &mut answer)
        .map_err(io("reading from the control socket"))?;
    if answer.iter().all(u8::is_ascii_whitespace) {
        return Err(ControlError::NoResponse {
            path: socket.to_owned(),
        });
    }
    serde_json::from_slice(&answer).map_err(|source| ControlError::BadResponse {
        path: socket.to_owned(),
        source,
    })
}

/// Turns a failed connect into advice: "start a daemon" or "check the group" are what the user
/// can act on, not the errno.
fn connect_error(socket: &Path, source: std::io::Error) -> ControlError {
    let path = socket.to_owned();
    match source.kind() {
        // ENOENT: no daemon ever started here; ECONNREFUSED: one died and left its socket.
        ErrorKind::NotFound | ErrorKind::ConnectionRefused => ControlError::NotRunning { path },
        ErrorKind::PermissionDenied => ControlError::PermissionDenied { path },
        _ => ControlError::Io {
            action: "connecting to the control socket",
            path,
            source,
        },
    }
}
