//! `imagebump create image repository|policy|update … --export`: the seed document's three
//! commands print its YAML byte for byte, the other API versions print what flux prints,
//! policies load with `policy select`, and every invalid flag exits 2.

use std::process::{Command, Stdio};

use crate::support::{Run, SEED_AUTOMATION, SEED_POLICY, SEED_REPOSITORY, example, imagebump, write};

/// Runs `imagebump ARGS` without `FLUX_SYSTEM_NAMESPACE` from the test's environment, plus
/// `env`.
fn create_with_env(args: &[&str], env: &[(&str, &str)]) -> Run {
    Command::new(env!("CARGO_BIN_EXE_imagebump"))
        .args(args)
        .env_remove("FLUX_SYSTEM_NAMESPACE")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .output()
        .expect("the imagebump binary runs")
        .into()
}

fn create(args: &[&str]) -> Run {
    create_with_env(args, &[])
}

/// The YAML of a successful run.
fn export(args: &[&str]) -> String {
    let run = create(args);
    assert_eq!((run.code, run.stderr.as_str()), (0, ""), "{args:?}");
    run.stdout
}

/// The seed's `flux create image update` command, as a shell passes it.
const SEED_UPDATE_ARGS: [&str; 13] = [
    "create",
    "image",
    "update",
    "flux-system",
    "--git-repo-ref=flux-system",
    "--git-repo-path=./clusters/my-cluster",
    "--checkout-branch=main",
    "--push-branch=main",
    "--author-name=fluxcdbot",
    "--author-email=fluxcdbot@users.noreply.github.com",
    "--commit-template={{range .Updated.Images}}{{println .}}{{end}}",
    "--export",
    "--interval=1m",
];

#[test]
fn seed_commands_print_the_seed_yaml() {
    let repository = export(&[
        "create",
        "image",
        "repository",
        "podinfo",
        "--image=ghcr.io/stefanprodan/podinfo",
        "--interval=1m",
        "--export",
    ]);
    assert_eq!(repository, SEED_REPOSITORY);

    let policy = export(&[
        "create",
        "image",
        "policy",
        "podinfo",
        "--image-ref=podinfo",
        "--select-semver=5.0.x",
        "--export",
    ]);
    assert_eq!(policy, SEED_POLICY);

    // The seed gives no --interval; flux's default is 1m.
    assert_eq!(export(&SEED_UPDATE_ARGS[..12]), SEED_AUTOMATION);
    assert_eq!(export(&SEED_UPDATE_ARGS), SEED_AUTOMATION);
}

#[test]
fn other_api_versions_print_what_current_flux_prints() {
    // flux 2.7+ (v1) and 2.3-2.6 (v1beta2) sort every key, `spec` of the automation too.
    for version in ["v1beta2", "v1"] {
        let mut args = SEED_UPDATE_ARGS.to_vec();
        args.extend(["--api-version", version]);
        let want = format!(
            "apiVersion: image.toolkit.fluxcd.io/{version}
kind: ImageUpdateAutomation
metadata:
  name: flux-system
  namespace: flux-system
spec:
  git:
    checkout:
      ref:
        branch: main
    commit:
      author:
        email: fluxcdbot@users.noreply.github.com
        name: fluxcdbot
      messageTemplate: '{{{{range .Updated.Images}}}}{{{{println .}}}}{{{{end}}}}'
    push:
      branch: main
  interval: 1m0s
  sourceRef:
    kind: GitRepository
    name: flux-system
  update:
    path: ./clusters/my-cluster
    strategy: Setters
"
        );
        assert_eq!(export(&args), want, "{version}");
    }
    let repository = export(&[
        "create",
        "image",
        "repository",
        "podinfo",
        "--image=ghcr.io/stefanprodan/podinfo",
        "--export",
        "--api-version=v1",
    ]);
    assert_eq!(repository, SEED_REPOSITORY.replace("v1beta1", "v1"));
}

