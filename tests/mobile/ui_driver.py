"""Drives the real Kivy app in a real window (under Xvfb in tests): sign in, open a cell, log visits by tapping,
sync, settings; saves a PNG of each screen. Run by test_ui_screens.py; prints one JSON line of checks at the end.

    python tests/mobile/ui_driver.py --out var/test-artifacts/mobile \
        [--server http://127.0.0.1:8000 --user demo-worker --password qiaomen-demo]
"""

import argparse
import json
import os
import shutil
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "mobile"))
sys.path.insert(0, ROOT)

args = argparse.ArgumentParser()
args.add_argument("--out", default=os.path.join(ROOT, "var", "test-artifacts", "mobile"))
args.add_argument("--server", default="")
args.add_argument("--user", default="demo-worker")
args.add_argument("--password", default="pw")
args.add_argument("--size", default="720x1280")
opts = args.parse_args()

os.environ.setdefault("KIVY_NO_ARGS", "1")
os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")
os.environ.setdefault("KIVY_HOME", tempfile.mkdtemp(prefix="kivy-home-"))
from kivy.config import Config  # noqa: E402

w, _, h = opts.size.partition("x")
Config.set("graphics", "width", w)
Config.set("graphics", "height", h)
Config.set("kivy", "exit_on_escape", "0")

from kivy.clock import Clock  # noqa: E402
from kivy.core.window import Window  # noqa: E402
from kivy.tests.common import UnitTestTouch  # noqa: E402
from qiaomen_field.app import QiaomenFieldApp  # noqa: E402

os.makedirs(opts.out, exist_ok=True)
data_dir = tempfile.mkdtemp(prefix="qiaomen-ui-")
if opts.server:
    from qiaomen_field.transport import HttpTransport as factory

    server = None
else:
    from tests.mobile.fakes import FakeServer

    server = FakeServer()
    server.not_assigned.add("1001")  # one visit the server will refuse, to show on the sync screen
    factory = server.transport

app = QiaomenFieldApp(data_dir=data_dir, transport_factory=factory, location_setting="fixed:32.3032,118.3035")
checks: dict = {"screens": []}


def tap(widget):
    x, y = widget.to_window(widget.center_x, widget.center_y)
    t = UnitTestTouch(x, y)
    t.touch_down()
    t.touch_up()


def shot(name):
    tmp = tempfile.mkdtemp()
    path = Window.screenshot(name=os.path.join(tmp, "s.png"))
    dest = os.path.join(opts.out, f"mobile-{name}.png")
    shutil.move(path, dest)
    checks["screens"].append(name)


def find(root, cls_name, pred=lambda w: True):
    for w in root.walk():
        if type(w).__name__ == cls_name and pred(w):
            return w
    return None


def screen():
    return app.sm.current_screen


