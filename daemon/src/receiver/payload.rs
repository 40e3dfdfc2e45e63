//! Reading pushed images out of registry webhook payloads.
//!
//! Each parser reads only the fields it needs, with serde types whose fields are all optional,
//! so a payload that grew new fields still parses and one that lacks a required field is a
//! `BadRequest` naming the field. Repository names are normalised with `ImageRef::parse`, the
//! parser `ImageRepository.spec.image` goes through, so `matches` can compare canonical names.

use base64::Engine as _;
use imagebump_registry::ImageRef;
use serde::Deserialize;
use serde::de::{DeserializeOwned, IgnoredAny};

use super::verify::{Rejection, Verdict, truncate};

/// An image a webhook payload says was pushed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PushedImage {
    /// With `path_only` false, the canonical name as `ImageRef::canonical_name` gives it
    /// (`index.docker.io/org/app`, `ghcr.io/org/app`). With `path_only` true, the repository
    /// path alone (`org/app`), as `ImageRef::repository` gives it.
    pub repository: String,
    /// The pushed tag, when the payload names one.
    pub tag: Option<String>,
    /// The payload does not say which registry host it came from (Nexus sends the repository
    /// path only: the host is whatever the Nexus connector listens on), so the image matches
    /// any registry with this repository path.
    pub path_only: bool,
}

impl PushedImage {
    /// An image from a full reference without tag (`quay.io/org/app`, `org/app` for Docker Hub).
    /// `None` when the reference is not a valid repository reference.
    fn at(reference: &str, tag: Option<&str>) -> Option<PushedImage> {
        match ImageRef::parse(reference) {
            Ok(image) => Some(PushedImage {
                repository: image.canonical_name(),
                tag: non_empty(tag),
                path_only: false,
            }),
            Err(error) => {
                // A name no ImageRepository can have matches nothing; dropping it (and scanning
                // every listed resource if nothing is left) cannot miss a push.
                tracing::warn!(%error, "webhook payload names an image that is not a repository reference; ignoring it");
                None
            }
        }
    }

    fn path(path: &str, tag: Option<&str>) -> PushedImage {
        PushedImage {
            repository: path.trim_matches('/').to_owned(),
            tag: non_empty(tag),
            path_only: true,
        }
    }
}

/// Whether `image` (an `ImageRepository.spec.image`, parsed) is the repository `pushed` names.
///
/// The rule: with `pushed.path_only` false, `image.canonical_name() == pushed.repository`
/// (so `org/app`, `docker.io/org/app` and `index.docker.io/org/app` are one Docker Hub
/// repository); with `pushed.path_only` true, `image.repository() == pushed.repository` on any
/// registry host. Tags play no part: a push of any tag makes the repository worth a scan.
#[must_use]
pub fn matches(pushed: &PushedImage, image: &ImageRef) -> bool {
    if pushed.path_only {
        image.repository() == pushed.repository
    } else {
        image.canonical_name() == pushed.repository
    }
}

/// Accepts with the images found; none means "scan everything listed".
fn accept(images: impl IntoIterator<Item = Option<PushedImage>>) -> Verdict {
    Verdict::Accept {
        images: images.into_iter().flatten().collect(),
    }
}

/// Splits `host/path:tag` or `host/path@digest` into repository and tag.
pub(super) fn split_reference(reference: &str) -> (&str, Option<&str>) {
    let name = reference.split_once('@').map_or(reference, |(name, _)| name);
    let last = name.rfind('/').map_or(0, |i| i + 1);
    match name[last..].rfind(':') {
        Some(i) => (&name[..last + i], non_empty_str(&name[last + i + 1..])),
        None => (name, None),
    }
}

fn non_empty(tag: Option<&str>) -> Option<String> {
    tag.and_then(non_empty_str).map(str::to_owned)
}

fn non_empty_str(text: &str) -> Option<&str> {
    Some(text).filter(|t| !t.is_empty())
}

