//! Commit messages: the data Flux gives a `messageTemplate`, and the default message.
//!
//! Both generations of Flux's template data are offered, so templates written for either keep
//! working (current Flux refuses `.Updated`; the seed document and many repositories use it):
//!
//! * v1: `.AutomationObject`, `.Changed.FileChanges`, `.Changed.Objects`, `.Changed.Changes`
//!   (`.OldValue`, `.NewValue`, `.Setter`), `.Values`;
//! * v1beta1: `.Updated.Files`, `.Updated.Objects`, `.Updated.Images`, where an image prints
//!   as its full reference and has `.Identifier`, `.Repository`, `.Registry`, `.Name`,
//!   `.Policy`.

use std::collections::BTreeMap;

use crate::result::{Change, LatestImage, ObjectId, Policies, UpdateResult};
use crate::template::{ExecError, Map, Struct, Template, Value};

/// Flux's message when `messageTemplate` is empty.
pub const DEFAULT_MESSAGE: &str = "Update from image update automation";

/// Everything a commit message may mention.
#[derive(Debug, Clone, Copy)]
pub struct MessageData<'a> {
    /// The automation's namespace.
    pub namespace: &'a str,
    /// The automation's name.
    pub name: &'a str,
    /// What the update changed.
    pub result: &'a UpdateResult,
    /// The policies' latest images (for `.Updated.Images`).
    pub policies: &'a Policies,
    /// `spec.git.commit.messageTemplateValues`.
    pub values: &'a BTreeMap<String, String>,
}

/// Renders the commit message: the template with Flux's data, or [`DEFAULT_MESSAGE`].
pub fn render(template: Option<&Template>, data: &MessageData<'_>) -> Result<String, ExecError> {
    match template {
        Some(template) => template.render(&template_data(data)),
        None => Ok(DEFAULT_MESSAGE.to_owned()),
    }
}

/// The root value a template sees as `.`.
#[must_use]
pub fn template_data(data: &MessageData<'_>) -> Value {
    let automation = Struct::new("NamespacedName")
        .field("Namespace", data.namespace)
        .field("Name", data.name)
        .display(format!("{}/{}", data.namespace, data.name));
    Value::Struct(
        Struct::new("TemplateData")
            .field("AutomationObject", Value::Struct(automation))
            .field("Changed", changed(data.result))
            .field("Updated", updated(data.result, data.policies))
            .field("Values", Value::Map(Map::strings(data.values.clone()))),
    )
}

/// `.Changed`: v1's `update.Result`.
fn changed(result: &UpdateResult) -> Value {
    let mut files = Map::with_zero(Value::Nil);
    for (file, objects) in &result.files {
        let mut per_object = Map::with_zero(Value::Nil);
        for (object, changes) in objects {
            per_object.insert(
                object_value(object),
                Value::List(changes.iter().map(change_value).collect()),
            );
        }
        files.insert(Value::from(file.as_str()), Value::Map(per_object));
    }
    let mut objects = Map::with_zero(Value::Nil);
    for (object, changes) in result.objects() {
        objects.insert(
            object_value(object),
            Value::List(changes.into_iter().map(change_value).collect()),
        );
    }
    let changes = Value::List(result.changes().into_iter().map(change_value).collect());
    Value::Struct(
        Struct::new("Result")
            .field("FileChanges", Value::Map(files))
            .field("Objects", Value::Map(objects))
            .field("Changes", changes),
    )
}

/// `.Updated`: v1beta1's result, images per object.
fn updated(result: &UpdateResult, policies: &Policies) -> Value {
    let image_of = |change: &Change| -> Option<Value> {
        let policy = change.setter.splitn(3, ':').take(2).collect::<Vec<_>>().join(":");
        policies.get(&policy).map(|latest| image_value(&policy, latest))
    };
    let mut files = Map::with_zero(Value::Nil);
    let mut objects = Map::with_zero(Value::Nil);
    let mut images: Vec<Value> = Vec::new();
    for (file, file_objects) in &result.files {
        let mut per_object = Map::with_zero(Value::Nil);
        for (object, changes) in file_objects {
            let mut refs: Vec<Value> = Vec::new();
            for image in changes.iter().filter_map(image_of) {
                if !refs.contains(&image) {
                    refs.push(image.clone());
                }
                if !images.contains(&image) {
                    images.push(image);
                }
            }
            per_object.insert(object_value(object), Value::List(refs.clone()));
            let key = object_value(object);
            let merged = match objects.get(&key) {
                Some(Value::List(existing)) => {
                    let mut all = existing.clone();
                    all.extend(refs.into_iter().filter(|r| !existing.contains(r)));
                    all
                }
                _ => refs,
            };
            objects.insert(key, Value::List(merged));
        }
        files.insert(
            Value::from(file.as_str()),
            Value::Struct(Struct::new("FileResult").field("Objects", Value::Map(per_object))),
        );
    }
    Value::Struct(
        Struct::new("ResultV1")
            .field("Files", Value::Map(files))
            .field("Objects", Value::Map(objects))
            .field("Images", Value::List(images)),
    )
}

fn object_value(object: &ObjectId) -> Value {
    Value::Struct(
        Struct::new("ObjectIdentifier")
            .field("APIVersion", object.api_version.as_str())
            .field("Kind", object.kind.as_str())
            .field("Name", object.name.as_str())
            .field("Namespace", object.namespace.as_str()),
    )
}

fn change_value(change: &Change) -> Value {
    Value::Struct(
        Struct::new("Change")
            .field("OldValue", change.old_value.as_str())
            .field("NewValue", change.new_value.as_str())
            .field("Setter", change.setter.as_str()),
    )
}

/// An image reference as v1beta1 templates saw it (go-containerregistry's `name.Reference`
/// behind Flux's `ImageRef`): prints as written, `.Name` fully qualified.
fn image_value(policy: &str, latest: &LatestImage) -> Value {
    let (registry, repository) = split_registry(&latest.name);
    let identifier = if latest.digest.is_empty() {
        latest.tag.clone()
    } else {
        latest.digest.clone()
    };
    let delimiter = if latest.digest.is_empty() { ":" } else { "@" };
    let (namespace, name) = policy.split_once(':').unwrap_or(("", policy));
    Value::Struct(
        Struct::new("ImageRef")
            .field("Identifier", identifier.as_str())
            .field("Repository", repository.as_str())
            .field("Registry", registry.as_str())
            .field("Name", format!("{registry}/{repository}{delimiter}{identifier}"))
            .field("Policy", format!("{namespace}/{name}"))
            .display(latest.full()),
    )
}

/// Docker's rules: the first path element is a registry only if it has a `.` or `:` or is
/// `localhost`; Docker Hub is `index.docker.io` and one-element names get `library/`. (The
/// registry crate applies the same rules to `spec.image`; the writer does not depend on it.)
fn split_registry(name: &str) -> (String, String) {
    match name.split_once('/') {
        Some((first, rest)) if first.contains('.') || first.contains(':') || first == "localhost" => {
            let registry = if first == "docker.io" {
                "index.docker.io"
            } else {
                first
            };
            (registry.to_owned(), rest.to_owned())
        }
        Some(_) => ("index.docker.io".to_owned(), name.to_owned()),
        None => ("index.docker.io".to_owned(), format!("library/{name}")),
    }
}

#[cfg(test)]
mod tests;
