//! Azure Container Registry: an Entra ID token → ACR `/oauth2/exchange` → an ACR refresh
//! token, presented as an identity token.
//!
//! The Entra ID token (scope `https://containerregistry.azure.net/.default`) comes from one
//! credential, chosen explicitly by [`AzureOptions::from_env`] in `DefaultAzureCredential`'s
//! order: a client secret, workload identity (the federated token file AKS mounts), or managed
//! identity through IMDS.
//!
//! Done here with reqwest rather than `azure_identity`: each of the three flows is one HTTP
//! request (a form POST to `<authority>/<tenant>/oauth2/v2.0/token`, or a GET to IMDS), the
//! authority host and IMDS endpoint must be overridable for tests anyway, and the exchange that
//! follows has no crate at all (crates-and-test-servers §1.2). `azure_identity` + `azure_core`
//! would add their own HTTP pipeline and a dozen crates to the build for that. Not supported:
//! client certificates, user/password, App Service and Arc managed identity endpoints, the Azure
//! CLI and azd, and Azure environment files with other registry suffixes.

use std::fmt;
use std::path::PathBuf;
use std::sync::LazyLock;

use regex::Regex;
use serde::Deserialize;

use super::http::{default_client, endpoint_of, metadata_client, send_json};
use super::{Cloud, CloudError, host_of, jwt};
use crate::{Credential, Credentials, Secret};

/// The ACR host pattern (Flux's).
pub const HOST_PATTERN: &str = r"^.+\.(azurecr\.io|azurecr\.cn|azurecr\.de|azurecr\.us)$";
/// The user name docker pairs with an ACR refresh token. imagebump's
/// [`Credential::IdentityToken`] carries no user name (the refresh-token grant sends none), so
/// this is for writing docker config files and for logs.
pub const USERNAME: &str = "00000000-0000-0000-0000-000000000000";
/// The Entra ID scope of ACR tokens (all clouds, as Flux since v1.1.1).
pub const SCOPE: &str = "https://containerregistry.azure.net/.default";
/// The same audience as an IMDS `resource`.
pub const RESOURCE: &str = "https://containerregistry.azure.net";
/// Entra ID in the public cloud, when `AZURE_AUTHORITY_HOST` is not set.
pub const DEFAULT_AUTHORITY_HOST: &str = "https://login.microsoftonline.com";
/// The managed-identity token endpoint of Azure VMs and AKS nodes.
pub const DEFAULT_IMDS_ENDPOINT: &str = "http://169.254.169.254/metadata/identity/oauth2/token";

const CLIENT_ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

static HOST_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(HOST_PATTERN).expect("HOST_PATTERN is a valid regex"));

/// Whether `host` (no port) is an ACR host.
#[must_use]
pub fn is_acr_host(host: &str) -> bool {
    HOST_RE.is_match(host)
}

/// Where the Entra ID token comes from. Debug output redacts the secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AzureCredential {
    /// An app registration's client secret (`AZURE_TENANT_ID`, `AZURE_CLIENT_ID`,
    /// `AZURE_CLIENT_SECRET`).
    ClientSecret {
        /// The directory (tenant) id.
        tenant_id: String,
        /// The application (client) id.
        client_id: String,
        /// The client secret.
        client_secret: Secret,
    },
    /// Workload identity: a federated token file, re-read for every token (it rotates), sent
    /// as a client assertion (`AZURE_TENANT_ID`, `AZURE_CLIENT_ID`, `AZURE_FEDERATED_TOKEN_FILE`).
    WorkloadIdentity {
        /// The directory (tenant) id.
        tenant_id: String,
        /// The application (client) id.
        client_id: String,
        /// The file holding the federated (Kubernetes service account) token.
        token_file: PathBuf,
    },
    /// The machine's managed identity through IMDS: the system-assigned one, or the
    /// user-assigned one with this client id.
    ManagedIdentity {
        /// A user-assigned identity's client id (`AZURE_CLIENT_ID`).
        client_id: Option<String>,
    },
}

/// Settings of [`AzureProvider`].
#[derive(Debug, Clone)]
pub struct AzureOptions {
    /// The Entra ID credential.
    pub credential: AzureCredential,
    /// The Entra ID authority, `https://login.microsoftonline.com` in the public cloud.
    pub authority_host: String,
    /// The IMDS token endpoint.
    pub imds_endpoint: String,
    /// `scheme://host[:port]` to send the ACR exchange to instead of `https://<registry>` (for
    /// tests, or a registry behind a proxy). The `service` stays the registry name.
    pub exchange_base: Option<String>,
    /// The client for Entra ID and ACR (proxy, CA); `None` for a default one. IMDS is always
    /// asked directly.
    pub http: Option<reqwest::Client>,
}

