//! Serde mirrors of the Flux objects, field for field. `image.toolkit.fluxcd.io` v1beta1,
//! v1beta2 and v1 spell the fields this module reads identically, so one type serves all three.

use anyhow::{Context, bail};
use serde::Deserialize;

/// The API group of image policies and repositories.
pub const IMAGE_GROUP: &str = "image.toolkit.fluxcd.io";
/// The API versions of that group imagebump reads.
pub const IMAGE_VERSIONS: [&str; 3] = ["v1beta1", "v1beta2", "v1"];

/// Only what every Kubernetes object carries, to see what a document is.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TypeMeta {
    #[serde(default)]
    api_version: String,
    #[serde(default)]
    kind: String,
}

/// `metadata` as imagebump uses it.
#[derive(Debug, Clone, Deserialize)]
pub struct ObjectMeta {
    /// `metadata.name`.
    pub name: String,
    /// `metadata.namespace`; the daemon's default namespace when absent.
    #[serde(default)]
    pub namespace: Option<String>,
}

impl ObjectMeta {
    /// `namespace/name`, or just `name` when the object names no namespace.
    #[must_use]
    pub fn key(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{ns}/{}", self.name),
            None => self.name.clone(),
        }
    }
}

/// `ImagePolicy`.
#[derive(Debug, Clone, Deserialize)]
pub struct ImagePolicy {
    /// `metadata`.
    pub metadata: ObjectMeta,
    /// `spec`.
    pub spec: ImagePolicySpec,
}

/// `ImagePolicy.spec`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImagePolicySpec {
    /// `spec.policy`.
    pub policy: PolicyChoice,
    /// `spec.filterTags`.
    #[serde(default)]
    pub filter_tags: Option<FilterTags>,
}

/// `spec.policy`: one of the three rules.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct PolicyChoice {
    /// `semver: { range }`.
    pub semver: Option<SemverPolicy>,
    /// `alphabetical: { order }`.
    pub alphabetical: Option<OrderPolicy>,
    /// `numerical: { order }`.
    pub numerical: Option<OrderPolicy>,
}

/// `spec.policy.semver`.
#[derive(Debug, Clone, Deserialize)]
pub struct SemverPolicy {
    /// A Masterminds semver range.
    pub range: String,
}

/// `spec.policy.alphabetical` or `spec.policy.numerical`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct OrderPolicy {
    /// `asc` (default) or `desc`.
    #[serde(default)]
    pub order: String,
}

/// `spec.filterTags`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct FilterTags {
    /// Regular expression searched for in each tag; empty matches every tag.
    #[serde(default)]
    pub pattern: String,
    /// Template for the value to compare (`$1`, `$name`); empty compares the tag.
    #[serde(default)]
    pub extract: String,
}

/// Every `ImagePolicy` document in `text`, in order. Other kinds are skipped; an
/// `ImagePolicy` of an unknown API version is an error.
pub fn image_policies(text: &str) -> anyhow::Result<Vec<ImagePolicy>> {
    let mut out = Vec::new();
    for (index, document) in yaml_serde::Deserializer::from_str(text).enumerate() {
        let value = yaml_serde::Value::deserialize(document)
            .with_context(|| format!("document {}: not valid YAML", index + 1))?;
        if value.is_null() {
            continue;
        }
        let meta: TypeMeta = yaml_serde::from_value(value.clone())
            .with_context(|| format!("document {}: not a Kubernetes-style object", index + 1))?;
        if meta.kind != "ImagePolicy" {
            continue;
        }
        let version = meta
            .api_version
            .strip_prefix(IMAGE_GROUP)
            .and_then(|v| v.strip_prefix('/'));
        if !version.is_some_and(|v| IMAGE_VERSIONS.contains(&v)) {
            bail!(
                "document {}: ImagePolicy with apiVersion {:?}; expected {IMAGE_GROUP}/ followed by one of {}",
                index + 1,
                meta.api_version,
                IMAGE_VERSIONS.join(", ")
            );
        }
        let name = value
            .get("metadata")
            .and_then(|m| m.get("name"))
            .and_then(yaml_serde::Value::as_str)
            .unwrap_or("<unnamed>")
            .to_owned();
        // Deserialise the document again from the text (not from the `Value`) so that an error
        // carries its line and column.
        let again = yaml_serde::Deserializer::from_str(text)
            .nth(index)
            .context("the document vanished on the second read")?;
        let policy = ImagePolicy::deserialize(again)
            .with_context(|| format!("document {}: ImagePolicy {name}", index + 1))?;
        out.push(policy);
    }
    Ok(out)
}
