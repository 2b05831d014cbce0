"""Household: address, the masked resident summary, key-group badges, the visits known to this phone."""

import time

from kivy.app import App
from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.label import Label
from kivy.uix.screenmanager import Screen

from qiaomen_field import i18n
from qiaomen_field.field_session import key_group_label, resident_count, resident_groups, state_style
from qiaomen_field.i18n import tr
from qiaomen_field.store import household_round_entry


class HouseholdScreen(Screen):
    household_id = StringProperty("")
    address = StringProperty("")
    summary = StringProperty("")
    state_text = StringProperty("")
    history = StringProperty("")
    has_badges = BooleanProperty(False)

    def show(self, household_id: str | None = None, **_):
        if household_id is not None:
            self.household_id = household_id
        session = App.get_running_app().session
        h = session.store.household(self.household_id)
        if h is None:
            return
        self.address = h.address
        count = resident_count(h.data)
        self.summary = tr("residents", n=count) if count is not None else ""
        box = self.ids.badges
        box.clear_widgets()
        groups = resident_groups(h.data)
        for g in groups:
            box.add_widget(Label(text=key_group_label(g), color=(1, 1, 1, 1), size_hint_x=None,
                                 width=len(key_group_label(g)) * 20 + 24, font_size="15sp"))
            _paint(box.children[0])
        self.has_badges = bool(groups)
        codes = {c["code"]: c for c in session.outcome_codes()}
        self.state_text = state_style(h.state, codes)[0]
        lines = []
        for v in session.store.visits_for(self.household_id):
            when = _local_time(v.get("captured_at", ""))
            label = i18n.label(codes.get(v["outcome"], {"code": v["outcome"]}))
            done = [tr(k) for k in ("leaflet", "app_installed", "hotline_explained") if v.get(k)]
            line = f"[{tr('status_' + v['_status'])}] {when}  {label}"
            if done:
                line += "\n    " + "、".join(done)
            if v["_status"] == "rejected":
                line += f"\n    {v['_message']}"
            lines.append(line)
        state = household_round_entry(h.data).get("state") or h.data.get("visit_state")
        if isinstance(state, dict) and state.get("outcome"):  # the server's view, all workers' visits included
            lines.append(tr("server_record", state=state_style(state["outcome"], codes)[0], n=state.get("visits", 1)))
        self.history = "\n".join(lines) or tr("no_visits")

    def report(self, kind: str):
        app = App.get_running_app()
        fix = app.session.location.best_fix()
        if kind == "wrong_location" and fix is None:
            app.banner = tr("report_needs_fix")
            return
        h = app.session.store.household(self.household_id)
        round_id = str(household_round_entry(h.data).get("round") or app.session.default_round_id()) if h else None
        app.session.store.report_save(kind=kind, household=self.household_id, round=round_id or None, fix=fix)
        app.banner = tr("report_saved")
        app.session.sync_now()
        app.go("walklist")


def _paint(label):
    from kivy.graphics import Color, RoundedRectangle

    with label.canvas.before:
        Color(0.85, 0.5, 0.05, 1)
        rect = RoundedRectangle(pos=label.pos, size=label.size, radius=[8])
    label.bind(pos=lambda w, v: setattr(rect, "pos", v), size=lambda w, v: setattr(rect, "size", v))


def _local_time(iso: str) -> str:
    try:
        from datetime import datetime

        return datetime.fromisoformat(iso).astimezone().strftime("%m-%d %H:%M")
    except ValueError:
        return iso or time.strftime("%m-%d %H:%M")
