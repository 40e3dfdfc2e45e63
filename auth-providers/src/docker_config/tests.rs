use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};

use super::{DockerConfig, Error, Format, MatchOptions};
use crate::{Credential, Secret};

fn config(json: &str) -> DockerConfig {
    DockerConfig::parse_dockerconfigjson(json.as_bytes()).unwrap()
}

fn user_of(config: &DockerConfig, registry: &str, repository: &str) -> Option<String> {
    config
        .lookup(registry, repository)
        .map(|found| match found.credential {
            Credential::Basic { username, .. } => username.clone(),
            other => panic!("expected basic, got {other:?}"),
        })
}

#[test]
fn path_keys_match_their_subtree_only_issue_127() {
    // Flux issue #127: keys with a path, as Nexus and Artifactory hand out.
    let config =
        config(r#"{"auths": {"host:8083/repository/internal": {"username": "nexus", "password": "p"}}}"#);
    assert_eq!(
        user_of(&config, "host:8083", "repository/internal/app"),
        Some("nexus".into())
    );
    assert_eq!(user_of(&config, "host:8083", "other"), None);
    assert_eq!(user_of(&config, "host:8083", "repository/other/app"), None);
}

#[test]
fn host_labels_are_globs() {
    let config = config(r#"{"auths": {"*.azurecr.io": {"username": "acr", "password": "p"}}}"#);
    assert_eq!(user_of(&config, "team.azurecr.io", "app"), Some("acr".into()));
    assert_eq!(user_of(&config, "azurecr.io", "app"), None);
    assert_eq!(user_of(&config, "a.team.azurecr.io", "app"), None);
    let config =
        self::config(r#"{"auths": {"registry.*.example.com": {"username": "mid", "password": "p"}}}"#);
    assert_eq!(
        user_of(&config, "registry.eu.example.com", "app"),
        Some("mid".into())
    );
}

#[test]
fn ports_must_be_equal() {
    let config = config(
        r#"{"auths": {
        "127.0.0.1:5000": {"username": "five", "password": "p"},
        "registry.local": {"username": "none", "password": "p"}
    }}"#,
    );
    assert_eq!(user_of(&config, "127.0.0.1:5000", "app"), Some("five".into()));
    assert_eq!(user_of(&config, "127.0.0.1:5001", "app"), None);
    assert_eq!(user_of(&config, "127.0.0.1", "app"), None);
    assert_eq!(user_of(&config, "registry.local:443", "app"), None);
    assert_eq!(user_of(&config, "registry.local", "app"), Some("none".into()));
}

#[test]
fn docker_hub_keys_as_flux_reads_them() {
    for key in [
        "https://index.docker.io/v1/",
        "index.docker.io",
        "https://index.docker.io",
        "index.docker.io/v2/",
    ] {
        let config = config(&format!(
            r#"{{"auths": {{"{key}": {{"username": "hub", "password": "p"}}}}}}"#
        ));
        assert_eq!(
            user_of(&config, "index.docker.io", "library/alpine"),
            Some("hub".into()),
            "{key}"
        );
        assert_eq!(config.docker_hub_alias_keys().count(), 0, "{key}");
    }
}

#[test]
fn docker_io_keys_need_the_opt_in() {
    for key in ["docker.io", "https://docker.io/v1/", "registry-1.docker.io"] {
        let config = config(&format!(
            r#"{{"auths": {{"{key}": {{"username": "hub", "password": "p"}}}}}}"#
        ));
        assert!(
            config.lookup("index.docker.io", "library/alpine").is_none(),
            "{key}"
        );
        let options = MatchOptions::default().docker_hub_aliases(true);
        let found = config
            .lookup_with("index.docker.io", "library/alpine", options)
            .unwrap();
        assert!(found.via_docker_hub_alias);
        assert_eq!(found.key, key);
        assert_eq!(config.docker_hub_alias_keys().collect::<Vec<_>>(), [key]);
        // The fallback is for Docker Hub only.
        assert!(config.lookup_with("ghcr.io", "org/app", options).is_none());
    }
}

#[test]
fn the_alias_fallback_never_overrides_a_flux_match() {
    let config = config(
        r#"{"auths": {
        "docker.io": {"username": "alias", "password": "p"},
        "https://index.docker.io/v1/": {"username": "canonical", "password": "p"}
    }}"#,
    );
    let found = config
        .lookup_with(
            "index.docker.io",
            "library/alpine",
            MatchOptions {
                docker_hub_aliases: true,
            },
        )
        .unwrap();
    assert_eq!(found.credential, &Credential::basic("canonical", "p"));
    assert!(!found.via_docker_hub_alias);
}

