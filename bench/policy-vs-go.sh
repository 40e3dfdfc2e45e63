#!/usr/bin/env bash
# policy-vs-go.sh — tag selection speed: imagebump vs the Go reference.
#
# What it measures
#   The whole-process wall time (start, read the tag file, select, print,
#   exit) of
#     go:        bench/go/policyselect, a small Go program that selects a tag
#                the way Flux's image-reflector-controller does for an
#                ImagePolicy, with Masterminds semver v3 (Debian's
#                golang-github-masterminds-semver-dev, v3.2.0);
#     imagebump: target/release/imagebump policy select;
#   on the same list of tags (bench/gen-tags.py, NTAGS=100000 by default, a
#   fixed seed: semver releases, prereleases, build IDs, calver, junk), for
#   each scenario below. Each program runs once untimed per scenario (warm-up
#   and answer check), then RUNS times (default 5), alternating go/imagebump;
#   the median of the RUNS wall times is reported.
#
# Correctness check
#   Both programs must exit 0 and print the same tag on every run of a
#   scenario; otherwise the script stops with both answers and exits 1.
#   (Known divergence, avoided by the scenario choice: Debian's Masterminds
#   v3.2.0 rejects a prerelease in an AND range when one of the bounds has no
#   prerelease, e.g. 1.0.1-beta4 for `>=1.0.0-rc.1 <1.0.1`; Masterminds
#   v3.4.0 and later (recent Flux pins a v3.5.x) and imagebump accept it.)
#
# How to read the output
#   One row per scenario: the median go time in ms, the median imagebump time
#   in ms, and go/imagebump (above 1 means imagebump is faster). The last line,
#       ratio go/imagebump: X
#   is X = (sum of the go medians) / (sum of the imagebump medians), i.e. how
#   many times faster imagebump is over the whole set. The target is X >= 5.
#   Times include process start-up and reading the tag file for both
#   programs; build output and progress go to stderr, the table to stdout.
#
# Usage
#   bench/policy-vs-go.sh            (from anywhere; runs as root, installs
#                                     golang-go, golang-github-masterminds-
#                                     semver-dev and python3 with apt-get
#                                     only when missing)
#   RUNS=11 NTAGS=200000 bench/policy-vs-go.sh
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
RUNS="${RUNS:-5}"
NTAGS="${NTAGS:-100000}"

if ! [[ "$RUNS" =~ ^[1-9][0-9]*$ ]]; then
  echo "policy-vs-go: RUNS must be a positive integer, not '$RUNS'" >&2
  exit 2
fi
if ! [[ "$NTAGS" =~ ^[1-9][0-9]*$ ]]; then
  echo "policy-vs-go: NTAGS must be a positive integer, not '$NTAGS'" >&2
  exit 2
fi

log() { echo "policy-vs-go: $*" >&2; }

