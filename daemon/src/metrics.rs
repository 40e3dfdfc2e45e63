//! The daemon's Prometheus metrics: one registry, one method per event the actors report.
//!
//! Actors call the event methods (`scan_finished`, `automation_finished`, ...) with an
//! `Arc<Metrics>`; the HTTP server calls [`Metrics::encode`] for `/metrics`. Per-object series
//! are labelled `namespace` and `name` only, so cardinality is bounded by the objects on disk,
//! and [`Metrics::forget`] drops them when an object is deleted. Outcomes are closed enums so
//! that `forget` can name every series an object may own.

use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};

use crate::config::objects::Kind;

/// Labels of a series that belongs to one object.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ObjectLabels {
    namespace: String,
    name: String,
}

/// Labels of a per-object series split by outcome.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    namespace: String,
    name: String,
    outcome: &'static str,
}

/// Labels of a series keyed by a short caller-chosen word.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    kind: String,
}

/// Labels of a webhook request.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct WebhookLabels {
    receiver: String,
    r#type: String,
    outcome: String,
}

/// Labels of a cloud login event.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CloudLabels {
    provider: String,
    outcome: String,
}

/// What a policy's selection did to its `latestRef`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SelectionOutcome {
    /// A tag was selected and it differs from the previous one.
    Changed,
    /// The same tag was selected again.
    Unchanged,
    /// No tag passed the filter and the policy.
    NoMatch,
    /// Selection failed (repository not scanned, digest lookup failed, ...).
    Failed,
}

impl SelectionOutcome {
    const ALL: [Self; 4] = [Self::Changed, Self::Unchanged, Self::NoMatch, Self::Failed];

    fn label(self) -> &'static str {
        match self {
            Self::Changed => "changed",
            Self::Unchanged => "unchanged",
            Self::NoMatch => "no_match",
            Self::Failed => "failure",
        }
    }
}

/// How one automation run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunOutcome {
    /// Nothing to change: the branch already holds the selected references.
    UpToDate,
    /// A commit was pushed; `attempts` counts pushes tried, 1 when the first was accepted.
    Pushed {
        /// Push attempts of the run (fetch, reapply and retry after each rejection).
        attempts: u32,
    },
    /// The run failed before a push was accepted.
    Failed,
}

impl RunOutcome {
    const LABELS: [&'static str; 3] = ["up_to_date", "pushed", "failure"];

    fn label(self) -> &'static str {
        match self {
            Self::UpToDate => "up_to_date",
            Self::Pushed { .. } => "pushed",
            Self::Failed => "failure",
        }
    }
}

const SCAN_OUTCOMES: [&str; 2] = ["success", "failure"];

/// Buckets for a registry scan: 10 ms to 60 s, roughly ×2.5 per step (1-2.5-5 per decade, so
/// the `le` labels stay readable).
const SCAN_BUCKETS: [f64; 12] = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 25.0, 60.0];

/// Buckets for an automation run, which clones, commits and pushes: 50 ms to 5 min.
const RUN_BUCKETS: [f64; 12] = [
    0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 25.0, 60.0, 120.0, 300.0,
];

/// Buckets for webhook-to-commit latency: 50 ms to 2 min.
const WEBHOOK_BUCKETS: [f64; 11] = [0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 25.0, 60.0, 120.0];

fn scan_histogram() -> Histogram {
    Histogram::new(SCAN_BUCKETS)
}

fn run_histogram() -> Histogram {
    Histogram::new(RUN_BUCKETS)
}

type HistogramFamily<S> = Family<S, Histogram, fn() -> Histogram>;

