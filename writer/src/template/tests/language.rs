//! The language features commit templates use, each checked against Go's output.

use super::*;

#[test]
fn missing_keys_follow_go() {
    let data = seed();
    // Field syntax on a missing key: Go's "no value", whatever the map's element type…
    assert_eq!(render("[{{ .Values.missing }}]", &data), "[<no value>]");
    // …while `index` yields the element type's zero value ("" for map[string]string).
    assert_eq!(render("[{{ index .Values \"missing\" }}]", &data), "[]");
    assert_eq!(render("[{{ index .Values \"cluster\" }}]", &data), "[prod]");
    assert_eq!(
        render("{{ if .Values.missing }}y{{ else }}n{{ end }}", &data),
        "n"
    );
    assert_eq!(render("{{ .Values.missing | default \"dflt\" }}", &data), "dflt");
    let e = exec_error("{{ .Values.missing | upper }}", &data);
    assert_eq!(
        e.to_string(),
        "template: message:1:21: executing \"message\" at <upper>: invalid value; expected string"
    );
    // Options: Go's missingkey=zero and missingkey=error.
    let t = Template::parse("m", "[{{ .Values.missing }}]").expect("parses");
    let zero = RenderOptions {
        missing_key: MissingKey::Zero,
        ..RenderOptions::default()
    };
    assert_eq!(t.render_with(&data, &zero).expect("renders"), "[]");
    let error = RenderOptions {
        missing_key: MissingKey::Error,
        ..RenderOptions::default()
    };
    let e = t.render_with(&data, &error).expect_err("fails");
    assert!(
        e.to_string().ends_with("map has no entry for key \"missing\""),
        "{e}"
    );
}

#[test]
fn ranging_over_nothing_is_not_an_error() {
    let data = seed();
    assert_eq!(render("a{{ range .Values.nothing }}x{{ end }}b", &data), "ab");
    assert_eq!(
        render("{{ range .Values.nothing }}x{{ else }}empty{{ end }}", &data),
        "empty"
    );
    assert_eq!(
        render("{{ range $k, $v := (dict) }}x{{ else }}none{{ end }}", &data),
        "none"
    );
    let e = exec_error("{{ range .Values.cluster }}x{{ end }}", &data);
    assert!(e.to_string().ends_with("range can't iterate over prod"), "{e}");
}

#[test]
fn nested_ranges_reach_the_root_through_dollar() {
    let text = "{{ range $file, $objects := .Changed.FileChanges }}{{ range $obj, $changes := $objects }}{{ range $changes }}{{ $.AutomationObject.Name }}:{{ $file }}:{{ $obj.Name }}:{{ .Setter }}{{ end }}{{ end }}{{ end }}";
    assert_eq!(
        render(text, &seed()),
        "flux-system:podinfo-deployment.yaml:podinfo:flux-system:podinfo"
    );
}

#[test]
fn conditionals_and_pipelines_on_struct_keys() {
    let text = "{{ range $resource, $_ := .Changed.Objects }}{{ if eq $resource.Kind \"Deployment\" -}}\n{{ $resource.Kind | lower }}/{{ $resource.Name | upper }}\n{{- else if eq $resource.Kind \"CronJob\" }}cron{{ else }}other{{ end }}{{ end }}";
    assert_eq!(render(text, &seed()), "deployment/PODINFO");
}

#[test]
fn map_with_struct_keys_ranges_field_by_field() {
    let objects = Map::new()
        .entry(object("v1", "B", "n", ""), 1)
        .entry(object("v1", "A", "z", "x"), 2)
        .entry(object("apps/v1", "Z", "a", ""), 3);
    let data = Value::from(Struct::new("D").field("Objects", objects));
    assert_eq!(
        render(
            "{{ range $o, $n := .Objects }}{{ $o.APIVersion }} {{ $o.Kind }}={{ $n }};{{ end }}",
            &data
        ),
        "apps/v1 Z=3;v1 A=2;v1 B=1;"
    );
    // Printing the map sorts the same way (Go: map[{apps/v1 Z a }:3 {v1 A z x}:2 {v1 B n }:1]).
    assert_eq!(
        render("{{ .Objects }}", &data),
        "map[{apps/v1 Z a }:3 {v1 A z x}:2 {v1 B n }:1]"
    );
}

