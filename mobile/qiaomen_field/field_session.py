"""What the screens ask for, in one place with no GUI code: sign in, today's work, the walk list, saving a visit,
syncing, signing out. The Kivy layer only shows what this returns, so all of it is tested in plain pytest."""

from __future__ import annotations

import platform
import time
from dataclasses import dataclass

from qiaomen_field import i18n
from qiaomen_field.location import Fix, LocationProvider
from qiaomen_field.store import Store, household_round_entry
from qiaomen_field.sync import BackgroundSync, SyncEngine
from qiaomen_field.transport import HttpTransport, TransportError

DEFAULT_SERVER = "http://127.0.0.1:8000"
KEY_GROUPS = [  # codes of the server's default key groups (registry migration 0002); labels for the form
    ("elderly", "老年人", "Elderly"), ("woman_at_home", "居家女性", "Woman at home"), ("student", "学生", "Student"),
    ("company_head", "企业负责人", "Company head"), ("finance_staff", "财会人员", "Finance staff"),
    ("investment_risk", "投资理财风险", "Investment risk"),
]
FALLBACK_OUTCOMES = [
    {"code": "reached", "label": "见面宣传", "label_en": "Reached", "reached": True},
    {"code": "nobody_home", "label": "无人在家", "label_en": "Nobody home", "revisit": True},
    {"code": "refused", "label": "拒访", "label_en": "Refused", "revisit": True},
    {"code": "vacant", "label": "空置", "label_en": "Vacant", "excluded": True},
    {"code": "moved", "label": "搬离", "label_en": "Moved", "excluded": True},
]


@dataclass
class CellSummary:
    id: str
    name: str
    total: int
    done: int
    round_id: str


@dataclass
class SaveResult:
    visit_id: str
    message: str
    had_fresh_fix: bool


