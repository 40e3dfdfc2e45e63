//! moto's server (`moto_server`): a local AWS API on loopback, for ECR `GetAuthorizationToken`
//! (crates-and-test-servers §5.5).

use std::env;
use std::path::PathBuf;
use std::process::Command;

use tempfile::TempDir;

use crate::process::{ChildGuard, spawn_until_ready};
use crate::require::{find_program, is_ci, report_missing};
use crate::tls::http_client;

/// `moto_server` started on a free loopback port, with its log in a temporary directory.
/// Dropping it kills the server.
///
/// moto answers any signature and any keys. Its ECR quirks (moto 5.2): the account is always
/// `123456789012`, the token decodes to `AWS:123456789012-auth-token`, and `expiresAt` is
/// fixed at 2015-01-01T00:00:00Z, so its tokens are always expired.
#[derive(Debug)]
pub struct Moto {
    endpoint: String,
    /// Declared before `dir` so the process dies before its directory is removed.
    _child: ChildGuard,
    dir: TempDir,
}

impl Moto {
    /// The password inside every ECR token moto issues.
    pub const ECR_PASSWORD: &'static str = "123456789012-auth-token";
    /// The account id of everything moto creates.
    pub const ACCOUNT: &'static str = "123456789012";

    /// Starts `moto_server -H 127.0.0.1 -p PORT` and waits until it answers.
    ///
    /// `moto_server` is taken from the virtual environment `scripts/install-test-deps.sh`
    /// makes (`${XDG_CACHE_HOME:-$HOME/.cache}/imagebump/moto-venv`), else from `PATH`. Returns
    /// `None` when it is missing and the test should be skipped (on CI that panics instead, see
    /// [`require`](crate::require)).
    ///
    /// # Panics
    ///
    /// When the server does not answer within 10 s (the message includes its log).
    pub async fn start() -> Option<Moto> {
        let Some(program) = moto_server() else {
            report_missing("`moto_server` (pip package moto[server])", is_ci());
            return None;
        };
        let dir = tempfile::Builder::new()
            .prefix("imagebump-moto-")
            .tempdir()
            .expect("creating a temporary directory for moto");
        let client = http_client(None, None);
        let (child, port) = spawn_until_ready("moto_server", &dir.path().join("moto.log"), &client, |port| {
            let mut cmd = Command::new(&program);
            cmd.args(["-H", "127.0.0.1", "-p", &port.to_string()]);
            (cmd, format!("http://127.0.0.1:{port}/moto-api/"))
        })
        .await;
        Some(Moto {
            endpoint: format!("http://127.0.0.1:{port}"),
            _child: child,
            dir,
        })
    }

    /// `http://127.0.0.1:PORT`: the endpoint URL to give an AWS SDK client.
    #[must_use]
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The temporary directory holding `moto.log`.
    #[must_use]
    pub fn dir(&self) -> &std::path::Path {
        self.dir.path()
    }
}

/// Where `moto_server` is: the test-dependency venv first, then `PATH`.
fn moto_server() -> Option<PathBuf> {
    let cache = env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")));
    cache
        .map(|dir| dir.join("imagebump/moto-venv/bin/moto_server"))
        .and_then(|path| find_program(path.to_str()?))
        .or_else(|| find_program("moto_server"))
}
