//! Types authenticated by a signature or token header: generic, generic-hmac, github, gitlab,
//! bitbucket, nexus.

use aws_lc_rs::hmac::{HMAC_SHA1_FOR_LEGACY_USE_ONLY, HMAC_SHA256, HMAC_SHA512};

use super::{
    TOKEN, accepted, assert_bad_request, assert_ignored, assert_unauthorized, check, headers, hmac_hex,
    image, sample,
};
use crate::receiver::payload::PushedImage;
use crate::receiver::{Verdict, WebhookType};

// Flux receivers: https://fluxcd.io/flux/components/notification/receivers/

#[tokio::test]
async fn generic_accepts_anything() {
    let body = sample("generic");
    assert_eq!(
        check(WebhookType::Generic, &[], &headers(&[]), &body).await,
        accepted(vec![])
    );
    assert_eq!(
        check(WebhookType::Generic, &[], &headers(&[]), b"\xff not json").await,
        accepted(vec![])
    );
}

#[tokio::test]
async fn generic_hmac_accepts_each_algorithm() {
    let body = sample("generic-hmac");
    for (name, algorithm) in [
        ("sha1", HMAC_SHA1_FOR_LEGACY_USE_ONLY),
        ("sha256", HMAC_SHA256),
        ("sha512", HMAC_SHA512),
    ] {
        let signature = format!("{name}={}", hmac_hex(algorithm, TOKEN.as_bytes(), &body));
        let result = check(
            WebhookType::GenericHmac,
            &[],
            &headers(&[("X-Signature", &signature)]),
            &body,
        )
        .await;
        assert_eq!(result, accepted(vec![]), "{name}");
    }
}

#[tokio::test]
async fn generic_hmac_rejections() {
    let body = sample("generic-hmac");
    let good = hmac_hex(HMAC_SHA256, TOKEN.as_bytes(), &body);
    let wrong_key = hmac_hex(HMAC_SHA256, b"another token", &body);
    let run = |value: String| {
        let body = body.clone();
        async move {
            check(
                WebhookType::GenericHmac,
                &[],
                &headers(&[("X-Signature", &value)]),
                &body,
            )
            .await
        }
    };
    assert_unauthorized(&run(format!("sha256={wrong_key}")).await);
    assert_unauthorized(&run(format!("sha512={good}")).await);
    assert_unauthorized(&run("sha256=not-hex".to_owned()).await);
    assert_unauthorized(&run("sha256=".to_owned()).await);
    assert_bad_request(&run(format!("md5={good}")).await);
    assert_bad_request(&run(good.clone()).await);
    assert_bad_request(&check(WebhookType::GenericHmac, &[], &headers(&[]), &body).await);
    // The signature covers the exact bytes.
    let mut changed = body.clone();
    changed.push(b' ');
    let signature = format!("sha256={good}");
    assert_unauthorized(
        &check(
            WebhookType::GenericHmac,
            &[],
            &headers(&[("X-Signature", &signature)]),
            &changed,
        )
        .await,
    );
}

// GitHub: https://docs.github.com/en/webhooks/webhook-events-and-payloads#package and
// https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries

fn github_headers(event: &str, body: &[u8]) -> axum::http::HeaderMap {
    let signature = format!("sha256={}", hmac_hex(HMAC_SHA256, TOKEN.as_bytes(), body));
    headers(&[("X-GitHub-Event", event), ("X-Hub-Signature-256", &signature)])
}

#[tokio::test]
async fn github_package_names_the_ghcr_image_and_tag() {
    let body = sample("github");
    let result = check(WebhookType::Github, &[], &github_headers("package", &body), &body).await;
    assert_eq!(result, accepted(vec![image("ghcr.io/org/app", Some("1.4.0"))]));
    // registry_package carries the same object under another key.
    let text = String::from_utf8(body)
        .unwrap()
        .replacen("\"package\":", "\"registry_package\":", 1);
    let result = check(
        WebhookType::Github,
        &["registry_package"],
        &github_headers("registry_package", text.as_bytes()),
        text.as_bytes(),
    )
    .await;
    assert_eq!(result, accepted(vec![image("ghcr.io/org/app", Some("1.4.0"))]));
}

