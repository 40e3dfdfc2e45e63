//! A real registry: Debian's `docker-registry` (CNCF distribution 2.8.2) as a child process.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;

use base64::Engine as _;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, LOCATION};
use reqwest::{StatusCode, Url};
use sha2::{Digest as _, Sha256};
use tempfile::TempDir;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::process::{ChildGuard, run_tool, spawn_until_ready};
use crate::require::{find_program, is_ci, report_missing, require};
use crate::tls::{ClientIdentity, http_client, make_client_certificate, make_tls_certificates};

const USERNAME: &str = "testuser";
const PASSWORD: &str = "testpass";
/// `service` of the bearer-token setup (`auth.token.service` and the token's `aud`).
const TOKEN_SERVICE: &str = "test-registry";
const TOKEN_ISSUER: &str = "test-issuer";
const TOKEN_SERVER_PY: &str = include_str!("token_server.py");

/// Manifest uploads in flight at once in [`TestRegistry::push`].
const PUSH_CONCURRENCY: usize = 8;

const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
/// The one config blob every pushed image shares (an image with no layers).
const IMAGE_CONFIG: &[u8] =
    br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]},"config":{}}"#;

/// How a [`TestRegistry`] authenticates and talks to its clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RegistryMode {
    /// Plain HTTP, no authentication.
    Open,
    /// Plain HTTP with htpasswd basic authentication (`testuser` / `testpass`).
    Basic,
    /// HTTPS with a certificate for `localhost` and `127.0.0.1` signed by a test CA (see
    /// [`TestRegistry::ca_pem`]), plus htpasswd basic authentication (`testuser` / `testpass`).
    Tls,
    /// Plain HTTP with bearer-token authentication: the registry answers
    /// `401 WWW-Authenticate: Bearer realm=…,service="test-registry",scope=…`, and a token server
    /// at [`TestRegistry::token_realm`] issues tokens: `pull` to anyone, everything to Basic
    /// `testuser` / `testpass`, and 401 for other credentials.
    Token,
    /// HTTPS as in [`Tls`](RegistryMode::Tls), but the registry demands a client certificate
    /// signed by the test CA (`http.tls.clientcas`) and asks for nothing else: no htpasswd.
    /// The client certificate and key are [`TestRegistry::client_cert_pem`] and
    /// [`TestRegistry::client_key_pem`]; a client without them fails the TLS handshake.
    MutualTls,
}

impl RegistryMode {
    /// Every mode, in declaration order.
    pub const ALL: [RegistryMode; 5] = [Self::Open, Self::Basic, Self::Tls, Self::Token, Self::MutualTls];

    /// Whether the registry speaks HTTPS (with the test CA's certificate for `localhost`).
    #[must_use]
    pub fn is_tls(self) -> bool {
        matches!(self, Self::Tls | Self::MutualTls)
    }
}

/// A `docker-registry serve` child process (plus, in [`RegistryMode::Token`], a Python token
/// server) on a free loopback port, with its data, configuration, certificates and logs in a
/// temporary directory. Dropping it kills the processes and removes the directory.
#[derive(Debug)]
pub struct TestRegistry {
    mode: RegistryMode,
    host: String,
    base_url: String,
    ca_pem: Option<Vec<u8>>,
    ca_path: Option<PathBuf>,
    client_identity: Option<ClientIdentity>,
    token_realm: Option<String>,
    client: reqwest::Client,
    /// The htpasswd user of [`RegistryMode::Basic`] and [`RegistryMode::Tls`].
    user: (String, String),
    /// Declared before `dir` so the processes die before their directory is removed.
    children: Vec<ChildGuard>,
    dir: TempDir,
}

