#!/usr/bin/env bash
# webhook-latency.sh: what a webhook receiver of `imagebump daemon` costs: how many requests
# with a wrong signature it turns away per second (and that they scan nothing and keep no
# memory), and how long a signed request takes to become a commit on the Git remote, next to
# the shell floor of reconcile-latency.sh measured in the same run.
#
# What it sets up (all on 127.0.0.1, in a temporary directory; bench/lib.sh, as
# reconcile-latency.sh)
#   registry:  Debian's docker-registry holding bench/app 0.1.0 .. 0.9.0 and 1.0.0
#              (scripts/push-tags.py);
#   Git:       a repository of NFILES YAML files (default 200), NMARKED of them (default 5)
#              marked for the policy `flux-system:app`, in two identical bare repositories over
#              file:// (one for imagebump, one for the floor);
#   daemon:    imagebump daemon (release build) with an ImageRepository (interval 1h, so only
#              the webhook scans), an ImagePolicy `>=1.0.0`, an ImageUpdateAutomation
#              (interval 1h) writing the whole tree, and a Receiver `app` of type generic-hmac
#              for the ImageRepository, its token (random, 48 hex digits) in a Secret. Its path
#              as `imagebump get receivers` prints it must be /hook/<sha256(token+name+namespace)>.
#
# 1. Rejections (printed first): wrk (Debian's wrk, installed when missing), WRK_THREADS
#    threads (default 1: the daemon has the other core), WRK_CONNECTIONS keep-alive
#    connections (default 32), WRK_DURATION seconds per load (default 10), with
#    bench/webhook-wrk.lua:
#      /healthz:  GET, the HTTP stack's baseline;
#      /hook/…:   POST of a 1 KiB JSON body with `X-Signature: sha256=<HMAC-SHA256 of the body
#                 keyed with another token>`, two rounds.
#    Printed: requests/s and wrk's p50/p99 latency of each load, hook/healthz requests/s (of
#    round 2), the daemon's VmRSS before any load, after /healthz and after each round (with
#    round 2's growth per 1,000 requests: a rejected request must leave nothing behind), and
#    how much the daemon log grew. Checked: every hook answer was an error status (wrk's
#    non-2xx count), imagebump_scans_total did not move, and
#    imagebump_webhook_requests_total{…,outcome="unauthorized"} grew by what wrk counted (up to
#    the requests still in flight when wrk stopped).
# 2. Latency, RUNS times (default 20), for tags 1.0.1, 1.0.2, …
#    The tag is pushed and the request signed with the token first (not timed). Then wall time of
#      imagebump:  the signed request POSTed through bash's /dev/tcp (no process start timed;
#                  it must answer 202), then nothing until refs/heads/main of the bare remote
#                  changes (polled every 2 ms with builtins);
#      floor:      curl tags/list | the highest x.y.z, git clone --depth 1, grep + sed -i,
#                  git commit -a, git push (bench/lib.sh's run_floor, as reconcile-latency.sh);
#    alternating. After each run the marked files on both remotes must all carry the new tag;
#    after the runs imagebump's remote must have RUNS new commits, and /metrics one accepted
#    request and at least one scan per run.
#
# How to read the output
#   Section 1, then a table of p50 and p95 in ms (nearest rank) for both, for imagebump the part
#   until the 202 came back (the rest is the scan, the policy, the automation's settle time and
#   its git run) and the daemon's own imagebump_webhook_to_commit_seconds (mean), then the last
#   line
#       ratio imagebump/floor p50: X
#   (below 1: imagebump is faster). Target X <= 1.5. Progress on stderr.
#
# Usage: bench/webhook-latency.sh   (RUNS=40 WRK_DURATION=30 WRK_CONNECTIONS=64 bench/webhook-latency.sh)
set -euo pipefail

RUNS=${RUNS:-20}
NFILES=${NFILES:-200}
NMARKED=${NMARKED:-5}
WRK_THREADS=${WRK_THREADS:-1}
WRK_CONNECTIONS=${WRK_CONNECTIONS:-32}
WRK_DURATION=${WRK_DURATION:-10}
BENCH=webhook-latency
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
# shellcheck source=bench/lib.sh
. "$HERE/lib.sh"
positive_ints RUNS NFILES NMARKED WRK_THREADS WRK_CONNECTIONS WRK_DURATION
if ((NMARKED > NFILES / 4)); then
    echo "webhook-latency: NMARKED ($NMARKED) must be at most NFILES/4 ($((NFILES / 4)))" >&2
    exit 2
