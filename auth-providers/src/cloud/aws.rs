//! Amazon ECR: the AWS default credential chain → `GetAuthorizationToken` → `Basic AWS:<password>`.
//!
//! Uses the AWS SDK (`aws-config` + `aws-sdk-ecr`, trimmed to the hyper 1 / rustls 0.23 client
//! and no SSO clients, crates-and-test-servers §1.2): its credential chain (environment keys,
//! shared config and credentials files, web identity / IRSA, ECS and EKS Pod Identity, IMDS)
//! and `SigV4` signing are what Flux relies on, and not worth re-implementing. SSO profiles and
//! `credential_process` are not in the trimmed build.
//!
//! ECR Public (`public.ecr.aws`) is recognised but not supported yet: its
//! `GetAuthorizationToken` lives in another SDK crate (`aws-sdk-ecrpublic`), as heavy to build
//! as `aws-sdk-ecr`. Public images pull anonymously with `provider: generic`.

use std::collections::HashMap;
use std::fmt;
use std::sync::LazyLock;
use std::time::SystemTime;

use aws_config::BehaviorVersion;
use aws_sdk_ecr::config::Region;
use aws_sdk_ecr::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use base64::Engine as _;
use regex::Regex;

use super::{Cloud, CloudError, host_of};
use crate::{Credential, Credentials, Secret};

/// The ECR registry host pattern (Flux's, from `fluxcd/pkg/auth/aws`): account, optional
/// `-fips`, region, partition domain. `dkr-ecr` is the dual-stack form (`….on.aws`).
pub const HOST_PATTERN: &str = r"^([0-9]+)\.dkr[.-]ecr(-fips)?\.([a-z0-9-]+)\.(amazonaws\.com|amazonaws\.com\.cn|amazonaws\.eu|sc2s\.sgov\.gov|c2s\.ic\.gov|cloud\.adc-e\.uk|csp\.hci\.ic\.gov|on\.aws)$";

/// The ECR Public registry host.
pub const PUBLIC_HOST: &str = "public.ecr.aws";
/// The region of the ECR Public API.
pub const PUBLIC_REGION: &str = "us-east-1";
/// The user name of ECR credentials.
pub const USERNAME: &str = "AWS";

static HOST_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(HOST_PATTERN).expect("HOST_PATTERN is a valid regex"));

/// What an ECR registry host says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EcrHost {
    /// The AWS account id (empty for ECR Public).
    pub account: String,
    /// The region whose API issues tokens for the registry.
    pub region: String,
    /// Whether the host is a FIPS endpoint (`dkr.ecr-fips`); the API is then called on its FIPS
    /// endpoint too.
    pub fips: bool,
    /// Whether this is ECR Public (`public.ecr.aws`).
    pub public: bool,
}

/// Parses an ECR registry host (no port): `<account>.dkr.ecr[-fips].<region>.<domain>` or
/// [`PUBLIC_HOST`]. `None` for anything else.
///
/// ```
/// use imagebump_auth::cloud::aws::parse_ecr_host;
///
/// let host = parse_ecr_host("123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com").unwrap();
/// assert_eq!((host.account.as_str(), host.region.as_str(), host.fips), ("123456789012", "us-gov-west-1", true));
/// assert!(parse_ecr_host("ghcr.io").is_none());
/// ```
#[must_use]
pub fn parse_ecr_host(host: &str) -> Option<EcrHost> {
    if host == PUBLIC_HOST {
        return Some(EcrHost {
            account: String::new(),
            region: PUBLIC_REGION.to_owned(),
            fips: false,
            public: true,
        });
    }
    let captures = HOST_RE.captures(host)?;
    Some(EcrHost {
        account: captures[1].to_owned(),
        region: captures[3].to_owned(),
        fips: captures.get(2).is_some(),
        public: false,
    })
}

/// Static AWS keys, for tests and machines without any other identity. Debug output redacts
/// the secret.
#[derive(Debug, Clone)]
pub struct AwsStaticCredentials {
    /// `AWS_ACCESS_KEY_ID`.
    pub access_key_id: String,
    /// `AWS_SECRET_ACCESS_KEY`.
    pub secret_access_key: Secret,
}