impl TestRegistry {
    /// Starts a registry in `mode` and waits until `/v2/` answers.
    ///
    /// Returns `None` when a program it needs is missing and the test should be skipped (see
    /// [`require`]; on CI that panics instead). Needs `docker-registry`; `htpasswd` for
    /// [`Basic`](RegistryMode::Basic) and [`Tls`](RegistryMode::Tls); `openssl` for
    /// [`Tls`](RegistryMode::Tls), [`MutualTls`](RegistryMode::MutualTls) and
    /// [`Token`](RegistryMode::Token); `python3` with the `cryptography` module for
    /// [`Token`](RegistryMode::Token).
    ///
    /// # Panics
    ///
    /// When a setup step fails, or a server does not answer within 10 s (the message then
    /// includes the end of its log).
    pub async fn start(mode: RegistryMode) -> Option<TestRegistry> {
        Self::start_as(mode, USERNAME, PASSWORD).await
    }

    /// [`start`](Self::start) with another htpasswd user than `testuser` / `testpass` in
    /// [`RegistryMode::Basic`] and [`RegistryMode::Tls`] (for credentials a test cannot
    /// choose, such as the ECR password moto issues); [`credentials`](Self::credentials),
    /// [`authorization`](Self::authorization) and [`push`](Self::push) use it. The other modes
    /// ignore it.
    ///
    /// # Panics
    ///
    /// As [`start`](Self::start).
    pub async fn start_with_user(mode: RegistryMode, username: &str, password: &str) -> Option<TestRegistry> {
        Self::start_as(mode, username, password).await
    }

    async fn start_as(mode: RegistryMode, username: &str, password: &str) -> Option<TestRegistry> {
        let needs_htpasswd = matches!(mode, RegistryMode::Basic | RegistryMode::Tls);
        let needs_openssl = mode.is_tls() || mode == RegistryMode::Token;
        if !require("docker-registry")
            || (needs_htpasswd && !require("htpasswd"))
            || (needs_openssl && !require("openssl"))
        {
            return None;
        }
        let python = if mode == RegistryMode::Token {
            Some(find_python().await?)
        } else {
            None
        };

        let dir = tempfile::Builder::new()
            .prefix("imagebump-registry-")
            .tempdir()
            .expect("creating a temporary directory for the registry");
        let root = dir.path();
        fs::create_dir(root.join("data")).expect("creating the registry's data directory");

        if needs_htpasswd {
            let htpasswd = run_tool(
                tokio::process::Command::new("htpasswd").args(["-Bbn", username, password]),
                "htpasswd -Bbn",
            )
            .await;
            fs::write(root.join("htpasswd"), htpasswd).expect("writing htpasswd");
        }

        let (ca_pem, ca_path) = if mode.is_tls() {
            let ca_path = make_tls_certificates(root).await;
            let pem = fs::read(&ca_path).expect("reading the test CA certificate");
            (Some(pem), Some(ca_path))
        } else {
            (None, None)
        };
        let client_identity = if mode == RegistryMode::MutualTls {
            Some(make_client_certificate(root).await)
        } else {
            None
        };

        let client = http_client(ca_pem.as_deref(), client_identity.as_ref());
        let mut children = Vec::new();
        let mut token_realm = None;
        if let Some(python) = python {
            let (child, realm) = start_token_server(root, &python, &client).await;
            children.push(child);
            token_realm = Some(realm);
        }

        let host_name = if mode.is_tls() { "localhost" } else { "127.0.0.1" };
        let scheme = if mode.is_tls() { "https" } else { "http" };
        let config = root.join("config.yml");
        let (child, port) =
            spawn_until_ready("docker-registry", &root.join("registry.log"), &client, |port| {
                let yaml = registry_config(root, port, mode, token_realm.as_deref());
                fs::write(&config, yaml).expect("writing the registry configuration");
                let mut cmd = Command::new("docker-registry");
                cmd.arg("serve").arg(&config);
                (cmd, format!("{scheme}://{host_name}:{port}/v2/"))
            })
            .await;
        children.push(child);

        let host = format!("{host_name}:{port}");
        Some(TestRegistry {
            mode,
            base_url: format!("{scheme}://{host}"),
            host,
            ca_pem,
            ca_path,
            client_identity,
            token_realm,
            client,
            user: (username.to_owned(), password.to_owned()),
            children,
            dir,
        })
    }

    /// The mode it was started in.
    #[must_use]
    pub fn mode(&self) -> RegistryMode {
        self.mode
    }

