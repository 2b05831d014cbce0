"""Where the worker is: one interface, a provider per platform.

On Android/iOS plyer's GPS does the work; on a desktop plyer raises NotImplementedError, so a provider replays a
GPX or NMEA track (development, tests, demos) or reports a fixed point. Providers call back on whatever thread the
platform uses; the UI injects a `scheduler` that brings the call onto its main thread (Kivy's Clock).
GPS never blocks anything: the app asks `best_fix()` and saves with whatever it knows.
"""

from __future__ import annotations

import math
import os
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass

Scheduler = Callable[..., None]


def _direct(fn, *args):
    fn(*args)


@dataclass(frozen=True)
class Fix:
    """A WGS-84 position. `fix_at` is epoch seconds of the fix, not of the moment it is read."""

    lat: float
    lon: float
    accuracy_m: float
    fix_at: float
    provider: str = "gps"
    mock: bool = False

    def age_s(self, now: float | None = None) -> float:
        return max(0.0, (now or time.time()) - self.fix_at)


class LocationProvider:
    """Base: remembers the best recent fix and forwards fixes through the scheduler."""

    name = "none"
    fresh_s = 60.0  # a fix older than this is "stale": still saved, but the screen says how old it is

    def __init__(self, scheduler: Scheduler | None = None):
        self.scheduler = scheduler or _direct
        self.listeners: list[Callable[[Fix], None]] = []
        self.last_fix: Fix | None = None
        self.status = "off"  # off, waiting, ok, denied, unavailable

    def subscribe(self, fn: Callable[[Fix], None]) -> None:
        self.listeners.append(fn)

    def _emit(self, fix: Fix) -> None:
        self.last_fix = fix
        self.status = "ok"
        for fn in list(self.listeners):
            self.scheduler(fn, fix)

    def best_fix(self) -> Fix | None:
        return self.last_fix

    def start(self) -> None:
        self.status = "unavailable"

    def stop(self) -> None:
        pass

    # Android lifecycle: the GPS drains a battery in a pocket, so it runs only while the app is in front.
    def on_pause(self) -> None:
        self.stop()

    def on_resume(self) -> None:
        self.start()


class FixedPointProvider(LocationProvider):
    name = "fixed"

    def __init__(self, lat: float, lon: float, accuracy_m: float = 8.0, scheduler: Scheduler | None = None):
        super().__init__(scheduler)
        self.point = (lat, lon, accuracy_m)

    def start(self) -> None:
        lat, lon, acc = self.point
        self._emit(Fix(lat, lon, acc, time.time(), provider="fixed"))


def read_track(path: str) -> list[tuple[float, float, float]]:
    """Points (lat, lon, accuracy_m) of a GPX file or an NMEA log ($GPGGA/$GNGGA or $GPRMC lines)."""
    if path.lower().endswith(".gpx"):
        root = ET.parse(path).getroot()
        points = []
        for el in root.iter():
            if el.tag.endswith("trkpt") or el.tag.endswith("wpt"):
                hdop = next((c.text for c in el if c.tag.endswith("hdop")), None)
                points.append((float(el.get("lat")), float(el.get("lon")), float(hdop or 1.0) * 5.0))
        return points
    gga, rmc = [], []  # a log usually has both for each second: prefer GGA, which carries HDOP
    with open(path, encoding="ascii", errors="replace") as fh:
        for line in fh:
            fields = line.strip().split("*")[0].split(",")
            if fields[0][3:] == "GGA" and len(fields) > 8 and fields[2] and fields[6] != "0":
                gga.append((_nmea_deg(fields[2], fields[3]), _nmea_deg(fields[4], fields[5]),
                            float(fields[8] or 1.0) * 5.0))
            elif fields[0][3:] == "RMC" and len(fields) > 6 and fields[2] == "A":
                rmc.append((_nmea_deg(fields[3], fields[4]), _nmea_deg(fields[5], fields[6]), 10.0))
    return gga or rmc


