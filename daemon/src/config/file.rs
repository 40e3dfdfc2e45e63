//! The daemon's own config file, `imagebump.toml` (process settings only; the Flux objects
//! live in the YAML files it points at).
//!
//! ```toml
//! objects = ["objects/"]            # files or directories of YAML objects
//! state_dir = "/var/lib/imagebump"
//! secrets_dir = "secrets/"          # optional: <namespace>/<name>/<key> files
//! default_namespace = "flux-system" # for objects without metadata.namespace
//! [http]
//! listen = "127.0.0.1:9292"
//! [control]
//! socket = "/run/imagebump/control.sock"
//! [webhooks]                        # optional: receivers' body cap, Google's keys
//! max_body_bytes = 1048576
//! [autologin]                       # optional: cloud logins by registry host
//! aws = true
//! [aws]                             # optional: endpoints ([gcp], [azure] alike)
//! endpoint_url = "https://ecr.eu-west-1.amazonaws.com"
//! ```
//!
//! Relative paths resolve against the directory of the config file, not the working
//! directory, so the same file works wherever the daemon is started. Unknown keys are errors.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use super::diagnostic::Diagnostic;
use super::yaml::Mark;

/// Flux's namespace, where `flux bootstrap` puts everything.
pub const DEFAULT_NAMESPACE: &str = "flux-system";
/// Where webhook receivers, health and metrics listen by default.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:9292";
/// The control socket by default.
pub const DEFAULT_SOCKET: &str = "/run/imagebump/control.sock";
/// The largest webhook body accepted by default (Flux's receivers read at most this much too).
pub const DEFAULT_MAX_BODY: usize = 1024 * 1024;
/// Where Google publishes the keys that sign its OIDC ID tokens (`gcr` receivers).
pub const DEFAULT_GOOGLE_JWKS: &str = "https://www.googleapis.com/oauth2/v3/certs";

/// The loaded config, every path made absolute or relative to the working directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The config file itself.
    pub path: PathBuf,
    /// Files and directories of YAML objects, each with its position in the config file.
    pub objects: Vec<(PathBuf, Mark)>,
    /// The state store's directory.
    pub state_dir: PathBuf,
    /// Mounted-Secret layout `<namespace>/<name>/<key>`, if configured.
    pub secrets_dir: Option<PathBuf>,
    /// Namespace of objects without `metadata.namespace`.
    pub default_namespace: String,
    /// `[http] listen`.
    pub http_listen: SocketAddr,
    /// `[control] socket`.
    pub control_socket: PathBuf,
    /// `[webhooks]`.
    pub webhooks: Webhooks,
    /// `[autologin]`, `[aws]`, `[gcp]`, `[azure]`.
    pub clouds: Clouds,
}

/// Cloud registry logins: which clouds log in by themselves for objects without a provider,
/// and endpoint overrides (private clouds, VPC endpoints, tests).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Clouds {
    /// `[autologin]`: Flux's removed `--aws-autologin-for-ecr`, `--gcp-autologin-for-gcr` and
    /// `--azure-autologin-for-acr`: the cloud's login for matching hosts of objects without
    /// `spec.provider` and without `spec.secretRef`.
    #[serde(default)]
    pub autologin: Autologin,
    /// `[aws]`.
    #[serde(default)]
    pub aws: AwsSettings,
    /// `[gcp]`.
    #[serde(default)]
    pub gcp: GcpSettings,
    /// `[azure]`.
    #[serde(default)]
    pub azure: AzureSettings,
}

/// `[autologin]`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Autologin {
    /// ECR hosts.
    #[serde(default)]
    pub aws: bool,
    /// GCR and Artifact Registry hosts.
    #[serde(default)]
    pub gcp: bool,
    /// ACR hosts.
    #[serde(default)]
    pub azure: bool,
}

/// `[aws]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AwsSettings {
    /// ECR API endpoint instead of the regional one.
    pub endpoint_url: Option<String>,
    /// Region instead of the one in the registry host.
    pub region: Option<String>,
}

/// `[gcp]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GcpSettings {
    /// `host[:port]` of the metadata server (`GCE_METADATA_HOST` otherwise).
    pub metadata_host: Option<String>,
    /// A service-account or authorized-user JSON file (`GOOGLE_APPLICATION_CREDENTIALS`
    /// otherwise), relative to the config file.
    pub credentials_file: Option<PathBuf>,
}

/// `[azure]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AzureSettings {
    /// Entra ID authority (`https://login.microsoftonline.com`; `AZURE_AUTHORITY_HOST`).
    pub authority_host: Option<String>,
    /// The managed-identity (IMDS) token endpoint.
    pub imds_endpoint: Option<String>,
    /// `scheme://host[:port]` for the ACR token exchange instead of the registry itself.
    pub exchange_base: Option<String>,
}