#[test]
fn printing_values_like_go() {
    let data = seed();
    assert_eq!(
        render("{{ .Changed.Objects }}", &data),
        "map[{apps/v1 Deployment podinfo default}:[{ghcr.io/stefanprodan/podinfo:5.0.0 ghcr.io/stefanprodan/podinfo:5.0.3 flux-system:podinfo}]]"
    );
    assert_eq!(
        render("{{ printf \"%v %s\" .Updated.Images .Changed.Changes }}", &data),
        "[ghcr.io/stefanprodan/podinfo:5.0.3] [{ghcr.io/stefanprodan/podinfo:5.0.0 ghcr.io/stefanprodan/podinfo:5.0.3 flux-system:podinfo}]"
    );
    assert_eq!(
        render("{{ printf \"%+v\" (index .Changed.Changes 0) }}", &data),
        "{OldValue:ghcr.io/stefanprodan/podinfo:5.0.0 NewValue:ghcr.io/stefanprodan/podinfo:5.0.3 Setter:flux-system:podinfo}"
    );
    assert_eq!(
        render(
            "{{ 1.5 }} {{ 1e21 }} {{ 1e6 }} {{ 123456.0 }} {{ 0x10 }} {{ 'a' }} {{ -3 }} {{ true }} {{ 0x1.8p1 }}",
            &data
        ),
        "1.5 1e+21 1e+06 123456 16 97 -3 true 3"
    );
    assert_eq!(
        render("{{ print 1 2 \"a\" 3 \"b\" \"c\" 4.5 true false nil }}", &data),
        "1 2a3bc4.5 true false <nil>"
    );
    assert_eq!(render("{{ println 1 \"a\" }}", &data), "1 a\n");
}

#[test]
fn printf_forms() {
    let data = seed();
    for (text, want) in [
        (
            "{{ printf \"%s/%s\" .AutomationObject.Namespace .AutomationObject.Name }}",
            "flux-system/flux-system",
        ),
        ("{{ printf \"%-8s|%8s|\" \"ab\" \"cd\" }}", "ab      |      cd|"),
        (
            "{{ printf \"%05d %x %X %o %b\" 42 255 255 8 5 }}",
            "00042 ff FF 10 101",
        ),
        (
            "{{ printf \"%q %v %d%%\" .Values.cluster .AutomationObject 7 }}",
            "\"prod\" flux-system/flux-system 7%",
        ),
        (
            "{{ printf \"%.2f %6.1f %e %g\" 3.14159 2.25 1234.5 0.000012 }}",
            "3.14    2.2 1.234500e+03 1.2e-05",
        ),
        (
            "{{ printf \"%t %T %T\" true .AutomationObject .Updated.Images }}",
            "true NamespacedName []ImageRef",
        ),
        ("{{ printf \"%d %s\" \"x\" }}", "%!d(string=x) %!s(MISSING)"),
        ("{{ .Values.cluster | printf \"cluster=%s\" }}", "cluster=prod"),
    ] {
        assert_eq!(render(text, &data), want, "{text}");
    }
}

#[test]
fn trim_markers_eat_all_adjacent_whitespace() {
    let data = seed();
    assert_eq!(render("a  \n\t {{- .Values.cluster -}} \n\n  b", &data), "aprodb");
    assert_eq!(render("a {{- 3 }} b {{ 4 -}} c", &data), "a3 b 4c");
    assert_eq!(render("x {{- /* a comment */ -}} y", &data), "xy");
    assert_eq!(render("x {{/* kept space */}} y", &data), "x  y");
    assert_eq!(render("{{ 3 }} {{-4}}", &data), "3 -4");
}

