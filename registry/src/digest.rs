//! The digest a tag points to: `HEAD /v2/<name>/manifests/<tag>`, as Flux's digest
//! reflection does, accepting image indexes and manifests of both OCI and Docker.

use imagebump_auth::Credential;
use reqwest::Method;
use sha2::{Digest as _, Sha256};

use crate::client::{Client, Options};
use crate::reference::ImageRef;
use crate::request::{self, Session, path_of};

/// The manifest media types asked for, indexes first so a multi-arch tag yields the index
/// digest (what `docker pull tag@digest` and Flux use).
pub const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.index.v1+json, \
    application/vnd.docker.distribution.manifest.list.v2+json, \
    application/vnd.oci.image.manifest.v1+json, \
    application/vnd.docker.distribution.manifest.v2+json";

/// Looking up a digest failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The conversation with the registry failed.
    #[error(transparent)]
    Request(#[from] request::Error),
    /// The registry answered with something that is not a `sha256:` digest.
    #[error("registry {registry}: {path}: the registry gave no usable digest ({found:?})")]
    BadDigest {
        /// Registry host.
        registry: String,
        /// URL path.
        path: String,
        /// What it gave (truncated).
        found: String,
    },
}

impl Error {
    /// Whether a later retry may succeed.
    #[must_use]
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Request(e) => e.is_transient(),
            Error::BadDigest { .. } => true,
        }
    }
}

/// `sha256:<64 hex>` of the manifest `image:tag` points to.
pub async fn digest(
    client: &Client,
    image: &ImageRef,
    tag: &str,
    credential: &Credential,
    options: &Options,
) -> Result<String, Error> {
    let mut session = Session::open(client, image, credential, options).await?;
    let url = session.url(&format!("v2/{}/manifests/{tag}", image.repository()));
    let response = session.send(Method::HEAD, &url, Some(MANIFEST_ACCEPT)).await?;
    let header = response
        .headers()
        .get("docker-content-digest")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let digest = if let Some(d) = header {
        d
    } else {
        // Some registries omit the header on HEAD; the digest is then the hash of the body.
        let response = session.send(Method::GET, &url, Some(MANIFEST_ACCEPT)).await?;
        let body = session.body(&url, response).await?;
        format!("sha256:{}", hex::encode(Sha256::digest(&body)))
    };
    if is_sha256_digest(&digest) {
        Ok(digest)
    } else {
        Err(Error::BadDigest {
            registry: image.registry().to_owned(),
            path: path_of(&url),
            found: digest.chars().take(100).collect(),
        })
    }
}

/// `sha256:` followed by 64 lowercase hex digits (71 characters).
#[must_use]
pub fn is_sha256_digest(digest: &str) -> bool {
    digest.strip_prefix("sha256:").is_some_and(|h| {
        h.len() == 64
            && h.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}
