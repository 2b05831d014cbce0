"""Kill a process saving visits with SIGKILL at random moments, 30 times: nothing it reported saved is lost, the
file stays sound, and after sync the server holds each visit exactly once."""

import os
import random
import signal
import subprocess
import sys
import time

from qiaomen_field.store import Store
from qiaomen_field.sync import SyncEngine

WRITER = os.path.join(os.path.dirname(__file__), "crash_writer.py")
KILLS = 30


def _run_and_kill(path: str, rng: random.Random) -> list[str]:
    proc = subprocess.Popen([sys.executable, WRITER, path], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout.readline().strip() == b"ready", proc.stderr.read()
    time.sleep(rng.uniform(0.0, 0.25))
    proc.send_signal(signal.SIGKILL)
    out, _ = proc.communicate(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    # a line cut in half by the kill was never "reported saved"
    return [line.split()[1] for line in out.decode().split("\n") if line.startswith("saved ") and len(line) == 42]


def test_sigkill_never_loses_a_saved_visit_and_sync_never_duplicates(tmp_path, fake_server):
    path = str(tmp_path / "field.sqlite3")
    store = Store(path)
    SyncEngine(store, fake_server.transport()).sync_once()  # the worker's scope is on the phone
    store.close()
    rng = random.Random(20261125)
    reported: list[str] = []
    for _ in range(KILLS):
        reported += _run_and_kill(path, rng)
    assert len(reported) > KILLS  # the kills really landed mid-stream, not before the first save

    store = Store(path)
    assert store.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    on_disk = store.outbox_ids()
    assert set(reported) <= on_disk
    SyncEngine(store, fake_server.transport(), batch_size=200).sync_once()
    assert set(fake_server.visits) == on_disk and len(fake_server.visits) == len(on_disk)
    store.db.execute("UPDATE outbox SET status = 'pending'")
    report = SyncEngine(store, fake_server.transport(), batch_size=200).sync_once()
    assert report.accepted == 0 and report.duplicate == len(on_disk)
    assert len(fake_server.visits) == len(on_disk)
    store.close()