def steps():
    s = screen()
    assert s.name == "signin", s.name
    s.ids.server.text = opts.server or "http://fake"
    s.ids.username.text = opts.user
    s.ids.password.text = opts.password
    yield 0.3
    shot("signin")
    tap(s.ids.submit)
    yield lambda: app.sm.current == "today" and find(screen(), "CellCard") is not None
    yield 0.5
    shot("today")
    checks["cells"] = len([w for w in screen().walk() if type(w).__name__ == "CellCard"])
    tap(find(screen(), "CellCard"))
    yield lambda: app.sm.current == "walklist" and find(screen(), "HouseholdLine") is not None
    yield 0.5
    shot("walklist")
    checks["walk_rows"] = len(screen().ids.rv.data)
    tap(find(screen(), "FilterButton", lambda b: b.text == app.tr("filter_not_visited")))
    yield 0.4
    for n in range(2):  # two visits by tapping: the first accepted, the second (1001 in the fake) rejected
        rows = sorted((w for w in screen().walk() if type(w).__name__ == "HouseholdLine"), key=lambda w: -w.y)
        target = next((r for r in rows if r.state_text == app.tr("state_")), None)
        assert target is not None, [r.state_text for r in rows]
        tap(target)
        yield lambda: app.sm.current == "household"
        yield 0.3
        if n == 0:
            shot("household")
        tap(find(screen(), "BigButton", lambda b: b.text == app.tr("new_visit")))
        yield lambda: app.sm.current == "visit"
        tap(screen().ids.leaflet)
        tap(screen().ids.hotline_explained)
        tap(find(screen(), "FlatButton", lambda b: b.text == "+"))
        yield 0.4
        if n == 0:
            shot("visit")
        tap(find(screen(), "OutcomeButton", lambda b: b.code == "reached"))
        yield lambda: app.sm.current == "walklist"
        yield 0.4
    shot("saved")
    checks["banner"] = app.banner
    tap(find(screen(), "BarButton", lambda b: b.text == app.tr("map")))
    yield lambda: app.sm.current == "cellmap"
    yield 0.6
    shot("map")
    if server is not None:  # the server goes away: a visit is still saved, and waits on the sync screen
        yield lambda: app.session.pending_count() == 0
        server.offline = True
        app.go("walklist")
        yield 0.3
        rows = sorted((w for w in screen().walk() if type(w).__name__ == "HouseholdLine"), key=lambda w: -w.y)
        tap(next(r for r in rows if r.household_id not in server.not_assigned))
        yield lambda: app.sm.current == "household"
        tap(find(screen(), "BigButton", lambda b: b.text == app.tr("new_visit")))
        yield lambda: app.sm.current == "visit"
        tap(find(screen(), "OutcomeButton", lambda b: b.code == "nobody_home"))
        yield lambda: app.sm.current == "walklist"
        app.go("sync")
        yield lambda: app.sync_status.startswith(app.tr("sync_offline", s="")[:6])
        yield 0.3
        shot("sync-offline")
        checks["pending_offline"] = app.session.pending_count()
        server.offline = False
    app.go("today")
    yield 0.2
    tap(find(screen(), "BarButton", lambda b: b.text.startswith(app.tr("sync"))))
    yield lambda: app.sm.current == "sync"
    tap(find(screen(), "BigButton", lambda b: b.text == app.tr("sync_now")))
    yield lambda: app.session.pending_count() == 0 and app.session.store.outbox_counts()["accepted"] >= 1
    yield 1.0
    screen().show()
    yield 0.4
    shot("sync")
    checks["outbox"] = app.session.store.outbox_counts()
    checks["server_visits"] = len(server.visits) if server else None
    app.go("settings")
    yield 0.3
    shot("settings")
    tap(find(screen(), "FilterButton", lambda b: b.text == "English"))
    yield 0.3
    app.go("walklist")
    yield 0.5
    shot("walklist-en")
    checks["font"] = app.font_path
    app.stop()


gen = None


def pump(_dt):
    global gen
    wait_until = time.time()
    try:
        value = next(gen)
    except StopIteration:
        return
    if callable(value):
        deadline = time.time() + 20

        def poll(_dt):
            if value():
                Clock.schedule_once(pump, 0.05)
            elif time.time() > deadline:
                checks["error"] = f"timed out waiting on {app.sm.current}"
                app.stop()
            else:
                Clock.schedule_once(poll, 0.1)

        poll(0)
    else:
        Clock.schedule_once(pump, max(0.0, wait_until + float(value) - time.time()))


def start(_dt):
    global gen
    gen = steps()
    pump(0)


def guard(_dt):
    checks["error"] = "driver took too long"
    app.stop()


Clock.schedule_once(start, 1.0)
Clock.schedule_once(guard, 120)
try:
    app.run()
except Exception as err:  # noqa: BLE001
    checks["error"] = repr(err)
print(json.dumps(checks, ensure_ascii=False, default=str))
sys.exit(1 if "error" in checks else 0)
