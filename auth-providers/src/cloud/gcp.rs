//! GCR and Artifact Registry: an OAuth2 access token → `Basic oauth2accesstoken:<token>`.
//!
//! The token comes from Application Default Credentials, in Google's order: the JSON file named
//! by `GOOGLE_APPLICATION_CREDENTIALS` (or gcloud's well-known `application_default_credentials.json`)
//! holding a service-account key (signed JWT-bearer grant at its `token_uri`) or an authorized
//! user (refresh-token grant); else the metadata server of GCE / GKE.
//!
//! Done here with reqwest and `aws-lc-rs` (for the RS256 signature) rather than the `gcp_auth`
//! crate: `gcp_auth` 0.12 hard-codes `metadata.google.internal` (it ignores `GCE_METADATA_HOST`,
//! so the metadata flow cannot be pointed at a test server or an emulator), brings its own
//! hyper client (without the proxy and CA settings the daemon gives reqwest, flux §3.5) and
//! `ring` by default; the three flows are about two hundred lines over crates the build already
//! has. Not supported: `external_account` (workload identity federation) and
//! `impersonated_service_account` files, and the `gcloud` CLI fallback.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;
use std::time::{Duration, SystemTime};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use base64::Engine as _;
use regex::Regex;
use serde::Deserialize;

use super::http::{default_client, endpoint_of, expiry_after, lenient_u64, metadata_client, send_json};
use super::{Cloud, CloudError, host_of, jwt};
use crate::{Credential, Credentials, Secret};

/// The GCR / Artifact Registry host pattern (Flux's).
pub const HOST_PATTERN: &str = r"^(((.+\.)?gcr\.io)|(.+-docker\.pkg\.dev)|(docker\.s3nsregistry\.fr))$";
/// The user name of GCR credentials.
pub const USERNAME: &str = "oauth2accesstoken";
/// The scopes asked for, as Flux does.
pub const SCOPES: [&str; 2] = [
    "https://www.googleapis.com/auth/cloud-platform",
    "https://www.googleapis.com/auth/userinfo.email",
];
/// The metadata server when `GCE_METADATA_HOST` is not set.
pub const DEFAULT_METADATA_HOST: &str = "metadata.google.internal";
/// Google's token endpoint, for key files without a `token_uri`.
pub const DEFAULT_TOKEN_URI: &str = "https://oauth2.googleapis.com/token";

const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/// Lifetime asked for in a service-account assertion (Google's maximum).
const ASSERTION_LIFETIME: Duration = Duration::from_hours(1);

static HOST_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(HOST_PATTERN).expect("HOST_PATTERN is a valid regex"));

/// Whether `host` (no port) is a GCR or Artifact Registry host.
#[must_use]
pub fn is_gcp_host(host: &str) -> bool {
    HOST_RE.is_match(host)
}

/// Settings of [`GcpProvider`].
#[derive(Debug, Clone, Default)]
pub struct GcpOptions {
    /// A service-account or authorized-user JSON file; `None` for the metadata server. The file
    /// is read on every token fetch, so a rotated key is picked up.
    pub credentials_file: Option<PathBuf>,
    /// `host[:port]` of the metadata server; `None` for [`DEFAULT_METADATA_HOST`].
    pub metadata_host: Option<String>,
    /// The client for token endpoints (proxy, CA); `None` for a default one. The metadata server
    /// is always asked directly.
    pub http: Option<reqwest::Client>,
}

impl GcpOptions {
    /// Application Default Credentials as Google's libraries find them: the file named by
    /// `GOOGLE_APPLICATION_CREDENTIALS`, else gcloud's `application_default_credentials.json`
    /// (under `CLOUDSDK_CONFIG` or `~/.config/gcloud`) if it exists, else the metadata server at
    /// `GCE_METADATA_HOST` or [`DEFAULT_METADATA_HOST`].
    #[must_use]
    pub fn from_env() -> Self {
        let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
        let well_known = var("CLOUDSDK_CONFIG")
            .map(PathBuf::from)
            .or_else(|| var("HOME").map(|home| Path::new(&home).join(".config/gcloud")))
            .map(|dir| dir.join("application_default_credentials.json"))
            .filter(|path| path.is_file());
        GcpOptions {
            credentials_file: var("GOOGLE_APPLICATION_CREDENTIALS")
                .map(PathBuf::from)
                .or(well_known),
            metadata_host: var("GCE_METADATA_HOST").and_then(|v| v.into_string().ok()),
            http: None,
        }
    }
}

/// GCR / Artifact Registry logins.
pub struct GcpProvider {
    options: GcpOptions,
    http: reqwest::Client,
    metadata: reqwest::Client,
}

