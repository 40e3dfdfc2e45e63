//! Error messages (Go's, byte for byte) and the limits that keep a hostile template from
//! exhausting memory or stack.

use super::*;

#[test]
fn exec_errors_match_go() {
    let data = seed();
    // Each message was produced by Go 1.19 with Sprig on the equivalent data.
    for (text, want) in [
        (
            "{{ lower 3 }}",
            "template: message:1:9: executing \"message\" at <3>: expected string; found 3",
        ),
        (
            "{{ len 3 }}",
            "template: message:1:3: executing \"message\" at <len 3>: error calling len: len of type int",
        ),
        (
            "{{ hasKey .Values \"x\" }}",
            "template: message:1:10: executing \"message\" at <.Values>: wrong type for value; expected map[string]interface {}; got map[string]string",
        ),
        (
            "{{ slice \"abc\" 1 2 }}",
            "template: message:1:3: executing \"message\" at <slice \"abc\" 1 2>: error calling slice: list should be type of slice or array but string",
        ),
        (
            "{{ index .Values \"cluster\" \"x\" }}",
            "template: message:1:3: executing \"message\" at <index .Values \"cluster\" \"x\">: error calling index: cannot index slice/array with type string",
        ),
        (
            "a\n\nxx {{ $.AutomationObject.Nope.X }}",
            "template: message:3:7: executing \"message\" at <$.AutomationObject.Nope.X>: can't evaluate field Nope in type NamespacedName",
        ),
        (
            "{{ nil }}",
            "template: message:1:3: executing \"message\" at <nil>: nil is not a command",
        ),
        (
            "{{ 1 2 }}",
            "template: message:1:3: executing \"message\" at <1>: can't give argument to non-function 1",
        ),
        (
            "{{ .Values.cluster 1 }}",
            "template: message:1:10: executing \"message\" at <.Values.cluster>: cluster is not a method but has arguments",
        ),
        (
            "{{ eq .AutomationObject \"x\" }}",
            "template: message:1:3: executing \"message\" at <eq .AutomationObject \"x\">: error calling eq: incompatible types for comparison",
        ),
        (
            "{{ printf }}",
            "template: message:1:3: executing \"message\" at <printf>: wrong number of args for printf: want at least 1 got 0",
        ),
        (
            "{{ upper \"a\" \"b\" }}",
            "template: message:1:3: executing \"message\" at <upper>: wrong number of args for upper: want 1 got 2",
        ),
        (
            "{{ div 1 0 }}",
            "template: message:1:3: executing \"message\" at <div 1 0>: error calling div: runtime error: integer divide by zero",
        ),
        (
            "{{ fail \"stop here\" }}",
            "template: message:1:3: executing \"message\" at <fail \"stop here\">: error calling fail: stop here",
        ),
    ] {
        assert_eq!(exec_error(text, &data).to_string(), want, "{text}");
    }
}

#[test]
fn parse_errors_name_the_line() {
    let e = Template::parse(
        "message",
        "Files:\n{{ range .Changed.FileChanges }}\n{{ .A }\n{{ end }}",
    )
    .expect_err("fails");
    assert_eq!(e.to_string(), "template: message:3: unexpected \"}\" in operand");
    assert_eq!((e.line, e.column), (3, 6));
    assert!(!e.is_transient());
    let e = Template::parse("message", "a\nb {{ nope . }}").expect_err("fails");
    assert_eq!(
        e.to_string(),
        "template: message:2: function \"nope\" not defined"
    );
    let e = Template::parse("message", "{{ range . }}\n\n").expect_err("fails");
    assert_eq!(e.to_string(), "template: message:3: unexpected EOF");
    let e = Template::parse("message", "{{ if .A }}\n{{ .B\n").expect_err("fails");
    assert_eq!(
        e.to_string(),
        "template: message:3: unclosed action started at message:2"
    );
}

#[test]
fn output_is_bounded() {
    let options = RenderOptions {
        max_output: 64,
        ..RenderOptions::default()
    };
    let t = Template::parse("m", "{{ range 1000 }}xxxxxxxx{{ end }}").expect("parses");
    assert!(
        t.render_with(&Value::Nil, &options)
            .expect_err("fails")
            .to_string()
            .contains("output exceeds 64 bytes")
    );
    let t = Template::parse("m", "{{ repeat 1000 \"xx\" }}").expect("parses");
    assert!(t.render_with(&Value::Nil, &options).is_err());
}

#[test]
fn empty_template_renders_nothing_and_defines_are_listed() {
    assert_eq!(render("", &Value::Nil), "");
    let t = Template::parse("message", "{{ define \"a\" }}x{{ end }}body").expect("parses");
    assert_eq!(t.defined().collect::<Vec<_>>(), ["a", "message"]);
    assert_eq!(t.name(), "message");
}

/// The nesting limit keeps the worst cases well inside a 2 MiB thread stack (tokio's), even
/// unoptimised: here each kind of nesting runs up to the limit on a 1 MiB stack.
#[test]
fn nesting_up_to_the_limit_fits_a_small_stack() {
    let cases = [
        // Recursive template calls.
        "{{ define \"r\" }}{{ if lt (len .) 95 }}{{ template \"r\" (append . 1) }}{{ end }}{{ end }}{{ template \"r\" (list) }}".to_owned(),
        // Nested controls (the parser allows 100).
        format!("{}x{}", "{{ with 1 }}{{ if 1 }}{{ range 1 }}".repeat(33), "{{ end }}".repeat(99)),
        // Nested parenthesised pipelines.
        format!("{{{{ {}1{} }}}}", "(add ".repeat(99), ")".repeat(99)),
    ];
    for text in cases {
        let handle = std::thread::Builder::new()
            .stack_size(1 << 20)
            .spawn(move || Template::parse("deep", &text).map(|t| t.render(&Value::Nil).map(|s| s.len())))
            .expect("spawns");
        let result = handle.join().expect("no stack overflow");
        assert!(matches!(result, Ok(Ok(_))), "{result:?}");
    }
}
