"""Production settings: `DJANGO_SETTINGS_MODULE=server.settings_production` (docs/deploy.md).

Everything of server/settings.py, with debug off and the transport hardened for a deployment behind a TLS proxy
(nginx) that sets X-Forwarded-Proto. Refuses to start without SECRET_KEY, DJANGO_ALLOWED_HOSTS and DATABASE_URL.
`manage.py check --deploy --fail-level WARNING` is clean with it (tests/common/test_production_settings.py).
"""

from __future__ import annotations

import os

os.environ["DJANGO_DEBUG"] = "0"
for _name in ("SECRET_KEY", "DJANGO_ALLOWED_HOSTS", "DATABASE_URL"):
    if not os.environ.get(_name):
        raise RuntimeError(f"{_name} must be set in production / 生产环境必须设置 {_name}")

from server.settings import *  # noqa: E402,F403

DEBUG = False
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("QIAOMEN_SSL_REDIRECT", True)  # noqa: F405
SECURE_HSTS_SECONDS = int(os.environ.get("QIAOMEN_HSTS_SECONDS", str(365 * 24 * 3600)))
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env_bool("QIAOMEN_HSTS_PRELOAD", True)  # noqa: F405  (HTTPS only, for good)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
CSRF_COOKIE_HTTPONLY = True
CSRF_TRUSTED_ORIGINS = [f"https://{h}" for h in ALLOWED_HOSTS if h and not h.startswith(".")]  # noqa: F405
