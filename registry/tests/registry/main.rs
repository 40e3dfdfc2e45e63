//! Integration tests of `imagebump-registry` against real servers on loopback: Debian's
//! `docker-registry` in every auth mode, and the mock registry for paging and faults.

mod faults;
mod paging;
mod real;
mod transport;

use std::time::Duration;

use imagebump_registry::{Client, ImageRef, Options};

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
