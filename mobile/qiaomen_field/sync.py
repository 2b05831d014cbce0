"""Sync engine: push the outbox, then pull from the cursor.

Why this order: the server derives a household's state from visits, so pushing first means the pull that follows
already reflects this phone's own work. Both halves resume after an interruption: an outbox item stays `pending`
until the server has answered for it (a lost answer means it is sent again and comes back `duplicate`), and the
pull cursor moves only inside the transaction that applies its page.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from qiaomen_field.store import OUTBOX_KINDS, Store
from qiaomen_field.transport import AuthError, OfflineError, ProtocolError, TransportError


class DeviceRevoked(Exception):
    """The server revoked this phone; its local data has been wiped. `discarded`: the items (by kind) that had not
    reached the server and were wiped with the rest."""

    def __init__(self, message: str, discarded: dict[str, int] | None = None):
        super().__init__(message)
        self.discarded = discarded or {}


@dataclass
class SyncReport:
    pushed: int = 0
    accepted: int = 0
    duplicate: int = 0
    rejected: int = 0
    pulled_pages: int = 0
    pulled_records: int = 0
    deleted_records: int = 0
    errors: list[str] = field(default_factory=list)


class Backoff:
    """Exponential back-off with full jitter: 5 s, 10 s, 20 s … capped at 10 minutes."""

    def __init__(self, base_s: float = 5.0, cap_s: float = 600.0, rng: random.Random | None = None):
        self.base_s, self.cap_s = base_s, cap_s
        self.failures = 0
        self.rng = rng or random.Random()

    def ceiling(self) -> float:
        return min(self.cap_s, self.base_s * (2 ** max(0, self.failures - 1)))

    def failed(self) -> float:
        """Count a failure and return how long to wait before the next attempt."""
        self.failures += 1
        ceiling = self.ceiling()
        return ceiling / 2 + self.rng.uniform(0, ceiling / 2)

    def succeeded(self) -> None:
        self.failures = 0


class SyncEngine:
    def __init__(self, store: Store, transport, *, batch_size: int = 500, page_limit: int = 500,
                 on_revoked: Callable[[], None] | None = None):
        self.store = store
        self.transport = transport
        self.batch_size = batch_size
        self.page_limit = page_limit
        self.on_revoked = on_revoked
        self._lock = threading.Lock()  # one sync at a time, whoever asks

    def sync_once(self) -> SyncReport:
        """Push everything pending, then pull until the server has nothing more. Raises OfflineError when the
        server cannot be reached (what was done so far is kept), DeviceRevoked after wiping."""
        with self._lock:
            report = SyncReport()
            try:
                self._push(report)
                self._pull(report)
            except AuthError as err:
                if err.wipe:
                    discarded = self.remote_wipe()
                    if self.on_revoked:
                        self.on_revoked()
                    raise DeviceRevoked(str(err), discarded) from None
                self.store.meta_set(last_error=f"auth: {err}")
                raise
            except TransportError as err:
                self.store.meta_set(last_error=str(err))
                raise
            self.store.meta_set(last_sync_at=f"{time.time():.3f}", last_error="")
            self.store.outbox_prune()
            return report

    def remote_wipe(self) -> dict[str, int]:
        """The server revoked this phone (it may be lost or in the wrong hands): wipe everything, the outbox too.

        Unsent visits are wiped, not kept: the server refuses anything from a revoked device, and whoever holds the
        phone now must not read them. How many went is told to the server once (best effort, with the revoked
        token), so the station knows which work to redo (docs/privacy.md)."""
        discarded = self.store.outbox_unsent()
        self.store.wipe()
        try:
            self.transport.confirm_wiped(discarded=discarded)
        except (TransportError, AttributeError):
            pass  # offline, or an old server: the wipe stands either way
        return discarded

    def _push(self, report: SyncReport) -> None:
        while True:
            items = self.store.outbox_pending(self.batch_size)
            if not items:
                return
            if not self._push_items(items, report):
                # The server answered without naming any of our items: stop rather than loop; they stay pending.
                report.errors.append("push answer named none of the items sent")
                return

    def _push_items(self, items: list[tuple[str, dict]], report: SyncReport) -> bool:
        """Send items; returns whether the server answered for at least one. A batch refused as a whole (400:
        one malformed item fails validation of all) is split in halves until the bad item is alone, so it is
        the only one rejected and the visits around it still go through."""
        batch: dict[str, list] = {kind: [] for kind in OUTBOX_KINDS}
        for kind, payload in items:
            batch[kind].append(payload)
        ids = [p["id"] for _, p in items]
        self.store.outbox_mark_sent(ids)
        try:
            answer = self.transport.push(batch)
        except ProtocolError as err:
            if len(items) > 1:
                half = len(items) // 2
                first = self._push_items(items[:half], report)
                return self._push_items(items[half:], report) or first
            message = str(err)
            fields = err.body.get("errors")
            if fields:
                message += f" ({json.dumps(fields, ensure_ascii=False)[:300]})"
            self.store.outbox_record_results(
                [{"id": ids[0], "status": "rejected", "code": err.body.get("code") or f"http_{err.status}",
                  "message": message}])
            report.rejected += 1
            report.errors.append(message)
            return True
        results = answer.get("results") or []
        self.store.outbox_record_results(results)
        report.pushed += len(items)
        for r in results:
            status = r.get("status")
            if status in ("accepted", "duplicate", "rejected"):
                setattr(report, status, getattr(report, status) + 1)
        return bool({str(r.get("id")) for r in results} & set(ids))

    def _pull(self, report: SyncReport) -> None:
        for _ in range(100_000):
            page = self.transport.pull(cursor=self.store.meta_get("cursor"), limit=self.page_limit)
            changes, deleted = page.get("changes") or {}, page.get("deleted") or {}
            self.store.apply_pull_page(changes=changes, deleted=deleted, cursor=page.get("cursor") or "",
                                       reset=bool(page.get("reset")))
            report.pulled_pages += 1
            report.pulled_records += sum(len(v) for v in changes.values())
            report.deleted_records += sum(len(v) for v in deleted.values())
            if not page.get("has_more"):
                return


class BackgroundSync:
    """Runs the engine on its own thread: every `interval_s` when things work, with back-off when they don't,
    and at once when `request_now()` is called (the sync button, a visit just saved, the network coming back).
    `notify(event, payload)` is called through `scheduler` so a UI can update on its main thread."""

    def __init__(self, engine: SyncEngine, *, interval_s: float = 120.0, backoff: Backoff | None = None,
                 notify: Callable[[str, object], None] | None = None, scheduler: Callable[..., None] | None = None):
        self.engine = engine
        self.interval_s = interval_s
        self.backoff = backoff or Backoff()
        self.notify = notify or (lambda event, payload: None)
        self.scheduler = scheduler or (lambda fn, *a: fn(*a))
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.next_delay = 0.0

    def start(self) -> None:
        if self._thread and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="qiaomen-sync", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def request_now(self) -> None:
        self._wake.set()

    def run_once(self) -> float:
        """One attempt; returns the delay before the next one. Separate from the thread so tests drive it."""
        self.scheduler(self.notify, "started", None)
        try:
            report = self.engine.sync_once()
        except DeviceRevoked as err:
            self._stop.set()
            self.scheduler(self.notify, "revoked", str(err))
            return self.interval_s
        except AuthError as err:
            self._stop.set()
            self.scheduler(self.notify, "auth", str(err))
            return self.interval_s
        except TransportError as err:
            self.next_delay = self.backoff.failed()
            self.scheduler(self.notify, "offline", {"error": str(err), "status": err.status,
                                                    "retry_in": self.next_delay})
            return self.next_delay
        except Exception as err:  # a bug must not kill the thread that keeps uploading visits
            self.next_delay = self.backoff.failed()
            self.scheduler(self.notify, "error", {"error": repr(err), "retry_in": self.next_delay})
            return self.next_delay
        self.backoff.succeeded()
        self.next_delay = self.interval_s
        self.scheduler(self.notify, "done", report)
        return self.interval_s

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            delay = self.run_once()
            if self._stop.is_set():
                return
            self._wake.wait(delay)


__all__ = ["Backoff", "BackgroundSync", "DeviceRevoked", "OfflineError", "SyncEngine", "SyncReport"]
