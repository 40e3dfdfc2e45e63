//! Marker comments, `# {"$imagepolicy": "ns:policy[:tag|:name|:digest]"}`, read the way
//! kyaml's `fieldmeta` reads them for Flux, and the setter they name resolved to a value.

use crate::result::{LatestImage, Policies};

use super::note::{InvalidMarker, NoteKind};

/// The JSON key of Flux's short-hand marker.
const SHORT_HAND: &str = "$imagepolicy";
/// The long form, `{"$ref": "#/definitions/io.k8s.cli.setters.NS:P"}`, is kyaml's setters2
/// mechanism underneath the short hand; Flux resolves it too (flux-automation.md §3.2).
const REF_PREFIX: &str = "#/definitions/io.k8s.cli.setters.";

/// What one comment (or one head-comment block) says to the setters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Reading {
    /// An ordinary comment: nothing about markers in it.
    Unrelated,
    /// A marker naming this setter (not yet checked against the policies).
    Setter(String),
    /// Mentions `$imagepolicy` but Flux would not read it as a marker.
    Invalid(InvalidMarker),
}

/// Whether `comment` mentions a marker at all: the cheap test before any JSON parsing, and
/// the test for which unused comments deserve a note.
pub(crate) fn mentions_marker(comment: &str) -> bool {
    comment.contains(SHORT_HAND) || comment.contains("io.k8s.cli.setters.")
}

/// Reads `comment` (the text from its first `#`, possibly several lines joined with `\n` for
/// a head-comment block) as kyaml's `FieldMeta.Read` does: every leading `#` stripped, the rest
/// must be a JSON object whose values are all strings (Go's `json.Unmarshal` into
/// `map[string]string`, which tolerates surrounding whitespace and keeps the last of duplicate
/// keys), and `$imagepolicy` names the setter.
pub(crate) fn read(comment: &str) -> Reading {
    if !mentions_marker(comment) {
        return Reading::Unrelated;
    }
    let json = comment.trim_start_matches('#');
    let value: serde_json::Value = match serde_json::from_str(json) {
        Ok(value) => value,
        Err(_) => return Reading::Invalid(InvalidMarker::NotJson),
    };
    let serde_json::Value::Object(object) = value else {
        return Reading::Invalid(InvalidMarker::NotAnObject);
    };
    if let Some((key, _)) = object.iter().find(|(_, v)| !v.is_string()) {
        return Reading::Invalid(InvalidMarker::NonStringValue {
            key: super::truncate(key, 40),
        });
    }
    let string = |key: &str| object.get(key).and_then(serde_json::Value::as_str);
    match string(SHORT_HAND) {
        Some(setter) if !setter.is_empty() => return Reading::Setter(setter.to_owned()),
        _ => {}
    }
    if let Some(reference) = string("$ref") {
        return match reference.strip_prefix(REF_PREFIX) {
            Some(setter) if !setter.is_empty() => Reading::Setter(setter.to_owned()),
            _ => Reading::Invalid(InvalidMarker::BadRef),
        };
    }
    if object.contains_key(SHORT_HAND) {
        Reading::Invalid(InvalidMarker::EmptySetter)
    } else {
        // Valid JSON that only mentions the token somewhere else, e.g. in another key's value.
        Reading::Unrelated
    }
}

/// Which part of the latest image a setter writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Part {
    /// `ns:p`: `name:tag[@digest]`.
    Full,
    /// `ns:p:tag`.
    Tag,
    /// `ns:p:name`.
    Name,
    /// `ns:p:digest` (since Flux v0.41).
    Digest,
}

/// A setter resolved against the policies.
#[derive(Debug, Clone)]
pub(crate) struct Resolved<'p> {
    pub(crate) part: Part,
    pub(crate) image: &'p LatestImage,
}

impl Resolved<'_> {
    /// The value the setter writes. `:digest` of a policy without a digest is the empty
    /// string, as Flux writes it (flux-automation.md §3.6).
    pub(crate) fn value(&self) -> String {
        match self.part {
            Part::Full => self.image.full(),
            Part::Tag => self.image.tag.clone(),
            Part::Name => self.image.name.clone(),
            Part::Digest => self.image.digest.clone(),
        }
    }
}

