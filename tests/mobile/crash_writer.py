"""Saves visits in a loop and prints `saved <id>` after each save returns; the crash test kills it with SIGKILL."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "mobile"))

from qiaomen_field.location import Fix  # noqa: E402
from qiaomen_field.store import Store  # noqa: E402

store = Store(sys.argv[1])
print("ready", flush=True)
i = 0
while True:
    i += 1
    vid = store.visit_save(household=str(1000 + i % 12), round="1", outcome="reached",
                           fix=Fix(32.301, 118.301, 5.0, 1.8e9), risk_note="x" * (i % 200))
    # Written only after visit_save returned, i.e. after the commit: what the UI would call "saved".
    os.write(1, f"saved {vid}\n".encode())
