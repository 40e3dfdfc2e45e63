//! End-to-end vectors: Flux's own test templates (§6.3 V14, V15, V17, V21), the seed's two
//! templates, and the data shapes the daemon passes. [`language`] covers the features users'
//! templates rely on, [`errors`] the messages and limits. Expected texts come from Flux's tests
//! or were produced by Go 1.19's text/template with Sprig 3.2.3 on the same data.

use proptest::prelude::*;

use super::*;

mod errors;
mod language;

fn object(api_version: &str, kind: &str, name: &str, namespace: &str) -> Value {
    Struct::new("ObjectIdentifier")
        .field("APIVersion", api_version)
        .field("Kind", kind)
        .field("Name", name)
        .field("Namespace", namespace)
        .into()
}

fn change(old: &str, new: &str, setter: &str) -> Value {
    Struct::new("Change")
        .field("OldValue", old)
        .field("NewValue", new)
        .field("Setter", setter)
        .into()
}

fn namespaced_name(namespace: &str, name: &str) -> Value {
    Struct::new("NamespacedName")
        .field("Namespace", namespace)
        .field("Name", name)
        .display(format!("{namespace}/{name}"))
        .into()
}

/// The v1beta1 `ImageRef`: prints as the full reference, methods as fields.
fn image_ref(
    reference: &str,
    identifier: &str,
    repository: &str,
    registry: &str,
    name: &str,
    policy: Value,
) -> Value {
    Struct::new("ImageRef")
        .field("Identifier", identifier)
        .field("Repository", repository)
        .field("Registry", registry)
        .field("Name", name)
        .field("Policy", policy)
        .display(reference)
        .into()
}

/// One file, one object, one change: the shape of Flux's template data for it, both the
/// current `.Changed` and the v1beta1 `.Updated`.
struct Update<'a> {
    automation: (&'a str, &'a str),
    file: &'a str,
    object: Value,
    change: Value,
    image: Value,
    values: Map,
}

impl Update<'_> {
    fn data(&self) -> Value {
        let changes = Value::List(vec![self.change.clone()]);
        let objects = Map::new().entry(self.object.clone(), changes.clone());
        let result = Struct::new("Result")
            .field("FileChanges", Map::new().entry(self.file, objects.clone()))
            .field("Objects", objects)
            .field("Changes", changes);
        let images = Value::List(vec![self.image.clone()]);
        let image_objects = Map::new().entry(self.object.clone(), images.clone());
        let updated = Struct::new("ResultV1")
            .field(
                "Files",
                Map::new().entry(
                    self.file,
                    Struct::new("FileResult").field("Objects", image_objects.clone()),
                ),
            )
            .field("Objects", image_objects)
            .field("Images", images);
        Struct::new("TemplateData")
            .field(
                "AutomationObject",
                namespaced_name(self.automation.0, self.automation.1),
            )
            .field("Changed", result)
            .field("Updated", updated)
            .field("Values", self.values.clone())
            .into()
    }
}

/// The seed's scenario: podinfo bumped to 5.0.3 by automation flux-system/flux-system.
fn seed() -> Value {
    let policy = namespaced_name("flux-system", "podinfo");
    Update {
        automation: ("flux-system", "flux-system"),
        file: "podinfo-deployment.yaml",
        object: object("apps/v1", "Deployment", "podinfo", "default"),
        change: change(
            "ghcr.io/stefanprodan/podinfo:5.0.0",
            "ghcr.io/stefanprodan/podinfo:5.0.3",
            "flux-system:podinfo",
        ),
        image: image_ref(
            "ghcr.io/stefanprodan/podinfo:5.0.3",
            "5.0.3",
            "stefanprodan/podinfo",
            "ghcr.io",
            "ghcr.io/stefanprodan/podinfo",
            policy,
        ),
        values: Map::strings([("cluster", "prod"), ("testing", "value")]),
    }
    .data()
}

