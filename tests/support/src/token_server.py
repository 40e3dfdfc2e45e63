"""Minimal Docker registry v2 bearer-token server for imagebump's tests (loopback only).

Usage: token_server.py KEY.pem CERT.pem PORT [SERVICE] [ISSUER]

GET /token?service=..&scope=repository:NAME:pull,push[&scope=...] returns
{"token": JWT, "access_token": JWT, "expires_in": 300, "issued_at": ...}. The JWT is RS256
with an x5c header holding CERT (the registry's `auth.token.rootcertbundle`).

Anonymous requests get `pull` only; Basic testuser:testpass gets everything it asks for
(pull, push, delete, *). Wrong credentials get 401. Uses only the standard library and
`cryptography` (Debian: python3-cryptography).
"""
import base64
import json
import sys
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

USER, PASSWORD = "testuser", "testpass"

with open(sys.argv[1], "rb") as f:
    KEY = serialization.load_pem_private_key(f.read(), None)
with open(sys.argv[2], "rb") as f:
    CERT = x509.load_pem_x509_certificate(f.read())
PORT = int(sys.argv[3])
SERVICE = sys.argv[4] if len(sys.argv) > 4 else "test-registry"
ISSUER = sys.argv[5] if len(sys.argv) > 5 else "test-issuer"
X5C = base64.b64encode(CERT.public_bytes(serialization.Encoding.DER)).decode()


def b64u(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt(claims):
    header = b64u(json.dumps({"typ": "JWT", "alg": "RS256", "x5c": [X5C]}).encode())
    payload = b64u(json.dumps(claims).encode())
    sig = KEY.sign(f"{header}.{payload}".encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{header}.{payload}.{b64u(sig)}"


def parse_scope(scope):
    """repository:team/app:pull,push -> ("repository", "team/app", ["pull", "push"]).
    The name may itself contain ':' (e.g. a registry host with a port)."""
    parts = scope.split(":")
    if len(parts) < 3:
        return None
    return parts[0], ":".join(parts[1:-1]), [a for a in parts[-1].split(",") if a]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def reply(self, status, body, extra_headers=()):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in extra_headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        url = urlparse(self.path)
        if url.path != "/token":
            self.reply(404, {"errors": [{"code": "NOT_FOUND", "message": "not found"}]})
            return
        query = parse_qs(url.query)
        user = None
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Basic "):
            try:
                name, _, password = base64.b64decode(auth[6:]).decode().partition(":")
            except ValueError:
                name, password = "", ""
            if (name, password) != (USER, PASSWORD):
                self.reply(
                    401,
                    {"errors": [{"code": "UNAUTHORIZED", "message": "invalid credentials"}]},
                    [("WWW-Authenticate", 'Basic realm="token"')],
                )
                return
            user = name
        access = []
        for scope in query.get("scope", []):
            for one in scope.split(" "):
                parsed = parse_scope(one)
                if parsed is None:
                    continue
                typ, name, actions = parsed
                allowed = [a for a in actions if a == "pull" or user is not None]
                access.append({"type": typ, "name": name, "actions": allowed})
        now = int(time.time())
        token = jwt(
            {
                "iss": ISSUER,
                "sub": user or "",
                "aud": query.get("service", [SERVICE])[0],
                "exp": now + 300,
                "nbf": now - 10,
                "iat": now,
                "jti": uuid.uuid4().hex,
                "access": access,
            }
        )
        issued = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))
        self.reply(
            200,
            {"token": token, "access_token": token, "expires_in": 300, "issued_at": issued},
        )


ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
