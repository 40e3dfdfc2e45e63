//! Docker config secrets (`kubernetes.io/dockerconfigjson`, `kubernetes.io/dockercfg`) and how
//! Flux picks an entry for a registry.
//!
//! Parsing follows go-containerregistry's `authn.AuthConfig`, matching follows the kubelet
//! keyring that Flux's `generic` provider uses (flux-scanning-and-policy §3.2):
//!
//! 1. Each key is normalized: `https://` is prefixed unless a scheme is there; host and path are
//!    kept; a leading `/v1/` or `/v2/` becomes `/`; an empty or `/` path leaves the host alone.
//!    `https://index.docker.io/v1/` becomes `index.docker.io`.
//! 2. Keys are sorted descending, so longer (more specific) keys come first.
//! 3. A target `registry/repository` matches a key when the ports are equal, the hosts have as
//!    many dot-labels and each key label glob-matches (`*.azurecr.io`), and the target's path
//!    starts with the key's. The **first** matching key wins; no match means anonymous.
//!
//! Docker Hub images have the canonical registry `index.docker.io`, so a key written
//! `docker.io` does not match them in Flux (two labels against three). imagebump keeps that
//! rule; [`MatchOptions::docker_hub_aliases`] is an opt-in fallback, and
//! [`DockerConfig::docker_hub_alias_keys`] lets the daemon warn about such keys.
//!
//! Deliberate differences from Flux, each only where Flux is nondeterministic or loses
//! information:
//! - Two keys that normalize alike (`ghcr.io` and `https://ghcr.io/v2/`) are tried in the byte
//!   order of the keys as written; Flux takes Go's random map order.
//! - Errors name the offending key (user info removed, truncated) and, for JSON syntax errors, the
//!   line and column; they never echo the input.

mod key;
#[cfg(test)]
mod tests;

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use serde_json::{Map, Value};

use crate::util::truncated;
use crate::{Credential, Secret};

use key::Split;

/// The canonical Docker Hub registry, as image references resolve it.
const DOCKER_HUB: &str = "index.docker.io";
/// Hosts people write for Docker Hub that Flux's matching does not connect to `index.docker.io`.
const DOCKER_HUB_ALIASES: [&str; 2] = ["docker.io", "registry-1.docker.io"];

/// Which of the two Kubernetes docker-config layouts a document uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// `kubernetes.io/dockerconfigjson`, data key `.dockerconfigjson`: `{"auths": {KEY: {…}}}`.
    DockerConfigJson,
    /// `kubernetes.io/dockercfg`, data key `.dockercfg`: the `auths` map at the top level.
    DockerCfg,
}

impl Format {
    /// The format for a Kubernetes Secret `type`, if it is one of the two.
    #[must_use]
    pub fn from_secret_type(secret_type: &str) -> Option<Self> {
        match secret_type {
            "kubernetes.io/dockerconfigjson" => Some(Self::DockerConfigJson),
            "kubernetes.io/dockercfg" => Some(Self::DockerCfg),
            _ => None,
        }
    }

    /// The Kubernetes Secret `type`.
    #[must_use]
    pub fn secret_type(self) -> &'static str {
        match self {
            Self::DockerConfigJson => "kubernetes.io/dockerconfigjson",
            Self::DockerCfg => "kubernetes.io/dockercfg",
        }
    }

    /// The key in the Secret's `data` that holds the document.
    #[must_use]
    pub fn data_key(self) -> &'static str {
        match self {
            Self::DockerConfigJson => ".dockerconfigjson",
            Self::DockerCfg => ".dockercfg",
        }
    }
}

