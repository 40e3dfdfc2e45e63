//! `matches`: which `ImageRepository` a pushed image is.

use imagebump_registry::ImageRef;

use super::{check, headers, image, sample};
use crate::receiver::payload::PushedImage;
use crate::receiver::{Verdict, WebhookType, matches};

fn path_only(path: &str) -> PushedImage {
    PushedImage {
        repository: path.to_owned(),
        tag: None,
        path_only: true,
    }
}

#[test]
fn match_table() {
    let table: [(PushedImage, &str, bool); 18] = [
        // Docker Hub: short names, docker.io and index.docker.io are one repository.
        (image("index.docker.io/org/app", None), "org/app", true),
        (image("index.docker.io/org/app", None), "docker.io/org/app", true),
        (
            image("index.docker.io/org/app", None),
            "index.docker.io/org/app",
            true,
        ),
        (image("index.docker.io/org/app", None), "ghcr.io/org/app", false),
        (image("index.docker.io/library/alpine", None), "alpine", true),
        (
            image("index.docker.io/library/alpine", None),
            "docker.io/library/alpine",
            true,
        ),
        (image("index.docker.io/library/alpine", None), "org/alpine", false),
        // GHCR.
        (image("ghcr.io/org/app", None), "ghcr.io/org/app", true),
        (image("ghcr.io/org/app", None), "ghcr.io/org/app2", false),
        (image("ghcr.io/org/app", None), "org/app", false),
        // ACR: the host is part of the name.
        (image("team.azurecr.io/app", None), "team.azurecr.io/app", true),
        (image("team.azurecr.io/app", None), "other.azurecr.io/app", false),
        // Registry with a port.
        (
            image("harbor.example.com:8443/team/api", None),
            "harbor.example.com:8443/team/api",
            true,
        ),
        (
            image("harbor.example.com:8443/team/api", None),
            "harbor.example.com/team/api",
            false,
        ),
        // Nexus: path only, any host.
        (path_only("org/app"), "nexus.example.com:8082/org/app", true),
        (path_only("org/app"), "registry.internal/org/app", true),
        (path_only("org/app"), "nexus.example.com:8082/other/app", false),
        (path_only("app"), "nexus.example.com:8082/team/app", false),
    ];
    for (pushed, spec_image, want) in table {
        let parsed = ImageRef::parse(spec_image).unwrap();
        assert_eq!(matches(&pushed, &parsed), want, "{pushed:?} vs {spec_image}");
    }
}

#[tokio::test]
async fn parsed_payloads_match_their_image_repositories() {
    let dockerhub = check(WebhookType::Dockerhub, &[], &headers(&[]), &sample("dockerhub")).await;
    let Ok(Verdict::Accept { images }) = dockerhub else {
        panic!("{dockerhub:?}")
    };
    assert!(matches(
        &images[0],
        &ImageRef::parse("svendowideit/testhook").unwrap()
    ));
    let acr = check(WebhookType::Acr, &[], &headers(&[]), &sample("acr")).await;
    let Ok(Verdict::Accept { images }) = acr else {
        panic!("{acr:?}")
    };
    assert!(matches(
        &images[0],
        &ImageRef::parse("myregistry.azurecr.io/hello-world").unwrap()
    ));
    assert!(!matches(&images[0], &ImageRef::parse("hello-world").unwrap()));
}
