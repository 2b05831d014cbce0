"""Sign-in: server address, user, password. Registers the device once; the network call runs off the main thread."""

import threading

from kivy.app import App
from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.screenmanager import Screen

from qiaomen_field.i18n import tr
from qiaomen_field.transport import OfflineError, TransportError


class SignInScreen(Screen):
    message = StringProperty("")
    busy = BooleanProperty(False)

    def show(self, message: str = "", **_):
        app = App.get_running_app()
        self.ids.server.text = self.ids.server.text or app.default_server()
        self.ids.username.text = self.ids.username.text or (app.session.store.meta_get("username") or "")
        self.message = message

    def submit(self):
        app = App.get_running_app()
        server, user, password = self.ids.server.text, self.ids.username.text, self.ids.password.text
        self.busy, self.message = True, tr("signing_in")

        def work():
            try:
                app.session.sign_in(server=server, username=user, password=password)
                error = ""
            except OfflineError:
                error = tr("sign_in_offline")
            except TransportError as err:
                error = tr("sign_in_failed", error=str(err))
            from qiaomen_field.app import main_thread

            main_thread(self._done, error)

        threading.Thread(target=work, name="sign-in", daemon=True).start()

    def _done(self, error: str):
        app = App.get_running_app()
        self.busy = False
        self.ids.password.text = ""
        if error:
            self.message = error
            return
        self.message = ""
        app.session.start_background()
        app.go("today")