class FieldSession:
    def __init__(self, store: Store, location: LocationProvider, *, transport_factory=HttpTransport,
                 scheduler=None, notify=None):
        self.store = store
        self.location = location
        self.transport_factory = transport_factory
        self.scheduler = scheduler
        self.notify = notify
        self.background: BackgroundSync | None = None
        i18n.set_language(self.store.meta_get("language", "zh"))

    # -- session -------------------------------------------------------------------------------------------
    @property
    def signed_in(self) -> bool:
        return bool(self.store.meta_get("token"))

    @property
    def server(self) -> str:
        return self.store.meta_get("server", DEFAULT_SERVER)

    def transport(self):
        return self.transport_factory(self.server, token=self.store.meta_get("token"),
                                      language="en" if i18n.language() == "en" else "zh-hans")

    def sign_in(self, *, server: str, username: str, password: str) -> dict:
        """Register this device with the server (once) and keep its token. Raises TransportError subclasses."""
        server = server.strip().rstrip("/") or DEFAULT_SERVER
        transport = self.transport_factory(server, token=None)
        try:
            answer = transport.register_device(username=username.strip(), password=password,
                                               device_id=self.store.device_id(), device_name=_device_name())
        except TransportError as err:
            if err.body.get("wipe"):  # this phone was revoked: nothing of it may stay
                self.store.wipe()
                self.store.meta_set(server=server)
            raise
        user = answer.get("user") or {}
        self.store.meta_set(server=server, token=answer["token"], username=username.strip(),
                            display_name=user.get("display_name") or user.get("name") or username.strip(),
                            expires_at=answer.get("expires_at") or "")
        return answer

    def engine(self) -> SyncEngine:
        return SyncEngine(self.store, self.transport(), on_revoked=None)

    def start_background(self, interval_s: float = 120.0) -> BackgroundSync:
        if self.background is None:
            self.background = BackgroundSync(_LazyEngine(self), interval_s=interval_s, notify=self.notify,
                                             scheduler=self.scheduler)
        self.background.start()
        return self.background

    def stop_background(self) -> None:
        if self.background:
            self.background.stop()
            self.background = None

    def sync_now(self) -> None:
        if self.background:
            self.background.request_now()
        else:
            self.start_background()

    def sign_out(self) -> None:
        """Wipe everything on the phone, keeping only the server address and language for the next sign-in."""
        server, language = self.server, i18n.language()
        self.stop_background()
        self.store.wipe()
        self.store.meta_set(server=server, language=language)

    def set_language(self, code: str) -> None:
        i18n.set_language(code)
        self.store.meta_set(language=i18n.language())

    # -- today ---------------------------------------------------------------------------------------------
    def open_rounds(self) -> list[dict]:
        return [r for r in self.store.rounds() if r.get("status", "open") == "open"]

    def default_round_id(self) -> str:
        rounds = self.open_rounds()
        return str(rounds[0]["id"]) if rounds else ""

    def cells(self) -> list[CellSummary]:
        done_codes = self.done_codes()
        out = []
        for cell in self.store.cells():
            rows = self.store.households(cell_id=str(cell["id"]))
            out.append(CellSummary(
                id=str(cell["id"]), name=str(cell.get("name") or cell.get("code") or cell["id"]), total=len(rows),
                done=sum(1 for r in rows if r.state in done_codes),
                round_id=str(cell_round(cell) or self.default_round_id())))
        return out

    def outcome_codes(self) -> list[dict]:
        rounds = self.open_rounds()
        campaign = rounds[0].get("campaign") if rounds else None
        return self.store.outcome_codes(campaign) or FALLBACK_OUTCOMES

    def done_codes(self) -> set[str]:
        return {c["code"] for c in self.outcome_codes() if c.get("reached") or c.get("excluded")}

    def revisit_codes(self) -> set[str]:
        return {c["code"] for c in self.outcome_codes() if c.get("revisit")}

    def walk_list(self, *, cell_id: str | None, state_filter: str = "all", search: str = ""):
        return self.store.households(cell_id=cell_id, state_filter=state_filter, search=search,
                                     revisit_codes=sorted(self.revisit_codes()) or ("nobody_home", "refused"))

    def walk_list_rows(self, *, cell_id: str | None, state_filter: str = "all", search: str = "") -> list[dict]:
        """The walk list as the RecycleView wants it: one dict of display values per household."""
        codes = {c["code"]: c for c in self.outcome_codes()}
        rows = []
        for i, h in enumerate(self.walk_list(cell_id=cell_id, state_filter=state_filter, search=search), 1):
            text, colour = state_style(h.state, codes)
            rows.append({"household_id": h.id, "address": short_address(h.address), "order_text": str(i),
                         "detail": household_summary(h.data), "state_text": text, "state_color": colour})
        return rows

    def pending_count(self) -> int:
        return self.store.outbox_counts()["pending"]

    # -- visit ---------------------------------------------------------------------------------------------
    def gps_status(self, now: float | None = None) -> str:
        if self.location.status == "denied":
            return i18n.tr("gps_denied")
        fix = self.location.best_fix()
        if fix is None:
            return i18n.tr("gps_none")
        key = "gps_ok" if fix.age_s(now) <= self.location.fresh_s else "gps_stale"
        return i18n.tr(key, acc=round(fix.accuracy_m), age=i18n.duration(fix.age_s(now)))

    def save_visit(self, *, household_id: str, outcome: str, round_id: str | None = None, **done) -> SaveResult:
        """One tap: save with the best fix known, and say honestly what the position is."""
        household = self.store.household(household_id)
        if round_id is None:
            cell = self.store.cell(household.cell_id) if household and household.cell_id else None
            round_id = str((household_round_entry(household.data).get("round") if household else None)
                           or (household.data.get("round") if household else None)
                           or cell_round(cell or {}) or self.default_round_id())
        fix: Fix | None = self.location.best_fix()
        visit_id = self.store.visit_save(household=household_id, round=round_id, outcome=outcome, fix=fix, **done)
        label = next((i18n.label(c) for c in self.outcome_codes() if c["code"] == outcome), outcome)
        if fix is None:
            message, fresh = i18n.tr("saved_never_fix"), False
        elif fix.age_s() > self.location.fresh_s:
            message, fresh = i18n.tr("saved_no_fix", age=i18n.duration(fix.age_s()), acc=round(fix.accuracy_m)), False
        else:
            message, fresh = i18n.tr("saved", outcome=label), True
        if self.background:
            self.background.request_now()
        return SaveResult(visit_id, message, fresh)

    def last_sync_text(self) -> str:
        value = self.store.meta_get("last_sync_at")
        if not value:
            return i18n.tr("last_sync", when=i18n.tr("never"))
        when = time.strftime("%m-%d %H:%M", time.localtime(float(value)))
        return i18n.tr("last_sync", when=when)


