#!/usr/bin/env python3
"""Print N realistic container image tags, one per line (deterministic).

Usage: gen-tags.py [N] [--seed S]

N defaults to 100000, the seed to 20250703. The same N and seed always give
the same output (stdlib `random` with a fixed seed; no set/dict ordering is
involved). Tags are distinct, like the tags of one registry repository.

Mix (by weight, roughly):
  50% semver releases: 1.2.3, v1.2.3, some with leading zeros (v2025.01.05)
  10% prereleases:     1.3.0-rc.1, v2.0.0-beta.12, 1.0.0-alpha
                       (a few of the releases/prereleases carry build
                       metadata: 1.2.3+build.5)
  15% build IDs:       main-<7 hex>-<unix ts>
  10% calver:          2025.07.03, 20250703, 2025.7.3, 20250703.2,
                       202507031205
  15% junk:            latest, main, sha-<hex>, 1.2, v1, 20221209-update-x,
                       cosign-like sha256-<64 hex>.sig / .att / .sbom
"""

import argparse
import random
import sys

HEX = "0123456789abcdef"


def hexstr(rng, n):
    return "".join(rng.choice(HEX) for _ in range(n))


def semver_core(rng):
    # Skewed towards small majors, like real projects; a few large ones.
    r = rng.random()
    if r < 0.45:
        major = rng.randint(0, 2)
    elif r < 0.85:
        major = rng.randint(3, 12)
    else:
        major = rng.randint(13, 40)
    minor = rng.randint(0, 30)
    patch = rng.randint(0, 60)
    return major, minor, patch


def release(rng):
    r = rng.random()
    if r < 0.08:
        # Date-like semver with leading zeros: v2025.01.05 / 2024.11.09.
        # Masterminds accepts these (non-strict parser), Flux picks them up.
        y = rng.randint(2019, 2026)
        m = rng.randint(1, 12)
        d = rng.randint(1, 28)
        prefix = "v" if rng.random() < 0.5 else ""
        return f"{prefix}{y}.{m:02d}.{d:02d}"
    major, minor, patch = semver_core(rng)
    prefix = "v" if rng.random() < 0.4 else ""
    tag = f"{prefix}{major}.{minor}.{patch}"
    if rng.random() < 0.05:
        tag += f"+build.{rng.randint(1, 500)}"
    elif rng.random() < 0.02:
        tag += f"+{hexstr(rng, 7)}"
    return tag


PRE_KINDS = ["rc", "beta", "alpha", "pre", "dev"]


def prerelease(rng):
    major, minor, patch = semver_core(rng)
    prefix = "v" if rng.random() < 0.4 else ""
    kind = rng.choice(PRE_KINDS)
    r = rng.random()
    if r < 0.55:
        pre = f"{kind}.{rng.randint(0, 20)}"
    elif r < 0.75:
        pre = f"{kind}{rng.randint(1, 9)}"
    elif r < 0.9:
        pre = kind
    else:
        pre = f"{kind}.{rng.randint(0, 5)}.{rng.randint(0, 30)}"
    tag = f"{prefix}{major}.{minor}.{patch}-{pre}"
    if rng.random() < 0.05:
        tag += f"+build.{rng.randint(1, 500)}"
    return tag


# Build timestamps between 2021-01-01 and 2026-01-01.
TS_LO = 1609459200
TS_HI = 1767225600


def build_id(rng):
    return f"main-{hexstr(rng, 7)}-{rng.randint(TS_LO, TS_HI)}"


def calver(rng):
    y = rng.randint(2012, 2026)
    m = rng.randint(1, 12)
    d = rng.randint(1, 28)
    r = rng.random()
    if r < 0.35:
        return f"{y}.{m:02d}.{d:02d}"
    if r < 0.7:
        return f"{y}{m:02d}{d:02d}"
    if r < 0.8:
        return f"{y}.{m}.{d}"
    if r < 0.9:
        # several builds a day: 20250703.2
        return f"{y}{m:02d}{d:02d}.{rng.randint(1, 9)}"
    # with a time of day: 202507031205
    return f"{y}{m:02d}{d:02d}{rng.randint(0, 23):02d}{rng.randint(0, 59):02d}"


JUNK_FIXED = ["latest", "main", "master", "stable", "edge", "nightly", "dev"]


def junk(rng):
    r = rng.random()
    if r < 0.15:
        return rng.choice(JUNK_FIXED)
    if r < 0.35:
        return f"sha-{hexstr(rng, rng.choice((7, 8, 12, 40)))}"
    if r < 0.5:
        major = rng.randint(0, 12)
        return f"{major}.{rng.randint(0, 30)}"
    if r < 0.6:
        return f"v{rng.randint(0, 12)}"
    if r < 0.75:
        y = rng.randint(2019, 2026)
        word = rng.choice(("update", "fix", "hotfix", "test", "build"))
        return f"{y}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}-{word}-{rng.choice('xyzabc')}"
    # cosign-like artefacts attached to a digest
    suffix = rng.choice((".sig", ".sig", ".att", ".sbom"))
    return f"sha256-{hexstr(rng, 64)}{suffix}"


KINDS = [
    (0.50, release),
    (0.10, prerelease),
    (0.15, build_id),
    (0.10, calver),
    (0.15, junk),
]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("n", nargs="?", type=int, default=100000)
    ap.add_argument("--seed", type=int, default=20250703)
    args = ap.parse_args()
    if args.n < 0:
        ap.error("N must be >= 0")

    rng = random.Random(args.seed)

    # Fixed quota per kind (the last kind takes the rounding remainder), so
    # the mix is exact whatever N is.
    quotas = [int(w * args.n) for w, _ in KINDS]
    quotas[-1] = args.n - sum(quotas[:-1])

    # A registry repository holds each tag once: draw distinct tags.
    out = []
    seen = set()
    for (_, gen), quota in zip(KINDS, quotas):
        got = 0
        misses = 0
        while got < quota:
            tag = gen(rng)
            if tag in seen:
                misses += 1
                if misses > 1000 + 10 * quota:
                    sys.exit(f"gen-tags: N={args.n} is too large for {gen.__name__} tags")
                continue
            seen.add(tag)
            out.append(tag)
            got += 1
    # Interleave the kinds, as a registry listing would.
    rng.shuffle(out)

    sys.stdout.write("\n".join(out))
    if out:
        sys.stdout.write("\n")


if __name__ == "__main__":
    main()
