//! `imagebump check`: the config file and every object, each problem with its file, line and
//! column.

use std::path::Path;

use crate::support::{
    SEED_AUTOMATION, SEED_POLICY, SEED_REPOSITORY, imagebump, imagebump_with_env, repo_root, write,
};

/// A config in `dir` that reads the objects under `dir/objects`.
fn config(dir: &Path) -> String {
    std::fs::create_dir_all(dir.join("objects")).expect("creating objects/");
    write(
        dir,
        "imagebump.toml",
        "objects = [\"objects\"]\nstate_dir = \"state\"\n",
    )
}

fn check(config: &str) -> crate::support::Run {
    imagebump(&["check", "--config", config], "")
}

#[test]
fn shipped_example_passes() {
    let config = repo_root().join("etc/imagebump/imagebump.toml");
    let run = check(&config.display().to_string());
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.stdout, "4 objects, 0 errors, 0 warnings\n");
}

/// What the seed's repository, policy and automation (in `support`) refer to: a Receiver,
/// its Secret and the GitRepository. Together they are the seed document's complete objects.
const SEED_REST: &str = r"apiVersion: notification.toolkit.fluxcd.io/v1beta1
kind: Receiver
metadata:
  name: podinfo
  namespace: flux-system
spec:
  type: dockerhub
  secretRef:
    name: webhook-token
  resources:
    - kind: ImageRepository
      name: podinfo
---
apiVersion: v1
kind: Secret
metadata:
  name: webhook-token
  namespace: flux-system
stringData:
  token: abc
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: flux-system
  namespace: flux-system
spec:
  url: ssh://git@github.com/example/flux-image-updates
  secretRef:
    name: flux-system
";

/// The seed's longer commit message template and its Kubernetes manifests (skipped).
const SEED_MORE: &str = r#"apiVersion: image.toolkit.fluxcd.io/v1beta1
kind: ImageUpdateAutomation
metadata:
  name: with-message
  namespace: flux-system
spec:
  interval: 1m0s
  sourceRef:
    kind: GitRepository
    name: flux-system
  git:
    checkout:
      ref:
        branch: main
    push:
      branch: flux-image-updates
    commit:
      messageTemplate: |
        Automated image update

        Automation name: {{ .AutomationObject }}

        Files:
        {{ range $filename, $_ := .Updated.Files -}}
        - {{ $filename }}
        {{ end -}}

        Objects:
        {{ range $resource, $_ := .Updated.Objects -}}
        - {{ $resource.Kind }} {{ $resource.Name }}
        {{ end -}}

        Images:
        {{ range .Updated.Images -}}
        - {{.}}
        {{ end -}}
      author:
        email: fluxcdbot@users.noreply.github.com
        name: fluxcdbot
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: podinfo
  namespace: default
spec:
  template:
    spec:
      containers:
        - name: podinfod
          image: ghcr.io/stefanprodan/podinfo:5.0.0 # {"$imagepolicy": "flux-system:podinfo"}
---
apiVersion: kustomize.toolkit.fluxcd.io/v1beta2
kind: Kustomization
metadata:
  name: podinfo
  namespace: default
spec:
  images:
    - name: ghcr.io/stefanprodan/podinfo
      newTag: 5.0.0 # {"$imagepolicy": "flux-system:podinfo:tag"}
---
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
- deployment.yaml
"#;

#[test]
fn seed_objects_load() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = config(dir.path());
    let seed = format!("{SEED_REPOSITORY}---\n{SEED_POLICY}---\n{SEED_AUTOMATION}---\n{SEED_REST}");
    write(&dir.path().join("objects"), "seed.yaml", &seed);
    write(&dir.path().join("objects"), "more.yml", SEED_MORE);
    // The GitRepository's ssh credentials live in secrets_dir (mounted-Secret layout).
    std::fs::create_dir_all(dir.path().join("secrets/flux-system/flux-system")).expect("secret dir");
    std::fs::write(
        &config,
        "objects = [\"objects\"]\nstate_dir = \"state\"\nsecrets_dir = \"secrets\"\n",
    )
    .expect("config");
    let run = check(&config);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.stdout, "7 objects, 0 errors, 0 warnings\n");
}

const MISTAKES: &str = r#"apiVersion: image.toolkit.fluxcd.io/v1beta2
kind: ImageRepository
metadata:
  name: podinfo
spec:
  image: https://ghcr.io/stefanprodan/podinfo
  interval: 1 minute
  exclusionList:
    - "(unclosed"
---
apiVersion: image.toolkit.fluxcd.io/v1
kind: ImagePolicy
metadata:
  name: podinfo
spec:
  imageRepositoryRef:
    name: podinfo
  policy:
    semver:
      range: "5.0.x.y.z"
