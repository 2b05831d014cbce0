"""Login throttling with django-axes: after AXES_FAILURE_LIMIT wrong passwords for one username from one address,
that pair is locked out for AXES_COOLOFF_TIME (settings). It covers every login: the admin/page login form (through
AxesMiddleware, which answers with templates/accounts/lockout.html, status 429) and the device sign-in
POST /api/v1/auth/device (through `authenticate_throttled`, which answers 429 `locked_out` in JSON).

Keyed on username + address, not the address alone: a station's workers share one NAT address, and one worker's
typos must not lock out the rest. Failures are counted in the database (axes' AccessAttempt), so every app server
process sees the same count.
"""

from __future__ import annotations

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.signals import user_logged_in

from server.common.errors import DomainError


class LoginThrottleBackend(AxesStandaloneBackend):
    """Axes' lock-out check, first in AUTHENTICATION_BACKENDS. A call without a request comes from code (a
    management command, a test, the demo), not from a login: nothing to throttle there."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


class LockedOut(DomainError):
    status_code = 429

    def __init__(self):
        minutes = int(_cool_off_seconds() // 60)
        super().__init__("locked_out", f"登录失败次数过多，请 {minutes} 分钟后再试或联系管理员",
                         f"Too many failed sign-ins: try again in {minutes} minutes or ask an administrator",
                         retry_after_s=int(_cool_off_seconds()))


def _cool_off_seconds() -> float:
    value = settings.AXES_COOLOFF_TIME
    return value.total_seconds() if hasattr(value, "total_seconds") else float(value or 0) * 3600


def authenticate_throttled(*, request, username: str, password: str):
    """authenticate() with the lock-out check, for sign-ins that are not a Django session login (device tokens).
    Raises LockedOut when this username and address are locked out (also on the very attempt that reached the
    limit). A success counts as a login (user_logged_in: last_login is set, axes clears the failures).
    `request` may be a DRF request or Django's own."""
    http_request = getattr(request, "_request", request)
    user = authenticate(http_request, username=username, password=password)
    if http_request is not None and getattr(http_request, "axes_locked_out", False):
        http_request.axes_locked_out = False  # answered here as JSON, not by AxesMiddleware's HTML page
        raise LockedOut()
    if user is not None and http_request is not None:
        user_logged_in.send(sender=user.__class__, request=http_request, user=user)
    return user
