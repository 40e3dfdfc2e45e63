//! `imagebump scan` against the real registry: credentials from a Secret file, TLS with a CA,
//! client certificates, proxies (`--proxy` and the environment), exclusions, and the exit codes.

use base64::Engine;
use imagebump_testsupport::{RegistryMode, TestProxy, TestRegistry};

use crate::support::{imagebump, imagebump_with_env, write};

/// A `kubernetes.io/dockerconfigjson` Secret as `kubectl create secret docker-registry
/// --dry-run=client -o yaml` writes it.
fn secret_yaml(server: &str, user: &str, password: &str) -> String {
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let json = format!(
        r#"{{"auths":{{"{server}":{{"username":"{user}","password":"{password}","auth":"{}"}}}}}}"#,
        b64(&format!("{user}:{password}"))
    );
    format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: regcred\n  namespace: flux-system\n\
         type: kubernetes.io/dockerconfigjson\ndata:\n  .dockerconfigjson: {}\n",
        b64(&json)
    )
}

#[tokio::test]
async fn scan_with_a_docker_registry_secret() {
    let Some(registry) = TestRegistry::start(RegistryMode::Basic).await else {
        return;
    };
    registry
        .push("team/app", &["1.0.0", "1.1.0", "sha256-abc.sig"])
        .await;
    let dir = tempfile::tempdir().expect("temp dir");
    let (user, password) = registry.credentials().expect("basic mode");
    let secret = write(
        dir.path(),
        "regcred.yaml",
        &secret_yaml(registry.host(), user, password),
    );
    let image = format!("{}/team/app", registry.host());

    let run = imagebump(&["scan", &image, "--secret", &secret, "-o", "json"], "");
    assert_eq!(run.code, 0, "{}", run.stderr);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON");
    assert_eq!(json["tagCount"], 2, "the .sig tag is excluded by default");
    assert_eq!(json["tags"], serde_json::json!(["1.1.0", "1.0.0"]));
    assert!(
        json["revision"]
            .as_str()
            .is_some_and(|r| r.starts_with("sha256:"))
    );
    assert_eq!(json["canonicalImageName"], image);

    let run = imagebump(&["scan", &image, "--secret", &secret, "--exclude", "^1\\.0"], "");
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .contains("successful scan: found 2 tags with checksum sha256:"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("sha256-abc.sig") && !run.stdout.contains("\n1.0.0"),
        "{}",
        run.stdout
    );
}

#[tokio::test]
async fn wrong_or_missing_credentials_exit_3_without_the_password() {
    let Some(registry) = TestRegistry::start(RegistryMode::Basic).await else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let secret = write(
        dir.path(),
        "bad.yaml",
        &secret_yaml(registry.host(), "testuser", "hunter2-wrong"),
    );
    let image = format!("{}/team/app", registry.host());
    let run = imagebump(&["scan", &image, "--secret", &secret], "");
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(run.stderr.contains("authentication failed"), "{}", run.stderr);
    assert!(!run.stderr.contains("hunter2"), "password leaked: {}", run.stderr);

    let run = imagebump(&["scan", &image], "");
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(run.stderr.contains("requires credentials"), "{}", run.stderr);
}

#[tokio::test]
async fn scan_over_tls_with_a_ca_file() {
    let Some(registry) = TestRegistry::start(RegistryMode::Tls).await else {
        return;
    };
    registry.push("team/app", &["2.0.0"]).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let (user, password) = registry.credentials().expect("tls mode has credentials");
    let secret = write(
        dir.path(),
        "regcred.yaml",
        &secret_yaml(registry.host(), user, password),
    );
    let ca = registry
        .ca_path()
        .expect("tls mode has a CA")
        .display()
        .to_string();
    let image = format!("{}/team/app", registry.host());

    let run = imagebump(&["scan", &image, "--secret", &secret, "--ca", &ca], "");
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.ends_with("2.0.0\n"), "{}", run.stdout);

    let run = imagebump(&["scan", &image, "--secret", &secret], "");
    assert_eq!(run.code, 3);
    assert!(run.stderr.contains("TLS certificate rejected"), "{}", run.stderr);
}

#[tokio::test]
async fn scan_with_a_client_certificate() {
    let Some(registry) = TestRegistry::start(RegistryMode::MutualTls).await else {
        return;
    };
    registry.push("team/app", &["1.2.3"]).await;
    let path = |p: Option<&std::path::Path>| p.expect("mTLS mode has it").display().to_string();
    let ca = path(registry.ca_path());
    let cert = path(registry.client_cert_path());
    let key = path(registry.client_key_path());
    let image = format!("{}/team/app", registry.host());

    let run = imagebump(&["scan", &image, "--ca", &ca, "--cert", &cert, "--key", &key], "");
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.ends_with("1.2.3\n"), "{}", run.stdout);

    let run = imagebump(&["scan", &image, "--ca", &ca], "");
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(run.stderr.contains(registry.host()), "{}", run.stderr);
}

/// Proxy credentials with characters that must be percent-encoded in a URL.
const PROXY_USER: &str = "proxy user";
const PROXY_PASSWORD: &str = "p@ss:w/rd";
const PROXY_USERINFO: &str = "proxy%20user:p%40ss%3Aw%2Frd";