    /// `host:port` as image references name it: `127.0.0.1:PORT`, or `localhost:PORT` in
    /// [`RegistryMode::Tls`] and [`RegistryMode::MutualTls`] (the certificate is valid for
    /// both).
    #[must_use]
    pub fn host(&self) -> &str {
        &self.host
    }

    /// `http://HOST` or, in [`RegistryMode::Tls`] and [`RegistryMode::MutualTls`],
    /// `https://HOST` (no trailing slash).
    #[must_use]
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// `("testuser", "testpass")` (or the user of [`start_with_user`](Self::start_with_user))
    /// in [`Basic`](RegistryMode::Basic) and [`Tls`](RegistryMode::Tls) mode, `("testuser",
    /// "testpass")` in [`Token`](RegistryMode::Token) mode (the token server's credentials);
    /// `None` in [`Open`](RegistryMode::Open) and [`MutualTls`](RegistryMode::MutualTls) mode.
    #[must_use]
    pub fn credentials(&self) -> Option<(&str, &str)> {
        match self.mode {
            RegistryMode::Basic | RegistryMode::Tls => Some((&self.user.0, &self.user.1)),
            RegistryMode::Token => Some((USERNAME, PASSWORD)),
            RegistryMode::Open | RegistryMode::MutualTls => None,
        }
    }

    /// The test CA's certificate (PEM) in [`RegistryMode::Tls`] and [`RegistryMode::MutualTls`].
    #[must_use]
    pub fn ca_pem(&self) -> Option<Vec<u8>> {
        self.ca_pem.clone()
    }

    /// Path of the test CA's certificate (PEM) in [`RegistryMode::Tls`] and
    /// [`RegistryMode::MutualTls`].
    #[must_use]
    pub fn ca_path(&self) -> Option<&Path> {
        self.ca_path.as_deref()
    }

    /// The client certificate (PEM, `CN=imagebump test client`, extended key usage
    /// `clientAuth`, signed by the test CA) that [`RegistryMode::MutualTls`] demands.
    #[must_use]
    pub fn client_cert_pem(&self) -> Option<Vec<u8>> {
        self.client_identity.as_ref().map(|id| id.cert_pem.clone())
    }

    /// The private key (PEM, PKCS #8, P-256) of [`client_cert_pem`](Self::client_cert_pem).
    #[must_use]
    pub fn client_key_pem(&self) -> Option<Vec<u8>> {
        self.client_identity.as_ref().map(|id| id.key_pem.clone())
    }

    /// Path of [`client_cert_pem`](Self::client_cert_pem) in [`RegistryMode::MutualTls`].
    #[must_use]
    pub fn client_cert_path(&self) -> Option<&Path> {
        self.client_identity.as_ref().map(|id| id.cert_path.as_path())
    }

    /// Path of [`client_key_pem`](Self::client_key_pem) in [`RegistryMode::MutualTls`].
    #[must_use]
    pub fn client_key_path(&self) -> Option<&Path> {
        self.client_identity.as_ref().map(|id| id.key_path.as_path())
    }

    /// The token endpoint, `http://127.0.0.1:PORT/token`, in [`RegistryMode::Token`] (the
    /// `realm` of the registry's `WWW-Authenticate: Bearer` challenge).
    #[must_use]
    pub fn token_realm(&self) -> Option<&str> {
        self.token_realm.as_deref()
    }

    /// The token `service` (`"test-registry"`) in [`RegistryMode::Token`].
    #[must_use]
    pub fn token_service(&self) -> Option<&str> {
        (self.mode == RegistryMode::Token).then_some(TOKEN_SERVICE)
    }

    /// The temporary directory holding the configuration (`config.yml`), data, certificates and
    /// logs (`registry.log`, `token_server.log`).
    #[must_use]
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// An HTTP client that trusts the test CA (in [`RegistryMode::Tls`] and
    /// [`RegistryMode::MutualTls`]), presents the client certificate (in
    /// [`RegistryMode::MutualTls`]) and ignores proxy settings. It sends no credentials by
    /// itself.
    #[must_use]
    pub fn http_client(&self) -> reqwest::Client {
        self.client.clone()
    }

