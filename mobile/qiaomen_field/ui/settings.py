"""Settings: language, server address, sign out (wipes the phone's data, with a second tap if uploads wait)."""

from kivy.app import App
from kivy.properties import StringProperty
from kivy.uix.screenmanager import Screen

from qiaomen_field.i18n import tr


class SettingsScreen(Screen):
    location = StringProperty("")
    account = StringProperty("")
    warning = StringProperty("")
    location_kind = StringProperty("auto")  # auto/gps, track, fixed: which button is down

    def show(self, **_):
        app = App.get_running_app()
        session = app.session
        self.ids.server.text = session.server
        self.location = f"{session.location.name} ({session.location.status})"
        self.location_kind = app.location_setting.partition(":")[0].replace("gps", "auto")
        self.account = session.store.meta_get("display_name") or session.store.meta_get("username") or ""
        self.warning = ""

    def set_location(self, setting: str):
        App.get_running_app().set_location(setting)
        self.show()

    def save_server(self):
        value = self.ids.server.text.strip().rstrip("/")
        if value:
            App.get_running_app().session.store.meta_set(server=value)

    def sign_out(self):
        app = App.get_running_app()
        pending = app.session.pending_count()
        if pending and not self.warning:
            self.warning = tr("sign_out_pending", n=pending)  # a second tap confirms
            return
        app.session.sign_out()
        app.banner = ""
        app.go("signin")
