//! Turning the Secrets an object names into what the libraries need: a registry client and
//! credential for a scan, a git remote for a push, a signing key for a commit.
//!
//! Secrets are read at every use, not at load: a secret file rewritten by a timer or a
//! `CronJob` (the refreshed-secret mode) is picked up by the next scan with no restart.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::{Mutex, PoisonError};

use base64::Engine as _;
use imagebump_auth::docker_config::{DockerConfig, MatchOptions};
use imagebump_auth::{Cloud, Credential};
use imagebump_registry::{BuildError, Client, ClientBuilder, Options};
use imagebump_writer::git::{GitAuth, Proxy, Remote, SigningKey};

use super::Shared;
use crate::config::file::Autologin;
use crate::config::raw::ObjectMeta;
use crate::config::resolved::{GitRepository, ImageRepository, NamespacedName, Objects};
use crate::config::secret::{Secret, docker_config_of};

/// A Secret could not be found or does not hold what the object needs. Never carries a
/// secret value.
#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    /// Neither an object nor a `secrets_dir` entry.
    #[error("Secret {0} not found among the objects or in secrets_dir")]
    NotFound(NamespacedName),
    /// A `secrets_dir` entry could not be read.
    #[error("Secret {secret}: cannot read {path}: {reason}")]
    Unreadable {
        /// The Secret.
        secret: NamespacedName,
        /// The file or directory.
        path: String,
        /// The I/O error.
        reason: String,
    },
    /// The Secret is there but lacks a key or holds something unusable.
    #[error("Secret {secret}: {problem}")]
    Invalid {
        /// The Secret.
        secret: NamespacedName,
        /// What is wrong, for people.
        problem: String,
    },
    /// The cloud login failed (no credentials in the environment, the token service refused).
    #[error("{cloud} login for {registry}: {reason}")]
    Cloud {
        /// `aws`, `gcp` or `azure`.
        cloud: &'static str,
        /// The registry host.
        registry: String,
        /// Why, without secrets.
        reason: String,
    },
    /// The HTTP client could not be built (bad CA or client certificate).
    #[error("{0}")]
    Client(#[from] imagebump_registry::BuildError),
}

/// Where Secrets come from: the object files first, then `secrets_dir/<ns>/<name>/<key>`.
#[derive(Clone, Copy)]
pub struct Secrets<'a> {
    /// `Secret` objects from the object files.
    pub objects: &'a BTreeMap<NamespacedName, Secret>,
    /// The mounted-Secret directory, if configured.
    pub dir: Option<&'a Path>,
}

impl Secrets<'_> {
    /// The Secret `key`, read now.
    pub fn get(&self, key: &NamespacedName) -> Result<Secret, AccessError> {
        if let Some(secret) = self.objects.get(key) {
            return Ok(secret.clone());
        }
        let Some(dir) = self.dir else {
            return Err(AccessError::NotFound(key.clone()));
        };
        let path = dir.join(&key.namespace).join(&key.name);
        if !path.is_dir() {
            return Err(AccessError::NotFound(key.clone()));
        }
        read_secret_dir(&path, key)
    }
}

