#!/usr/bin/env bash
# update-vs-sed.sh: how long `imagebump update` takes to rewrite image references in a large
# repository, next to the shell floor (`grep -l` + `sed -i`) doing the same edits.
#
# What it measures
#   A generated tree of NFILES YAML files (default 10000), NMARKED of which (default 1000)
#   carry `{"$imagepolicy": "flux-system:app"}` markers (Deployments with two containers, one
#   marked with the full-image setter, HelmRelease-style values with `:name`/`:tag`). Whole
#   process wall time of
#     imagebump:  imagebump update --path TREE --set flux-system:app=ghcr.io/org/app:2.0.0
#     sed:        grep -rl '"$imagepolicy"' TREE | xargs sed -i -E …   (the same three edits)
#   each on a fresh copy of the tree (the copy is not timed). imagebump parses every screened
#   file, edits only the values' bytes, re-parses to verify, and writes atomically; sed does
#   none of that, so it is the floor. After each run both trees must be byte-identical.
#   RUNS (default 5) runs each, alternating; medians are reported.
#
# How to read the output
#   The last line is `ratio imagebump/sed: X` (below 1: imagebump is faster). Target X <= 1.2.
#
# Usage: bench/update-vs-sed.sh   (RUNS=9 NFILES=20000 NMARKED=2000 bench/update-vs-sed.sh)
set -euo pipefail

RUNS=${RUNS:-5}
NFILES=${NFILES:-10000}
NMARKED=${NMARKED:-1000}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

echo "building imagebump (release)" >&2
(cd "$ROOT" && cargo build -q --release -p imagebump --bin imagebump >&2)
IMAGEBUMP="$ROOT/target/release/imagebump"

echo "generating $NFILES files ($NMARKED marked)" >&2
python3 - "$WORK/pristine" "$NFILES" "$NMARKED" <<'EOF'
import os, sys
root, n, marked = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
deploy = """# Deployment {i}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app-{i}
  namespace: team-{team}
  labels:
    app.kubernetes.io/name: app-{i}

spec:
  replicas: 2
  template:
    spec:
      containers:
        - name: app
          image: ghcr.io/org/app:1.0.{i3}{marker}
          args: ["--port", "8080"]
        - name: sidecar
          image: ghcr.io/org/sidecar:3.1.4
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: app-{i}
spec:
  values:
    image:
      repository: ghcr.io/org/app{name_marker}
      tag: 1.0.{i3}{tag_marker}
"""
for i in range(n):
    d = os.path.join(root, f"team-{i % 50}", f"svc-{i // 50}")
    os.makedirs(d, exist_ok=True)
    is_marked = i < marked
    text = deploy.format(
        i=i, team=i % 50, i3=i % 7,
        marker=' # {"$imagepolicy": "flux-system:app"}' if is_marked else "",
        name_marker=' # {"$imagepolicy": "flux-system:app:name"}' if is_marked else "",
        tag_marker=' # {"$imagepolicy": "flux-system:app:tag"}' if is_marked else "",
    )
    with open(os.path.join(d, f"app-{i}.yaml"), "w") as f:
        f.write(text)
EOF

run_imagebump() { "$IMAGEBUMP" update --path "$1" --set flux-system:app=ghcr.io/org/app:2.0.0 -o json > /dev/null; }
run_sed() {
    grep -rlF '"$imagepolicy"' "$1" | xargs -r sed -i -E \
        -e 's|^(\s*image: )ghcr\.io/org/app:[^ ]+( # \{"\$imagepolicy": "flux-system:app"\})$|\1ghcr.io/org/app:2.0.0\2|' \
        -e 's|^(\s*repository: )[^ ]+( # \{"\$imagepolicy": "flux-system:app:name"\})$|\1ghcr.io/org/app\2|' \
        -e 's|^(\s*tag: )[^ ]+( # \{"\$imagepolicy": "flux-system:app:tag"\})$|\12.0.0\2|'
}
now_us() { echo $(( $(date +%s%N) / 1000 )); }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# Both must produce the same bytes (`2.0.0` is a string to YAML, so imagebump keeps the tag
# plain, as the sed expression does).
cp -r "$WORK/pristine" "$WORK/a" && run_imagebump "$WORK/a"
cp -r "$WORK/pristine" "$WORK/b" && run_sed "$WORK/b"
if ! diff -r "$WORK/a" "$WORK/b" > "$WORK/diff.txt"; then
    echo "imagebump and sed disagree:" >&2
    head -20 "$WORK/diff.txt" >&2
    exit 1
fi
rm -rf "$WORK/a" "$WORK/b"

: > "$WORK/i.times"
: > "$WORK/s.times"
for _ in $(seq "$RUNS"); do
    cp -r "$WORK/pristine" "$WORK/t"
    t0=$(now_us); run_imagebump "$WORK/t"; t1=$(now_us)
    echo $((t1 - t0)) >> "$WORK/i.times"
    rm -rf "$WORK/t"
    cp -r "$WORK/pristine" "$WORK/t"
    t0=$(now_us); run_sed "$WORK/t"; t1=$(now_us)
    echo $((t1 - t0)) >> "$WORK/s.times"
    rm -rf "$WORK/t"
done
mi=$(median < "$WORK/i.times")
ms=$(median < "$WORK/s.times")
printf '%-12s %10s\n' tool "median ms"
awk -v s="$ms" -v i="$mi" 'BEGIN {
    printf "%-12s %10.1f\n%-12s %10.1f\n", "sed", s/1000, "imagebump", i/1000
    printf "ratio imagebump/sed: %.2f\n", i/s
}'