#[test]
fn keys_are_tried_in_descending_order_and_the_first_match_wins() {
    let config = config(
        r#"{"auths": {
        "ghcr.io": {"username": "host", "password": "p"},
        "ghcr.io/org": {"username": "org", "password": "p"},
        "ghcr.io/org/app": {"username": "app", "password": "p"},
        "*.io": {"username": "glob", "password": "p"}
    }}"#,
    );
    assert_eq!(
        config.keys().collect::<Vec<_>>(),
        ["ghcr.io/org/app", "ghcr.io/org", "ghcr.io", "*.io"]
    );
    assert_eq!(user_of(&config, "ghcr.io", "org/app"), Some("app".into()));
    assert_eq!(user_of(&config, "ghcr.io", "org/other"), Some("org".into()));
    assert_eq!(user_of(&config, "ghcr.io", "elsewhere/app"), Some("host".into()));
    assert_eq!(user_of(&config, "quay.io", "elsewhere/app"), Some("glob".into()));
    // Descending byte order puts `*` (0x2A) after letters, so an exact host beats a glob.
    let config = config_with_z();
    assert_eq!(user_of(&config, "z.io", "app"), Some("z".into()));
}

fn config_with_z() -> DockerConfig {
    config(
        r#"{"auths": {"*.io": {"username": "glob", "password": "p"}, "z.io": {"username": "z", "password": "p"}}}"#,
    )
}

#[test]
fn keys_that_normalize_alike_are_tried_in_written_order() {
    let config = config(
        r#"{"auths": {
        "https://ghcr.io/v2/": {"username": "second", "password": "p"},
        "ghcr.io": {"username": "first", "password": "p"}
    }}"#,
    );
    // `ghcr.io` < `https://ghcr.io/v2/` byte-wise.
    assert_eq!(user_of(&config, "ghcr.io", "org/app"), Some("first".into()));
    assert_eq!(config.len(), 2);
}

#[test]
fn merge_keeps_earlier_sources_first_among_equal_keys() {
    let mut first = config(r#"{"auths": {"ghcr.io": {"username": "first", "password": "p"}}}"#);
    let second = config(
        r#"{"auths": {
        "ghcr.io": {"username": "second", "password": "p"},
        "ghcr.io/org": {"username": "specific", "password": "p"}
    }}"#,
    );
    first.merge(second);
    assert_eq!(user_of(&first, "ghcr.io", "other"), Some("first".into()));
    assert_eq!(user_of(&first, "ghcr.io", "org/app"), Some("specific".into()));
}

