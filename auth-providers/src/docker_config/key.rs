//! Docker config keys as Flux reads them: normalization, and matching against `registry/repository`.
//!
//! Flux builds its keyring with go-containerregistry's copy of the kubelet keyring
//! (`pkg/credentialprovider/keyring.go`). Each key is parsed with Go's `url.Parse` after
//! prefixing `https://`, so this module reproduces the parts of `url.Parse`, `net.SplitHostPort`
//! and `filepath.Match` that decide whether a key matches, including their error cases: a key
//! Go rejects makes the whole secret invalid, a key Go cannot re-parse never matches.

/// Host (with port, without user info) and percent-decoded path of a URL, as Go's `url.Parse`
/// returns them as `URL.Host` and `URL.Path`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct UrlParts {
    pub(super) host: String,
    pub(super) path: String,
}

/// Splits `url` (which starts with `http://` or `https://`) the way Go's `url.Parse` does,
/// failing where it fails. The error is a fixed reason, never the input.
pub(super) fn parse_url(url: &str) -> Result<UrlParts, &'static str> {
    if url.bytes().any(|b| b < 0x20 || b == 0x7f) {
        return Err("invalid control character");
    }
    let (url, fragment) = url.split_once('#').unwrap_or((url, ""));
    percent_decode(fragment, Mode::Other).ok_or("invalid percent-escape in fragment")?;
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or("missing scheme")?;
    let rest = rest.split_once('?').map_or(rest, |(before, _query)| before);
    let (authority, path) = rest.find('/').map_or((rest, ""), |slash| rest.split_at(slash));
    let host = match authority.rfind('@') {
        Some(at) => {
            check_userinfo(&authority[..at])?;
            &authority[at + 1..]
        }
        None => authority,
    };
    Ok(UrlParts {
        host: parse_host(host)?,
        path: percent_decode(path, Mode::Other).ok_or("invalid percent-escape in path")?,
    })
}

/// Go's `validUserinfo` plus the percent-escape check of `url.Parse`.
fn check_userinfo(userinfo: &str) -> Result<(), &'static str> {
    let valid = userinfo
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-._:~!$&'()*+,;=%@".contains(c) || !c.is_ascii());
    if !valid {
        return Err("invalid user info");
    }
    percent_decode(userinfo, Mode::Other).ok_or("invalid percent-escape in user info")?;
    Ok(())
}

/// Go's `parseHost`: a bracketed `IPv6` literal or a name, an optional `:digits` port, and only
/// the characters Go allows in a host.
fn parse_host(host: &str) -> Result<String, &'static str> {
    let port = if host.starts_with('[') {
        let close = host.rfind(']').ok_or("missing ']' in host")?;
        &host[close + 1..]
    } else {
        host.rfind(':').map_or("", |colon| &host[colon..])
    };
    if !(port.is_empty()
        || port
            .strip_prefix(':')
            .is_some_and(|p| p.bytes().all(|b| b.is_ascii_digit())))
    {
        return Err("invalid port");
    }
    percent_decode(host, Mode::Host).ok_or("invalid character in host name")
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Go's `encodeHost`: restricted characters, `%XX` only for non-ASCII bytes and `%25`.
    Host,
    /// Paths, user info, fragments: any character, valid `%XX` escapes.
    Other,
}