/// Parses a JSON body, turning serde's error (with its position) into a `BadRequest`.
fn parse<T: DeserializeOwned>(body: &[u8], sender: &str) -> Result<T, Rejection> {
    serde_json::from_slice(body).map_err(|e| {
        Rejection::BadRequest(format!(
            "{sender} payload is not valid JSON: {}",
            truncate(&e.to_string())
        ))
    })
}

fn missing(sender: &str, field: &str) -> Rejection {
    Rejection::BadRequest(format!("{sender} payload has no {field}"))
}

/// Any JSON (`cdevents`: the event itself is not read).
pub(super) fn json_value(body: &[u8]) -> Result<(), Rejection> {
    parse::<IgnoredAny>(body, "CDEvents").map(drop)
}

// GitHub `package` / `registry_package`:
// https://docs.github.com/en/webhooks/webhook-events-and-payloads#package

#[derive(Deserialize)]
struct GithubEvent {
    package: Option<GithubPackage>,
    registry_package: Option<GithubPackage>,
}

#[derive(Deserialize)]
struct GithubPackage {
    name: Option<String>,
    package_type: Option<String>,
    ecosystem: Option<String>,
    owner: Option<GithubOwner>,
    package_version: Option<GithubVersion>,
}

#[derive(Deserialize)]
struct GithubOwner {
    login: Option<String>,
}

#[derive(Deserialize)]
struct GithubVersion {
    container_metadata: Option<GithubContainer>,
    package_url: Option<String>,
}

#[derive(Deserialize)]
struct GithubContainer {
    tag: Option<GithubTag>,
}

#[derive(Deserialize)]
struct GithubTag {
    name: Option<String>,
}

/// A GHCR push: `ghcr.io/<owner>/<package name>` and the tag. Other packages (npm, Maven) name
/// no image, so every listed resource is scanned, as Flux would.
pub(super) fn github_package(body: &[u8], content_type: &str) -> Result<Verdict, Rejection> {
    // GitHub sends `payload=<json>` when the webhook's content type is form-encoded.
    let form = content_type
        .trim_start()
        .to_ascii_lowercase()
        .starts_with("application/x-www-form-urlencoded");
    let event: GithubEvent = if form {
        let payload = url::form_urlencoded::parse(body)
            .find(|(key, _)| key == "payload")
            .ok_or_else(|| missing("GitHub", "`payload` form field"))?
            .1;
        parse(payload.as_bytes(), "GitHub")?
    } else {
        parse(body, "GitHub")?
    };
    let Some(package) = event.package.or(event.registry_package) else {
        return Err(missing("GitHub", "`package` or `registry_package`"));
    };
    let is_container = [&package.package_type, &package.ecosystem]
        .into_iter()
        .flatten()
        .any(|t| t.eq_ignore_ascii_case("container") || t.eq_ignore_ascii_case("docker"));
    if !is_container {
        return Ok(Verdict::all());
    }
    let version = package.package_version.as_ref();
    let url = version
        .and_then(|v| v.package_url.as_deref())
        .filter(|u| !u.is_empty());
    let tag = version
        .and_then(|v| v.container_metadata.as_ref())
        .and_then(|m| m.tag.as_ref())
        .and_then(|t| t.name.as_deref())
        .filter(|t| !t.is_empty())
        .or_else(|| url.and_then(|u| split_reference(u).1));
    let owner = package.owner.as_ref().and_then(|o| o.login.as_deref());
    // GHCR names are lowercase, GitHub logins and package names need not be.
    let repository = match (owner, package.name.as_deref()) {
        (Some(owner), Some(name)) => format!("ghcr.io/{owner}/{name}"),
        _ => match url {
            Some(url) => split_reference(url).0.to_owned(),
            None => return Err(missing("GitHub", "package owner and name")),
        },
    };
    Ok(accept([PushedImage::at(&repository.to_ascii_lowercase(), tag)]))
}

// Harbor: https://goharbor.io/docs/main/working-with-projects/project-configuration/configure-webhooks/