/// Why a docker config document could not be parsed.
///
/// Every variant names the registry key it is about (user info removed, truncated) and never a
/// username, password, token or any other part of the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The document is not JSON.
    #[error("docker config is not valid JSON: {reason} at line {line}, column {column}")]
    InvalidJson {
        /// `serde_json`'s description of the syntax error, which never quotes the input.
        reason: String,
        /// 1-based line of the error.
        line: usize,
        /// 1-based column of the error.
        column: usize,
    },
    /// The document is JSON but not an object.
    #[error("docker config must be a JSON object, found {found}")]
    TopLevelNotAnObject {
        /// The JSON type found (`an array`, `a string`, …).
        found: &'static str,
    },
    /// `auths` is neither an object nor `null`.
    #[error("docker config field `auths` must be a JSON object, found {found}")]
    AuthsNotAnObject {
        /// The JSON type found.
        found: &'static str,
    },
    /// An entry is neither an object nor `null`.
    #[error("docker config entry {key:?} must be a JSON object, found {found}")]
    EntryNotAnObject {
        /// The registry key.
        key: String,
        /// The JSON type found.
        found: &'static str,
    },
    /// A field of an entry is neither a string nor `null`.
    #[error("docker config entry {key:?}: field `{field}` must be a string, found {found}")]
    FieldNotAString {
        /// The registry key.
        key: String,
        /// The field (`username`, `auth`, …).
        field: &'static str,
        /// The JSON type found.
        found: &'static str,
    },
    /// `auth` is not base64 (padded or not).
    #[error("docker config entry {key:?}: field `auth` is not valid base64")]
    InvalidBase64 {
        /// The registry key.
        key: String,
    },
    /// `auth` decodes to bytes that are not UTF-8.
    #[error("docker config entry {key:?}: field `auth` does not decode to UTF-8 text")]
    AuthNotUtf8 {
        /// The registry key.
        key: String,
    },
    /// `auth` decodes to text without the `:` between username and password.
    #[error(
        "docker config entry {key:?}: field `auth` must be base64 of `username:password`, but has no colon"
    )]
    AuthWithoutColon {
        /// The registry key.
        key: String,
    },
    /// The key is not a registry address Go's `url.Parse` accepts (Flux rejects the whole
    /// secret then, and so does imagebump).
    #[error("docker config key {key:?} is not a valid registry address: {reason}")]
    InvalidKey {
        /// The registry key.
        key: String,
        /// What is wrong with it.
        reason: &'static str,
    },
}

impl Error {
    /// Always `false`: the document has to change before parsing it again can succeed.
    #[must_use]
    pub fn is_transient(&self) -> bool {
        false
    }
}

/// Options for [`DockerConfig::lookup_with`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct MatchOptions {
    /// When no key matches a Docker Hub image (`index.docker.io`), try again as if the image
    /// were on `docker.io`, then on `registry-1.docker.io`, so that keys written with those hosts
    /// apply. Off by default: Flux ignores such keys, and turning this on could send a stale
    /// credential where Flux pulls anonymously.
    pub docker_hub_aliases: bool,
}

impl MatchOptions {
    /// Sets [`MatchOptions::docker_hub_aliases`].
    #[must_use]
    pub fn docker_hub_aliases(self, enabled: bool) -> Self {
        Self {
            docker_hub_aliases: enabled,
        }
    }
}

/// The entry [`DockerConfig::lookup`] chose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Match<'a> {
    /// The key as written in the document.
    pub key: &'a str,
    /// The key after normalization (`https://index.docker.io/v1/` → `index.docker.io`).
    pub normalized_key: &'a str,
    /// The entry's credential.
    pub credential: &'a Credential,
    /// Whether the match came from the [`MatchOptions::docker_hub_aliases`] fallback.
    pub via_docker_hub_alias: bool,
}

/// One parsed entry.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    key: String,
    normalized_key: String,
    /// The normalized key split for matching; `None` when Go could not re-parse it (then it
    /// never matches, as in Flux).
    pattern: Option<Split>,
    credential: Credential,
}

/// A parsed docker config: registry keys with their credentials, in Flux's matching order.
///
/// ```
/// use imagebump_auth::{Credential, docker_config::DockerConfig};
///
/// let config = DockerConfig::parse_dockerconfigjson(br#"{"auths": {
///     "*.azurecr.io": {"identitytoken": "refresh-token"},
///     "https://index.docker.io/v1/": {"auth": "dXNlcjpwYXNz"}
/// }}"#)?;
/// let hub = config.lookup("index.docker.io", "library/alpine").unwrap();
/// assert_eq!(hub.credential, &Credential::basic("user", "pass"));
/// assert!(config.lookup("team.azurecr.io", "app").is_some());
/// assert!(config.lookup("ghcr.io", "org/app").is_none());
/// # Ok::<(), imagebump_auth::docker_config::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DockerConfig {
    /// Sorted by normalized key, descending; ties keep their insertion order.
    entries: Vec<Entry>,
}

impl DockerConfig {
    /// Parses a document of either format.
    pub fn parse(format: Format, json: &[u8]) -> Result<Self, Error> {
        let value: Value = serde_json::from_slice(json).map_err(|e| json_error(&e))?;
        let mut top = match value {
            Value::Object(top) => top,
            other => return Err(Error::TopLevelNotAnObject { found: kind(&other) }),
        };
        let auths = match format {
            Format::DockerCfg => top,
            Format::DockerConfigJson => match field_name(&top, "auths").and_then(|name| top.remove(&name)) {
                None | Some(Value::Null) => Map::new(),
                Some(Value::Object(auths)) => auths,
                Some(other) => return Err(Error::AuthsNotAnObject { found: kind(&other) }),
            },
        };
        let mut entries = auths
            .iter()
            .map(|(key, value)| parse_entry(key, value))
            .collect::<Result<Vec<_>, _>>()?;
        // Keys as written, in byte order, break ties between keys that normalize alike (Go
        // leaves them in random map order); `Map`'s own order depends on serde_json features.
        entries.sort_by(|a, b| a.key.cmp(&b.key));
        let mut config = Self { entries };
        config.sort();
        Ok(config)
    }