#[test]
fn variables_declare_assign_and_scope() {
    let data = seed();
    assert_eq!(
        render("{{ $x := 1 }}{{ if true }}{{ $x = 2 }}{{ end }}{{ $x }}", &data),
        "2"
    );
    assert_eq!(
        render(
            "{{ $n := 0 }}{{ range .Changed.Changes }}{{ $n = add $n 1 }}{{ end }}{{ $n }}",
            &data
        ),
        "1"
    );
    assert_eq!(
        render("{{ with $c := .Values.cluster }}{{ $c }}-{{ . }}{{ end }}", &data),
        "prod-prod"
    );
    assert_eq!(render("{{ $v := .Values }}{{ $v.cluster }}", &data), "prod");
    assert_eq!(
        render(
            "{{ range $i, $img := .Updated.Images }}{{ $i }}={{ $img.Identifier }}{{ end }}",
            &data
        ),
        "0=5.0.3"
    );
}

#[test]
fn with_else_with_and_else() {
    let data = seed();
    assert_eq!(
        render(
            "{{ with .Values.nope }}a{{ else with .Values.cluster }}b={{ . }}{{ else }}c{{ end }}",
            &data
        ),
        "b=prod"
    );
    assert_eq!(render("{{ with .Values.nope }}a{{ else }}c{{ end }}", &data), "c");
}

#[test]
fn break_and_continue() {
    let data = Value::from(Struct::new("D").field("L", vec![1, 2, 3, 4, 5]));
    assert_eq!(
        render(
            "{{ range .L }}{{ if eq . 2 }}{{ continue }}{{ end }}{{ if gt . 3 }}{{ break }}{{ end }}{{ . }}{{ end }}",
            &data
        ),
        "13"
    );
    assert_eq!(
        render(
            "{{ range $i, $e := .L }}{{ range $.L }}{{ break }}{{ end }}{{ $e }}{{ end }}",
            &data
        ),
        "12345"
    );
    assert_eq!(render("{{ range 3 }}{{ . }}{{ end }}", &data), "012");
}

#[test]
fn define_template_and_block() {
    let data = seed();
    let text = "{{ define \"obj\" }}{{ .Kind }}/{{ .Name }}{{ end }}{{ range $o, $_ := .Changed.Objects }}{{ template \"obj\" $o }}{{ end }}";
    assert_eq!(render(text, &data), "Deployment/podinfo");
    assert_eq!(
        render(
            "{{ block \"title\" .AutomationObject }}[{{ .Name }}]{{ end }}!",
            &data
        ),
        "[flux-system]!"
    );
    let e = exec_error("{{ template \"nope\" }}", &data);
    assert!(e.to_string().ends_with("template \"nope\" not defined"), "{e}");
    // The called template sees only its own dot and `$`; errors name it.
    let e = exec_error(
        "{{ define \"t\" }}{{ .Nope }}{{ end }}{{ template \"t\" .AutomationObject }}",
        &data,
    );
    assert!(e.to_string().contains("executing \"t\" at <.Nope>"), "{e}");
    let e = exec_error(
        "{{ define \"loop\" }}{{ template \"loop\" . }}{{ end }}{{ template \"loop\" . }}",
        &data,
    );
    assert!(
        e.to_string().ends_with("exceeded maximum template depth (200)"),
        "{e}"
    );
}

#[test]
fn logic_functions_short_circuit() {
    let data = seed();
    assert_eq!(
        render(
            "{{ and 1 0 (index .Values 1) }}|{{ or 0 \"\" \"x\" (index .Values 1) }}|{{ not .Values }}",
            &data
        ),
        "0|x|false"
    );
    assert_eq!(
        render(
            "{{ or .Values.nope \"fallback\" }}|{{ and .Values.cluster .Values.testing }}",
            &data
        ),
        "fallback|value"
    );
    assert_eq!(
        render(
            "{{ if and (eq .Values.cluster \"prod\" \"staging\") (ne .Values.testing \"x\") }}yes{{ end }}",
            &data
        ),
        "yes"
    );
    assert_eq!(
        render(
            "{{ len .Updated.Images }} {{ len .Values }} {{ lt 1 2 }} {{ ge \"b\" \"a\" }}",
            &data
        ),
        "1 2 true true"
    );
}