fi

need_packages docker-registry curl git python3 openssl wrk
make_workdir
build_imagebump
start_registry
make_remotes "$NFILES" "$NMARKED"
write_daemon_objects

TOKEN=$(openssl rand -hex 24)
cat >"$WORK/etc/objects/receiver.yaml" <<YAML
apiVersion: notification.toolkit.fluxcd.io/v1
kind: Receiver
metadata:
  name: app
  namespace: flux-system
spec:
  type: generic-hmac
  secretRef:
    name: webhook-token
  resources:
    - kind: ImageRepository
      name: app
---
apiVersion: v1
kind: Secret
metadata:
  name: webhook-token
  namespace: flux-system
stringData:
  token: $TOKEN
YAML
start_daemon
start_ticks

BASE="http://127.0.0.1:$HTTP_PORT"
HOOK_PATH=$("$IMAGEBUMP" get receivers -o json |
    python3 -c 'import json, sys; print(json.load(sys.stdin)[0]["status"]["webhookPath"])')
want="/hook/$(printf '%s' "${TOKEN}appflux-system" | sha256sum | cut -d' ' -f1)"
[ "$HOOK_PATH" == "$want" ] || fail "receiver path $HOOK_PATH, expected $want (sha256 of token+name+namespace)"
HOOK_URL="$BASE$HOOK_PATH"
log "receiver at /hook/${HOOK_PATH:6:12}…"

# `sha256=<hex>` of the bytes of file $1 keyed with $2
sign() { echo "sha256=$(openssl dgst -sha256 -hmac "$2" -r <"$1" | cut -d' ' -f1)"; }
scrape() { curl -fsS "$BASE/metrics" >"$WORK/metrics" || fail "cannot read $BASE/metrics"; }
# the sum of the samples on the lines of the last scrape that start with $1 (name{labels)
sample() { awk -v p="$1" 'index($0, p) == 1 { s += $NF } END { printf "%d", s }' "$WORK/metrics"; }
HOOK_LABELS='receiver="flux-system/app",type="generic-hmac"'
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$DAEMON/status"; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
ms() { awk -v u="$1" 'BEGIN { printf "%.2f", u / 1000 }'; }
row() { printf '%-48s %10s %10s %10s\n' "$@"; }

# --- 1. rejections -----------------------------------------------------------------------------
python3 - "$WORK/body-1k.json" <<'EOF'
import json, sys
# A Docker Hub-like push event padded to exactly 1024 bytes.
event = {"push_data": {"tag": "9.9.9", "pusher": "bench"},
         "repository": {"repo_name": "bench/app", "description": ""}}
event["repository"]["description"] = "x" * (1024 - len(json.dumps(event, separators=(",", ":"))))
data = json.dumps(event, separators=(",", ":")).encode()
assert len(data) == 1024, len(data)
open(sys.argv[1], "wb").write(data)
EOF
WRONG_SIGNATURE=$(sign "$WORK/body-1k.json" "not-$TOKEN")
code=$(curl -sS -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
    -H "X-Signature: $WRONG_SIGNATURE" --data-binary "@$WORK/body-1k.json" "$HOOK_URL")
[ "$code" == 401 ] || fail "a wrongly signed request got $code, expected 401"

# run_wrk NAME URL [BODYFILE SIGNATURE]: sets WRK_<field> from webhook-wrk.lua's summary line
run_wrk() {
    local name=$1 url=$2
    shift 2
    local args=()
    [ "$#" -eq 0 ] || args=(-- "$@")
    log "wrk: $name, ${WRK_DURATION} s"
    wrk -t "$WRK_THREADS" -c "$WRK_CONNECTIONS" -d "${WRK_DURATION}s" --timeout 5s \
        -s "$HERE/webhook-wrk.lua" "$url" "${args[@]}" >"$WORK/wrk-$name.out" 2>&1 ||
        fail "wrk failed: $(cat "$WORK/wrk-$name.out")"
    local line field
    line=$(grep '^wrk requests=' "$WORK/wrk-$name.out") ||
        fail "wrk printed no summary: $(cat "$WORK/wrk-$name.out")"
    WRK_requests=0 WRK_rps=0 WRK_p50_us=0 WRK_p99_us=0 WRK_non2xx=0 WRK_socket_errors=0
    for field in $line; do
        [[ "$field" == *=* ]] && printf -v "WRK_${field%%=*}" '%s' "${field#*=}"
    done
    [ "$WRK_socket_errors" -eq 0 ] || fail "wrk $name: $WRK_socket_errors socket errors"
    ((WRK_requests > 0)) || fail "wrk $name: no request completed"
}

