"""Cell map drawn by the app itself, offline: the cell polygon, households coloured by state, my position with its
accuracy circle. No web tiles: a village has no signal, and a base map would need GCJ-02 shifting anyway.
Coordinates are WGS-84, projected locally (equirectangular around the cell's centre, fine at a cell's size)."""

import math

from kivy.app import App
from kivy.clock import Clock
from kivy.core.text import Label as CoreLabel
from kivy.graphics import Color, Ellipse, Line, Mesh, Rectangle
from kivy.graphics.tesselator import TYPE_POLYGONS, WINDING_ODD, Tesselator
from kivy.metrics import dp
from kivy.properties import StringProperty
from kivy.uix.screenmanager import Screen
from kivy.uix.widget import Widget

from qiaomen_field.field_session import NOT_VISITED, REACHED, REVISIT, state_style

ME = (0.60, 0.20, 0.80)  # my position: purple, unlike any household state


def polygon_rings(geom) -> list[list[tuple[float, float]]]:
    """Outer rings (lon, lat) of a GeoJSON Polygon/MultiPolygon, or of a bare ring list."""
    if not geom:
        return []
    if isinstance(geom, dict):
        if geom.get("type") == "Polygon":
            return [[tuple(p[:2]) for p in geom["coordinates"][0]]]
        if geom.get("type") == "MultiPolygon":
            return [[tuple(p[:2]) for p in poly[0]] for poly in geom["coordinates"]]
        if geom.get("type") == "Feature":
            return polygon_rings(geom.get("geometry"))
    return []


def household_point(data: dict) -> tuple[float, float] | None:
    if data.get("lon") is not None and data.get("lat") is not None:
        return float(data["lon"]), float(data["lat"])
    loc = data.get("location")
    if isinstance(loc, dict) and loc.get("coordinates"):
        return float(loc["coordinates"][0]), float(loc["coordinates"][1])
    return None


def _by_point(points):
    groups: dict = {}
    for (lon, lat), colour in points:
        groups.setdefault((round(lon, 6), round(lat, 6)), []).append(tuple(colour))
    return groups.items()


def _priority(colours):
    for wanted in (NOT_VISITED, REVISIT, REACHED):
        if tuple(wanted) in colours:
            return wanted
    return colours[0]


class CellMap(Widget):
    def __init__(self, **kw):
        super().__init__(**kw)
        self.rings, self.points, self.me = [], [], None
        self.bind(pos=self.redraw, size=self.redraw)

    def set_data(self, rings, points, me):
        self.rings, self.points, self.me = rings, points, me
        self.redraw()

    def _projection(self):
        lons = [p[0] for r in self.rings for p in r] + [p[0] for p, _ in self.points]
        lats = [p[1] for r in self.rings for p in r] + [p[1] for p, _ in self.points]
        if not lons:
            return None
        kx = math.cos(math.radians(sum(lats) / len(lats)))
        x0, x1, y0, y1 = min(lons) * kx, max(lons) * kx, min(lats), max(lats)
        pad = dp(24)
        scale = min((self.width - 2 * pad) / max(x1 - x0, 1e-9), (self.height - 2 * pad) / max(y1 - y0, 1e-9))
        ox = self.x + (self.width - (x1 - x0) * scale) / 2
        oy = self.y + (self.height - (y1 - y0) * scale) / 2
        return lambda lon, lat: (ox + (lon * kx - x0) * scale, oy + (lat - y0) * scale), scale

    def redraw(self, *_):
        self.canvas.clear()
        proj = self._projection()
        with self.canvas:
            Color(1, 1, 1, 1)
            Mesh(vertices=[self.x, self.y, 0, 0, self.right, self.y, 0, 0, self.right, self.top, 0, 0,
                           self.x, self.top, 0, 0], indices=[0, 1, 2, 3], mode="triangle_fan")
            if proj is None:
                return
            to_xy, scale = proj
            for ring in self.rings:
                flat = [c for lon, lat in ring for c in to_xy(lon, lat)]
                tess = Tesselator()
                tess.add_contour(flat)
                if tess.tesselate(WINDING_ODD, TYPE_POLYGONS):
                    Color(0.70, 0.11, 0.11, 0.08)
                    for vertices, indices in tess.meshes:
                        Mesh(vertices=vertices, indices=indices, mode="triangle_fan")
                Color(0.70, 0.11, 0.11, 1)
                Line(points=flat, width=dp(1.5), close=True)
            # Households of one building share a point: one dot per point, sized by how many, coloured by what is
            # still to do there (not visited first, then revisits), with the count written on it.
            for (lon, lat), colours in _by_point(self.points):
                x, y = to_xy(lon, lat)
                r = dp(7) if len(colours) == 1 else min(dp(22), dp(9) + dp(2) * math.sqrt(len(colours)))
                Color(*_priority(colours))
                Ellipse(pos=(x - r, y - r), size=(2 * r, 2 * r))
                if len(colours) > 1:
                    label = CoreLabel(text=str(len(colours)), font_size=dp(12), bold=True)
                    label.refresh()
                    Color(1, 1, 1, 1)
                    Rectangle(texture=label.texture, size=label.texture.size,
                              pos=(x - label.texture.size[0] / 2, y - label.texture.size[1] / 2))
            if self.me is not None:
                x, y = to_xy(self.me.lon, self.me.lat)
                # metres → pixels: one degree of latitude is ~111 km
                acc = max(dp(10), self.me.accuracy_m / 111_000 * scale)
                Color(*ME, 0.18)
                Ellipse(pos=(x - acc, y - acc), size=(2 * acc, 2 * acc))
                Color(0.1, 0.1, 0.1, 1)
                Ellipse(pos=(x - dp(11), y - dp(11)), size=(dp(22), dp(22)))
                Color(*ME, 1)
                Ellipse(pos=(x - dp(8), y - dp(8)), size=(dp(16), dp(16)))


class CellMapScreen(Screen):
    cell_id = StringProperty("")
    title = StringProperty("")
    gps_text = StringProperty("")
    _ticker = None

    def show(self, cell_id: str | None = None, **_):
        if cell_id is not None:
            self.cell_id = cell_id
        self.refresh()

    def refresh(self):
        session = App.get_running_app().session
        cell = session.store.cell(self.cell_id) or {}
        self.title = str(cell.get("name") or "")
        codes = {c["code"]: c for c in session.outcome_codes()}
        points = []
        for h in session.walk_list(cell_id=self.cell_id):
            p = household_point(h.data)
            if p:
                points.append((p, state_style(h.state, codes)[1]))
        rings = polygon_rings(cell.get("geom") or cell.get("geometry") or cell.get("polygon"))
        self.ids.map.set_data(rings, points, session.location.best_fix())
        self.gps_text = session.gps_status()

    def on_enter(self, *_):
        self._ticker = Clock.schedule_interval(lambda _dt: self.refresh(), 2.0)

    def on_leave(self, *_):
        if self._ticker:
            self._ticker.cancel()
