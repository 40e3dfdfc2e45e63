//! Integration tests of `imagebump-registry` against real servers on loopback: Debian's
//! `docker-registry` in every auth mode, and the mock registry for paging and faults.

mod faults;
mod paging;
mod real;
mod transport;

use std::time::Duration;

use imagebump_auth::Credential;
use imagebump_registry::{Client, ImageRef, Options, list_tags};

/// Options for tests: short backoff so retries do not slow the suite.
fn options() -> Options {
    Options {
        timeout: Duration::from_secs(20),
        initial_backoff: Duration::from_millis(50),
        ..Options::default()
    }
}

fn image(host: &str, repository: &str) -> ImageRef {
    ImageRef::parse(&format!("{host}/{repository}")).expect("test image parses")
}

fn client() -> Client {
    Client::new().expect("default client builds")
}

/// Lists `team/app` on a mock registry anonymously: what most fault and paging tests do.
async fn list_mock(
    mock: &imagebump_testsupport::MockRegistry,
    options: &Options,
) -> Result<Vec<String>, imagebump_registry::list_tags::Error> {
    list_tags(
        &client(),
        &image(mock.host(), "team/app"),
        &Credential::Anonymous,
        options,
    )
    .await
}