rss_start=$(rss_kib)
run_wrk healthz "$BASE/healthz"
[ "$WRK_non2xx" -eq 0 ] || fail "/healthz: $WRK_non2xx error answers"
healthz_rps=$WRK_rps
healthz_row=("/healthz (GET, baseline)" "$WRK_rps" "$(ms "$WRK_p50_us")" "$(ms "$WRK_p99_us")")
rss_healthz=$(rss_kib)

scrape
scans_before=$(sample 'imagebump_scans_total{')
unauthorized_before=$(sample "imagebump_webhook_requests_total{$HOOK_LABELS,outcome=\"unauthorized\"}")
log_before=$(stat -c %s "$WORK/daemon.log")
hook_rows=()
hook_requests=0
rss_rounds=()
for round in 1 2; do
    run_wrk "hook-$round" "$HOOK_URL" "$WORK/body-1k.json" "$WRONG_SIGNATURE"
    [ "$WRK_non2xx" -eq "$WRK_requests" ] ||
        fail "hook round $round: $WRK_non2xx of $WRK_requests answers were errors, expected all"
    hook_rows+=("/hook/<digest> bad signature, 1 KiB, round $round" "$WRK_rps" "$(ms "$WRK_p50_us")" "$(ms "$WRK_p99_us")")
    hook_requests=$((hook_requests + WRK_requests))
    rss_rounds+=("$(rss_kib)")
    last_requests=$WRK_requests
done
hook_rps=$WRK_rps
# Let the requests wrk left in flight finish before counting.
sleep 0.5
scrape
scans_after=$(sample 'imagebump_scans_total{')
unauthorized=$(($(sample "imagebump_webhook_requests_total{$HOOK_LABELS,outcome=\"unauthorized\"}") - unauthorized_before))
log_growth=$(($(stat -c %s "$WORK/daemon.log") - log_before))
[ "$scans_after" -eq "$scans_before" ] ||
    fail "imagebump_scans_total moved from $scans_before to $scans_after during the rejected requests"
((unauthorized >= hook_requests && unauthorized <= hook_requests + 2 * WRK_CONNECTIONS)) ||
    fail "imagebump_webhook_requests_total{outcome=\"unauthorized\"} grew by $unauthorized, wrk counted $hook_requests"

echo "rejected webhooks: wrk -t$WRK_THREADS -c$WRK_CONNECTIONS, ${WRK_DURATION} s per load"
row "" "requests/s" "p50 ms" "p99 ms"
row "${healthz_row[@]}"
row "${hook_rows[@]:0:4}"
row "${hook_rows[@]:4:4}"
awk -v h="$hook_rps" -v b="$healthz_rps" 'BEGIN { printf "ratio hook rejections/healthz requests/s: %.2f\n", h / b }'
echo "scans during the rejections: $((scans_after - scans_before)) (imagebump_scans_total stayed at $scans_after);" \
    "counted unauthorized: $unauthorized, wrk completed $hook_requests"
printf 'daemon VmRSS MiB: %s at start, %s after /healthz, %s after round 1, %s after round 2\n' \
    "$(mib "$rss_start")" "$(mib "$rss_healthz")" "$(mib "${rss_rounds[0]}")" "$(mib "${rss_rounds[1]}")"
awk -v a="${rss_rounds[0]}" -v b="${rss_rounds[1]}" -v n="$last_requests" \
    'BEGIN { printf "  round 2: %+d KiB over %d requests (%+.1f bytes per 1,000 requests)\n", b - a, n, (b - a) * 1024 * 1000 / n }'
awk -v g="$log_growth" -v n="$unauthorized" \
    'BEGIN { printf "daemon log: +%.1f MiB during the rejections (%.0f bytes per request)\n", g / 1048576, g / n }'
echo