#[test]
fn sprig_in_pipelines_takes_the_piped_value_last() {
    let data = seed();
    for (text, want) in [
        (
            "{{ .AutomationObject.Name | replace \"-\" \"_\" | upper }}",
            "FLUX_SYSTEM",
        ),
        ("{{ join \", \" (list \"a\" \"b\" 3) }}", "a, b, 3"),
        (
            "{{ splitList \"/\" (index .Changed.Changes 0).NewValue | last }}",
            "podinfo:5.0.3",
        ),
        (
            "{{ (index .Updated.Images 0).Identifier | trimPrefix \"5.\" | quote }}",
            "\"0.3\"",
        ),
        (
            "{{ .Values.cluster | title }} {{ \"  x  \" | trim }} {{ \"abcdef\" | trunc 3 }} {{ substr 1 3 \"abcdef\" }}",
            "Prod x abc bc",
        ),
        (
            "{{ \"a\\nb\" | indent 2 }}|{{ \"a\" | nindent 2 }}",
            "  a\n  b|\n  a",
        ),
        (
            "{{ list \"b\" \"a\" \"b\" | uniq | sortAlpha | join \",\" }}",
            "a,b",
        ),
        (
            "{{ $d := dict \"k\" \"v\" }}{{ get $d \"k\" }}{{ hasKey $d \"k\" }}{{ keys $d }}",
            "vtrue[k]",
        ),
        (
            "{{ coalesce .Values.nope \"\" \"c\" }} {{ ternary \"y\" \"n\" true }} {{ empty \"\" }}",
            "c y true",
        ),
        (
            "{{ add 1 2 3 }} {{ sub 5 2 }} {{ mul 2 3 }} {{ div 7 2 }} {{ mod 7 2 }} {{ max 1 9 3 }} {{ min 4 2 }}",
            "6 3 6 3 1 9 2",
        ),
        (
            "{{ atoi \"42\" }} {{ int \"7\" }} {{ \"a b\" | nospace }} {{ cat \"a\" 1 nil }} {{ abbrev 5 \"abcdefgh\" }}",
            "42 7 ab a 1 ab...",
        ),
        (
            "{{ plural \"file\" \"files\" (len .Changed.FileChanges) }} {{ repeat 3 \"ab\" }}",
            "file ababab",
        ),
        (
            "{{ contains \"podinfo\" .Values.cluster }} {{ hasPrefix \"pr\" .Values.cluster }} {{ hasSuffix \"od\" .Values.cluster }}",
            "false true true",
        ),
        (
            "{{ regexMatch \"^p\" .Values.cluster }} {{ regexFind \"[0-9.]+$\" (index .Changed.Changes 0).NewValue }} {{ regexReplaceAll \"(\\\\d+)\" \"v1.22\" \"<$1>\" }}",
            "true 5.0.3 v<1>.<22>",
        ),
        (
            "{{ \"hi\" | b64enc }} {{ \"aGk=\" | b64dec }} {{ \"abc\" | sha256sum | trunc 8 }} {{ \"abc\" | sha1sum | trunc 8 }}",
            "aGk= hi ba7816bf a9993e36",
        ),
        (
            "{{ toJson .AutomationObject }} {{ toString .AutomationObject }}",
            "{\"Namespace\":\"flux-system\",\"Name\":\"flux-system\"} flux-system/flux-system",
        ),
        (
            "{{ first (list 1 2) }}{{ last (list 1 2) }} {{ split \"/\" \"a/b\" }} {{ (split \"/\" \"a/b\")._1 }}",
            "12 map[_0:a _1:b] b",
        ),
        (
            "{{ trimAll \"$\" \"$5$\" }} {{ trimSuffix \".yaml\" \"a.yaml\" }} {{ lower \"ABC\" }} {{ squote \"x\" }}",
            "5 a abc 'x'",
        ),
        (
            "{{ default \"d\" .Values.cluster }} {{ base \"clusters/prod/app.yaml\" }}",
            "prod app.yaml",
        ),
    ] {
        assert_eq!(render(text, &data), want, "{text}");
    }
}
