"""The households behind a round's figures, one row each: who is still to be reached, who was, who is out of the
base — for the drill-down of the coverage map and the list a station chief forwards to a team (XLSX).

The rows are exactly the households `to_visit` counts (campaigns.selectors.round_households, in a grid cell,
inside the caller's territory): `state="not_reached"` lists `to_visit − reached − excluded` of the same area in
GET /api/v1/coverage, `reached` lists `reached`, `excluded` lists `excluded`. Personal data is masked
(server/common/pii.py): the surname only, the phone as 138****1234; the register id and the address are what a
worker needs to find the door.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Exists, OuterRef, QuerySet

from server.accounts import scoping
from server.accounts.models import User
from server.campaigns import selectors as campaign_selectors
from server.campaigns.models import Round
from server.common import pii
from server.coverage.selectors import area_path
from server.registry.models import Household, HouseholdStatus, Resident
from server.visits.state import HouseholdRoundState

STATES = {
    "not_reached": ("未见面", "not reached yet (still to visit)"),
    "reached": ("已见面", "reached face to face"),
    "excluded": ("不计入应访", "out of the base: vacant, moved, wrong address"),
    "all": ("全部应访户", "every household to visit"),
}


@dataclass(frozen=True)
class HouseholdRow:
    id: int
    register_id: str
    community: str
    cell: str
    address: str
    state: str  # not_reached, reached, excluded
    outcome: str | None  # latest outcome code this round (None: not visited)
    outcome_label: str | None
    visits: int
    last_visit_at: object  # datetime or None
    residents: int
    contact: str  # masked: surname and a masked phone of the first resident with one
    lat: float
    lon: float


def round_households_query(*, user: User, round: Round, area_code: str | None = None,
                           state: str = "not_reached") -> QuerySet:
    """The households to visit in `round` inside the caller's territory (under `area_code`), in `state`,
    annotated with their round state; ordered by cell, address."""
    if state not in STATES:
        raise ValueError(f"state must be one of {list(STATES)}")
    # The households coverage counts (server/coverage/tables.py `counted`): occupied, in a cell of the
    # campaign's areas that the caller reaches, not settled in an earlier round (by the round states).
    cells = scoping.grid_cells_visible(user).filter(
        campaign_selectors.under(campaign_selectors.campaign_area_paths(campaign=round.campaign), "path"))
    if area_code:
        cells = cells.filter(path__startswith=area_path(user=user, area_code=area_code))
    # The cells as constants (at most a city's few thousand): the planner then starts from these cells'
    # households, not from every household under the campaign's areas (docs/benchmarks.md).
    qs = Household.objects.filter(status=HouseholdStatus.OCCUPIED,
                                  cell_id__in=list(cells.values_list("id", flat=True)))
    earlier = list(Round.objects.filter(campaign_id=round.campaign_id, number__lt=round.number)
                   .values_list("id", flat=True))
    if earlier:
        settled = HouseholdRoundState.objects.filter(household=OuterRef("pk"), round_id__in=earlier, settled=True)
        qs = qs.filter(~Exists(settled))
    # Semi-joins, not correlated scalar subqueries: the planner hashes the round's states once (a township of
    # 28,000 households: 12.9 s with five scalar subqueries per row, see docs/benchmarks.md).
    states = HouseholdRoundState.objects.filter(round=round, household=OuterRef("pk"))
    qs = qs.annotate(_reached=Exists(states.filter(reached=True)),
                     _excluded=Exists(states.filter(reached=False, outcome__excluded=True)))
    if state == "not_reached":
        qs = qs.filter(_reached=False, _excluded=False)
    elif state == "reached":
        qs = qs.filter(_reached=True)
    elif state == "excluded":
        qs = qs.filter(_reached=False, _excluded=True)
    return qs.select_related("community", "cell").order_by("cell__code", "street", "building", "unit", "floor",
                                                            "room", "id")


def _address(h: Household) -> str:
    parts = [h.street, f"{h.building}栋" if h.building else "", f"{h.unit}单元" if h.unit else "",
             f"{h.room}室" if h.room else ""]
    text = "".join(p for p in parts if p)
    return text or h.address


def household_rows(households: list[Household], *, round: Round) -> list[HouseholdRow]:
    """Rows of annotated households (round_households_query), with their round state and masked contacts; two
    more queries in all."""
    ids = [h.pk for h in households]
    states = {s["household_id"]: s for s in HouseholdRoundState.objects.filter(round=round, household_id__in=ids)
              .values("household_id", "visits", "last_visit_at", "outcome__code", "outcome__label")}
    contacts: dict[int, tuple[str, str, int]] = {}
    for hid, name, phone in (Resident.objects.filter(household_id__in=ids)
                             .order_by("household_id", "id").values_list("household_id", "name", "phone_masked")):
        first_name, first_phone, n = contacts.get(hid, ("", "", 0))
        contacts[hid] = (first_name or name, first_phone or phone, n + 1)
    rows = []
    for h in households:
        name, phone, residents = contacts.get(h.pk, ("", "", 0))
        state = "reached" if h._reached else ("excluded" if h._excluded else "not_reached")
        st = states.get(h.pk, {})
        contact = " ".join(p for p in (pii.name_mask(name), phone) if p)
        rows.append(HouseholdRow(
            id=h.pk, register_id=h.register_id, community=h.community.name, cell=h.cell.code, address=_address(h),
            state=state, outcome=st.get("outcome__code"), outcome_label=st.get("outcome__label"),
            visits=st.get("visits", 0), last_visit_at=st.get("last_visit_at"), residents=residents,
            contact=contact, lat=float(f"{h.location.y:.6f}"), lon=float(f"{h.location.x:.6f}")))
    return rows