# --- 2. latency ------------------------------------------------------------------------------
# The request as the registry would send it, built before the clock starts: signing is the
# sender's work, not the receiver's.
hook_request() {
    local body
    body=$(<"$1")
    printf 'POST %s HTTP/1.1\r\nHost: 127.0.0.1:%s\r\nContent-Type: application/json\r\nX-Signature: %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s' \
        "$HOOK_PATH" "$HTTP_PORT" "$2" "${#body}" "$body"
}
# Sent through bash's /dev/tcp: no process start inside the timed part (starting curl costs
# about 10 ms here, more than the request itself).
run_imagebump() {
    local request=$1 before t0 proto code
    before=$(head_of "$WORK/imagebump.git")
    t0=$(now_us)
    exec 8<>"/dev/tcp/127.0.0.1/$HTTP_PORT" || fail "cannot connect to 127.0.0.1:$HTTP_PORT"
    printf '%s' "$request" >&8
    read -r -t 10 -u 8 proto code _ || fail "no answer to the webhook request"
    ACCEPTED_US=$(($(now_us) - t0))
    exec 8<&-
    [ "$code" == 202 ] || fail "the signed webhook got $proto $code, expected 202"
    local limit=$((t0 + 30000000))
    while [ "$(head_of "$WORK/imagebump.git")" == "$before" ]; do
        [ "$(now_us)" -lt "$limit" ] || fail "no commit on the remote 30 s after the webhook"
        nap
    done
    ELAPSED_US=$(($(now_us) - t0))
}

scrape
scans_before=$(sample 'imagebump_scans_total{')
accepted_before=$(sample "imagebump_webhook_requests_total{$HOOK_LABELS,outcome=\"accepted\"}")
: >"$WORK/imagebump.times"
: >"$WORK/floor.times"
: >"$WORK/accepted.times"
for r in $(seq "$RUNS"); do
    tag="1.0.$r"
    python3 "$ROOT/scripts/push-tags.py" "$REGISTRY" bench/app "$tag" >/dev/null
    printf '{"tag":"%s"}' "$tag" >"$WORK/body.json"
    request=$(hook_request "$WORK/body.json" "$(sign "$WORK/body.json" "$TOKEN")")
    run_imagebump "$request"
    echo "$ELAPSED_US" >>"$WORK/imagebump.times"
    echo "$ACCEPTED_US" >>"$WORK/accepted.times"
    check_remote "$WORK/imagebump.git" "$tag"
    i_ms=$((ELAPSED_US / 1000))
    run_floor
    echo "$ELAPSED_US" >>"$WORK/floor.times"
    check_remote "$WORK/floor.git" "$tag"
    log "run $r/$RUNS ($tag): imagebump ${i_ms} ms, floor $((ELAPSED_US / 1000)) ms"
done
commits=$(git --git-dir="$WORK/imagebump.git" rev-list --count main)
[ "$commits" -eq $((RUNS + 1)) ] || fail "imagebump's remote has $commits commits, expected $((RUNS + 1))"
scrape
scans=$(($(sample 'imagebump_scans_total{') - scans_before))
accepted=$(($(sample "imagebump_webhook_requests_total{$HOOK_LABELS,outcome=\"accepted\"}") - accepted_before))
[ "$accepted" -eq "$RUNS" ] || fail "$accepted webhook requests accepted, expected $RUNS"
((scans >= RUNS)) || fail "$scans scans for $RUNS accepted webhooks"
to_commit=$(awk '/^imagebump_webhook_to_commit_seconds_sum/ { s = $NF } /^imagebump_webhook_to_commit_seconds_count/ { n = $NF }
    END { if (n > 0) printf "%.1f", s / n * 1000; else print "-" }' "$WORK/metrics")

i50=$(pct 50 "$WORK/imagebump.times")
i95=$(pct 95 "$WORK/imagebump.times")
f50=$(pct 50 "$WORK/floor.times")
f95=$(pct 95 "$WORK/floor.times")
printf '%-48s %10s %10s\n' "new tag -> commit on the remote ($RUNS runs)" "p50 ms" "p95 ms"
printf '%-48s %10s %10s\n' "floor (curl, clone, sed, commit, push)" "$f50" "$f95"
printf '%-48s %10s %10s\n' "imagebump (signed webhook, daemon pushes)" "$i50" "$i95"
printf '%-48s %10s %10s\n' "  of which: until the 202 came back" "$(pct 50 "$WORK/accepted.times")" "$(pct 95 "$WORK/accepted.times")"
printf '%-48s %10s\n' "  daemon's webhook_to_commit_seconds, mean" "$to_commit"
echo "webhooks accepted: $accepted, scans: $scans"
awk -v i="$i50" -v f="$f50" 'BEGIN { printf "ratio imagebump/floor p50: %.2f\n", i / f }'