#[derive(Deserialize)]
struct Harbor {
    #[serde(rename = "type")]
    kind: Option<String>,
    event_data: Option<HarborData>,
}

#[derive(Deserialize)]
struct HarborData {
    resources: Option<Vec<HarborResource>>,
}

#[derive(Deserialize)]
struct HarborResource {
    tag: Option<String>,
    resource_url: Option<String>,
}

/// `PUSH_ARTIFACT`: each `resource_url` (`harbor.example.com/library/app:1.0`).
pub(super) fn harbor(body: &[u8]) -> Result<Verdict, Rejection> {
    let event: Harbor = parse(body, "Harbor")?;
    let kind = event.kind.ok_or_else(|| missing("Harbor", "`type`"))?;
    if kind != "PUSH_ARTIFACT" {
        return Ok(Verdict::Ignore(format!(
            "Harbor event {:?} is not a push",
            truncate(&kind)
        )));
    }
    let resources = event.event_data.and_then(|d| d.resources).unwrap_or_default();
    Ok(accept(resources.iter().filter_map(|r| {
        let (repository, url_tag) = split_reference(r.resource_url.as_deref()?);
        Some(PushedImage::at(
            repository,
            r.tag.as_deref().filter(|t| !t.is_empty()).or(url_tag),
        ))
    })))
}

// Docker Hub: https://docs.docker.com/docker-hub/repos/manage/webhooks/

#[derive(Deserialize)]
struct Dockerhub {
    push_data: Option<DockerhubPush>,
    repository: Option<DockerhubRepository>,
}

#[derive(Deserialize)]
struct DockerhubPush {
    tag: Option<String>,
}

#[derive(Deserialize)]
struct DockerhubRepository {
    repo_name: Option<String>,
}

/// `repository.repo_name` (`org/app`, `library/alpine`) on Docker Hub, `push_data.tag`.
pub(super) fn dockerhub(body: &[u8]) -> Result<Verdict, Rejection> {
    let event: Dockerhub = parse(body, "Docker Hub")?;
    let tag = event
        .push_data
        .and_then(|p| p.tag)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| missing("Docker Hub", "`push_data.tag`"))?;
    let name = event
        .repository
        .and_then(|r| r.repo_name)
        .filter(|n| !n.is_empty())
        .ok_or_else(|| missing("Docker Hub", "`repository.repo_name`"))?;
    // `repo_name` has no host. Naming the Hub explicitly keeps a first element with a dot from
    // being taken for a host; official images come as `library/x`, but add it if missing.
    let path = if name.contains('/') {
        name
    } else {
        format!("library/{name}")
    };
    Ok(accept([PushedImage::at(
        &format!("docker.io/{path}"),
        Some(&tag),
    )]))
}

// Quay: https://docs.quay.io/guides/notifications.html (Repository Push)

#[derive(Deserialize)]
struct Quay {
    docker_url: Option<String>,
    updated_tags: Option<Vec<String>>,
}

/// `docker_url` (`quay.io/org/app`), one image per `updated_tags` entry.
pub(super) fn quay(body: &[u8]) -> Result<Verdict, Rejection> {
    let event: Quay = parse(body, "Quay")?;
    let url = event
        .docker_url
        .filter(|u| !u.is_empty())
        .ok_or_else(|| missing("Quay", "`docker_url`"))?;
    let tags = event.updated_tags.unwrap_or_default();
    if tags.is_empty() {
        return Ok(accept([PushedImage::at(&url, None)]));
    }
    Ok(accept(tags.iter().map(|t| PushedImage::at(&url, Some(t)))))
}

// Nexus: https://help.sonatype.com/en/example-headers-and-payloads.html (repository component)

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Nexus {
    action: Option<String>,
    repository_name: Option<String>,
    component: Option<NexusComponent>,
}

#[derive(Deserialize)]
struct NexusComponent {
    format: Option<String>,
    name: Option<String>,
    version: Option<String>,
}

