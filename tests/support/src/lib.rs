//! Test fixtures for imagebump's integration tests.
//!
//! Everything here listens on `127.0.0.1` only and picks its ports at run time, so test
//! binaries can run in parallel.
//!
//! * [`require`] checks that an external program is installed, and decides between skipping a
//!   test (locally) and failing it (when `CI` is set).
//! * [`TestRegistry`] runs Debian's `docker-registry` (CNCF distribution 2.8.2) as a child
//!   process, in one of the [`RegistryMode`]s (open, htpasswd, TLS + htpasswd, bearer token with
//!   a small Python token server, TLS demanding a client certificate), and pushes small images
//!   into it with [`TestRegistry::push`].
//! * [`MockRegistry`] is an in-process registry (axum) for what the real one cannot do: tag
//!   pagination with `Link` headers (distribution 2.8.2 ignores `?n=` on `tags/list`), opaque
//!   cursors, cross-host links, and injected faults.
//! * [`GitServer`] serves bare git repositories over one [`GitTransport`]: `file://`, smart HTTP
//!   and HTTPS (lighttpd + `git-http-backend`, basic auth) or SSH (`sshd`, key-only), seeds them
//!   ([`GitServer::create_repo`]), reads them back for assertions, and gives a `git` CLI client
//!   the environment it needs to authenticate ([`GitServer::git_env`]).
//! * [`Moto`] runs moto's `moto_server`, a local AWS API, for ECR logins.
//! * [`TestProxy`] is an in-process HTTP forward proxy (absolute-form requests and `CONNECT`
//!   tunnels, optional Basic proxy credentials) that counts what goes through it.
//!
//! The programs the real servers need are installed by `scripts/install-test-deps.sh`.
//!
//! ```no_run
//! # async fn demo() {
//! use imagebump_testsupport::{RegistryMode, TestRegistry};
//!
//! let Some(registry) = TestRegistry::start(RegistryMode::Basic).await else {
//!     return; // skipped: docker-registry is not installed and CI is not set
//! };
//! let digests = registry.push("team/app", &["1.0.0", "1.1.0"]).await;
//! assert_eq!(digests.len(), 2);
//! # }
//! ```

mod git;
mod mock;
mod moto;
mod process;
mod proxy;
mod registry;
mod require;
mod tls;

pub use git::{GitServer, GitTransport};
pub use mock::{CursorStyle, Fault, MockConfig, MockRegistry, generate_tags, mock_digest};
pub use moto::Moto;
pub use proxy::TestProxy;
pub use registry::{RegistryMode, TestRegistry};
pub use require::require;