/// Go's `url.unescape` for the modes we need; `None` where Go returns an error (and where the
/// decoded bytes are not UTF-8, which Go would accept and we cannot hold in a `String`).
fn percent_decode(text: &str, mode: Mode) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%' {
            let hi = hex_value(*bytes.get(i + 1)?)?;
            let lo = hex_value(*bytes.get(i + 2)?)?;
            if mode == Mode::Host && hi < 8 && &bytes[i..i + 3] != b"%25" {
                return None;
            }
            out.push(hi << 4 | lo);
            i += 3;
        } else {
            if mode == Mode::Host && b < 0x80 && !host_char_allowed(b) {
                return None;
            }
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn hex_value(b: u8) -> Option<u8> {
    char::from(b).to_digit(16).and_then(|d| u8::try_from(d).ok())
}

/// ASCII bytes Go's `shouldEscape(c, encodeHost)` lets through.
fn host_char_allowed(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!$&'()*+,;=:[]<>\"-_.~".contains(&b)
}

/// Normalizes a docker config key as Flux does: prefix `https://` unless the key starts with
/// `http://` or `https://`; keep host and path; drop a leading `/v1` or `/v2` path segment;
/// an empty path or `/` leaves the host alone.
///
/// `https://index.docker.io/v1/` becomes `index.docker.io`, `host:8083/repository/internal`
/// stays as it is, `ghcr.io/v2/org` becomes `ghcr.io/org`. Like the kubelet code Flux uses,
/// only `/v1/` and `/v2/` *followed by a slash* are dropped: `host/v2` stays `host/v2`.
pub(super) fn normalize(raw_key: &str) -> Result<String, &'static str> {
    let url = if raw_key.starts_with("https://") || raw_key.starts_with("http://") {
        parse_url(raw_key)?
    } else {
        parse_url(&format!("https://{raw_key}"))?
    };
    let path = if url.path.starts_with("/v1/") || url.path.starts_with("/v2/") {
        &url.path[3..]
    } else {
        url.path.as_str()
    };
    Ok(if path.is_empty() || path == "/" {
        url.host
    } else {
        format!("{}{path}", url.host)
    })
}

/// A `host[:port]/path` split into dot-labels, port and path, as the keyring's `splitURL` does
/// for both the key and the target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Split {
    labels: Vec<String>,
    port: String,
    path: String,
}

impl Split {
    /// Parses a schemeless `host[:port][/path]`; `None` where Go's `url.Parse` fails.
    pub(super) fn parse(schemeless: &str) -> Option<Self> {
        let url = parse_url(&format!("https://{schemeless}")).ok()?;
        let (host, port) = split_host_port(&url.host).unwrap_or((url.host.as_str(), ""));
        Some(Self {
            labels: host.split('.').map(str::to_owned).collect(),
            port: port.to_owned(),
            path: url.path,
        })
    }

    /// The host without the port.
    pub(super) fn host(&self) -> String {
        self.labels.join(".")
    }

    /// The port, empty when none.
    pub(super) fn port(&self) -> &str {
        &self.port
    }

    /// Whether `target` matches this key (`self`): same port, same number of dot-labels, each
    /// label glob-matched, and the key's path a prefix of the target's. The prefix is textual,
    /// as in Flux: key `host/team` also matches `host/teamwork/app`.
    pub(super) fn matches(&self, target: &Split) -> bool {
        self.port == target.port
            && self.labels.len() == target.labels.len()
            && target.path.starts_with(&self.path)
            && self
                .labels
                .iter()
                .zip(&target.labels)
                .all(|(glob, label)| glob_match(glob, label))
    }
}

/// Go's `net.SplitHostPort`; `None` where it returns an error (the keyring then uses the whole
/// host and an empty port).
fn split_host_port(hostport: &str) -> Option<(&str, &str)> {
    let last_colon = hostport.rfind(':')?;
    let (host, skip_open, skip_close) = if hostport.starts_with('[') {
        let close = hostport.find(']')?;
        if close + 1 != last_colon {
            return None;
        }
        (&hostport[1..close], 1, close + 1)
    } else {
        let host = &hostport[..last_colon];
        if host.contains(':') {
            return None;
        }
        (host, 0, 0)
    };
    if hostport[skip_open..].contains('[') || hostport[skip_close..].contains(']') {
        return None;
    }
    Some((host, &hostport[last_colon + 1..]))
}

/// One element of a `filepath.Match` pattern.
#[derive(Debug)]
enum Token {
    /// `*`: any run of characters (a host label holds no `/`, Go's only exclusion).
    Star,
    /// `?`: one character.
    Any,
    /// `[…]` or `[^…]`.
    Class {
        negated: bool,
        ranges: Vec<(char, char)>,
    },
    /// A literal character, possibly written `\c`.
    Literal(char),
}

