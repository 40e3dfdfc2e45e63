#!/usr/bin/env bash
# Installs what imagebump's tests need on a fresh Debian machine. Idempotent: anything already
# present is skipped, and `apt-get update` runs at most once.
#
# The tests start their servers themselves (on 127.0.0.1 only); this script only installs.
set -euo pipefail

# Debian packages the test suite uses. Each later feature adds its servers here.
APT_PACKAGES=(
    git                   # git remotes over file:// and the `git` CLI imagebump pushes with
    ca-certificates
    docker-registry       # real OCI registry (distribution 2.8.2) for TestRegistry: open, htpasswd, TLS, token auth
    skopeo                # reference client: `skopeo list-tags` against the mock registry (tests, benchmark)
    openssl               # test CA + server certificate (TLS mode) and the token signing key (token mode)
    apache2-utils         # `htpasswd -Bbn` for the registry's htpasswd auth (bcrypt only)
    python3               # runs the bearer-token server of TestRegistry's token mode
    python3-cryptography  # RS256 JWT signing in that token server
    python3-venv          # the virtual environment moto is installed into (below)
    lighttpd              # GitServer's HTTP/HTTPS remotes: runs git-http-backend (CGI) behind basic auth
    lighttpd-mod-openssl  # TLS for lighttpd (a separate package in bookworm): the HTTPS git remote
    openssh-server        # GitServer's SSH remote: sshd on loopback, key-only auth
    openssh-client        # `ssh` and `ssh-keygen`: host and client keys, the git CLI's SSH transport; SSH commit signing
    gnupg                 # `gpg`, `gpg-agent`, `gpgconf`: OpenPGP commit signing (writer) and its tests' keys
)

# `--demo`: only what scripts/demo.sh needs (a registry, git, python3 for pushing tags,
# openssl for signing the webhook), so the first run of the demo on a fresh machine is quick.
DEMO_ONLY=false
if [ "${1:-}" = "--demo" ]; then
    DEMO_ONLY=true
    APT_PACKAGES=(git ca-certificates docker-registry python3 openssl)
fi

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
    echo "install-test-deps: installing ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# moto's server (`moto_server`), a local AWS API for the ECR login tests (imagebump-auth), from
# PyPI into a virtual environment under the user's cache; Moto in tests/support looks there
# first. Skipped when that environment already imports moto's server.
MOTO_VENV="${XDG_CACHE_HOME:-$HOME/.cache}/imagebump/moto-venv"
if $DEMO_ONLY; then
    :
elif ! { [ -x "$MOTO_VENV/bin/moto_server" ] && "$MOTO_VENV/bin/python" -c 'import moto.server' >/dev/null 2>&1; }; then
    echo "install-test-deps: installing moto[server] into $MOTO_VENV"
    PYTHON=/usr/bin/python3
    [ -x "$PYTHON" ] || PYTHON=python3
    "$PYTHON" -m venv --clear "$MOTO_VENV"
    "$MOTO_VENV/bin/pip" install -q --disable-pip-version-check 'moto[server]>=5.1,<6'
fi

# The Rust toolchain comes from rustup on this kind of machine; make sure its lint and format
# components are there (`rustup component add` is a no-op when they are).
if command -v rustup >/dev/null 2>&1; then
    rustup component add rustfmt clippy >/dev/null 2>&1 || true
fi
for tool in cargo rustfmt cargo-clippy; do
    command -v "$tool" >/dev/null 2>&1 || { echo "install-test-deps: $tool is missing" >&2; exit 1; }
done
echo "install-test-deps: ready"