/// Flux's controller tests: deploy.yaml, Deployment `test` without a namespace, helloworld.
fn flux_test(namespace: &str, automation: &str, old: &str, new: &str, policy: &str) -> Value {
    Update {
        automation: (namespace, automation),
        file: "deploy.yaml",
        object: object("apps/v1", "Deployment", "test", ""),
        change: change(old, new, &format!("{namespace}:{policy}")),
        image: image_ref(
            new,
            "v1.0.0",
            "library/helloworld",
            "index.docker.io",
            "helloworld",
            namespaced_name(namespace, policy),
        ),
        values: Map::strings([("cluster", "prod"), ("testing", "value")]),
    }
    .data()
}

fn render(text: &str, data: &Value) -> String {
    let template = Template::parse("message", text).unwrap_or_else(|e| panic!("{e}"));
    template.render(data).unwrap_or_else(|e| panic!("{e}"))
}

fn exec_error(text: &str, data: &Value) -> ExecError {
    Template::parse("message", text)
        .unwrap_or_else(|e| panic!("{e}"))
        .render(data)
        .expect_err("fails")
}

#[test]
fn seed_first_template_prints_each_image_on_a_line() {
    assert_eq!(
        render("{{range .Updated.Images}}{{println .}}{{end}}", &seed()),
        "ghcr.io/stefanprodan/podinfo:5.0.3\n"
    );
}

/// The seed's second template as the YAML `|` block yields it: lines unindented, one final
/// newline. `{{ end -}}` eats the newline after it and the blank line before `Objects:` and
/// `Images:`; the last `{{ end -}}` eats the block's final newline, so the message ends with
/// the newline of the last image line.
const SEED_TEMPLATE: &str = "Automated image update

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

#[test]
fn seed_second_template_byte_for_byte() {
    assert_eq!(
        render(SEED_TEMPLATE, &seed()),
        "Automated image update

Automation name: flux-system/flux-system

Files:
- podinfo-deployment.yaml
Objects:
- Deployment podinfo
Images:
- ghcr.io/stefanprodan/podinfo:5.0.3
"
    );
}

/// V14: Flux's `testCommitTemplateResultV2`.
#[test]
fn v14_result_v2_template() {
    let text = "Commit summary with ResultV2

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
    let data = flux_test(
        "test-ns",
        "test-update",
        "helloworld:1.0.0",
        "helloworld:1.0.1",
        "policy1",
    );
    assert_eq!(
        render(text, &data),
        "Commit summary with ResultV2

Automation: test-ns/test-update

- File: deploy.yaml
  - Object: Deployment//test
    Changes:
    - helloworld:1.0.0 -> helloworld:1.0.1
"
    );
}