/// Go's `filepath.Match(pattern, text)` on Unix, where a malformed pattern (which Go reports as
/// `ErrBadPattern`, and the keyring as "no match") never matches.
pub(super) fn glob_match(pattern: &str, text: &str) -> bool {
    let Some(tokens) = tokenize(pattern) else {
        return false;
    };
    let text: Vec<char> = text.chars().collect();
    let (mut t, mut ti) = (0, 0);
    // Where to resume after the last `*`: the token after it, and the text position it now covers.
    let mut resume: Option<(usize, usize)> = None;
    while ti < text.len() {
        let step = match tokens.get(t) {
            Some(Token::Star) => {
                resume = Some((t + 1, ti));
                t += 1;
                continue;
            }
            Some(Token::Any) => true,
            Some(Token::Literal(c)) => *c == text[ti],
            Some(Token::Class { negated, ranges }) => {
                ranges.iter().any(|&(lo, hi)| lo <= text[ti] && text[ti] <= hi) != *negated
            }
            None => false,
        };
        if step {
            t += 1;
            ti += 1;
        } else if let Some((after_star, covered)) = resume {
            resume = Some((after_star, covered + 1));
            t = after_star;
            ti = covered + 1;
        } else {
            return false;
        }
    }
    tokens[t..].iter().all(|token| matches!(token, Token::Star))
}

/// Parses a pattern with Go's rules, `None` for what Go calls `ErrBadPattern`: a trailing `\`,
/// an unclosed `[`, an empty class, or a class item that is a bare `-` or `]`.
fn tokenize(pattern: &str) -> Option<Vec<Token>> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '*' => tokens.push(Token::Star),
            '?' => tokens.push(Token::Any),
            '\\' => {
                i += 1;
                tokens.push(Token::Literal(*chars.get(i)?));
            }
            '[' => {
                i += 1;
                let negated = chars.get(i) == Some(&'^');
                if negated {
                    i += 1;
                }
                let mut ranges = Vec::new();
                loop {
                    if chars.get(i) == Some(&']') && !ranges.is_empty() {
                        break;
                    }
                    let (lo, next) = class_char(&chars, i)?;
                    let (hi, next) = if chars.get(next) == Some(&'-') {
                        class_char(&chars, next + 1)?
                    } else {
                        (lo, next)
                    };
                    ranges.push((lo, hi));
                    i = next;
                }
                tokens.push(Token::Class { negated, ranges });
            }
            c => tokens.push(Token::Literal(c)),
        }
        i += 1;
    }
    Some(tokens)
}

/// Go's `getEsc`: one class character at `i`, possibly `\`-escaped, which must be followed by
/// more pattern. Returns the character and the index after it.
fn class_char(chars: &[char], mut i: usize) -> Option<(char, usize)> {
    match chars.get(i)? {
        '-' | ']' => return None,
        '\\' => i += 1,
        _ => {}
    }
    let c = *chars.get(i)?;
    (i + 1 < chars.len()).then_some((c, i + 1))
}

#[cfg(test)]
mod tests {
    use super::{Split, glob_match, normalize, parse_url, split_host_port};

    #[test]
    fn normalize_follows_the_keyring() {
        for (raw, normalized) in [
            ("ghcr.io", "ghcr.io"),
            ("https://ghcr.io", "ghcr.io"),
            ("http://ghcr.io/", "ghcr.io"),
            ("https://index.docker.io/v1/", "index.docker.io"),
            ("index.docker.io/v1/", "index.docker.io"),
            ("ghcr.io/v2/", "ghcr.io"),
            ("ghcr.io/v2/org/app", "ghcr.io/org/app"),
            ("ghcr.io/v2", "ghcr.io/v2"),
            ("ghcr.io/v3/org", "ghcr.io/v3/org"),
            ("host:8083/repository/internal", "host:8083/repository/internal"),
            ("user:pw@host:5000/x", "host:5000/x"),
            ("ghcr.io?query/x", "ghcr.io"),
            ("ghcr.io/org#frag", "ghcr.io/org"),
            ("ghcr.io/a%20b", "ghcr.io/a b"),
            ("*.azurecr.io", "*.azurecr.io"),
            ("[::1]:5000/x", "[::1]:5000/x"),
            ("", ""),
            ("HTTPS://ghcr.io", "HTTPS://ghcr.io"),
        ] {
            assert_eq!(normalize(raw), Ok(normalized.to_owned()), "{raw}");
        }
    }

