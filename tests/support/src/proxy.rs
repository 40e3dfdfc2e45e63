//! A small HTTP forward proxy on loopback: absolute-form requests and `CONNECT` tunnels,
//! optional Basic proxy credentials, and counters of what went through it.

use std::fmt::{self, Write as _};
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use base64::Engine as _;
use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

/// Largest request or response head the proxy reads.
const MAX_HEAD: usize = 64 * 1024;
/// How long a client may take to send its request head, and the proxy to reach a target.
const IO_TIMEOUT: Duration = Duration::from_secs(10);
/// Request and response headers that concern one hop only, dropped when forwarding.
const HOP_BY_HOP: [&str; 5] = [
    "connection",
    "keep-alive",
    "proxy-authorization",
    "proxy-connection",
    "proxy-authenticate",
];

/// An HTTP forward proxy on `127.0.0.1`, as a corporate proxy (squid, tinyproxy) would be:
///
/// * absolute-form requests (`GET http://host:port/path HTTP/1.1`) are forwarded to the target
///   as origin-form requests with `Connection: close`, and the answer is relayed with
///   `Connection: close` (one request per client connection; clients reconnect);
/// * `CONNECT host:port` opens a tunnel (`200 Connection Established`) and copies bytes both
///   ways, so HTTPS goes through it end to end;
/// * with [`with_credentials`](Self::with_credentials), a request without the right
///   `Proxy-Authorization: Basic …` gets `407 Proxy Authentication Required` with
///   `Proxy-Authenticate: Basic realm="proxy"`;
/// * targets that do not resolve to a loopback address get `403 Forbidden` (tests must not
///   leave the machine); unreachable targets get `502 Bad Gateway`.
///
/// It runs on its own thread with its own tokio runtime, so it keeps serving while the test's
/// thread is blocked (for instance waiting for a child process that uses it), whatever runtime
/// the test uses. Dropping it stops it and closes every connection.
///
/// ```no_run
/// let proxy = imagebump_testsupport::TestProxy::with_credentials("proxyuser", "proxypass");
/// // point a client at proxy.url() with those credentials, make requests, then:
/// assert!(proxy.forwarded() + proxy.tunnels() > 0);
/// ```
pub struct TestProxy {
    addr: SocketAddr,
    state: Arc<State>,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

/// What the connections share: the required credentials and the counters.
#[derive(Default)]
struct State {
    credentials: Option<(String, String)>,
    forwarded: AtomicUsize,
    tunnels: AtomicUsize,
    refused: AtomicUsize,
    log: Mutex<Log>,
}

/// What went through, in arrival order.
#[derive(Default)]
struct Log {
    targets: Vec<String>,
    requests: Vec<String>,
}

impl TestProxy {
    /// Starts a proxy that asks for no credentials.
    ///
    /// # Panics
    ///
    /// When `127.0.0.1:0` cannot be bound or the proxy's thread cannot start.
    #[must_use]
    pub fn start() -> TestProxy {
        Self::spawn(None)
    }

    /// Starts a proxy that demands Basic proxy credentials `user` / `password`.
    ///
    /// # Panics
    ///
    /// As [`start`](Self::start).
    #[must_use]
    pub fn with_credentials(user: &str, password: &str) -> TestProxy {
        Self::spawn(Some((user.to_owned(), password.to_owned())))
    }

    fn spawn(credentials: Option<(String, String)>) -> TestProxy {
        let listener = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .expect("binding the test proxy to 127.0.0.1:0");
        listener
            .set_nonblocking(true)
            .expect("making the proxy's socket non-blocking");
        let addr = listener.local_addr().expect("the proxy's socket has an address");
        let state = Arc::new(State {
            credentials,
            ..State::default()
        });
        let (shutdown, stopped) = oneshot::channel::<()>();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("building the test proxy's runtime");
        let shared = Arc::clone(&state);
        let thread = std::thread::Builder::new()
            .name(format!("test-proxy-{}", addr.port()))
            .spawn(move || {
                runtime.block_on(async move {
                    let listener = TcpListener::from_std(listener).expect("registering the proxy's socket");
                    tokio::select! {
                        () = accept_loop(listener, shared) => {}
                        _ = stopped => {}
                    }
                });
                // Dropping the runtime here cancels the connections still open.
            })
            .expect("starting the test proxy's thread");
        TestProxy {
            addr,
            state,
            shutdown: Some(shutdown),
            thread: Some(thread),
        }
    }

    /// Where it listens.
    #[must_use]
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`, without credentials.
    #[must_use]
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `http://USER:PASSWORD@127.0.0.1:PORT` with the credentials it demands (as they would
    /// appear in `HTTP_PROXY`), or [`url`](Self::url) when it demands none. The test
    /// credentials need no percent-encoding; others are not encoded.
    #[must_use]
    pub fn url_with_credentials(&self) -> String {
        match &self.state.credentials {
            Some((user, password)) => format!("http://{user}:{password}@{}", self.addr),
            None => self.url(),
        }
    }

