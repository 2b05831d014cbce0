"""Test-only hook of the fault tests' server subprocesses: hold a push at a chosen point so the test can kill the
process exactly there. Inert unless QIAOMEN_FAULT_HOLD is set (tests/faults/server_settings.py adds it).

QIAOMEN_FAULT_HOLD=in_transaction  the batch is written, its transaction not yet committed
QIAOMEN_FAULT_HOLD=after_commit    committed, the answer not yet sent
QIAOMEN_FAULT_DIR                  where `<point>.json` is written ({"results": n, "accepted": n}) when the hold starts

The hold lasts until the process is killed (at most QIAOMEN_FAULT_HOLD_S, default 60 s, then it goes on).
"""

from __future__ import annotations

import json
import os
import time

from django.db import transaction

PUSH = "/api/v1/sync/push"


def _hold(point: str, results: list[dict] | None) -> None:
    answer = {"results": len(results or []), "accepted": sum(r.get("status") == "accepted" for r in results or [])}
    path = os.path.join(os.environ["QIAOMEN_FAULT_DIR"], f"{point}.json")
    with open(path + ".tmp", "w") as f:
        json.dump(answer, f)
    os.replace(path + ".tmp", path)
    deadline = time.monotonic() + float(os.environ.get("QIAOMEN_FAULT_HOLD_S", "60"))
    while time.monotonic() < deadline:
        time.sleep(0.05)


class FaultHoldMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.point = os.environ.get("QIAOMEN_FAULT_HOLD", "")
        if self.point == "in_transaction":
            from server.sync import services

            push = services.sync_push

            def held(**kwargs):
                with transaction.atomic():
                    results = push(**kwargs)
                    _hold("in_transaction", results)
                return results

            services.sync_push = held

    def __call__(self, request):
        response = self.get_response(request)
        if self.point == "after_commit" and request.method == "POST" and request.path == PUSH:
            _hold("after_commit", json.loads(response.content).get("results"))
        return response
