"""Real processes for the fault tests: the server (gunicorn, one sync worker, as in production) and a Celery worker,
each in its own process group so a test can SIGKILL it whole; plain HTTP for what the phone does not do."""

from __future__ import annotations

import gzip
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SETTINGS = "tests.faults.server_settings"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method: str, url: str, body: dict | None = None, token: str | None = None, timeout: float = 30,
         headers: dict | None = None) -> tuple[int, dict, dict]:
    """(status, headers, JSON body) of one request; HTTP errors are answers too."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method, headers={"Accept": "application/json",
                                                                         **(headers or {})})
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Token {token}")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            status, headers, raw = resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as err:
        status, headers, raw = err.code, dict(err.headers), err.read()
    if headers.get("Content-Encoding") == "gzip":
        raw = gzip.decompress(raw)
    try:
        payload = json.loads(raw or b"null")
    except ValueError:
        payload = {"_raw": raw[:500].decode(errors="replace")}
    return status, headers, payload


def base_env(database_url: str, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("QIAOMEN_FAULT", "PYTEST", "DJANGO_ALLOW"))}
    env.update(DJANGO_SETTINGS_MODULE=SETTINGS, DATABASE_URL=database_url, DJANGO_DEBUG="0",
               SECRET_KEY="qiaomen-fault-tests-not-a-secret-0123456789abcdef", PYTHONPATH=str(ROOT),
               CELERY_BROKER_URL="", CELERY_TASK_ALWAYS_EAGER="1", LOG_LEVEL="ERROR")
    env.update(extra)
    return env


class _Process:
    name = "process"

    def __init__(self, workdir: Path):
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.proc: subprocess.Popen | None = None
        self.log_path = self.workdir / f"{self.name}.log"

    def _spawn(self, cmd: list[str], env: dict) -> None:
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        log.close()

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, n: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-n:]
        except OSError:
            return ""

    def kill(self) -> None:
        """SIGKILL to the whole process group (the master and its workers): no clean-up of any kind."""
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(timeout=30)
        self.proc = None

    def stop(self) -> None:
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=15)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            self.kill()
        self.proc = None


class ServerProcess(_Process):
    """gunicorn serving server.wsgi on a fixed port (a restart comes back on the same address, as a real one does)."""

    name = "server"

    def __init__(self, workdir: Path, database_url: str, **env: str):
        super().__init__(workdir)
        self.database_url = database_url
        self.env = env
        self.port = free_port()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, **env: str) -> ServerProcess:
        assert not self.running
        cmd = [str(BIN / "gunicorn"), "server.wsgi", "-b", f"127.0.0.1:{self.port}", "-w", "1", "--timeout", "120",
               "--graceful-timeout", "2", "--log-level", "warning"]
        self._spawn(cmd, base_env(self.database_url, QIAOMEN_FAULT_DIR=str(self.workdir), **{**self.env, **env}))
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if not self.running:
                raise RuntimeError(f"the server exited at start:\n{self.log_tail()}")
            try:
                http("GET", self.url + "/api/v1/health", timeout=5)
                return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"the server did not answer within 90 s:\n{self.log_tail()}")

    def wait_for_hold(self, point: str, timeout: float = 60) -> dict:
        """Wait until the hook of tests/faults/hooks.py holds a push at `point`; its note ({"results", "accepted"})."""
        path = self.workdir / f"{point}.json"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if path.exists():
                return json.loads(path.read_text())
            if not self.running:
                raise RuntimeError(f"the server exited:\n{self.log_tail()}")
            time.sleep(0.02)
        raise RuntimeError(f"no push reached {point} within {timeout} s:\n{self.log_tail()}")


class CeleryWorker(_Process):
    """`celery -A server worker --pool solo` on the test's own queue."""

    name = "worker"

    def __init__(self, workdir: Path, database_url: str, **env: str):
        super().__init__(workdir)
        self.database_url = database_url
        self.env = env

    def start(self) -> CeleryWorker:
        queue = self.env["QIAOMEN_FAULT_QUEUE"]
        cmd = [str(BIN / "celery"), "-A", "server", "worker", "--pool", "solo", "-Q", queue, "--without-gossip",
               "--without-mingle", "--without-heartbeat", "--loglevel", "WARNING", "-n", f"{queue}@%h"]
        self._spawn(cmd, base_env(self.database_url, DB_CONN_MAX_AGE="0", **self.env))
        return self

    def stop(self) -> None:
        self.kill()  # the test is over: no need to wait for a warm shutdown
