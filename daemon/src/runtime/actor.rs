//! What every actor shares: its context, its inbox, how it is restarted after a panic, and
//! how it waits between runs (interval with jitter, backoff after a failure).

use std::any::Any;
use std::future::Future;
use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{Mutex, mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use tracing::{Instrument, error};

use super::Shared;
use crate::config::resolved::NamespacedName;
use crate::metrics::Metrics;

/// What the supervisor can ask of a running actor.
#[derive(Debug)]
pub enum Command {
    /// Run now and answer with what happened (`Ok`) or why it failed (`Err`).
    Reconcile(oneshot::Sender<Result<String, String>>),
}

/// The inbox survives restarts, so a reconcile sent while an actor restarts is not lost.
pub type Inbox = Arc<Mutex<mpsc::Receiver<Command>>>;

/// Everything an actor runs on.
pub struct Ctx<T> {
    /// Store, metrics, board, settings.
    pub shared: Arc<Shared>,
    /// The object, as loaded.
    pub object: Arc<T>,
    /// Its key.
    pub key: NamespacedName,
    /// Commands from the supervisor; closed when the actor should stop.
    pub inbox: Inbox,
    /// `spec.suspend` or a suspend override.
    pub suspended: watch::Receiver<bool>,
}

impl<T> Clone for Ctx<T> {
    fn clone(&self) -> Self {
        Ctx {
            shared: Arc::clone(&self.shared),
            object: Arc::clone(&self.object),
            key: self.key.clone(),
            inbox: Arc::clone(&self.inbox),
            suspended: self.suspended.clone(),
        }
    }
}

impl<T> Ctx<T> {
    /// The key as the state store spells it.
    pub fn store_key(&self) -> String {
        self.key.to_string()
    }
}

/// Aborts the task when dropped, so aborting a supervising task also stops its child.
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Runs `body` as a task and starts it again, after a growing pause, whenever it panics.
/// The task ends when `body` returns (its inbox closed) or when the handle is aborted.
pub fn spawn_supervised<F, Fut>(
    metrics: &Arc<Metrics>,
    kind: &'static str,
    key: &NamespacedName,
    body: F,
) -> JoinHandle<()>
where
    F: Fn() -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let metrics = Arc::clone(metrics);
    let span = tracing::info_span!("object", kind, namespace = %key.namespace, name = %key.name);
    tokio::spawn(
        async move {
            let mut backoff = Backoff::default();
            loop {
                let mut child = AbortOnDrop(tokio::spawn(body().in_current_span()));
                match (&mut child.0).await {
                    Ok(()) => return,
                    Err(e) if e.is_cancelled() => return,
                    Err(e) => {
                        let pause = backoff.next(Duration::from_secs(30));
                        error!(
                            panic = panic_text(&e.into_panic()),
                            restart_in = ?pause,
                            "actor panicked; restarting"
                        );
                        metrics.actor_restarted(actor_kind(kind));
                        tokio::time::sleep(pause).await;
                    }
                }
            }
        }
        .instrument(span),
    )
}

/// The metric label of an object kind's actor.
fn actor_kind(kind: &str) -> &'static str {
    match kind {
        "ImageRepository" => "scanner",
        "ImagePolicy" => "policy",
        "ImageUpdateAutomation" => "writer",
        _ => "receiver",
    }
}

fn panic_text(payload: &Box<dyn Any + Send>) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic without a message".to_owned())
}

/// Exponential pauses after failures: 0.8 s, doubling, up to a cap; reset after a success.
#[derive(Debug, Default)]
pub struct Backoff {
    failures: u32,
}

impl Backoff {
    /// The first pause (Flux's controllers start near 750 ms).
    const FIRST: Duration = Duration::from_millis(800);

    /// The next pause, at most `cap`.
    pub fn next(&mut self, cap: Duration) -> Duration {
        let pause = Self::FIRST.saturating_mul(1 << self.failures.min(16));
        self.failures = self.failures.saturating_add(1);
        pause.min(cap)
    }

    /// A run succeeded.
    pub fn reset(&mut self) {
        self.failures = 0;
    }
}

/// When an interval-driven actor runs next: one (jittered) interval after a success, after a
/// growing pause after a failure (0.8 s doubling, at most the interval and at most 5 minutes),
/// at once when resumed.
#[derive(Debug)]
pub struct Schedule {
    due: Instant,
    interval: Duration,
    backoff: Backoff,
}

impl Schedule {
    /// Failures are retried at least this often, whatever the interval.
    const LONGEST_RETRY: Duration = Duration::from_mins(5);

    /// The first run at `due`, then every `interval`.
    pub fn new(due: Instant, interval: Duration) -> Self {
        Schedule {
            due,
            interval,
            backoff: Backoff::default(),
        }
    }

    /// When the next run is due.
    pub fn due(&self) -> Instant {
        self.due
    }

    /// A run finished, successfully or not.
    pub fn ran(&mut self, ok: bool) {
        self.due = if ok {
            self.backoff.reset();
            Instant::now() + jittered(self.interval)
        } else {
            Instant::now() + self.backoff.next(self.interval.min(Self::LONGEST_RETRY))
        };
    }

    /// Run as soon as possible (after a resume).
    pub fn now(&mut self) {
        self.due = Instant::now();
    }
}

/// `interval` stretched by up to 5 %, so objects loaded together do not run in lock step.
pub fn jittered(interval: Duration) -> Duration {
    let random = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    let spread = interval / 20;
    let extra_nanos = u64::try_from(spread.as_nanos()).unwrap_or(u64::MAX);
    interval + Duration::from_nanos(if extra_nanos == 0 { 0 } else { random % extra_nanos })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_panicking_actor_is_restarted_after_a_pause_and_counted() {
        use std::sync::atomic::{AtomicU32, Ordering};
        let metrics = Arc::new(Metrics::new());
        let runs = Arc::new(AtomicU32::new(0));
        let key = NamespacedName {
            namespace: "flux-system".to_owned(),
            name: "app".to_owned(),
        };
        let counter = Arc::clone(&runs);
        let task = spawn_supervised(&metrics, "ImageRepository", &key, move || {
            let counter = Arc::clone(&counter);
            async move {
                // Panics twice, then ends as a stopped actor does.
                assert!(counter.fetch_add(1, Ordering::SeqCst) >= 2, "boom");
            }
        });
        task.await.unwrap();
        assert_eq!(runs.load(Ordering::SeqCst), 3);
        assert!(
            metrics
                .encode()
                .contains(r#"imagebump_actor_restarts_total{kind="scanner"} 2"#),
            "{}",
            metrics.encode()
        );
    }

    #[test]
    fn backoff_doubles_up_to_the_cap_and_resets() {
        let mut backoff = Backoff::default();
        let cap = Duration::from_secs(5);
        let pauses: Vec<_> = (0..5).map(|_| backoff.next(cap).as_millis()).collect();
        assert_eq!(pauses, [800, 1600, 3200, 5000, 5000]);
        backoff.reset();
        assert_eq!(backoff.next(cap).as_millis(), 800);
    }

    #[test]
    fn jitter_stays_within_five_percent() {
        for _ in 0..100 {
            let d = jittered(Duration::from_mins(1));
            assert!(
                d >= Duration::from_mins(1) && d < Duration::from_secs(63),
                "{d:?}"
            );
        }
        assert_eq!(jittered(Duration::ZERO), Duration::ZERO);
    }
}