#[tokio::test]
async fn scan_through_the_proxy_given_with_proxy() {
    let Some(registry) = TestRegistry::start(RegistryMode::Basic).await else {
        return;
    };
    registry.push("team/app", &["1.0.0", "1.1.0"]).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let (user, password) = registry.credentials().expect("basic mode");
    let secret = write(
        dir.path(),
        "regcred.yaml",
        &secret_yaml(registry.host(), user, password),
    );
    let image = format!("{}/team/app", registry.host());
    let proxy = TestProxy::with_credentials(PROXY_USER, PROXY_PASSWORD);
    let port = proxy.addr().port();

    // The userinfo is split off the URL, percent-decoded, and sent as Proxy-Authorization;
    // `--proxy` wins over the environment, `NO_PROXY` included.
    let url = format!("http://{PROXY_USERINFO}@127.0.0.1:{port}");
    let env = [("HTTP_PROXY", "http://127.0.0.1:9"), ("NO_PROXY", "127.0.0.1")];
    let run = imagebump_with_env(&["scan", &image, "--secret", &secret, "--proxy", &url], "", &env);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.ends_with("1.1.0\n1.0.0\n"), "{}", run.stdout);
    assert!(
        proxy.forwarded() >= 2,
        "/v2/ and tags/list: {:?}",
        proxy.requests()
    );
    assert_eq!(proxy.refused(), 0, "{:?}", proxy.requests());
    assert!(
        proxy.targets().iter().all(|t| t == registry.host()),
        "{:?}",
        proxy.targets()
    );

    // A wrong proxy password: the proxy's 407, exit 3, and no password in sight.
    let seen = proxy.forwarded() + proxy.tunnels();
    let url = format!("http://proxy%20user:hunter2-wrong@127.0.0.1:{port}");
    let run = imagebump_with_env(&["scan", &image, "--secret", &secret, "--proxy", &url], "", &[]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(
        run.stderr.contains("407") && run.stderr.contains(registry.host()),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("hunter2"), "password leaked: {}", run.stderr);
    assert!(proxy.refused() >= 1);
    assert_eq!(proxy.forwarded() + proxy.tunnels(), seen);

    // A malformed one is invalid input, also without the password.
    let run = imagebump_with_env(&["scan", &image, "--proxy", "http://u:hunter2%ff@proxy"], "", &[]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("--proxy"), "{}", run.stderr);
    assert!(!run.stderr.contains("hunter2"), "password leaked: {}", run.stderr);
}

#[tokio::test]
async fn scan_through_http_proxy_from_the_environment() {
    let Some(registry) = TestRegistry::start(RegistryMode::Open).await else {
        return;
    };
    registry.push("team/app", &["0.1.0"]).await;
    let image = format!("{}/team/app", registry.host());
    let proxy = TestProxy::with_credentials(PROXY_USER, PROXY_PASSWORD);
    let url = format!("http://{PROXY_USERINFO}@127.0.0.1:{}", proxy.addr().port());

    // `--insecure` makes every request plain HTTP, so `HTTP_PROXY` (or `http_proxy`) is the
    // one that applies; reqwest decodes the userinfo itself. `127.0.0.1` is proxied: reqwest,
    // unlike Go, has no loopback exception.
    let mut seen = 0;
    for variable in ["HTTP_PROXY", "http_proxy"] {
        let run = imagebump_with_env(&["scan", &image, "--insecure"], "", &[(variable, &url)]);
        assert_eq!(run.code, 0, "{variable}: {}", run.stderr);
        assert!(run.stdout.ends_with("0.1.0\n"), "{}", run.stdout);
        assert!(
            proxy.forwarded() >= seen + 2,
            "{variable}: /v2/ and tags/list: {:?}",
            proxy.requests()
        );
        seen = proxy.forwarded();
    }
    assert_eq!(
        (proxy.tunnels(), proxy.refused()),
        (0, 0),
        "{:?}",
        proxy.requests()
    );
    assert!(proxy.targets().iter().all(|t| t == registry.host()));

    // `NO_PROXY` listing the host sends the scan around the proxy.
    let run = imagebump_with_env(
        &["scan", &image, "--insecure"],
        "",
        &[("HTTP_PROXY", &url), ("NO_PROXY", "127.0.0.1")],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(proxy.forwarded(), seen, "{:?}", proxy.requests());
}

#[test]
fn invalid_input_exits_2() {
    for (args, needle) in [
        (
            vec!["scan", "https://ghcr.io/org/app"],
            "should not include URL scheme",
        ),
        (vec!["scan", "ghcr.io/org/app:1.0"], "should not include a tag"),
        (
            vec!["scan", "ghcr.io/org/app", "--exclude", "("],
            "exclusionList[0]",
        ),
        (
            vec!["scan", "ghcr.io/org/app", "--secret", "/nonexistent"],
            "/nonexistent",
        ),
        (vec!["scan", "ghcr.io/org/app", "--timeout", "5"], "missing unit"),
    ] {
        let run = imagebump(&args, "");
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(
            run.stderr.contains(needle),
            "{args:?}: want {needle:?} in {}",
            run.stderr
        );
    }
}
