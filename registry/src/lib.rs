//! Talks to OCI registries for imagebump: lists every tag of a repository (all pages), looks
//! up the digest a tag points to, and turns a listing into the stored, sorted tag set.
//!
//! The protocol parts that matter for correctness are done by hand rather than through a
//! general OCI client, because they must be observable: the `Link` header of each page (and
//! its host), `Retry-After`, the `WWW-Authenticate` challenge and its realm.
//!
//! ```no_run
//! use imagebump_registry::{Client, ImageRef, Options, list_tags};
//! use imagebump_auth::Credential;
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let image = ImageRef::parse("ghcr.io/stefanprodan/podinfo")?;
//! let tags = list_tags(&Client::new()?, &image, &Credential::Anonymous, &Options::default()).await?;
//! println!("{} tags", tags.len());
//! # Ok(()) }
//! ```
//!
//! Offline pieces need no network:
//!
//! ```
//! use imagebump_registry::{ExclusionList, ImageRef, TagSet};
//!
//! assert_eq!(ImageRef::parse("alpine")?.canonical_name(), "index.docker.io/library/alpine");
//! let set = TagSet::new(vec!["1.0.0".into(), "sha256-1a2b.sig".into(), "1.1.0".into()], &ExclusionList::default());
//! assert_eq!(set.tags(), ["1.1.0", "1.0.0"]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Not here: where credentials come from (`imagebump-auth`), storage and scheduling (the
//! daemon), and pushing or pulling images.

mod client;
pub mod digest;
pub mod list_tags;
pub mod reference;
pub mod request;
mod tag_set;

pub use client::{BuildError, Client, ClientBuilder, Options};
pub use digest::{MANIFEST_ACCEPT, digest, is_sha256_digest};
pub use list_tags::list_tags;
pub use reference::{ImageRef, Scheme};
pub use tag_set::{DEFAULT_EXCLUSIONS, ExclusionError, ExclusionList, MAX_EXCLUSIONS, TagSet};