/// The fields of a credentials JSON that the flows read. No `Debug`: it holds keys.
#[derive(Deserialize)]
struct KeyFile {
    #[serde(rename = "type")]
    kind: Option<String>,
    client_email: Option<String>,
    private_key: Option<String>,
    private_key_id: Option<String>,
    token_uri: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    refresh_token: Option<String>,
}

/// An OAuth2 token answer. No `Debug`: it holds the token.
#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    #[serde(default, deserialize_with = "lenient_u64")]
    expires_in: Option<u64>,
}

impl GcpProvider {
    /// A provider with these settings.
    pub fn new(options: GcpOptions) -> Result<Self, CloudError> {
        let http = match &options.http {
            Some(client) => client.clone(),
            None => default_client(Cloud::Gcp)?,
        };
        Ok(GcpProvider {
            http,
            metadata: metadata_client(Cloud::Gcp)?,
            options,
        })
    }

    /// Credentials for the GCR / Artifact Registry `registry`.
    pub async fn fetch(&self, registry: &str) -> Result<Credentials, CloudError> {
        if !is_gcp_host(host_of(registry)) {
            return Err(CloudError::host_mismatch(Cloud::Gcp, registry));
        }
        let answer = match &self.options.credentials_file {
            Some(path) => self.token_from_file(path).await?,
            None => self.token_from_metadata().await?,
        };
        let credentials = Credentials::new(Credential::basic(USERNAME, Secret::new(answer.access_token)));
        Ok(match answer.expires_in.and_then(expiry_after) {
            Some(at) => credentials.expiring_at(at),
            None => credentials,
        })
    }

    async fn token_from_file(&self, path: &Path) -> Result<TokenAnswer, CloudError> {
        let shown = path.display();
        let bytes = tokio::fs::read(path)
            .await
            .map_err(|e| CloudError::configuration(Cloud::Gcp, format!("reading {shown}: {e}")))?;
        // serde_json's messages name a position, never the text around it.
        let key: KeyFile = serde_json::from_slice(&bytes).map_err(|e| {
            CloudError::configuration(Cloud::Gcp, format!("{shown} is not a credentials JSON: {e}"))
        })?;
        match key.kind.as_deref() {
            Some("service_account") => self.service_account(&key, path).await,
            Some("authorized_user") => self.authorized_user(&key, path).await,
            other => Err(CloudError::Unsupported {
                cloud: Cloud::Gcp,
                what: format!(
                    "credentials of type {} ({shown})",
                    other.map_or_else(|| "(none)".to_owned(), crate::util::truncated)
                ),
            }),
        }
    }