    /// The `Authorization` header value granting `actions` (e.g. `"pull"` or `"pull,push"`) on
    /// `repo`, using [`credentials`](Self::credentials): `Basic …` in
    /// [`Basic`](RegistryMode::Basic) and [`Tls`](RegistryMode::Tls) mode, `Bearer …` (a fresh
    /// token from the token server) in [`Token`](RegistryMode::Token) mode, `None` in
    /// [`Open`](RegistryMode::Open) and [`MutualTls`](RegistryMode::MutualTls) mode (where the
    /// client certificate of [`http_client`](Self::http_client) is all it takes).
    ///
    /// # Panics
    ///
    /// When the token server does not issue a token.
    pub async fn authorization(&self, repo: &str, actions: &str) -> Option<String> {
        match self.mode {
            RegistryMode::Open | RegistryMode::MutualTls => None,
            RegistryMode::Basic | RegistryMode::Tls => Some(basic_authorization(&self.user.0, &self.user.1)),
            RegistryMode::Token => {
                let realm = self.token_realm.as_deref().expect("token mode has a realm");
                let scope = format!("repository:{repo}:{actions}");
                let response = self
                    .client
                    .get(realm)
                    .query(&[("service", TOKEN_SERVICE), ("scope", scope.as_str())])
                    .basic_auth(USERNAME, Some(PASSWORD))
                    .send()
                    .await
                    .expect("requesting a token from the token server");
                let body = expect_status(response, StatusCode::OK, "GET token").await;
                let json: serde_json::Value =
                    serde_json::from_slice(&body).expect("the token server answers JSON");
                let token = json["token"]
                    .as_str()
                    .expect("the token server's answer has a token");
                Some(format!("Bearer {token}"))
            }
        }
    }

    /// Pushes one small image per tag into `repo` and returns their manifest digests
    /// (`Docker-Content-Digest`, `sha256:…`) in the order of `tags`.
    ///
    /// Every image is an OCI image manifest with no layers and the same config blob (uploaded
    /// once), plus the annotation `org.opencontainers.image.version: TAG`, so each tag has its
    /// own distinct digest and pushing the same tag again gives the same digest. Authenticates
    /// as [`credentials`](Self::credentials) itself. Up to 8 manifests are uploaded at once:
    /// 1,000 tags take a few seconds.
    ///
    /// # Panics
    ///
    /// When the registry rejects an upload.
    pub async fn push(&self, repo: &str, tags: &[&str]) -> Vec<String> {
        let auth = self.authorization(repo, "pull,push").await;
        let config_digest = sha256_digest(IMAGE_CONFIG);
        self.upload_blob(repo, IMAGE_CONFIG, &config_digest, auth.as_deref())
            .await;

        let semaphore = Arc::new(Semaphore::new(PUSH_CONCURRENCY));
        let mut tasks = JoinSet::new();
        for (index, tag) in tags.iter().enumerate() {
            let manifest = image_manifest(&config_digest, tag);
            let request = self
                .client
                .put(format!("{}/v2/{repo}/manifests/{tag}", self.base_url))
                .header(CONTENT_TYPE, OCI_MANIFEST);
            let request = match &auth {
                Some(value) => request.header(AUTHORIZATION, value),
                None => request,
            };
            let permit = Arc::clone(&semaphore)
                .acquire_owned()
                .await
                .expect("the semaphore is never closed");
            let what = format!("PUT manifest {repo}:{tag}");
            tasks.spawn(async move {
                let _permit = permit;
                let expected = sha256_digest(&manifest);
                let response = request
                    .body(manifest)
                    .send()
                    .await
                    .unwrap_or_else(|e| panic!("{what}: {e}"));
                let digest = response
                    .headers()
                    .get("Docker-Content-Digest")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                expect_status(response, StatusCode::CREATED, &what).await;
                let digest = digest.unwrap_or_else(|| panic!("{what}: no Docker-Content-Digest"));
                assert_eq!(digest, expected, "{what}: the registry's digest");
                (index, digest)
            });
        }
        let mut digests = vec![String::new(); tags.len()];
        while let Some(joined) = tasks.join_next().await {
            match joined {
                Ok((index, digest)) => digests[index] = digest,
                Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                Err(e) => panic!("manifest upload task failed: {e}"),
            }
        }
        digests
    }

