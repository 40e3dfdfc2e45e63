#!/usr/bin/env python3
"""Fixtures for bench/daemon-scale.sh: a registry serving many repositories, the Flux objects
that point at it, the marked Git tree the automations write, and the checks on the results.

    daemon-fixture.py serve   --listen 127.0.0.1:PORT --repos N
    daemon-fixture.py objects --dir DIR --registry HOST:PORT --repos N --teams T
                              --remote URL [--repo-interval 30s] [--update-interval 1m]
    daemon-fixture.py tree    --dir DIR --registry HOST:PORT --repos N --teams T
    daemon-fixture.py policies-ready --registry HOST:PORT --repos N < get-policy.json
    daemon-fixture.py pushed  --git-dir REMOTE.git --registry HOST:PORT --repos N --teams T

Repository i is `bench/app-IIII`, with 50 to 200 tags (deterministic in i): semver releases
and release candidates (`3.4.5`, `3.4.9-rc.1`) with a major version that depends on i, plus
the junk real repositories carry (`latest`, `main-<hex>-<ts>`, `sha-<hex>`, cosign
`sha256-<hex>.sig`). Every repository has an ImagePolicy `app-IIII` with the semver range
`>=1.0.0`; its expected answer is the highest plain release, computed here.

The registry speaks enough of the distribution API for a scan: `GET /v2/`,
`GET /v2/NAME/tags/list[?n=N][&last=TAG]` (sorted, paged with `Link` like distribution) and
`GET`/`HEAD /v2/NAME/manifests/REF`. Standard library only; one thread per connection,
HTTP/1.1 keep-alive.

The automations: team t (of T) owns repositories t*(N/T) .. (t+1)*(N/T)-1; its
ImageUpdateAutomation `team-TT` selects their policies (`policySelector.matchLabels`) and
writes `apps/team-TT/`, one Deployment per repository, each with a marked `image:` line that
starts at tag `0.0.1` (in no repository), so the first run changes every file.
"""
import argparse
import hashlib
import json
import os
import random
import re
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, quote, urlsplit

HEX = "0123456789abcdef"
RELEASE = re.compile(r"^(\d+)\.(\d+)\.(\d+)$")


def repo_name(i):
    return f"bench/app-{i:04d}"


def policy_name(i):
    return f"app-{i:04d}"


