use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use tokio::sync::Semaphore;

use super::{CachedProvider, Clock};
use crate::provider::{BoxFuture, CredentialProvider, Error};
use crate::{Credential, Credentials};

const START: Duration = Duration::from_secs(1_700_000_000);

#[derive(Debug)]
struct ManualClock(Mutex<SystemTime>);

impl ManualClock {
    fn new() -> Arc<Self> {
        Arc::new(Self(Mutex::new(SystemTime::UNIX_EPOCH + START)))
    }
    fn advance(&self, by: Duration) {
        *self.0.lock().unwrap() += by;
    }
    fn set(&self, to: SystemTime) {
        *self.0.lock().unwrap() = to;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> SystemTime {
        *self.0.lock().unwrap()
    }
}

/// Answers from a script (repeating the last answer), counting calls; optionally waits for a
/// permit before answering.
#[derive(Debug)]
struct Scripted {
    answers: Mutex<VecDeque<Result<Credentials, Error>>>,
    calls: AtomicUsize,
    gate: Option<Arc<Semaphore>>,
}

impl Scripted {
    fn new(answers: impl IntoIterator<Item = Result<Credentials, Error>>) -> Self {
        Self {
            answers: Mutex::new(answers.into_iter().collect()),
            calls: AtomicUsize::new(0),
            gate: None,
        }
    }
    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

impl CredentialProvider for Scripted {
    fn name(&self) -> &'static str {
        "scripted"
    }

    fn credentials<'a>(&'a self, _: &'a str, _: &'a str) -> BoxFuture<'a, Result<Credentials, Error>> {
        Box::pin(async move {
            self.calls.fetch_add(1, Ordering::SeqCst);
            if let Some(gate) = &self.gate {
                gate.acquire().await.unwrap().forget();
            }
            let mut answers = self.answers.lock().unwrap();
            if answers.len() > 1 {
                answers.pop_front().unwrap()
            } else {
                answers.front().unwrap().clone()
            }
        })
    }
}

fn basic(user: &str) -> Credentials {
    Credentials::new(Credential::basic(user, "secret"))
}

fn failure() -> Error {
    Error::other("scripted", "ghcr.io", "token endpoint said 503", true)
}

fn cache(inner: Scripted, clock: &Arc<ManualClock>) -> CachedProvider<Scripted> {
    CachedProvider::builder(inner)
        .clock(Arc::clone(clock) as Arc<dyn Clock>)
        .build()
}