def _nmea_deg(value: str, hemisphere: str) -> float:
    raw = float(value)
    deg = int(raw // 100)
    out = deg + (raw - deg * 100) / 60.0
    return -out if hemisphere in ("S", "W") else out


class TrackReplayProvider(LocationProvider):
    """Replays a recorded track, one point every `interval_s`, looping; fixes are stamped with the current time."""

    name = "track"

    def __init__(self, path: str, interval_s: float = 1.0, scheduler: Scheduler | None = None):
        super().__init__(scheduler)
        self.points = read_track(path)
        if not self.points:
            raise ValueError(f"no positions in {path}")
        self.interval_s = interval_s
        self._index = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def step(self) -> Fix:
        lat, lon, acc = self.points[self._index % len(self.points)]
        self._index += 1
        fix = Fix(lat, lon, acc, time.time(), provider="track")
        self._emit(fix)
        return fix

    def start(self) -> None:
        if self._thread and self._thread.is_alive():
            return
        self._stop.clear()
        self.status = "waiting"
        self._thread = threading.Thread(target=self._run, name="track-replay", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.step()
            self._stop.wait(self.interval_s)

    def stop(self) -> None:
        self._stop.set()
        self.status = "off"


class PlyerProvider(LocationProvider):
    """The phone's GPS through plyer. Asks for the runtime permission on Android before starting."""

    name = "gps"

    def __init__(self, scheduler: Scheduler | None = None, min_time_ms: int = 1000, min_distance_m: float = 1):
        super().__init__(scheduler)
        from plyer import gps  # raises nothing here; configure() raises NotImplementedError on a desktop

        self.gps = gps
        self.gps.configure(on_location=self._on_location, on_status=self._on_status)
        self.min_time_ms, self.min_distance_m = min_time_ms, min_distance_m
        self._started = False

    def _on_location(self, **kw) -> None:
        if "lat" not in kw:
            return
        accuracy = float(kw.get("accuracy") or kw.get("horizontal_accuracy") or 0.0) or 50.0
        self._emit(Fix(float(kw["lat"]), float(kw["lon"]), accuracy, time.time(), provider="gps",
                       mock=bool(kw.get("is_mock") or kw.get("mock"))))

    def _on_status(self, stype, status) -> None:
        if stype == "provider-disabled":
            self.status = "unavailable"

    def start(self) -> None:
        if _is_android():
            from android.permissions import Permission, check_permission, request_permissions  # noqa: I001

            if not check_permission(Permission.ACCESS_FINE_LOCATION):
                self.status = "waiting"
                request_permissions([Permission.ACCESS_FINE_LOCATION, Permission.ACCESS_COARSE_LOCATION],
                                    self._on_permissions)
                return
        self._really_start()

    def _on_permissions(self, permissions, grants) -> None:
        if all(grants):
            self.scheduler(self._really_start)
        else:
            self.status = "denied"

    def _really_start(self) -> None:
        self.gps.start(minTime=self.min_time_ms, minDistance=self.min_distance_m)
        self._started = True
        if self.status != "ok":
            self.status = "waiting"

    def stop(self) -> None:
        if self._started:
            self.gps.stop()
            self._started = False


def _is_android() -> bool:
    return "ANDROID_ARGUMENT" in os.environ or "ANDROID_PRIVATE" in os.environ


def make_provider(setting: str, *, scheduler: Scheduler | None = None, tracks_dir: str = "") -> LocationProvider:
    """`setting`: 'gps', 'fixed:<lat>,<lon>', 'track:<file>' (a name in fixtures/tracks or a path), or 'auto'
    (plyer where it works, else the demo track, else nothing). The dummy is chosen last."""
    if setting in ("auto", "gps"):
        try:
            return PlyerProvider(scheduler=scheduler)
        except (NotImplementedError, ImportError, ModuleNotFoundError):
            if setting == "gps":
                return LocationProvider(scheduler)
        setting = "track:around-langya.gpx"
    if setting.startswith("fixed:"):
        lat, lon = (float(v) for v in setting[6:].split(","))
        return FixedPointProvider(lat, lon, scheduler=scheduler)
    if setting.startswith("track:"):
        path = setting[6:]
        if not os.path.isabs(path):
            path = os.path.join(tracks_dir, path)
        if os.path.exists(path):
            return TrackReplayProvider(path, scheduler=scheduler)
    return LocationProvider(scheduler)


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    r = 6371000.0
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))
