//! Events in, `OpenMetrics` text out.

use std::time::Duration;

use super::{Metrics, RunOutcome, SelectionOutcome};
use crate::config::objects::Kind;

fn has_line(text: &str, line: &str) -> bool {
    text.lines().any(|l| l == line)
}

#[track_caller]
fn assert_lines(text: &str, lines: &[&str]) {
    for line in lines {
        assert!(has_line(text, line), "missing {line:?} in\n{text}");
    }
}

#[test]
fn metrics_are_shareable_between_tasks() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Metrics>();
}

#[test]
fn every_family_has_its_name_and_type() {
    // prometheus-client prints a labelled family only once it has a series, so feed each one.
    let metrics = Metrics::new();
    metrics.scan_finished("ns", "repo", Duration::from_secs(1), Some(1));
    metrics.policy_selected("ns", "policy", SelectionOutcome::Unchanged);
    metrics.automation_finished(
        "ns",
        "auto",
        Duration::from_secs(1),
        RunOutcome::Pushed { attempts: 1 },
    );
    metrics.error("git");
    metrics.actor_restarted("writer");
    metrics.set_objects(&[("ImagePolicy", 1)], 0);
    metrics.webhook_request("ns/hook", "generic", "accepted");
    let text = metrics.encode();
    for (kind, name) in [
        ("counter", "scans"),
        ("histogram", "scan_duration_seconds"),
        ("gauge", "repository_tags"),
        ("counter", "policy_selections"),
        ("counter", "automation_runs"),
        ("histogram", "automation_run_duration_seconds"),
        ("counter", "commits"),
        ("counter", "pushes"),
        ("counter", "push_retries"),
        ("counter", "errors"),
        ("counter", "actor_restarts"),
        ("gauge", "objects"),
        ("gauge", "object_errors"),
        ("counter", "webhook_requests"),
        ("histogram", "webhook_to_commit_seconds"),
    ] {
        assert_lines(&text, &[&format!("# TYPE imagebump_{name} {kind}")]);
    }
    assert!(text.ends_with("# EOF\n"), "{text}");
}

#[test]
fn scans_count_by_outcome_and_a_failure_keeps_the_tag_count() {
    let metrics = Metrics::new();
    metrics.scan_finished("flux-system", "podinfo", Duration::from_millis(200), Some(13));
    metrics.scan_finished("flux-system", "podinfo", Duration::from_secs(90), None);
    let text = metrics.encode();
    assert_lines(
        &text,
        &[
            r#"imagebump_scans_total{namespace="flux-system",name="podinfo",outcome="success"} 1"#,
            r#"imagebump_scans_total{namespace="flux-system",name="podinfo",outcome="failure"} 1"#,
            r#"imagebump_repository_tags{namespace="flux-system",name="podinfo"} 13"#,
            r#"imagebump_scan_duration_seconds_bucket{le="0.25",namespace="flux-system",name="podinfo"} 1"#,
            r#"imagebump_scan_duration_seconds_bucket{le="60.0",namespace="flux-system",name="podinfo"} 1"#,
            r#"imagebump_scan_duration_seconds_bucket{le="+Inf",namespace="flux-system",name="podinfo"} 2"#,
            r#"imagebump_scan_duration_seconds_sum{namespace="flux-system",name="podinfo"} 90.2"#,
        ],
    );
}

#[test]
fn policy_selections_use_flux_words() {
    let metrics = Metrics::new();
    metrics.policy_selected("apps", "web", SelectionOutcome::Changed);
    metrics.policy_selected("apps", "web", SelectionOutcome::NoMatch);
    metrics.policy_selected("apps", "web", SelectionOutcome::Failed);
    metrics.policy_selected("apps", "web", SelectionOutcome::Unchanged);
    let text = metrics.encode();
    for outcome in ["changed", "unchanged", "no_match", "failure"] {
        assert_lines(
            &text,
            &[&format!(
                r#"imagebump_policy_selections_total{{namespace="apps",name="web",outcome="{outcome}"}} 1"#
            )],
        );
    }
}

