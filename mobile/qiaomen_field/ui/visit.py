"""Visit form: tick what was done, then one tap on an outcome saves. GPS status shows accuracy and the age of the
fix; with no fix the visit is saved anyway with the best fix known, and the banner says so."""

from kivy.app import App
from kivy.clock import Clock
from kivy.properties import BooleanProperty, ListProperty, NumericProperty, StringProperty
from kivy.uix.button import Button
from kivy.uix.screenmanager import Screen
from kivy.uix.togglebutton import ToggleButton

from qiaomen_field import i18n
from qiaomen_field.field_session import KEY_GROUPS, key_group_label, short_address

COLOURS = {"reached": (0.16, 0.55, 0.25, 1), "revisit": (0.85, 0.50, 0.05, 1), "excluded": (0.45, 0.45, 0.45, 1)}


class OutcomeButton(Button):
    code = StringProperty("")
    colour = ListProperty([0.3, 0.3, 0.3, 1])


class VisitScreen(Screen):
    household_id = StringProperty("")
    address = StringProperty("")
    gps_text = StringProperty("")
    gps_fresh = BooleanProperty(False)
    residents_met = NumericProperty(0)
    _ticker = None

    def show(self, household_id: str | None = None, **_):
        app = App.get_running_app()
        if household_id is not None:
            self.household_id = household_id
        h = app.session.store.household(self.household_id)
        self.address = short_address(h.address) if h else ""
        for key in ("leaflet", "app_installed", "hotline_explained"):
            self.ids[key].state = "normal"
        self.ids.note.text = ""
        self.residents_met = 0
        groups = self.ids.key_groups
        groups.clear_widgets()
        for code, _zh, _en in KEY_GROUPS:
            groups.add_widget(ToggleButton(text=key_group_label(code), size_hint_y=None, height=44,
                                           font_size="15sp", background_normal="", background_down="",
                                           background_color=(0.88, 0.88, 0.86, 1), color=(0.1, 0.1, 0.1, 1)))
            groups.children[0].group_code = code
            groups.children[0].bind(state=_toggle_colour)
        box = self.ids.outcomes
        box.clear_widgets()
        for c in app.session.outcome_codes():
            kind = "reached" if c.get("reached") else "excluded" if c.get("excluded") else "revisit"
            box.add_widget(OutcomeButton(text=i18n.label(c), code=c["code"], colour=COLOURS[kind],
                                         on_release=lambda b: self.save(b.code)))
        self.update_gps()

    def on_enter(self, *_):
        self._ticker = Clock.schedule_interval(lambda _dt: self.update_gps(), 1.0)

    def on_leave(self, *_):
        if self._ticker:
            self._ticker.cancel()

    def update_gps(self):
        session = App.get_running_app().session
        self.gps_text = session.gps_status()
        fix = session.location.best_fix()
        self.gps_fresh = fix is not None and fix.age_s() <= session.location.fresh_s

    def save(self, outcome: str):
        app = App.get_running_app()
        result = app.session.save_visit(
            household_id=self.household_id, outcome=outcome, leaflet=self.ids.leaflet.state == "down",
            app_installed=self.ids.app_installed.state == "down",
            hotline_explained=self.ids.hotline_explained.state == "down", residents_met=int(self.residents_met),
            key_groups_met=[w.group_code for w in self.ids.key_groups.children if w.state == "down"],
            risk_note=self.ids.note.text.strip())
        app.banner = result.message
        app.go("walklist")


def _toggle_colour(button, state):
    button.background_color = (0.85, 0.5, 0.05, 1) if state == "down" else (0.88, 0.88, 0.86, 1)
    button.color = (1, 1, 1, 1) if state == "down" else (0.1, 0.1, 0.1, 1)