async fn user(provider: &CachedProvider<Scripted>) -> String {
    match provider
        .credentials("ghcr.io", "org/app")
        .await
        .unwrap()
        .credential
    {
        Credential::Basic { username, .. } => username,
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn reuses_answers_within_their_lifetime() {
    let clock = ManualClock::new();
    let expiry = clock.now() + Duration::from_secs(100);
    let provider = cache(
        Scripted::new([Ok(basic("first").expiring_at(expiry)), Ok(basic("second"))]),
        &clock,
    );
    assert_eq!(user(&provider).await, "first");
    clock.advance(Duration::from_secs(79));
    assert_eq!(user(&provider).await, "first");
    assert_eq!(provider.inner().calls(), 1);
    // Other keys are separate.
    provider.credentials("ghcr.io", "org/other").await.unwrap();
    provider.credentials("quay.io", "org/app").await.unwrap();
    assert_eq!(provider.inner().calls(), 3);
    assert_eq!(provider.name(), "scripted");
}

#[tokio::test]
async fn refreshes_after_80_percent_of_the_remaining_lifetime() {
    let clock = ManualClock::new();
    let expiry = clock.now() + Duration::from_secs(100);
    let provider = cache(
        Scripted::new([Ok(basic("first").expiring_at(expiry)), Ok(basic("second"))]),
        &clock,
    );
    assert_eq!(user(&provider).await, "first");
    clock.advance(Duration::from_secs(80));
    assert_eq!(user(&provider).await, "second");
    assert_eq!(provider.inner().calls(), 2);
}

#[tokio::test]
async fn lifetime_is_measured_when_the_answer_arrives() {
    // A token with 50 s left when fetched is reused for 40 s, whatever its total lifetime was.
    let clock = ManualClock::new();
    let expiry = clock.now() + Duration::from_secs(50);
    let provider = cache(
        Scripted::new([Ok(basic("first").expiring_at(expiry)), Ok(basic("second"))]),
        &clock,
    );
    assert_eq!(user(&provider).await, "first");
    clock.advance(Duration::from_millis(39_999));
    assert_eq!(user(&provider).await, "first");
    clock.advance(Duration::from_millis(1));
    assert_eq!(user(&provider).await, "second");
}

#[tokio::test]
async fn long_lifetimes_are_capped_at_max_age() {
    let clock = ManualClock::new();
    let expiry = clock.now() + Duration::from_hours(12);
    let provider = cache(
        Scripted::new([Ok(basic("first").expiring_at(expiry)), Ok(basic("second"))]),
        &clock,
    );
    assert_eq!(user(&provider).await, "first");
    clock.advance(Duration::from_secs(3599));
    assert_eq!(user(&provider).await, "first");
    clock.advance(Duration::from_secs(1));
    assert_eq!(user(&provider).await, "second");
}

#[tokio::test]
async fn answers_without_expiry_live_for_max_age() {
    let clock = ManualClock::new();
    let provider = CachedProvider::builder(Scripted::new([Ok(basic("first")), Ok(basic("second"))]))
        .clock(Arc::clone(&clock) as Arc<dyn Clock>)
        .max_age(Duration::from_mins(10))
        .build();
    assert_eq!(user(&provider).await, "first");
    clock.advance(Duration::from_secs(599));
    assert_eq!(user(&provider).await, "first");
    clock.advance(Duration::from_secs(1));
    assert_eq!(user(&provider).await, "second");
}

#[tokio::test]
async fn expired_answers_are_returned_but_not_reused() {
    let clock = ManualClock::new();
    let past = clock.now() - Duration::from_secs(1);
    let provider = cache(
        Scripted::new([Ok(basic("first").expiring_at(past)), Ok(basic("second"))]),
        &clock,
    );
    assert_eq!(user(&provider).await, "first");
    assert_eq!(user(&provider).await, "second");
}

#[tokio::test]
async fn a_clock_that_goes_back_refetches() {
    let clock = ManualClock::new();
    let provider = cache(Scripted::new([Ok(basic("first")), Ok(basic("second"))]), &clock);
    assert_eq!(user(&provider).await, "first");
    clock.set(SystemTime::UNIX_EPOCH + START - Duration::from_secs(1));
    assert_eq!(user(&provider).await, "second");
}

#[tokio::test]
async fn failures_are_reused_for_the_backoff_only() {
    let clock = ManualClock::new();
    let provider = cache(Scripted::new([Err(failure()), Ok(basic("recovered"))]), &clock);
    let error = provider.credentials("ghcr.io", "org/app").await.unwrap_err();
    assert!(error.is_transient());
    clock.advance(Duration::from_secs(4));
    assert!(provider.credentials("ghcr.io", "org/app").await.is_err());
    assert_eq!(provider.inner().calls(), 1);
    clock.advance(Duration::from_secs(1));
    assert_eq!(user(&provider).await, "recovered");
    assert_eq!(provider.inner().calls(), 2);
}

#[tokio::test]
async fn invalidate_and_clear_forget_answers() {
    let clock = ManualClock::new();
    let provider = cache(
        Scripted::new([Ok(basic("a")), Ok(basic("b")), Ok(basic("c"))]),
        &clock,
    );
    assert_eq!(user(&provider).await, "a");
    provider.invalidate("ghcr.io", "org/app");
    assert_eq!(user(&provider).await, "b");
    provider.clear();
    assert_eq!(user(&provider).await, "c");
    assert!(format!("{provider:?}").contains("keys: 1"));
}

#[tokio::test]
async fn per_registry_caches_share_one_answer_across_repositories() {
    let clock = ManualClock::new();
    let provider = CachedProvider::builder(Scripted::new([Ok(basic("a")), Ok(basic("b"))]))
        .clock(Arc::clone(&clock) as Arc<dyn Clock>)
        .per_registry(true)
        .build();
    provider
        .credentials("123.dkr.ecr.eu-west-1.amazonaws.com", "one")
        .await
        .unwrap();
    provider
        .credentials("123.dkr.ecr.eu-west-1.amazonaws.com", "two")
        .await
        .unwrap();
    assert_eq!(provider.inner().calls(), 1);
    provider
        .credentials("456.dkr.ecr.eu-west-1.amazonaws.com", "one")
        .await
        .unwrap();
    assert_eq!(provider.inner().calls(), 2);
    provider.invalidate("123.dkr.ecr.eu-west-1.amazonaws.com", "any");
    provider
        .credentials("123.dkr.ecr.eu-west-1.amazonaws.com", "one")
        .await
        .unwrap();
    assert_eq!(provider.inner().calls(), 3);
}

#[tokio::test]
async fn stale_unused_keys_are_dropped_when_a_new_key_arrives() {
    let clock = ManualClock::new();
    let provider = cache(Scripted::new([Ok(basic("a"))]), &clock);
    provider.credentials("ghcr.io", "one").await.unwrap();
    provider.credentials("ghcr.io", "two").await.unwrap();
    assert_eq!(provider.lock_slots().len(), 2);
    clock.advance(Duration::from_hours(1));
    provider.credentials("ghcr.io", "three").await.unwrap();
    assert_eq!(provider.lock_slots().len(), 1);
}

/// Runs 8 concurrent callers against a gated inner provider; returns the inner call count
/// and the answers.
async fn eight_callers(answer: Result<Credentials, Error>, error_backoff: Duration) -> (usize, Vec<bool>) {
    let gate = Arc::new(Semaphore::new(0));
    let inner = Scripted {
        gate: Some(Arc::clone(&gate)),
        ..Scripted::new([answer])
    };
    let provider = Arc::new(
        CachedProvider::builder(inner)
            .error_backoff(error_backoff)
            .build(),
    );
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let provider = Arc::clone(&provider);
            tokio::spawn(async move { provider.credentials("ghcr.io", "org/app").await.is_ok() })
        })
        .collect();
    // On the current-thread runtime each task runs to its first wait: one inside the inner
    // provider, seven on the key's lock.
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
    assert_eq!(provider.inner().calls(), 1);
    // Enough permits that a cache calling the inner provider eight times would not hang.
    gate.add_permits(8);
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.unwrap());
    }
    (provider.inner().calls(), results)
}