    /// The JWT-bearer grant of a service-account key (RFC 7523), as Google's libraries do it.
    async fn service_account(&self, key: &KeyFile, path: &Path) -> Result<TokenAnswer, CloudError> {
        let missing =
            |field: &str| CloudError::configuration(Cloud::Gcp, format!("{} has no {field}", path.display()));
        let email = key
            .client_email
            .as_deref()
            .ok_or_else(|| missing("client_email"))?;
        let pem = key.private_key.as_deref().ok_or_else(|| missing("private_key"))?;
        let token_uri = parse_url(key.token_uri.as_deref().unwrap_or(DEFAULT_TOKEN_URI), path)?;
        let signer = rsa_key(pem).ok_or_else(|| {
            CloudError::configuration(
                Cloud::Gcp,
                format!(
                    "the private_key of {} is not an RSA key in PKCS #8 PEM",
                    path.display()
                ),
            )
        })?;
        let now = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let mut header = serde_json::json!({"alg": "RS256", "typ": "JWT"});
        if let Some(kid) = &key.private_key_id {
            header["kid"] = kid.as_str().into();
        }
        let claims = serde_json::json!({
            "iss": email,
            "scope": SCOPES.join(" "),
            "aud": token_uri.as_str(),
            "iat": now,
            "exp": now + ASSERTION_LIFETIME.as_secs(),
        });
        let signing_input = format!("{}.{}", jwt::segment(&header), jwt::segment(&claims));
        let mut signature = vec![0; signer.public_modulus_len()];
        signer
            .sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                signing_input.as_bytes(),
                &mut signature,
            )
            .map_err(|_| {
                CloudError::configuration(
                    Cloud::Gcp,
                    format!("signing with the key of {} failed", path.display()),
                )
            })?;
        let assertion = format!("{signing_input}.{}", jwt::encode(&signature));
        let request = self
            .http
            .post(token_uri.clone())
            .form(&[("grant_type", JWT_BEARER), ("assertion", &assertion)]);
        send_json(Cloud::Gcp, &endpoint_of(&token_uri), request, &[&assertion]).await
    }

    /// The refresh-token grant of `gcloud auth application-default login` credentials.
    async fn authorized_user(&self, key: &KeyFile, path: &Path) -> Result<TokenAnswer, CloudError> {
        let missing =
            |field: &str| CloudError::configuration(Cloud::Gcp, format!("{} has no {field}", path.display()));
        let client_id = key.client_id.as_deref().ok_or_else(|| missing("client_id"))?;
        let client_secret = key
            .client_secret
            .as_deref()
            .ok_or_else(|| missing("client_secret"))?;
        let refresh_token = key
            .refresh_token
            .as_deref()
            .ok_or_else(|| missing("refresh_token"))?;
        let token_uri = parse_url(key.token_uri.as_deref().unwrap_or(DEFAULT_TOKEN_URI), path)?;
        let request = self.http.post(token_uri.clone()).form(&[
            ("grant_type", "refresh_token"),
            ("client_id", client_id),
            ("client_secret", client_secret),
            ("refresh_token", refresh_token),
        ]);
        send_json(
            Cloud::Gcp,
            &endpoint_of(&token_uri),
            request,
            &[client_secret, refresh_token],
        )
        .await
    }

    /// The metadata server's token for the instance's (or the GKE workload's) service account.
    async fn token_from_metadata(&self) -> Result<TokenAnswer, CloudError> {
        let host = self
            .options
            .metadata_host
            .as_deref()
            .unwrap_or(DEFAULT_METADATA_HOST);
        let mut url = reqwest::Url::parse(&format!(
            "http://{host}/computeMetadata/v1/instance/service-accounts/default/token"
        ))
        .ok()
        .filter(|url| url.path() == "/computeMetadata/v1/instance/service-accounts/default/token")
        .ok_or_else(|| CloudError::configuration(Cloud::Gcp, format!("bad metadata server host {host:?}")))?;
        url.query_pairs_mut().append_pair("scopes", &SCOPES.join(","));
        let request = self.metadata.get(url.clone()).header("Metadata-Flavor", "Google");
        send_json(
            Cloud::Gcp,
            &format!("metadata server {}", endpoint_of(&url)),
            request,
            &[],
        )
        .await
    }
}

impl fmt::Debug for GcpProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GcpProvider")
            .field("credentials_file", &self.options.credentials_file)
            .field("metadata_host", &self.options.metadata_host)
            .finish_non_exhaustive()
    }
}

super::fetch_is_the_credential_provider!(GcpProvider, Cloud::Gcp);

fn parse_url(text: &str, path: &Path) -> Result<reqwest::Url, CloudError> {
    reqwest::Url::parse(text)
        .ok()
        .filter(|url| matches!(url.scheme(), "https" | "http"))
        .ok_or_else(|| {
            CloudError::configuration(
                Cloud::Gcp,
                format!("the token_uri of {} is not an http(s) URL", path.display()),
            )
        })
}

/// The RSA key of a `-----BEGIN PRIVATE KEY-----` PEM block (PKCS #8, as in every key file
/// Google issues).
fn rsa_key(pem: &str) -> Option<RsaKeyPair> {
    let body = pem
        .trim()
        .strip_prefix("-----BEGIN PRIVATE KEY-----")?
        .trim_end()
        .strip_suffix("-----END PRIVATE KEY-----")?;
    let base64: String = body.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let der = base64::engine::general_purpose::STANDARD.decode(base64).ok()?;
    RsaKeyPair::from_pkcs8(&der).ok()
}

#[cfg(test)]
mod tests {
    use super::{is_gcp_host, rsa_key};

    #[test]
    fn gcp_hosts() {
        for host in [
            "gcr.io",
            "eu.gcr.io",
            "us.gcr.io",
            "asia.gcr.io",
            "europe-west1-docker.pkg.dev",
            "us-docker.pkg.dev",
            "docker.s3nsregistry.fr",
        ] {
            assert!(is_gcp_host(host), "{host}");
        }
        for host in [
            "ghcr.io",
            "gcr.io.evil.example",
            "xgcr.io",
            "docker.pkg.dev",
            "-docker.pkg.dev",
            "europe-west1-docker.pkg.dev.example",
            "s3nsregistry.fr",
            "gcr.io:443",
            "",
        ] {
            assert!(!is_gcp_host(host), "{host}");
        }
    }

    #[test]
    fn only_pkcs8_pem_rsa_keys_are_keys() {
        assert!(rsa_key("").is_none());
        assert!(rsa_key("-----BEGIN PRIVATE KEY-----\nnot base64!\n-----END PRIVATE KEY-----").is_none());
        assert!(rsa_key("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n").is_none());
    }
}
