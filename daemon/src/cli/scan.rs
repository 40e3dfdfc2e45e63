//! `imagebump scan IMAGE`: one scan of a registry repository, offline from any daemon.
//!
//! It does what an `ImageRepository` reconcile does (credentials, every page of tags, the
//! exclusion list, the sorted set and its revision) and prints the result, so credentials and
//! exclusions can be checked before an object is written.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use imagebump_auth::docker_config::{DockerConfig, MatchOptions};
use imagebump_auth::{Credential, CredentialProvider as _, HostDockerConfigProvider};
use imagebump_registry::{Client, ExclusionList, ImageRef, Options, TagSet, list_tags};
use serde::Serialize;

use super::{Format, Outcome};
use crate::config::{duration, secret};

/// List the tags of an image repository once, as an `ImageRepository` scan would.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The repository, as `spec.image` spells it: `ghcr.io/org/app`, `alpine`, `host:5000/a/b`.
    image: String,
    /// Registry credentials: a `kubernetes.io/dockerconfigjson` (or legacy dockercfg) Secret
    /// YAML, or a docker `config.json`.
    #[arg(long, value_name = "FILE")]
    secret: Option<PathBuf>,
    /// Use this machine's docker login (`$DOCKER_CONFIG/config.json`, credential helpers).
    #[arg(long, conflicts_with = "secret")]
    docker_config: bool,
    /// PEM CA certificate(s) to trust in addition to the system roots (`ca.crt`).
    #[arg(long, value_name = "FILE")]
    ca: Option<PathBuf>,
    /// PEM client certificate for mTLS (`tls.crt`); needs --key.
    #[arg(long, value_name = "FILE", requires = "key")]
    cert: Option<PathBuf>,
    /// PEM private key of the client certificate (`tls.key`).
    #[arg(long, value_name = "FILE", requires = "cert")]
    key: Option<PathBuf>,
    /// Talk plain HTTP to the registry (`spec.insecure`).
    #[arg(long)]
    insecure: bool,
    /// Send every request through this HTTP proxy, whatever the environment says (`NO_PROXY`
    /// included): `http://proxy.corp:3128`. Credentials may be given in the URL,
    /// percent-encoded: `http://user:p%40ss@proxy.corp:3128`; they are sent as
    /// `Proxy-Authorization: Basic`, never shown. Without --proxy, `HTTPS_PROXY`, `HTTP_PROXY`
    /// and `ALL_PROXY` (or their lower-case forms) apply, except to hosts listed in `NO_PROXY`;
    /// unlike in Go programs such as Flux, that includes loopback registries (`localhost`,
    /// `127.0.0.1`) unless `NO_PROXY` lists them.
    #[arg(long, value_name = "URL")]
    proxy: Option<String>,
    /// Drop tags matching this regex (repeatable; replaces the default `^.*\.sig$`).
    #[arg(long = "exclude", value_name = "REGEX", allow_hyphen_values = true)]
    exclusions: Vec<String>,
    /// Bound on the whole scan (Go duration: 30s, 1m, 2m30s).
    #[arg(long, value_name = "DURATION", default_value = "1m", value_parser = parse_duration)]
    timeout: Duration,
    /// Tags asked for per page.
    #[arg(long, value_name = "N", default_value_t = 1000)]
    page_size: usize,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t = Format::Text)]
    output: Format,
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    duration::parse(text).map_err(|e| e.to_string())
}