    #[test]
    fn normalize_rejects_what_go_rejects() {
        for raw in [
            "host:abc",
            "host:50a0/x",
            "bad host",
            "ho{st",
            "host/%zz",
            "host/%4",
            "ho%41st",
            "[::1",
            "line\nbreak",
            "us er@host",
        ] {
            assert!(normalize(raw).is_err(), "{raw}");
        }
        assert_eq!(normalize("h%C3%A9st"), Ok("hést".to_owned()));
        assert_eq!(normalize("h%25st"), Ok("h%st".to_owned()));
    }

    #[test]
    fn parse_url_keeps_host_and_decoded_path() {
        let url = parse_url("https://u@host:1/p%2Fq?x#y").unwrap();
        assert_eq!((url.host.as_str(), url.path.as_str()), ("host:1", "/p/q"));
        assert!(parse_url("ftp://host").is_err());
    }

    #[test]
    fn split_host_port_matches_go() {
        assert_eq!(split_host_port("host:5000"), Some(("host", "5000")));
        assert_eq!(split_host_port("host:"), Some(("host", "")));
        assert_eq!(split_host_port("[::1]:5000"), Some(("::1", "5000")));
        assert_eq!(split_host_port("host"), None);
        assert_eq!(split_host_port("a:b:5000"), None);
        assert_eq!(split_host_port("[::1]"), None);
        assert_eq!(split_host_port("r[0-9].io:5000"), None);
    }

    #[test]
    fn glob_matches_like_filepath_match() {
        for (pattern, text, expected) in [
            ("*", "anything", true),
            ("*", "", true),
            ("azurecr", "azurecr", true),
            ("azurecr", "azurecr2", false),
            ("a*", "abc", true),
            ("*c", "abc", true),
            ("a*c", "ac", true),
            ("a*b*c", "axxbyyc", true),
            ("a*b*c", "axxbyy", false),
            ("a?c", "abc", true),
            ("a?c", "ac", false),
            ("[abc]x", "bx", true),
            ("[^abc]x", "bx", false),
            ("[^abc]x", "dx", true),
            ("[a-c]", "b", true),
            ("[a-c]", "d", false),
            ("[z-a]", "m", false),
            ("\\*", "*", true),
            ("\\*", "a", false),
            ("[\\]]", "]", true),
            ("é*", "ébc", true),
            // Malformed patterns never match, even text they would otherwise match.
            ("[]", "]", false),
            ("[", "[", false),
            ("[a", "a", false),
            ("[-a]", "-", false),
            ("[a-]", "a", false),
            ("a\\", "a", false),
            ("[^]", "x", false),
            ("x[", "y", false),
        ] {
            assert_eq!(glob_match(pattern, text), expected, "{pattern} vs {text}");
        }
    }

    #[test]
    fn split_matching() {
        let key = |k: &str| Split::parse(k).unwrap();
        let target = |t: &str| Split::parse(t).unwrap();
        assert!(key("*.azurecr.io").matches(&target("team.azurecr.io/app")));
        assert!(!key("*.azurecr.io").matches(&target("a.b.azurecr.io/app")));
        assert!(!key("*.azurecr.io").matches(&target("azurecr.io/app")));
        assert!(key("host:8083/repository/internal").matches(&target("host:8083/repository/internal/app")));
        assert!(!key("host:8083/repository/internal").matches(&target("host:8083/other")));
        assert!(!key("host:8083").matches(&target("host:8084/app")));
        assert!(!key("host").matches(&target("host:8083/app")));
        assert!(key("host/team").matches(&target("host/teamwork/app")));
        assert_eq!(key("a.b:1/x").host(), "a.b");
        assert_eq!(key("a.b:1/x").port(), "1");
    }
}
