//! Golden cases: `tests/fixtures/<case>/before/` is copied to a temporary directory, `update`
//! runs on it with `<case>/policies.yaml`, and the directory must then equal `<case>/after/`
//! byte for byte. Optional files state the rest of the outcome:
//!
//! * `update-path`: the update path (default: the root);
//! * `changes.json`: the expected result, in Flux's field names;
//! * `notes.txt`: one `path:line: Kind setter` per note (none expected when absent);
//! * `problems.txt`: one `path: message` per problem file (none expected when absent).

use std::fs;
use std::path::Path;

use imagebump_writer::setters::{Report, update};

use crate::support::{assert_dirs_eq, copy_dir, parse_policies, result_json};

fn optional(case: &Path, name: &str) -> Option<String> {
    fs::read_to_string(case.join(name)).ok()
}

/// The non-empty lines of an expectation file.
fn lines(text: Option<String>) -> Vec<String> {
    text.unwrap_or_default()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_owned)
        .collect()
}

fn note_lines(report: &Report) -> Vec<String> {
    report
        .notes
        .iter()
        .map(|(path, note)| {
            let kind = format!("{:?}", note.kind);
            let kind = kind.split([' ', '(', '{']).next().unwrap_or_default().to_owned();
            format!("{path}:{}: {kind} {}", note.line, note.marker)
        })
        .collect()
}

fn run(name: &str) {
    let case = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    let policies = parse_policies(&optional(&case, "policies.yaml").expect("every case has a policies.yaml"));
    let update_path = optional(&case, "update-path")
        .map(|p| p.trim().to_owned())
        .unwrap_or_default();
    let work = tempfile::tempdir().unwrap();
    copy_dir(&case.join("before"), work.path());
    let report =
        update(work.path(), &update_path, &policies).unwrap_or_else(|e| panic!("update failed: {e}"));

    assert_dirs_eq(work.path(), &case.join("after"));
    if let Some(expected) = optional(&case, "changes.json") {
        let expected: serde_json::Value = serde_json::from_str(&expected).expect("changes.json is JSON");
        let got = result_json(&report.result);
        assert_eq!(
            got,
            expected,
            "changes differ; got:\n{}",
            serde_json::to_string_pretty(&got).unwrap()
        );
    }
    assert_eq!(note_lines(&report), lines(optional(&case, "notes.txt")), "notes");
    let problems: Vec<String> = report
        .problems
        .iter()
        .map(|(path, p)| format!("{path}: {p}"))
        .collect();
    assert_eq!(problems, lines(optional(&case, "problems.txt")), "problems");
}

/// One test per case directory; `every_case_is_listed` keeps the list and the directories
/// in step.
macro_rules! golden {
    ($($case:ident),* $(,)?) => {
        $(
            #[test]
            fn $case() {
                run(stringify!($case));
            }
        )*
        const LISTED: &[&str] = &[$(stringify!($case)),*];
    };
}

golden! {
    v01_cronjob_full_image,
    v02_unchanged_value,
    v03_kustomization_file_name,
    v04_digest_setter,
    v05_full_setter_next_to_literal,
    v06_result_order,
    v07_other_namespace,
    v08_unmarked_not_parsed,
    v09_deployment,
    v10_three_policies,
    v11_update_path,
    c1_plain_number_quoted,
    c2_double_quoted_kept,
    c3_marker_without_space,
    c4_trailing_prose,
    c5_empty_digest,
    seed_deployment,
    seed_helmrelease,
    seed_tekton_task,
    seed_flux_kustomization,
    seed_kustomize_images,
    corpus_comments_everywhere,
    corpus_anchors_aliases,
    corpus_flow_style,
    corpus_crlf,
    corpus_bom,
    corpus_blank_lines_trailing_blanks,
    corpus_indentation_styles,
    corpus_block_literals,
    corpus_multi_document,
    corpus_yaml_error_next_to_good,
    corpus_no_final_newline,
    corpus_hidden_dirs,
    corpus_file_filter,
    corpus_head_comments,
    corpus_quoting,
    corpus_notes,
    corpus_refused_documents,
    corpus_non_kubernetes,
    corpus_single_file_update_path,
}

#[test]
fn every_case_is_listed() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut found: Vec<String> = fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    found.sort();
    let mut listed: Vec<String> = LISTED.iter().map(|s| (*s).to_owned()).collect();
    listed.sort();
    assert_eq!(found, listed);
}