/// A mounted Secret: one file per key. Kubernetes' own entries (`..data`, `..2026_11_23_…`)
/// are skipped; the key names are symlinks into them and are followed. Keys may start with a
/// dot themselves (`.dockerconfigjson`).
fn read_secret_dir(dir: &Path, key: &NamespacedName) -> Result<Secret, AccessError> {
    let unreadable = |path: &Path, e: &std::io::Error| AccessError::Unreadable {
        secret: key.clone(),
        path: path.display().to_string(),
        reason: e.to_string(),
    };
    let mut data = BTreeMap::new();
    for entry in std::fs::read_dir(dir).map_err(|e| unreadable(dir, &e))? {
        let entry = entry.map_err(|e| unreadable(dir, &e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = entry.path();
        if name.starts_with("..") || !path.is_file() {
            continue;
        }
        let bytes = std::fs::read(&path).map_err(|e| unreadable(&path, &e))?;
        data.insert(name, base64::engine::general_purpose::STANDARD.encode(bytes));
    }
    let metadata = ObjectMeta {
        name: key.name.clone(),
        namespace: Some(key.namespace.clone()),
    };
    Ok(Secret::from_parts(metadata, String::new(), data, BTreeMap::new()))
}

/// The value of the first of `keys` present in `secret`, as text.
fn text(secret: &Secret, key: &NamespacedName, keys: &[&str]) -> Result<Option<String>, AccessError> {
    for k in keys {
        let value = secret.get(k).map_err(|e| AccessError::Invalid {
            secret: key.clone(),
            problem: e.to_string(),
        })?;
        if let Some(bytes) = value {
            return String::from_utf8(bytes)
                .map(Some)
                .map_err(|_| AccessError::Invalid {
                    secret: key.clone(),
                    problem: format!("{k} is not UTF-8 text"),
                });
        }
    }
    Ok(None)
}

/// Registry clients shared by every scan with the same TLS and proxy settings. Building a
/// client parses the system's CA store (about 3 ms and a few hundred KiB each); a thousand
/// repositories scanning at once would otherwise hold a thousand copies. A shared client also
/// keeps connections to a registry alive between scans.
#[derive(Default)]
pub struct Clients {
    built: Mutex<HashMap<[u8; 32], Client>>,
}

impl Clients {
    /// Distinct settings kept; rotating proxy passwords must not grow the map for ever.
    const MAX: usize = 64;

    /// The client `builder` describes, built once.
    pub fn get(&self, builder: ClientBuilder) -> Result<Client, BuildError> {
        let key = builder.fingerprint();
        let mut built = self.built.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(client) = built.get(&key) {
            return Ok(client.clone());
        }
        let client = builder.build()?;
        if built.len() >= Self::MAX {
            built.clear();
        }
        built.insert(key, client.clone());
        Ok(client)
    }
}

/// What one scan of an `ImageRepository` talks to the registry with.
pub struct RegistryAccess {
    /// The HTTP client (CA, client certificate and proxy applied).
    pub client: Client,
    /// The credential for this repository.
    pub credential: Credential,
    /// Deadline, paging and scheme options.
    pub options: Options,
}

/// The cloud that logs in for `repository`: its `spec.provider`, or, for an object with
/// neither a provider nor a `secretRef`, the cloud whose registry hosts match when
/// `[autologin]` enables it (Flux's old `--aws-autologin-for-ecr` and friends).
pub fn cloud_of(repository: &ImageRepository, autologin: Autologin) -> Option<Cloud> {
    if let Some(cloud) = Cloud::from_name(&repository.provider) {
        return Some(cloud);
    }
    if repository.secret_ref.is_some() {
        return None;
    }
    // ECR Public (`public.ecr.aws`) is read anonymously; auto-login must not take that away.
    let registry = repository.image.registry();
    if registry == imagebump_auth::cloud::aws::PUBLIC_HOST {
        return None;
    }
    imagebump_auth::cloud::cloud_for_host(registry).filter(|cloud| match cloud {
        Cloud::Aws => autologin.aws,
        Cloud::Gcp => autologin.gcp,
        Cloud::Azure => autologin.azure,
    })
}

impl Shared {
    /// Where Secrets come from for `objects` (a snapshot of the loaded objects) and this
    /// daemon's `secrets_dir`.
    pub fn secrets<'a>(&'a self, objects: &'a Objects) -> Secrets<'a> {
        Secrets {
            objects: &objects.secrets,
            dir: self.secrets_dir.as_deref(),
        }
    }

    /// The client and credential for one scan (or digest lookup) of `repository`: its
    /// Secrets read now, or its cloud's login (cached by the provider until 80 % of the
    /// token's life, at most an hour).
    pub async fn registry_access(&self, repository: &ImageRepository) -> Result<RegistryAccess, AccessError> {
        let cloud = cloud_of(repository, self.autologin);
        let mut access = {
            let objects = self.objects.borrow().clone();
            registry_access(repository, self.secrets(&objects), &self.clients, cloud.is_none())?
        };
        if let Some(cloud) = cloud {
            let image = &repository.image;
            let found = self
                .clouds
                .credentials(cloud, image.registry(), image.repository())
                .await
                .map_err(|e| AccessError::Cloud {
                    cloud: cloud.name(),
                    registry: image.registry().to_owned(),
                    reason: e.to_string(),
                })?;
            access.credential = found.credential;
        }
        Ok(access)
    }
}

/// Builds the client and credential for a scan of `repository`, from its Secrets as Flux reads
/// them: `secretRef` (a docker-registry Secret), `certSecretRef` (`ca.crt`, `tls.crt`,
/// `tls.key`, or the older `caFile`/`certFile`/`keyFile`), `proxySecretRef` (`address`,
/// `username`, `password`).
/// With `use_secret_ref` false (a cloud logs in instead) the `secretRef` is not read, as in
/// Flux.
fn registry_access(
    repository: &ImageRepository,
    secrets: Secrets<'_>,
    clients: &Clients,
    use_secret_ref: bool,
) -> Result<RegistryAccess, AccessError> {
    let image = &repository.image;
    let credential = match repository.secret_ref.as_ref().filter(|_| use_secret_ref) {
        None => Credential::Anonymous,
        Some(key) => {
            let secret = secrets.get(key)?;
            let invalid = |problem: String| AccessError::Invalid {
                secret: key.clone(),
                problem,
            };
            let (document, format) = docker_config_of(&secret).map_err(|e| invalid(format!("{e:#}")))?;
            let config = DockerConfig::parse(format, &document).map_err(|e| invalid(e.to_string()))?;
            config.credential(image.registry(), image.repository(), MatchOptions::default())
        }
    };
    let mut builder = Client::builder();
    if let Some(key) = &repository.cert_secret_ref {
        let secret = secrets.get(key)?;
        if let Some(ca) = text(&secret, key, &["ca.crt", "caFile"])? {
            builder = builder.ca_pem(ca.into_bytes());
        }
        let cert = text(&secret, key, &["tls.crt", "certFile"])?;
        let private = text(&secret, key, &["tls.key", "keyFile"])?;
        match (cert, private) {
            (Some(cert), Some(private)) => {
                builder = builder.client_certificate(cert.as_bytes(), private.as_bytes());
            }
            (None, None) => {}
            _ => {
                return Err(AccessError::Invalid {
                    secret: key.clone(),
                    problem: "tls.crt and tls.key must be given together".to_owned(),
                });
            }
        }
    }
    if let Some(key) = &repository.proxy_secret_ref {
        let proxy = proxy(key, secrets)?;
        let credentials = proxy.credentials.as_ref().map(|(u, p)| (u.as_str(), p.as_str()));
        builder = builder.proxy(&proxy.address, credentials);
    }
    Ok(RegistryAccess {
        client: clients.get(builder)?,
        credential,
        options: Options {
            timeout: Options::scan_timeout(Some(repository.timeout), repository.interval),
            insecure: repository.insecure,
            ..Options::default()
        },
    })
}

/// A `proxySecretRef` Secret, as Flux reads it: `address` (the proxy URL), and optionally
/// `username` and `password`.
fn proxy(key: &NamespacedName, secrets: Secrets<'_>) -> Result<Proxy, AccessError> {
    let secret = secrets.get(key)?;
    let Some(address) = text(&secret, key, &["address"])? else {
        return Err(AccessError::Invalid {
            secret: key.clone(),
            problem: "no `address` key (the proxy URL)".to_owned(),
        });
    };
    let user = text(&secret, key, &["username"])?;
    let password = text(&secret, key, &["password"])?.unwrap_or_default();
    Ok(Proxy {
        address: address.trim().to_owned(),
        credentials: user.map(|u| (u, password)),
    })
}

/// The remote of a `GitRepository`, with credentials from its `secretRef`: `username` and
/// `password`, or `bearerToken`, or `identity` and `known_hosts` (SSH), plus `ca.crt`; and
/// the proxy of its `proxySecretRef`.
pub fn git_remote(source: &GitRepository, secrets: Secrets<'_>) -> Result<Remote, AccessError> {
    let mut remote = Remote {
        url: source.url.clone(),
        auth: GitAuth::Anonymous,
        ca_pem: None,
        timeout: source.timeout,
        proxy: source
            .proxy_secret_ref
            .as_ref()
            .map(|key| proxy(key, secrets))
            .transpose()?,
    };
    let Some(key) = &source.secret_ref else {
        return Ok(remote);
    };
    let secret = secrets.get(key)?;
    remote.ca_pem = text(&secret, key, &["ca.crt", "caFile"])?.map(String::into_bytes);
    let identity = text(&secret, key, &["identity"])?;
    let bearer = text(&secret, key, &["bearerToken"])?;
    let username = text(&secret, key, &["username"])?;
    remote.auth = if source.url.starts_with("ssh://") {
        let Some(identity) = identity else {
            return Err(AccessError::Invalid {
                secret: key.clone(),
                problem: "an ssh:// remote needs the `identity` key (a private key)".to_owned(),
            });
        };
        let Some(known_hosts) = text(&secret, key, &["known_hosts"])? else {
            return Err(AccessError::Invalid {
                secret: key.clone(),
                problem: "an ssh:// remote needs the `known_hosts` key; host keys are always checked"
                    .to_owned(),
            });
        };
        GitAuth::Ssh {
            identity,
            known_hosts,
        }
    } else if let Some(token) = bearer {
        GitAuth::Bearer(token)
    } else if let Some(username) = username {
        let password = text(&secret, key, &["password"])?.unwrap_or_default();
        GitAuth::Basic { username, password }
    } else {
        GitAuth::Anonymous
    };
    Ok(remote)
}

/// The commit signing key of `spec.git.commit.signingKey`: `git.asc` (+ `passphrase`) for
/// `type: gpg`, `identity` (+ `password`) for `type: ssh`.
pub fn signing_key(
    key: &NamespacedName,
    kind: &str,
    secrets: Secrets<'_>,
) -> Result<SigningKey, AccessError> {
    let secret = secrets.get(key)?;
    let missing = |what: &str| AccessError::Invalid {
        secret: key.clone(),
        problem: format!("no `{what}` key for a {kind} signing key"),
    };
    if kind == "ssh" {
        let private_key = text(&secret, key, &["identity"])?.ok_or_else(|| missing("identity"))?;
        let passphrase = text(&secret, key, &["password"])?;
        Ok(SigningKey::Ssh {
            private_key,
            passphrase,
        })
    } else {
        let armored = text(&secret, key, &["git.asc"])?.ok_or_else(|| missing("git.asc"))?;
        let passphrase = text(&secret, key, &["passphrase"])?;
        Ok(SigningKey::OpenPgp { armored, passphrase })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(ns: &str, name: &str) -> NamespacedName {
        NamespacedName {
            namespace: ns.to_owned(),
            name: name.to_owned(),
        }
    }

    fn repository(image: &str, provider: &str, secret: bool) -> ImageRepository {
        let yaml = format!(
            "apiVersion: image.toolkit.fluxcd.io/v1\nkind: ImageRepository\nmetadata:\n  name: app\n  \
             namespace: ns\nspec:\n  image: {image}\n  interval: 1m\n  provider: {provider}\n{}",
            if secret {
                "  secretRef:\n    name: s\n---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n  namespace: ns\n"
            } else {
                ""
            }
        );
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("o.yaml"), yaml).unwrap();
        std::fs::write(
            dir.path().join("c.toml"),
            "objects = [\"o.yaml\"]\nstate_dir = \"s\"\n",
        )
        .unwrap();
        let config = crate::config::file::load(&dir.path().join("c.toml")).unwrap();
        let loaded = crate::config::load_objects(&config);
        loaded
            .objects
            .image_repositories
            .into_values()
            .next()
            .expect("a valid repository")
    }

    #[test]
    fn the_cloud_that_logs_in() {
        let all = Autologin {
            aws: true,
            gcp: true,
            azure: true,
        };
        let ecr = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/app";
        let cases = [
            (ecr, "aws", false, Autologin::default(), Some(Cloud::Aws)),
            (ecr, "aws", true, Autologin::default(), Some(Cloud::Aws)),
            (ecr, "generic", false, Autologin::default(), None),
            (ecr, "generic", false, all, Some(Cloud::Aws)),
            (ecr, "generic", true, all, None),
            (
                "europe-docker.pkg.dev/p/r/app",
                "generic",
                false,
                all,
                Some(Cloud::Gcp),
            ),
            ("team.azurecr.io/app", "generic", false, all, Some(Cloud::Azure)),
            (
                "team.azurecr.io/app",
                "generic",
                false,
                Autologin { azure: false, ..all },
                None,
            ),
            ("public.ecr.aws/org/app", "generic", false, all, None),
            ("ghcr.io/org/app", "generic", false, all, None),
        ];
        for (image, provider, secret, autologin, want) in cases {
            let repo = repository(image, provider, secret);
            assert_eq!(
                cloud_of(&repo, autologin),
                want,
                "{image} {provider} secret={secret}"
            );
        }
    }

    #[test]
    fn mounted_secrets_are_read_from_the_directory_skipping_hidden_entries() {
        let dir = tempfile::tempdir().unwrap();
        let secret_dir = dir.path().join("flux-system/git");
        std::fs::create_dir_all(secret_dir.join("..2026_11_23")).unwrap();
        std::fs::write(secret_dir.join("..2026_11_23/username"), "bot").unwrap();
        std::fs::write(secret_dir.join("username"), "bot").unwrap();
        std::fs::write(secret_dir.join("password"), "s3cret").unwrap();
        std::fs::write(secret_dir.join(".dockerconfigjson"), "{}").unwrap();
        let objects = BTreeMap::new();
        let secrets = Secrets {
            objects: &objects,
            dir: Some(dir.path()),
        };
        let secret = secrets.get(&key("flux-system", "git")).unwrap();
        assert_eq!(secret.get("password").unwrap().unwrap(), b"s3cret");
        assert!(secret.get("..2026_11_23").unwrap().is_none());
        assert_eq!(secret.get(".dockerconfigjson").unwrap().unwrap(), b"{}");
        let missing = secrets.get(&key("flux-system", "nope")).unwrap_err();
        assert_eq!(
            missing.to_string(),
            "Secret flux-system/nope not found among the objects or in secrets_dir"
        );
    }

    #[test]
    fn a_rewritten_secret_file_is_seen_at_the_next_read() {
        let dir = tempfile::tempdir().unwrap();
        let secret_dir = dir.path().join("ns/s");
        std::fs::create_dir_all(&secret_dir).unwrap();
        std::fs::write(secret_dir.join("password"), "old").unwrap();
        let objects = BTreeMap::new();
        let secrets = Secrets {
            objects: &objects,
            dir: Some(dir.path()),
        };
        assert_eq!(
            secrets
                .get(&key("ns", "s"))
                .unwrap()
                .get("password")
                .unwrap()
                .unwrap(),
            b"old"
        );
        std::fs::write(secret_dir.join("password"), "new").unwrap();
        assert_eq!(
            secrets
                .get(&key("ns", "s"))
                .unwrap()
                .get("password")
                .unwrap()
                .unwrap(),
            b"new"
        );
    }
}