# --- dependencies (apt-get, only what is missing) ---------------------------
have_deb() { [[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)" == "install ok installed" ]]; }

missing=()
have_deb golang-go || missing+=(golang-go)
have_deb golang-github-masterminds-semver-dev || missing+=(golang-github-masterminds-semver-dev)
command -v python3 >/dev/null 2>&1 || missing+=(python3)
if ((${#missing[@]})); then
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

semver_src=/usr/share/gocode/src/github.com/Masterminds/semver
if [[ ! -f "$semver_src/constraints.go" ]]; then
  echo "policy-vs-go: Masterminds semver not found under $semver_src" >&2
  exit 1
fi

tmp="$(mktemp -d "${TMPDIR:-/tmp}/policy-vs-go.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

# --- build the Go reference (GOPATH mode, Debian's library) ----------------
gocache="${GOCACHE:-}"
if [[ -z "$gocache" ]]; then
  gocache="$(go env GOCACHE 2>/dev/null || true)"
fi
if [[ -z "$gocache" || "$gocache" == off ]]; then
  gocache="$tmp/gocache"
fi
log "building bench/go/policyselect ($(go version))"
(
  cd "$here/go/policyselect"
  GO111MODULE=off GOPATH=/usr/share/gocode GOFLAGS= GOCACHE="$gocache" \
    go build -o "$tmp/policyselect" .
)
gobin="$tmp/policyselect"

# --- build imagebump ---------------------------------------------------------
log "building imagebump (cargo build --release -p imagebump)"
(cd "$root" && cargo build --release -p imagebump >&2)
target_dir="${CARGO_TARGET_DIR:-$root/target}"
[[ "$target_dir" == /* ]] || target_dir="$root/$target_dir"
ibbin="$target_dir/release/imagebump"
if [[ ! -x "$ibbin" ]]; then
  echo "policy-vs-go: $ibbin was not built" >&2
  exit 1
fi

# --- tags ----------------------------------------------------------------------
tags="$tmp/tags.txt"
python3 "$here/gen-tags.py" "$NTAGS" >"$tags"
log "$(wc -l <"$tags") tags in $tags"

# --- timing helpers ------------------------------------------------------------
# run_once OUTFILE CMD... : runs CMD with stdout to OUTFILE, stderr to
# OUTFILE.err; sets RC and ELAPSED_US (wall time in microseconds).
# With bash >= 5 the clock is EPOCHREALTIME, read in this shell (no fork
# inside the timed span); older bash falls back to date +%s%N.
if [[ -n "${EPOCHREALTIME:-}" ]]; then
  run_once() {
    local out="$1"
    shift
    local t0="${EPOCHREALTIME//[!0-9]/}"
    if "$@" >"$out" 2>"$out.err"; then RC=0; else RC=$?; fi
    local t1="${EPOCHREALTIME//[!0-9]/}"
    ELAPSED_US=$((10#$t1 - 10#$t0))
  }
else
  run_once() {
    local out="$1"
    shift
    local t0 t1
    t0="$(date +%s%N)"
    if "$@" >"$out" 2>"$out.err"; then RC=0; else RC=$?; fi
    t1="$(date +%s%N)"
    ELAPSED_US=$(((t1 - t0) / 1000))
  }
fi

# median of the arguments (microseconds) -> milliseconds with 3 decimals
median_ms() {
  printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 }
    END { m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
          printf "%.3f\n", m / 1000 }'
}

# mismatch SCENARIO WHAT NAME1 OUT1 RC1 NAME2 OUT2 RC2: shows both answers
# (stdout and stderr) and stops.
mismatch() {
  {
    echo
    echo "policy-vs-go: MISMATCH in scenario '$1': $2"
    echo "  $3 (exit $5): $(cat "$4")"
    sed 's/^/      stderr: /' "$4.err"
    echo "  $6 (exit $8): $(cat "$7")"
    sed 's/^/      stderr: /' "$7.err"
  } >&2
  exit 1
}

# --- scenarios -----------------------------------------------------------------
# Each scenario: a label, the go arguments, the imagebump arguments.
filter='^main-[a-f0-9]+-(?P<ts>[0-9]+)$'
extract='$ts'
labels=()
go_args=()
ib_args=()
add_semver() {
  labels+=("semver '$1'")
  go_args+=("$(printf '%q ' -semver "$1")")
  ib_args+=("$(printf '%q ' --semver "$1")")
}
add_order() {
  labels+=("$1 $2, filter+extract \$ts")
  go_args+=("$(printf '%q ' "-$1" "$2" -filter "$filter" -extract "$extract")")
  ib_args+=("$(printf '%q ' "--$1" "$2" --filter-tags "$filter" --extract "$extract")")
}
add_semver '>=1.0.0 <2.0.0'
add_semver '^1.x-0'
add_semver '5.0.x'
add_semver '>1.0.0-rc <2.0.0-rc'
add_order alphabetical asc
add_order numerical asc

printf '%-42s %10s %14s %8s  %s\n' scenario "go ms" "imagebump ms" ratio selected
go_meds=()
ib_meds=()
for i in "${!labels[@]}"; do
  label="${labels[$i]}"
  eval "gcmd=(\"\$gobin\" -tags \"\$tags\" ${go_args[$i]})"
  eval "icmd=(\"\$ibbin\" policy select --tags \"\$tags\" ${ib_args[$i]})"
  gout="$tmp/go.out"
  iout="$tmp/ib.out"
  gref="$tmp/go.ref"
  iref="$tmp/ib.ref"

  # Warm-up run: also the reference answer for this scenario.
  run_once "$gref" "${gcmd[@]}"
  grc=$RC
  run_once "$iref" "${icmd[@]}"
  irc=$RC
  if [[ $grc -ne $irc ]] || ! cmp -s "$gref" "$iref"; then
    mismatch "$label" "go and imagebump disagree (warm-up run)" \
      go "$gref" "$grc" imagebump "$iref" "$irc"
  fi
  if [[ $grc -ne 0 ]]; then
    mismatch "$label" "neither selected a tag; pick another scenario" \
      go "$gref" "$grc" imagebump "$iref" "$irc"
  fi

  gt=()
  it=()
  for ((r = 0; r < RUNS; r++)); do
    run_once "$gout" "${gcmd[@]}"
    gt+=("$ELAPSED_US")
    if [[ $RC -ne 0 ]] || ! cmp -s "$gout" "$gref"; then
      mismatch "$label" "go run $((r + 1)) differs from its warm-up run" \
        "go run $((r + 1))" "$gout" "$RC" "go warm-up" "$gref" 0
    fi
    run_once "$iout" "${icmd[@]}"
    it+=("$ELAPSED_US")
    if [[ $RC -ne 0 ]] || ! cmp -s "$iout" "$gref"; then
      mismatch "$label" "imagebump run $((r + 1)) disagrees with go" \
        go "$gref" 0 "imagebump run $((r + 1))" "$iout" "$RC"
    fi
  done

  gm="$(median_ms "${gt[@]}")"
  im="$(median_ms "${it[@]}")"
  go_meds+=("$gm")
  ib_meds+=("$im")
  awk -v l="$label" -v g="$gm" -v m="$im" -v s="$(head -n1 "$gref")" \
    'BEGIN { printf "%-42s %10.1f %14.1f %8.2f  %s\n", l, g, m, (m > 0 ? g / m : 0), s }'
done

awk -v g="${go_meds[*]}" -v m="${ib_meds[*]}" 'BEGIN {
  n = split(g, ga, " "); split(m, ma, " ")
  for (i = 1; i <= n; i++) { gs += ga[i]; ms += ma[i] }
  printf "%-42s %10.1f %14.1f\n", "total (" n " scenarios, median of '"$RUNS"' runs)", gs, ms
  printf "ratio go/imagebump: %.2f\n", (ms > 0 ? gs / ms : 0)
}'