impl Default for AzureOptions {
    /// The system-assigned managed identity, the public cloud.
    fn default() -> Self {
        AzureOptions {
            credential: AzureCredential::ManagedIdentity { client_id: None },
            authority_host: DEFAULT_AUTHORITY_HOST.to_owned(),
            imds_endpoint: DEFAULT_IMDS_ENDPOINT.to_owned(),
            exchange_base: None,
            http: None,
        }
    }
}

impl AzureOptions {
    /// The credential `DefaultAzureCredential` would use, from the environment: a client
    /// secret when `AZURE_TENANT_ID`, `AZURE_CLIENT_ID` and `AZURE_CLIENT_SECRET` are set; else
    /// workload identity when `AZURE_FEDERATED_TOKEN_FILE`, `AZURE_TENANT_ID` and
    /// `AZURE_CLIENT_ID` are; else managed identity (user-assigned if `AZURE_CLIENT_ID` is set).
    /// `AZURE_AUTHORITY_HOST` overrides the authority (sovereign clouds).
    #[must_use]
    pub fn from_env() -> Self {
        Self::from_vars(|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
    }

    /// [`AzureOptions::from_env`] over any variable source.
    #[must_use]
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Self {
        let tenant = var("AZURE_TENANT_ID");
        let client = var("AZURE_CLIENT_ID");
        let credential = match (
            tenant,
            client,
            var("AZURE_CLIENT_SECRET"),
            var("AZURE_FEDERATED_TOKEN_FILE"),
        ) {
            (Some(tenant_id), Some(client_id), Some(secret), _) => AzureCredential::ClientSecret {
                tenant_id,
                client_id,
                client_secret: Secret::new(secret),
            },
            (Some(tenant_id), Some(client_id), None, Some(file)) => AzureCredential::WorkloadIdentity {
                tenant_id,
                client_id,
                token_file: PathBuf::from(file),
            },
            (_, client_id, _, _) => AzureCredential::ManagedIdentity { client_id },
        };
        AzureOptions {
            credential,
            authority_host: var("AZURE_AUTHORITY_HOST").unwrap_or_else(|| DEFAULT_AUTHORITY_HOST.to_owned()),
            ..AzureOptions::default()
        }
    }
}

/// ACR logins.
pub struct AzureProvider {
    options: AzureOptions,
    http: reqwest::Client,
    imds: reqwest::Client,
}

/// An Entra ID token answer. No `Debug`: it holds the token.
#[derive(Deserialize)]
struct AadAnswer {
    access_token: String,
}

/// An ACR exchange answer. No `Debug`: it holds the token.
#[derive(Deserialize)]
struct ExchangeAnswer {
    refresh_token: String,
}

impl AzureProvider {
    /// A provider with these settings.
    pub fn new(options: AzureOptions) -> Result<Self, CloudError> {
        let http = match &options.http {
            Some(client) => client.clone(),
            None => default_client(Cloud::Azure)?,
        };
        Ok(AzureProvider {
            http,
            imds: metadata_client(Cloud::Azure)?,
            options,
        })
    }

    /// Credentials for the ACR registry `registry`: an ACR refresh token as
    /// [`Credential::IdentityToken`], expiring at its JWT `exp` (unknown when it has none; the
    /// cache then keeps it for its maximum age).
    pub async fn fetch(&self, registry: &str) -> Result<Credentials, CloudError> {
        if !is_acr_host(host_of(registry)) {
            return Err(CloudError::host_mismatch(Cloud::Azure, registry));
        }
        let exchange_url = self.exchange_url(registry)?;
        let aad = Secret::new(self.aad_token().await?);
        let mut form = vec![
            ("grant_type", "access_token"),
            ("service", registry),
            ("access_token", aad.expose()),
        ];
        if let Some(tenant) = self.tenant() {
            form.push(("tenant", tenant));
        }
        let request = self.http.post(exchange_url.clone()).form(&form);
        let answer: ExchangeAnswer = send_json(
            Cloud::Azure,
            &endpoint_of(&exchange_url),
            request,
            &[aad.expose()],
        )
        .await?;
        let expires_at = jwt::expiry(&answer.refresh_token);
        let credentials = Credentials::new(Credential::IdentityToken(Secret::new(answer.refresh_token)));
        Ok(match expires_at {
            Some(at) => credentials.expiring_at(at),
            None => credentials,
        })
    }

