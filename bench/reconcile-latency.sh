#!/usr/bin/env bash
# reconcile-latency.sh: how long `imagebump daemon` takes from "a new tag is in the registry"
# to "the commit is on the Git remote", next to the shell floor doing the same work by hand,
# both measured in this run.
#
# What it sets up (all on 127.0.0.1, in a temporary directory)
#   registry:  Debian's docker-registry (distribution 2.8) holding bench/app with tags
#              0.1.0 .. 0.9.0 and 1.0.0 (scripts/push-tags.py: one distinct manifest per tag);
#   Git:       a repository of NFILES YAML files (default 200: Deployments, Services,
#              ConfigMaps, Kustomizations of 50 apps in 4 environments), NMARKED of them
#              (default 5) with `image: …/bench/app:1.0.0 # {"$imagepolicy": "flux-system:app"}`,
#              in two identical bare repositories over file:// (one for imagebump, one for the
#              floor);
#   daemon:    imagebump daemon (release build) with an ImageRepository (interval 1h, so
#              only `reconcile` scans), an ImagePolicy `>=1.0.0` and an ImageUpdateAutomation
#              (interval 1h) writing the whole tree; it has done its first (up-to-date) run.
#
# What it measures, RUNS times (default 20), for tags 1.0.1, 1.0.2, …
#   The tag is pushed first (not timed). Then wall time of
#     imagebump:  `imagebump reconcile image repository app` (waits for the scan), then
#                 nothing until refs/heads/main of the bare remote changes (polled every 2 ms
#                 with shell builtins);
#     floor:      curl /v2/bench/app/tags/list | pick the highest x.y.z with sort -V,
#                 git clone --depth 1 file://…, grep -rl + sed -i on the marked lines,
#                 git commit -a, git push;
#   alternating. After each run the remote's marked files must all carry the new tag (checked
#   untimed), for both.
#
# How to read the output
#   A table of p50 and p95 in ms (nearest rank) for both, and for imagebump the part until
#   `reconcile` returned (the scan; the rest is the policy, the automation's settle time and
#   its git run), then the last line
#       ratio imagebump/floor p50: X
#   (below 1: imagebump is faster). Target X <= 1.5. Progress on stderr.
#
# The set-up, the floor and the timing helpers are bench/lib.sh's, shared with
# webhook-latency.sh.
#
# Usage: bench/reconcile-latency.sh   (RUNS=40 NFILES=1000 NMARKED=20 bench/reconcile-latency.sh)
set -euo pipefail

RUNS=${RUNS:-20}
NFILES=${NFILES:-200}
NMARKED=${NMARKED:-5}
BENCH=reconcile-latency
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
# shellcheck source=bench/lib.sh
. "$HERE/lib.sh"
positive_ints RUNS NFILES NMARKED
if ((NMARKED > NFILES / 4)); then
    echo "reconcile-latency: NMARKED ($NMARKED) must be at most NFILES/4 ($((NFILES / 4)))" >&2
    exit 2
fi

need_packages docker-registry curl git python3
make_workdir
build_imagebump
start_registry
make_remotes "$NFILES" "$NMARKED"
write_daemon_objects
start_daemon
start_ticks

run_imagebump() {
    local before
    before=$(head_of "$WORK/imagebump.git")
    local t0
    t0=$(now_us)
    "$IMAGEBUMP" reconcile image repository app >/dev/null 2>"$WORK/reconcile.err" ||
        fail "reconcile failed: $(cat "$WORK/reconcile.err")"
    SCANNED_US=$(($(now_us) - t0))
    local limit=$((t0 + 30000000))
    while [ "$(head_of "$WORK/imagebump.git")" == "$before" ]; do
        [ "$(now_us)" -lt "$limit" ] || fail "no commit on the remote 30 s after reconcile"
        nap
    done
    ELAPSED_US=$(($(now_us) - t0))
}

# --- runs ----------------------------------------------------------------------------------------------
: >"$WORK/imagebump.times"
: >"$WORK/floor.times"
: >"$WORK/scan.times"
for r in $(seq "$RUNS"); do
    tag="1.0.$r"
    python3 "$ROOT/scripts/push-tags.py" "$REGISTRY" bench/app "$tag" >/dev/null
    run_imagebump
    echo "$ELAPSED_US" >>"$WORK/imagebump.times"
    echo "$SCANNED_US" >>"$WORK/scan.times"
    check_remote "$WORK/imagebump.git" "$tag"
    i_ms=$((ELAPSED_US / 1000))
    run_floor
    echo "$ELAPSED_US" >>"$WORK/floor.times"
    check_remote "$WORK/floor.git" "$tag"
    log "run $r/$RUNS ($tag): imagebump ${i_ms} ms, floor $((ELAPSED_US / 1000)) ms"
done
commits=$(git --git-dir="$WORK/imagebump.git" rev-list --count main)
[ "$commits" -eq $((RUNS + 1)) ] || fail "imagebump's remote has $commits commits, expected $((RUNS + 1))"

i50=$(pct 50 "$WORK/imagebump.times")
i95=$(pct 95 "$WORK/imagebump.times")
f50=$(pct 50 "$WORK/floor.times")
f95=$(pct 95 "$WORK/floor.times")
printf '%-44s %10s %10s\n' "new tag -> commit on the remote ($RUNS runs)" "p50 ms" "p95 ms"
printf '%-44s %10s %10s\n' "floor (curl, clone, sed, commit, push)" "$f50" "$f95"
printf '%-44s %10s %10s\n' "imagebump (reconcile, daemon pushes)" "$i50" "$i95"
printf '%-44s %10s %10s\n' "  of which: until reconcile returned (scan)" "$(pct 50 "$WORK/scan.times")" "$(pct 95 "$WORK/scan.times")"
awk -v i="$i50" -v f="$f50" 'BEGIN { printf "ratio imagebump/floor p50: %.2f\n", i / f }'
