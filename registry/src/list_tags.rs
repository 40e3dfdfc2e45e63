//! `GET /v2/<name>/tags/list`, every page.
//!
//! Pages are followed through the `Link: <…>; rel="next"` header exactly as the registry
//! gives it (relative or absolute, `last=` or an opaque cursor), but only to the registry's
//! own scheme and host: a `Link` elsewhere is refused (Flux calls it "potential SSRF").

use imagebump_auth::Credential;
use reqwest::Method;
use reqwest::header::LINK;
use url::Url;

use crate::client::{Client, Options};
use crate::reference::ImageRef;
use crate::request::{self, Session, path_of};

/// Listing a repository's tags failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The conversation with the registry failed.
    #[error(transparent)]
    Request(#[from] request::Error),
    /// A page is not `{"name": …, "tags": […]}`.
    #[error("registry {registry}: {path}: the tag list is not valid JSON: {reason}")]
    MalformedPage {
        /// Registry host.
        registry: String,
        /// URL path and query of the page.
        path: String,
        /// The JSON error.
        reason: String,
    },
    /// The `Link` header points to another host or scheme.
    #[error(
        "registry {registry}: refusing to follow the next-page link to {link} (another host or scheme; potential SSRF)"
    )]
    ForeignLink {
        /// Registry host.
        registry: String,
        /// The link as given (truncated).
        link: String,
    },
    /// The `Link` header cannot be parsed, or the pages loop.
    #[error("registry {registry}: bad paging after {path}: {reason}")]
    Paging {
        /// Registry host.
        registry: String,
        /// URL path and query of the page that carried the bad link.
        path: String,
        /// What is wrong.
        reason: String,
    },
}

impl Error {
    /// Whether a later retry may succeed.
    #[must_use]
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Request(e) => e.is_transient(),
            Error::MalformedPage { .. } => true,
            Error::ForeignLink { .. } | Error::Paging { .. } => false,
        }
    }
}

/// Every tag of `image`, in registry order, all pages concatenated.
pub async fn list_tags(
    client: &Client,
    image: &ImageRef,
    credential: &Credential,
    options: &Options,
) -> Result<Vec<String>, Error> {
    let mut session = Session::open(client, image, credential, options).await?;
    let mut url = session.url(&format!("v2/{}/tags/list", image.repository()));
    url.query_pairs_mut()
        .append_pair("n", &options.page_size.to_string());
    let mut tags = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for _ in 0..options.max_pages {
        let response = session.send(Method::GET, &url, Some("application/json")).await?;
        let link = response
            .headers()
            .get(LINK)
            .map(|v| v.to_str().map(str::to_owned));
        let body = session.body(&url, response).await?;
        tags.extend(parse_page(&body).map_err(|reason| Error::MalformedPage {
            registry: session.registry(),
            path: path_of(&url),
            reason,
        })?);
        let paging = |reason: String| Error::Paging {
            registry: session.registry(),
            path: path_of(&url),
            reason,
        };
        let next = match link {
            None => return Ok(tags),
            Some(Err(_)) => return Err(paging("the Link header is not ASCII".into())),
            Some(Ok(value)) => match next_link(&value) {
                None => return Ok(tags),
                Some(target) => url
                    .join(target)
                    .map_err(|e| paging(format!("Link {target:?}: {e}")))?,
            },
        };
        if !same_origin(&next, session.base()) {
            return Err(Error::ForeignLink {
                registry: session.registry(),
                link: next.as_str().chars().take(200).collect(),
            });
        }
        if !seen.insert(next.clone()) {
            return Err(paging(format!(
                "the next-page link {} was already visited",
                path_of(&next)
            )));
        }
        url = next;
    }
    Err(Error::Paging {
        registry: session.registry(),
        path: path_of(&url),
        reason: format!("more than {} pages", options.max_pages),
    })
}

fn parse_page(body: &[u8]) -> Result<Vec<String>, String> {
    #[derive(serde::Deserialize)]
    struct Page {
        // Some registries answer `"tags": null` for an empty repository.
        tags: Option<Vec<String>>,
    }
    serde_json::from_slice::<Page>(body)
        .map(|p| p.tags.unwrap_or_default())
        .map_err(|e| e.to_string())
}

/// The target of the `rel="next"` entry of a `Link` header.
fn next_link(header: &str) -> Option<&str> {
    header.split(',').find_map(|entry| {
        let (target, params) = entry.trim().split_once(';')?;
        let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        params
            .split(';')
            .filter_map(|p| p.trim().split_once('='))
            .any(|(k, v)| k.trim().eq_ignore_ascii_case("rel") && v.trim().trim_matches('"') == "next")
            .then_some(target)
    })
}

fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_headers() {
        assert_eq!(
            next_link(r#"</v2/a/tags/list?n=2&last=b>; rel="next""#),
            Some("/v2/a/tags/list?n=2&last=b")
        );
        assert_eq!(
            next_link("<https://r/v2/a/tags/list?next_page=xyz>; rel=next"),
            Some("https://r/v2/a/tags/list?next_page=xyz")
        );
        assert_eq!(next_link(r#"</x>; rel="prev", </y>; rel="next""#), Some("/y"));
        assert_eq!(next_link(r#"</x>; rel="prev""#), None);
    }

    #[test]
    fn pages() {
        assert_eq!(
            parse_page(br#"{"name":"a","tags":["1","2"]}"#),
            Ok(vec!["1".into(), "2".into()])
        );
        assert_eq!(parse_page(br#"{"name":"a","tags":null}"#), Ok(vec![]));
        assert!(parse_page(b"<html>").is_err());
    }
}
