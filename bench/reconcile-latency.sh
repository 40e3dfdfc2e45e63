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
# Usage: bench/reconcile-latency.sh   (RUNS=40 NFILES=1000 NMARKED=20 bench/reconcile-latency.sh)
set -euo pipefail

RUNS=${RUNS:-20}
NFILES=${NFILES:-200}
NMARKED=${NMARKED:-5}
for var in RUNS NFILES NMARKED; do
    if ! [[ "${!var}" =~ ^[1-9][0-9]*$ ]]; then
        echo "reconcile-latency: $var must be a positive integer, not '${!var}'" >&2
        exit 2
    fi
done
if ((NMARKED > NFILES / 4)); then
    echo "reconcile-latency: NMARKED ($NMARKED) must be at most NFILES/4 ($((NFILES / 4)))" >&2
    exit 2
fi

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/reconcile-latency.XXXXXX")
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
log() { echo "reconcile-latency: $*" >&2; }

need=()
for pkg in docker-registry curl git python3; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' ||
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
[ -x "$IMAGEBUMP" ] || { echo "reconcile-latency: $IMAGEBUMP was not built" >&2; exit 1; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_for() { for _ in $(seq 100); do curl -fs "$1" >/dev/null 2>&1 && return 0; sleep 0.1; done; echo "no answer from $1" >&2; exit 1; }

# --- the registry ----------------------------------------------------------------------------
REG_PORT=$(free_port)
REGISTRY="127.0.0.1:$REG_PORT"
IMAGE="$REGISTRY/bench/app"
cat >"$WORK/registry.yml" <<YAML
version: 0.1
log: {level: error}
storage: {filesystem: {rootdirectory: $WORK/registry-data}}
http: {addr: $REGISTRY}
YAML
docker-registry serve "$WORK/registry.yml" >"$WORK/registry.log" 2>&1 &
PIDS+=($!)
wait_for "http://$REGISTRY/v2/"
python3 "$ROOT/scripts/push-tags.py" "$REGISTRY" bench/app 0.1.0 0.2.0 0.3.0 0.4.0 0.5.0 0.6.0 \
    0.7.0 0.8.0 0.9.0 1.0.0 >/dev/null
log "registry on $REGISTRY with bench/app 0.1.0..1.0.0"

# --- the Git remotes -------------------------------------------------------------------------------
python3 - "$WORK/seed" "$NFILES" "$NMARKED" "$IMAGE" <<'EOF'
import os, sys
root, nfiles, nmarked, image = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
envs = ["dev", "staging", "prod-eu", "prod-us"]
kinds = {
    "deployment.yaml": """apiVersion: apps/v1
kind: Deployment
metadata:
  name: {app}
  namespace: {env}
  labels:
    app.kubernetes.io/name: {app}
spec:
  replicas: 3
  selector:
    matchLabels:
      app.kubernetes.io/name: {app}
  template:
    metadata:
      labels:
        app.kubernetes.io/name: {app}
    spec:
      containers:
      - name: {app}
        image: {image}
        ports:
        - containerPort: 8080
        resources:
          requests: {{cpu: 50m, memory: 64Mi}}
      - name: proxy
        image: ghcr.io/org/envoy:1.29.1
""",
    "service.yaml": """apiVersion: v1
kind: Service
metadata:
  name: {app}
  namespace: {env}
spec:
  selector:
    app.kubernetes.io/name: {app}
  ports:
  - port: 80
    targetPort: 8080
""",
    "configmap.yaml": """apiVersion: v1
kind: ConfigMap
metadata:
  name: {app}-config
  namespace: {env}
data:
  LOG_LEVEL: info
  UPSTREAM: http://{app}-upstream.{env}.svc:8080
""",
    "kustomization.yaml": """apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: {env}
resources:
- deployment.yaml
- service.yaml
- configmap.yaml
""",
}
files = []
app = 0
while len(files) < nfiles:
    for env in envs:
        for kind in kinds:
            files.append((f"apps/{env}/svc-{app:03d}", kind, env, f"svc-{app:03d}"))
    app += 1
files = files[:nfiles]
deployments = [k for k, f in enumerate(files) if f[1] == "deployment.yaml"]
step = max(1, len(deployments) // nmarked)
marked = set(deployments[::step][:nmarked])
for k, (d, kind, env, name) in enumerate(files):
    os.makedirs(os.path.join(root, d), exist_ok=True)
    img = (f'{image}:1.0.0 # {{"$imagepolicy": "flux-system:app"}}' if k in marked
           else f"ghcr.io/org/{name}:2.{k % 7}.{k % 11}")
    with open(os.path.join(root, d, kind), "w") as f:
        f.write(kinds[kind].format(app=name, env=env, image=img))
EOF
git -C "$WORK/seed" init -q -b main
git -C "$WORK/seed" add -A
git -C "$WORK/seed" -c user.name=bench -c user.email=bench@example.invalid commit -q -m "apps at 1.0.0"
for remote in imagebump floor; do
    git init -q --bare -b main "$WORK/$remote.git"
    git -C "$WORK/seed" push -q "$WORK/$remote.git" main
done
marked_count=$(grep -rlF '"$imagepolicy"' "$WORK/seed" | wc -l)
log "remotes with $(git -C "$WORK/seed" ls-files | wc -l) files, $marked_count marked"

# --- the daemon ------------------------------------------------------------------------------------
HTTP_PORT=$(free_port)
mkdir -p "$WORK/etc/objects"
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
"$IMAGEBUMP" create image repository app --image="$IMAGE" --interval=1h --export \
    >"$WORK/etc/objects/repository.yaml"
"$IMAGEBUMP" create image policy app --image-ref=app --select-semver='>=1.0.0' --export \
    >"$WORK/etc/objects/policy.yaml"
cat >"$WORK/etc/objects/source.yaml" <<YAML
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: fleet
  namespace: flux-system
spec:
  interval: 1h0m0s
  url: file://$WORK/imagebump.git
  ref:
    branch: main
YAML
"$IMAGEBUMP" create image update fleet --git-repo-ref=fleet --git-repo-path=./ \
    --checkout-branch=main --push-branch=main --author-name=fluxcdbot \
    --author-email=fluxcdbot@users.noreply.github.com --interval=1h \
    --commit-template='{{range .Updated.Images}}{{println .}}{{end}}' --export \
    >"$WORK/etc/objects/automation.yaml"
"$IMAGEBUMP" check >"$WORK/check.log" 2>&1 || { cat "$WORK/check.log" >&2; exit 1; }

"$IMAGEBUMP" daemon >"$WORK/daemon.log" 2>&1 &
DAEMON=$!
PIDS+=("$DAEMON")
fail() {
    echo "reconcile-latency: $*" >&2
    echo "--- last lines of the daemon log:" >&2
    tail -n 20 "$WORK/daemon.log" >&2
    exit 1
}
# Ready: the policy chose 1.0.0 and the automation has run once (up to date).
ready=""
for _ in $(seq 300); do
    if "$IMAGEBUMP" get images all -o json 2>/dev/null | python3 -c '
import json, sys
objects = json.load(sys.stdin)
policy = [o for o in objects if o["kind"] == "ImagePolicy"]
update = [o for o in objects if o["kind"] == "ImageUpdateAutomation"]
ok = (policy and (policy[0]["latest_image"] or "").endswith(":1.0.0")
      and update and update[0]["ready"] == "True")
sys.exit(0 if ok else 1)' 2>/dev/null; then
        ready=1
        break
    fi
    sleep 0.1
done
[ -n "$ready" ] || fail "the daemon did not get ready in 30 s"
log "daemon ready (pid $DAEMON)"

# --- timing helpers ----------------------------------------------------------------------------------
now_us() {
    if [[ -n "${EPOCHREALTIME:-}" ]]; then
        echo "${EPOCHREALTIME//[!0-9]/}"
    else
        echo $(($(date +%s%N) / 1000))
    fi
}
# A 2 ms sleep without a fork: `read -t` on a FIFO nobody writes to.
mkfifo "$WORK/tick"
exec 9<>"$WORK/tick"
nap() { read -r -t 0.002 -u 9 _ || true; }
# The commit a bare remote's main points at, read with builtins (loose ref, else packed-refs).
head_of() {
    local sha=""
    if [ -f "$1/refs/heads/main" ]; then
        read -r sha <"$1/refs/heads/main" || true
    fi
    [ -n "$sha" ] || sha=$(git --git-dir="$1" rev-parse -q --verify refs/heads/main)
    echo "$sha"
}
# every marked file on the remote's main carries TAG
check_remote() {
    local remote=$1 tag=$2 count
    count=$(git --git-dir="$remote" grep -h -F '"$imagepolicy"' main -- . | grep -cF "bench/app:$tag #" || true)
    [ "$count" -eq "$marked_count" ] ||
        fail "$(basename "$remote"): $count of $marked_count marked files at $tag after the run"
}

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

sed_expr='s|^(\s*image: [^ ]*/bench/app:)[^ ]+( # \{"\$imagepolicy": "flux-system:app"\})$|\1'
run_floor() {
    local tag
    local t0
    t0=$(now_us)
    (
        set -e
        tag=$(curl -fsS "http://$REGISTRY/v2/bench/app/tags/list" |
            grep -oE '"[0-9]+\.[0-9]+\.[0-9]+"' | tr -d '"' | sort -V | tail -n1)
        git clone -q --depth 1 -b main "file://$WORK/floor.git" "$WORK/floor-clone"
        cd "$WORK/floor-clone"
        grep -rlF '"$imagepolicy"' . --exclude-dir=.git | xargs -r sed -i -E "$sed_expr$tag\2|"
        git -c user.name=fluxcdbot -c user.email=fluxcdbot@users.noreply.github.com \
            commit -q -a -m "$REGISTRY/bench/app:$tag"
        git push -q origin main
    ) || fail "the floor run failed"
    ELAPSED_US=$(($(now_us) - t0))
    rm -rf "$WORK/floor-clone"
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

# nearest-rank percentile P of a file of microseconds, in ms
pct() { sort -n "$2" | awk -v p="$1" '{ a[NR] = $1 } END { k = int((p * NR + 99) / 100); if (k < 1) k = 1; printf "%.1f", a[k] / 1000 }'; }
i50=$(pct 50 "$WORK/imagebump.times")
i95=$(pct 95 "$WORK/imagebump.times")
f50=$(pct 50 "$WORK/floor.times")
f95=$(pct 95 "$WORK/floor.times")
printf '%-44s %10s %10s\n' "new tag -> commit on the remote ($RUNS runs)" "p50 ms" "p95 ms"
printf '%-44s %10s %10s\n' "floor (curl, clone, sed, commit, push)" "$f50" "$f95"
printf '%-44s %10s %10s\n' "imagebump (reconcile, daemon pushes)" "$i50" "$i95"
printf '%-44s %10s %10s\n' "  of which: until reconcile returned (scan)" "$(pct 50 "$WORK/scan.times")" "$(pct 95 "$WORK/scan.times")"
awk -v i="$i50" -v f="$f50" 'BEGIN { printf "ratio imagebump/floor p50: %.2f\n", i / f }'