    /// Uploads a blob with the two-step upload (`POST` then `PUT ?digest=`); distribution 2.8.2
    /// ignores the body of a single monolithic `POST`.
    async fn upload_blob(&self, repo: &str, blob: &'static [u8], digest: &str, auth: Option<&str>) {
        let with_auth = |request: reqwest::RequestBuilder| match auth {
            Some(value) => request.header(AUTHORIZATION, value),
            None => request,
        };
        let what = format!("POST blob upload for {repo}");
        let response = with_auth(
            self.client
                .post(format!("{}/v2/{repo}/blobs/uploads/", self.base_url)),
        )
        .send()
        .await
        .unwrap_or_else(|e| panic!("{what}: {e}"));
        let location = response
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        expect_status(response, StatusCode::ACCEPTED, &what).await;
        let location = location.unwrap_or_else(|| panic!("{what}: no Location"));
        let mut url = Url::parse(&self.base_url)
            .and_then(|base| base.join(&location))
            .unwrap_or_else(|e| panic!("{what}: bad Location {location:?}: {e}"));
        url.query_pairs_mut().append_pair("digest", digest);
        let what = format!("PUT blob {digest} into {repo}");
        let response = with_auth(self.client.put(url))
            .header(CONTENT_TYPE, "application/octet-stream")
            .body(blob)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        expect_status(response, StatusCode::CREATED, &what).await;
    }
}

impl Drop for TestRegistry {
    /// Kills the registry, then the token server (each is also killed if dropped on its own).
    fn drop(&mut self) {
        while let Some(child) = self.children.pop() {
            drop(child);
        }
    }
}

/// Makes a signing key and starts the token server; returns it and its realm URL.
async fn start_token_server(root: &Path, python: &Path, client: &reqwest::Client) -> (ChildGuard, String) {
    let key = root.join("token.key");
    let cert = root.join("token.crt");
    run_tool(
        tokio::process::Command::new("openssl")
            .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2"])
            .args(["-subj", "/CN=imagebump test token signer", "-keyout"])
            .arg(&key)
            .arg("-out")
            .arg(&cert),
        "openssl req (token signing key)",
    )
    .await;
    let script = root.join("token_server.py");
    fs::write(&script, TOKEN_SERVER_PY).expect("writing token_server.py");
    let (child, port) = spawn_until_ready("token server", &root.join("token_server.log"), client, |port| {
        let mut cmd = Command::new(python);
        cmd.arg("-u")
            .arg(&script)
            .arg(&key)
            .arg(&cert)
            .arg(port.to_string())
            .args([TOKEN_SERVICE, TOKEN_ISSUER]);
        (cmd, format!("http://127.0.0.1:{port}/token"))
    })
    .await;
    (child, format!("http://127.0.0.1:{port}/token"))
}

/// `Basic base64(user:password)`.
fn basic_authorization(user: &str, password: &str) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    format!("Basic {encoded}")
}

/// `sha256:HEX` of `bytes`.
fn sha256_digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// The OCI image manifest pushed for `tag`.
fn image_manifest(config_digest: &str, tag: &str) -> Vec<u8> {
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {
            "mediaType": OCI_CONFIG,
            "digest": config_digest,
            "size": IMAGE_CONFIG.len(),
        },
        "layers": [],
        "annotations": { "org.opencontainers.image.version": tag },
    });
    serde_json::to_vec(&manifest).expect("a JSON value serializes")
}

/// Panics unless `response` has `expected` status; returns the body.
async fn expect_status(response: reqwest::Response, expected: StatusCode, what: &str) -> Vec<u8> {
    let status = response.status();
    let body = response
        .bytes()
        .await
        .unwrap_or_else(|e| panic!("{what}: reading the response: {e}"));
    assert!(
        status == expected,
        "{what}: expected {expected}, got {status}: {}",
        String::from_utf8_lossy(&body)
    );
    body.to_vec()
}