    fn tenant(&self) -> Option<&str> {
        match &self.options.credential {
            AzureCredential::ClientSecret { tenant_id, .. }
            | AzureCredential::WorkloadIdentity { tenant_id, .. } => Some(tenant_id),
            AzureCredential::ManagedIdentity { .. } => None,
        }
    }

    /// `https://<registry>/oauth2/exchange`, or under [`AzureOptions::exchange_base`]. The host
    /// pattern lets anything before `.azurecr.io` through, so the URL is checked to still name
    /// the registry's host.
    fn exchange_url(&self, registry: &str) -> Result<reqwest::Url, CloudError> {
        let (base, expected_host) = match &self.options.exchange_base {
            Some(base) => (base.trim_end_matches('/').to_owned(), None),
            None => (format!("https://{registry}"), Some(host_of(registry))),
        };
        reqwest::Url::parse(&format!("{base}/oauth2/exchange"))
            .ok()
            .filter(|url| url.path() == "/oauth2/exchange" && url.query().is_none())
            .filter(|url| {
                expected_host.is_none_or(|host| url.host_str() == Some(host) && url.username().is_empty())
            })
            .ok_or_else(|| match expected_host {
                Some(_) => CloudError::host_mismatch(Cloud::Azure, registry),
                None => CloudError::configuration(Cloud::Azure, format!("bad exchange base URL {base:?}")),
            })
    }

    async fn aad_token(&self) -> Result<String, CloudError> {
        let answer: AadAnswer = match &self.options.credential {
            AzureCredential::ClientSecret {
                tenant_id,
                client_id,
                client_secret,
            } => {
                let url = self.token_url(tenant_id)?;
                let request = self.http.post(url.clone()).form(&[
                    ("grant_type", "client_credentials"),
                    ("client_id", client_id.as_str()),
                    ("client_secret", client_secret.expose()),
                    ("scope", SCOPE),
                ]);
                send_json(
                    Cloud::Azure,
                    &endpoint_of(&url),
                    request,
                    &[client_secret.expose()],
                )
                .await?
            }
            AzureCredential::WorkloadIdentity {
                tenant_id,
                client_id,
                token_file,
            } => {
                let assertion = tokio::fs::read_to_string(token_file).await.map_err(|e| {
                    CloudError::configuration(
                        Cloud::Azure,
                        format!("reading the federated token file {}: {e}", token_file.display()),
                    )
                })?;
                let assertion = assertion.trim();
                let url = self.token_url(tenant_id)?;
                let request = self.http.post(url.clone()).form(&[
                    ("grant_type", "client_credentials"),
                    ("client_id", client_id.as_str()),
                    ("client_assertion_type", CLIENT_ASSERTION_TYPE),
                    ("client_assertion", assertion),
                    ("scope", SCOPE),
                ]);
                send_json(Cloud::Azure, &endpoint_of(&url), request, &[assertion]).await?
            }
            AzureCredential::ManagedIdentity { client_id } => {
                let mut url = reqwest::Url::parse(&self.options.imds_endpoint).map_err(|e| {
                    CloudError::configuration(
                        Cloud::Azure,
                        format!("bad IMDS endpoint {:?}: {e}", self.options.imds_endpoint),
                    )
                })?;
                {
                    let mut query = url.query_pairs_mut();
                    query
                        .append_pair("api-version", "2018-02-01")
                        .append_pair("resource", RESOURCE);
                    if let Some(id) = client_id {
                        query.append_pair("client_id", id);
                    }
                }
                let request = self.imds.get(url.clone()).header("Metadata", "true");
                send_json(Cloud::Azure, &format!("IMDS {}", endpoint_of(&url)), request, &[]).await?
            }
        };
        Ok(answer.access_token)
    }

