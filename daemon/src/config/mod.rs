//! Reading Flux objects from YAML files.
//!
//! The raw stage (`raw`) mirrors Flux's field names for every served API version; turning a
//! raw object into something runnable (a compiled [`imagebump_policy::Policy`]) happens here,
//! and every error names the file, the object and the field.

pub mod duration;
pub mod raw;
pub mod secret;

use std::path::Path;

use anyhow::{Context, bail};
use imagebump_policy::Policy;

use raw::ImagePolicy;

/// Compiles an `ImagePolicy`'s `policy` and `filterTags`.
///
/// As in Flux, when several of `semver`, `alphabetical` and `numerical` are set, the first in
/// that order wins; when none is, the policy is invalid.
pub fn compile_policy(object: &ImagePolicy) -> anyhow::Result<Policy> {
    let spec = &object.spec;
    let policy = if let Some(semver) = &spec.policy.semver {
        Policy::semver(&semver.range).context("spec.policy.semver.range")?
    } else if let Some(alphabetical) = &spec.policy.alphabetical {
        Policy::alphabetical(&alphabetical.order).context("spec.policy.alphabetical.order")?
    } else if let Some(numerical) = &spec.policy.numerical {
        Policy::numerical(&numerical.order).context("spec.policy.numerical.order")?
    } else {
        bail!("spec.policy: set one of semver, alphabetical or numerical");
    };
    match &spec.filter_tags {
        Some(filter) => policy
            .with_filter(&filter.pattern, &filter.extract)
            .context("spec.filterTags.pattern"),
        None => Ok(policy),
    }
}

/// Reads the `ImagePolicy` objects of a (possibly multi-document) YAML file. With `name`,
/// picks that one; without, the file must hold exactly one.
pub fn load_image_policy(path: &Path, name: Option<&str>) -> anyhow::Result<ImagePolicy> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let policies = raw::image_policies(&text).with_context(|| format!("{}", path.display()))?;
    let mut matching: Vec<ImagePolicy> = policies
        .into_iter()
        .filter(|p| name.is_none_or(|n| p.metadata.name == n))
        .collect();
    match (matching.len(), name) {
        (1, _) => Ok(matching.remove(0)),
        (0, Some(n)) => bail!("{}: no ImagePolicy named {n:?}", path.display()),
        (0, None) => bail!("{}: no ImagePolicy in this file", path.display()),
        (_, _) => bail!(
            "{}: {} ImagePolicy objects; choose one with --name ({})",
            path.display(),
            matching.len(),
            matching
                .iter()
                .map(|p| p.metadata.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}
