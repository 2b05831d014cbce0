"""The Kivy application: wires the core (store, sync, location) to the screens and the phone's lifecycle.

Desktop settings come from the environment: QIAOMEN_FIELD_HOME (where the SQLite file lives), QIAOMEN_SERVER
(pre-filled on the sign-in screen), QIAOMEN_LOCATION ('auto', 'gps', 'fixed:<lat>,<lon>', 'track:<file>'),
QIAOMEN_WINDOW ('450x800').
"""

from __future__ import annotations

import glob
import os

from kivy.app import App
from kivy.clock import Clock
from kivy.lang import Builder
from kivy.properties import NumericProperty, StringProperty
from kivy.uix.screenmanager import NoTransition, ScreenManager

from qiaomen_field import i18n
from qiaomen_field.field_session import DEFAULT_SERVER, FieldSession
from qiaomen_field.location import make_provider
from qiaomen_field.store import Store
from qiaomen_field.transport import HttpTransport
from qiaomen_field.ui.fonts import register_cjk_font

UI_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ui")
REPO_TRACKS = os.path.normpath(os.path.join(UI_DIR, "..", "..", "..", "fixtures", "tracks"))


def main_thread(fn, *args) -> None:
    """Scheduler handed to the core: runs `fn` on Kivy's main thread at the next frame."""
    Clock.schedule_once(lambda _dt: fn(*args), 0)


class QiaomenFieldApp(App):
    title = "敲门 Qiaomen"
    lang = StringProperty("zh")  # kv rules pass it to app.tr() so every text re-renders on a language switch
    banner = StringProperty("")
    sync_status = StringProperty("")
    pending = NumericProperty(0)

    def __init__(self, *, data_dir: str | None = None, transport_factory=HttpTransport,
                 location_setting: str | None = None, **kwargs):
        super().__init__(**kwargs)
        self._data_dir = data_dir
        self._transport_factory = transport_factory
        self._location_setting = location_setting
        self.session: FieldSession | None = None

    # -- build ---------------------------------------------------------------------------------------------
    def build(self):
        self.font_path = register_cjk_font()
        others = sorted(p for p in glob.glob(os.path.join(UI_DIR, "*.kv")) if not p.endswith("common.kv"))
        for kv in [os.path.join(UI_DIR, "common.kv"), *others]:  # common styles first, the screens use them
            Builder.load_file(kv)
        data_dir = self._data_dir or os.environ.get("QIAOMEN_FIELD_HOME") or self.user_data_dir
        store = Store(os.path.join(data_dir, "field.sqlite3"))
        setting = self._location_setting or store.meta_get("location") or os.environ.get("QIAOMEN_LOCATION", "auto")
        provider = make_provider(setting, scheduler=main_thread, tracks_dir=REPO_TRACKS)
        self.location_setting = setting
        self.session = FieldSession(store, provider, transport_factory=self._transport_factory,
                                    scheduler=main_thread, notify=self.on_sync_event)
        if not store.meta_get("server") and os.environ.get("QIAOMEN_SERVER"):
            store.meta_set(server=os.environ["QIAOMEN_SERVER"])
        self.lang = i18n.language()

        from qiaomen_field.ui import screens  # the screen classes; imported here, after the kv rules

        self.sm = ScreenManager(transition=NoTransition())  # no animations: cheap phones, one thumb
        for cls in screens.ALL:
            self.sm.add_widget(cls())
        if self.session.signed_in:
            self.go("today")
            self.session.start_background()
        else:
            self.go("signin")
        provider.start()
        Clock.schedule_interval(lambda _dt: self.refresh_counts(), 2.0)
        return self.sm

    def on_banner(self, _app, value: str) -> None:
        # A save message stays long enough to read, then gets out of the way of the list.
        if value:
            Clock.unschedule(self._clear_banner)
            Clock.schedule_once(self._clear_banner, 8)

    def _clear_banner(self, _dt) -> None:
        self.banner = ""

    # -- helpers used by the kv rules ----------------------------------------------------------------------
    def tr(self, key: str, _lang: str | None = None, **kw) -> str:
        return i18n.tr(key, **kw)

    def go(self, name: str, **kwargs) -> None:
        screen = self.sm.get_screen(name)
        if hasattr(screen, "show"):
            screen.show(**kwargs)
        self.sm.current = name
        self.refresh_counts()

    def refresh_counts(self) -> None:
        if self.session:
            self.pending = self.session.pending_count()

    def set_language(self, code: str) -> None:
        self.session.set_language(code)
        self.lang = i18n.language()
        self.banner = ""
        current = self.sm.current_screen
        if hasattr(current, "show"):
            current.show()

    def set_location(self, setting: str) -> None:
        """Switch the location provider (settings screen); remembered in the store for the next start."""
        old = self.session.location
        old.stop()
        self.session.location = make_provider(setting, scheduler=main_thread, tracks_dir=REPO_TRACKS)
        self.session.store.meta_set(location=setting)
        self.location_setting = setting
        self.session.location.start()

    def default_server(self) -> str:
        return self.session.store.meta_get("server") or os.environ.get("QIAOMEN_SERVER") or DEFAULT_SERVER

    # -- sync events (already on the main thread) ----------------------------------------------------------
    def on_sync_event(self, event: str, payload) -> None:
        if event == "started":
            self.sync_status = i18n.tr("syncing")
        elif event == "done":
            self.sync_status = i18n.tr("sync_done", pushed=payload.pushed, rejected=payload.rejected)
        elif event in ("offline", "error"):
            self.sync_status = i18n.sync_failed(payload)
        elif event == "revoked":
            self.session.stop_background()
            self.banner = i18n.tr("revoked")
            self.go("signin", message=i18n.tr("revoked"))
            return
        elif event == "auth":
            self.session.stop_background()
            self.go("signin", message=str(payload))
            return
        self.refresh_counts()
        current = self.sm.current_screen
        if event == "done" and hasattr(current, "show") and current.name in ("today", "sync", "walklist"):
            current.show()

    # -- lifecycle -----------------------------------------------------------------------------------------
    def on_pause(self):
        self.session.location.on_pause()
        return True

    def on_resume(self):
        self.session.location.on_resume()
        if self.session.signed_in:
            self.session.sync_now()

    def on_stop(self):
        if self.session:
            self.session.location.stop()
            self.session.stop_background()


def main() -> None:
    QiaomenFieldApp().run()
