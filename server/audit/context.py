"""Where an audited act came from: the request being served (its IP address and device), kept in a context variable
by `AuditContextMiddleware`, so services record it without every caller passing the request down.

The client IP is REMOTE_ADDR. Behind a reverse proxy set QIAOMEN_AUDIT_IP_HEADER (e.g. HTTP_X_FORWARDED_FOR) to the
header the proxy sets; its first address is taken. Only do this when the proxy overwrites the header.
"""

from __future__ import annotations

import contextvars
import ipaddress
from contextlib import contextmanager

from django.conf import settings

_request: contextvars.ContextVar = contextvars.ContextVar("qiaomen_audit_request", default=None)


def client_ip(request) -> str | None:
    header = getattr(settings, "QIAOMEN_AUDIT_IP_HEADER", "")
    value = (request.META.get(header) or "").split(",")[0].strip() if header else ""
    value = value or request.META.get("REMOTE_ADDR", "")
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def current_request():
    return _request.get()


def current_origin() -> tuple[str | None, str]:
    """(ip, device_id) of the request being served; (None, "") outside a request (a task, a command)."""
    request = _request.get()
    if request is None:
        return None, ""
    device = getattr(request, "device", None)
    return client_ip(request), getattr(device, "device_id", "") or ""


@contextmanager
def request_bound(request):
    token = _request.set(request)
    try:
        yield
    finally:
        _request.reset(token)


class AuditContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with request_bound(request):
            return self.get_response(request)