def tags_of(i):
    """The tags of repository i: deterministic, distinct, sorted as distribution lists them."""
    rng = random.Random(1_000_003 * i + 17)
    count = 50 + (i * 7919) % 151
    junk_count = max(3, count // 8)
    semver_count = count - junk_count
    major_base = 1 + i % 7
    tags = set()
    for k in range(semver_count):
        major, minor, patch = major_base + k // 100, (k // 10) % 10, k % 10
        suffix = "-rc.1" if k % 20 == 9 else ""
        tags.add(f"{major}.{minor}.{patch}{suffix}")
    fixed = ["latest", "main", "stable"]
    while len(tags) < count:
        r = rng.random()
        if fixed and r < 0.2:
            tag = fixed.pop()
        elif r < 0.5:
            tag = f"main-{''.join(rng.choice(HEX) for _ in range(7))}-{rng.randint(1609459200, 1767225600)}"
        elif r < 0.8:
            tag = f"sha-{''.join(rng.choice(HEX) for _ in range(7))}"
        else:
            tag = f"sha256-{''.join(rng.choice(HEX) for _ in range(64))}.sig"
        tags.add(tag)
    return sorted(tags)


def expected_tag(i):
    """What a `>=1.0.0` semver policy selects: the highest plain release."""
    releases = [tuple(map(int, m.groups())) for m in map(RELEASE.match, tags_of(i)) if m]
    return "%d.%d.%d" % max(releases)


# --- serve -------------------------------------------------------------------------------------

class Registry(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    repos = 0
    cache = {}
    lock = threading.Lock()

    def log_message(self, *args):
        pass

    def tags(self, name):
        match = re.fullmatch(r"bench/app-(\d{4})", name)
        if not match or int(match.group(1)) >= self.repos:
            return None
        i = int(match.group(1))
        with self.lock:
            if i not in self.cache:
                self.cache[i] = tags_of(i)
            return self.cache[i]

    def send(self, status, body, headers=()):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Docker-Distribution-API-Version", "registry/2.0")
        self.send_header("Content-Length", str(len(data)))
        for key, value in headers:
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def error(self, status, code, message):
        self.send(status, {"errors": [{"code": code, "message": message, "detail": None}]})

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        url = urlsplit(self.path)
        path = url.path
        if path in ("/v2", "/v2/"):
            return self.send(200, {})
        if not path.startswith("/v2/"):
            return self.error(404, "NOT_FOUND", "not found")
        rest = path[len("/v2/"):]
        if rest.endswith("/tags/list"):
            name = rest[: -len("/tags/list")]
            tags = self.tags(name)
            if tags is None:
                return self.error(404, "NAME_UNKNOWN", "repository name not known to registry")
            query = parse_qs(url.query)
            start = 0
            if "last" in query:
                last = query["last"][0]
                start = next((k for k, t in enumerate(tags) if t > last), len(tags))
            page = tags[start:]
            headers = []
            if "n" in query:
                n = int(query["n"][0])
                if len(page) > n:
                    page = page[:n]
                    headers.append(("Link", f'</v2/{name}/tags/list?n={n}&last={quote(page[-1])}>; rel="next"'))
            return self.send(200, {"name": name, "tags": page}, headers)
        if "/manifests/" in rest:
            name, ref = rest.rsplit("/manifests/", 1)
            tags = self.tags(name)
            if tags is None or ref not in tags:
                return self.error(404, "MANIFEST_UNKNOWN", "manifest unknown")
            digest = "sha256:" + hashlib.sha256(f"{name}:{ref}".encode()).hexdigest()
            manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                   "digest": digest, "size": 2}, "layers": []}
            data = json.dumps(manifest).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/vnd.oci.image.manifest.v1+json")
            self.send_header("Docker-Content-Digest", digest)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)
            return None
        return self.error(404, "NOT_FOUND", "not found")


def serve(args):
    host, port = args.listen.rsplit(":", 1)
    Registry.repos = args.repos
    ThreadingHTTPServer.request_queue_size = 4096
    ThreadingHTTPServer.daemon_threads = True
    server = ThreadingHTTPServer((host, int(port)), Registry)
    print(f"listening on http://{host}:{server.server_address[1]}", flush=True)
    server.serve_forever()


# --- objects and tree --------------------------------------------------------------------------

def team_of(i, repos, teams):
    return i // (repos // teams)


def write_objects(args):
    os.makedirs(args.dir, exist_ok=True)
    with open(os.path.join(args.dir, "repositories.yaml"), "w") as f:
        for i in range(args.repos):
            f.write(f"""---
apiVersion: image.toolkit.fluxcd.io/v1beta2
kind: ImageRepository
metadata:
  name: {policy_name(i)}
  namespace: flux-system
spec:
  image: {args.registry}/{repo_name(i)}
  interval: {args.repo_interval}
  insecure: true
""")
    with open(os.path.join(args.dir, "policies.yaml"), "w") as f:
        for i in range(args.repos):
            f.write(f"""---
apiVersion: image.toolkit.fluxcd.io/v1beta2
kind: ImagePolicy
metadata:
  name: {policy_name(i)}
  namespace: flux-system
  labels:
    team: team-{team_of(i, args.repos, args.teams):02d}
spec:
  imageRepositoryRef:
    name: {policy_name(i)}
  policy:
    semver:
      range: '>=1.0.0'
""")
    with open(os.path.join(args.dir, "automations.yaml"), "w") as f:
        f.write(f"""---
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: fleet
  namespace: flux-system
spec:
  interval: 1m0s
  url: {args.remote}
  ref:
    branch: main
""")
        for t in range(args.teams):
            f.write(f"""---
apiVersion: image.toolkit.fluxcd.io/v1beta2
kind: ImageUpdateAutomation
metadata:
  name: team-{t:02d}
  namespace: flux-system
spec:
  interval: {args.update_interval}
  sourceRef:
    kind: GitRepository
    name: fleet
  policySelector:
    matchLabels:
      team: team-{t:02d}
  git:
    checkout:
      ref:
        branch: main
    commit:
      author:
        name: fluxcdbot
        email: fluxcdbot@users.noreply.github.com
      messageTemplate: '{{{{range .Updated.Images}}}}{{{{println .}}}}{{{{end}}}}'
    push:
      branch: main
  update:
    path: ./apps/team-{t:02d}
    strategy: Setters
""")