/// Runs the command.
pub fn run(args: &Args) -> anyhow::Result<Outcome> {
    let image = ImageRef::parse(&args.image)?;
    let exclusions = ExclusionList::new(&args.exclusions)?;
    let client = build_client(args)?;
    let credential = credential(args, &image)?;
    let options = Options {
        timeout: Options::scan_timeout(Some(args.timeout), args.timeout),
        page_size: args.page_size.max(1),
        insecure: args.insecure,
        ..Options::default()
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let listed = match runtime.block_on(list_tags(&client, &image, &credential, &options)) {
        Ok(tags) => tags,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(Outcome::Failed);
        }
    };
    let set = TagSet::new(listed, &exclusions);
    match args.output {
        Format::Text => {
            println!("{}", image.canonical_name());
            println!(
                "successful scan: found {} tags with checksum {}",
                set.len(),
                set.revision()
            );
            for tag in set.tags() {
                println!("{tag}");
            }
        }
        Format::Json => {
            let report = Report {
                image: &args.image,
                canonical_image_name: image.canonical_name(),
                tag_count: set.len(),
                revision: set.revision(),
                latest_tags: set.latest(10),
                observed_exclusion_list: exclusions.patterns().collect(),
                tags: set.tags(),
            };
            println!("{}", serde_json::to_string_pretty(&report)?);
        }
    }
    Ok(Outcome::Success)
}

/// The scan result, with Flux's status field names.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Report<'a> {
    image: &'a str,
    canonical_image_name: String,
    tag_count: usize,
    revision: &'a str,
    latest_tags: &'a [String],
    observed_exclusion_list: Vec<&'a str>,
    tags: &'a [String],
}

fn build_client(args: &Args) -> anyhow::Result<Client> {
    let mut builder = Client::builder();
    if let Some(path) = &args.ca {
        let pem = std::fs::read(path).with_context(|| format!("reading CA {}", path.display()))?;
        builder = builder.ca_pem(pem);
    }
    if let (Some(cert), Some(key)) = (&args.cert, &args.key) {
        let cert = std::fs::read(cert).with_context(|| format!("reading {}", cert.display()))?;
        let key = std::fs::read(key).with_context(|| format!("reading {}", key.display()))?;
        builder = builder.client_certificate(&cert, &key);
    }
    if let Some(url) = &args.proxy {
        // Not a clap value parser: clap would echo the value, password included, in its error.
        let proxy = ProxyUrl::parse(url).context("--proxy")?;
        let credentials = proxy
            .credentials
            .as_ref()
            .map(|(user, password)| (user.as_str(), password.as_str()));
        builder = builder.proxy(&proxy.address, credentials);
    }
    Ok(builder.build()?)
}

/// A `--proxy` URL with its userinfo taken out and percent-decoded.
#[derive(PartialEq, Eq)]
struct ProxyUrl {
    /// The URL without userinfo: `http://proxy.corp:3128`.
    address: String,
    /// User name and password (empty when the userinfo has no `:`).
    credentials: Option<(String, String)>,
}

impl std::fmt::Debug for ProxyUrl {
    /// Never shows the password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProxyUrl")
            .field("address", &self.address)
            .field("user", &self.credentials.as_ref().map(|(user, _)| user))
            .finish_non_exhaustive()
    }
}

