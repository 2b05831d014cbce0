"""An in-memory server speaking the sync wire contract, with knobs to misbehave (drop answers, go offline)."""

from __future__ import annotations

import copy
import uuid

from qiaomen_field.transport import AuthError, OfflineError


def square(lon: float, lat: float, size: float) -> dict:
    ring = [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]
    return {"type": "Polygon", "coordinates": [ring]}


def make_scope(cells: int = 2, per_cell: int = 6) -> dict:
    rounds = [{"id": 1, "campaign": 7, "number": 1, "name": "琅琊区敲门行动", "status": "open",
               "starts_on": "2026-11-01", "ends_on": "2026-11-30"}]
    codes = [{"campaign": 7, "code": c, "label": lab, "label_en": en, "reached": r, "revisit": v, "excluded": x,
              "order": i} for i, (c, lab, en, r, v, x) in enumerate([
                  ("reached", "见面宣传", "Reached", True, False, False),
                  ("nobody_home", "无人在家", "Nobody home", False, True, False),
                  ("refused", "拒访", "Refused", False, True, False),
                  ("vacant", "空置", "Vacant", False, False, True)])]
    cell_recs, households = [], []
    for c in range(cells):
        lon0 = 118.30 + c * 0.01
        cell_recs.append({"id": 100 + c, "code": f"341102001001{c:03d}", "name": f"向桥社区{c + 1}网格",
                          "round": 1, "geom": square(lon0, 32.30, 0.01)})
        for h in range(per_cell):
            households.append({
                "id": 1000 + c * per_cell + h, "cell": 100 + c, "building": str(h // 4 + 1),
                "unit": "1", "room": f"{(h % 4) + 1}01", "address": f"琅琊路{h // 4 + 1}栋{(h % 4) + 1}01室",
                "lat": 32.301 + 0.008 * (h % 4) / 4, "lon": lon0 + 0.001 + 0.008 * (h // 4) / 4,
                "status": "occupied", "walk_order": h, "visit_state": "",
                "residents": {"count": 3, "key_groups": ["elderly"] if h % 3 == 0 else []}})
    return {"rounds": rounds, "cells": cell_recs, "households": households, "outcome_codes": codes}


class FakeServer:
    """Change log with a sequence number per record; push deduplicated by id, with per-item rules."""

    def __init__(self, scope: dict | None = None):
        self.log: list[tuple[int, str, str, dict | None]] = []  # (seq, kind, id, record or None for deletion)
        self.visits: dict[str, dict] = {}
        self.push_calls = 0
        self.pull_calls = 0
        self.offline = False
        self.lose_next_answers = 0  # apply the push, then fail as if the answer was lost
        self.fail_pulls_after = None  # raise OfflineError after this many pull pages
        self.revoked = False
        self.wipe_confirmations: list[dict] = []
        self.closed_rounds: set[str] = set()
        self.not_assigned: set[str] = set()  # households the server says this worker no longer holds
        for kind, records in (scope or make_scope()).items():
            for r in records:
                self.upsert(kind, r)

    def upsert(self, kind: str, record: dict) -> None:
        rid = f"{record.get('campaign', '')}:{record['code']}" if kind == "outcome_codes" else str(record["id"])
        self.log.append((len(self.log) + 1, kind, rid, copy.deepcopy(record)))

    def delete(self, kind: str, rid) -> None:
        self.log.append((len(self.log) + 1, kind, str(rid), None))

    def households(self) -> dict[str, dict]:
        state: dict[str, dict] = {}
        for _, kind, rid, rec in self.log:
            if kind == "households":
                if rec is None:
                    state.pop(rid, None)
                else:
                    state[rid] = rec
        return state

    def transport(self, base_url: str = "http://fake", *, token=None, **_):
        return FakeTransport(self, token=token)


class FakeTransport:
    def __init__(self, server: FakeServer, token=None):
        self.server = server
        self.token = token

    def _check(self):
        if self.server.offline:
            raise OfflineError("server unreachable: connection refused")
        if self.server.revoked:
            raise AuthError("device revoked", status=401, body={"code": "device_revoked", "wipe": True})

    def register_device(self, *, username, password, device_id, device_name):
        self._check()
        if password != "pw":
            from qiaomen_field.transport import ProtocolError

            raise ProtocolError("用户名或密码错误", status=400)
        self.token = f"tok-{uuid.uuid4().hex[:8]}"
        return {"token": self.token, "expires_at": "2027-01-01T00:00:00Z", "user": {"username": username}}

    def confirm_wiped(self, *, discarded):
        if self.server.offline:
            raise OfflineError("server unreachable: connection refused")
        self.server.wipe_confirmations.append(dict(discarded))
        return {"code": "wiped"}

    def pull(self, *, cursor, limit=500):
        self._check()
        s = self.server
        s.pull_calls += 1
        if s.fail_pulls_after is not None and s.pull_calls > s.fail_pulls_after:
            raise OfflineError("connection reset during pull")
        start = int(cursor or 0)
        page = [e for e in s.log if e[0] > start][:limit]
        changes: dict[str, list] = {}
        deleted: dict[str, list] = {}
        for _, kind, rid, rec in page:
            if rec is None:
                deleted.setdefault(kind, []).append(rid)
            else:
                changes.setdefault(kind, []).append(rec)
        end = page[-1][0] if page else start
        return {"cursor": str(end), "has_more": end < len(s.log), "changes": changes, "deleted": deleted}

    def push(self, batch):
        self._check()
        s = self.server
        s.push_calls += 1
        held = set(s.households())
        results = []
        for v in batch.get("visits", []):
            if v["id"] in s.visits:
                results.append({"id": v["id"], "status": "duplicate", "code": "", "message": "已收到"})
            elif str(v["household"]) not in held or str(v["household"]) in s.not_assigned:
                results.append({"id": v["id"], "status": "rejected", "code": "not_assigned",
                                "message": "该住户不在您本轮负责的网格内"})
            elif str(v["round"]) in s.closed_rounds:
                results.append({"id": v["id"], "status": "rejected", "code": "round_closed", "message": "本轮已结束"})
            else:
                s.visits[v["id"]] = v
                results.append({"id": v["id"], "status": "accepted", "code": "", "message": ""})
        for kind in ("household_reports", "claims"):
            for item in batch.get(kind, []):
                results.append({"id": item["id"], "status": "accepted", "code": "", "message": ""})
        if s.lose_next_answers:
            s.lose_next_answers -= 1
            raise OfflineError("timed out waiting for the answer")
        return {"results": results, "server_time": "2026-11-05T10:00:00Z"}