#[test]
fn every_repository_flag() {
    let yaml = export(&[
        "create",
        "image",
        "repository",
        "app",
        "--image=registry.example.com:5000/team/app",
        "--interval=90s",
        "--scan-timeout=2m",
        "--secret-ref=regcred",
        "--cert-ref=registry-ca",
        "-n",
        "apps",
        "--label=app.kubernetes.io/name=app,tier=1",
        "--label=team=web",
        "--export",
    ]);
    assert_eq!(
        yaml,
        "apiVersion: image.toolkit.fluxcd.io/v1beta1
kind: ImageRepository
metadata:
  labels:
    app.kubernetes.io/name: app
    team: web
    tier: \"1\"
  name: app
  namespace: apps
spec:
  certSecretRef:
    name: registry-ca
  image: registry.example.com:5000/team/app
  interval: 1m30s
  secretRef:
    name: regcred
  timeout: 2m0s
"
    );
}

#[test]
fn policies_of_every_kind() {
    // filterTags.extract has no omitempty in Flux's type: it is written even when empty.
    let yaml = export(&[
        "create",
        "image",
        "policy",
        "podinfo",
        "--image-ref=podinfo",
        "--select-alpha=desc",
        "--filter-regex=^RELEASE\\.",
        "--export",
    ]);
    assert!(
        yaml.ends_with(
            "spec:
  filterTags:
    extract: \"\"
    pattern: ^RELEASE\\.
  imageRepositoryRef:
    name: podinfo
  policy:
    alphabetical:
      order: desc
"
        ),
        "{yaml}"
    );

    let yaml = export(&[
        "create",
        "image",
        "policy",
        "podinfo",
        "--image-ref=podinfo",
        "--select-semver=>=1.0.0 <2.0.0",
        "--reflect-digest=Always",
        "--interval=10m",
        "--api-version=v1",
        "--export",
    ]);
    assert!(
        yaml.ends_with(
            "spec:
  digestReflectionPolicy: Always
  imageRepositoryRef:
    name: podinfo
  interval: 10m0s
  policy:
    semver:
      range: '>=1.0.0 <2.0.0'
"
        ),
        "{yaml}"
    );
}

#[test]
fn update_with_every_flag_and_a_multi_line_template() {
    let yaml = export(&[
        "create",
        "image",
        "update",
        "apps",
        "--namespace=apps",
        "--git-repo-ref=flux-system",
        "--git-repo-namespace=flux-system",
        "--checkout-branch=main",
        "--push-branch=image-updates",
        "--author-name=flux",
        "--author-email=flux@example.com",
        "--commit-template=Automated image update\n\n{{ range .Changed.Changes -}}\n- {{ .NewValue }}\n{{ end -}}\n",
        "--signing-key-secret=signing",
        "--signing-key-type=ssh",
        "--interval=30m",
        "--api-version=v1",
        "--export",
    ]);
    assert_eq!(
        yaml,
        "apiVersion: image.toolkit.fluxcd.io/v1
kind: ImageUpdateAutomation
metadata:
  name: apps
  namespace: apps
spec:
  git:
    checkout:
      ref:
        branch: main
    commit:
      author:
        email: flux@example.com
        name: flux
      messageTemplate: |
        Automated image update

        {{ range .Changed.Changes -}}
        - {{ .NewValue }}
        {{ end -}}
      signingKey:
        secretRef:
          name: signing
        type: ssh
    push:
      branch: image-updates
  interval: 30m0s
  sourceRef:
    kind: GitRepository
    name: flux-system
    namespace: flux-system
"
    );
}

