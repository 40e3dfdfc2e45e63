//! Commit messages for the seed document's templates and Flux's test vectors (V14–V16, V21),
//! built from real update results.

use std::collections::BTreeMap;

use super::*;
use crate::template::Template;

fn podinfo_result() -> (UpdateResult, Policies) {
    let mut result = UpdateResult::default();
    let deployment = ObjectId {
        api_version: "apps/v1".into(),
        kind: "Deployment".into(),
        name: "podinfo".into(),
        namespace: "default".into(),
    };
    result.push(
        "podinfo-deployment.yaml",
        &deployment,
        Change {
            old_value: "ghcr.io/stefanprodan/podinfo:5.0.0".into(),
            new_value: "ghcr.io/stefanprodan/podinfo:5.0.3".into(),
            setter: "flux-system:podinfo".into(),
        },
    );
    let policies = Policies::from([(
        "flux-system:podinfo".to_owned(),
        LatestImage::parse("ghcr.io/stefanprodan/podinfo:5.0.3").expect("reference"),
    )]);
    (result, policies)
}

fn render_with(
    text: &str,
    namespace: &str,
    name: &str,
    result: &UpdateResult,
    policies: &Policies,
    values: &BTreeMap<String, String>,
) -> String {
    let template = Template::parse("message", text).expect("template parses");
    let data = MessageData {
        namespace,
        name,
        result,
        policies,
        values,
    };
    render(Some(&template), &data).expect("template renders")
}

#[test]
fn seed_template_with_updated_images() {
    let (result, policies) = podinfo_result();
    let out = render_with(
        "{{range .Updated.Images}}{{println .}}{{end}}",
        "flux-system",
        "flux-system",
        &result,
        &policies,
        &BTreeMap::new(),
    );
    assert_eq!(out, "ghcr.io/stefanprodan/podinfo:5.0.3\n");
}

#[test]
fn seed_template_with_files_objects_and_images() {
    let template = "Automated image update

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
";
    let (result, policies) = podinfo_result();
    let out = render_with(
        template,
        "flux-system",
        "flux-system",
        &result,
        &policies,
        &BTreeMap::new(),
    );
    assert_eq!(
        out,
        "Automated image update\n\nAutomation name: flux-system/flux-system\n\nFiles:\n- podinfo-deployment.yaml\n\
         Objects:\n- Deployment podinfo\nImages:\n- ghcr.io/stefanprodan/podinfo:5.0.3\n"
    );
}

fn helloworld_result() -> (UpdateResult, Policies) {
    let mut result = UpdateResult::default();
    let deployment = ObjectId {
        api_version: "apps/v1".into(),
        kind: "Deployment".into(),
        name: "test".into(),
        namespace: String::new(),
    };
    result.push(
        "deploy.yaml",
        &deployment,
        Change {
            old_value: "helloworld:1.0.0".into(),
            new_value: "helloworld:1.0.1".into(),
            setter: "test-ns:policy1".into(),
        },
    );
    let policies = Policies::from([(
        "test-ns:policy1".to_owned(),
        LatestImage::parse("helloworld:1.0.1").expect("reference"),
    )]);
    (result, policies)
}

/// Flux's V14: the v1 data, per file, per object, per change.
#[test]
fn v14_changed_file_changes() {
    let template = "Commit summary with ResultV2

Automation: {{ .AutomationObject }}

{{ range $filename, $objchange := .Changed.FileChanges -}}
- File: {{ $filename }}
{{- range $obj, $changes := $objchange }}
  - Object: {{ $obj.Kind }}/{{ $obj.Namespace }}/{{ $obj.Name }}
    Changes:
{{- range $_ , $change := $changes }}
    - {{ $change.OldValue }} -> {{ $change.NewValue }}
{{ end -}}
{{ end -}}
{{ end -}}
";
    let (result, policies) = helloworld_result();
    let out = render_with(
        template,
        "test-ns",
        "test-update",
        &result,
        &policies,
        &BTreeMap::new(),
    );
    assert_eq!(
        out,
        "Commit summary with ResultV2\n\nAutomation: test-ns/test-update\n\n- File: deploy.yaml\n  - Object: Deployment//test\n    Changes:\n    - helloworld:1.0.0 -> helloworld:1.0.1\n"
    );
}

/// Flux's V15: `.Values`, by field and by `index`.
#[test]
fn v15_values() {
    let (result, policies) = helloworld_result();
    let values = BTreeMap::from([
        ("cluster".to_owned(), "prod".to_owned()),
        ("testing".to_owned(), "value".to_owned()),
    ]);
    let out = render_with(
        "Cluster: {{ index .Values \"cluster\" }}\nTesting: {{ .Values.testing }}\nMissing: {{ index .Values \"nope\" }}.",
        "test-ns",
        "test-update",
        &result,
        &policies,
        &values,
    );
    assert_eq!(out, "Cluster: prod\nTesting: value\nMissing: .");
}

/// Flux's V16: no template, the default message.
#[test]
fn v16_default_message() {
    let (result, policies) = helloworld_result();
    let values = BTreeMap::new();
    let data = MessageData {
        namespace: "test-ns",
        name: "test-update",
        result: &result,
        policies: &policies,
        values: &values,
    };
    assert_eq!(
        render(None, &data).expect("default"),
        "Update from image update automation"
    );
}

/// Flux's V21: files, objects (kind lower-cased) and images from `.Changed`.
#[test]
fn v21_controller_template() {
    let template = "Files:
{{ range $filename, $_ := .Changed.FileChanges -}}
- {{ $filename }}
{{ end -}}
Objects:
{{ range $resource, $_ := .Changed.Objects -}}
{{ if eq $resource.Kind \"Deployment\" -}}
- {{ $resource.Kind | lower }} {{ $resource.Name | lower }}
{{ else -}}
- {{ $resource.Kind }} {{ $resource.Name }}
{{ end -}}
{{ end -}}
Images:
{{ range .Changed.Changes -}}
- {{ .NewValue }} ({{ .Setter }})
{{ end -}}
";
    let (mut result, policies) = helloworld_result();
    for objects in result.files.values_mut() {
        for (_, changes) in objects.iter_mut() {
            for change in changes.iter_mut() {
                change.new_value = "helloworld:v1.0.0".into();
            }
        }
    }
    let out = render_with(
        template,
        "test-ns",
        "test-update",
        &result,
        &policies,
        &BTreeMap::new(),
    );
    assert_eq!(
        out,
        "Files:\n- deploy.yaml\nObjects:\n- deployment test\nImages:\n- helloworld:v1.0.0 (test-ns:policy1)\n"
    );
}

#[test]
fn updated_image_fields_follow_go_containerregistry() {
    let (result, policies) = helloworld_result();
    let out = render_with(
        "{{ range .Updated.Images }}{{ .Registry }} {{ .Repository }} {{ .Identifier }} {{ .Name }} {{ .Policy }}{{ end }}",
        "test-ns",
        "test-update",
        &result,
        &policies,
        &BTreeMap::new(),
    );
    assert_eq!(
        out,
        "index.docker.io library/helloworld 1.0.1 index.docker.io/library/helloworld:1.0.1 test-ns/policy1"
    );
}