/// V15: Flux's `testCommitTemplateWithValues`.
#[test]
fn v15_values() {
    let text = "Commit summary

Automation: {{ .AutomationObject }}

Cluster: {{ index .Values \"cluster\" }}
Testing: {{ .Values.testing }}
";
    let data = flux_test(
        "ns",
        "update-test",
        "helloworld:1.0.0",
        "helloworld:v1.0.0",
        "policy",
    );
    assert_eq!(
        render(text, &data),
        "Commit summary\n\nAutomation: ns/update-test\n\nCluster: prod\nTesting: value\n"
    );
}

/// V21: Flux's controller `testCommitTemplate` (v1beta1 data) and its `.Changed` counterpart.
#[test]
fn v21_controller_templates() {
    let data = flux_test(
        "image-auto-test-x1",
        "update-test",
        "helloworld:1.0.0",
        "helloworld:v1.0.0",
        "policy-y2",
    );
    let v1 = "Commit summary

Automation: {{ .AutomationObject }}

Files:
{{ range $filename, $_ := .Updated.Files -}}
- {{ $filename }}
{{ end -}}

Objects:
{{ range $resource, $_ := .Updated.Objects -}}
{{ if eq $resource.Kind \"Deployment\" -}}
- {{ $resource.Kind | lower }} {{ $resource.Name | lower }}
{{ else -}}
- {{ $resource.Kind }} {{ $resource.Name }}
{{ end -}}
{{ end -}}

Images:
{{ range .Updated.Images -}}
- {{.}} ({{.Policy.Name}})
{{ end -}}
";
    assert_eq!(
        render(v1, &data),
        "Commit summary\n\nAutomation: image-auto-test-x1/update-test\n\nFiles:\n- deploy.yaml\nObjects:\n- deployment test\nImages:\n- helloworld:v1.0.0 (policy-y2)\n"
    );
    let changed = v1
        .replace(".Updated.Files", ".Changed.FileChanges")
        .replace(".Updated.Objects", ".Changed.Objects")
        .replace(
            "{{ range .Updated.Images -}}\n- {{.}} ({{.Policy.Name}})",
            "{{ range .Changed.Changes -}}\n- {{ .NewValue }} ({{ .Setter }})",
        );
    assert_eq!(
        render(&changed, &data),
        "Commit summary\n\nAutomation: image-auto-test-x1/update-test\n\nFiles:\n- deploy.yaml\nObjects:\n- deployment test\nImages:\n- helloworld:v1.0.0 (image-auto-test-x1:policy-y2)\n"
    );
}

/// The example in Flux's v1beta2 migration notes (`|-` block: no final newline).
#[test]
fn flux_docs_changes_and_files_example() {
    let text = "Automated image update\n        \nChanges:\n{{ range .Changed.Changes -}}\n- {{ .OldValue }} -> {{ .NewValue }}\n{{ end -}}\n\nFiles:\n{{ range $filename, $_ := .Changed.FileChanges -}}\n- {{ $filename }}\n{{ end -}}";
    assert_eq!(
        render(text, &seed()),
        "Automated image update\n        \nChanges:\n- ghcr.io/stefanprodan/podinfo:5.0.0 -> ghcr.io/stefanprodan/podinfo:5.0.3\nFiles:\n- podinfo-deployment.yaml\n"
    );
}

#[test]
fn v17_removed_field_is_an_error_naming_the_field() {
    let data = Value::from(Struct::new("TemplateData").field("AutomationObject", namespaced_name("a", "b")));
    // Go positions a field chain at its second field: column 12 is `.Files`.
    let e = exec_error("Files:\n\n\n\n {{ .Updated.Files }}", &data);
    assert_eq!(
        e.to_string(),
        "template: message:5:12: executing \"message\" at <.Updated.Files>: can't evaluate field Updated in type TemplateData"
    );
    assert_eq!(e.missing_field(), Some("Updated"));
    assert_eq!((e.line(), e.column(), e.context()), (5, 12, ".Updated.Files"));
    assert!(!e.is_transient());
    let e = exec_error("{{ .Changed.ImageResult.Files }}", &seed());
    assert_eq!(e.missing_field(), Some("ImageResult"));
    assert!(
        e.to_string()
            .ends_with("can't evaluate field ImageResult in type Result")
    );
}

/// The Gerrit Change-Id recipe from Flux's docs: `I` + 40 hex characters of a sha256.
#[test]
fn gerrit_change_id_recipe() {
    let text = "Update images\n\nChange-Id: {{ printf \"%s%s%s\" .AutomationObject (toJson .Changed.FileChanges) \"\" | sha256sum | trunc 40 | printf \"I%s\" }}";
    let out = render(text, &seed());
    let id = out.strip_prefix("Update images\n\nChange-Id: I").expect("prefix");
    assert_eq!(id.len(), 40);
    assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
}

proptest! {
    /// Text without actions is copied verbatim.
    #[test]
    fn plain_text_is_the_identity(text in "\\PC*") {
        prop_assume!(!text.contains("{{"));
        prop_assert_eq!(render(&text, &Value::Nil), text);
    }

    /// So is text with braces that never form `{{`, including lone `}}`.
    #[test]
    fn braces_that_open_no_action_are_text(text in "[a-z {}\\n]*") {
        prop_assume!(!text.contains("{{"));
        prop_assert_eq!(render(&text, &Value::Nil), text);
    }

    /// A printed string comes out unchanged, whatever it contains.
    #[test]
    fn printed_strings_are_unchanged(value in "\\PC*") {
        let data = Value::from(Struct::new("D").field("S", value.clone()));
        prop_assert_eq!(render("{{ .S }}", &data), value);
    }

    /// Parsing never panics, whatever the input.
    #[test]
    fn parsing_arbitrary_text_never_panics(text in "[{}a-z$.|()\" \\-:=,'`0-9\\n/*]{0,40}") {
        if let Ok(t) = Template::parse("fuzz", &text) {
            let _ = t.render(&seed());
        }
    }
}