/// Settings of [`AwsProvider`]. The default uses the AWS default credential chain and the real
/// regional ECR endpoints.
#[derive(Debug, Clone, Default)]
pub struct AwsOptions {
    /// Send API calls here instead of the regional endpoint (`http://127.0.0.1:5050` for moto, a
    /// VPC endpoint, a private cloud).
    pub endpoint_url: Option<String>,
    /// Use this region instead of the one in the registry host.
    pub region: Option<String>,
    /// Use these keys instead of the default credential chain.
    pub static_credentials: Option<AwsStaticCredentials>,
}

/// ECR logins. The SDK configuration (and so the credential chain and its own credential cache)
/// is loaded once per region on first use.
pub struct AwsProvider {
    options: AwsOptions,
    clients: tokio::sync::Mutex<HashMap<(String, bool), aws_sdk_ecr::Client>>,
}

impl AwsProvider {
    /// A provider with these settings; nothing is loaded until the first request.
    #[must_use]
    pub fn new(options: AwsOptions) -> Self {
        AwsProvider {
            options,
            clients: tokio::sync::Mutex::default(),
        }
    }

    /// Credentials for the ECR registry `registry` (`host[:port]`, normally without a port).
    pub async fn fetch(&self, registry: &str) -> Result<Credentials, CloudError> {
        let host = parse_ecr_host(host_of(registry))
            .ok_or_else(|| CloudError::host_mismatch(Cloud::Aws, registry))?;
        if host.public {
            return Err(CloudError::Unsupported {
                cloud: Cloud::Aws,
                what: format!("ECR Public ({PUBLIC_HOST}) login; pull its public images anonymously"),
            });
        }
        let region = self.options.region.clone().unwrap_or(host.region);
        let client = self.client(&region, host.fips).await;
        let output = client
            .get_authorization_token()
            .send()
            .await
            .map_err(|e| sdk_error(&region, &e))?;
        let data = output
            .authorization_data()
            .first()
            .ok_or_else(|| bad_answer(&region, "no authorizationData"))?;
        let token = data
            .authorization_token()
            .ok_or_else(|| bad_answer(&region, "no authorizationToken"))?;
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(token.trim())
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .ok_or_else(|| bad_answer(&region, "the authorizationToken is not base64 text"))?;
        let (username, password) = decoded
            .split_once(':')
            .ok_or_else(|| bad_answer(&region, "the authorizationToken is not user:password"))?;
        let credentials = Credentials::new(Credential::basic(username, Secret::new(password)));
        Ok(
            match data.expires_at().and_then(|at| SystemTime::try_from(*at).ok()) {
                Some(at) => credentials.expiring_at(at),
                None => credentials,
            },
        )
    }

    async fn client(&self, region: &str, fips: bool) -> aws_sdk_ecr::Client {
        let mut clients = self.clients.lock().await;
        if let Some(client) = clients.get(&(region.to_owned(), fips)) {
            return client.clone();
        }
        // The chain runs in the ECR region (web identity calls the regional STS), as in Flux.
        let mut loader =
            aws_config::defaults(BehaviorVersion::latest()).region(Region::new(region.to_owned()));
        // The SDK refuses FIPS together with a custom endpoint: the endpoint is then the
        // operator's choice, FIPS or not.
        loader = match &self.options.endpoint_url {
            Some(url) => loader.endpoint_url(url),
            None => loader.use_fips(fips),
        };
        if let Some(keys) = &self.options.static_credentials {
            loader = loader.credentials_provider(aws_sdk_ecr::config::Credentials::new(
                &keys.access_key_id,
                keys.secret_access_key.expose(),
                None,
                None,
                "imagebump-static",
            ));
        }
        let client = aws_sdk_ecr::Client::new(&loader.load().await);
        clients.insert((region.to_owned(), fips), client.clone());
        client
    }
}

impl fmt::Debug for AwsProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AwsProvider")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

super::fetch_is_the_credential_provider!(AwsProvider, Cloud::Aws);

fn endpoint(region: &str) -> String {
    format!("ECR GetAuthorizationToken in {region}")
}