/// The daemon's metrics registry and the handles of every family in it.
///
/// `Send + Sync`: share it as `Arc<Metrics>`. Every method takes `&self`.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    scans: Family<OutcomeLabels, Counter>,
    scan_duration: HistogramFamily<ObjectLabels>,
    repository_tags: Family<ObjectLabels, Gauge>,
    policy_selections: Family<OutcomeLabels, Counter>,
    automation_runs: Family<OutcomeLabels, Counter>,
    automation_run_duration: HistogramFamily<ObjectLabels>,
    commits: Family<ObjectLabels, Counter>,
    pushes: Family<ObjectLabels, Counter>,
    push_retries: Family<ObjectLabels, Counter>,
    errors: Family<KindLabels, Counter>,
    actor_restarts: Family<KindLabels, Counter>,
    objects: Family<KindLabels, Gauge>,
    object_errors: Gauge,
    webhook_requests: Family<WebhookLabels, Counter>,
    webhook_to_commit: Histogram,
    cloud_token_requests: Family<CloudLabels, Counter>,
    cloud_token_cache: Family<CloudLabels, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A registry with every `imagebump_` family registered and no series yet.
    #[must_use]
    pub fn new() -> Self {
        let mut metrics = Self {
            registry: Registry::with_prefix("imagebump"),
            scans: Family::default(),
            scan_duration: Family::new_with_constructor(scan_histogram),
            repository_tags: Family::default(),
            policy_selections: Family::default(),
            automation_runs: Family::default(),
            automation_run_duration: Family::new_with_constructor(run_histogram),
            commits: Family::default(),
            pushes: Family::default(),
            push_retries: Family::default(),
            errors: Family::default(),
            actor_restarts: Family::default(),
            objects: Family::default(),
            object_errors: Gauge::default(),
            webhook_requests: Family::default(),
            webhook_to_commit: Histogram::new(WEBHOOK_BUCKETS),
            cloud_token_requests: Family::default(),
            cloud_token_cache: Family::default(),
        };
        metrics.register_all();
        metrics
    }

    // The encoder appends `_total` to counters and the unit to names, so neither is spelled here.
    fn register_all(&mut self) {
        let r = &mut self.registry;
        r.register(
            "scans",
            "Registry scans by ImageRepository and outcome",
            self.scans.clone(),
        );
        r.register_with_unit(
            "scan_duration",
            "Duration of registry scans by ImageRepository",
            Unit::Seconds,
            self.scan_duration.clone(),
        );
        r.register(
            "repository_tags",
            "Tags found by the last successful scan of each ImageRepository",
            self.repository_tags.clone(),
        );
        r.register(
            "policy_selections",
            "Tag selections by ImagePolicy and outcome",
            self.policy_selections.clone(),
        );
        r.register(
            "automation_runs",
            "Automation runs by ImageUpdateAutomation and outcome",
            self.automation_runs.clone(),
        );
        r.register_with_unit(
            "automation_run_duration",
            "Duration of automation runs by ImageUpdateAutomation",
            Unit::Seconds,
            self.automation_run_duration.clone(),
        );
        r.register(
            "commits",
            "Commits made by each ImageUpdateAutomation",
            self.commits.clone(),
        );
        r.register(
            "pushes",
            "Pushes accepted for each ImageUpdateAutomation",
            self.pushes.clone(),
        );
        r.register(
            "push_retries",
            "Pushes retried after a rejection, by ImageUpdateAutomation",
            self.push_retries.clone(),
        );
        r.register("errors", "Errors by kind", self.errors.clone());
        r.register(
            "actor_restarts",
            "Supervised actor restarts by kind",
            self.actor_restarts.clone(),
        );
        r.register("objects", "Objects loaded, by kind", self.objects.clone());
        r.register(
            "object_errors",
            "Invalid objects at the last load",
            self.object_errors.clone(),
        );
        r.register(
            "webhook_requests",
            "Webhook requests by receiver, receiver type and outcome",
            self.webhook_requests.clone(),
        );
        r.register_with_unit(
            "webhook_to_commit",
            "Time from an accepted webhook to the commit it caused",
            Unit::Seconds,
            self.webhook_to_commit.clone(),
        );
        r.register(
            "cloud_token_requests",
            "Cloud registry logins (ECR, GCP, ACR token requests) by provider and outcome",
            self.cloud_token_requests.clone(),
        );
        r.register(
            "cloud_token_cache",
            "Cloud credential lookups answered from the cache (hit) or fetched (miss)",
            self.cloud_token_cache.clone(),
        );
    }

    /// A cloud token was fetched (`ok`) or the fetch failed.
    pub fn cloud_token_request(&self, provider: &str, ok: bool) {
        let labels = CloudLabels {
            provider: provider.to_owned(),
            outcome: if ok { "success" } else { "failure" }.to_owned(),
        };
        self.cloud_token_requests.get_or_create(&labels).inc();
    }

    /// A cloud credential lookup hit or missed the cache.
    pub fn cloud_token_cache(&self, provider: &str, hit: bool) {
        let labels = CloudLabels {
            provider: provider.to_owned(),
            outcome: if hit { "hit" } else { "miss" }.to_owned(),
        };
        self.cloud_token_cache.get_or_create(&labels).inc();
    }

    /// An ImageRepository scan ended; `tags` is the tag count kept, `None` when the scan failed.
    pub fn scan_finished(&self, namespace: &str, name: &str, elapsed: Duration, tags: Option<usize>) {
        let object = object(namespace, name);
        let outcome = if tags.is_some() {
            SCAN_OUTCOMES[0]
        } else {
            SCAN_OUTCOMES[1]
        };
        self.scans.get_or_create(&with_outcome(&object, outcome)).inc();
        self.scan_duration
            .get_or_create(&object)
            .observe(elapsed.as_secs_f64());
        // A failed scan keeps the previous tag list in the state store, so the gauge keeps it too.
        if let Some(tags) = tags {
            self.repository_tags
                .get_or_create(&object)
                .set(i64::try_from(tags).unwrap_or(i64::MAX));
        }
    }

    /// An ImagePolicy finished a selection.
    pub fn policy_selected(&self, namespace: &str, name: &str, outcome: SelectionOutcome) {
        let labels = with_outcome(&object(namespace, name), outcome.label());
        self.policy_selections.get_or_create(&labels).inc();
    }

    /// An ImageUpdateAutomation run ended. A pushed run counts one commit, one push and
    /// `attempts - 1` retries.
    pub fn automation_finished(&self, namespace: &str, name: &str, elapsed: Duration, outcome: RunOutcome) {
        let object = object(namespace, name);
        self.automation_runs
            .get_or_create(&with_outcome(&object, outcome.label()))
            .inc();
        self.automation_run_duration
            .get_or_create(&object)
            .observe(elapsed.as_secs_f64());
        if let RunOutcome::Pushed { attempts } = outcome {
            self.commits.get_or_create(&object).inc();
            self.pushes.get_or_create(&object).inc();
            // inc_by(0) still creates the series, so `rate()` sees zero rather than no data.
            self.push_retries
                .get_or_create(&object)
                .inc_by(u64::from(attempts.saturating_sub(1)));
        }
    }

    /// Something failed; `kind` is a short fixed word (`registry_auth`, `registry`, `git`,
    /// `update`, `template`, `state`, `config`, ...), never text from the error itself.
    pub fn error(&self, kind: &str) {
        self.errors
            .get_or_create(&KindLabels {
                kind: kind.to_owned(),
            })
            .inc();
    }

    /// The supervisor restarted an actor of `kind` (`scanner`, `policy`, `writer`, `receiver`).
    pub fn actor_restarted(&self, kind: &str) {
        self.actor_restarts
            .get_or_create(&KindLabels {
                kind: kind.to_owned(),
            })
            .inc();
    }

    /// A (re)load finished with `counts` valid objects per kind and `errors` invalid ones.
    /// Pass every kind, with 0 for a kind that has none: kinds left out keep their old value.
    pub fn set_objects(&self, counts: &[(&str, usize)], errors: usize) {
        for (kind, count) in counts {
            let labels = KindLabels {
                kind: (*kind).to_owned(),
            };
            self.objects
                .get_or_create(&labels)
                .set(i64::try_from(*count).unwrap_or(i64::MAX));
        }
        self.object_errors.set(i64::try_from(errors).unwrap_or(i64::MAX));
    }

    /// A webhook request reached `receiver` (its `namespace/name`) of `webhook_type`; `outcome`
    /// is a short fixed word (`accepted`, `unauthorized`, `bad_request`, ...).
    pub fn webhook_request(&self, receiver: &str, webhook_type: &str, outcome: &str) {
        let labels = WebhookLabels {
            receiver: receiver.to_owned(),
            r#type: webhook_type.to_owned(),
            outcome: outcome.to_owned(),
        };
        self.webhook_requests.get_or_create(&labels).inc();
    }

    /// A commit was pushed `elapsed` after the webhook that triggered it was accepted.
    pub fn webhook_to_commit(&self, elapsed: Duration) {
        self.webhook_to_commit.observe(elapsed.as_secs_f64());
    }

    /// Drops the series of the deleted object `kind` `namespace/name`, so it stops being
    /// exported. The kind matters: an ImageRepository and an ImagePolicy are often both named
    /// `podinfo`, and deleting one must not reset the other's counters. Receivers own no
    /// per-object series here; kinds without metrics are ignored.
    pub fn forget(&self, kind: Kind, namespace: &str, name: &str) {
        let object = object(namespace, name);
        match kind {
            Kind::ImageRepository => {
                for outcome in SCAN_OUTCOMES {
                    self.scans.remove(&with_outcome(&object, outcome));
                }
                self.scan_duration.remove(&object);
                self.repository_tags.remove(&object);
            }
            Kind::ImagePolicy => {
                for outcome in SelectionOutcome::ALL {
                    self.policy_selections
                        .remove(&with_outcome(&object, outcome.label()));
                }
            }
            Kind::ImageUpdateAutomation => {
                for outcome in RunOutcome::LABELS {
                    self.automation_runs.remove(&with_outcome(&object, outcome));
                }
                self.automation_run_duration.remove(&object);
                self.commits.remove(&object);
                self.pushes.remove(&object);
                self.push_retries.remove(&object);
            }
            Kind::GitRepository | Kind::Receiver | Kind::Secret => {}
        }
    }

    /// The registry in `OpenMetrics` text format, ending with `# EOF`.
    #[must_use]
    pub fn encode(&self) -> String {
        let mut text = String::new();
        // Writing into a String cannot fail, and our label values are plain strings.
        if prometheus_client::encoding::text::encode(&mut text, &self.registry).is_err() {
            text.clear();
            text.push_str("# EOF\n");
        }
        text
    }
}

fn object(namespace: &str, name: &str) -> ObjectLabels {
    ObjectLabels {
        namespace: namespace.to_owned(),
        name: name.to_owned(),
    }
}

fn with_outcome(object: &ObjectLabels, outcome: &'static str) -> OutcomeLabels {
    OutcomeLabels {
        namespace: object.namespace.clone(),
        name: object.name.clone(),
        outcome,
    }
}

#[cfg(test)]
mod tests;
