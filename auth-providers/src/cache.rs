//! [`CachedProvider`]: remembers another provider's answers for most of their lifetime.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use crate::Credentials;
use crate::provider::{BoxFuture, CredentialProvider, Error};

/// Flux's `--token-cache-max-duration` default, and its hard cap.
pub const DEFAULT_MAX_AGE: Duration = Duration::from_hours(1);
/// How long a failure is remembered, so a burst of scans does not hammer a failing provider.
pub const DEFAULT_ERROR_BACKOFF: Duration = Duration::from_secs(5);

/// The wall clock, injectable so tests can move time.
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current time.
    fn now(&self) -> SystemTime;
}

/// [`SystemTime::now`].
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// A cache in front of any [`CredentialProvider`], keyed by `(registry, repository)` (or by
/// registry alone, see [`CachedProviderBuilder::per_registry`]), with
/// Flux's token-cache rules (flux-scanning-and-policy §3.4):
///
/// - Credentials are reused until 80 % of their remaining lifetime (measured when they arrived)
///   has passed, and never longer than `max_age` (default 1 h). Credentials without an expiry
///   are kept for `max_age`.
/// - Concurrent requests for one key share one call to the inner provider: the first caller
///   fetches, the others wait for its answer, success or failure.
/// - A failure is remembered for `error_backoff` (default 5 s) only.
///
/// Dropping a caller's future while it fetches cancels that fetch; the next waiter fetches
/// instead. The daemon owns the cache (one per provider) and calls
/// [`CachedProvider::invalidate`] when an object goes away, as Flux purges its cache entries.
///
/// ```
/// use std::time::Duration;
/// use imagebump_auth::{CachedProvider, StaticProvider, docker_config::DockerConfig};
///
/// let provider = CachedProvider::builder(StaticProvider::new(DockerConfig::default()))
///     .max_age(Duration::from_mins(10))
///     .build();
/// # let _ = provider;
/// ```
pub struct CachedProvider<P> {
    inner: P,
    max_age: Duration,
    error_backoff: Duration,
    per_registry: bool,
    clock: Arc<dyn Clock>,
    slots: Mutex<HashMap<(String, String), Arc<Slot>>>,
}

/// The cache entry of one key.
#[derive(Default)]
struct Slot {
    /// Bumped each time a fetch completes, so waiters can tell that one finished while they
    /// waited and take its answer, however short-lived.
    completed: AtomicU64,
    /// Held for the whole fetch: this is what makes concurrent callers share one fetch.
    cached: tokio::sync::Mutex<Option<Cached>>,
}

struct Cached {
    result: Result<Credentials, Error>,
    fetched_at: SystemTime,
    valid_until: SystemTime,
}

impl Cached {
    /// Fresh until `valid_until`; a clock that went back before the fetch makes it stale too.
    fn is_fresh(&self, now: SystemTime) -> bool {
        self.fetched_at <= now && now < self.valid_until
    }
}

/// Builds a [`CachedProvider`].
#[derive(Debug)]
#[must_use]
pub struct CachedProviderBuilder<P> {
    inner: P,
    max_age: Duration,
    error_backoff: Duration,
    per_registry: bool,
    clock: Arc<dyn Clock>,
}

impl<P: CredentialProvider> CachedProviderBuilder<P> {
    /// The longest any answer is reused (default [`DEFAULT_MAX_AGE`]); zero disables reuse
    /// beyond sharing a fetch among concurrent callers.
    pub fn max_age(self, max_age: Duration) -> Self {
        Self { max_age, ..self }
    }

    /// How long a failure is reused (default [`DEFAULT_ERROR_BACKOFF`]).
    pub fn error_backoff(self, error_backoff: Duration) -> Self {
        Self {
            error_backoff,
            ..self
        }
    }

    /// Whether to key the cache by registry alone (default `false`: by registry and repository).
    /// Only for providers whose answer does not depend on the repository, such as cloud logins
    /// and the host docker config: one token then serves every repository of a registry, as in
    /// Flux's cache. The inner provider is asked with the repository of the first caller.
    pub fn per_registry(self, per_registry: bool) -> Self {
        Self { per_registry, ..self }
    }

    /// The clock (default [`SystemClock`]).
    pub fn clock(self, clock: Arc<dyn Clock>) -> Self {
        Self { clock, ..self }
    }

    /// The provider.
    pub fn build(self) -> CachedProvider<P> {
        CachedProvider {
            inner: self.inner,
            max_age: self.max_age,
            error_backoff: self.error_backoff,
            per_registry: self.per_registry,
            clock: self.clock,
            slots: Mutex::default(),
        }
    }
}