/// `[webhooks]`: settings of the receivers under `/hook/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhooks {
    /// `max_body_bytes`: larger requests get 413.
    pub max_body_bytes: usize,
    /// `google_jwks_url`: the keys `gcr` receivers check ID tokens against.
    pub google_jwks_url: url::Url,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    objects: Vec<Spanned<String>>,
    state_dir: Spanned<String>,
    #[serde(default)]
    secrets_dir: Option<Spanned<String>>,
    #[serde(default)]
    default_namespace: Option<Spanned<String>>,
    #[serde(default)]
    http: Option<RawHttp>,
    #[serde(default)]
    control: Option<RawControl>,
    #[serde(default)]
    webhooks: Option<RawWebhooks>,
    #[serde(default)]
    autologin: Autologin,
    #[serde(default)]
    aws: AwsSettings,
    #[serde(default)]
    gcp: GcpSettings,
    #[serde(default)]
    azure: AzureSettings,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWebhooks {
    #[serde(default)]
    max_body_bytes: Option<Spanned<usize>>,
    #[serde(default)]
    google_jwks_url: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHttp {
    #[serde(default)]
    listen: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawControl {
    #[serde(default)]
    socket: Option<Spanned<String>>,
}

/// Reads and checks `path`. Every problem is returned (with the file, line and column).
pub fn load(path: &Path) -> Result<Config, Vec<Diagnostic>> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        vec![Diagnostic::error(
            path,
            None,
            format!("cannot read the config file: {e}"),
        )]
    })?;
    parse(path, &text)
}

/// Checks the text of config file `path`.
pub fn parse(path: &Path, text: &str) -> Result<Config, Vec<Diagnostic>> {
    let at = |offset: usize| Some(mark_at(text, offset));
    let raw: RawConfig = toml::from_str(text).map_err(|e| {
        let mark = e.span().and_then(|s| at(s.start));
        vec![Diagnostic::error(path, mark, e.message().trim_end().to_owned())]
    })?;
    let base = path.parent().unwrap_or(Path::new(""));
    let resolve = |p: &str| base.join(p);
    let mut problems = Vec::new();
    let nonempty = |field: &str, value: &Spanned<String>, problems: &mut Vec<Diagnostic>| {
        if value.get_ref().trim().is_empty() {
            problems.push(Diagnostic::error(
                path,
                at(value.span().start),
                format!("{field} is empty"),
            ));
        }
    };
    for entry in &raw.objects {
        nonempty("objects entry", entry, &mut problems);
    }
    if raw.objects.is_empty() {
        problems.push(Diagnostic::error(
            path,
            at(0),
            "objects lists no files or directories",
        ));
    }
    nonempty("state_dir", &raw.state_dir, &mut problems);
    let default_namespace = raw
        .default_namespace
        .as_ref()
        .map_or(DEFAULT_NAMESPACE, |n| n.get_ref().as_str())
        .to_owned();
    if let Some(n) = &raw.default_namespace
        && !super::objects::is_dns_label(n.get_ref())
    {
        problems.push(Diagnostic::error(
            path,
            at(n.span().start),
            format!(
                "default_namespace {:?} is not a valid namespace name",
                n.get_ref()
            ),
        ));
    }
    let listen = raw.http.as_ref().and_then(|h| h.listen.as_ref());
    let http_listen = match listen {
        Some(l) => l.get_ref().parse().map_err(|e| {
            Diagnostic::error(
                path,
                at(l.span().start),
                format!("http.listen {:?} is not an address:port: {e}", l.get_ref()),
            )
        }),
        None => DEFAULT_LISTEN
            .parse()
            .map_err(|_| Diagnostic::error(path, None, "bad default")),
    };
    let http_listen = match http_listen {
        Ok(a) => Some(a),
        Err(d) => {
            problems.push(d);
            None
        }
    };
    let control_socket = raw
        .control
        .as_ref()
        .and_then(|c| c.socket.as_ref())
        .map_or_else(|| PathBuf::from(DEFAULT_SOCKET), |s| resolve(s.get_ref()));
    let webhooks = webhooks(path, text, raw.webhooks.as_ref(), &mut problems);
    match http_listen {
        Some(http_listen) if problems.is_empty() => Ok(Config {
            path: path.to_path_buf(),
            objects: raw
                .objects
                .iter()
                .map(|o| (resolve(o.get_ref()), mark_at(text, o.span().start)))
                .collect(),
            state_dir: resolve(raw.state_dir.get_ref()),
            secrets_dir: raw.secrets_dir.as_ref().map(|s| resolve(s.get_ref())),
            default_namespace,
            http_listen,
            control_socket,
            webhooks,
            clouds: Clouds {
                autologin: raw.autologin,
                aws: raw.aws,
                gcp: GcpSettings {
                    credentials_file: raw.gcp.credentials_file.map(|f| base.join(f)),
                    ..raw.gcp
                },
                azure: raw.azure,
            },
        }),
        _ => Err(problems),
    }
}

