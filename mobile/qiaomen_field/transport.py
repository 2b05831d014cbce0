"""HTTP to the Qiaomen server (stdlib urllib only, so the APK needs no extra recipe).

Calls, names fixed by the wire contract (docs/sync-protocol.md): POST /api/v1/auth/device,
GET /api/v1/sync/pull, POST /api/v1/sync/push, and POST /api/v1/auth/device/wiped after a remote wipe.
Errors are sorted by what the engine should do about them:
`OfflineError` (try again later), `AuthError` (sign in again, or wipe when the device is revoked),
`ProtocolError` (the server refused the request itself; retrying the same bytes will not help).
"""

from __future__ import annotations

import gzip
import json
import urllib.error
import urllib.parse
import urllib.request


class TransportError(Exception):
    def __init__(self, message: str, *, status: int = 0, body: dict | None = None):
        super().__init__(message)
        self.status = status
        self.body = body or {}


class OfflineError(TransportError):
    """No network, a timeout, or a 5xx: the request may or may not have reached the server."""


class AuthError(TransportError):
    @property
    def code(self) -> str:
        return str(self.body.get("code", ""))

    @property
    def wipe(self) -> bool:
        return bool(self.body.get("wipe")) or self.code == "device_revoked"


class ProtocolError(TransportError):
    """4xx other than 401: the request was malformed or not allowed."""


class HttpTransport:
    def __init__(self, base_url: str, *, token: str | None = None, timeout: float = 20.0, language: str = "zh-hans"):
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.language = language

    def _request(self, method: str, path: str, *, query: dict | None = None, body: dict | None = None) -> dict:
        url = self.base_url + path
        if query:
            url += "?" + urllib.parse.urlencode({k: v for k, v in query.items() if v is not None})
        data = None if body is None else json.dumps(body, ensure_ascii=False).encode("utf-8")
        req = urllib.request.Request(url, data=data, method=method)
        req.add_header("Accept", "application/json")
        req.add_header("Accept-Encoding", "gzip")
        req.add_header("Accept-Language", self.language)
        if data is not None:
            req.add_header("Content-Type", "application/json; charset=utf-8")
        if self.token:
            req.add_header("Authorization", f"Token {self.token}")
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                return _decode(resp.read(), resp.headers.get("Content-Encoding"))
        except urllib.error.HTTPError as err:
            payload = _safe_decode(err)
            message = _message(payload, self.language) or f"HTTP {err.code}"
            if err.code == 401:
                raise AuthError(message, status=401, body=payload) from None
            if err.code >= 500 or err.code in (408, 429):
                raise OfflineError(message, status=err.code, body=payload) from None
            raise ProtocolError(message, status=err.code, body=payload) from None
        except (TimeoutError, urllib.error.URLError, ConnectionError, OSError) as err:
            raise OfflineError(f"server unreachable: {getattr(err, 'reason', err)}") from None

    def register_device(self, *, username: str, password: str, device_id: str, device_name: str) -> dict:
        """Exchange a password for this device's token: {"token", "expires_at", "user"}."""
        answer = self._request("POST", "/api/v1/auth/device", body={
            "username": username, "password": password, "device_id": device_id, "device_name": device_name})
        self.token = answer["token"]
        return answer

    def confirm_wiped(self, *, discarded: dict) -> dict:
        """Tell the server (with the revoked token) that this phone wiped itself and how many unsent items went."""
        return self._request("POST", "/api/v1/auth/device/wiped", body={"discarded": discarded})

    def pull(self, *, cursor: str | None, limit: int = 500) -> dict:
        return self._request("GET", "/api/v1/sync/pull", query={"cursor": cursor or "", "limit": limit})

    def push(self, batch: dict) -> dict:
        return self._request("POST", "/api/v1/sync/push", body=batch)


def _decode(raw: bytes, encoding: str | None) -> dict:
    if encoding == "gzip" or raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    return json.loads(raw.decode("utf-8")) if raw else {}


def _safe_decode(err: urllib.error.HTTPError) -> dict:
    try:
        value = _decode(err.read(), err.headers.get("Content-Encoding"))
        return value if isinstance(value, dict) else {"detail": value}
    except Exception:  # an HTML error page from a proxy, say
        return {}


def _message(payload: dict, language: str = "zh") -> str:
    """The server's message in the user's language (the API sends detail_zh and detail_en beside detail)."""
    for key in ("detail_en" if language.startswith("en") else "detail_zh", "message", "detail", "error"):
        if isinstance(payload.get(key), str):
            return payload[key]
    return ""