#[test]
fn auth_overrides_username_and_password_padded_or_not() {
    for encoded in [STANDARD.encode("ci:tok:en"), STANDARD_NO_PAD.encode("ci:tok:en")] {
        let config = config(&format!(
            r#"{{"auths": {{"ghcr.io": {{"username": "ignored", "password": "ignored", "auth": "{encoded}"}}}}}}"#
        ));
        assert_eq!(
            config.lookup("ghcr.io", "x").unwrap().credential,
            &Credential::basic("ci", "tok:en")
        );
    }
    // "a:b" is "YTpi" (no padding needed); "ab:c" is "YWI6Yw==" padded, "YWI6Yw" unpadded.
    assert_eq!(STANDARD.encode("ab:c"), "YWI6Yw==");
    let config = config(r#"{"auths": {"x.io": {"auth": "YWI6Yw"}, "y.io": {"auth": "YWI6\nYw=="}}}"#);
    assert_eq!(
        config.lookup("x.io", "r").unwrap().credential,
        &Credential::basic("ab", "c")
    );
    assert_eq!(
        config.lookup("y.io", "r").unwrap().credential,
        &Credential::basic("ab", "c")
    );
}

#[test]
fn legacy_dockercfg_has_the_map_at_top_level() {
    let json = format!(
        r#"{{"https://index.docker.io/v1/": {{"auth": "{}", "email": "me@example.com"}}}}"#,
        STANDARD.encode("old:school")
    );
    let config = DockerConfig::parse_dockercfg(json.as_bytes()).unwrap();
    assert_eq!(
        config
            .lookup("index.docker.io", "library/alpine")
            .unwrap()
            .credential,
        &Credential::basic("old", "school")
    );
    let via_format = DockerConfig::parse(
        Format::from_secret_type("kubernetes.io/dockercfg").unwrap(),
        json.as_bytes(),
    );
    assert_eq!(via_format.unwrap(), config);
    // The same bytes as a dockerconfigjson have no `auths`: empty, everything anonymous.
    assert!(
        DockerConfig::parse_dockerconfigjson(json.as_bytes())
            .unwrap()
            .is_empty()
    );
}

#[test]
fn token_fields_take_precedence_like_go_containerregistry() {
    let config = config(
        r#"{"auths": {
        "a.io": {"registrytoken": "rt", "identitytoken": "it", "username": "u", "password": "p"},
        "b.io": {"identitytoken": "it", "username": "u", "password": "p"},
        "c.io": {"username": "u"},
        "d.io": {"email": "only@example.com"},
        "e.io": null,
        "f.io": {"Username": "case", "PASSWORD": "insensitive", "IdentityToken": null}
    }}"#,
    );
    let credential = |host: &str| config.lookup(host, "r").unwrap().credential.clone();
    assert_eq!(credential("a.io"), Credential::RegistryToken(Secret::new("rt")));
    assert_eq!(credential("b.io"), Credential::IdentityToken(Secret::new("it")));
    assert_eq!(credential("c.io"), Credential::basic("u", ""));
    assert_eq!(credential("d.io"), Credential::Anonymous);
    assert_eq!(credential("e.io"), Credential::Anonymous);
    assert_eq!(credential("f.io"), Credential::basic("case", "insensitive"));
    assert_eq!(
        config.credential("g.io", "r", MatchOptions::default()),
        Credential::Anonymous
    );
}

#[test]
fn empty_and_null_auths_are_empty_configs() {
    for json in [
        "{}",
        r#"{"auths": null}"#,
        r#"{"auths": {}}"#,
        r#"{"credsStore": "desktop"}"#,
    ] {
        assert!(config(json).is_empty(), "{json}");
    }
}

#[test]
fn formats_know_their_secret_types() {
    for format in [Format::DockerConfigJson, Format::DockerCfg] {
        assert_eq!(Format::from_secret_type(format.secret_type()), Some(format));
    }
    assert_eq!(Format::DockerConfigJson.data_key(), ".dockerconfigjson");
    assert_eq!(Format::DockerCfg.data_key(), ".dockercfg");
    assert_eq!(Format::from_secret_type("Opaque"), None);
}

#[test]
fn invalid_json_gives_position_not_content() {
    let json = "{\"auths\": {\n  \"ghcr.io\": {\"password\": \"hunter2-secret\",}\n}}";
    let error = DockerConfig::parse_dockerconfigjson(json.as_bytes()).unwrap_err();
    let Error::InvalidJson {
        line,
        column,
        ref reason,
    } = error
    else {
        panic!("{error:?}")
    };
    assert_eq!((line, column), (2, 44));
    assert!(reason.contains("trailing comma"), "{reason}");
    let shown = error.to_string();
    assert!(!shown.contains("hunter2"), "{shown}");
    assert_eq!(
        shown,
        "docker config is not valid JSON: trailing comma at line 2, column 44"
    );
    assert!(!error.is_transient());
}

fn parse_error(json: &str) -> Error {
    DockerConfig::parse_dockerconfigjson(json.as_bytes()).unwrap_err()
}