#[test]
fn exported_policies_load_with_policy_select() {
    let dir = tempfile::tempdir().expect("temp dir");
    let cases: [(&[&str], &str, &str); 3] = [
        (&["--select-semver=5.0.x"], "podinfo-tags.txt", "5.0.3"),
        (
            &["--select-semver=>=5.0.0 <6.0.0", "--api-version=v1"],
            "podinfo-tags.txt",
            "5.2.0",
        ),
        (
            &[
                "--select-numeric=asc",
                "--filter-regex=^main-[a-f0-9]+-(?P<ts>[0-9]+)$",
                "--filter-extract=$ts",
                "--api-version=v1beta2",
            ],
            "build-id-tags.txt",
            "main-3f2a1b0-1700000300",
        ),
    ];
    for (index, (flags, tags, want)) in cases.into_iter().enumerate() {
        let mut args = vec![
            "create",
            "image",
            "policy",
            "podinfo",
            "--image-ref=podinfo",
            "--export",
        ];
        args.extend_from_slice(flags);
        let file = write(dir.path(), &format!("policy-{index}.yaml"), &export(&args));
        let tags = example(tags);
        let run = imagebump(
            &[
                "policy",
                "select",
                "--policy",
                &file,
                "--tags",
                tags.to_str().expect("utf-8 path"),
            ],
            "",
        );
        assert_eq!(
            (run.code, run.stdout.trim()),
            (0, want),
            "{flags:?}: {}",
            run.stderr
        );
    }
}

#[test]
fn flags_may_come_before_the_kind_and_the_namespace_comes_from_flux_system_namespace() {
    let before = export(&[
        "create",
        "--export",
        "-n",
        "apps",
        "image",
        "policy",
        "podinfo",
        "--image-ref=podinfo",
        "--select-semver=5.0.x",
    ]);
    assert_eq!(
        before,
        SEED_POLICY.replace("namespace: flux-system", "namespace: apps")
    );

    let args = [
        "create",
        "image",
        "policy",
        "podinfo",
        "--image-ref=podinfo",
        "--select-semver=5.0.x",
        "--export",
    ];
    let run = create_with_env(&args, &[("FLUX_SYSTEM_NAMESPACE", "tenant-a")]);
    assert_eq!(
        run.stdout,
        SEED_POLICY.replace("namespace: flux-system", "namespace: tenant-a")
    );
    // An invalid value is ignored with a warning, as flux does; --namespace wins over it.
    let run = create_with_env(&args, &[("FLUX_SYSTEM_NAMESPACE", "Not_A_Namespace")]);
    assert_eq!((run.code, run.stdout.as_str()), (0, SEED_POLICY));
    assert!(
        run.stderr.contains("ignoring invalid FLUX_SYSTEM_NAMESPACE"),
        "{}",
        run.stderr
    );
    let mut with_flag = args.to_vec();
    with_flag.extend(["-n", "apps"]);
    let run = create_with_env(&with_flag, &[("FLUX_SYSTEM_NAMESPACE", "tenant-a")]);
    assert!(run.stdout.contains("namespace: apps\n"), "{}", run.stdout);
}

#[test]
fn without_export_it_says_where_the_yaml_goes() {
    let run = create(&[
        "create",
        "image",
        "repository",
        "podinfo",
        "--image=ghcr.io/stefanprodan/podinfo",
    ]);
    assert_eq!((run.code, run.stdout.as_str()), (2, ""));
    assert!(
        run.stderr.contains("--export") && run.stderr.contains("objects directory"),
        "{}",
        run.stderr
    );
}

/// Runs `base` + `extra` and checks it exits 2, prints nothing and says `needle`.
fn assert_refused(base: &[&str], extra: &[&str], needle: &str) {
    let mut args = base.to_vec();
    args.extend_from_slice(extra);
    let run = create(&args);
    assert_eq!((run.code, run.stdout.as_str()), (2, ""), "{args:?}");
    assert!(run.stderr.contains(needle), "{args:?}: {}", run.stderr);
}

const IMAGE: &str = "--image=ghcr.io/stefanprodan/podinfo";

#[test]
fn invalid_repository_flags_exit_2() {
    let base = ["create", "image", "repository", "podinfo", "--export"];
    let cases: [(&[&str], &str); 12] = [
        (&[], "--image"),
        (&["--image=ghcr.io/stefanprodan/podinfo:5.0.0"], "tag"),
        (&["--image=https://ghcr.io/org/app"], "scheme"),
        (&["--image=ghcr.io/Org/App"], "unable to parse image"),
        (&[IMAGE, "--interval=1x"], "not a duration"),
        (&[IMAGE, "--interval=5"], "missing unit"),
        (&[IMAGE, "--interval=-1m"], "negative"),
        (&[IMAGE, "--scan-timeout=soon"], "--scan-timeout"),
        (&[IMAGE, "-n", "Apps"], "namespace"),
        (&[IMAGE, "--label=team"], "key=value"),
        (&[IMAGE, "--label=te am=x"], "invalid label"),
        (&[IMAGE, "--label=team=-x"], "invalid label value"),
    ];
    for (extra, needle) in cases {
        assert_refused(&base, extra, needle);
    }
}

