"""Every screen of the app, in the order the ScreenManager gets them."""

from qiaomen_field.ui.cellmap import CellMapScreen
from qiaomen_field.ui.household import HouseholdScreen
from qiaomen_field.ui.settings import SettingsScreen
from qiaomen_field.ui.signin import SignInScreen
from qiaomen_field.ui.syncscreen import SyncScreen
from qiaomen_field.ui.today import TodayScreen
from qiaomen_field.ui.visit import VisitScreen
from qiaomen_field.ui.walklist import WalkListScreen

ALL = [SignInScreen, TodayScreen, WalkListScreen, HouseholdScreen, VisitScreen, CellMapScreen, SyncScreen,
       SettingsScreen]
