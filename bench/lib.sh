# shellcheck shell=bash disable=SC2016,SC2034
# bench/lib.sh: the set-up and the shell floor shared by the "new tag -> commit on the remote"
# benchmarks (reconcile-latency.sh, webhook-latency.sh), so both measure the same fixture against
# the same floor. Sourced, not run.
#
# The caller sets BENCH (its name, for messages) and ROOT (the repository), then calls, in order:
#   need_packages PKG...      apt-get install what is missing (a package counts as present when
#                             dpkg has it or a command of that name exists)
#   make_workdir              WORK (a temporary directory, removed on exit), PIDS (killed on exit)
#   build_imagebump           IMAGEBUMP (release build)
#   start_registry            REGISTRY, IMAGE: docker-registry with bench/app 0.1.0 .. 1.0.0
#   make_remotes N M          $WORK/imagebump.git and $WORK/floor.git: N YAML files, M marked;
#                             marked_count
#   write_daemon_objects      HTTP_PORT, IMAGEBUMP_CONFIG, $WORK/etc/objects/ with the
#                             ImageRepository (interval 1h), ImagePolicy `>=1.0.0`, GitRepository
#                             and ImageUpdateAutomation (interval 1h); more objects may be added
#                             to $WORK/etc/objects/ before
#   start_daemon              `imagebump check`, then the daemon (DAEMON) until its policy chose
#                             1.0.0 and its automation has run once
#   start_ticks               before nap
# and then, per run: run_floor (ELAPSED_US), check_remote REMOTE TAG, head_of REMOTE, now_us, nap.
# pct P FILE prints the nearest-rank percentile of a file of microseconds, in ms.

log() { echo "$BENCH: $*" >&2; }

# Stops the benchmark with the last lines of the daemon's log, when there is one.
fail() {
    echo "$BENCH: $*" >&2
    if [ -s "${WORK:-}/daemon.log" ]; then
        echo "--- last lines of the daemon log:" >&2
        tail -n 20 "$WORK/daemon.log" >&2
    fi
    exit 1
}

# Each named variable holds a positive integer (exit 2 otherwise).
positive_ints() {
    local var
    for var in "$@"; do
        if ! [[ "${!var}" =~ ^[1-9][0-9]*$ ]]; then
            echo "$BENCH: $var must be a positive integer, not '${!var}'" >&2
            exit 2
        fi
    done
}

need_packages() {
    local pkg need=()
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' ||
            command -v "$pkg" >/dev/null 2>&1 || need+=("$pkg")
    done
    if [ "${#need[@]}" -gt 0 ]; then
        log "installing ${need[*]}"
        apt-get update -qq >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
    fi
}

make_workdir() {
    WORK=$(mktemp -d "${TMPDIR:-/tmp}/$BENCH.XXXXXX")
    PIDS=()
    trap bench_cleanup EXIT
}

bench_cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$WORK"
}

build_imagebump() {
    log "building imagebump (cargo build --release -p imagebump)"
    (cd "$ROOT" && cargo build -q --release -p imagebump --bin imagebump >&2)
    local target_dir="${CARGO_TARGET_DIR:-$ROOT/target}"
    [[ "$target_dir" == /* ]] || target_dir="$ROOT/$target_dir"
    IMAGEBUMP="$target_dir/release/imagebump"
    [ -x "$IMAGEBUMP" ] || { echo "$BENCH: $IMAGEBUMP was not built" >&2; exit 1; }
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_for() { for _ in $(seq 100); do curl -fs "$1" >/dev/null 2>&1 && return 0; sleep 0.1; done; echo "no answer from $1" >&2; exit 1; }

# --- the registry ----------------------------------------------------------------------------
start_registry() {
    local port
    port=$(free_port)
    REGISTRY="127.0.0.1:$port"
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
}

# --- the Git remotes -------------------------------------------------------------------------
# make_remotes NFILES NMARKED: Deployments, Services, ConfigMaps and Kustomizations of apps in 4
# environments; NMARKED Deployments have `image: …/bench/app:1.0.0 # {"$imagepolicy": …}`.
make_remotes() {
    python3 - "$WORK/seed" "$1" "$2" "$IMAGE" <<'EOF'
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
    local remote
    for remote in imagebump floor; do
        git init -q --bare -b main "$WORK/$remote.git"
        git -C "$WORK/seed" push -q "$WORK/$remote.git" main
    done
    marked_count=$(grep -rlF '"$imagepolicy"' "$WORK/seed" | wc -l)
    log "remotes with $(git -C "$WORK/seed" ls-files | wc -l) files, $marked_count marked"
}

# --- the daemon ------------------------------------------------------------------------------
write_daemon_objects() {
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
}

start_daemon() {
    "$IMAGEBUMP" check >"$WORK/check.log" 2>&1 || { cat "$WORK/check.log" >&2; exit 1; }
    "$IMAGEBUMP" daemon >"$WORK/daemon.log" 2>&1 &
    DAEMON=$!
    PIDS+=("$DAEMON")
    # Ready: the policy chose 1.0.0 and the automation has run once (up to date).
    local ready=""
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
}

# --- timing helpers --------------------------------------------------------------------------
now_us() {
    if [[ -n "${EPOCHREALTIME:-}" ]]; then
        echo "${EPOCHREALTIME//[!0-9]/}"
    else
        echo $(($(date +%s%N) / 1000))
    fi
}
# A 2 ms sleep without a fork: `read -t` on a FIFO nobody writes to.
start_ticks() {
    mkfifo "$WORK/tick"
    exec 9<>"$WORK/tick"
}
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

# --- the shell floor -------------------------------------------------------------------------
# What a person would script for the same change: curl tags/list | the highest x.y.z,
# git clone --depth 1, grep -rl + sed -i on the marked lines, git commit -a, git push.
floor_sed_expr='s|^(\s*image: [^ ]*/bench/app:)[^ ]+( # \{"\$imagepolicy": "flux-system:app"\})$|\1'
run_floor() {
    local tag t0
    t0=$(now_us)
    (
        set -e
        tag=$(curl -fsS "http://$REGISTRY/v2/bench/app/tags/list" |
            grep -oE '"[0-9]+\.[0-9]+\.[0-9]+"' | tr -d '"' | sort -V | tail -n1)
        git clone -q --depth 1 -b main "file://$WORK/floor.git" "$WORK/floor-clone"
        cd "$WORK/floor-clone"
        grep -rlF '"$imagepolicy"' . --exclude-dir=.git | xargs -r sed -i -E "$floor_sed_expr$tag\2|"
        git -c user.name=fluxcdbot -c user.email=fluxcdbot@users.noreply.github.com \
            commit -q -a -m "$REGISTRY/bench/app:$tag"
        git push -q origin main
    ) || fail "the floor run failed"
    ELAPSED_US=$(($(now_us) - t0))
    rm -rf "$WORK/floor-clone"
}

# nearest-rank percentile P of a file of microseconds, in ms
pct() { sort -n "$2" | awk -v p="$1" '{ a[NR] = $1 } END { k = int((p * NR + 99) / 100); if (k < 1) k = 1; printf "%.1f", a[k] / 1000 }'; }
