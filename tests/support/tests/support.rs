//! Tests of the test-support crate itself: real registries in every mode, the mock registry's
//! paging, faults and manifests, the `mock-registry` binary (with skopeo), the test proxy, and
//! `require`.

use std::collections::BTreeSet;
use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use imagebump_testsupport::{
    CursorStyle, Fault, MockConfig, MockRegistry, RegistryMode, TestProxy, TestRegistry, generate_tags,
    mock_digest, require,
};
use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, LINK, WWW_AUTHENTICATE};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

const TAGS: [&str; 3] = ["1.0.0", "1.1.0", "2.0.0-rc.1"];

fn plain_client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("a default client builds")
}

fn header(response: &reqwest::Response, name: impl reqwest::header::AsHeaderName) -> Option<String> {
    response
        .headers()
        .get(name)
        .map(|v| v.to_str().expect("test headers are ASCII").to_owned())
}

/// The `tags` of a `tags/list` body.
fn tags_in(body: &serde_json::Value) -> Vec<String> {
    body["tags"]
        .as_array()
        .expect("a tags/list body has a tags array")
        .iter()
        .map(|t| t.as_str().expect("tags are strings").to_owned())
        .collect()
}

async fn tags_of(response: reqwest::Response) -> BTreeSet<String> {
    assert_eq!(response.status(), StatusCode::OK);
    let content_type = header(&response, "content-type").unwrap_or_default();
    assert!(content_type.starts_with("application/json"), "{content_type}");
    let body: serde_json::Value = response.json().await.expect("a tags/list body is JSON");
    tags_in(&body).into_iter().collect()
}

fn expected_tags() -> BTreeSet<String> {
    TAGS.iter().map(|t| (*t).to_owned()).collect()
}

/// Pushes TAGS and checks the digests are distinct `sha256:` digests, stable on re-push, and
/// what the registry reports for each tag.
async fn push_and_check(registry: &TestRegistry, repo: &str, auth: Option<&str>) {
    let digests = registry.push(repo, &TAGS).await;
    assert_eq!(digests.len(), TAGS.len());
    assert!(
        digests.iter().all(|d| d.starts_with("sha256:") && d.len() == 71),
        "{digests:?}"
    );
    assert_eq!(
        digests.iter().collect::<BTreeSet<_>>().len(),
        TAGS.len(),
        "distinct digests"
    );
    assert_eq!(
        registry.push(repo, &TAGS[..1]).await,
        digests[..1],
        "re-push is idempotent"
    );

    let client = registry.http_client();
    for (tag, digest) in TAGS.iter().zip(&digests) {
        let mut request = client
            .head(format!("{}/v2/{repo}/manifests/{tag}", registry.base_url()))
            .header("Accept", "application/vnd.oci.image.manifest.v1+json");
        if let Some(auth) = auth {
            request = request.header(AUTHORIZATION, auth);
        }
        let response = request.send().await.expect("HEAD manifest");
        assert_eq!(response.status(), StatusCode::OK, "{tag}");
        assert_eq!(header(&response, "docker-content-digest").as_ref(), Some(digest));
    }
}

#[tokio::test]
async fn open_registry_push_and_list() {
    let Some(registry) = TestRegistry::start(RegistryMode::Open).await else {
        return;
    };
    assert!(registry.host().starts_with("127.0.0.1:"));
    assert_eq!(registry.base_url(), format!("http://{}", registry.host()));
    assert_eq!(registry.credentials(), None);
    assert!(registry.ca_pem().is_none() && registry.ca_path().is_none());
    assert!(registry.token_realm().is_none());

    push_and_check(&registry, "team/app", None).await;
    let url = format!("{}/v2/team/app/tags/list", registry.base_url());
    assert_eq!(
        tags_of(plain_client().get(url).send().await.unwrap()).await,
        expected_tags()
    );
}

#[tokio::test]
async fn basic_registry_push_and_list() {
    let Some(registry) = TestRegistry::start(RegistryMode::Basic).await else {
        return;
    };
    let (user, password) = registry.credentials().unwrap();
    assert_eq!((user, password), ("testuser", "testpass"));
    let url = format!("{}/v2/team/app/tags/list", registry.base_url());
    let client = plain_client();

    let anonymous = client.get(&url).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        header(&anonymous, WWW_AUTHENTICATE).as_deref(),
        Some("Basic realm=\"test-realm\"")
    );
    let wrong = client
        .get(&url)
        .basic_auth(user, Some("nope"))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);

    let auth = registry.authorization("team/app", "pull").await;
    push_and_check(&registry, "team/app", auth.as_deref()).await;
    let listed = client
        .get(&url)
        .basic_auth(user, Some(password))
        .send()
        .await
        .unwrap();
    assert_eq!(tags_of(listed).await, expected_tags());
}