fn bad_answer(region: &str, reason: &str) -> CloudError {
    CloudError::Request {
        cloud: Cloud::Aws,
        endpoint: endpoint(region),
        reason: reason.to_owned(),
        transient: false,
    }
}

fn sdk_error<E>(region: &str, error: &SdkError<E>) -> CloudError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let transient = match error {
        SdkError::ServiceError(e) => {
            let status = e.raw().status().as_u16();
            status >= 500
                || status == 429
                || matches!(e.err().code(), Some("ServerException" | "ThrottlingException"))
        }
        // Missing credentials are a configuration problem, not worth a fast retry; everything
        // else (connection, timeout, unreadable answer) may pass.
        SdkError::ConstructionFailure(_) => false,
        _ => true,
    };
    CloudError::Request {
        cloud: Cloud::Aws,
        endpoint: endpoint(region),
        reason: crate::util::truncated(&DisplayErrorContext(error).to_string()),
        transient,
    }
}

#[cfg(test)]
mod tests {
    use super::{EcrHost, parse_ecr_host};

    #[allow(clippy::unnecessary_wraps, reason = "the table's rows are Options")]
    fn ecr(account: &str, region: &str, fips: bool) -> Option<EcrHost> {
        Some(EcrHost {
            account: account.to_owned(),
            region: region.to_owned(),
            fips,
            public: false,
        })
    }

    #[test]
    fn ecr_hosts() {
        let table = [
            (
                "123456789012.dkr.ecr.us-east-1.amazonaws.com",
                ecr("123456789012", "us-east-1", false),
            ),
            (
                "123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com",
                ecr("123456789012", "us-gov-west-1", true),
            ),
            (
                "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn",
                ecr("123456789012", "cn-north-1", false),
            ),
            (
                "123456789012.dkr-ecr.eu-central-1.on.aws",
                ecr("123456789012", "eu-central-1", false),
            ),
            (
                "123456789012.dkr-ecr-fips.us-east-2.on.aws",
                ecr("123456789012", "us-east-2", true),
            ),
            (
                "123456789012.dkr.ecr.eusc-de-east-1.amazonaws.eu",
                ecr("123456789012", "eusc-de-east-1", false),
            ),
            (
                "123456789012.dkr.ecr.us-iso-east-1.c2s.ic.gov",
                ecr("123456789012", "us-iso-east-1", false),
            ),
            (
                "123456789012.dkr.ecr.us-isob-east-1.sc2s.sgov.gov",
                ecr("123456789012", "us-isob-east-1", false),
            ),
            (
                "123456789012.dkr.ecr.eu-isoe-west-1.cloud.adc-e.uk",
                ecr("123456789012", "eu-isoe-west-1", false),
            ),
            (
                "123456789012.dkr.ecr.us-isof-south-1.csp.hci.ic.gov",
                ecr("123456789012", "us-isof-south-1", false),
            ),
            (
                "public.ecr.aws",
                Some(EcrHost {
                    account: String::new(),
                    region: "us-east-1".into(),
                    fips: false,
                    public: true,
                }),
            ),
            // Not ECR.
            ("ghcr.io", None),
            ("gcr.io", None),
            ("myteam.azurecr.io", None),
            ("dkr.ecr.us-east-1.amazonaws.com", None),
            ("abc.dkr.ecr.us-east-1.amazonaws.com", None),
            ("123456789012.dkr.ecr.us-east-1.amazonaws.com.evil.example", None),
            ("evil.example/123456789012.dkr.ecr.us-east-1.amazonaws.com", None),
            ("123456789012.dkr.ecr.us-east-1.amazonaws.com:443", None),
            ("123456789012.dkr.ecr.us-east-1.example.com", None),
            ("123456789012.dkr.ecr..amazonaws.com", None),
            ("123456789012.dkr.ecr.US-EAST-1.amazonaws.com", None),
            ("123456789012.dkrXecr.us-east-1.amazonaws.com", None),
            ("public.ecr.aws.example", None),
            ("sub.public.ecr.aws", None),
            ("", None),
        ];
        for (host, expected) in table {
            assert_eq!(parse_ecr_host(host), expected, "{host}");
        }
    }
}