def write_tree(args):
    for i in range(args.repos):
        team = f"team-{team_of(i, args.repos, args.teams):02d}"
        d = os.path.join(args.dir, "apps", team)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, f"{policy_name(i)}.yaml"), "w") as f:
            f.write(f"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: {policy_name(i)}
  namespace: {team}
  labels:
    app.kubernetes.io/name: {policy_name(i)}
spec:
  replicas: 2
  selector:
    matchLabels:
      app.kubernetes.io/name: {policy_name(i)}
  template:
    metadata:
      labels:
        app.kubernetes.io/name: {policy_name(i)}
    spec:
      containers:
      - name: app
        image: {args.registry}/{repo_name(i)}:0.0.1 # {{"$imagepolicy": "flux-system:{policy_name(i)}"}}
        ports:
        - containerPort: 8080
        resources:
          requests: {{cpu: 10m, memory: 32Mi}}
""")


# --- checks ------------------------------------------------------------------------------------

def policies_ready(args):
    """Exit 0 when every policy's latest image is the expected one; print `ready/total`."""
    try:
        objects = json.load(sys.stdin)
    except json.JSONDecodeError:
        print(f"0/{args.repos}")
        return 1
    latest = {o["name"]: o.get("latest_image") or o.get("latestImage") for o in objects}
    ready = 0
    wrong = []
    for i in range(args.repos):
        want = f"{args.registry}/{repo_name(i)}:{expected_tag(i)}"
        got = latest.get(policy_name(i))
        if got == want:
            ready += 1
        elif got is not None:
            wrong.append(f"{policy_name(i)}: {got}, expected {want}")
    print(f"{ready}/{args.repos}")
    if wrong:
        print("WRONG: " + "; ".join(wrong[:5]), file=sys.stderr)
        return 2
    return 0 if ready == args.repos else 1


def pushed(args):
    """Exit 0 when main on the remote has every file at its expected tag; print done teams."""
    text = subprocess.run(
        ["git", f"--git-dir={args.git_dir}", "grep", "-h", "-e", "$imagepolicy", "main", "--", "apps"],
        capture_output=True, text=True, check=False).stdout
    got = set(line.split("image: ", 1)[-1].split(" ", 1)[0] for line in text.splitlines())
    done = 0
    for t in range(args.teams):
        members = [i for i in range(args.repos) if team_of(i, args.repos, args.teams) == t]
        if all(f"{args.registry}/{repo_name(i)}:{expected_tag(i)}" in got for i in members):
            done += 1
    print(f"{done}/{args.teams}")
    return 0 if done == args.teams else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="command", required=True)
    p = sub.add_parser("serve")
    p.add_argument("--listen", default="127.0.0.1:0")
    p.add_argument("--repos", type=int, required=True)
    for name in ("objects", "tree", "policies-ready", "pushed"):
        p = sub.add_parser(name)
        p.add_argument("--registry", required=True)
        p.add_argument("--repos", type=int, required=True)
        if name != "policies-ready":
            p.add_argument("--teams", type=int, required=True)
        if name in ("objects", "tree"):
            p.add_argument("--dir", required=True)
        if name == "objects":
            p.add_argument("--remote", required=True)
            p.add_argument("--repo-interval", default="30s")
            p.add_argument("--update-interval", default="1m")
        if name == "pushed":
            p.add_argument("--git-dir", required=True)
    args = ap.parse_args()
    if getattr(args, "teams", None) and args.repos % args.teams:
        ap.error("--repos must be a multiple of --teams")
    handler = {"serve": serve, "objects": write_objects, "tree": write_tree,
               "policies-ready": policies_ready, "pushed": pushed}[args.command]
    sys.exit(handler(args) or 0)


if __name__ == "__main__":
    main()
