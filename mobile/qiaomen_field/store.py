"""Local store: one SQLite file holding what was pulled and the outbox of what the worker made.

WAL journal with `synchronous=FULL`: a commit has reached the disk before a function here returns, so "saved" on
screen means the visit survives the phone being switched off the next instant. The schema is versioned through
`PRAGMA user_version` and upgraded in place by the steps in `MIGRATIONS`; a newer file than this code refuses to
open rather than being damaged.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from qiaomen_field.location import Fix
from qiaomen_field.schema import MIGRATIONS, SCHEMA_VERSION

OUTBOX_KINDS = ("visits", "household_reports", "claims")
ANSWERED_KEEP_DAYS = 14  # days an uploaded item (with its GPS fix) stays on the phone (docs/privacy.md)
PENDING, ACCEPTED, DUPLICATE, REJECTED = "pending", "accepted", "duplicate", "rejected"


class StoreError(Exception):
    """The local file cannot be used by this version of the app."""




@dataclass
class HouseholdRow:
    """One line of the walk list: the household and its state as this phone knows it."""

    id: str
    cell_id: str
    building: str
    room: str
    walk_order: int
    state: str  # outcome code of the latest visit (local first, else server), '' if not visited
    address: str
    data: dict = field(default_factory=dict)


def _first(data: dict, *keys, default=None):
    for key in keys:
        if data.get(key) not in (None, ""):
            return data[key]
    return default


def household_round_entry(rec: dict) -> dict:
    """The household's entry for the round being worked. The server sends one per round the worker holds the cell
    in ({"round", "order", "state"}); the first is the current one (rounds are listed oldest first, one at a time
    in practice)."""
    rounds = rec.get("rounds") or []
    return rounds[0] if rounds and isinstance(rounds[0], dict) else {}


def _outcome_of(state) -> str:
    if isinstance(state, dict):
        return str(state.get("outcome") or "")
    return str(state or "")


def _household_columns(rec: dict) -> tuple:
    entry = household_round_entry(rec)
    state = _outcome_of(rec.get("visit_state") or entry.get("state"))
    building = str(_first(rec, "building", default=""))
    room = str(_first(rec, "room", default=""))
    address = str(_first(rec, "address", default=""))
    cell = _first(rec, "cell", "cell_id")
    order = _first(rec, "walk_order", default=None)
    if order is None:
        order = entry.get("order") or 0
    return (str(rec["id"]), None if cell is None else str(cell), building, room, int(order or 0), state,
            json.dumps(rec, ensure_ascii=False), f"{building} {room} {address}".lower())


def _outcome_code_key(rec: dict) -> str:
    return str(rec["id"]) if "id" in rec else f"{rec.get('campaign', '')}:{rec['code']}"


class Store:
    """The phone's database. Thread-safe: the sync thread and the UI share one connection behind a lock."""

    def __init__(self, path: str):
        self.path = path
        os.makedirs(os.path.dirname(os.path.abspath(path)) or ".", exist_ok=True)
        self._lock = threading.RLock()
        self.db = self._connect()

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=10)
        db.row_factory = sqlite3.Row
        mode = db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if mode.lower() != "wal":
            raise StoreError(f"SQLite refused WAL mode ({mode}) for {self.path}")
        db.execute("PRAGMA synchronous=FULL")
        db.execute("PRAGMA foreign_keys=ON")
        self._migrate(db)
        return db

    @staticmethod
    def _migrate(db: sqlite3.Connection) -> None:
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StoreError(f"local data is schema {version}, this app knows {SCHEMA_VERSION}: update the app")
        for step in range(version, SCHEMA_VERSION):
            db.execute("BEGIN IMMEDIATE")
            try:
                MIGRATIONS[step](db)
                db.execute(f"PRAGMA user_version={step + 1}")
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

    @property
    def schema_version(self) -> int:
        return self.db.execute("PRAGMA user_version").fetchone()[0]

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self.db.close()

    # -- settings and session ------------------------------------------------------------------------------
    def meta_get(self, key: str, default: str | None = None) -> str | None:
        with self._lock:
            row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return default if row is None else row[0]

    def meta_set(self, **values) -> None:
        with self.transaction() as db:
            for key, value in values.items():
                if value is None:
                    db.execute("DELETE FROM meta WHERE key = ?", (key,))
                else:
                    db.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE "
                               "SET value = excluded.value", (key, str(value)))

    def device_id(self) -> str:
        """The phone's id, made once and kept until the local data is wiped."""
        value = self.meta_get("device_id")
        if value is None:
            value = str(uuid.uuid4())
            self.meta_set(device_id=value)
        return value

    def wipe(self) -> None:
        """Forget everything: pulled data, outbox, token. Used on sign-out and when the server revokes the device."""
        with self.transaction() as db:
            for table in ("meta", "rounds", "cells", "outcome_codes", "households", "outbox"):
                db.execute(f"DELETE FROM {table}")
        with self._lock:
            self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self.db.execute("VACUUM")

    # -- pulled data ---------------------------------------------------------------------------------------
    def apply_pull_page(self, *, changes: dict, deleted: dict, cursor: str, reset: bool = False) -> None:
        """Apply one page of a pull and move the cursor, all or nothing, so an interrupted pull resumes cleanly.
        `reset`: the server is sending the whole scope again (first pull, or a cursor it no longer knows), so
        what was pulled before goes; the outbox stays."""
        with self.transaction() as db:
            if reset:
                for table in ("rounds", "cells", "outcome_codes", "households"):
                    db.execute(f"DELETE FROM {table}")
            for kind, ids in (deleted or {}).items():
                ids = [str(i) for i in ids]
                if kind == "cells":
                    db.executemany("DELETE FROM households WHERE cell_id = ?", [(i,) for i in ids])
                if kind in ("rounds", "cells", "outcome_codes", "households"):
                    db.executemany(f"DELETE FROM {kind} WHERE id = ?", [(i,) for i in ids])
            for kind, records in (changes or {}).items():
                if kind == "households":
                    db.executemany(
                        "INSERT OR REPLACE INTO households (id, cell_id, building, room, walk_order, server_state, "
                        "data, search) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        [_household_columns(r) for r in records])
                elif kind == "outcome_codes":
                    db.executemany("INSERT OR REPLACE INTO outcome_codes (id, data) VALUES (?, ?)",
                                   [(_outcome_code_key(r), json.dumps(r, ensure_ascii=False)) for r in records])
                elif kind == "household_states":
                    self._apply_states(db, records)
                elif kind in ("rounds", "cells"):
                    db.executemany(f"INSERT OR REPLACE INTO {kind} (id, data) VALUES (?, ?)",
                                   [(str(r["id"]), json.dumps(r, ensure_ascii=False)) for r in records])
            db.execute("INSERT INTO meta (key, value) VALUES ('cursor', ?) ON CONFLICT (key) DO UPDATE "
                       "SET value = excluded.value", (str(cursor),))

    @staticmethod
    def _apply_states(db: sqlite3.Connection, records: list[dict]) -> None:
        """Partial update sent when only visits changed: {"household", "round", "state"}."""
        for r in records:
            row = db.execute("SELECT data FROM households WHERE id = ?", (str(r["household"]),)).fetchone()
            if row is None:
                continue
            data = json.loads(row[0])
            for entry in data.get("rounds") or []:
                if isinstance(entry, dict) and str(entry.get("round")) == str(r.get("round")):
                    entry["state"] = r.get("state")
            if not data.get("rounds"):
                data["visit_state"] = r.get("state")
            cols = _household_columns(data)
            db.execute("UPDATE households SET server_state = ?, data = ? WHERE id = ?", (cols[5], cols[6], cols[0]))

    def _all(self, table: str) -> list[dict]:
        with self._lock:
            rows = self.db.execute(f"SELECT data FROM {table} ORDER BY rowid").fetchall()
        return [json.loads(r[0]) for r in rows]

    def rounds(self) -> list[dict]:
        return self._all("rounds")

    def cells(self) -> list[dict]:
        return self._all("cells")

    def cell(self, cell_id: str) -> dict | None:
        with self._lock:
            row = self.db.execute("SELECT data FROM cells WHERE id = ?", (str(cell_id),)).fetchone()
        return None if row is None else json.loads(row[0])

    def outcome_codes(self, campaign: str | int | None = None) -> list[dict]:
        codes = self._all("outcome_codes")
        if campaign is not None:
            mine = [c for c in codes if str(c.get("campaign", "")) == str(campaign)]
            codes = mine or codes
        seen, unique = set(), []
        for code in sorted(codes, key=lambda c: (c.get("order", 0), c["code"])):
            if code["code"] not in seen:
                seen.add(code["code"])
                unique.append(code)
        return unique

    def households(self, *, cell_id: str | None = None, state_filter: str = "all", search: str = "",
                   revisit_codes: Iterable[str] = ("nobody_home", "refused"),
                   household_id: str | None = None) -> list[HouseholdRow]:
        """The walk list in walk order. `state_filter`: all, not_visited, revisit, done."""
        sql = ("SELECT h.id, h.cell_id, h.building, h.room, h.walk_order, h.data, "
               "coalesce((SELECT json_extract(o.payload, '$.outcome') FROM outbox o WHERE o.household_id = h.id "
               "AND o.kind = 'visits' AND o.status != 'rejected' ORDER BY o.created_at DESC LIMIT 1), "
               "h.server_state) AS state "
               "FROM households h WHERE 1=1")
        args: list = []
        if cell_id is not None:
            sql += " AND h.cell_id = ?"
            args.append(str(cell_id))
        if household_id is not None:
            sql += " AND h.id = ?"
            args.append(str(household_id))
        for word in search.lower().replace("-", " ").split():
            sql += " AND h.search LIKE ?"
            args.append(f"%{word}%")
        revisit = tuple(revisit_codes)
        marks = ",".join("?" * len(revisit)) or "''"
        if state_filter == "not_visited":
            sql = f"SELECT * FROM ({sql}) WHERE state = ''"
        elif state_filter == "revisit":
            sql = f"SELECT * FROM ({sql}) WHERE state IN ({marks})"
            args += revisit
        elif state_filter == "done":
            sql = f"SELECT * FROM ({sql}) WHERE state != '' AND state NOT IN ({marks})"
            args += revisit
        sql += " ORDER BY walk_order, building, room" if state_filter == "all" else " ORDER BY walk_order"
        with self._lock:
            rows = self.db.execute(sql, args).fetchall()
        out = []
        for r in rows:
            data = json.loads(r["data"])
            out.append(HouseholdRow(id=r["id"], cell_id=r["cell_id"], building=r["building"], room=r["room"],
                                    walk_order=r["walk_order"], state=r["state"] or "",
                                    address=str(data.get("address") or f"{r['building']}栋 {r['room']}"), data=data))
        return out

    def household(self, household_id: str) -> HouseholdRow | None:
        rows = self.households(household_id=str(household_id))
        return rows[0] if rows else None

    # -- outbox --------------------------------------------------------------------------------------------
    def outbox_add(self, kind: str, payload: dict) -> str:
        """Queue one record for upload and commit it to disk. Returns its id (a UUID made here)."""
        if kind not in OUTBOX_KINDS:
            raise ValueError(f"unknown outbox kind {kind!r}")
        payload = dict(payload)
        payload.setdefault("id", str(uuid.uuid4()))
        with self.transaction() as db:
            db.execute("INSERT INTO outbox (id, kind, payload, created_at, household_id) VALUES (?, ?, ?, ?, ?)",
                       (payload["id"], kind, json.dumps(payload, ensure_ascii=False), time.time(),
                        str(payload["household"]) if kind == "visits" and "household" in payload else None))
        return payload["id"]

    def visit_save(self, *, household: str, round: str, outcome: str, fix: Fix | None, leaflet: bool = False,
                   app_installed: bool = False, hotline_explained: bool = False, residents_met: int = 0,
                   key_groups_met: Iterable[str] = (), risk_note: str = "", corrects: str | None = None,
                   visit_id: str | None = None) -> str:
        """Save a visit in the outbox; when this returns the visit is on disk. No fix → no coordinates."""
        now = time.time()
        payload = {
            "id": visit_id or str(uuid.uuid4()), "household": household, "round": round, "outcome": outcome,
            "captured_at": _iso(now), "leaflet": bool(leaflet), "app_installed": bool(app_installed),
            "hotline_explained": bool(hotline_explained), "residents_met": int(residents_met),
            "key_groups_met": list(key_groups_met), "risk_note": risk_note,
            "lat": None, "lon": None, "accuracy_m": None, "fix_at": None, "provider": "", "mock_location": False,
        }
        if fix is not None:
            payload.update(lat=fix.lat, lon=fix.lon, accuracy_m=fix.accuracy_m, fix_at=_iso(fix.fix_at),
                           provider=fix.provider, mock_location=fix.mock)
        if corrects:
            payload["corrects"] = corrects
        return self.outbox_add("visits", payload)

    def report_save(self, *, kind: str, household: str | None, round: str | None, fix: Fix | None,
                    cell: str | None = None, note: str = "", **address) -> str:
        """A household report (new_household, wrong_location, vacant, demolished), queued like a visit."""
        payload = {"kind": kind, "household": household, "round": round, "cell": cell, "note": note,
                   "captured_at": _iso(time.time()), "lat": None, "lon": None, "accuracy_m": None, **address}
        if fix is not None:
            payload.update(lat=fix.lat, lon=fix.lon, accuracy_m=fix.accuracy_m)
        return self.outbox_add("household_reports", payload)

    def claim_save(self, *, cell: str, round: str) -> str:
        """A cell claimed offline; the server may refuse it if someone else already holds the cell."""
        return self.outbox_add("claims", {"cell": cell, "round": round, "claimed_at": _iso(time.time())})

    def outbox_pending(self, limit: int = 500) -> list[tuple[str, dict]]:
        with self._lock:
            rows = self.db.execute("SELECT kind, payload FROM outbox WHERE status = 'pending' "
                                   "ORDER BY created_at, rowid LIMIT ?", (limit,)).fetchall()
        return [(r[0], json.loads(r[1])) for r in rows]

    def outbox_mark_sent(self, ids: Iterable[str]) -> None:
        with self.transaction() as db:
            db.executemany("UPDATE outbox SET attempts = attempts + 1 WHERE id = ?", [(i,) for i in ids])

    def outbox_record_results(self, results: Iterable[dict]) -> None:
        """Store the server's answer per item. Items the server did not answer stay pending."""
        now = time.time()
        rows = []
        for r in results:
            status = r.get("status")
            if status not in (ACCEPTED, DUPLICATE, REJECTED):
                continue
            rows.append((status, r.get("code") or "", r.get("message") or "", now, str(r["id"])))
        with self.transaction() as db:
            # Never downgrade: a duplicate answer after an accepted one (lost response, retry) keeps "accepted".
            db.executemany("UPDATE outbox SET status = CASE WHEN status = 'accepted' AND ? = 'duplicate' "
                           "THEN 'accepted' ELSE ? END, code = ?, message = ?, answered_at = ? WHERE id = ?",
                           [(s, s, c, m, t, i) for s, c, m, t, i in rows])

    def outbox_retry(self, ids: Iterable[str] | None = None) -> int:
        """Put rejected items back in the queue (after the worker or the station fixed the cause)."""
        with self.transaction() as db:
            if ids is None:
                cur = db.execute("UPDATE outbox SET status = 'pending' WHERE status = 'rejected'")
            else:
                cur = db.executemany("UPDATE outbox SET status = 'pending' WHERE status = 'rejected' AND id = ?",
                                     [(i,) for i in ids])
            return cur.rowcount

    def outbox_counts(self) -> dict[str, int]:
        with self._lock:
            rows = self.db.execute("SELECT status, count(*) FROM outbox GROUP BY status").fetchall()
        counts = {PENDING: 0, ACCEPTED: 0, DUPLICATE: 0, REJECTED: 0}
        counts.update({r[0]: r[1] for r in rows})
        return counts

    def outbox_prune(self, *, keep_days: float = ANSWERED_KEEP_DAYS, now: float | None = None) -> int:
        """Forget items the server stored more than `keep_days` ago: the phone then holds no old GPS fixes; the
        server's own state of each household comes with every pull. Rejected and unanswered items stay."""
        cutoff = (now or time.time()) - keep_days * 86400
        with self.transaction() as db:
            return db.execute("DELETE FROM outbox WHERE status IN (?, ?) AND answered_at < ?",
                              (ACCEPTED, DUPLICATE, cutoff)).rowcount

    def outbox_unsent(self) -> dict[str, int]:
        """Items the server has not stored, by kind (pending, sent without an answer, or rejected)."""
        with self._lock:
            rows = self.db.execute("SELECT kind, count(*) FROM outbox WHERE status NOT IN (?, ?) GROUP BY kind",
                                   (ACCEPTED, DUPLICATE)).fetchall()
        counts = dict.fromkeys(OUTBOX_KINDS, 0)
        counts.update({r[0]: r[1] for r in rows})
        return counts

    def outbox_rejected(self) -> list[dict]:
        with self._lock:
            rows = self.db.execute("SELECT id, kind, payload, code, message FROM outbox WHERE status = 'rejected' "
                                   "ORDER BY created_at").fetchall()
        return [{"id": r[0], "kind": r[1], "payload": json.loads(r[2]), "code": r[3], "message": r[4]} for r in rows]

    def outbox_ids(self, kind: str = "visits") -> set[str]:
        with self._lock:
            return {r[0] for r in self.db.execute("SELECT id FROM outbox WHERE kind = ?", (kind,))}

    def visits_for(self, household_id: str) -> list[dict]:
        """This phone's visits to a household, newest first, with their upload status."""
        with self._lock:
            rows = self.db.execute("SELECT payload, status, message FROM outbox WHERE household_id = ? "
                                   "AND kind = 'visits' ORDER BY created_at DESC", (str(household_id),)).fetchall()
        return [dict(json.loads(r[0]), _status=r[1], _message=r[2]) for r in rows]


def _iso(epoch: float) -> str:
    """ISO 8601 in UTC with milliseconds; the server keeps device time and its own receive time side by side."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch)) + f".{int(epoch % 1 * 1000):03d}+00:00"