    /// Parses a `.dockerconfigjson` document: `{"auths": {KEY: {…}}}`.
    pub fn parse_dockerconfigjson(json: &[u8]) -> Result<Self, Error> {
        Self::parse(Format::DockerConfigJson, json)
    }

    /// Parses a legacy `.dockercfg` document: `{KEY: {…}}`.
    pub fn parse_dockercfg(json: &[u8]) -> Result<Self, Error> {
        Self::parse(Format::DockerCfg, json)
    }

    /// Adds the entries of `other` after this config's own, as Flux merges `secretRef` with the
    /// service account's pull secrets: sorting is by normalized key, and among equal keys the
    /// earlier source wins.
    pub fn merge(&mut self, other: DockerConfig) {
        self.entries.extend(other.entries);
        self.sort();
    }

    /// The entry Flux would use for `repository` on `registry`, or `None` (anonymous).
    #[must_use]
    pub fn lookup(&self, registry: &str, repository: &str) -> Option<Match<'_>> {
        self.lookup_with(registry, repository, MatchOptions::default())
    }

    /// [`DockerConfig::lookup`], with imagebump's optional extra rules.
    #[must_use]
    pub fn lookup_with(&self, registry: &str, repository: &str, options: MatchOptions) -> Option<Match<'_>> {
        if let Some(found) = self.first_match(registry, repository) {
            return Some(found);
        }
        if options.docker_hub_aliases && registry == DOCKER_HUB {
            for alias in DOCKER_HUB_ALIASES {
                if let Some(found) = self.first_match(alias, repository) {
                    return Some(Match {
                        via_docker_hub_alias: true,
                        ..found
                    });
                }
            }
        }
        None
    }

    /// The credential for `repository` on `registry`: the matching entry's, or anonymous.
    #[must_use]
    pub fn credential(&self, registry: &str, repository: &str, options: MatchOptions) -> Credential {
        self.lookup_with(registry, repository, options)
            .map_or(Credential::Anonymous, |found| found.credential.clone())
    }

    /// The normalized keys, in the order they are tried.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|entry| entry.normalized_key.as_str())
    }

    /// Keys as written whose host is `docker.io` or `registry-1.docker.io` (any path, no port):
    /// Flux never uses them for Docker Hub images, whose registry is `index.docker.io`. The daemon
    /// warns about them, suggesting `index.docker.io` or [`MatchOptions::docker_hub_aliases`].
    pub fn docker_hub_alias_keys(&self) -> impl Iterator<Item = &str> {
        self.entries
            .iter()
            .filter(|entry| {
                entry.pattern.as_ref().is_some_and(|pattern| {
                    pattern.port().is_empty() && DOCKER_HUB_ALIASES.contains(&pattern.host().as_str())
                })
            })
            .map(|entry| entry.key.as_str())
    }

    /// The number of entries.
    #[must_use]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no entries (every lookup is anonymous).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn sort(&mut self) {
        // Stable, so equal normalized keys keep document order, then merge order.
        self.entries
            .sort_by(|a, b| b.normalized_key.cmp(&a.normalized_key));
    }

    fn first_match(&self, registry: &str, repository: &str) -> Option<Match<'_>> {
        // Flux matches against `<registry>/<repository>` parsed as a URL; one that Go cannot
        // parse matches nothing.
        let target = Split::parse(&format!("{registry}/{repository}"))?;
        self.entries
            .iter()
            .find(|entry| {
                entry
                    .pattern
                    .as_ref()
                    .is_some_and(|pattern| pattern.matches(&target))
            })
            .map(|entry| Match {
                key: &entry.key,
                normalized_key: &entry.normalized_key,
                credential: &entry.credential,
                via_docker_hub_alias: false,
            })
    }
}

fn parse_entry(key: &str, value: &Value) -> Result<Entry, Error> {
    let normalized_key = key::normalize(key).map_err(|reason| Error::InvalidKey {
        key: shown_key(key),
        reason,
    })?;
    let credential = match value {
        // Go decodes `null` into an empty AuthConfig: the key matches and means anonymous.
        Value::Null => Credential::Anonymous,
        Value::Object(fields) => entry_credential(key, fields)?,
        other => {
            return Err(Error::EntryNotAnObject {
                key: shown_key(key),
                found: kind(other),
            });
        }
    };
    Ok(Entry {
        key: key.to_owned(),
        pattern: Split::parse(&normalized_key),
        normalized_key,
        credential,
    })
}