#[tokio::test]
async fn github_sha1_fallback_and_form_encoding() {
    let body = sample("github");
    let form: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("payload", std::str::from_utf8(&body).unwrap())
        .finish();
    let signature = format!(
        "sha1={}",
        hmac_hex(HMAC_SHA1_FOR_LEGACY_USE_ONLY, TOKEN.as_bytes(), form.as_bytes())
    );
    let headers = headers(&[
        ("X-GitHub-Event", "package"),
        ("X-Hub-Signature", &signature),
        ("Content-Type", "application/x-www-form-urlencoded"),
    ]);
    let result = check(WebhookType::Github, &[], &headers, form.as_bytes()).await;
    assert_eq!(result, accepted(vec![image("ghcr.io/org/app", Some("1.4.0"))]));
}

#[tokio::test]
async fn github_events() {
    let body = br#"{"zen":"Keep it logically awesome.","hook_id":1}"#;
    assert_ignored(&check(WebhookType::Github, &[], &github_headers("ping", body), body).await);
    assert_ignored(
        &check(
            WebhookType::Github,
            &["push"],
            &github_headers("ping", body),
            body,
        )
        .await,
    );
    let push = br#"{"ref":"refs/heads/main"}"#;
    assert_eq!(
        check(WebhookType::Github, &[], &github_headers("push", push), push).await,
        accepted(vec![])
    );
    assert_eq!(
        check(
            WebhookType::Github,
            &["Push"],
            &github_headers("push", push),
            push
        )
        .await,
        accepted(vec![])
    );
    assert_ignored(
        &check(
            WebhookType::Github,
            &["package"],
            &github_headers("push", push),
            push,
        )
        .await,
    );
    // A package that is not a container image names no image: scan everything, as Flux would.
    let npm = br#"{"action":"published","package":{"name":"lib","package_type":"npm","ecosystem":"npm","owner":{"login":"org"}}}"#;
    assert_eq!(
        check(WebhookType::Github, &[], &github_headers("package", npm), npm).await,
        accepted(vec![])
    );
    // An untagged push (tag name "") has no tag.
    let untagged = br#"{"package":{"name":"app","package_type":"CONTAINER","owner":{"login":"org"},"package_version":{"container_metadata":{"tag":{"name":"","digest":"sha256:00"}}}}}"#;
    assert_eq!(
        check(
            WebhookType::Github,
            &[],
            &github_headers("package", untagged),
            untagged
        )
        .await,
        accepted(vec![image("ghcr.io/org/app", None)])
    );
}

#[tokio::test]
async fn github_rejections() {
    let body = sample("github");
    let bad = format!("sha256={}", hmac_hex(HMAC_SHA256, b"wrong", &body));
    assert_unauthorized(
        &check(
            WebhookType::Github,
            &[],
            &headers(&[("X-GitHub-Event", "package"), ("X-Hub-Signature-256", &bad)]),
            &body,
        )
        .await,
    );
    assert_bad_request(
        &check(
            WebhookType::Github,
            &[],
            &headers(&[("X-GitHub-Event", "package")]),
            &body,
        )
        .await,
    );
    // A SHA-1 signature in the SHA-256 header is refused, not downgraded.
    let sha1 = format!(
        "sha1={}",
        hmac_hex(HMAC_SHA1_FOR_LEGACY_USE_ONLY, TOKEN.as_bytes(), &body)
    );
    assert_bad_request(
        &check(
            WebhookType::Github,
            &[],
            &headers(&[("X-GitHub-Event", "package"), ("X-Hub-Signature-256", &sha1)]),
            &body,
        )
        .await,
    );
    let mut no_event = github_headers("package", &body);
    no_event.remove("X-GitHub-Event");
    assert_bad_request(&check(WebhookType::Github, &[], &no_event, &body).await);
    let malformed = b"{\"package\": {\"name\": ";
    let result = check(
        WebhookType::Github,
        &[],
        &github_headers("package", malformed),
        malformed,
    )
    .await;
    assert_bad_request(&result);
    assert!(format!("{result:?}").contains("line 1 column"), "{result:?}");
}

