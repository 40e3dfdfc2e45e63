//! Registry payloads: harbor, dockerhub, quay, acr, cdevents.

use super::{
    TOKEN, accepted, assert_bad_request, assert_ignored, assert_unauthorized, check, headers, image, sample,
};
use crate::receiver::WebhookType;

// Harbor: https://goharbor.io/docs/main/working-with-projects/project-configuration/configure-webhooks/
// (payload format "Default", auth header set to the receiver token)

#[tokio::test]
async fn harbor_push_names_each_resource() {
    let body = sample("harbor");
    let result = check(
        WebhookType::Harbor,
        &[],
        &headers(&[("Authorization", TOKEN)]),
        &body,
    )
    .await;
    assert_eq!(
        result,
        accepted(vec![image("harbor.example.com/library/app", Some("1.0"))])
    );
    // Without the `tag` field the tag comes from the resource URL; a digest URL has none.
    let body = br#"{"type":"PUSH_ARTIFACT","event_data":{"resources":[
        {"resource_url":"harbor.example.com:8443/team/api:2.0"},
        {"resource_url":"harbor.example.com/team/web@sha256:954b378c375d852eb3c63ab88978f640b4348b01c1b3456a024a81536dafbbf4"}]}}"#;
    let result = check(
        WebhookType::Harbor,
        &[],
        &headers(&[("Authorization", TOKEN)]),
        body,
    )
    .await;
    assert_eq!(
        result,
        accepted(vec![
            image("harbor.example.com:8443/team/api", Some("2.0")),
            image("harbor.example.com/team/web", None),
        ])
    );
}

#[tokio::test]
async fn harbor_rejections() {
    let body = sample("harbor");
    assert_unauthorized(
        &check(
            WebhookType::Harbor,
            &[],
            &headers(&[("Authorization", "wrong")]),
            &body,
        )
        .await,
    );
    let bearer = format!("Bearer {TOKEN}");
    assert_unauthorized(
        &check(
            WebhookType::Harbor,
            &[],
            &headers(&[("Authorization", &bearer)]),
            &body,
        )
        .await,
    );
    assert_bad_request(&check(WebhookType::Harbor, &[], &headers(&[]), &body).await);
    let auth = headers(&[("Authorization", TOKEN)]);
    let deleted = br#"{"type":"DELETE_ARTIFACT","event_data":{"resources":[]}}"#;
    assert_ignored(&check(WebhookType::Harbor, &[], &auth, deleted).await);
    assert_bad_request(&check(WebhookType::Harbor, &[], &auth, b"{\"event_data\":{}}").await);
    assert_bad_request(&check(WebhookType::Harbor, &[], &auth, b"<html>").await);
}

// Docker Hub: https://docs.docker.com/docker-hub/repos/manage/webhooks/

#[tokio::test]
async fn dockerhub_names_the_hub_repository() {
    let body = sample("dockerhub");
    let result = check(WebhookType::Dockerhub, &[], &headers(&[]), &body).await;
    assert_eq!(
        result,
        accepted(vec![image(
            "index.docker.io/svendowideit/testhook",
            Some("latest")
        )])
    );
    let official = br#"{"push_data":{"tag":"3.20"},"repository":{"repo_name":"alpine"}}"#;
    assert_eq!(
        check(WebhookType::Dockerhub, &[], &headers(&[]), official).await,
        accepted(vec![image("index.docker.io/library/alpine", Some("3.20"))])
    );
}

#[tokio::test]
async fn dockerhub_rejections() {
    let no_tag = br#"{"push_data":{},"repository":{"repo_name":"org/app"}}"#;
    assert_bad_request(&check(WebhookType::Dockerhub, &[], &headers(&[]), no_tag).await);
    let no_name = br#"{"push_data":{"tag":"1"},"repository":{}}"#;
    assert_bad_request(&check(WebhookType::Dockerhub, &[], &headers(&[]), no_name).await);
    let result = check(WebhookType::Dockerhub, &[], &headers(&[]), b"{\"push_data\": [1,").await;
    assert_bad_request(&result);
    assert!(
        format!("{result:?}").contains("column"),
        "serde's position is kept: {result:?}"
    );
    assert_bad_request(&check(WebhookType::Dockerhub, &[], &headers(&[]), b"").await);
}