#[tokio::test]
async fn tls_registry_push_and_list() {
    let Some(registry) = TestRegistry::start(RegistryMode::Tls).await else {
        return;
    };
    assert!(registry.host().starts_with("localhost:"));
    assert!(registry.base_url().starts_with("https://localhost:"));
    let pem = registry.ca_pem().unwrap();
    assert!(pem.starts_with(b"-----BEGIN CERTIFICATE-----"));
    assert_eq!(std::fs::read(registry.ca_path().unwrap()).unwrap(), pem);

    // Without the test CA the certificate is rejected.
    let untrusting = plain_client()
        .get(format!("{}/v2/", registry.base_url()))
        .send()
        .await;
    assert!(untrusting.is_err(), "{untrusting:?}");

    let client = reqwest::Client::builder()
        .no_proxy()
        .tls_certs_only([reqwest::Certificate::from_pem(&pem).unwrap()])
        .build()
        .unwrap();
    let (user, password) = registry.credentials().unwrap();
    let url = format!("{}/v2/team/app/tags/list", registry.base_url());
    let anonymous = client.get(&url).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);

    let auth = registry.authorization("team/app", "pull").await;
    push_and_check(&registry, "team/app", auth.as_deref()).await;
    let listed = client
        .get(&url)
        .basic_auth(user, Some(password))
        .send()
        .await
        .unwrap();
    assert_eq!(tags_of(listed).await, expected_tags());

    // The certificate is valid for 127.0.0.1 too.
    let port = registry.host().rsplit_once(':').unwrap().1;
    let by_ip = client
        .get(format!("https://127.0.0.1:{port}/v2/team/app/tags/list"))
        .basic_auth(user, Some(password))
        .send()
        .await
        .unwrap();
    assert_eq!(tags_of(by_ip).await, expected_tags());
}

#[tokio::test]
async fn mutual_tls_registry_push_and_list() {
    let Some(registry) = TestRegistry::start(RegistryMode::MutualTls).await else {
        return;
    };
    assert!(registry.mode().is_tls() && RegistryMode::ALL.contains(&registry.mode()));
    assert!(registry.base_url().starts_with("https://localhost:"));
    assert_eq!(registry.credentials(), None, "the certificate is the credential");
    assert_eq!(registry.authorization("team/app", "pull").await, None);
    let ca = registry.ca_pem().unwrap();
    let cert = registry.client_cert_pem().unwrap();
    let key = registry.client_key_pem().unwrap();
    assert!(cert.starts_with(b"-----BEGIN CERTIFICATE-----"));
    assert!(key.starts_with(b"-----BEGIN PRIVATE KEY-----"));
    assert_eq!(std::fs::read(registry.client_cert_path().unwrap()).unwrap(), cert);
    assert_eq!(std::fs::read(registry.client_key_path().unwrap()).unwrap(), key);
    let trusting = || {
        reqwest::Client::builder()
            .no_proxy()
            .tls_certs_only([reqwest::Certificate::from_pem(&ca).unwrap()])
    };
    let url = format!("{}/v2/team/app/tags/list", registry.base_url());

    // The CA alone is not enough: the registry ends the handshake.
    let refused = trusting().build().unwrap().get(&url).send().await;
    assert!(refused.is_err(), "{refused:?}");

    push_and_check(&registry, "team/app", None).await;
    let identity = reqwest::Identity::from_pem(&[cert.as_slice(), key.as_slice()].concat()).unwrap();
    let client = trusting().identity(identity).build().unwrap();
    assert_eq!(
        tags_of(client.get(&url).send().await.unwrap()).await,
        expected_tags()
    );
}

#[test]
fn only_the_mutual_tls_mode_has_a_client_certificate() {
    assert_eq!(RegistryMode::ALL.len(), 5);
    let tls: Vec<_> = RegistryMode::ALL.into_iter().filter(|m| m.is_tls()).collect();
    assert_eq!(tls, [RegistryMode::Tls, RegistryMode::MutualTls]);
}

