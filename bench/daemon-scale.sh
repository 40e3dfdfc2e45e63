#!/usr/bin/env bash
# daemon-scale.sh: `imagebump daemon` with 1,000 ImageRepositories, 1,000 ImagePolicies and 10
# ImageUpdateAutomations: how long it takes to get every policy and every push done from a
# cold start, and what it costs to keep running (memory, CPU).
#
# What it sets up (all on 127.0.0.1, in a temporary directory)
#   registry:  bench/daemon-fixture.py serve: NREPOS repositories (default 1000) of 50 to 200
#              tags each (releases, release candidates, build IDs, sha-, cosign .sig; about
#              125 on average), one Python thread per connection;
#   objects:   one ImageRepository per repository (interval REPO_INTERVAL, default 30s, so a
#              full rescan round happens while steady state is measured), one ImagePolicy
#              `>=1.0.0` per repository, TEAMS (default 10) ImageUpdateAutomations (interval
#              1m) each selecting its NREPOS/TEAMS policies by label and writing
#              apps/team-TT/ (one marked Deployment per policy) in one bare Git repository
#              over file://;
#   daemon:    target/release/imagebump daemon, empty state directory.
#
# What it measures
#   startup:   from starting the daemon until `imagebump get images policy -A -o json` shows
#              every policy at its expected tag (computed by the fixture), and until main on the
#              remote has every marked file at its expected tag (all TEAMS automations pushed);
#   steady:    then, for WINDOW seconds (default 75), once a second: VmRSS and VmHWM from
#              /proc/PID/status, utime+stime from /proc/PID/stat. The scans counted by
#              /metrics (imagebump_scans_total) during the window are printed, and the script
#              fails when they do not make at least one full round (NREPOS scans).
#   CPU:       the daemon's utime+stime: average over the window (time used / wall time,
#              100 % = one core); "between scans" is the median of the one-second samples (the
#              scans of a round come in one burst, since they all started together), "busiest
#              1 s sample" their maximum. The git processes the automations run are children:
#              their CPU time is printed apart.
#
# How to read the output
#   Figures on stdout, progress on stderr. The last line is
#       steady RSS: X MiB (target <= 64 MiB)
#   with X the median VmRSS over the window. The whole run takes about 2 minutes.
#
# Usage: bench/daemon-scale.sh   (NREPOS=2000 TEAMS=20 WINDOW=120 bench/daemon-scale.sh)
set -euo pipefail

NREPOS=${NREPOS:-1000}
TEAMS=${TEAMS:-10}
WINDOW=${WINDOW:-75}
REPO_INTERVAL=${REPO_INTERVAL:-30s}
UPDATE_INTERVAL=${UPDATE_INTERVAL:-1m}
STARTUP_TIMEOUT=${STARTUP_TIMEOUT:-180}
for var in NREPOS TEAMS WINDOW STARTUP_TIMEOUT; do
    if ! [[ "${!var}" =~ ^[1-9][0-9]*$ ]]; then
        echo "daemon-scale: $var must be a positive integer, not '${!var}'" >&2
        exit 2
    fi
done
if ((NREPOS % TEAMS)); then
    echo "daemon-scale: NREPOS ($NREPOS) must be a multiple of TEAMS ($TEAMS)" >&2
    exit 2
fi

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
FIXTURE="$HERE/daemon-fixture.py"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/daemon-scale.XXXXXX")
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
log() { echo "daemon-scale: $*" >&2; }

