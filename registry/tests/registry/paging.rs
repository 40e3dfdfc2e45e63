//! Paging through `Link` headers, which Debian's registry does not implement: the mock does.

use imagebump_auth::Credential;
use imagebump_registry::{Options, list_tags};
use imagebump_testsupport::{CursorStyle, MockConfig, MockRegistry, generate_tags};

use super::{client, image, list_mock, options};

#[tokio::test]
async fn ten_thousand_tags_in_pages_of_one_hundred() {
    let tags = generate_tags(10_000);
    let mock = MockRegistry::start(
        MockConfig::default()
            .repository("team/app", tags.clone())
            .page_size(100),
    )
    .await;
    let listed = list_mock(&mock, &options()).await.expect("all pages");
    assert_eq!(listed, tags, "every tag, in registry order");
    assert_eq!(mock.tag_requests(), 100);
}

#[tokio::test]
async fn opaque_cursors_are_followed_verbatim() {
    let tags = generate_tags(250);
    let config = MockConfig::default()
        .repository("team/app", tags.clone())
        .page_size(1000)
        .cursor(CursorStyle::Opaque);
    let mock = MockRegistry::start(config).await;
    let options = Options {
        page_size: 100,
        ..options()
    };
    let listed = list_mock(&mock, &options).await.expect("all pages");
    assert_eq!(listed, tags);
    assert_eq!(mock.tag_requests(), 3);
    assert!(
        mock.requests().iter().any(|r| r.contains("next_page=")),
        "{:?}",
        mock.requests()
    );
}

#[tokio::test]
async fn links_to_another_host_are_refused() {
    let config = MockConfig::default()
        .repository("team/app", generate_tags(10))
        .page_size(5)
        .link_host("169.254.169.254");
    let mock = MockRegistry::start(config).await;
    let err = list_mock(&mock, &options()).await.expect_err("cross-host link");
    assert!(err.to_string().contains("potential SSRF"), "{err}");
    assert!(!err.is_transient());
    assert_eq!(mock.tag_requests(), 1, "the foreign link was not requested");
}

#[tokio::test]
async fn basic_auth_on_the_mock() {
    let config = MockConfig::default()
        .repository("team/app", generate_tags(3))
        .basic_auth("u", "p");
    let mock = MockRegistry::start(config).await;
    let listed = list_tags(
        &client(),
        &image(mock.host(), "team/app"),
        &Credential::basic("u", "p"),
        &options(),
    )
    .await
    .expect("basic auth");
    assert_eq!(listed.len(), 3);
}
