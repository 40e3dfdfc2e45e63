//! Garbage in, a `Rejection` or a verdict out: `verify` never panics, whatever the body and
//! headers. Bodies are sent both unsigned and correctly signed, so the payload parsers see the
//! garbage too, not just the signature checks.

use aws_lc_rs::hmac::{HMAC_SHA1_FOR_LEGACY_USE_ONLY, HMAC_SHA256};
use axum::http::{HeaderMap, HeaderName, HeaderValue};

use super::gcr::{claims, gcr_secret, jwt, key, serve_jwks};
use super::{TOKEN, assert_no_secret, hmac_hex, sample};
use crate::receiver::{WebhookType, verify};

/// xorshift64*: reproducible without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n as u64).unwrap()
    }

    fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next().to_le_bytes()[0]).collect()
    }

    /// Bytes a header value may hold (visible ASCII, space, tab, obs-text).
    fn header_value(&mut self) -> HeaderValue {
        let len = self.below(40);
        let bytes: Vec<u8> = (0..len)
            .map(|_| match self.below(10) {
                0 => 0x80 + u8::try_from(self.below(0x80)).unwrap(),
                1 => b'=',
                _ => 0x20 + u8::try_from(self.below(0x5f)).unwrap(),
            })
            .collect();
        HeaderValue::from_bytes(&bytes).unwrap()
    }
}

const JSON_PIECES: [&str; 24] = [
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "\"",
    "null",
    "true",
    "1e999",
    "-0",
    "\"type\"",
    "\"PUSH_ARTIFACT\"",
    "\"action\"",
    "\"push\"",
    "\"INSERT\"",
    "\"target\"",
    "\"message\"",
    "\"data\"",
    "\"package\"",
    "\"push_data\"",
    "\"\\ud800\"",
    "\"docker_url\"",
    "\"component\"",
];

fn body(rng: &mut Rng, samples: &[Vec<u8>]) -> Vec<u8> {
    let sample = &samples[rng.below(samples.len())];
    match rng.below(5) {
        0 => {
            let len = rng.below(300);
            rng.bytes(len)
        }
        1 => sample[..rng.below(sample.len() + 1)].to_vec(),
        2 => {
            let mut mutated = sample.clone();
            for _ in 0..=rng.below(4) {
                let at = rng.below(mutated.len());
                mutated[at] = rng.bytes(1)[0];
            }
            mutated
        }
        3 => (0..rng.below(30))
            .flat_map(|_| JSON_PIECES[rng.below(JSON_PIECES.len())].bytes())
            .collect(),
        _ => sample.clone(),
    }
}

const HEADER_NAMES: [&str; 12] = [
    "X-Signature",
    "X-Hub-Signature",
    "X-Hub-Signature-256",
    "X-GitHub-Event",
    "X-Gitlab-Token",
    "X-Gitlab-Event",
    "X-Event-Key",
    "Authorization",
    "X-Nexus-Webhook-Signature",
    "Ce-Type",
    "Content-Type",
    "X-Unrelated",
];

/// Correct authentication for `kind` over `body`, so the parsers are reached.
fn signed_headers(kind: WebhookType, body: &[u8], token: &str, rng: &mut Rng) -> HeaderMap {
    let key = TOKEN.as_bytes();
    let sha256 = || format!("sha256={}", hmac_hex(HMAC_SHA256, key, body));
    let pairs: Vec<(&str, String)> = match kind {
        WebhookType::GenericHmac => vec![("X-Signature", sha256())],
        WebhookType::Github => {
            let events = ["package", "registry_package", "push", "ping"];
            let event = events[rng.below(events.len())];
            let content_type = ["application/json", "application/x-www-form-urlencoded"][rng.below(2)];
            vec![
                ("X-Hub-Signature-256", sha256()),
                ("X-GitHub-Event", event.to_owned()),
                ("Content-Type", content_type.to_owned()),
            ]
        }
        WebhookType::Gitlab => vec![("X-Gitlab-Token", TOKEN.to_owned())],
        WebhookType::Bitbucket => vec![("X-Hub-Signature", sha256())],
        WebhookType::Harbor => vec![("Authorization", TOKEN.to_owned())],
        WebhookType::Nexus => vec![(
            "X-Nexus-Webhook-Signature",
            hmac_hex(HMAC_SHA1_FOR_LEGACY_USE_ONLY, key, body),
        )],
        WebhookType::Gcr => vec![("Authorization", format!("Bearer {token}"))],
        WebhookType::Cdevents => vec![("Ce-Type", "dev.cdevents.artifact.published.0.2.0".to_owned())],
        WebhookType::Generic | WebhookType::Dockerhub | WebhookType::Quay | WebhookType::Acr => vec![],
    };
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.insert(name, HeaderValue::from_str(&value).unwrap());
    }
    map
}

fn random_headers(rng: &mut Rng) -> HeaderMap {
    let mut map = HeaderMap::new();
    for _ in 0..rng.below(6) {
        let name = HEADER_NAMES[rng.below(HEADER_NAMES.len())];
        map.append(HeaderName::from_static_lower(name), rng.header_value());
    }
    map
}

trait FromStaticLower {
    fn from_static_lower(name: &str) -> HeaderName;
}

impl FromStaticLower for HeaderName {
    fn from_static_lower(name: &str) -> HeaderName {
        HeaderName::from_bytes(name.to_ascii_lowercase().as_bytes()).unwrap()
    }
}

#[tokio::test]
async fn garbage_never_panics() {
    let (_, google) = serve_jwks(&[("k1", key(0))]).await;
    let token = jwt("k1", key(0), &claims());
    let secret = gcr_secret();
    let samples: Vec<Vec<u8>> = WebhookType::ALL.iter().map(|k| sample(k.as_str())).collect();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut outcomes = [0usize; 2];
    for kind in WebhookType::ALL {
        for round in 0..250 {
            let body = body(&mut rng, &samples);
            let headers = if round % 2 == 0 {
                signed_headers(kind, &body, &token, &mut rng)
            } else {
                random_headers(&mut rng)
            };
            let events: Vec<String> = if rng.below(4) == 0 {
                vec!["push".to_owned()]
            } else {
                vec![]
            };
            let result = verify(kind, &secret, &events, &headers, &body, &google).await;
            assert_no_secret(&result);
            outcomes[usize::from(result.is_ok())] += 1;
        }
    }
    // Both sides were exercised.
    assert!(outcomes[0] > 100 && outcomes[1] > 100, "{outcomes:?}");
}