#[test]
fn a_pushed_run_counts_commit_push_and_retries() {
    let metrics = Metrics::new();
    metrics.automation_finished(
        "apps",
        "bump",
        Duration::from_secs(3),
        RunOutcome::Pushed { attempts: 3 },
    );
    metrics.automation_finished(
        "apps",
        "bump",
        Duration::from_secs(1),
        RunOutcome::Pushed { attempts: 1 },
    );
    metrics.automation_finished("apps", "bump", Duration::from_secs(1), RunOutcome::UpToDate);
    metrics.automation_finished("apps", "bump", Duration::from_secs(1), RunOutcome::Failed);
    let text = metrics.encode();
    assert_lines(
        &text,
        &[
            r#"imagebump_automation_runs_total{namespace="apps",name="bump",outcome="pushed"} 2"#,
            r#"imagebump_automation_runs_total{namespace="apps",name="bump",outcome="up_to_date"} 1"#,
            r#"imagebump_automation_runs_total{namespace="apps",name="bump",outcome="failure"} 1"#,
            r#"imagebump_commits_total{namespace="apps",name="bump"} 2"#,
            r#"imagebump_pushes_total{namespace="apps",name="bump"} 2"#,
            r#"imagebump_push_retries_total{namespace="apps",name="bump"} 2"#,
            r#"imagebump_automation_run_duration_seconds_count{namespace="apps",name="bump"} 4"#,
        ],
    );
}

#[test]
fn kinds_objects_and_webhooks() {
    let metrics = Metrics::new();
    metrics.error("registry_auth");
    metrics.error("registry_auth");
    metrics.actor_restarted("scanner");
    metrics.set_objects(&[("ImageRepository", 3), ("Receiver", 0)], 1);
    metrics.set_objects(&[("ImageRepository", 2), ("Receiver", 0)], 0);
    metrics.webhook_request("flux-system/ghcr", "generic-hmac", "accepted");
    metrics.webhook_to_commit(Duration::from_millis(700));
    let text = metrics.encode();
    assert_lines(
        &text,
        &[
            r#"imagebump_errors_total{kind="registry_auth"} 2"#,
            r#"imagebump_actor_restarts_total{kind="scanner"} 1"#,
            r#"imagebump_objects{kind="ImageRepository"} 2"#,
            r#"imagebump_objects{kind="Receiver"} 0"#,
            "imagebump_object_errors 0",
            r#"imagebump_webhook_requests_total{receiver="flux-system/ghcr",type="generic-hmac",outcome="accepted"} 1"#,
            r#"imagebump_webhook_to_commit_seconds_bucket{le="1.0"} 1"#,
            "imagebump_webhook_to_commit_seconds_count 1",
        ],
    );
}

#[test]
fn forget_drops_only_the_deleted_objects_series() {
    let metrics = Metrics::new();
    // A repository and a policy sharing a name, as Flux's guides name them.
    metrics.scan_finished("flux-system", "podinfo", Duration::from_secs(1), Some(5));
    metrics.scan_finished("flux-system", "podinfo", Duration::from_secs(1), None);
    metrics.policy_selected("flux-system", "podinfo", SelectionOutcome::Changed);
    metrics.scan_finished("flux-system", "other", Duration::from_secs(1), Some(1));

    metrics.forget(Kind::ImageRepository, "flux-system", "podinfo");
    let text = metrics.encode();
    assert!(!text.contains(r#"name="podinfo",outcome="success""#), "{text}");
    assert!(
        !text.contains(r#"imagebump_scan_duration_seconds_count{namespace="flux-system",name="podinfo"}"#)
    );
    assert!(!text.contains(r#"imagebump_repository_tags{namespace="flux-system",name="podinfo"}"#));
    assert!(
        !text.contains(r#"imagebump_scans_total{namespace="flux-system",name="podinfo""#),
        "{text}"
    );
    assert_lines(
        &text,
        &[
            r#"imagebump_policy_selections_total{namespace="flux-system",name="podinfo",outcome="changed"} 1"#,
            r#"imagebump_repository_tags{namespace="flux-system",name="other"} 1"#,
        ],
    );

    metrics.automation_finished(
        "apps",
        "bump",
        Duration::from_secs(1),
        RunOutcome::Pushed { attempts: 2 },
    );
    metrics.forget(Kind::ImageUpdateAutomation, "apps", "bump");
    metrics.forget(Kind::ImagePolicy, "flux-system", "podinfo");
    let text = metrics.encode();
    assert!(!text.contains(r#"name="bump""#), "{text}");
    assert!(!text.contains(r#"name="podinfo""#), "{text}");
}
