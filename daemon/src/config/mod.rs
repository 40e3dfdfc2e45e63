//! Reading Flux objects from YAML files.
//!
//! The raw stage (`raw`) mirrors Flux's field names for every served API version; turning a
//! raw object into something runnable (a compiled [`imagebump_policy::Policy`]) happens here,
//! and every error names the file, the object and the field.

pub mod diagnostic;
pub mod duration;
pub mod file;
pub mod kinds;
pub mod objects;
pub mod raw;
pub mod resolved;
pub mod secret;
pub mod yaml;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

pub use diagnostic::Diagnostic;
pub use file::Config;
pub use resolved::{NamespacedName, Objects};

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

/// The outcome of loading every object: what could be used and every problem found.
#[derive(Debug, Default)]
pub struct Loaded {
    /// The usable objects (an object with an error is left out; the others stay).
    pub objects: Objects,
    /// Every error and warning, sorted by file and position.
    pub diagnostics: Vec<Diagnostic>,
    /// How many documents were objects of the kinds imagebump reads.
    pub documents: usize,
    /// Every object found in the files, valid or not: an object missing from `objects` but
    /// declared here is broken, not deleted, and keeps its state.
    pub declared: BTreeSet<(objects::Kind, NamespacedName)>,
}

impl Loaded {
    /// How many problems are errors.
    #[must_use]
    pub fn errors(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.is_error()).count()
    }

    /// How many problems are warnings.
    #[must_use]
    pub fn warnings(&self) -> usize {
        self.diagnostics.len() - self.errors()
    }
}

/// The YAML files of `config.objects`: files as listed, directories walked recursively
/// (`*.yaml` and `*.yml`, hidden entries skipped), sorted within each directory.
pub fn object_files(config: &Config, diagnostics: &mut Vec<Diagnostic>) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for (path, mark) in &config.objects {
        if path.is_dir() {
            walk(path, &mut files, diagnostics);
        } else if path.is_file() {
            files.push(path.clone());
        } else {
            diagnostics.push(Diagnostic::error(
                &config.path,
                Some(*mark),
                format!("objects: {} does not exist", path.display()),
            ));
        }
    }
    let mut seen = BTreeSet::new();
    files.retain(|f| seen.insert(f.clone()));
    files
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>, diagnostics: &mut Vec<Diagnostic>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => {
            diagnostics.push(Diagnostic::error(
                dir,
                None,
                format!("cannot read directory: {e}"),
            ));
            return;
        }
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
    paths.sort();
    for path in paths {
        let hidden = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with('.'));
        if hidden {
            continue;
        }
        if path.is_dir() {
            walk(&path, files, diagnostics);
        } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            files.push(path);
        }
    }
}

/// One document of a kind imagebump reads, after the raw stage.
struct RawObject {
    file: PathBuf,
    header: objects::Header,
    spec: resolved::RawSpec,
}

/// Loads and checks every object the config points at. One bad object never hides the
/// others: each problem is collected, and each usable object is returned.
#[must_use]
pub fn load_objects(config: &Config) -> Loaded {
    let mut loaded = Loaded::default();
    let files = object_files(config, &mut loaded.diagnostics);
    let mut raw_objects: Vec<RawObject> = Vec::new();
    for file in files {
        read_file(&file, config, &mut raw_objects, &mut loaded);
    }
    // Duplicates: the first definition wins, later ones are errors.
    let mut first: BTreeMap<(objects::Kind, NamespacedName), (PathBuf, yaml::Mark)> = BTreeMap::new();
    raw_objects.retain(|o| {
        let key = (o.header.kind, name_of(&o.header));
        if let Some((file, mark)) = first.get(&key) {
            loaded.diagnostics.push(
                Diagnostic::error(
                    &o.file,
                    Some(o.header.mark),
                    format!("duplicate: already defined at {}:{mark}", file.display()),
                )
                .for_object(&o.header.display()),
            );
            false
        } else {
            first.insert(key, (o.file.clone(), o.header.mark));
            true
        }
    });
    loaded.declared = first.into_keys().collect();
    let world = resolved::World {
        known: loaded.declared.clone(),
        git_refs: raw_objects
            .iter()
            .filter_map(|o| match &o.spec {
                resolved::RawSpec::GitRepository(s) => Some((name_of(&o.header), s.git_ref.clone())),
                _ => None,
            })
            .collect(),
        access_from: raw_objects
            .iter()
            .filter_map(|o| match &o.spec {
                resolved::RawSpec::ImageRepository(s) => Some((name_of(&o.header), s.access_from.clone())),
                _ => None,
            })
            .collect(),
        secrets_dir: config.secrets_dir.as_deref(),
    };
    for o in &raw_objects {
        let mut reader = objects::Reader::new(&o.file);
        reader.set_object(o.header.display());
        resolved::resolve(
            &mut reader,
            &world,
            &o.header,
            &o.spec,
            &o.file,
            &mut loaded.objects,
        );
        loaded.diagnostics.append(&mut reader.diagnostics);
    }
    Diagnostic::sort(&mut loaded.diagnostics);
    loaded
}

fn name_of(header: &objects::Header) -> NamespacedName {
    NamespacedName {
        namespace: header.namespace.value.clone(),
        name: header.name.value.clone(),
    }
}

/// The raw stage for one file: every document read, its problems recorded.
fn read_file(file: &Path, config: &Config, out: &mut Vec<RawObject>, loaded: &mut Loaded) {
    let text = match std::fs::read_to_string(file) {
        Ok(text) => text,
        Err(e) => {
            loaded
                .diagnostics
                .push(Diagnostic::error(file, None, format!("cannot read: {e}")));
            return;
        }
    };
    let documents = match yaml::parse(&text) {
        Ok(documents) => documents,
        Err(e) => {
            loaded.diagnostics.push(Diagnostic::error(
                file,
                Some(e.mark),
                format!("not valid YAML: {}", e.message),
            ));
            return;
        }
    };
    for root in &documents {
        let mut reader = objects::Reader::new(file);
        let header = objects::header(&mut reader, root, &config.default_namespace);
        if !matches!(header, Ok(None)) {
            loaded.documents += 1;
        }
        if let Ok(Some(header)) = header {
            use resolved::RawSpec;
            let spec = match header.kind {
                objects::Kind::ImageRepository => {
                    kinds::image_repository(&mut reader, root).map(|s| RawSpec::ImageRepository(Box::new(s)))
                }
                objects::Kind::ImagePolicy => {
                    kinds::image_policy(&mut reader, root).map(|s| RawSpec::ImagePolicy(Box::new(s)))
                }
                objects::Kind::ImageUpdateAutomation => kinds::image_update_automation(&mut reader, root)
                    .map(|s| RawSpec::ImageUpdateAutomation(Box::new(s))),
                objects::Kind::GitRepository => {
                    kinds::git_repository(&mut reader, root).map(RawSpec::GitRepository)
                }
                objects::Kind::Receiver => kinds::receiver(&mut reader, root).map(RawSpec::Receiver),
                objects::Kind::Secret => Some(RawSpec::Secret(kinds::secret(&mut reader, root))),
            };
            if let Some(spec) = spec {
                out.push(RawObject {
                    file: file.to_path_buf(),
                    header,
                    spec,
                });
            }
        }
        loaded.diagnostics.append(&mut reader.diagnostics);
    }
}
