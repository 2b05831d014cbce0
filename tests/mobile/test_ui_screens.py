"""The real app in a real window under Xvfb: sign in, open a cell, log visits by tapping, sync, settings.
Each screen is saved as a PNG in var/test-artifacts/mobile/. Skips when Kivy or a display is not available."""

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DRIVER = os.path.join(ROOT, "tests", "mobile", "ui_driver.py")
OUT = os.path.join(ROOT, "var", "test-artifacts", "mobile")


def _display_command() -> list[str]:
    if importlib.util.find_spec("kivy") is None:
        pytest.skip("Kivy is not installed (pip install -r mobile/requirements.txt)")
    if shutil.which("xvfb-run"):
        return ["xvfb-run", "-a", "-s", "-screen 0 720x1280x24"]
    if os.environ.get("DISPLAY"):
        return []
    pytest.skip("no display: install xvfb (apt-get install xvfb xauth) or set DISPLAY")


def test_screens_driven_by_taps():
    cmd = _display_command() + [sys.executable, DRIVER, "--out", OUT]
    env = dict(os.environ, KIVY_NO_ARGS="1", KIVY_LOG_MODE="PYTHON", KIVY_HOME=tempfile.mkdtemp(prefix="kivy-"))
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=240, env=env, cwd=ROOT)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    assert lines, proc.stdout[-2000:] + proc.stderr[-4000:]
    checks = json.loads(lines[-1])
    assert proc.returncode == 0 and "error" not in checks, checks
    for name in ("signin", "today", "walklist", "household", "visit", "saved", "map", "sync", "settings"):
        path = os.path.join(OUT, f"mobile-{name}.png")
        assert name in checks["screens"] and os.path.getsize(path) > 5_000, name
    assert checks["cells"] == 2 and checks["walk_rows"] == 6
    assert checks["banner"].startswith("已保存")
    # one visit accepted by the server, the other refused and kept on the phone with the server's message
    # then one more with the server gone: saved, waiting; uploaded once the server is back
    assert checks["pending_offline"] == 1 and "sync-offline" in checks["screens"]
    assert checks["outbox"] == {"pending": 0, "accepted": 2, "duplicate": 0, "rejected": 1}
    assert checks["server_visits"] == 2
    assert checks["font"] and checks["font"].endswith((".ttc", ".ttf", ".otf"))
