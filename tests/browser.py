"""Headless Chromium (Debian's /usr/bin/chromium) driven by Playwright, for tests of pages."""

from __future__ import annotations

import contextlib
import os
import shutil

import pytest

CHROMIUM = os.environ.get("QIAOMEN_CHROMIUM", "/usr/bin/chromium")
# The machine has no internet: keep Chromium from trying to reach Google on start.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]


@contextlib.contextmanager
def chromium_page(*, width: int = 1280, height: int = 900):
    """A fresh page; records every request URL in `page.requested`."""
    if not shutil.which(CHROMIUM):
        pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium)")
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": width, "height": height}, locale="zh-CN")
        page.requested = []
        page.on("request", lambda r: page.requested.append(r.url))
        page.console = []
        page.on("console", lambda m: page.console.append(f"{m.type}: {m.text}"))
        page.on("pageerror", lambda e: page.console.append(f"pageerror: {e}"))
        try:
            yield page
        finally:
            browser.close()


def admin_login(page, base_url: str, username: str, password: str) -> None:
    page.goto(f"{base_url}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