    /// `<authority>/<tenant>/oauth2/v2.0/token`; the tenant is one path segment, escaped.
    fn token_url(&self, tenant: &str) -> Result<reqwest::Url, CloudError> {
        let bad = || {
            CloudError::configuration(
                Cloud::Azure,
                format!("bad authority host {:?}", self.options.authority_host),
            )
        };
        let mut url = reqwest::Url::parse(&self.options.authority_host).map_err(|_| bad())?;
        url.path_segments_mut()
            .map_err(|()| bad())?
            .pop_if_empty()
            .extend([tenant, "oauth2", "v2.0", "token"]);
        Ok(url)
    }
}

impl fmt::Debug for AzureProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AzureProvider")
            .field("credential", &self.options.credential)
            .field("authority_host", &self.options.authority_host)
            .field("imds_endpoint", &self.options.imds_endpoint)
            .field("exchange_base", &self.options.exchange_base)
            .finish_non_exhaustive()
    }
}

super::fetch_is_the_credential_provider!(AzureProvider, Cloud::Azure);

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::{AzureCredential, AzureOptions, AzureProvider, DEFAULT_AUTHORITY_HOST, is_acr_host};
    use crate::Secret;

    #[test]
    fn acr_hosts() {
        for host in [
            "myteam.azurecr.io",
            "a.b.azurecr.cn",
            "x.azurecr.de",
            "x.azurecr.us",
        ] {
            assert!(is_acr_host(host), "{host}");
        }
        for host in [
            "azurecr.io",
            ".azurecr.io.",
            "x.azurecr.io.evil",
            "x.azurecr.com",
            "x.azurecr.io:443",
            "ghcr.io",
        ] {
            assert!(!is_acr_host(host), "{host}");
        }
    }

    fn options(vars: &[(&str, &str)]) -> AzureOptions {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        AzureOptions::from_vars(|name| vars.get(name).cloned())
    }

    #[test]
    fn credential_chosen_from_the_environment() {
        let secret = options(&[
            ("AZURE_TENANT_ID", "t"),
            ("AZURE_CLIENT_ID", "c"),
            ("AZURE_CLIENT_SECRET", "s3cret-value"),
            ("AZURE_FEDERATED_TOKEN_FILE", "/f"),
        ]);
        assert_eq!(
            secret.credential,
            AzureCredential::ClientSecret {
                tenant_id: "t".into(),
                client_id: "c".into(),
                client_secret: Secret::new("s3cret-value")
            }
        );
        assert!(!format!("{secret:?}").contains("s3cret"), "{secret:?}");
        let workload = options(&[
            ("AZURE_TENANT_ID", "t"),
            ("AZURE_CLIENT_ID", "c"),
            ("AZURE_FEDERATED_TOKEN_FILE", "/f"),
            ("AZURE_AUTHORITY_HOST", "https://login.chinacloudapi.cn"),
        ]);
        assert!(
            matches!(workload.credential, AzureCredential::WorkloadIdentity { ref token_file, .. } if token_file.to_str() == Some("/f"))
        );
        assert_eq!(workload.authority_host, "https://login.chinacloudapi.cn");
        let managed = options(&[("AZURE_CLIENT_ID", "c")]);
        assert_eq!(
            managed.credential,
            AzureCredential::ManagedIdentity {
                client_id: Some("c".into())
            }
        );
        assert_eq!(managed.authority_host, DEFAULT_AUTHORITY_HOST);
        assert_eq!(
            options(&[]).credential,
            AzureCredential::ManagedIdentity { client_id: None }
        );
    }

    #[test]
    fn exchange_urls_stay_on_the_registry() {
        let provider = AzureProvider::new(AzureOptions::default()).unwrap();
        assert_eq!(
            provider.exchange_url("myteam.azurecr.io").unwrap().as_str(),
            "https://myteam.azurecr.io/oauth2/exchange"
        );
        for sneaky in [
            "evil.example/x.azurecr.io",
            "evil.example?.azurecr.io",
            "u@evil.example#.azurecr.io",
        ] {
            assert!(provider.exchange_url(sneaky).is_err(), "{sneaky}");
        }
        let tests = AzureProvider::new(AzureOptions {
            exchange_base: Some("http://127.0.0.1:1234/".into()),
            ..AzureOptions::default()
        })
        .unwrap();
        assert_eq!(
            tests.exchange_url("myteam.azurecr.io").unwrap().as_str(),
            "http://127.0.0.1:1234/oauth2/exchange"
        );
        let url = tests.token_url("tenant/../x").unwrap();
        assert_eq!(
            url.as_str(),
            "https://login.microsoftonline.com/tenant%2F..%2Fx/oauth2/v2.0/token"
        );
    }
}