---
apiVersion: image.toolkit.fluxcd.io/v1
kind: ImageUpdateAutomation
metadata:
  name: auto
spec:
  sourceRef:
    name: repo
  git:
    commit:
      author:
        name: bot
      messageTemplate: "{{ range .Changed.Changes }}"
  update:
    strategy: Replace
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: repo
spec:
  interval: 5m
  url: git@github.com:org/repo
  ref:
    branch: main
"#;

#[test]
fn every_mistake_is_reported_with_its_position() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = config(dir.path());
    write(&dir.path().join("objects"), "bad.yaml", MISTAKES);
    let run = check(&config);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    let file = dir.path().join("objects/bad.yaml").display().to_string();
    let expected = [
        "6:10: ImageRepository flux-system/podinfo: spec.image: ",
        "7:13: ImageRepository flux-system/podinfo: spec.interval: invalid duration \"1 minute\"",
        "9:7: ImageRepository flux-system/podinfo: spec.exclusionList[0] \"(unclosed\" is not a valid regular expression",
        "20:14: ImagePolicy flux-system/podinfo: spec.policy.semver.range: ",
        "27:3: ImageUpdateAutomation flux-system/auto: missing required field spec.interval",
        "31:7: ImageUpdateAutomation flux-system/auto: missing required field spec.git.commit.author.email",
        "33:24: ImageUpdateAutomation flux-system/auto: spec.git.commit.messageTemplate: template: commit message",
        "35:15: ImageUpdateAutomation flux-system/auto: spec.update.strategy: unknown value \"Replace\"",
        "43:8: GitRepository flux-system/repo: spec.url \"git@github.com:org/repo\" must start with",
    ];
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), expected.len() + 1, "{}", run.stdout);
    for (line, want) in lines.iter().zip(expected) {
        assert!(
            line.starts_with(&format!("{file}:{want}")),
            "{line}\nwanted {file}:{want}"
        );
    }
    assert_eq!(lines[expected.len()], "4 objects, 9 errors, 0 warnings");
}

#[test]
fn dangling_references_are_errors() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = config(dir.path());
    let policy = "apiVersion: image.toolkit.fluxcd.io/v1\nkind: ImagePolicy\nmetadata:\n  name: p\n  namespace: apps\n\
                  spec:\n  imageRepositoryRef:\n    name: missing\n  policy:\n    numerical: {order: asc}\n";
    write(&dir.path().join("objects"), "p.yaml", policy);
    let run = check(&config);
    assert_eq!(run.code, 2, "{}", run.stdout);
    let file = dir.path().join("objects/p.yaml").display().to_string();
    assert_eq!(
        run.stdout,
        format!(
            "{file}:8:11: ImagePolicy apps/p: spec.imageRepositoryRef: ImageRepository apps/missing not found\n\
             1 objects, 1 errors, 0 warnings\n"
        )
    );
}

#[test]
fn duplicates_are_errors() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = config(dir.path());
    let repo = "apiVersion: image.toolkit.fluxcd.io/v1\nkind: ImageRepository\nmetadata:\n  name: r\n\
                spec:\n  image: alpine\n  interval: 5m\n";
    write(&dir.path().join("objects"), "a.yaml", repo);
    // The same object in another directory level, without the default namespace spelled out.
    std::fs::create_dir_all(dir.path().join("objects/sub")).expect("sub dir");
    write(&dir.path().join("objects/sub"), "b.yaml", &format!("---\n{repo}"));
    let run = check(&config);
    assert_eq!(run.code, 2, "{}", run.stdout);
    let a = dir.path().join("objects/a.yaml").display().to_string();
    let b = dir.path().join("objects/sub/b.yaml").display().to_string();
    assert_eq!(
        run.stdout,
        format!(
            "{b}:2:1: ImageRepository flux-system/r: duplicate: already defined at {a}:1:1\n\
             2 objects, 1 errors, 0 warnings\n"
        )
    );
}

#[test]
fn warnings_alone_pass() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = config(dir.path());
    let repo = "apiVersion: image.toolkit.fluxcd.io/v1\nkind: ImageRepository\nmetadata:\n  name: r\n  namespace: ns\n\
                spec:\n  image: alpine\n  interval: 5m\n  intervall: 1m\n";
    write(&dir.path().join("objects"), "r.yaml", repo);
    let run = check(&config);
    let file = dir.path().join("objects/r.yaml").display().to_string();
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(
        run.stdout,
        format!(
            "{file}:9:3: warning: ImageRepository ns/r: unknown field spec.intervall\n\
             1 objects, 0 errors, 1 warnings\n"
        )
    );
}