/// Parses `Bearer realm="…",service="…",scope="…"`.
fn bearer_params(challenge: &str) -> Vec<(String, String)> {
    let params = challenge.strip_prefix("Bearer ").expect("a Bearer challenge");
    params
        .split("\",")
        .map(|kv| {
            let (k, v) = kv.split_once('=').expect("challenge parameters are key=value");
            (k.to_owned(), v.trim_matches('"').to_owned())
        })
        .collect()
}

#[tokio::test]
async fn token_registry_push_and_list() {
    let Some(registry) = TestRegistry::start(RegistryMode::Token).await else {
        return;
    };
    let realm = registry.token_realm().unwrap().to_owned();
    assert!(realm.starts_with("http://127.0.0.1:") && realm.ends_with("/token"));
    assert_eq!(registry.token_service(), Some("test-registry"));
    let (user, password) = registry.credentials().unwrap();
    let client = plain_client();
    let url = format!("{}/v2/team/app/tags/list", registry.base_url());

    let auth = registry.authorization("team/app", "pull").await;
    push_and_check(&registry, "team/app", auth.as_deref()).await;

    // The challenge names the realm, service and scope.
    let challenged = client.get(&url).send().await.unwrap();
    assert_eq!(challenged.status(), StatusCode::UNAUTHORIZED);
    let params = bearer_params(&header(&challenged, WWW_AUTHENTICATE).unwrap());
    let param = |k: &str| params.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone());
    assert_eq!(param("realm"), Some(realm.clone()));
    assert_eq!(param("service").as_deref(), Some("test-registry"));
    assert_eq!(param("scope").as_deref(), Some("repository:team/app:pull"));

    // Anonymous tokens can pull …
    let query = [
        ("service", "test-registry"),
        ("scope", "repository:team/app:pull,push"),
    ];
    let token = |response: serde_json::Value| response["token"].as_str().unwrap().to_owned();
    let anonymous = client.get(&realm).query(&query).send().await.unwrap();
    let anonymous = token(anonymous.json().await.unwrap());
    let listed = client.get(&url).bearer_auth(&anonymous).send().await.unwrap();
    assert_eq!(tags_of(listed).await, expected_tags());
    // … but not push.
    let upload = format!("{}/v2/team/app/blobs/uploads/", registry.base_url());
    let denied = client.post(&upload).bearer_auth(&anonymous).send().await.unwrap();
    assert_eq!(denied.status(), StatusCode::UNAUTHORIZED);

    // Wrong credentials get no token; right ones get a token that can do both.
    let wrong = client
        .get(&realm)
        .query(&query)
        .basic_auth(user, Some("nope"))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let authed = client
        .get(&realm)
        .query(&query)
        .basic_auth(user, Some(password))
        .send()
        .await
        .unwrap();
    let authed = token(authed.json().await.unwrap());
    let listed = client.get(&url).bearer_auth(&authed).send().await.unwrap();
    assert_eq!(tags_of(listed).await, expected_tags());
    let allowed = client.post(&upload).bearer_auth(&authed).send().await.unwrap();
    assert_eq!(allowed.status(), StatusCode::ACCEPTED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_many_tags_quickly() {
    let Some(registry) = TestRegistry::start(RegistryMode::Open).await else {
        return;
    };
    let tags = generate_tags(1000);
    let tags: Vec<&str> = tags.iter().map(String::as_str).collect();
    let started = Instant::now();
    let digests = registry.push("many/tags", &tags).await;
    let elapsed = started.elapsed();
    eprintln!("pushed {} tags in {elapsed:?}", tags.len());
    assert_eq!(digests.iter().collect::<BTreeSet<_>>().len(), 1000);
    let url = format!("{}/v2/many/tags/tags/list", registry.base_url());
    let listed = tags_of(plain_client().get(url).send().await.unwrap()).await;
    assert_eq!(listed.len(), 1000);
    assert!(
        elapsed < Duration::from_secs(20),
        "pushing 1000 tags took {elapsed:?}"
    );
}

#[tokio::test]
async fn registry_stops_on_drop() {
    let Some(registry) = TestRegistry::start(RegistryMode::Open).await else {
        return;
    };
    let url = format!("{}/v2/", registry.base_url());
    let dir = registry.dir().to_owned();
    assert!(dir.join("registry.log").exists());
    assert_eq!(
        plain_client().get(&url).send().await.unwrap().status(),
        StatusCode::OK
    );
    drop(registry);
    assert!(plain_client().get(&url).send().await.is_err());
    assert!(!dir.exists());
}

// ---------------------------------------------------------------------------------------------
// Mock registry

/// Lists every page from `base` + `path_and_query`, following `Link` headers (relative or
/// absolute); returns the pages and the `Link` values seen.
async fn follow_pages(base: &str, path_and_query: &str) -> (Vec<Vec<String>>, Vec<String>) {
    let client = plain_client();
    let mut url = format!("{base}{path_and_query}");
    let (mut pages, mut links) = (Vec::new(), Vec::new());
    loop {
        let response = client.get(&url).send().await.expect("GET tags/list");
        assert_eq!(response.status(), StatusCode::OK, "{url}");
        assert_eq!(
            header(&response, "content-type").as_deref(),
            Some("application/json")
        );
        let link = header(&response, LINK);
        let body: serde_json::Value = response.json().await.expect("a tags/list body is JSON");
        pages.push(tags_in(&body));
        let Some(link) = link else { break };
        let target = link
            .strip_prefix('<')
            .and_then(|l| l.split_once(">; rel=\"next\""))
            .expect("Link is <URL>; rel=\"next\"")
            .0;
        // Relative links resolve against the page they came from.
        url = reqwest::Url::parse(&url)
            .and_then(|page| page.join(target))
            .expect("the Link target is a URL reference")
            .to_string();
        links.push(link);
        assert!(pages.len() < 100, "endless paging");
    }
    (pages, links)
}

fn seven_tags() -> Vec<String> {
    ["1.0.0", "1.0.1", "1.1.0", "1.2.0", "2.0.0", "2.1.0", "3.0.0"]
        .map(String::from)
        .to_vec()
}

#[tokio::test]
async fn mock_pages_with_last_cursor() {
    let mock = MockRegistry::start(
        MockConfig::default()
            .repository("team/app", seven_tags())
            .page_size(3),
    )
    .await;
    assert_eq!(mock.base_url(), format!("http://{}", mock.host()));

    let (pages, links) = follow_pages(mock.base_url(), "/v2/team/app/tags/list").await;
    assert_eq!(
        pages,
        [&seven_tags()[..3], &seven_tags()[3..6], &seven_tags()[6..]]
    );
    assert_eq!(
        links,
        [
            "</v2/team/app/tags/list?n=3&last=1.1.0>; rel=\"next\"",
            "</v2/team/app/tags/list?n=3&last=2.1.0>; rel=\"next\"",
        ]
    );
    assert_eq!(mock.tag_requests(), 3);
    assert_eq!(
        mock.requests(),
        [
            "GET /v2/team/app/tags/list",
            "GET /v2/team/app/tags/list?n=3&last=1.1.0",
            "GET /v2/team/app/tags/list?n=3&last=2.1.0",
        ]
    );

    // A smaller n is honoured, a larger one capped at the server's page size.
    let (pages, _) = follow_pages(mock.base_url(), "/v2/team/app/tags/list?n=2").await;
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [2, 2, 2, 1]);
    let (pages, _) = follow_pages(mock.base_url(), "/v2/team/app/tags/list?n=100").await;
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [3, 3, 1]);
    // `last` that is not a tag: the tags sorting after it.
    let (pages, _) = follow_pages(mock.base_url(), "/v2/team/app/tags/list?last=1.5").await;
    assert_eq!(pages.concat(), seven_tags()[4..]);
    // n=0: an empty page and no Link.
    let (pages, links) = follow_pages(mock.base_url(), "/v2/team/app/tags/list?n=0").await;
    assert_eq!((pages, links), (vec![vec![]], vec![]));

    let bad = plain_client()
        .get(format!("{}/v2/team/app/tags/list?n=lots", mock.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    let body: serde_json::Value = bad.json().await.unwrap();
    assert_eq!(body["errors"][0]["code"], "PAGINATION_NUMBER_INVALID");
}

#[tokio::test]
async fn mock_without_page_size_serves_everything_unless_asked() {
    let mock = MockRegistry::start(MockConfig::default().repository("a", seven_tags())).await;
    let (pages, links) = follow_pages(mock.base_url(), "/v2/a/tags/list").await;
    assert_eq!((pages, links), (vec![seven_tags()], vec![]));
    let (pages, _) = follow_pages(mock.base_url(), "/v2/a/tags/list?n=4").await;
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [4, 3]);
}