fn webhooks(path: &Path, text: &str, raw: Option<&RawWebhooks>, problems: &mut Vec<Diagnostic>) -> Webhooks {
    let max_body_bytes = raw
        .and_then(|w| w.max_body_bytes.as_ref())
        .map_or(DEFAULT_MAX_BODY, |m| *m.get_ref());
    if let Some(m) = raw.and_then(|w| w.max_body_bytes.as_ref())
        && *m.get_ref() == 0
    {
        problems.push(Diagnostic::error(
            path,
            Some(mark_at(text, m.span().start)),
            "webhooks.max_body_bytes must be more than 0",
        ));
    }
    let default_jwks = || url::Url::parse(DEFAULT_GOOGLE_JWKS).expect("the default JWKS URL is valid");
    let google_jwks_url = match raw.and_then(|w| w.google_jwks_url.as_ref()) {
        None => default_jwks(),
        Some(u) => url::Url::parse(u.get_ref())
            .ok()
            .filter(|url| matches!(url.scheme(), "http" | "https"))
            .unwrap_or_else(|| {
                problems.push(Diagnostic::error(
                    path,
                    Some(mark_at(text, u.span().start)),
                    format!("webhooks.google_jwks_url {:?} is not an http(s) URL", u.get_ref()),
                ));
                default_jwks()
            }),
    };
    Webhooks {
        max_body_bytes,
        google_jwks_url,
    }
}

/// The line and column of byte `offset` in `text`.
pub(crate) fn mark_at(text: &str, offset: usize) -> Mark {
    let before = &text[..text.floor_char_boundary(offset.min(text.len()))];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    Mark {
        line: before.matches('\n').count() + 1,
        column: before[line_start..].chars().count() + 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_and_defaults() {
        let config = parse(
            Path::new("/etc/ib/imagebump.toml"),
            "objects = [\"objects/\", \"/abs.yaml\"]\nstate_dir = \"state\"\n",
        )
        .expect("valid");
        assert_eq!(config.objects[0].0, PathBuf::from("/etc/ib/objects/"));
        assert_eq!(config.objects[1].0, PathBuf::from("/abs.yaml"));
        assert_eq!(config.state_dir, PathBuf::from("/etc/ib/state"));
        assert_eq!(config.default_namespace, "flux-system");
        assert_eq!(config.http_listen.to_string(), "127.0.0.1:9292");
    }

    #[test]
    fn webhook_and_cloud_tables() {
        let config = parse(
            Path::new("/etc/ib/imagebump.toml"),
            "objects = [\"o\"]\nstate_dir = \"s\"\n[webhooks]\nmax_body_bytes = 4096\n\
             google_jwks_url = \"http://127.0.0.1:8080/certs\"\n[autologin]\naws = true\n\
             [aws]\nendpoint_url = \"http://127.0.0.1:5050\"\n[gcp]\ncredentials_file = \"key.json\"\n",
        )
        .expect("valid");
        assert_eq!(config.webhooks.max_body_bytes, 4096);
        assert_eq!(
            config.webhooks.google_jwks_url.as_str(),
            "http://127.0.0.1:8080/certs"
        );
        assert!(config.clouds.autologin.aws && !config.clouds.autologin.gcp);
        assert_eq!(
            config.clouds.aws.endpoint_url.as_deref(),
            Some("http://127.0.0.1:5050")
        );
        assert_eq!(
            config.clouds.gcp.credentials_file.as_deref(),
            Some(Path::new("/etc/ib/key.json"))
        );
        let defaults = parse(Path::new("c.toml"), "objects = [\"o\"]\nstate_dir = \"s\"\n").expect("valid");
        assert_eq!(defaults.webhooks.max_body_bytes, DEFAULT_MAX_BODY);
        assert_eq!(defaults.clouds, Clouds::default());
        let problems = parse(
            Path::new("c.toml"),
            "objects = [\"o\"]\nstate_dir = \"s\"\n[webhooks]\nmax_body_bytes = 0\ngoogle_jwks_url = \"ftp://x\"\n",
        )
        .expect_err("bad values");
        let shown: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert!(
            shown[0].starts_with("c.toml:4:18: webhooks.max_body_bytes must be more than 0"),
            "{shown:?}"
        );
        assert!(
            shown[1].starts_with("c.toml:5:19: webhooks.google_jwks_url"),
            "{shown:?}"
        );
    }

    #[test]
    fn unknown_keys_are_named() {
        let problems = parse(
            Path::new("c.toml"),
            "objects = [\"o\"]\nstate_dir = \"s\"\n[http]\nlisten = \"127.0.0.1:1\"\nport = 3\n",
        )
        .expect_err("unknown key");
        assert_eq!(problems.len(), 1);
        let shown = problems[0].to_string();
        assert!(shown.starts_with("c.toml:5:1: "), "{shown}");
        assert!(shown.contains("port"), "{shown}");
    }
}