// GitLab: https://docs.gitlab.com/user/project/integrations/webhook_events/#push-events

#[tokio::test]
async fn gitlab() {
    let body = sample("gitlab");
    let hook = |token: &str, event: &str| headers(&[("X-Gitlab-Token", token), ("X-Gitlab-Event", event)]);
    assert_eq!(
        check(WebhookType::Gitlab, &[], &hook(TOKEN, "Push Hook"), &body).await,
        accepted(vec![])
    );
    assert_eq!(
        check(
            WebhookType::Gitlab,
            &["Push Hook"],
            &hook(TOKEN, "push hook"),
            &body
        )
        .await,
        accepted(vec![])
    );
    assert_ignored(
        &check(
            WebhookType::Gitlab,
            &["Tag Push Hook"],
            &hook(TOKEN, "Push Hook"),
            &body,
        )
        .await,
    );
    assert_ignored(
        &check(
            WebhookType::Gitlab,
            &["Push Hook"],
            &headers(&[("X-Gitlab-Token", TOKEN)]),
            &body,
        )
        .await,
    );
    assert_unauthorized(&check(WebhookType::Gitlab, &[], &hook("wrong", "Push Hook"), &body).await);
    assert_unauthorized(
        &check(
            WebhookType::Gitlab,
            &[],
            &hook(&format!("{TOKEN}x"), "Push Hook"),
            &body,
        )
        .await,
    );
    assert_unauthorized(&check(WebhookType::Gitlab, &[], &hook(&TOKEN[..5], "Push Hook"), &body).await);
    assert_bad_request(
        &check(
            WebhookType::Gitlab,
            &[],
            &headers(&[("X-Gitlab-Event", "Push Hook")]),
            &body,
        )
        .await,
    );
}

// Bitbucket Server: https://confluence.atlassian.com/bitbucketserver/event-payload-938025882.html

#[tokio::test]
async fn bitbucket() {
    let body = sample("bitbucket");
    let signature = format!("sha256={}", hmac_hex(HMAC_SHA256, TOKEN.as_bytes(), &body));
    let hook =
        |signature: &str, event: &str| headers(&[("X-Hub-Signature", signature), ("X-Event-Key", event)]);
    assert_eq!(
        check(
            WebhookType::Bitbucket,
            &[],
            &hook(&signature, "repo:refs_changed"),
            &body
        )
        .await,
        accepted(vec![])
    );
    assert_eq!(
        check(
            WebhookType::Bitbucket,
            &["repo:refs_changed"],
            &hook(&signature, "repo:refs_changed"),
            &body
        )
        .await,
        accepted(vec![])
    );
    assert_ignored(
        &check(
            WebhookType::Bitbucket,
            &["pr:merged"],
            &hook(&signature, "repo:refs_changed"),
            &body,
        )
        .await,
    );
    let wrong = format!("sha256={}", hmac_hex(HMAC_SHA256, b"wrong", &body));
    assert_unauthorized(
        &check(
            WebhookType::Bitbucket,
            &[],
            &hook(&wrong, "repo:refs_changed"),
            &body,
        )
        .await,
    );
    let sha1 = format!(
        "sha1={}",
        hmac_hex(HMAC_SHA1_FOR_LEGACY_USE_ONLY, TOKEN.as_bytes(), &body)
    );
    assert_bad_request(
        &check(
            WebhookType::Bitbucket,
            &[],
            &hook(&sha1, "repo:refs_changed"),
            &body,
        )
        .await,
    );
    assert_bad_request(
        &check(
            WebhookType::Bitbucket,
            &[],
            &headers(&[("X-Event-Key", "repo:refs_changed")]),
            &body,
        )
        .await,
    );
}