/// The credential of one entry, chosen as go-containerregistry's transport does: a
/// `registrytoken` is used as is, else an `identitytoken` is exchanged, else username and
/// password (from `auth` when present) are sent; an entry with none of these is anonymous.
fn entry_credential(key: &str, fields: &Map<String, Value>) -> Result<Credential, Error> {
    let text = |name: &'static str| -> Result<String, Error> {
        match field(fields, name) {
            None | Some(Value::Null) => Ok(String::new()),
            Some(Value::String(text)) => Ok(text.clone()),
            Some(other) => Err(Error::FieldNotAString {
                key: shown_key(key),
                field: name,
                found: kind(other),
            }),
        }
    };
    let (registry_token, identity_token) = (text("registrytoken")?, text("identitytoken")?);
    let (mut username, mut password) = (text("username")?, text("password")?);
    let auth = text("auth")?;
    if !auth.is_empty() {
        (username, password) = decode_auth(key, &auth)?;
    }
    // Anything else (`email`, `serveraddress`, …) is ignored, whatever its type, as in Go.
    Ok(if !registry_token.is_empty() {
        Credential::RegistryToken(Secret::new(registry_token))
    } else if !identity_token.is_empty() {
        Credential::IdentityToken(Secret::new(identity_token))
    } else if !username.is_empty() || !password.is_empty() {
        Credential::Basic {
            username,
            password: Secret::new(password),
        }
    } else {
        Credential::Anonymous
    })
}

/// Decodes `auth`, base64 of `username:password`, padded or not (Go's
/// `decodeDockerConfigFieldAuth`). Like Go's decoder, line breaks are skipped and stray low bits
/// in the last character are tolerated.
fn decode_auth(key: &str, auth: &str) -> Result<(String, String), Error> {
    const ENGINE: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new()
            .with_decode_padding_mode(DecodePaddingMode::Indifferent)
            .with_decode_allow_trailing_bits(true),
    );
    let compact: String = auth.chars().filter(|c| !matches!(c, '\r' | '\n')).collect();
    let bytes = ENGINE
        .decode(compact)
        .map_err(|_| Error::InvalidBase64 { key: shown_key(key) })?;
    let text = String::from_utf8(bytes).map_err(|_| Error::AuthNotUtf8 { key: shown_key(key) })?;
    let (username, password) = text
        .split_once(':')
        .ok_or_else(|| Error::AuthWithoutColon { key: shown_key(key) })?;
    Ok((username.to_owned(), password.to_owned()))
}

/// A field by name; like Go's `encoding/json`, an exact match first, then one that differs only
/// in ASCII case (`Username`, `IdentityToken`).
fn field<'a>(fields: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    fields.get(&field_name(fields, name)?)
}

/// The name under which [`field`] finds `name`.
fn field_name(fields: &Map<String, Value>, name: &str) -> Option<String> {
    if fields.contains_key(name) {
        return Some(name.to_owned());
    }
    fields
        .keys()
        .find(|candidate| candidate.eq_ignore_ascii_case(name))
        .cloned()
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A key fit for an error message: user info (`user:password@`) replaced, then truncated.
fn shown_key(key: &str) -> String {
    let start = key.find("://").map_or(0, |scheme| scheme + 3);
    let end = key[start..]
        .find(['/', '?', '#'])
        .map_or(key.len(), |offset| start + offset);
    match key[start..end].rfind('@') {
        Some(at) => truncated(&format!("{}<redacted>@{}", &key[..start], &key[start + at + 1..])),
        None => truncated(key),
    }
}

/// A JSON syntax error as position plus `serde_json`'s reason. `serde_json`'s syntax messages are
/// fixed phrases ("expected `,` or `}`"); anything else gets a generic reason, so no part of the
/// input can leak through a message.
fn json_error(error: &serde_json::Error) -> Error {
    use serde_json::error::Category;
    let reason = match error.classify() {
        Category::Syntax | Category::Eof => {
            let message = error.to_string();
            let suffix = format!(" at line {} column {}", error.line(), error.column());
            message.strip_suffix(&suffix).unwrap_or(&message).to_owned()
        }
        Category::Data | Category::Io => "unreadable JSON".to_owned(),
    };
    Error::InvalidJson {
        reason,
        line: error.line(),
        column: error.column(),
    }
}
