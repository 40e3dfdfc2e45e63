//! Selection over 100k realistic tags for each policy kind.
//!
//! Run: `cargo bench -p imagebump-policy`. The tag mix (semver with and without `v`,
//! prereleases, metadata, calver, build IDs, junk, cosign `.sig` tags) is generated
//! deterministically, so runs compare.

use criterion::{Criterion, criterion_group, criterion_main};
use imagebump_policy::Policy;
use std::hint::black_box;

/// A small deterministic generator (64-bit LCG), so the bench needs no `rand`.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, bound: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % bound
    }
}

fn realistic_tags(n: usize) -> Vec<String> {
    let mut rng = Lcg(42);
    (0..n)
        .map(|_| {
            let (a, b, c) = (rng.next(12), rng.next(30), rng.next(50));
            match rng.next(20) {
                0..=7 => format!("{a}.{b}.{c}"),
                8..=9 => format!("v{a}.{b}.{c}"),
                10..=11 => {
                    let pre = ["rc", "beta", "alpha"][usize::try_from(rng.next(3)).unwrap_or(0)];
                    format!("{a}.{b}.{c}-{pre}.{}", rng.next(20))
                }
                12 => format!("{a}.{b}.{c}+build.{}", rng.next(999)),
                13..=14 => format!(
                    "v20{:02}.{:02}.{:02}",
                    20 + rng.next(6),
                    1 + rng.next(12),
                    1 + rng.next(28)
                ),
                15..=17 => format!(
                    "main-{:07x}-{}",
                    rng.next(0x0fff_ffff),
                    1_700_000_000 + rng.next(50_000_000)
                ),
                18 => format!("sha256-{:016x}.sig", rng.next(u64::MAX)),
                _ => ["latest", "main", "1.2", "v1", "stable", "20221209-update-x"]
                    [usize::try_from(rng.next(6)).unwrap_or(0)]
                .to_string(),
            }
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let tags = realistic_tags(100_000);
    let build_id = r"^main-[a-f0-9]+-(?P<ts>[0-9]+)$";
    let policies = [
        ("semver >=1.0.0 <2.0.0", Policy::semver(">=1.0.0 <2.0.0")),
        ("semver ^1.x-0", Policy::semver("^1.x-0")),
        ("semver 5.0.x", Policy::semver("5.0.x")),
        (
            "semver+extract calver",
            Policy::semver(">=2024.1.0").and_then(|p| p.with_filter(r"^v(20\d\d\.\d+\.\d+)$", "$1")),
        ),
        ("alphabetical asc", Policy::alphabetical("asc")),
        (
            "alphabetical+filter",
            Policy::alphabetical("asc").and_then(|p| p.with_filter(build_id, "$ts")),
        ),
        (
            "numerical+extract",
            Policy::numerical("asc").and_then(|p| p.with_filter(build_id, "$ts")),
        ),
    ];
    let mut group = c.benchmark_group("select_100k");
    group.sample_size(20);
    for (name, policy) in policies {
        let policy = policy.expect("bench policies are valid");
        group.bench_function(name, |b| {
            b.iter(|| policy.select(black_box(&tags)).map(|s| s.tag().map(str::len)));
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
