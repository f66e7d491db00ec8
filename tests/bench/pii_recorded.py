"""Key Vault on the wire, for tests and the PII benchmark: an azure-core ``HttpTransport`` that answers the Secrets
and Keys REST calls the SDK makes with responses in the recorded Key Vault format (api-version 7.6).

The SDK's own pipeline runs unchanged (challenge authentication, retries, (de)serialization); only the socket is
replaced. ``latency`` makes every response wait (e.g. ``(0.05, 0.10)`` for a 50–100 ms vault). Secrets are kept
per name so a GET returns what the last PUT stored, as Key Vault does; key wrap/unwrap use an RSA key held here
(Key Vault never reveals the private key, so unwrap is computed as the service would).
"""

from __future__ import annotations

import base64
import json
import random
import threading
import time
import uuid
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from azure.core.credentials import AccessToken
from azure.core.pipeline.transport import HttpResponse
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from tests.fixtures.wire import InMemoryTransport

VAULT_URL = "https://shopdesk-test.vault.azure.net"
KEY_ID = f"{VAULT_URL}/keys/pii-kek/4f0b7c1e2d9a4b7c8e6f5a3b2c1d0e9f"
CHALLENGE = ('Bearer authorization="https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47", '
             'resource="https://vault.azure.net"')
# Recorded error bodies (Key Vault answers these shapes for a missing secret and a forbidden key read).
SECRET_NOT_FOUND = {"error": {"code": "SecretNotFound", "message": "A secret with (name/id) {name} was not found in "
                              "this key vault. If you recently deleted this secret you may be able to recover it using "
                              "the correct recovery command. For help resolving this issue, please see "
                              "https://go.microsoft.com/fwlink/?linkid=2125182"}}
FORBIDDEN_GET_KEY = {"error": {"code": "Forbidden", "message": "The user, group or application does not have keys get "
                               "permission on key vault 'shopdesk-test'.", "innererror": {"code": "AccessDenied"}}}


class StaticCredential:
    """An Entra ID token source for tests (the real one is DefaultAzureCredential)."""

    def get_token(self, *scopes, **kwargs) -> AccessToken:
        return AccessToken("eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.test.signature", int(time.time()) + 3600)


class _Response(HttpResponse):
    def __init__(self, request, status: int, body: dict | None, headers: dict | None = None):
        super().__init__(request, None)
        self.status_code = status
        self.reason = {200: "OK", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found"}.get(status, "")
        self.headers = {"content-type": "application/json; charset=utf-8", "x-ms-keyvault-service-version":
                        "1.9.2079.1", "x-ms-request-id": str(uuid.uuid4()), **(headers or {})}
        self.content_type = "application/json; charset=utf-8"
        self._body = json.dumps(body).encode() if body is not None else b""

    def body(self) -> bytes:
        return self._body

    # The generated (azure.core.rest) clients read responses through these.
    @property
    def content(self) -> bytes:
        return self._body

    def read(self) -> bytes:
        return self._body

    def json(self):
        return json.loads(self._body) if self._body else None

    def text(self, encoding: str | None = None) -> str:
        return self._body.decode(encoding or "utf-8")


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class KeyVaultWire(InMemoryTransport):
    latency: tuple[float, float] | None = None
    secrets: dict[str, dict] = field(default_factory=dict)
    deleted: dict[str, dict] = field(default_factory=dict)
    requests: list[tuple[str, str, dict | None]] = field(default_factory=list)
    private_key: rsa.RSAPrivateKey = field(default_factory=lambda: rsa.generate_private_key(65537, 2048))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, method: str, fragment: str = "") -> int:
        return sum(1 for m, path, _ in self.requests if m == method and fragment in path)

    def send(self, request, **kwargs):
        if self.latency:
            time.sleep(random.uniform(*self.latency))
        path = unquote(urlsplit(request.url).path).rstrip("/")
        if "Authorization" not in request.headers:
            return _Response(request, 401, {"error": {"code": "Unauthorized", "message": "AKV10000: Request is "
                                                      "missing a Bearer or PoP token."}},
                             {"WWW-Authenticate": CHALLENGE})
        body = json.loads(request.body) if request.body else None
        with self._lock:
            self.requests.append((request.method, path, body))
        parts = path.strip("/").split("/")
        if parts[0] == "secrets":
            return self._secret(request, parts[1], body)
        if parts[0] == "deletedsecrets":
            deleted = self.deleted.get(parts[1])
            if deleted is None:
                return _Response(request, 404, json.loads(json.dumps(SECRET_NOT_FOUND).replace("{name}", parts[1])))
            return _Response(request, 200, deleted)
        if parts[0] == "keys":
            return self._key(request, parts, body)
        return _Response(request, 404, {"error": {"code": "NotFound", "message": path}})

    def _secret(self, request, name: str, body: dict | None):
        now = int(time.time())
        if request.method == "PUT":
            version = uuid.uuid4().hex
            attributes = {"enabled": True, "created": now, "updated": now, "recoveryLevel": "Recoverable+Purgeable",
                          "recoverableDays": 90, **(body or {}).get("attributes", {})}
            stored = {"value": body["value"], "id": f"{VAULT_URL}/secrets/{name}/{version}",
                      "attributes": attributes}
            for key in ("contentType", "tags"):
                if body.get(key) is not None:
                    stored[key] = body[key]
            with self._lock:
                self.secrets[name] = stored
            return _Response(request, 200, stored)
        if request.method == "GET":
            stored = self.secrets.get(name)
            if stored is None:
                error = json.loads(json.dumps(SECRET_NOT_FOUND).replace("{name}", name))
                return _Response(request, 404, error)
            return _Response(request, 200, stored)
        if request.method == "DELETE":
            stored = self.secrets.pop(name, None)
            if stored is None:
                return _Response(request, 404, json.loads(json.dumps(SECRET_NOT_FOUND).replace("{name}", name)))
            deleted = {**stored, "recoveryId": f"{VAULT_URL}/deletedsecrets/{name}", "deletedDate": int(time.time()),
                       "scheduledPurgeDate": int(time.time()) + 90 * 86400}
            self.deleted[name] = deleted
            return _Response(request, 200, deleted)
        return _Response(request, 405, {"error": {"code": "MethodNotAllowed", "message": request.method}})

    def _key(self, request, parts: list[str], body: dict | None):
        oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
        if request.method == "GET":
            return _Response(request, 403, FORBIDDEN_GET_KEY)  # no "get" permission: wrap/unwrap run in the vault
        operation = parts[-1]
        value = _unb64url(body["value"])
        if body.get("alg") != "RSA-OAEP-256":
            return _Response(request, 400, {"error": {"code": "BadParameter", "message": "alg"}})
        if operation == "wrapkey":
            out = self.private_key.public_key().encrypt(value, oaep)
        elif operation == "unwrapkey":
            out = self.private_key.decrypt(value, oaep)
        else:
            return _Response(request, 400, {"error": {"code": "BadParameter", "message": operation}})
        return _Response(request, 200, {"kid": KEY_ID, "value": _b64url(out)})
