//! ECR through moto, then the credential against a real htpasswd registry.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use imagebump_auth::cloud::aws::{AwsOptions, AwsProvider, AwsStaticCredentials};
use imagebump_auth::cloud::azure::AzureOptions;
use imagebump_auth::cloud::gcp::GcpOptions;
use imagebump_auth::cloud::{Cloud, CloudError, CloudOptions, CloudProviders};
use imagebump_auth::provider::Error;
use imagebump_auth::{Credential, CredentialProvider, Secret};
use imagebump_registry::{Client, ImageRef, Options, list_tags};
use imagebump_testsupport::{Moto, RegistryMode, TestRegistry};

use super::{Counts, ManualClock, assert_hidden, chain};

const ECR_HOST: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com";
const SECRET_KEY: &str = "test-secret-access-key-9f8e7d";
/// moto's fixed `expiresAt`: 2015-01-01T00:00:00Z.
#[allow(clippy::duration_suboptimal_units, reason = "the Unix time moto answers")]
const MOTO_EXPIRY: Duration = Duration::from_secs(1_420_070_400);

fn options(endpoint: &str) -> AwsOptions {
    AwsOptions {
        endpoint_url: Some(endpoint.to_owned()),
        region: None,
        static_credentials: Some(AwsStaticCredentials {
            access_key_id: "AKIDTEST".into(),
            secret_access_key: Secret::new(SECRET_KEY),
        }),
    }
}

#[tokio::test]
async fn ecr_token_from_moto_lists_tags_on_a_registry() {
    let Some(moto) = Moto::start().await else {
        return;
    };
    let provider = AwsProvider::new(options(moto.endpoint()));
    let shown = format!("{provider:?}");
    assert!(
        shown.contains("AKIDTEST") && shown.contains(moto.endpoint()),
        "{shown}"
    );
    assert_hidden(&shown, &[SECRET_KEY]);
    assert_eq!(provider.name(), "aws");

    let credentials = provider.credentials(ECR_HOST, "team/app").await.unwrap();
    assert_eq!(
        credentials.credential,
        Credential::basic("AWS", Moto::ECR_PASSWORD)
    );
    assert_eq!(credentials.expires_at, Some(SystemTime::UNIX_EPOCH + MOTO_EXPIRY));
    assert_hidden(
        &format!("{credentials:?} {provider:?}"),
        &[Moto::ECR_PASSWORD, SECRET_KEY],
    );

    // The credential opens a registry whose htpasswd user is what ECR hands out.
    let Some(registry) = TestRegistry::start_with_user(RegistryMode::Basic, "AWS", Moto::ECR_PASSWORD).await
    else {
        return;
    };
    registry.push("team/app", &["1.0.0", "1.1.0"]).await;
    let image = ImageRef::parse(&format!("{}/team/app", registry.host())).unwrap();
    let options = Options {
        timeout: Duration::from_secs(20),
        ..Options::default()
    };
    let mut tags = list_tags(&Client::new().unwrap(), &image, &credentials.credential, &options)
        .await
        .unwrap();
    tags.sort();
    assert_eq!(tags, ["1.0.0", "1.1.0"]);
    let refused = list_tags(
        &Client::new().unwrap(),
        &image,
        &Credential::basic("AWS", "expired-token"),
        &options,
    )
    .await;
    assert!(refused.is_err());
}

/// moto's tokens expired in 2015: with today's clock every request fetches again; with a clock
/// a day before that, a token is reused until 80 % of its remaining lifetime has passed.
#[tokio::test]
async fn ecr_expiry_drives_the_cache() {
    let Some(moto) = Moto::start().await else {
        return;
    };
    let counts = Arc::new(Counts::default());
    let cloud_options = |clock: Option<Arc<ManualClock>>| {
        let mut options = CloudOptions::with(
            options(moto.endpoint()),
            GcpOptions::default(),
            AzureOptions::default(),
        );
        options.max_age = Duration::from_hours(48);
        options.observer = Some(Arc::clone(&counts) as _);
        if let Some(clock) = clock {
            options.clock = clock;
        }
        options
    };

    let today = CloudProviders::new(cloud_options(None));
    for _ in 0..3 {
        let credentials = today.credentials(Cloud::Aws, ECR_HOST, "team/app").await.unwrap();
        assert_eq!(
            credentials.credential,
            Credential::basic("AWS", Moto::ECR_PASSWORD)
        );
    }
    assert_eq!(
        counts.get(),
        (3, 0, 0, 3),
        "(ok, failed, hits, misses): expired tokens are never reused"
    );

    let day_before = SystemTime::UNIX_EPOCH + MOTO_EXPIRY - Duration::from_hours(24);
    let clock = ManualClock::at(day_before);
    let past = Arc::new(CloudProviders::new(cloud_options(Some(Arc::clone(&clock)))));
    let provider = past.provider(Cloud::Aws);
    provider.credentials(ECR_HOST, "team/app").await.unwrap();
    // 80 % of 24 h is 19 h 12 min; one token serves every repository of the registry.
    clock.advance(Duration::from_hours(19));
    provider.credentials(ECR_HOST, "team/other").await.unwrap();
    assert_eq!(counts.get(), (4, 0, 1, 4));
    clock.advance(Duration::from_mins(13));
    provider.credentials(ECR_HOST, "team/app").await.unwrap();
    assert_eq!(counts.get(), (5, 0, 1, 5));
    // Another region is another token.
    provider
        .credentials("123456789012.dkr.ecr.eu-west-1.amazonaws.com", "team/app")
        .await
        .unwrap();
    assert_eq!(counts.get(), (6, 0, 1, 6));
    past.clear();
    provider.credentials(ECR_HOST, "team/app").await.unwrap();
    assert_eq!(counts.get(), (7, 0, 1, 7));
}

#[tokio::test]
async fn ecr_failures_are_clear_and_keep_keys_hidden() {
    // Nothing listens on port 9 of loopback (discard is never enabled on test machines).
    let provider = AwsProvider::new(options("http://127.0.0.1:9"));
    let error = provider.credentials(ECR_HOST, "team/app").await.unwrap_err();
    let text = format!("{} | {error:?}", chain(&error));
    assert!(text.contains("ECR GetAuthorizationToken in us-east-1"), "{text}");
    assert!(error.is_transient(), "{text}");
    assert_hidden(&text, &[SECRET_KEY]);

    let error = provider
        .credentials("public.ecr.aws", "nginx/nginx")
        .await
        .unwrap_err();
    let Error::Cloud {
        source: CloudError::Unsupported { .. },
        ..
    } = &error
    else {
        panic!("{error:?}");
    };
    assert!(
        chain(&error).contains(
            "ECR Public (public.ecr.aws) login; pull its public images anonymously is not supported yet"
        ),
        "{}",
        chain(&error)
    );

    let error = provider.credentials("ghcr.io", "org/app").await.unwrap_err();
    assert!(
        chain(&error).contains("ghcr.io is not a registry of provider aws"),
        "{}",
        chain(&error)
    );
    assert!(!error.is_transient());
}

#[tokio::test]
async fn region_override_wins_over_the_host() {
    let Some(moto) = Moto::start().await else {
        return;
    };
    let provider = AwsProvider::new(AwsOptions {
        region: Some("eu-central-1".into()),
        ..options(moto.endpoint())
    });
    let credentials = provider
        .credentials("123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com", "a")
        .await
        .unwrap();
    assert_eq!(
        credentials.credential,
        Credential::basic("AWS", Moto::ECR_PASSWORD)
    );
}
