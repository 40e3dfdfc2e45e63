#!/usr/bin/env bash
# The README's first command: imagebump end to end on this machine, in about a minute.
#
# It starts a real OCI registry (docker-registry) and a bare Git repository on loopback, pushes
# podinfo tags 5.0.0..5.0.3, writes the seed's Flux objects (ImageRepository, ImagePolicy
# 5.0.x, ImageUpdateAutomation with the seed's commit template) and runs `imagebump daemon`.
# You see the commit imagebump pushes, then it pushes 5.0.4, asks for a scan with
# `imagebump reconcile`, and shows the next commit. Everything lives in a temporary directory
# that is removed at the end.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "installing what the demo needs (docker-registry, git, python3) and building imagebump"
bash "$ROOT/scripts/install-test-deps.sh" --demo >/dev/null
cargo build -q -p imagebump --manifest-path "$ROOT/Cargo.toml"
IMAGEBUMP="$ROOT/target/debug/imagebump"

WORK=$(mktemp -d /tmp/imagebump-demo.XXXXXX)
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
REGISTRY_PORT=$(free_port)
HTTP_PORT=$(free_port)
REGISTRY="127.0.0.1:$REGISTRY_PORT"
IMAGE="$REGISTRY/stefanprodan/podinfo"

step "starting a registry on $REGISTRY and pushing podinfo 5.0.0..5.0.3"
cat >"$WORK/registry.yml" <<YAML
version: 0.1
log: {level: error}
storage: {filesystem: {rootdirectory: $WORK/registry-data}}
http: {addr: $REGISTRY}
YAML
docker-registry serve "$WORK/registry.yml" >"$WORK/registry.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do
    python3 -c "import urllib.request; urllib.request.urlopen('http://$REGISTRY/v2/')" 2>/dev/null && break
    sleep 0.1
done
python3 "$ROOT/scripts/push-tags.py" "$REGISTRY" stefanprodan/podinfo 5.0.0 5.0.1 5.0.2 5.0.3

step "creating a Git repository with a marked deployment (the seed's podinfo-deployment.yaml)"
git init -q --bare -b main "$WORK/remote.git"
git clone -q "$WORK/remote.git" "$WORK/checkout" 2>/dev/null
mkdir -p "$WORK/checkout/clusters/my-cluster"
cat >"$WORK/checkout/clusters/my-cluster/podinfo-deployment.yaml" <<YAML
apiVersion: apps/v1
kind: Deployment
metadata:
  name: podinfo
  namespace: default
spec:
  selector:
    matchLabels:
      app: podinfo
  template:
    metadata:
      labels:
        app: podinfo
    spec:
      containers:
      - name: podinfod
        image: $IMAGE:5.0.0 # {"\$imagepolicy": "flux-system:podinfo"}
YAML
git -C "$WORK/checkout" add -A
git -C "$WORK/checkout" -c user.name=demo -c user.email=demo@example.invalid commit -q -m "podinfo 5.0.0"
git -C "$WORK/checkout" push -q origin main

step "writing imagebump.toml and the seed's Flux objects"
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
"$IMAGEBUMP" create image repository podinfo --image="$IMAGE" --interval=1m --export \
    >"$WORK/etc/objects/podinfo-registry.yaml"
"$IMAGEBUMP" create image policy podinfo --image-ref=podinfo --select-semver=5.0.x --export \
    >"$WORK/etc/objects/podinfo-policy.yaml"
cat >"$WORK/etc/objects/flux-system-source.yaml" <<YAML
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: flux-system
  namespace: flux-system
spec:
  interval: 1m0s
  url: file://$WORK/remote.git
  ref:
    branch: main
YAML
# The seed's automation with its commit template (flux create image update ... --export).
"$IMAGEBUMP" create image update flux-system \
    --git-repo-ref=flux-system \
    --git-repo-path="./clusters/my-cluster" \
    --checkout-branch=main \
    --push-branch=main \
    --author-name=fluxcdbot \
    --author-email=fluxcdbot@users.noreply.github.com \
    --commit-template="{{range .Updated.Images}}{{println .}}{{end}}" \
    --export >"$WORK/etc/objects/flux-system-automation.yaml"
cat "$WORK/etc/objects/podinfo-policy.yaml"
# A webhook receiver as in the seed's "Trigger image updates with webhooks" (type generic-hmac,
# so the demo can sign its own request; a dockerhub receiver works the same from Docker Hub).
cat >"$WORK/etc/objects/webhook-receiver.yaml" <<YAML
apiVersion: notification.toolkit.fluxcd.io/v1beta1
kind: Receiver
metadata:
  name: podinfo
  namespace: flux-system
spec:
  type: generic-hmac
  secretRef:
    name: webhook-token
  resources:
    - kind: ImageRepository
      name: podinfo
---
apiVersion: v1
kind: Secret
metadata:
  name: webhook-token
  namespace: flux-system
stringData:
  token: demo-token
YAML
"$IMAGEBUMP" check

step "starting imagebump daemon (log: $WORK/daemon.log)"
"$IMAGEBUMP" daemon >"$WORK/daemon.log" 2>&1 &
PIDS+=($!)

wait_for_commit() {
    local want=$1
    for _ in $(seq 600); do
        if git --git-dir="$WORK/remote.git" show main:clusters/my-cluster/podinfo-deployment.yaml 2>/dev/null | grep -q "podinfo:$want "; then
            return 0
        fi
        sleep 0.1
    done
    echo "no commit for $want within 60 s; daemon log:" >&2
    cat "$WORK/daemon.log" >&2
    return 1
}
wait_for_commit 5.0.3
step "imagebump pushed this commit to main"
git --git-dir="$WORK/remote.git" log -1 -p --format='commit %H%nAuthor: %an <%ae>%n%n%B' main
step "imagebump get images all"
"$IMAGEBUMP" get images all

step "a new release: pushing 5.0.4 and asking for a scan now"
python3 "$ROOT/scripts/push-tags.py" "$REGISTRY" stefanprodan/podinfo 5.0.4
"$IMAGEBUMP" reconcile image repository podinfo
wait_for_commit 5.0.4
step "and the next commit"
git --git-dir="$WORK/remote.git" log -1 -p --format='commit %H%nAuthor: %an <%ae>%n%n%B' main
step "another release: pushing 5.0.5 and calling the receiver's webhook"
python3 "$ROOT/scripts/push-tags.py" "$REGISTRY" stefanprodan/podinfo 5.0.5
"$IMAGEBUMP" get receivers
HOOK_PATH=$("$IMAGEBUMP" get receivers -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["status"]["webhookPath"])')
BODY='{"tag": "5.0.5"}'
SIGNATURE=$(printf '%s' "$BODY" | openssl dgst -sha256 -hmac demo-token -r | cut -d' ' -f1)
python3 - "http://127.0.0.1:$HTTP_PORT$HOOK_PATH" "$BODY" "sha256=$SIGNATURE" <<'PY'
import sys, time, urllib.request
url, body, signature = sys.argv[1], sys.argv[2].encode(), sys.argv[3]
request = urllib.request.Request(url, data=body, method="POST", headers={"X-Signature": signature})
started = time.monotonic()
with urllib.request.urlopen(request) as response:
    print(f"POST {url.split('/hook/')[0]}/hook/… -> {response.status}")
PY
wait_for_commit 5.0.5
git --git-dir="$WORK/remote.git" log -1 --format='commit %h: %s' main

step "history of main"
git --git-dir="$WORK/remote.git" log --oneline main
step "done; cleaning up $WORK"