/// A Python 3 that can import `cryptography`: Debian's `/usr/bin/python3` first (where
/// `python3-cryptography` installs it), then `python3` on `PATH`. `None` (or a panic on CI)
/// when there is none.
async fn find_python() -> Option<PathBuf> {
    let mut candidates: Vec<PathBuf> = ["/usr/bin/python3", "python3"]
        .into_iter()
        .filter_map(find_program)
        .collect();
    candidates.dedup();
    if candidates.is_empty() {
        report_missing("`python3`", is_ci());
        return None;
    }
    for python in candidates {
        let imports = tokio::process::Command::new(&python)
            .args(["-c", "import cryptography"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .await
            .is_ok_and(|status| status.success());
        if imports {
            return Some(python);
        }
    }
    report_missing(
        "the Python module `cryptography` (Debian package python3-cryptography)",
        is_ci(),
    );
    None
}

/// The registry's configuration (YAML) for `mode` on `port`, with everything under `dir`.
fn registry_config(dir: &Path, port: u16, mode: RegistryMode, token_realm: Option<&str>) -> String {
    let d = dir.display();
    let mut yaml = format!(
        "version: 0.1\n\
         log:\n  level: info\n\
         storage:\n  filesystem:\n    rootdirectory: \"{d}/data\"\n  delete:\n    enabled: true\n\
         \x20 maintenance:\n    uploadpurging:\n      enabled: false\n\
         http:\n  addr: 127.0.0.1:{port}\n  secret: imagebump-test-secret\n"
    );
    if mode.is_tls() {
        let _ = write!(
            yaml,
            "  tls:\n    certificate: \"{d}/tls.crt\"\n    key: \"{d}/tls.key\"\n"
        );
    }
    if mode == RegistryMode::MutualTls {
        // distribution 2.8 then sets Go's `tls.RequireAndVerifyClientCert`.
        let _ = write!(yaml, "    clientcas:\n      - \"{d}/ca.crt\"\n");
    }
    match mode {
        RegistryMode::Open | RegistryMode::MutualTls => {}
        RegistryMode::Basic | RegistryMode::Tls => {
            let _ = write!(
                yaml,
                "auth:\n  htpasswd:\n    realm: test-realm\n    path: \"{d}/htpasswd\"\n"
            );
        }
        RegistryMode::Token => {
            let realm = token_realm.expect("token mode has a realm");
            let _ = write!(
                yaml,
                "auth:\n  token:\n    realm: \"{realm}\"\n    service: {TOKEN_SERVICE}\n    \
                 issuer: {TOKEN_ISSUER}\n    rootcertbundle: \"{d}/token.crt\"\n"
            );
        }
    }
    yaml
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configs_name_their_files() {
        let dir = Path::new("/tmp/x");
        let open = registry_config(dir, 5000, RegistryMode::Open, None);
        assert!(
            open.contains("addr: 127.0.0.1:5000") && !open.contains("auth:"),
            "{open}"
        );
        let tls = registry_config(dir, 5443, RegistryMode::Tls, None);
        assert!(
            tls.contains("certificate: \"/tmp/x/tls.crt\"") && tls.contains("htpasswd:"),
            "{tls}"
        );
        let token = registry_config(dir, 5003, RegistryMode::Token, Some("http://127.0.0.1:1/token"));
        assert!(token.contains("realm: \"http://127.0.0.1:1/token\"") && token.contains("rootcertbundle"));
        let mtls = registry_config(dir, 5444, RegistryMode::MutualTls, None);
        assert!(
            mtls.contains("certificate: \"/tmp/x/tls.crt\"")
                && mtls.contains("    clientcas:\n      - \"/tmp/x/ca.crt\"\n")
                && !mtls.contains("auth:"),
            "{mtls}"
        );
        assert!(!tls.contains("clientcas"), "{tls}");
    }
}