/// Resolves `setter` (`NS:P`, `NS:P:tag`, `NS:P:name`, `NS:P:digest`) against `policies`,
/// which are keyed `NS:P`. Flux defines exactly these four setters per policy and matches the
/// marker's text exactly, so anything else names no setter: the error says why.
pub(crate) fn resolve<'p>(setter: &str, policies: &'p Policies) -> Result<Resolved<'p>, NoteKind> {
    let Some((namespace, rest)) = setter.split_once(':') else {
        return Err(NoteKind::MissingNamespace);
    };
    let (name, suffix) = rest.split_once(':').unwrap_or((rest, ""));
    let part = match (rest.contains(':'), suffix) {
        (false, _) => Part::Full,
        (true, "tag") => Part::Tag,
        (true, "name") => Part::Name,
        (true, "digest") => Part::Digest,
        (true, other) => {
            return Err(NoteKind::UnknownSuffix {
                suffix: super::truncate(other, 40),
            });
        }
    };
    if namespace.is_empty() || name.is_empty() {
        return Err(NoteKind::MissingNamespace);
    }
    let key = format!("{namespace}:{name}");
    if let Some(image) = policies.get(&key) {
        return Ok(Resolved { part, image });
    }
    let namespace_known = policies
        .keys()
        .any(|k| k.split_once(':').is_some_and(|(ns, _)| ns == namespace));
    if namespace_known || policies.is_empty() {
        Err(NoteKind::UnknownPolicy)
    } else {
        Err(NoteKind::OtherNamespace {
            namespace: super::truncate(namespace, 63),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_markers_as_kyaml_does() {
        let setter = |s: &str| Reading::Setter(s.to_owned());
        assert_eq!(read(r#"# {"$imagepolicy": "ns:p"}"#), setter("ns:p"));
        // C3: no space after `#`; several `#`; tabs and surrounding whitespace.
        assert_eq!(read(r#"#{"$imagepolicy":"ns:p"}"#), setter("ns:p"));
        assert_eq!(
            read("### \t{\"$imagepolicy\": \"ns:p:tag\"}  "),
            setter("ns:p:tag")
        );
        // Extra string-valued keys are tolerated; duplicate keys keep the last.
        assert_eq!(
            read(r#"# {"$imagepolicy": "ns:a", "note": "x", "$imagepolicy": "ns:b"}"#),
            setter("ns:b")
        );
        // C4: trailing prose breaks the JSON.
        assert_eq!(
            read(r#"# {"$imagepolicy": "ns:p"} bump me"#),
            Reading::Invalid(InvalidMarker::NotJson)
        );
        assert_eq!(
            read(r#"# {"$imagepolicy": "ns:p", "n": 1}"#),
            Reading::Invalid(InvalidMarker::NonStringValue { key: "n".into() })
        );
        assert_eq!(
            read(r#"# ["$imagepolicy"]"#),
            Reading::Invalid(InvalidMarker::NotAnObject)
        );
        assert_eq!(
            read(r#"# {"$imagepolicy": ""}"#),
            Reading::Invalid(InvalidMarker::EmptySetter)
        );
        assert_eq!(read("# just a comment"), Reading::Unrelated);
        assert_eq!(read(r#"# {"see": "$imagepolicy docs"}"#), Reading::Unrelated);
        assert_eq!(
            read(r##"# {"$ref": "#/definitions/io.k8s.cli.setters.ns:p:tag"}"##),
            setter("ns:p:tag")
        );
    }

    #[test]
    fn resolves_the_four_setters() {
        let mut policies = Policies::new();
        let image = LatestImage::parse("reg/app:v2@sha256:abc").expect("valid");
        policies.insert("ns:p".into(), image);
        let value = |s: &str| resolve(s, &policies).map(|r| r.value());
        assert_eq!(value("ns:p"), Ok("reg/app:v2@sha256:abc".into()));
        assert_eq!(value("ns:p:tag"), Ok("v2".into()));
        assert_eq!(value("ns:p:name"), Ok("reg/app".into()));
        assert_eq!(value("ns:p:digest"), Ok("sha256:abc".into()));
        assert_eq!(value("ns:q"), Err(NoteKind::UnknownPolicy));
        assert_eq!(
            value("other:p"),
            Err(NoteKind::OtherNamespace {
                namespace: "other".into()
            })
        );
        assert_eq!(
            value("ns:p:Tag"),
            Err(NoteKind::UnknownSuffix { suffix: "Tag".into() })
        );
        assert_eq!(
            value("ns:p:tag:x"),
            Err(NoteKind::UnknownSuffix {
                suffix: "tag:x".into()
            })
        );
        assert_eq!(value("p"), Err(NoteKind::MissingNamespace));
        assert_eq!(value(":p"), Err(NoteKind::MissingNamespace));
    }
}