#[test]
fn relative_paths_resolve_from_the_config_directory() {
    let dir = tempfile::tempdir().expect("temp dir");
    let etc = dir.path().join("etc");
    std::fs::create_dir_all(etc.join("objects")).expect("etc/objects");
    std::fs::create_dir_all(etc.join("secrets/flux-system/regcred")).expect("secrets");
    let config = write(
        &etc,
        "imagebump.toml",
        "objects = [\"objects/\"]\nstate_dir = \"state\"\nsecrets_dir = \"secrets\"\n",
    );
    let repo = "apiVersion: image.toolkit.fluxcd.io/v1\nkind: ImageRepository\nmetadata:\n  name: r\n\
                spec:\n  image: alpine\n  interval: 5m\n  secretRef:\n    name: regcred\n";
    write(&etc.join("objects"), "r.yaml", repo);
    // Run from elsewhere, with the config named by the environment.
    let run = imagebump_with_env(&["check"], "", &[("IMAGEBUMP_CONFIG", &config)]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.stdout, "1 objects, 0 errors, 0 warnings\n");
}

#[test]
fn config_file_mistakes_name_the_key() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = write(
        dir.path(),
        "imagebump.toml",
        "objects = [\"objects\", \"missing.yaml\"]\nstate_dir = \"s\"\n",
    );
    std::fs::create_dir_all(dir.path().join("objects")).expect("objects");
    let run = check(&config);
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(
        run.stdout.starts_with(&format!("{config}:1:23: objects: ")),
        "{}",
        run.stdout
    );

    write(
        dir.path(),
        "imagebump.toml",
        "objects = [\"objects\"]\nstate_dir = \"s\"\nstatedir = \"t\"\n",
    );
    let run = check(&config);
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(
        run.stdout
            .starts_with(&format!("{config}:3:1: unknown field `statedir`")),
        "{}",
        run.stdout
    );
}

/// A repository in `infra` used by policies in `apps` and `flux-system`: Flux's ACL.
fn cross_namespace(access_from: &str) -> String {
    format!(
        "apiVersion: image.toolkit.fluxcd.io/v1\nkind: ImageRepository\nmetadata:\n  name: shared\n  namespace: infra\n\
         spec:\n  image: ghcr.io/org/app\n  interval: 1m\n{access_from}---\n\
         apiVersion: image.toolkit.fluxcd.io/v1\nkind: ImagePolicy\nmetadata:\n  name: app\n  namespace: apps\n\
         spec:\n  imageRepositoryRef:\n    name: shared\n    namespace: infra\n  policy:\n    semver:\n      range: 1.x\n"
    )
}

#[test]
fn cross_namespace_policies_need_the_repositorys_access_from() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    let cases = [
        ("", 2),
        (
            "  accessFrom:\n    namespaceSelectors:\n      - matchLabels:\n          kubernetes.io/metadata.name: other\n",
            2,
        ),
        (
            "  accessFrom:\n    namespaceSelectors:\n      - matchLabels:\n          kubernetes.io/metadata.name: apps\n",
            0,
        ),
        (
            "  accessFrom:\n    namespaceSelectors:\n      - matchLabels: {}\n",
            0,
        ),
    ];
    for (access_from, code) in cases {
        write(dir.path(), "objects/shared.yaml", &cross_namespace(access_from));
        let run = check(&config);
        assert_eq!(run.code, code, "{access_from}\n{}", run.stdout);
        if code != 0 {
            assert!(
                run.stdout.contains(
                    ":11: ImagePolicy apps/app: spec.imageRepositoryRef: ImageRepository \
                     infra/shared does not allow access from namespace \"apps\""
                ),
                "{}",
                run.stdout
            );
        }
    }
}

#[test]
fn fields_imagebump_cannot_honour_are_warnings_that_say_why() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    write(
        dir.path(),
        "objects/all.yaml",
        "apiVersion: image.toolkit.fluxcd.io/v1\nkind: ImageRepository\nmetadata:\n  name: app\n  namespace: ns\n\
         spec:\n  image: ghcr.io/org/app\n  interval: 1m\n  serviceAccountName: puller\n---\n\
         apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n  name: repo\n  namespace: ns\n\
         spec:\n  url: https://github.com/org/repo\n  provider: github\n  proxySecretRef:\n    name: proxy\n---\n\
         apiVersion: v1\nkind: Secret\nmetadata:\n  name: proxy\n  namespace: ns\nstringData:\n  address: http://proxy:3128\n",
    );
    let run = check(&config);
    assert_eq!(run.code, 0, "warnings only: {}", run.stdout);
    for expected in [
        ":9:23: warning: ImageRepository ns/app: spec.serviceAccountName is ignored",
        ":18:13: warning: GitRepository ns/repo: spec.provider github is not supported",
    ] {
        assert!(run.stdout.contains(expected), "{expected}\n{}", run.stdout);
    }
    assert!(
        !run.stdout.contains("proxySecretRef"),
        "a git proxy is supported: {}",
        run.stdout
    );
}