#[tokio::test]
async fn concurrent_callers_share_one_fetch() {
    let (calls, results) = eight_callers(Ok(basic("shared")), Duration::from_secs(5)).await;
    assert_eq!(calls, 1);
    assert_eq!(results, [true; 8]);
}

#[tokio::test]
async fn concurrent_callers_share_one_failure_even_without_backoff() {
    let (calls, results) = eight_callers(Err(failure()), Duration::ZERO).await;
    assert_eq!(calls, 1);
    assert_eq!(results, [false; 8]);
}

#[tokio::test]
async fn a_cancelled_fetch_lets_the_next_caller_fetch() {
    let gate = Arc::new(Semaphore::new(0));
    let inner = Scripted {
        gate: Some(Arc::clone(&gate)),
        ..Scripted::new([Ok(basic("late"))])
    };
    let provider = CachedProvider::new(inner);
    let first = tokio::time::timeout(
        Duration::from_millis(10),
        provider.credentials("ghcr.io", "org/app"),
    )
    .await;
    assert!(first.is_err());
    gate.add_permits(1);
    assert_eq!(
        provider.credentials("ghcr.io", "org/app").await.unwrap(),
        basic("late")
    );
    assert_eq!(provider.inner().calls(), 2);
}

#[test]
fn cached_errors_and_debug_output_show_no_secret() {
    let clock = ManualClock::new();
    let provider = cache(Scripted::new([Ok(basic("u"))]), &clock);
    let shown = format!("{provider:?}");
    assert!(!shown.contains("secret"), "{shown}");
    let error = failure();
    for shown in [error.to_string(), format!("{error:?}")] {
        assert!(shown.contains("ghcr.io"), "{shown}");
    }
}
