"""Walk list: the cell's households in walk order, fixed-height rows in a RecycleView (2,000 rows stay smooth),
filtered by state and searched by building or room."""

from kivy.app import App
from kivy.properties import ListProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.screenmanager import Screen

from qiaomen_field.i18n import tr


class HouseholdLine(ButtonBehavior, BoxLayout):
    household_id = StringProperty("")
    address = StringProperty("")
    detail = StringProperty("")
    order_text = StringProperty("")
    state_text = StringProperty("")
    state_color = ListProperty([0, 0, 0, 1])

    def on_release(self):
        App.get_running_app().go("household", household_id=self.household_id)


class WalkListScreen(Screen):
    cell_id = StringProperty("")
    title = StringProperty("")
    state_filter = StringProperty("all")
    count_text = StringProperty("")

    def show(self, cell_id: str | None = None, **_):
        if cell_id is not None and cell_id != self.cell_id:
            self.cell_id = cell_id
            self._quiet = True  # clearing the search must not load the list a second time
            self.ids.search.text = ""
            self._quiet = False
        session = App.get_running_app().session
        cell = session.store.cell(self.cell_id) or {}
        self.title = str(cell.get("name") or tr("walk_list"))
        self.reload()

    def set_filter(self, value: str):
        self.state_filter = value
        self.reload()

    _quiet = False

    def reload(self):
        session = App.get_running_app().session
        if session is None or not self.cell_id or self._quiet:
            return
        data = session.walk_list_rows(cell_id=self.cell_id, state_filter=self.state_filter,
                                      search=self.ids.search.text)
        self.ids.rv.data = data
        self.count_text = tr("households_n", n=len(data))