    /// The credentials it demands, if any.
    #[must_use]
    pub fn credentials(&self) -> Option<(&str, &str)> {
        self.state
            .credentials
            .as_ref()
            .map(|(user, password)| (user.as_str(), password.as_str()))
    }

    /// Absolute-form requests forwarded to their target (plain HTTP through the proxy).
    #[must_use]
    pub fn forwarded(&self) -> usize {
        self.state.forwarded.load(Ordering::SeqCst)
    }

    /// `CONNECT` tunnels opened (HTTPS through the proxy).
    #[must_use]
    pub fn tunnels(&self) -> usize {
        self.state.tunnels.load(Ordering::SeqCst)
    }

    /// Requests answered `407` for missing or wrong credentials.
    #[must_use]
    pub fn refused(&self) -> usize {
        self.state.refused.load(Ordering::SeqCst)
    }

    /// The `host:port` of each forwarded request and each tunnel, in arrival order.
    #[must_use]
    pub fn targets(&self) -> Vec<String> {
        self.state.log().targets.clone()
    }

    /// The request line of every request it received, answered or not, in arrival order:
    /// `GET http://127.0.0.1:PORT/v2/ HTTP/1.1`, `CONNECT localhost:PORT HTTP/1.1`.
    #[must_use]
    pub fn requests(&self) -> Vec<String> {
        self.state.log().requests.clone()
    }
}

impl fmt::Debug for TestProxy {
    /// Shows the address and counters, never the password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestProxy")
            .field("addr", &self.addr)
            .field("user", &self.credentials().map(|(user, _)| user))
            .field("forwarded", &self.forwarded())
            .field("tunnels", &self.tunnels())
            .field("refused", &self.refused())
            .finish_non_exhaustive()
    }
}

