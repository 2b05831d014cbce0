"""Sync: last sync, how much is waiting, each rejected item with the server's own message, retry."""

from kivy.app import App
from kivy.properties import NumericProperty, StringProperty
from kivy.uix.screenmanager import Screen

from qiaomen_field import i18n
from qiaomen_field.i18n import tr


class SyncScreen(Screen):
    last_sync = StringProperty("")
    rejected_text = StringProperty("")
    rejected_count = NumericProperty(0)

    def show(self, **_):
        app = App.get_running_app()
        session = app.session
        self.last_sync = session.last_sync_text()
        error = session.store.meta_get("last_error")
        if error and not app.sync_status:
            app.sync_status = error
        rejected = session.store.outbox_rejected()
        self.rejected_count = len(rejected)
        codes = {c["code"]: c for c in session.outcome_codes()}
        lines = []
        for item in rejected:
            p = item["payload"]
            what = p.get("household", "")
            h = session.store.household(str(what)) if what else None
            if item["kind"] == "visits":
                outcome = i18n.label(codes.get(p.get("outcome"), {"code": p.get("outcome", "")}))
            else:
                outcome = tr(f"kind_{item['kind']}") + (f" · {p['kind']}" if p.get("kind") else "")
            lines.append(f"{h.address if h else what} · {outcome}\n   {item['message'] or item['code']}")
        self.rejected_text = "\n\n".join(lines) or tr("no_rejected")

    def sync_now(self):
        App.get_running_app().session.sync_now()

    def retry(self):
        session = App.get_running_app().session
        session.store.outbox_retry()
        session.sync_now()
        self.show()
