//! Retries, `Retry-After`, deadlines, and answers that are not what a registry should send.

use std::time::{Duration, Instant};

use imagebump_auth::Credential;
use imagebump_registry::{Options, list_tags};
use imagebump_testsupport::{Fault, MockConfig, MockRegistry, generate_tags};

use super::{client, image, list_mock, options};

fn mock_config(faults: Vec<Fault>) -> MockConfig {
    let mut config = MockConfig::default().repository("team/app", generate_tags(5));
    config.faults = faults;
    config
}

#[tokio::test]
async fn retry_after_seconds_is_honoured() {
    let mock = MockRegistry::start(mock_config(vec![Fault::TooManyRequests {
        retry_after: Some("1".into()),
    }]))
    .await;
    let started = Instant::now();
    let listed = list_mock(&mock, &options())
        .await
        .expect("succeeds after waiting");
    assert_eq!(listed.len(), 5);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "waited {:?}",
        started.elapsed()
    );
    assert_eq!(mock.tag_requests(), 2, "one 429, one success");
}

#[tokio::test]
async fn retry_after_http_date_is_honoured() {
    let when = httpdate_in(Duration::from_secs(2));
    let mock = MockRegistry::start(mock_config(vec![Fault::TooManyRequests {
        retry_after: Some(when),
    }]))
    .await;
    let started = Instant::now();
    list_mock(&mock, &options())
        .await
        .expect("succeeds after waiting");
    // HTTP dates have one-second resolution.
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "waited {:?}",
        started.elapsed()
    );
    assert_eq!(mock.tag_requests(), 2);
}

#[tokio::test]
async fn retry_after_beyond_the_deadline_fails_at_once() {
    let mock = MockRegistry::start(mock_config(vec![Fault::TooManyRequests {
        retry_after: Some("3600".into()),
    }]))
    .await;
    let options = Options {
        timeout: Duration::from_secs(5),
        ..options()
    };
    let started = Instant::now();
    let err = list_mock(&mock, &options)
        .await
        .expect_err("the wait does not fit");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "did not sleep: {:?}",
        started.elapsed()
    );
    let text = err.to_string();
    assert!(text.contains("timeout") && text.contains("429"), "{text}");
    assert!(err.is_transient());
}

#[tokio::test]
async fn server_errors_are_retried_with_backoff() {
    let faults = vec![Fault::Status(500), Fault::Status(502), Fault::Status(503)];
    let mock = MockRegistry::start(mock_config(faults)).await;
    let listed = list_mock(&mock, &options())
        .await
        .expect("the fourth attempt succeeds");
    assert_eq!(listed.len(), 5);
    assert_eq!(mock.tag_requests(), 4);
}

#[tokio::test]
async fn a_500_storm_gives_up_after_the_attempt_budget() {
    let mock = MockRegistry::start(mock_config(vec![Fault::Status(500); 10])).await;
    let err = list_mock(&mock, &options()).await.expect_err("storm");
    assert_eq!(mock.tag_requests(), 5, "max_attempts requests");
    let text = err.to_string();
    assert!(
        text.contains("500") && text.contains("/v2/team/app/tags/list"),
        "{text}"
    );
    assert!(err.is_transient());
}

#[tokio::test]
async fn not_found_is_not_retried() {
    let mock = MockRegistry::start(mock_config(vec![])).await;
    list_tags(
        &client(),
        &image(mock.host(), "other/app"),
        &Credential::Anonymous,
        &options(),
    )
    .await
    .expect_err("unknown repository");
    assert_eq!(mock.tag_requests(), 1);
}

#[tokio::test]
async fn the_scan_deadline_bounds_slow_registries() {
    let mock = MockRegistry::start(mock_config(vec![Fault::Slow(Duration::from_secs(30)); 5])).await;
    let options = Options {
        timeout: Duration::from_secs(1),
        ..options()
    };
    let started = Instant::now();
    let err = list_mock(&mock, &options).await.expect_err("too slow");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "took {:?}",
        started.elapsed()
    );
    assert!(err.is_transient(), "{err}");
}

#[tokio::test]
async fn malformed_json_is_reported_with_the_path() {
    let mock = MockRegistry::start(mock_config(vec![Fault::MalformedJson])).await;
    let err = list_mock(&mock, &options()).await.expect_err("bad JSON");
    let text = err.to_string();
    assert!(
        text.contains("not valid JSON") && text.contains("/v2/team/app/tags/list"),
        "{text}"
    );
}

fn httpdate_in(delay: Duration) -> String {
    httpdate::fmt_http_date(std::time::SystemTime::now() + delay)
}