// Nexus: https://help.sonatype.com/en/example-headers-and-payloads.html

fn nexus_headers(body: &[u8]) -> axum::http::HeaderMap {
    let signature = hmac_hex(HMAC_SHA1_FOR_LEGACY_USE_ONLY, TOKEN.as_bytes(), body);
    headers(&[("X-Nexus-Webhook-Signature", &signature)])
}

#[tokio::test]
async fn nexus_names_the_path_only() {
    let body = sample("nexus");
    let result = check(WebhookType::Nexus, &[], &nexus_headers(&body), &body).await;
    let want = PushedImage {
        repository: "org/app".to_owned(),
        tag: Some("2.3.1".to_owned()),
        path_only: true,
    };
    assert_eq!(result, accepted(vec![want]));
    let maven = br#"{"action":"CREATED","repositoryName":"maven-releases","component":{"format":"maven2","name":"lib","version":"1.0"}}"#;
    assert_eq!(
        check(WebhookType::Nexus, &[], &nexus_headers(maven), maven).await,
        accepted(vec![])
    );
}

#[tokio::test]
async fn nexus_rejections() {
    let body = sample("nexus");
    let wrong = hmac_hex(HMAC_SHA1_FOR_LEGACY_USE_ONLY, b"wrong", &body);
    assert_unauthorized(
        &check(
            WebhookType::Nexus,
            &[],
            &headers(&[("X-Nexus-Webhook-Signature", &wrong)]),
            &body,
        )
        .await,
    );
    assert_bad_request(&check(WebhookType::Nexus, &[], &headers(&[]), &body).await);
    let malformed = b"{\"action\": CREATED}";
    assert_bad_request(&check(WebhookType::Nexus, &[], &nexus_headers(malformed), malformed).await);
    let no_action = br#"{"repositoryName":"docker-hosted"}"#;
    assert_bad_request(&check(WebhookType::Nexus, &[], &nexus_headers(no_action), no_action).await);
    let no_repository = br#"{"action":"CREATED"}"#;
    assert_bad_request(
        &check(
            WebhookType::Nexus,
            &[],
            &nexus_headers(no_repository),
            no_repository,
        )
        .await,
    );
}

#[tokio::test]
async fn non_ascii_header_is_a_bad_request() {
    let mut map = headers(&[]);
    map.insert(
        "X-Gitlab-Token",
        axum::http::HeaderValue::from_bytes(b"caf\xe9").unwrap(),
    );
    let result = check(WebhookType::Gitlab, &[], &map, b"{}").await;
    assert_bad_request(&result);
    assert!(!matches!(result, Ok(Verdict::Accept { .. })));
}

#[tokio::test]
async fn empty_token_verifies_nothing() {
    let body = b"{}";
    let signature = format!("sha256={}", hmac_hex(HMAC_SHA256, b"", body));
    let secret = crate::receiver::ReceiverSecret::default();
    let events: [String; 0] = [];
    for (kind, header) in [
        (WebhookType::GenericHmac, "X-Signature"),
        (WebhookType::Bitbucket, "X-Hub-Signature"),
        (WebhookType::Github, "X-Hub-Signature-256"),
    ] {
        let map = headers(&[(header, &signature), ("X-GitHub-Event", "push")]);
        let result =
            crate::receiver::verify(kind, &secret, &events, &map, body, &super::unreachable_google()).await;
        assert_unauthorized(&result);
    }
    let map = headers(&[("X-Gitlab-Token", "")]);
    let result = crate::receiver::verify(
        WebhookType::Gitlab,
        &secret,
        &events,
        &map,
        body,
        &super::unreachable_google(),
    )
    .await;
    assert_unauthorized(&result);
}