impl<P: CredentialProvider> CachedProvider<P> {
    /// A cache with the defaults in front of `inner`.
    #[must_use]
    pub fn new(inner: P) -> Self {
        Self::builder(inner).build()
    }

    /// A builder for a cache in front of `inner`.
    pub fn builder(inner: P) -> CachedProviderBuilder<P> {
        CachedProviderBuilder {
            inner,
            max_age: DEFAULT_MAX_AGE,
            error_backoff: DEFAULT_ERROR_BACKOFF,
            per_registry: false,
            clock: Arc::new(SystemClock),
        }
    }

    /// The wrapped provider.
    pub fn inner(&self) -> &P {
        &self.inner
    }

    /// Forgets the answer for one key; the next request fetches again.
    pub fn invalidate(&self, registry: &str, repository: &str) {
        let key = self.key(registry, repository);
        self.lock_slots().remove(&key);
    }

    /// Forgets every answer.
    pub fn clear(&self) {
        self.lock_slots().clear();
    }

    async fn cached_credentials(&self, registry: &str, repository: &str) -> Result<Credentials, Error> {
        let slot = self.slot(registry, repository);
        let seen = slot.completed.load(Ordering::Acquire);
        let mut cached = slot.cached.lock().await;
        if let Some(entry) = cached.as_ref()
            && (slot.completed.load(Ordering::Acquire) != seen || entry.is_fresh(self.clock.now()))
        {
            return entry.result.clone();
        }
        let result = self.inner.credentials(registry, repository).await;
        let fetched_at = self.clock.now();
        let valid_until = fetched_at
            .checked_add(self.lifetime(&result, fetched_at))
            .unwrap_or(fetched_at);
        *cached = Some(Cached {
            result: result.clone(),
            fetched_at,
            valid_until,
        });
        slot.completed.fetch_add(1, Ordering::Release);
        result
    }

    /// How long `result`, fetched at `now`, may be reused.
    fn lifetime(&self, result: &Result<Credentials, Error>, now: SystemTime) -> Duration {
        match result {
            Err(_) => self.error_backoff,
            Ok(Credentials { expires_at: None, .. }) => self.max_age,
            Ok(Credentials {
                expires_at: Some(expires_at),
                ..
            }) => {
                let remaining = expires_at.duration_since(now).unwrap_or(Duration::ZERO);
                (remaining / 5 * 4).min(self.max_age)
            }
        }
    }

    /// The slot for a key, created if needed. Creating one first drops the slots nobody uses
    /// whose answers have gone stale, so the map holds only live keys.
    fn slot(&self, registry: &str, repository: &str) -> Arc<Slot> {
        let key = self.key(registry, repository);
        let mut slots = self.lock_slots();
        if let Some(slot) = slots.get(&key) {
            return Arc::clone(slot);
        }
        let now = self.clock.now();
        slots.retain(|_, slot| {
            Arc::strong_count(slot) > 1
                || slot
                    .cached
                    .try_lock()
                    .is_ok_and(|cached| cached.as_ref().is_some_and(|c| c.is_fresh(now)))
        });
        Arc::clone(slots.entry(key).or_default())
    }

    fn key(&self, registry: &str, repository: &str) -> (String, String) {
        let repository = if self.per_registry { "" } else { repository };
        (registry.to_owned(), repository.to_owned())
    }

    fn lock_slots(&self) -> std::sync::MutexGuard<'_, HashMap<(String, String), Arc<Slot>>> {
        // Nothing panics while holding this lock, and the map is valid after any panic anyway.
        self.slots.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<P: CredentialProvider> CredentialProvider for CachedProvider<P> {
    fn name(&self) -> &'static str {
        self.inner.name()
    }

    fn credentials<'a>(
        &'a self,
        registry: &'a str,
        repository: &'a str,
    ) -> BoxFuture<'a, Result<Credentials, Error>> {
        Box::pin(self.cached_credentials(registry, repository))
    }
}

impl<P: fmt::Debug> fmt::Debug for CachedProvider<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CachedProvider")
            .field("inner", &self.inner)
            .field("max_age", &self.max_age)
            .field("error_backoff", &self.error_backoff)
            .field("per_registry", &self.per_registry)
            .field("clock", &self.clock)
            .field(
                "keys",
                &self.slots.lock().unwrap_or_else(PoisonError::into_inner).len(),
            )
            .finish()
    }
}

#[cfg(test)]
mod tests;
