"""The production profile passes Django's deployment checks and refuses to start half-configured."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ENV = {"SECRET_KEY": "production-test-key-0123456789abcdefghij-0123456789",
       "DJANGO_ALLOWED_HOSTS": "qiaomen.example.cn",
       "DATABASE_URL": f"spatialite:///{ROOT / 'var' / 'deploy-check.sqlite3'}",
       "DJANGO_SETTINGS_MODULE": "server.settings_production"}


def manage(*args, env):
    # the suite's own settings (and the Kivy tests' DJANGO_ALLOW_ASYNC_UNSAFE) are not the deployment's
    drop = ("DATABASE_URL", "DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE")
    clean = {k: v for k, v in os.environ.items() if k not in drop}
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env={**clean, **env}, capture_output=True,
                          text=True, timeout=120)


def test_check_deploy_is_clean_at_warning_level():
    out = manage("check", "--deploy", "--fail-level", "WARNING", env=ENV)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "no issues" in out.stdout


def test_missing_secret_key_stops_with_a_message_naming_it():
    out = manage("check", env={**ENV, "SECRET_KEY": ""})
    assert out.returncode != 0
    assert "SECRET_KEY must be set in production" in out.stderr
