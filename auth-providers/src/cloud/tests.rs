use std::sync::Arc;

use super::{Cloud, CloudError, CloudOptions, CloudProviders, cloud_for_host, host_of};
use crate::provider::Error;

#[test]
fn hosts_pick_their_cloud() {
    let table = [
        ("123456789012.dkr.ecr.eu-west-1.amazonaws.com", Some(Cloud::Aws)),
        ("public.ecr.aws", Some(Cloud::Aws)),
        ("gcr.io", Some(Cloud::Gcp)),
        ("europe-west1-docker.pkg.dev", Some(Cloud::Gcp)),
        ("myteam.azurecr.io", Some(Cloud::Azure)),
        ("ghcr.io", None),
        ("index.docker.io", None),
        ("127.0.0.1:5000", None),
    ];
    for (host, cloud) in table {
        assert_eq!(cloud_for_host(host), cloud, "{host}");
    }
    for cloud in Cloud::ALL {
        assert_eq!(Cloud::from_name(cloud.name()), Some(cloud));
        assert_eq!(cloud.to_string(), cloud.name());
    }
    assert_eq!(Cloud::from_name("generic"), None);
}

#[test]
fn ports_are_not_part_of_the_host() {
    assert_eq!(host_of("gcr.io:443"), "gcr.io");
    assert_eq!(host_of("gcr.io"), "gcr.io");
    assert_eq!(host_of("[::1]:5000"), "[::1]");
    assert_eq!(host_of("weird:"), "weird:");
}

#[tokio::test]
async fn a_host_of_another_cloud_is_refused_before_any_fetch() {
    let clouds = Arc::new(CloudProviders::new(CloudOptions::from_env()));
    for (cloud, registry) in [
        (Cloud::Aws, "ghcr.io"),
        (Cloud::Gcp, "myteam.azurecr.io"),
        (Cloud::Azure, "123456789012.dkr.ecr.us-east-1.amazonaws.com"),
    ] {
        let error = clouds.credentials(cloud, registry, "team/app").await.unwrap_err();
        let Error::Cloud { source, .. } = &error else {
            panic!("{error:?}");
        };
        assert!(matches!(source, CloudError::HostMismatch { .. }), "{source:?}");
        assert!(!error.is_transient());
        let shown = format!("{error}: {source}");
        assert!(
            shown.contains(registry) && shown.contains(cloud.host_pattern()),
            "{shown}"
        );
        assert!(
            shown.contains(&format!("not a registry of provider {cloud}")),
            "{shown}"
        );
    }
    // Nothing was built: the slots are still empty.
    assert!(clouds.aws.get().is_none() && clouds.gcp.get().is_none() && clouds.azure.get().is_none());
}
