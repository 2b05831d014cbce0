"""Location providers on a desktop: track replay (GPX, NMEA), fixed point, and the fallback when plyer has no GPS."""

import os
import threading
import time

from qiaomen_field.location import (
    FixedPointProvider,
    LocationProvider,
    TrackReplayProvider,
    distance_m,
    make_provider,
    read_track,
)

TRACKS = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "tracks")


def test_gpx_and_nmea_tracks_agree():
    gpx = read_track(os.path.join(TRACKS, "around-langya.gpx"))
    nmea = read_track(os.path.join(TRACKS, "around-langya.nmea"))
    assert len(gpx) == len(nmea) == 60
    for (a_lat, a_lon, _), (b_lat, b_lon, _) in zip(gpx, nmea, strict=True):
        assert distance_m(a_lat, a_lon, b_lat, b_lon) < 1.0
    lat, lon, _ = gpx[0]
    assert 32.2 < lat < 32.4 and 118.2 < lon < 118.4


def test_track_replay_calls_back_through_the_scheduler():
    seen, threads = [], []

    def scheduler(fn, *args):
        threads.append(threading.current_thread().name)
        fn(*args)

    p = TrackReplayProvider(os.path.join(TRACKS, "around-langya.nmea"), interval_s=0.01, scheduler=scheduler)
    p.subscribe(seen.append)
    p.start()
    time.sleep(0.1)
    p.on_pause()
    n = len(seen)
    time.sleep(0.05)
    assert n >= 3 and len(seen) - n <= 1  # stopped in on_pause
    assert set(threads) == {"track-replay"}
    p.on_resume()
    time.sleep(0.05)
    p.stop()
    assert len(seen) > n
    assert p.best_fix().provider == "track" and p.best_fix().age_s() < 1


def test_plyer_not_implemented_on_desktop_falls_back():
    auto = make_provider("auto", tracks_dir=TRACKS)
    assert isinstance(auto, TrackReplayProvider)
    gps = make_provider("gps", tracks_dir=TRACKS)
    assert type(gps) is LocationProvider
    gps.start()
    assert gps.best_fix() is None and gps.status == "unavailable"


def test_fixed_point_setting():
    p = make_provider("fixed:32.305,118.305")
    assert isinstance(p, FixedPointProvider)
    p.start()
    assert (p.best_fix().lat, p.best_fix().lon) == (32.305, 118.305)