/// Why a `--proxy` URL was refused. Never contains the URL's userinfo.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
enum ProxyUrlError {
    /// Nothing after the userinfo.
    #[error("the proxy URL has no host")]
    NoHost,
    /// `%XX` sequences that decode to invalid UTF-8.
    #[error("the proxy URL's {0} is not valid UTF-8 once percent-decoded")]
    NotUtf8(&'static str),
}

impl ProxyUrl {
    /// Splits `[scheme://][user[:password]@]host[:port][/…]`: the userinfo ends at the last `@`
    /// before the path, as WHATWG URL parsers read it; the user ends at its first `:`.
    fn parse(url: &str) -> Result<ProxyUrl, ProxyUrlError> {
        let (scheme, rest) = match url.split_once("://") {
            Some((scheme, rest)) => (Some(scheme), rest),
            None => (None, url),
        };
        let (authority, tail) = rest.split_at(rest.find(['/', '?', '#']).unwrap_or(rest.len()));
        let Some((userinfo, host)) = authority.rsplit_once('@') else {
            return Ok(ProxyUrl {
                address: url.to_owned(),
                credentials: None,
            });
        };
        if host.is_empty() {
            return Err(ProxyUrlError::NoHost);
        }
        let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
        let user = percent_decode(user).ok_or(ProxyUrlError::NotUtf8("user name"))?;
        let password = percent_decode(password).ok_or(ProxyUrlError::NotUtf8("password"))?;
        let address = match scheme {
            Some(scheme) => format!("{scheme}://{host}{tail}"),
            None => format!("{host}{tail}"),
        };
        Ok(ProxyUrl {
            address,
            credentials: Some((user, password)),
        })
    }
}

/// Decodes `%XX` sequences; a `%` not followed by two hex digits stays as it is (as in URL
/// parsers). `None` when the result is not UTF-8.
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: Option<&u8>| b.and_then(|b| char::from(*b).to_digit(16));
        match (bytes[i], hex(bytes.get(i + 1)), hex(bytes.get(i + 2))) {
            (b'%', Some(high), Some(low)) => {
                // Two hex digits: at most 0xff.
                out.push(u8::try_from(high * 16 + low).unwrap_or(u8::MAX));
                i += 3;
            }
            (byte, _, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

fn credential(args: &Args, image: &ImageRef) -> anyhow::Result<Credential> {
    if let Some(path) = &args.secret {
        let (document, format) = secret::load_docker_config(path)?;
        let config = DockerConfig::parse(format, &document).with_context(|| format!("{}", path.display()))?;
        return Ok(config.credential(image.registry(), image.repository(), MatchOptions::default()));
    }
    if args.docker_config {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("starting the async runtime")?;
        let provider = HostDockerConfigProvider::from_env();
        let found = runtime.block_on(provider.credentials(image.registry(), image.repository()))?;
        return Ok(found.credential);
    }
    Ok(Credential::Anonymous)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(url: &str) -> (String, Option<(String, String)>) {
        let proxy = ProxyUrl::parse(url).expect("parses");
        (proxy.address, proxy.credentials)
    }

    fn with(address: &str, user: &str, password: &str) -> (String, Option<(String, String)>) {
        (address.to_owned(), Some((user.to_owned(), password.to_owned())))
    }

    #[test]
    fn proxy_userinfo_is_split_off_and_decoded() {
        assert_eq!(
            parsed("http://127.0.0.1:3128"),
            ("http://127.0.0.1:3128".to_owned(), None)
        );
        assert_eq!(
            parsed("http://user:pass@127.0.0.1:3128"),
            with("http://127.0.0.1:3128", "user", "pass")
        );
        assert_eq!(
            parsed("http://us%65r:p%40ss%3A%2F%25@proxy:3128/"),
            with("http://proxy:3128/", "user", "p@ss:/%")
        );
        assert_eq!(
            parsed("http://user:p@ss@proxy:3128"),
            with("http://proxy:3128", "user", "p@ss")
        );
        assert_eq!(parsed("user@proxy:3128"), with("proxy:3128", "user", ""));
        assert_eq!(parsed("http://u:%zz%4@proxy"), with("http://proxy", "u", "%zz%4"));
        assert_eq!(
            parsed("http://u:caf%C3%A9@proxy"),
            with("http://proxy", "u", "café")
        );
        // An `@` after the host is not userinfo.
        assert_eq!(
            parsed("http://proxy:3128/a@b"),
            ("http://proxy:3128/a@b".to_owned(), None)
        );
    }

    #[test]
    fn bad_proxy_urls_never_show_the_password() {
        for (url, want) in [
            ("http://user:secret@", ProxyUrlError::NoHost),
            ("http://user:secret%ff@proxy", ProxyUrlError::NotUtf8("password")),
        ] {
            let err = ProxyUrl::parse(url).expect_err(url);
            assert_eq!(err, want);
            assert!(!err.to_string().contains("secret"), "{err}");
        }
        let proxy = ProxyUrl::parse("http://user:secret@proxy").expect("parses");
        assert!(!format!("{proxy:?}").contains("secret"));
    }
}
