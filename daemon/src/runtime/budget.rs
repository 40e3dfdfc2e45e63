//! How many scans run at once: in all (bounding memory and connections when a thousand
//! repositories fall due together) and against one registry (registries rate-limit, Docker Hub
//! and GHCR among them, so one registry's hundred repositories are scanned a few at a time
//! while other registries go on).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::{AcquireError, OwnedSemaphorePermit, Semaphore, SemaphorePermit};

/// See the module docs.
pub struct ScanBudget {
    all: Semaphore,
    per_registry: usize,
    registries: Mutex<HashMap<String, Arc<Semaphore>>>,
}

/// A running scan's share of the budget; dropping it frees both.
pub struct ScanPermit<'a> {
    _registry: OwnedSemaphorePermit,
    _all: SemaphorePermit<'a>,
}

impl ScanBudget {
    /// At most `all` scans at once, `per_registry` of them against one registry host.
    pub fn new(all: usize, per_registry: usize) -> Self {
        ScanBudget {
            all: Semaphore::new(all),
            per_registry,
            registries: Mutex::default(),
        }
    }

    /// Waits for a turn to scan `registry`. The registry's permit comes first, so scans
    /// queued behind a busy registry do not hold places other registries could use.
    pub async fn acquire(&self, registry: &str) -> Result<ScanPermit<'_>, AcquireError> {
        let semaphore = {
            let mut registries = self.registries.lock().unwrap_or_else(PoisonError::into_inner);
            Arc::clone(
                registries
                    .entry(registry.to_owned())
                    .or_insert_with(|| Arc::new(Semaphore::new(self.per_registry))),
            )
        };
        let registry_permit = semaphore.acquire_owned().await?;
        let all = self.all.acquire().await?;
        Ok(ScanPermit {
            _registry: registry_permit,
            _all: all,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    async fn waits(budget: &ScanBudget, registry: &str) -> bool {
        tokio::time::timeout(Duration::from_millis(20), budget.acquire(registry))
            .await
            .is_err()
    }

    #[tokio::test]
    async fn one_registry_cannot_take_the_whole_budget() {
        let budget = ScanBudget::new(3, 2);
        let first = budget.acquire("ghcr.io").await.unwrap();
        let _second = budget.acquire("ghcr.io").await.unwrap();
        assert!(waits(&budget, "ghcr.io").await, "ghcr.io is at its limit");
        let _other = budget.acquire("quay.io").await.unwrap();
        assert!(waits(&budget, "docker.io").await, "the overall limit holds");
        drop(first);
        assert!(
            !waits(&budget, "ghcr.io").await,
            "a finished scan frees its places"
        );
    }
}