/// A docker component: `name` is the repository path, `version` the tag; the host is unknown.
pub(super) fn nexus(body: &[u8]) -> Result<Verdict, Rejection> {
    let event: Nexus = parse(body, "Nexus")?;
    if event.action.as_deref().is_none_or(str::is_empty) {
        return Err(missing("Nexus", "`action`"));
    }
    if event.repository_name.as_deref().is_none_or(str::is_empty) {
        return Err(missing("Nexus", "`repositoryName`"));
    }
    let image = event.component.and_then(|c| {
        let docker = c
            .format
            .as_deref()
            .is_none_or(|f| f.eq_ignore_ascii_case("docker"));
        let name = c.name.filter(|n| docker && !n.is_empty())?;
        Some(PushedImage::path(&name, c.version.as_deref()))
    });
    Ok(accept([image]))
}

// ACR: https://learn.microsoft.com/azure/container-registry/container-registry-webhook-reference

#[derive(Deserialize)]
struct Acr {
    action: Option<String>,
    target: Option<AcrTarget>,
    request: Option<AcrRequest>,
}

#[derive(Deserialize)]
struct AcrTarget {
    repository: Option<String>,
    tag: Option<String>,
}

#[derive(Deserialize)]
struct AcrRequest {
    host: Option<String>,
}

/// `push`: `request.host/target.repository`, `target.tag`.
pub(super) fn acr(body: &[u8]) -> Result<Verdict, Rejection> {
    let event: Acr = parse(body, "ACR")?;
    let action = event.action.ok_or_else(|| missing("ACR", "`action`"))?;
    if !action.eq_ignore_ascii_case("push") {
        return Ok(Verdict::Ignore(format!(
            "ACR event {:?} is not a push",
            truncate(&action)
        )));
    }
    let target = event.target.ok_or_else(|| missing("ACR", "`target`"))?;
    let repository = target
        .repository
        .filter(|r| !r.is_empty())
        .ok_or_else(|| missing("ACR", "`target.repository`"))?;
    let tag = target.tag.as_deref();
    let image = match event.request.and_then(|r| r.host).filter(|h| !h.is_empty()) {
        Some(host) => PushedImage::at(&format!("{host}/{repository}"), tag),
        None => Some(PushedImage::path(&repository, tag)),
    };
    Ok(accept([image]))
}

// GCR / Artifact Registry through a Pub/Sub push subscription:
// https://cloud.google.com/artifact-registry/docs/configure-notifications
// https://cloud.google.com/pubsub/docs/push

#[derive(Deserialize)]
struct PubSubPush {
    message: Option<PubSubMessage>,
}

#[derive(Deserialize)]
struct PubSubMessage {
    data: Option<String>,
}

#[derive(Deserialize)]
struct GcrNotification {
    action: Option<String>,
    digest: Option<String>,
    tag: Option<String>,
}

/// `message.data`: base64 JSON `{action, digest, tag}`; only `INSERT` is a push.
pub(super) fn gcr(body: &[u8]) -> Result<Verdict, Rejection> {
    let push: PubSubPush = parse(body, "Pub/Sub")?;
    let data = push
        .message
        .and_then(|m| m.data)
        .ok_or_else(|| missing("Pub/Sub", "`message.data`"))?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(data.trim())
        .map_err(|e| Rejection::BadRequest(format!("Pub/Sub `message.data` is not base64: {e}")))?;
    let event: GcrNotification = parse(&decoded, "GCR notification")?;
    let action = event
        .action
        .ok_or_else(|| missing("GCR notification", "`action`"))?;
    if action != "INSERT" {
        return Ok(Verdict::Ignore(format!(
            "GCR notification {:?} is not a push",
            truncate(&action)
        )));
    }
    let image = match (event.tag.filter(|t| !t.is_empty()), event.digest) {
        (Some(tag), _) => {
            let (repository, tag) = split_reference(&tag);
            PushedImage::at(repository, tag)
        }
        (None, Some(digest)) => PushedImage::at(split_reference(&digest).0, None),
        (None, None) => None,
    };
    Ok(accept([image]))
}