#[test]
fn structural_errors_name_the_key() {
    assert_eq!(
        parse_error("[]"),
        Error::TopLevelNotAnObject { found: "an array" }
    );
    assert_eq!(
        parse_error(r#"{"auths": "x"}"#),
        Error::AuthsNotAnObject { found: "a string" }
    );
    assert_eq!(
        parse_error(r#"{"auths": {"ghcr.io": "secret-value"}}"#),
        Error::EntryNotAnObject {
            key: "ghcr.io".into(),
            found: "a string"
        }
    );
    assert_eq!(
        parse_error(r#"{"auths": {"ghcr.io": {"password": 12345}}}"#),
        Error::FieldNotAString {
            key: "ghcr.io".into(),
            field: "password",
            found: "a number"
        }
    );
    assert_eq!(
        parse_error(r#"{"auths": {"ghcr.io:port": {}}}"#),
        Error::InvalidKey {
            key: "ghcr.io:port".into(),
            reason: "invalid port"
        }
    );
}

#[test]
fn auth_errors_name_the_key() {
    assert_eq!(
        parse_error(r#"{"auths": {"ghcr.io": {"auth": "not base64!"}}}"#),
        Error::InvalidBase64 {
            key: "ghcr.io".into()
        }
    );
    let no_colon = STANDARD.encode("justatoken");
    assert_eq!(
        parse_error(&format!(
            r#"{{"auths": {{"ghcr.io": {{"auth": "{no_colon}"}}}}}}"#
        )),
        Error::AuthWithoutColon {
            key: "ghcr.io".into()
        }
    );
    let not_utf8 = STANDARD.encode([0xff, b':', 0xfe]);
    assert_eq!(
        parse_error(&format!(
            r#"{{"auths": {{"ghcr.io": {{"auth": "{not_utf8}"}}}}}}"#
        )),
        Error::AuthNotUtf8 {
            key: "ghcr.io".into()
        }
    );
}

#[test]
fn keys_in_errors_lose_their_user_info_and_length() {
    let error = parse_error(r#"{"auths": {"https://user:hunter2@ghcr.io:bad/x": {}}}"#);
    assert_eq!(
        error,
        Error::InvalidKey {
            key: "https://<redacted>@ghcr.io:bad/x".into(),
            reason: "invalid port"
        }
    );
    let long = "a".repeat(500);
    let Error::InvalidBase64 { key } =
        parse_error(&format!(r#"{{"auths": {{"{long}": {{"auth": "%%%"}}}}}}"#))
    else {
        panic!()
    };
    assert_eq!(key.chars().count(), 201);
}

/// Every error variant, built from inputs full of secrets, shows none of them.
#[test]
fn no_error_shows_a_secret() {
    const SECRET: &str = "TOPSECRET";
    let b64 = |text: &str| STANDARD.encode(text);
    let cases = [
        format!(r#"{{"auths": {{"ghcr.io": {{"password": "{SECRET}"}},}}}}"#),
        format!(r#"{{"auths": {{"ghcr.io": {{"password": "{SECRET}"#),
        format!(r#"{{"auths": {{"ghcr.io": {{"password": "{SECRET}" "x"}}}}}}"#),
        format!(r#"["{SECRET}"]"#),
        format!(r#"{{"auths": "{SECRET}"}}"#),
        format!(r#"{{"auths": {{"ghcr.io": "{SECRET}"}}}}"#),
        format!(r#"{{"auths": {{"ghcr.io": {{"password": ["{SECRET}"]}}}}}}"#),
        format!(r#"{{"auths": {{"ghcr.io": {{"auth": "{SECRET}!"}}}}}}"#),
        format!(r#"{{"auths": {{"ghcr.io": {{"auth": "{}"}}}}}}"#, b64(SECRET)),
        format!(
            r#"{{"auths": {{"ghcr.io": {{"auth": "{}"}}}}}}"#,
            STANDARD.encode([0xff, b':', b'T', b'O', b'P'])
        ),
        format!(r#"{{"auths": {{"https://me:{SECRET}@ghcr.io:x/": {{}}}}}}"#),
        format!("{{\"auths\": {{\"ghcr.io\": {{\"password\": \"{SECRET}\u{1}\"}}}}}}"),
    ];
    let mut variants = std::collections::BTreeSet::new();
    for json in &cases {
        let error = parse_error(json);
        for shown in [format!("{error}"), format!("{error:?}"), format!("{error:#?}")] {
            assert!(!shown.contains(SECRET) && !shown.contains("TOP"), "{shown}");
        }
        variants.insert(format!("{error:?}").split([' ', '{']).next().unwrap().to_owned());
    }
    let expected = [
        "AuthNotUtf8",
        "AuthWithoutColon",
        "AuthsNotAnObject",
        "EntryNotAnObject",
        "FieldNotAString",
        "InvalidBase64",
        "InvalidJson",
        "InvalidKey",
        "TopLevelNotAnObject",
    ];
    assert_eq!(
        variants.iter().map(String::as_str).collect::<Vec<_>>(),
        expected,
        "every variant is covered"
    );
}