#[test]
fn invalid_policy_flags_exit_2() {
    let base = [
        "create",
        "image",
        "policy",
        "podinfo",
        "--export",
        "--image-ref=podinfo",
    ];
    let alpha = "--select-alpha=asc";
    let cases: [(&[&str], &str); 12] = [
        (&[], "--select-semver"),
        (&["--select-semver=>=1.0 <<2"], "--select-semver"),
        (&["--select-semver=5.0.x", alpha], "only one"),
        (&["--select-alpha=ASC"], "--select-alpha"),
        (&["--select-numeric=up"], "--select-numeric"),
        (&[alpha, "--filter-regex=(unclosed"], "--filter-regex"),
        (&[alpha, "--filter-extract=$1"], "--filter-regex"),
        (
            &[alpha, "--filter-regex=^(?P<ts>[0-9]+)$", "--filter-extract=$tz"],
            "$tz",
        ),
        (&[alpha, "--filter-regex=x", "--filter-extract=${1"], "malformed"),
        (&[alpha, "--reflect-digest=Sometimes"], "--reflect-digest"),
        (&[alpha, "--reflect-digest=Always"], "v1beta2 or v1"),
        (
            &[alpha, "--interval=5m", "--api-version=v1"],
            "--reflect-digest=Always",
        ),
    ];
    for (extra, needle) in cases {
        assert_refused(&base, extra, needle);
    }
    assert_refused(&base[..5], &["--select-semver=5.0.x"], "--image-ref");
}

#[test]
fn invalid_update_flags_exit_2() {
    let base = [
        "create",
        "image",
        "update",
        "flux-system",
        "--export",
        "--git-repo-ref=flux-system",
        "--checkout-branch=main",
        "--author-name=flux",
        "--author-email=flux@example.com",
    ];
    assert_refused(&base[..5], &[], "--git-repo-ref");
    assert_refused(&base[..6], &[], "--checkout-branch");
    assert_refused(&base[..7], &[], "--author-name");
    assert_refused(&base[..8], &[], "--author-email");
    let cases: [(&[&str], &str); 5] = [
        (&["--interval=forever"], "--interval"),
        (&["--signing-key-type=ssh"], "--signing-key-secret"),
        (
            &[
                "--signing-key-secret=s",
                "--signing-key-type=pgp",
                "--api-version=v1",
            ],
            "gpg, ssh",
        ),
        (
            &["--signing-key-secret=s", "--signing-key-type=ssh"],
            "--api-version v1",
        ),
        (&["--commit-template=a\u{7f}"], "control character"),
    ];
    for (extra, needle) in cases {
        assert_refused(&base, extra, needle);
    }
}

#[test]
fn invalid_names_and_unknown_flags_exit_2() {
    // Object names as flux checks them (2 to 63 characters, so "a" too).
    for name in ["a", "Podinfo", "pod_info", "podinfo-"] {
        assert_refused(
            &["create", "image", "repository", name, IMAGE, "--export"],
            &[],
            "is invalid",
        );
    }
    // Flags flux does not have, kinds imagebump does not create, bad API versions: clap's
    // usage errors, exit 2 too.
    for args in [
        &[
            "create",
            "image",
            "repository",
            "podinfo",
            IMAGE,
            "--export",
            "--insecure",
        ][..],
        &["create", "image", "receiver", "podinfo", "--export"][..],
        &[
            "create",
            "image",
            "repository",
            "podinfo",
            IMAGE,
            "--api-version=v2",
        ][..],
    ] {
        assert_eq!(create(args).code, 2, "{args:?}");
    }
}
