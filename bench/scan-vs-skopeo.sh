#!/usr/bin/env bash
# scan-vs-skopeo.sh: how long `imagebump scan` takes to list a large repository, next to
# `skopeo list-tags` listing the same repository, both run in this invocation.
#
# What it measures
#   Whole-process wall time (start, every page over HTTP, print, exit) of
#     imagebump:  target/release/imagebump scan HOST/REPO --page-size 100 -o json
#     skopeo:     skopeo list-tags --tls-verify=false docker://HOST/REPO
#   on two registries on 127.0.0.1:
#     mock:  the test mock registry (tests/support, `mock-registry`) serving NTAGS tags
#            (default 10000) in pages of 100 with `Link` headers; both clients follow them,
#            so both make NTAGS/100 page requests;
#     real:  Debian's docker-registry (distribution 2.8.2) holding NTAGS tags (it ignores
#            `?n=`, so each client gets everything in one answer).
#   Each program runs once untimed (warm-up, and a check that both saw NTAGS tags), then
#   RUNS times (default 7), alternating; the median is reported.
#
# How to read the output
#   One row per registry: median ms for skopeo and imagebump, and imagebump/skopeo (below 1
#   means imagebump is faster). The last line is
#       ratio imagebump/skopeo: X
#   with X = (sum of imagebump medians) / (sum of skopeo medians). The target is X <= 1.05.
#
# Usage: bench/scan-vs-skopeo.sh   (RUNS=11 NTAGS=20000 bench/scan-vs-skopeo.sh)
set -euo pipefail

RUNS=${RUNS:-7}
NTAGS=${NTAGS:-10000}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WORK=$(mktemp -d)
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT

need=()
for pkg in skopeo docker-registry curl; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || need+=("$pkg")
done
if [ "${#need[@]}" -gt 0 ]; then
    echo "installing ${need[*]}" >&2
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
fi

echo "building release binaries" >&2
(cd "$ROOT" && cargo build -q --release -p imagebump -p imagebump-testsupport --bin imagebump --bin mock-registry >&2)
IMAGEBUMP="$ROOT/target/release/imagebump"
MOCK="$ROOT/target/release/mock-registry"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_for() { for _ in $(seq 100); do curl -fs "$1" >/dev/null 2>&1 && return 0; sleep 0.1; done; echo "no answer from $1" >&2; exit 1; }
now_ns() { date +%s%N; }

# --- the mock registry ---------------------------------------------------------------------
MOCK_PORT=$(free_port)
"$MOCK" --listen "127.0.0.1:$MOCK_PORT" --repo bench/app --tags "$NTAGS" --page-size 100 > "$WORK/mock.log" 2>&1 &
PIDS+=($!)
wait_for "http://127.0.0.1:$MOCK_PORT/v2/"

# --- the real registry, filled with NTAGS tags ----------------------------------------------
REG_PORT=$(free_port)
mkdir -p "$WORK/data"
cat > "$WORK/registry.yml" <<EOF
version: 0.1
log: {level: error}
storage:
  filesystem: {rootdirectory: $WORK/data}
http: {addr: 127.0.0.1:$REG_PORT}
EOF
docker-registry serve "$WORK/registry.yml" > "$WORK/registry.log" 2>&1 &
PIDS+=($!)
wait_for "http://127.0.0.1:$REG_PORT/v2/"
echo "pushing one image and tagging it $NTAGS times" >&2
BASE="http://127.0.0.1:$REG_PORT"
printf '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]},"config":{}}' > "$WORK/config.json"
CDIGEST="sha256:$(sha256sum "$WORK/config.json" | cut -d' ' -f1)"
LOC=$(curl -fsS -X POST -D - -o /dev/null "$BASE/v2/bench/app/blobs/uploads/" | tr -d '\r' | sed -n 's/^[Ll]ocation: //p')
case "$LOC" in http*) ;; *) LOC="$BASE$LOC" ;; esac
case "$LOC" in *\?*) SEP='&' ;; *) SEP='?' ;; esac
curl -fsS -X PUT -H 'Content-Type: application/octet-stream' --data-binary @"$WORK/config.json" "$LOC${SEP}digest=$CDIGEST"
cat > "$WORK/manifest.json" <<EOF
{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"$CDIGEST","size":$(stat -c %s "$WORK/config.json")},"layers":[]}
EOF
curl -fsS -X PUT -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' \
    --data-binary @"$WORK/manifest.json" "$BASE/v2/bench/app/manifests/0.0.0" -o /dev/null
# Further tags of the same manifest are directories beside the first one: this is what a
# registry's filesystem holds after NTAGS pushes, made in a second instead of minutes.
TAGS_DIR="$WORK/data/docker/registry/v2/repositories/bench/app/_manifests/tags"
python3 - "$TAGS_DIR" "$NTAGS" <<'EOF'
import os, shutil, sys
tags_dir, n = sys.argv[1], int(sys.argv[2])
for i in range(1, n):
    name = f"{i // 10000}.{(i // 100) % 100}.{i % 100}"
    shutil.copytree(os.path.join(tags_dir, "0.0.0"), os.path.join(tags_dir, name))
EOF

run_imagebump() { "$IMAGEBUMP" scan "$1" --page-size 100 -o json; }
run_skopeo() { skopeo list-tags --tls-verify=false "docker://$1"; }
count_imagebump() { python3 -c 'import json,sys; print(json.load(sys.stdin)["tagCount"])'; }
count_skopeo() { python3 -c 'import json,sys; print(len(json.load(sys.stdin)["Tags"]))'; }

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

printf '%-10s %12s %14s %10s\n' registry "skopeo ms" "imagebump ms" ratio
total_i=0
total_s=0
for target in "mock 127.0.0.1:$MOCK_PORT/bench/app" "real 127.0.0.1:$REG_PORT/bench/app"; do
    set -- $target
    name=$1
    ref=$2
    got_i=$(run_imagebump "$ref" | count_imagebump)
    got_s=$(run_skopeo "$ref" | count_skopeo)
    if [ "$got_i" != "$NTAGS" ] || [ "$got_s" != "$NTAGS" ]; then
        echo "$name: expected $NTAGS tags, imagebump saw $got_i, skopeo saw $got_s" >&2
        exit 1
    fi
    : > "$WORK/i.times"
    : > "$WORK/s.times"
    for _ in $(seq "$RUNS"); do
        t0=$(now_ns); run_imagebump "$ref" > /dev/null; t1=$(now_ns)
        echo $(((t1 - t0) / 1000)) >> "$WORK/i.times"
        t0=$(now_ns); run_skopeo "$ref" > /dev/null; t1=$(now_ns)
        echo $(((t1 - t0) / 1000)) >> "$WORK/s.times"
    done
    mi=$(median < "$WORK/i.times")
    ms=$(median < "$WORK/s.times")
    total_i=$((total_i + mi))
    total_s=$((total_s + ms))
    awk -v n="$name" -v s="$ms" -v i="$mi" 'BEGIN { printf "%-10s %12.1f %14.1f %10.2f\n", n, s/1000, i/1000, i/s }'
done
awk -v s="$total_s" -v i="$total_i" 'BEGIN { printf "ratio imagebump/skopeo: %.2f\n", i/s }'
