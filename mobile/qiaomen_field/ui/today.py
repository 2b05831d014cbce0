"""Today: the open rounds, my cells with a progress bar each, what is waiting to upload."""

from kivy.app import App
from kivy.properties import NumericProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.label import Label
from kivy.uix.screenmanager import Screen

from qiaomen_field.i18n import tr


class CellCard(ButtonBehavior, BoxLayout):
    cell_id = StringProperty("")
    title = StringProperty("")
    subtitle = StringProperty("")
    progress_text = StringProperty("")
    total = NumericProperty(0)
    done = NumericProperty(0)

    def on_release(self):
        App.get_running_app().go("walklist", cell_id=self.cell_id)


class TodayScreen(Screen):
    def show(self, **_):
        session = App.get_running_app().session
        rounds = session.open_rounds()
        self.ids.rounds.text = "\n".join(
            tr("round_label", number=r.get("number", ""), name=r.get("name") or r.get("campaign_name") or "")
            + (f"  {r.get('starts_on', '')} – {r.get('ends_on', '')}" if r.get("starts_on") else "")
            for r in rounds) or "—"
        box = self.ids.cells
        box.clear_widgets()
        cells = session.cells()
        if not cells:
            box.add_widget(Label(text=tr("no_cells"), color=(0.4, 0.4, 0.4, 1), size_hint_y=None, height=80))
        for c in cells:
            box.add_widget(CellCard(cell_id=c.id, title=c.name, total=c.total, done=c.done,
                                    progress_text=tr("progress", done=c.done, total=c.total),
                                    subtitle=tr("households_n", n=c.total)))