#[tokio::test]
async fn mock_pages_with_opaque_cursor_and_link_host() {
    let config = MockConfig::default()
        .repository("org/team/app", seven_tags())
        .page_size(3)
        .cursor(CursorStyle::Opaque);
    let mock = MockRegistry::start(config.clone()).await;
    let (pages, links) = follow_pages(mock.base_url(), "/v2/org/team/app/tags/list").await;
    assert_eq!(pages.concat(), seven_tags());
    assert_eq!(pages.len(), 3);
    for link in &links {
        let query = link.split_once('?').unwrap().1.split_once('>').unwrap().0;
        let token = query.strip_prefix("next_page=").unwrap();
        assert!(
            !token.is_empty() && !token.contains("1.") && !token.contains('&'),
            "{link}"
        );
        assert!(link.starts_with("</v2/org/team/app/tags/list?next_page="));
    }
    // Opaque servers ignore `last`: a client must follow the Link.
    let (pages, _) = follow_pages(mock.base_url(), "/v2/org/team/app/tags/list?n=2&last=1.1.0").await;
    assert_eq!(pages[0], seven_tags()[..2]);
    // The token carries the client's page size.
    let (pages, _) = follow_pages(mock.base_url(), "/v2/org/team/app/tags/list?n=2").await;
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [2, 2, 2, 1]);
    let bad = plain_client()
        .get(format!(
            "{}/v2/org/team/app/tags/list?next_page=%21%21",
            mock.base_url()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);

    // link_host makes links absolute, pointing at another server.
    let other = MockRegistry::start(config.clone()).await;
    let mock = MockRegistry::start(config.link_host(other.host())).await;
    let (pages, links) = follow_pages(mock.base_url(), "/v2/org/team/app/tags/list").await;
    assert_eq!(pages.concat(), seven_tags());
    assert!(links[0].starts_with(&format!(
        "<http://{}/v2/org/team/app/tags/list?next_page=",
        other.host()
    )));
    assert_eq!((mock.tag_requests(), other.tag_requests()), (1, 2));

    let last_style = MockRegistry::start(
        MockConfig::default()
            .repository("a", seven_tags())
            .page_size(5)
            .link_host("evil.example:8080"),
    )
    .await;
    let response = plain_client()
        .get(format!("{}/v2/a/tags/list", last_style.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(
        header(&response, LINK).as_deref(),
        Some("<http://evil.example:8080/v2/a/tags/list?n=5&last=2.0.0>; rel=\"next\"")
    );
}

#[tokio::test]
async fn mock_serves_faults_in_order() {
    let config = MockConfig::default()
        .repository("team/app", seven_tags())
        .fault(Fault::TooManyRequests {
            retry_after: Some("2".into()),
        })
        .fault(Fault::Status(503))
        .fault(Fault::MalformedJson)
        .fault(Fault::TooManyRequests { retry_after: None })
        .fault(Fault::Slow(Duration::from_millis(300)));
    let mock = MockRegistry::start(config).await;
    assert_eq!(mock.remaining_faults(), 5);
    let client = plain_client();
    let url = format!("{}/v2/team/app/tags/list", mock.base_url());

    // Faults do not apply to other endpoints.
    let ping = client
        .get(format!("{}/v2/", mock.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(ping.status(), StatusCode::OK);
    assert_eq!(ping.text().await.unwrap(), "{}");

    let r = client.get(&url).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(header(&r, "retry-after").as_deref(), Some("2"));
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["errors"][0]["code"], "TOOMANYREQUESTS");

    let r = client.get(&url).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(header(&r, "content-type").as_deref(), Some("application/json"));

    let r = client.get(&url).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.json::<serde_json::Value>().await.is_err(), "malformed JSON");

    let r = client.get(&url).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(header(&r, "retry-after"), None);

    let started = Instant::now();
    let r = client.get(&url).send().await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(tags_of(r).await.len(), 7);

    let r = client.get(&url).send().await.unwrap();
    assert_eq!(tags_of(r).await.len(), 7);
    assert_eq!(mock.remaining_faults(), 0);
    assert_eq!(mock.tag_requests(), 6);

    mock.add_fault(Fault::Status(502));
    assert_eq!(
        client.get(&url).send().await.unwrap().status(),
        StatusCode::BAD_GATEWAY
    );
    assert_eq!(mock.tag_requests(), 7);
    assert_eq!(mock.requests().len(), 8);
    assert_eq!(mock.requests()[0], "GET /v2/");
}

#[tokio::test]
async fn mock_basic_auth() {
    let mock = MockRegistry::start(
        MockConfig::default()
            .repository("team/app", seven_tags())
            .basic_auth("alice", "s3cret")
            .fault(Fault::Status(500)),
    )
    .await;
    let client = plain_client();
    for path in ["/v2/", "/v2/team/app/tags/list", "/v2/team/app/manifests/1.0.0"] {
        let url = format!("{}{path}", mock.base_url());
        let r = client.get(&url).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(
            header(&r, WWW_AUTHENTICATE).as_deref(),
            Some("Basic realm=\"mock\"")
        );
        let wrong = client
            .get(&url)
            .basic_auth("alice", Some("x"))
            .send()
            .await
            .unwrap();
        assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED, "{path}");
    }
    // The 401s counted but did not consume the fault.
    assert_eq!((mock.tag_requests(), mock.remaining_faults()), (2, 1));
    let url = format!("{}/v2/team/app/tags/list", mock.base_url());
    let r = client
        .get(&url)
        .basic_auth("alice", Some("s3cret"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let r = client
        .get(&url)
        .basic_auth("alice", Some("s3cret"))
        .send()
        .await
        .unwrap();
    assert_eq!(tags_of(r).await.len(), 7);
}

#[tokio::test]
async fn mock_manifests_and_errors() {
    let mock = MockRegistry::start(MockConfig::default().repository("team/app", seven_tags())).await;
    let client = plain_client();
    let base = mock.base_url();

    let r = client
        .get(format!("{base}/v2/team/app/manifests/1.2.0"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        header(&r, "content-type").as_deref(),
        Some("application/vnd.oci.image.manifest.v1+json")
    );
    assert_eq!(header(&r, "docker-content-digest"), Some(mock_digest("1.2.0")));
    assert_eq!(
        header(&r, "docker-distribution-api-version").as_deref(),
        Some("registry/2.0")
    );
    let manifest: serde_json::Value = r.json().await.unwrap();
    assert_eq!(manifest["schemaVersion"], 2);
    assert_eq!(
        manifest["annotations"]["org.opencontainers.image.version"],
        "1.2.0"
    );

    let r = client
        .head(format!("{base}/v2/team/app/manifests/1.2.0"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(header(&r, "docker-content-digest"), Some(mock_digest("1.2.0")));
    assert!(header(&r, "content-length").unwrap().parse::<usize>().unwrap() > 0);
    assert!(r.bytes().await.unwrap().is_empty());

    let by_digest = format!("{base}/v2/team/app/manifests/{}", mock_digest("3.0.0"));
    let r = client.get(by_digest).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(header(&r, "docker-content-digest"), Some(mock_digest("3.0.0")));

    let r = client
        .get(format!("{base}/v2/team/app/manifests/9.9.9"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(header(&r, "content-type").as_deref(), Some("application/json"));
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["errors"][0]["code"], "MANIFEST_UNKNOWN");
    let r = client
        .head(format!("{base}/v2/team/app/manifests/9.9.9"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    for path in ["/v2/other/tags/list", "/v2/other/manifests/1.0.0"] {
        let r = client.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path}");
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body["errors"][0]["code"], "NAME_UNKNOWN");
        assert_eq!(body["errors"][0]["detail"]["name"], "other");
    }
    assert_eq!(mock.tag_requests(), 1);
}

#[tokio::test]
async fn mock_stops_on_drop() {
    let mock = MockRegistry::start(MockConfig::default()).await;
    let url = format!("{}/v2/", mock.base_url());
    assert_eq!(
        plain_client().get(&url).send().await.unwrap().status(),
        StatusCode::OK
    );
    drop(mock);
    let deadline = Instant::now() + Duration::from_secs(5);
    // A fresh client: the first one's idle connection may outlive the listener briefly.
    while reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .get(&url)
        .send()
        .await
        .is_ok()
    {
        assert!(Instant::now() < deadline, "the mock still answers after drop");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

// ---------------------------------------------------------------------------------------------
// The mock-registry binary

/// Runs `mock-registry` with `args`, returns the child and its base URL.
fn spawn_mock_binary(args: &[&str]) -> (std::process::Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mock-registry"))
        .args(args)
        .stdout(Stdio::piped())
        .spawn()
        .expect("starting mock-registry");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout is piped"))
        .read_line(&mut line)
        .expect("reading mock-registry's stdout");
    let base = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("mock-registry printed {line:?}"))
        .to_owned();
    assert!(base.starts_with("http://127.0.0.1:"), "{line}");
    (child, base)
}

#[tokio::test]
async fn mock_registry_binary_pages_for_us_and_skopeo() {
    for opaque in [false, true] {
        let mut args = vec![
            "--listen",
            "127.0.0.1:0",
            "--repo",
            "bench/app",
            "--tags",
            "250",
            "--page-size",
            "100",
        ];
        if opaque {
            args.push("--opaque");
        }
        let (mut child, base) = spawn_mock_binary(&args);
        let (pages, _) = follow_pages(&base, "/v2/bench/app/tags/list").await;
        assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [100, 100, 50]);
        assert_eq!(pages.concat(), generate_tags(250));

        if require("skopeo") {
            let host = base.strip_prefix("http://").unwrap();
            let output = tokio::process::Command::new("skopeo")
                .args(["list-tags", "--tls-verify=false"])
                .arg(format!("docker://{host}/bench/app"))
                .output()
                .await
                .unwrap();
            assert!(
                output.status.success(),
                "skopeo: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            let listed: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
            let tags: Vec<String> = serde_json::from_value(listed["Tags"].clone()).unwrap();
            assert_eq!(tags, generate_tags(250), "opaque: {opaque}");
        }
        child.kill().unwrap();
        child.wait().unwrap();
    }
}

// ---------------------------------------------------------------------------------------------
// Proxy

/// A client that sends everything through `proxy`, with `credentials` if given.
fn proxied_client(proxy: &TestProxy, credentials: Option<(&str, &str)>) -> reqwest::Client {
    let mut via = reqwest::Proxy::all(proxy.url()).expect("the proxy URL parses");
    if let Some((user, password)) = credentials {
        via = via.basic_auth(user, password);
    }
    reqwest::Client::builder()
        .proxy(via)
        .build()
        .expect("a client with a proxy builds")
}

/// Sends `request` (a whole head) to the proxy on a fresh connection and returns everything it
/// answers until it closes.
async fn raw_exchange(proxy: &TestProxy, request: &str) -> String {
    let mut stream = tokio::net::TcpStream::connect(proxy.addr())
        .await
        .expect("connecting to the proxy");
    stream
        .write_all(request.as_bytes())
        .await
        .expect("sending to the proxy");
    let mut answer = Vec::new();
    stream
        .read_to_end(&mut answer)
        .await
        .expect("reading the proxy's answer");
    String::from_utf8(answer).expect("the answer is UTF-8")
}

#[tokio::test]
async fn proxy_forwards_plain_http_with_credentials() {
    let mock = MockRegistry::start(MockConfig::default().repository("team/app", seven_tags())).await;
    let proxy = TestProxy::with_credentials("pu", "pp");
    assert_eq!(proxy.credentials(), Some(("pu", "pp")));
    assert_eq!(proxy.url(), format!("http://{}", proxy.addr()));
    assert_eq!(
        proxy.url_with_credentials(),
        format!("http://pu:pp@{}", proxy.addr())
    );
    assert!(!format!("{proxy:?}").contains("pp"), "{proxy:?}");

    let url = format!("{}/v2/team/app/tags/list", mock.base_url());
    let client = proxied_client(&proxy, Some(("pu", "pp")));
    for _ in 0..2 {
        let response = client.get(&url).send().await.unwrap();
        assert_eq!(header(&response, "connection").as_deref(), Some("close"));
        assert_eq!(tags_of(response).await.len(), 7);
    }
    assert_eq!((proxy.forwarded(), proxy.tunnels(), proxy.refused()), (2, 0, 0));
    assert_eq!(proxy.targets(), [mock.host(), mock.host()]);
    assert_eq!(
        proxy.requests(),
        [format!("GET {url} HTTP/1.1"), format!("GET {url} HTTP/1.1")]
    );
    // The registry saw origin-form requests, with the proxy's credentials removed.
    assert_eq!(mock.tag_requests(), 2);
}

#[tokio::test]
async fn proxy_without_the_right_credentials_answers_407() {
    let mock = MockRegistry::start(MockConfig::default().repository("team/app", seven_tags())).await;
    let proxy = TestProxy::with_credentials("pu", "pp");
    let url = format!("{}/v2/", mock.base_url());
    for credentials in [None, Some(("pu", "wrong"))] {
        let response = proxied_client(&proxy, credentials)
            .get(&url)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::PROXY_AUTHENTICATION_REQUIRED);
        assert_eq!(
            header(&response, "proxy-authenticate").as_deref(),
            Some("Basic realm=\"proxy\"")
        );
    }
    let answer = raw_exchange(&proxy, &format!("CONNECT {} HTTP/1.1\r\n\r\n", mock.host())).await;
    assert!(answer.starts_with("HTTP/1.1 407 "), "{answer}");
    assert_eq!((proxy.forwarded(), proxy.tunnels(), proxy.refused()), (0, 0, 3));
    assert!(proxy.targets().is_empty());
    assert!(mock.requests().is_empty(), "{:?}", mock.requests());
}

#[tokio::test]
async fn proxy_tunnels_connect() {
    let mock = MockRegistry::start(MockConfig::default().repository("team/app", seven_tags())).await;
    let proxy = TestProxy::start();
    let host = mock.host();
    let answer = raw_exchange(
        &proxy,
        &format!(
            "CONNECT {host} HTTP/1.1\r\nHost: {host}\r\n\r\n\
             GET /v2/team/app/tags/list HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
        ),
    )
    .await;
    assert!(
        answer.starts_with("HTTP/1.1 200 Connection Established\r\n\r\nHTTP/1.1 200 OK\r\n"),
        "{answer}"
    );
    assert!(answer.contains(r#""name":"team/app""#), "{answer}");
    assert_eq!((proxy.forwarded(), proxy.tunnels()), (0, 1));
    assert_eq!(proxy.targets(), [host]);
    assert_eq!(proxy.requests(), [format!("CONNECT {host} HTTP/1.1")]);
}

#[tokio::test]
async fn proxy_reaches_only_loopback() {
    let proxy = TestProxy::start();
    // 192.0.2.0/24 is TEST-NET-1: never routed, and refused before any connection attempt.
    for request in [
        "GET http://192.0.2.1:5000/v2/ HTTP/1.1\r\nHost: 192.0.2.1:5000\r\n\r\n",
        "CONNECT 192.0.2.1:443 HTTP/1.1\r\n\r\n",
    ] {
        let answer = raw_exchange(&proxy, request).await;
        assert!(answer.starts_with("HTTP/1.1 403 Forbidden\r\n"), "{answer}");
        assert!(answer.ends_with("only reaches loopback addresses"), "{answer}");
    }
    let answer = raw_exchange(&proxy, "GET /v2/ HTTP/1.1\r\n\r\n").await;
    assert!(answer.starts_with("HTTP/1.1 400 "), "{answer}");
    // A free port: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let answer = raw_exchange(&proxy, &format!("CONNECT 127.0.0.1:{port} HTTP/1.1\r\n\r\n")).await;
    assert!(answer.starts_with("HTTP/1.1 502 Bad Gateway\r\n"), "{answer}");
    assert_eq!(proxy.forwarded() + proxy.tunnels(), 0);
}

#[test]
fn proxy_serves_while_the_test_thread_blocks_and_stops_on_drop() {
    let proxy = TestProxy::start();
    let addr = proxy.addr();
    // A blocking client on this (runtime-less) thread: the proxy has its own.
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    std::io::Write::write_all(&mut stream, b"CONNECT 192.0.2.1:443 HTTP/1.1\r\n\r\n").unwrap();
    let mut answer = String::new();
    std::io::Read::read_to_string(&mut stream, &mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 403 "), "{answer}");
    drop(proxy);
    assert!(std::net::TcpStream::connect(addr).is_err());
}

// ---------------------------------------------------------------------------------------------
// require

#[test]
fn require_finds_programs_and_fails_on_missing_ones_on_ci() {
    assert!(require("sh"));
    // Without CI a missing program prints `SKIPPED: …` and returns false (unit-tested in
    // require.rs, to keep that line out of this output).
    if std::env::var_os("CI").is_some_and(|v| !v.is_empty()) {
        let missing = std::panic::catch_unwind(|| require("imagebump-no-such-program"));
        let message = missing.unwrap_err();
        let message = message.downcast_ref::<String>().unwrap();
        assert!(message.contains("scripts/install-test-deps.sh"), "{message}");
    }
}
