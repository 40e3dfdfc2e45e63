//! Kubernetes `Secret` objects as files: `data` (base64) and `stringData`, and the keys the
//! image objects read from them.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, bail};
use base64::Engine;
use imagebump_auth::docker_config::Format;
use serde::Deserialize;

/// A `Secret` (`v1`): its type and decoded values.
#[derive(Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Secret {
    /// `metadata`.
    pub metadata: super::raw::ObjectMeta,
    /// `type`, e.g. `kubernetes.io/dockerconfigjson`.
    #[serde(default, rename = "type")]
    pub kind: String,
    #[serde(default)]
    data: BTreeMap<String, String>,
    #[serde(default)]
    string_data: BTreeMap<String, String>,
}

impl std::fmt::Debug for Secret {
    /// Names the keys, never the values.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Secret")
            .field("metadata", &self.metadata.key())
            .field("type", &self.kind)
            .field(
                "keys",
                &self
                    .data
                    .keys()
                    .chain(self.string_data.keys())
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl Secret {
    /// A `Secret` from its parts (`data` still base64-encoded).
    #[must_use]
    pub fn from_parts(
        metadata: super::raw::ObjectMeta,
        kind: String,
        data: BTreeMap<String, String>,
        string_data: BTreeMap<String, String>,
    ) -> Self {
        Secret {
            metadata,
            kind,
            data,
            string_data,
        }
    }

    /// The value of `key`, from `stringData` (which wins, as in Kubernetes) or `data`.
    pub fn get(&self, key: &str) -> anyhow::Result<Option<Vec<u8>>> {
        if let Some(text) = self.string_data.get(key) {
            return Ok(Some(text.as_bytes().to_vec()));
        }
        let Some(encoded) = self.data.get(key) else {
            return Ok(None);
        };
        let cleaned: String = encoded.split_whitespace().collect();
        base64::engine::general_purpose::STANDARD
            .decode(cleaned)
            .map(Some)
            .with_context(|| format!("Secret {}: data.{key} is not valid base64", self.metadata.key()))
    }
}

/// Reads registry credentials from a file that is either a `Secret` YAML (as
/// `kubectl create secret docker-registry --dry-run=client -o yaml` writes) or a plain docker
/// `config.json`.
pub fn load_docker_config(path: &Path) -> anyhow::Result<(Vec<u8>, Format)> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    if text.trim_start().starts_with('{') {
        return Ok((text.into_bytes(), Format::DockerConfigJson));
    }
    let secret: Secret = yaml_serde::from_str(&text)
        .with_context(|| format!("{}: neither a docker config.json nor a Secret", path.display()))?;
    docker_config_of(&secret).with_context(|| format!("{}", path.display()))
}

/// The docker config in a registry `Secret`.
pub fn docker_config_of(secret: &Secret) -> anyhow::Result<(Vec<u8>, Format)> {
    for format in [Format::DockerConfigJson, Format::DockerCfg] {
        if let Some(document) = secret.get(format.data_key())? {
            return Ok((document, format));
        }
    }
    bail!(
        "Secret {} (type {:?}) has neither .dockerconfigjson nor .dockercfg; \
         create it with `kubectl create secret docker-registry`",
        secret.metadata.key(),
        secret.kind
    )
}