impl Drop for TestProxy {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl State {
    fn log(&self) -> std::sync::MutexGuard<'_, Log> {
        // A panicking connection task cannot leave the log half-written: every update is one
        // push.
        self.log.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether `headers` carry the credentials this proxy demands (always, when it demands
    /// none).
    fn authorized(&self, headers: &[(String, String)]) -> bool {
        let Some((user, password)) = &self.credentials else {
            return true;
        };
        let expected = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        headers
            .iter()
            .filter(|(name, _)| name.eq_ignore_ascii_case("proxy-authorization"))
            .any(|(_, value)| {
                value.split_once(' ').is_some_and(|(scheme, token)| {
                    scheme.eq_ignore_ascii_case("basic") && token.trim() == expected
                })
            })
    }
}

async fn accept_loop(listener: TcpListener, state: Arc<State>) {
    loop {
        let Ok((client, _)) = listener.accept().await else {
            // Out of file descriptors, most likely: let connections finish.
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let state = Arc::clone(&state);
        tokio::spawn(async move {
            // A failed connection only affects its client, which sees it closed.
            let _ = serve(client, &state).await;
        });
    }
}

/// A parsed request head: the request line's parts, the headers, and the bytes read past it.
struct Head {
    method: String,
    target: String,
    line: String,
    headers: Vec<(String, String)>,
    rest: Vec<u8>,
}

/// Serves one client connection: one request or one tunnel.
async fn serve(mut client: TcpStream, state: &State) -> std::io::Result<()> {
    let (head_bytes, rest) = match tokio::time::timeout(IO_TIMEOUT, read_head(&mut client)).await {
        Ok(Ok(Some(read))) => read,
        Ok(Ok(None)) => return Ok(()),
        Ok(Err(e)) => return Err(e),
        Err(_) => return respond(&mut client, 408, "Request Timeout", &[], "request head timed out").await,
    };
    let Some(head) = parse_request(&head_bytes, rest) else {
        return respond(&mut client, 400, "Bad Request", &[], "malformed request head").await;
    };
    state.log().requests.push(head.line.clone());
    if !state.authorized(&head.headers) {
        state.refused.fetch_add(1, Ordering::SeqCst);
        let challenge = [("Proxy-Authenticate", "Basic realm=\"proxy\"")];
        return respond(
            &mut client,
            407,
            "Proxy Authentication Required",
            &challenge,
            "proxy authentication required",
        )
        .await;
    }
    if head.method.eq_ignore_ascii_case("CONNECT") {
        tunnel(client, head, state).await
    } else {
        forward(client, head, state).await
    }
}

/// `CONNECT host:port`: connects, answers 200, and copies bytes both ways until either side
/// closes.
async fn tunnel(mut client: TcpStream, head: Head, state: &State) -> std::io::Result<()> {
    let authority = head.target.clone();
    let mut upstream = match connect_loopback(&authority, 443).await {
        Ok(upstream) => upstream,
        Err((status, reason, detail)) => return respond(&mut client, status, reason, &[], &detail).await,
    };
    state.log().targets.push(authority);
    state.tunnels.fetch_add(1, Ordering::SeqCst);
    client
        .write_all(b"HTTP/1.1 200 Connection Established\r\n\r\n")
        .await?;
    upstream.write_all(&head.rest).await?;
    tokio::io::copy_bidirectional(&mut client, &mut upstream).await?;
    Ok(())
}

/// An absolute-form request: sends it on in origin form with `Connection: close`, then relays
/// the answer (head rewritten to `Connection: close`, body as is) until the target closes.
async fn forward(mut client: TcpStream, head: Head, state: &State) -> std::io::Result<()> {
    let Some((authority, path)) = split_absolute(&head.target) else {
        return respond(
            &mut client,
            400,
            "Bad Request",
            &[],
            "only absolute http:// URLs and CONNECT are proxied",
        )
        .await;
    };
    let mut upstream = match connect_loopback(authority, 80).await {
        Ok(upstream) => upstream,
        Err((status, reason, detail)) => return respond(&mut client, status, reason, &[], &detail).await,
    };
    state.log().targets.push(authority.to_owned());
    state.forwarded.fetch_add(1, Ordering::SeqCst);

    let version = head.line.rsplit(' ').next().unwrap_or("HTTP/1.1");
    let mut request = format!("{} {path} {version}\r\n", head.method);
    push_headers(&mut request, &head.headers);
    upstream.write_all(request.as_bytes()).await?;
    upstream.write_all(&head.rest).await?;

    let (mut client_read, mut client_write) = client.split();
    let (mut upstream_read, mut upstream_write) = upstream.split();
    // The request body (if any) streams to the target while the answer comes back; the answer
    // ending (the target closes after it) ends the exchange.
    let body = async {
        let _ = tokio::io::copy(&mut client_read, &mut upstream_write).await;
        std::future::pending::<()>().await;
    };
    let answer = relay_answer(&mut upstream_read, &mut client_write);
    tokio::select! {
        result = answer => result,
        () = body => Ok(()),
    }
}

/// Relays the target's answer: its head with hop-by-hop headers replaced by
/// `Connection: close`, then everything else as it comes.
async fn relay_answer(
    upstream: &mut (impl AsyncRead + Unpin),
    client: &mut (impl AsyncWrite + Unpin),
) -> std::io::Result<()> {
    let Some((head, rest)) = read_head(upstream).await? else {
        return Ok(());
    };
    let text = String::from_utf8_lossy(&head);
    let mut lines = text.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let headers: Vec<(String, String)> = lines.filter_map(parse_header).collect();
    let mut answer = format!("{status_line}\r\n");
    push_headers(&mut answer, &headers);
    client.write_all(answer.as_bytes()).await?;
    client.write_all(&rest).await?;
    tokio::io::copy(upstream, client).await?;
    client.shutdown().await
}

/// Appends `headers` minus hop-by-hop ones, then `Connection: close` and the blank line.
fn push_headers(out: &mut String, headers: &[(String, String)]) {
    for (name, value) in headers {
        if !HOP_BY_HOP.iter().any(|hop| name.eq_ignore_ascii_case(hop)) {
            out.push_str(name);
            out.push_str(": ");
            out.push_str(value);
            out.push_str("\r\n");
        }
    }
    out.push_str("Connection: close\r\n\r\n");
}

/// Connects to `authority` (`host:port`, `[v6]:port` or `host`, then on `default_port`) if
/// every address it resolves to is loopback. Errors are the answer to give the client.
async fn connect_loopback(
    authority: &str,
    default_port: u16,
) -> Result<TcpStream, (u16, &'static str, String)> {
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) if !port.contains(']') => match port.parse::<u16>() {
            Ok(port) => (host, port),
            Err(_) => return Err((400, "Bad Request", format!("bad port in {authority}"))),
        },
        _ => (authority, default_port),
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let mut addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
        .await
        .map_err(|e| (502, "Bad Gateway", format!("cannot resolve {authority}: {e}")))?
        .collect();
    if addrs.is_empty() || !addrs.iter().all(|addr| addr.ip().is_loopback()) {
        return Err((
            403,
            "Forbidden",
            format!("{authority}: the test proxy only reaches loopback addresses"),
        ));
    }
    // IPv4 first: the test servers listen on 127.0.0.1 only, and `localhost` may resolve to
    // ::1 first.
    addrs.sort_by_key(SocketAddr::is_ipv6);
    let mut last = String::new();
    for addr in addrs {
        match tokio::time::timeout(IO_TIMEOUT, TcpStream::connect(addr)).await {
            Ok(Ok(stream)) => return Ok(stream),
            Ok(Err(e)) => last = format!("cannot connect to {authority} ({addr}): {e}"),
            Err(_) => last = format!("connecting to {authority} ({addr}) timed out"),
        }
    }
    Err((502, "Bad Gateway", last))
}

/// `http://host:port/path?query` → (`host:port`, `/path?query`); `None` for other schemes,
/// an empty host, or userinfo.
fn split_absolute(target: &str) -> Option<(&str, String)> {
    let (scheme, rest) = target.split_once("://")?;
    if !scheme.eq_ignore_ascii_case("http") {
        return None;
    }
    let (authority, path) = match rest.find(['/', '?']) {
        Some(i) if rest[i..].starts_with('/') => (&rest[..i], rest[i..].to_owned()),
        Some(i) => (&rest[..i], format!("/{}", &rest[i..])),
        None => (rest, "/".to_owned()),
    };
    (!authority.is_empty() && !authority.contains('@')).then_some((authority, path))
}

/// Writes a small plain-text answer with `Connection: close`.
async fn respond(
    client: &mut TcpStream,
    status: u16,
    reason: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> std::io::Result<()> {
    let mut answer = format!("HTTP/1.1 {status} {reason}\r\n");
    for (name, value) in headers {
        let _ = write!(answer, "{name}: {value}\r\n");
    }
    let _ = write!(
        answer,
        "Content-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    client.write_all(answer.as_bytes()).await?;
    client.shutdown().await
}

/// Reads up to the end of a head (`\r\n\r\n`); returns the head (without the blank line) and
/// whatever was read past it, or `None` if the peer closed before sending anything.
async fn read_head(stream: &mut (impl AsyncRead + Unpin)) -> std::io::Result<Option<(Vec<u8>, Vec<u8>)>> {
    let mut buf = Vec::with_capacity(4096);
    let mut chunk = [0_u8; 4096];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let rest = buf.split_off(end + 4);
            buf.truncate(end);
            return Ok(Some((buf, rest)));
        }
        if buf.len() > MAX_HEAD {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "head too large",
            ));
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return if buf.is_empty() {
                Ok(None)
            } else {
                Err(std::io::ErrorKind::UnexpectedEof.into())
            };
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

fn parse_request(head: &[u8], rest: Vec<u8>) -> Option<Head> {
    let text = std::str::from_utf8(head).ok()?;
    let mut lines = text.split("\r\n");
    let line = lines.next()?.to_owned();
    let mut parts = line.split(' ');
    let method = parts.next().filter(|m| !m.is_empty())?.to_owned();
    let target = parts.next().filter(|t| !t.is_empty())?.to_owned();
    parts.next().filter(|v| v.starts_with("HTTP/"))?;
    let headers = lines.filter_map(parse_header).collect();
    Some(Head {
        method,
        target,
        line,
        headers,
        rest,
    })
}

fn parse_header(line: &str) -> Option<(String, String)> {
    let (name, value) = line.split_once(':')?;
    Some((name.trim().to_owned(), value.trim().to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absolute_targets() {
        let split = |target| split_absolute(target).map(|(a, p)| (a.to_owned(), p));
        let pair = |a: &str, p: &str| Some((a.to_owned(), p.to_owned()));
        assert_eq!(
            split("http://127.0.0.1:5000/v2/a/tags/list?n=10"),
            pair("127.0.0.1:5000", "/v2/a/tags/list?n=10")
        );
        assert_eq!(split("HTTP://localhost/"), pair("localhost", "/"));
        assert_eq!(split("http://localhost:80"), pair("localhost:80", "/"));
        assert_eq!(split("http://localhost?q=1"), pair("localhost", "/?q=1"));
        assert_eq!(split_absolute("https://localhost/"), None);
        assert_eq!(split_absolute("/v2/"), None);
        assert_eq!(split_absolute("http:///v2/"), None);
        assert_eq!(split_absolute("http://u:p@localhost/"), None);
    }

    #[test]
    fn credentials_are_checked() {
        let state = State {
            credentials: Some(("u".into(), "p".into())),
            ..State::default()
        };
        let header = |v: &str| vec![("Proxy-Authorization".to_owned(), v.to_owned())];
        assert!(state.authorized(&header("Basic dTpw")));
        assert!(state.authorized(&header("basic dTpw")));
        assert!(!state.authorized(&header("Basic dTpx")));
        assert!(!state.authorized(&[]));
        assert!(State::default().authorized(&[]));
    }

    #[tokio::test]
    async fn non_loopback_targets_are_refused() {
        let err = connect_loopback("192.0.2.1:80", 80).await.unwrap_err();
        assert_eq!(err.0, 403, "{err:?}");
        let err = connect_loopback("127.0.0.1:notaport", 80).await.unwrap_err();
        assert_eq!(err.0, 400, "{err:?}");
    }
}