// Quay: https://docs.quay.io/guides/notifications.html (Repository Push)

#[tokio::test]
async fn quay_names_one_image_per_tag() {
    let body = sample("quay");
    let result = check(WebhookType::Quay, &[], &headers(&[]), &body).await;
    assert_eq!(
        result,
        accepted(vec![
            image("quay.io/mynamespace/repository", Some("latest")),
            image("quay.io/mynamespace/repository", Some("1.2.0")),
        ])
    );
    let no_tags = br#"{"docker_url":"quay.io/org/app","updated_tags":[]}"#;
    assert_eq!(
        check(WebhookType::Quay, &[], &headers(&[]), no_tags).await,
        accepted(vec![image("quay.io/org/app", None)])
    );
}

#[tokio::test]
async fn quay_rejections() {
    assert_bad_request(
        &check(
            WebhookType::Quay,
            &[],
            &headers(&[]),
            br#"{"updated_tags":["1"]}"#,
        )
        .await,
    );
    assert_bad_request(&check(WebhookType::Quay, &[], &headers(&[]), br#"{"docker_url": 5}"#).await);
    assert_bad_request(
        &check(
            WebhookType::Quay,
            &[],
            &headers(&[]),
            b"docker_url=quay.io/org/app",
        )
        .await,
    );
}

// ACR: https://learn.microsoft.com/azure/container-registry/container-registry-webhook-reference

#[tokio::test]
async fn acr_push_names_the_registry_image() {
    let body = sample("acr");
    let result = check(WebhookType::Acr, &[], &headers(&[]), &body).await;
    assert_eq!(
        result,
        accepted(vec![image("myregistry.azurecr.io/hello-world", Some("v1"))])
    );
}

#[tokio::test]
async fn acr_rejections() {
    let chart = br#"{"action":"chart_push","target":{"repository":"mychart","tag":"1.0.0"}}"#;
    assert_ignored(&check(WebhookType::Acr, &[], &headers(&[]), chart).await);
    let delete = br#"{"action":"delete","target":{"repository":"app"},"request":{"host":"team.azurecr.io"}}"#;
    assert_ignored(&check(WebhookType::Acr, &[], &headers(&[]), delete).await);
    let no_repository = br#"{"action":"push","target":{"tag":"v1"},"request":{"host":"team.azurecr.io"}}"#;
    assert_bad_request(&check(WebhookType::Acr, &[], &headers(&[]), no_repository).await);
    assert_bad_request(&check(WebhookType::Acr, &[], &headers(&[]), br#"{"target":{}}"#).await);
    assert_bad_request(&check(WebhookType::Acr, &[], &headers(&[]), b"\x00\x01").await);
}

// CDEvents: https://cdevents.dev/docs/ (artifact published), CloudEvents HTTP binding
// https://github.com/cloudevents/spec/blob/main/cloudevents/bindings/http-protocol-binding.md

#[tokio::test]
async fn cdevents() {
    let body = sample("cdevents");
    let event = "dev.cdevents.artifact.published.0.2.0";
    let with_type = headers(&[("Ce-Type", event)]);
    assert_eq!(
        check(WebhookType::Cdevents, &[], &with_type, &body).await,
        accepted(vec![])
    );
    assert_eq!(
        check(WebhookType::Cdevents, &[event], &with_type, &body).await,
        accepted(vec![])
    );
    assert_ignored(
        &check(
            WebhookType::Cdevents,
            &["dev.cdevents.build.finished.0.2.0"],
            &with_type,
            &body,
        )
        .await,
    );
    assert_bad_request(&check(WebhookType::Cdevents, &[], &headers(&[]), &body).await);
    assert_bad_request(&check(WebhookType::Cdevents, &[], &with_type, b"{\"context\":").await);
}
