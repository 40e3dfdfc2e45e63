//! `apply` never panics, whatever the text, and what it writes is stable: applying again
//! changes nothing.

use imagebump_writer::Policies;
use imagebump_writer::setters::apply;
use proptest::prelude::*;
use proptest::test_runner::Config;

use crate::support::policies;

fn fuzz_policies() -> Policies {
    policies(&[
        ("ns:p", "reg.example/app:1.1"),
        ("ns:d", "reg.example/app:v2@sha256:abc"),
        ("ns:w", "we:ird: #x"),
    ])
}

/// Pieces of YAML syntax, markers included, that random texts are made of.
const TOKENS: &[&str] = &[
    "key: ",
    "k2: ",
    "- ",
    "? ",
    ": ",
    "\n",
    "\r\n",
    "\r",
    "  ",
    "    ",
    "\t",
    " ",
    "---",
    "--- ",
    "...",
    "|",
    "|-\n",
    ">+",
    "&a ",
    "*a",
    "!!str ",
    "!t ",
    "'",
    "''",
    "\"",
    "\\\"",
    "\\",
    "[",
    "]",
    "{",
    "}",
    ", ",
    ",",
    "x:1",
    "1.0",
    "yes",
    "~",
    "é",
    "\u{feff}",
    "\u{2028}",
    "\u{85}",
    "%YAML 1.2\n",
    "#",
    " # ",
    "# c\n",
    "# {\"$imagepolicy\": \"ns:p\"}",
    " # {\"$imagepolicy\": \"ns:p:tag\"}",
    "#{\"$imagepolicy\":\"ns:d:digest\"}",
    " # {\"$imagepolicy\": \"ns:w:tag\"}",
    " # {\"$imagepolicy\": \"ns:nope\"}",
    " # {\"$imagepolicy\": 1}",
    "# {\"$imagepolicy\": \"ns:p\"}\n- x:1\n",
];

/// Valid files to mutate.
const SEEDS: &[&str] = &[
    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: a\nspec:\n  containers:\n  - name: c\n    image: x:1 # {\"$imagepolicy\": \"ns:p\"}\n    tag: '1.0' # {\"$imagepolicy\": \"ns:p:tag\"}\n",
    "list:\n  # {\"$imagepolicy\": \"ns:d\"}\n  - x:1\n  - &a \"x:2\" # {\"$imagepolicy\": \"ns:w:tag\"}\n  - *a\nflow: {a: [x:1, # {\"$imagepolicy\": \"ns:p\"}\n  y]}\n",
    "# c\r\n--- # d\r\na: |\r\n  x # {\"$imagepolicy\": \"ns:p\"}\r\nb: x # {\"$imagepolicy\": \"ns:d:digest\"}\r\n...\r\n---\r\nc: 1\r\n",
];

fn text_from_tokens() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(TOKENS), 0..80).prop_map(|t| t.concat())
}

/// Lines shaped like block YAML: indentation, a key or dash, a value, maybe a marker.
fn yaml_like_lines() -> impl Strategy<Value = String> {
    const INDENT: &[&str] = &["", "  ", "    ", "      ", "\t"];
    const LEAD: &[&str] = &["key: ", "k2: ", "- ", "- key: ", "? ", ": ", "", "--- ", "key:"];
    const VALUE: &[&str] = &[
        "x:1", "'1.0'", "\"x:1\"", "&a x:1", "*a", "[x:1, y]", "{a: x:1}", "|", ">-", "", "1.0", "!!str x",
        "[", "]", "\"a\nb",
    ];
    const COMMENT: &[&str] = &[
        "",
        " # {\"$imagepolicy\": \"ns:p\"}",
        " # {\"$imagepolicy\": \"ns:p:tag\"}",
        " #{\"$imagepolicy\":\"ns:d:digest\"}",
        " # c",
        "# {\"$imagepolicy\": \"ns:w:tag\"}",
        " # {\"$imagepolicy\": \"ns:d\"}, x",
    ];
    let line = (
        prop::sample::select(INDENT),
        prop::sample::select(LEAD),
        prop::sample::select(VALUE),
        prop::sample::select(COMMENT),
        prop::sample::select(&["\n", "\n", "\r\n", ""][..]),
    )
        .prop_map(|(a, b, c, d, e)| format!("{a}{b}{c}{d}{e}"));
    prop::collection::vec(line, 1..7).prop_map(|lines| lines.concat())
}

/// A seed with a few edits: insert a token, delete a span, duplicate a span.
fn mutated_seed() -> impl Strategy<Value = String> {
    let edit = (
        0..3u8,
        any::<prop::sample::Index>(),
        any::<prop::sample::Index>(),
        prop::sample::select(TOKENS),
    );
    (prop::sample::select(SEEDS), prop::collection::vec(edit, 1..6)).prop_map(|(seed, edits)| {
        let mut chars: Vec<char> = seed.chars().collect();
        for (kind, a, b, token) in edits {
            let i = a.index(chars.len() + 1);
            let j = (i + b.index(8)).min(chars.len());
            match kind {
                0 => {
                    chars.splice(i..i, token.chars());
                }
                1 => {
                    chars.drain(i..j);
                }
                _ => {
                    let copy: Vec<char> = chars[i..j].to_vec();
                    chars.splice(j..j, copy);
                }
            }
        }
        chars.into_iter().collect()
    })
}

fn check(text: &str) -> Result<(), TestCaseError> {
    let policies = fuzz_policies();
    let Ok(edit) = apply(text, &policies) else {
        return Ok(());
    };
    if edit.changes.is_empty() {
        prop_assert_eq!(&edit.text, text);
        return Ok(());
    }
    let again = apply(&edit.text, &policies);
    prop_assert!(again.is_ok(), "second apply failed: {:?}\n{:?}", again, edit.text);
    let again = again.unwrap();
    prop_assert!(
        again.changes.is_empty(),
        "not idempotent: {:?}\n{:?}",
        again.changes,
        edit.text
    );
    prop_assert_eq!(again.text, edit.text);
    Ok(())
}

proptest! {
    #![proptest_config(Config { cases: 4000, failure_persistence: None, ..Config::default() })]

    #[test]
    fn random_token_soup_never_panics(text in text_from_tokens()) {
        check(&text)?;
    }

    #[test]
    fn yaml_like_lines_never_panic(text in yaml_like_lines()) {
        check(&text)?;
    }

    #[test]
    fn mutated_manifests_never_panic(text in mutated_seed()) {
        check(&text)?;
    }

    #[test]
    fn arbitrary_strings_never_panic(text in "\\PC{0,200}") {
        check(&text)?;
    }
}

#[test]
fn seeds_are_edited() {
    for seed in SEEDS {
        let edit = apply(seed, &fuzz_policies()).unwrap();
        assert!(edit.is_changed(), "{seed}");
    }
}
