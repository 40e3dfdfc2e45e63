#!/usr/bin/env python3
"""Push tiny images under the given tags to a plain-HTTP registry (loopback demos and benches).

    scripts/push-tags.py 127.0.0.1:5000 stefanprodan/podinfo 5.0.0 5.0.1

Each tag gets its own manifest (the tag is written into an annotation), so every tag has a
distinct digest, as real releases do. Standard library only.
"""
import hashlib
import json
import sys
import urllib.request

CONFIG = b'{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}'


def request(method, url, body=b"", headers=None):
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    with urllib.request.urlopen(req, timeout=30) as response:
        return response.status, response.headers


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    registry, repository, tags = sys.argv[1], sys.argv[2], sys.argv[3:]
    base = f"http://{registry}/v2/{repository}"
    digest = "sha256:" + hashlib.sha256(CONFIG).hexdigest()
    _, headers = request("POST", f"{base}/blobs/uploads/")
    location = headers["Location"]
    if location.startswith("/"):
        location = f"http://{registry}{location}"
    separator = "&" if "?" in location else "?"
    request("PUT", f"{location}{separator}digest={digest}", CONFIG,
            {"Content-Type": "application/octet-stream"})
    for tag in tags:
        manifest = json.dumps({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                       "digest": digest, "size": len(CONFIG)},
            "layers": [],
            "annotations": {"org.opencontainers.image.version": tag},
        }).encode()
        request("PUT", f"{base}/manifests/{tag}", manifest,
                {"Content-Type": "application/vnd.oci.image.manifest.v1+json"})
        print(f"pushed {registry}/{repository}:{tag}")


if __name__ == "__main__":
    main()
