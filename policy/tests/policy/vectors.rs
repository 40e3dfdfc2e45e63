//! Replays `shared/testdata` (checked against Flux's Go code) and fails once with every
//! mismatch, so one run shows the whole picture.

use std::path::PathBuf;

use imagebump_policy::{BuildError, Constraint, Policy, Version};
use serde::Deserialize;

/// `shared/` sits beside the repository (`IMAGEBUMP_TESTDATA` overrides). Missing data fails
/// under CI and skips, loudly, elsewhere.
fn testdata(name: &str) -> Option<String> {
    let dir = std::env::var_os("IMAGEBUMP_TESTDATA").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/testdata"),
        PathBuf::from,
    );
    let path = dir.join(name);
    match std::fs::read_to_string(&path) {
        Ok(text) => Some(text),
        Err(e) if std::env::var_os("CI").is_some() => {
            panic!("{}: {e} (CI needs the shared test vectors)", path.display())
        }
        Err(e) => {
            eprintln!("SKIPPED: {}: {e}", path.display());
            None
        }
    }
}

fn report(what: &str, total: usize, failures: &[String]) {
    assert!(
        failures.is_empty(),
        "{} of {total} {what} disagree with Flux:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(total > 0, "no {what} were read");
}

#[test]
fn semver_cases() {
    let Some(text) = testdata("semver_cases.tsv") else {
        return;
    };
    let mut failures = Vec::new();
    let mut total = 0;
    for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.is_empty()) {
        total += 1;
        let fields: Vec<&str> = line.split('\t').collect();
        let [range, version, expected] = fields[..] else {
            panic!("semver_cases.tsv:{}: expected 3 fields: {line:?}", n + 1);
        };
        let expected = expected == "true";
        let got = Constraint::parse(range).map_err(|e| e.to_string()).and_then(|c| {
            Version::parse(version)
                .map(|v| c.matches(&v))
                .map_err(|e| e.to_string())
        });
        if got != Ok(expected) {
            failures.push(format!(
                "  line {}: {range:?} vs {version:?}: want {expected}, got {got:?}",
                n + 1
            ));
        }
    }
    report("semver_cases.tsv rows", total, &failures);
}

#[test]
fn semver_invalid() {
    let Some(text) = testdata("semver_invalid.tsv") else {
        return;
    };
    let mut failures = Vec::new();
    let mut total = 0;
    for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.is_empty()) {
        total += 1;
        // Do not trim: some inputs are empty or carry spaces on purpose.
        let Some((kind, input)) = line.split_once('\t') else {
            panic!("semver_invalid.tsv:{}: no tab: {line:?}", n + 1);
        };
        let accepted = match kind {
            "constraint" => Constraint::parse(input).is_ok(),
            "version" => Version::parse(input).is_ok(),
            other => panic!("semver_invalid.tsv:{}: unknown kind {other:?}", n + 1),
        };
        if accepted {
            failures.push(format!("  line {}: {kind} {input:?} was accepted", n + 1));
        }
    }
    report("semver_invalid.tsv rows", total, &failures);
}

#[derive(Deserialize)]
struct Case {
    name: String,
    policy: PolicySpec,
    #[serde(rename = "filterTags")]
    filter_tags: Option<FilterSpec>,
    tags: Vec<String>,
    expected: Option<String>,
    #[serde(rename = "errorKind")]
    error_kind: Option<String>,
}

#[derive(Deserialize)]
struct PolicySpec {
    semver: Option<RangeSpec>,
    alphabetical: Option<OrderSpec>,
    numerical: Option<OrderSpec>,
}

#[derive(Deserialize)]
struct RangeSpec {
    range: String,
}

#[derive(Deserialize)]
struct OrderSpec {
    #[serde(default)]
    order: String,
}

#[derive(Deserialize)]
struct FilterSpec {
    #[serde(default)]
    pattern: String,
    #[serde(default)]
    extract: String,
}

fn build(case: &Case) -> Result<Policy, BuildError> {
    let policy = match (
        &case.policy.semver,
        &case.policy.alphabetical,
        &case.policy.numerical,
    ) {
        (Some(s), _, _) => Policy::semver(&s.range)?,
        (None, Some(a), _) => Policy::alphabetical(&a.order)?,
        (None, None, Some(n)) => Policy::numerical(&n.order)?,
        (None, None, None) => panic!("{}: no policy in case", case.name),
    };
    match &case.filter_tags {
        Some(f) => policy.with_filter(&f.pattern, &f.extract),
        None => Ok(policy),
    }
}

/// What the case expects, in the words of `policy_cases.json`.
fn outcome(case: &Case) -> String {
    let Ok(policy) = build(case) else {
        return "error:invalid_policy".into();
    };
    match policy.select(&case.tags) {
        Ok(selection) => selection.tag().map_or_else(|| "null".into(), str::to_owned),
        Err(_) => "error:evaluation".into(),
    }
}

#[test]
fn policy_cases() {
    let Some(text) = testdata("policy_cases.json") else {
        return;
    };
    let cases: Vec<Case> = serde_json::from_str(&text).expect("policy_cases.json parses");
    let mut failures = Vec::new();
    for case in &cases {
        let want = match (&case.expected, &case.error_kind) {
            (Some(e), Some(kind)) if e == "error" => format!("error:{kind}"),
            (Some(tag), _) => tag.clone(),
            (None, _) => "null".into(),
        };
        let got = outcome(case);
        if got != want {
            failures.push(format!("  {}: want {want}, got {got}", case.name));
        }
    }
    report("policy_cases.json cases", cases.len(), &failures);
}