class _LazyEngine:
    """Builds the engine at each run, so a new token or server address is picked up without a restart."""

    def __init__(self, session: FieldSession):
        self.session = session

    def sync_once(self):
        return self.session.engine().sync_once()


def _device_name() -> str:
    return f"{platform.system() or 'phone'} {platform.node() or ''}".strip()[:60]


def resident_count(data: dict) -> int | None:
    """Residents in a pulled household record; the server sends a masked summary (a count and key-group flags)."""
    value = data.get("residents", data.get("resident_count", data.get("size")))
    if isinstance(value, dict):
        value = value.get("count")
    try:
        return None if value is None else int(value)
    except (TypeError, ValueError):
        return None


def resident_groups(data: dict) -> list[str]:
    """Key groups present in a household: a list of codes, or {code: count}; `elderly` may come as a count."""
    residents = data.get("residents") if isinstance(data.get("residents"), dict) else {}
    value = data.get("key_groups", residents.get("key_groups"))
    if isinstance(value, dict):
        groups = [k for k, v in value.items() if v]
    else:
        groups = [str(v) for v in (value or [])]
    if residents.get("elderly") and "elderly" not in groups:
        groups.insert(0, "elderly")
    return groups


NOT_VISITED = (0.20, 0.40, 0.80, 1)
REACHED = (0.16, 0.55, 0.25, 1)
REVISIT = (0.85, 0.50, 0.05, 1)
EXCLUDED = (0.50, 0.50, 0.50, 1)


def state_style(state: str, codes: dict[str, dict]) -> tuple[str, tuple]:
    """Text and colour of a household's state; the walk list and the map speak the same colours."""
    if not state:
        return i18n.tr("state_"), NOT_VISITED
    code = codes.get(state, {"code": state})
    colour = REACHED if code.get("reached") else EXCLUDED if code.get("excluded") else REVISIT
    return i18n.label(code), colour


def short_address(address: str) -> str:
    """A walk list row drops the area prefix every household of the cell shares ("琅琊区清流街道向桥社区 紫薇路12号
    1栋2单元102室" → "紫薇路12号 1栋2单元102室"); the household screen shows it whole."""
    head, sep, rest = address.partition(" ")
    return rest if sep and rest and head.endswith(("社区", "村", "街道", "镇", "乡")) else address


def household_summary(data: dict) -> str:
    """Masked resident summary: how many people and which key groups; never a name, phone or ID number."""
    sep = "、" if i18n.language() == "zh" else ", "
    groups = sep.join(key_group_label(g) for g in resident_groups(data))
    count = resident_count(data)
    text = i18n.tr("residents", n=count) if count is not None else ""
    return f"{text}  {groups}".strip()


def cell_round(cell: dict):
    """The round a cell is held in: the server lists them in `rounds`."""
    rounds = cell.get("rounds") or []
    return cell.get("round") or (rounds[0] if rounds else None)


def key_group_label(code: str) -> str:
    for known, zh, en in KEY_GROUPS:
        if known == code:
            return en if i18n.language() == "en" else zh
    return code