need=()
for pkg in git python3 curl; do
    command -v "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ "${#need[@]}" -gt 0 ]; then
    log "installing ${need[*]}"
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
fi

log "building imagebump (cargo build --release -p imagebump)"
(cd "$ROOT" && cargo build -q --release -p imagebump --bin imagebump >&2)
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
[[ "$TARGET_DIR" == /* ]] || TARGET_DIR="$ROOT/$TARGET_DIR"
IMAGEBUMP="$TARGET_DIR/release/imagebump"
[ -x "$IMAGEBUMP" ] || { echo "daemon-scale: $IMAGEBUMP was not built" >&2; exit 1; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_for() { for _ in $(seq 100); do curl -fs "$1" >/dev/null 2>&1 && return 0; sleep 0.1; done; echo "no answer from $1" >&2; exit 1; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# --- the registry ----------------------------------------------------------------------------
REG_PORT=$(free_port)
REGISTRY="127.0.0.1:$REG_PORT"
python3 "$FIXTURE" serve --listen "$REGISTRY" --repos "$NREPOS" >"$WORK/registry.log" 2>&1 &
PIDS+=($!)
wait_for "http://$REGISTRY/v2/"
log "registry with $NREPOS repositories on $REGISTRY"

# --- the Git remote ----------------------------------------------------------------------------
git init -q --bare -b main "$WORK/remote.git"
git init -q -b main "$WORK/seed"
python3 "$FIXTURE" tree --dir "$WORK/seed" --registry "$REGISTRY" --repos "$NREPOS" --teams "$TEAMS"
git -C "$WORK/seed" add -A
git -C "$WORK/seed" -c user.name=bench -c user.email=bench@example.invalid commit -q -m "fleet at 0.0.1"
git -C "$WORK/seed" push -q "$WORK/remote.git" main
log "remote with $NREPOS marked files in $TEAMS directories"

# --- objects and config ------------------------------------------------------------------------
HTTP_PORT=$(free_port)
mkdir -p "$WORK/etc/objects"
python3 "$FIXTURE" objects --dir "$WORK/etc/objects" --registry "$REGISTRY" --repos "$NREPOS" \
    --teams "$TEAMS" --remote "file://$WORK/remote.git" \
    --repo-interval "$REPO_INTERVAL" --update-interval "$UPDATE_INTERVAL"
cat >"$WORK/etc/imagebump.toml" <<TOML
objects = ["objects/"]
state_dir = "$WORK/state"
default_namespace = "flux-system"
[http]
listen = "127.0.0.1:$HTTP_PORT"
[control]
socket = "$WORK/control.sock"
TOML
export IMAGEBUMP_CONFIG="$WORK/etc/imagebump.toml"
"$IMAGEBUMP" check >"$WORK/check.log" 2>&1 || { cat "$WORK/check.log" >&2; exit 1; }
log "$(tail -n1 "$WORK/check.log")"

# --- cold start ----------------------------------------------------------------------------------
t_start=$(now_ms)
# DAEMON_WRAPPER (e.g. "heaptrack -o /tmp/ib") runs the daemon under a profiler; the RSS
# figures are then those of the wrapper, only the profile counts.
${DAEMON_WRAPPER:-} "$IMAGEBUMP" daemon >"$WORK/daemon.log" 2>&1 &
DAEMON=$!
PIDS+=("$DAEMON")
fail() {
    echo "daemon-scale: $*" >&2
    echo "--- last lines of the daemon log:" >&2
    tail -n 20 "$WORK/daemon.log" >&2
    exit 1
}

t_ready=""
t_pushed=""
deadline=$((t_start + STARTUP_TIMEOUT * 1000))
while [ -z "$t_ready" ] || [ -z "$t_pushed" ]; do
    kill -0 "$DAEMON" 2>/dev/null || fail "the daemon exited during startup"
    [ "$(now_ms)" -lt "$deadline" ] || fail "not done after ${STARTUP_TIMEOUT}s (policies ready: ${progress:-?}, teams pushed: ${pushed:-?})"
    if [ -z "$t_ready" ]; then
        rc=0
        progress=$("$IMAGEBUMP" get images policy -A -o json 2>/dev/null |
            python3 "$FIXTURE" policies-ready --registry "$REGISTRY" --repos "$NREPOS") || rc=$?
        [ "$rc" -ne 2 ] || fail "a policy selected the wrong tag"
        [ "$rc" -ne 0 ] || { t_ready=$(now_ms); log "all $NREPOS policies ready"; }
    fi
    if [ -z "$t_pushed" ]; then
        if pushed=$(python3 "$FIXTURE" pushed --git-dir "$WORK/remote.git" --registry "$REGISTRY" \
            --repos "$NREPOS" --teams "$TEAMS"); then
            t_pushed=$(now_ms)
            log "all $TEAMS automations pushed"
        fi
    fi
    sleep 0.2
done
commits=$(($(git --git-dir="$WORK/remote.git" rev-list --count main) - 1))

# --- steady state --------------------------------------------------------------------------------
# scans_total: sum of imagebump_scans_total over every repository, by outcome.
scans_total() {
    curl -fsS "http://127.0.0.1:$HTTP_PORT/metrics" |
        awk -v want="$1" '/^imagebump_scans_total\{/ && index($0, "outcome=\"" want "\"") { s += $NF } END { print s + 0 }'
}
cpu_ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$DAEMON/stat"; }
# utime+stime of the daemon's finished children (git, for the automations' runs)
child_ticks() { awk '{ sub(/^.*\) /, ""); print $14 + $15 }' "/proc/$DAEMON/stat"; }
status_kib() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$DAEMON/status"; }
TICK=$(getconf CLK_TCK)

log "steady state: sampling for ${WINDOW}s (repository interval $REPO_INTERVAL)"
scans0=$(scans_total success)
fails0=$(scans_total failure)
: >"$WORK/samples"
c_first=$(cpu_ticks)
k_first=$(child_ticks)
w_first=$(date +%s%N)
c_prev=$c_first
w_prev=$w_first
for _ in $(seq "$WINDOW"); do
    sleep 1
    kill -0 "$DAEMON" 2>/dev/null || fail "the daemon exited during the steady-state window"
    c=$(cpu_ticks)
    w=$(date +%s%N)
    # rss_kib  hwm_kib  cpu% of this second
    echo "$(status_kib VmRSS) $(status_kib VmHWM) $(awk -v c=$((c - c_prev)) -v w=$((w - w_prev)) -v t="$TICK" \
        'BEGIN { printf "%.2f", 100 * c / t / (w / 1e9) }')" >>"$WORK/samples"
    c_prev=$c
    w_prev=$w
done
c_last=$c_prev
k_last=$(child_ticks)
w_last=$w_prev
scans=$(($(scans_total success) - scans0))
failed=$(($(scans_total failure) - fails0))
threads=$(status_kib Threads)

median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
rss_med=$(awk '{ print $1 }' "$WORK/samples" | median)
rss_max=$(awk '{ print $1 }' "$WORK/samples" | sort -n | tail -n1)
rss_min=$(awk '{ print $1 }' "$WORK/samples" | sort -n | head -n1)
hwm=$(awk '{ print $2 }' "$WORK/samples" | sort -n | tail -n1)
cpu_quiet=$(awk '{ print $3 }' "$WORK/samples" | median)
cpu_busy=$(awk '{ print $3 }' "$WORK/samples" | sort -n | tail -n1)
cpu_avg=$(awk -v c=$((c_last - c_first)) -v w=$((w_last - w_first)) -v t="$TICK" 'BEGIN { printf "%.2f", 100 * c / t / (w / 1e9) }')
cpu_secs=$(awk -v c=$((c_last - c_first)) -v t="$TICK" 'BEGIN { printf "%.2f", c / t }')
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

printf '%-44s %s\n' "objects" "$NREPOS repositories ($(python3 -c "
import importlib.util as u; s = u.spec_from_file_location('f', '$FIXTURE'); m = u.module_from_spec(s); s.loader.exec_module(m)
print(sum(len(m.tags_of(i)) for i in range($NREPOS)))") tags), $NREPOS policies, $TEAMS automations"
printf '%-44s %8.1f s\n' "startup to all policies ready" "$(awk -v d=$((t_ready - t_start)) 'BEGIN { print d / 1000 }')"
printf '%-44s %8.1f s   (%d commits)\n' "startup to all $TEAMS automations pushed" "$(awk -v d=$((t_pushed - t_start)) 'BEGIN { print d / 1000 }')" "$commits"
printf '%-44s %8d     (%d failed; a round is %d)\n' "scans in the ${WINDOW}s window" "$scans" "$failed" "$NREPOS"
printf '%-44s %8s MiB (min %s, max %s)\n' "steady RSS, median of ${WINDOW} samples" "$(mib "$rss_med")" "$(mib "$rss_min")" "$(mib "$rss_max")"
printf '%-44s %8s MiB\n' "peak RSS (VmHWM, startup included)" "$(mib "$hwm")"
printf '%-44s %8s %%   (%s s CPU in %s s)\n' "CPU, average over the window" "$cpu_avg" "$cpu_secs" "$WINDOW"
printf '%-44s %8s %%\n' "CPU between scans (median 1 s sample)" "$cpu_quiet"
printf '%-44s %8s %%\n' "CPU, busiest 1 s sample" "$cpu_busy"
printf '%-44s %8s s   (git, %s automation runs due)\n' "CPU of child processes in the window" \
    "$(awk -v c=$((k_last - k_first)) -v t="$TICK" 'BEGIN { printf "%.2f", c / t }')" "about $((TEAMS * WINDOW / 60))"
printf '%-44s %8s\n' "threads" "$threads"
if [ "$scans" -lt "$NREPOS" ]; then
    fail "only $scans scans in the window: less than one full round of $NREPOS"
fi
echo "steady RSS: $(mib "$rss_med") MiB (target <= 64 MiB)"
