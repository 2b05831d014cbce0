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

from django.db.models import BooleanField, Exists, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from server.accounts import scoping
from server.accounts.models import User
from server.campaigns import selectors as campaign_selectors
from server.campaigns.models import OutcomeCode, Round
from server.common import pii
from server.coverage.selectors import area_path
from server.registry.models import Household, Resident
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
    qs = scoping.households_visible(user, campaign_selectors.round_households(round=round)).filter(
        cell__isnull=False, cell__in=scoping.grid_cells_visible(user).values("id"))
    if area_code:
        path = area_path(user=user, area_code=area_code)
        qs = qs.filter(cell__path__startswith=path)  # as coverage counts: by the household's cell
    states = HouseholdRoundState.objects.filter(round=round, household=OuterRef("pk"))
    outcomes = OutcomeCode.objects.filter(pk=OuterRef("_outcome_id"))
    qs = qs.annotate(
        _reached=Coalesce(Subquery(states.values("reached")[:1]), Value(False), output_field=BooleanField()),
        _visits=Coalesce(Subquery(states.values("visits")[:1]), Value(0)),
        _last_visit_at=Subquery(states.values("last_visit_at")[:1]),
        _outcome_id=Subquery(states.values("outcome_id")[:1]),
    ).annotate(
        _outcome=Subquery(outcomes.values("code")[:1]), _outcome_label=Subquery(outcomes.values("label")[:1]),
        _excluded=Exists(outcomes.filter(excluded=True)),
    )
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


def household_rows(households: list[Household]) -> list[HouseholdRow]:
    """Rows of annotated households (round_households_query), with masked contacts; two queries in all."""
    contacts: dict[int, tuple[str, str, int]] = {}
    for hid, name, phone in (Resident.objects.filter(household_id__in=[h.pk for h in households])
                             .order_by("household_id", "id").values_list("household_id", "name", "phone_masked")):
        first_name, first_phone, n = contacts.get(hid, ("", "", 0))
        contacts[hid] = (first_name or name, first_phone or phone, n + 1)
    rows = []
    for h in households:
        name, phone, residents = contacts.get(h.pk, ("", "", 0))
        state = "reached" if h._reached else ("excluded" if h._excluded else "not_reached")
        contact = " ".join(p for p in (pii.name_mask(name), phone) if p)
        rows.append(HouseholdRow(
            id=h.pk, register_id=h.register_id, community=h.community.name, cell=h.cell.code, address=_address(h),
            state=state, outcome=h._outcome, outcome_label=h._outcome_label, visits=h._visits,
            last_visit_at=h._last_visit_at, residents=residents, contact=contact, lat=round(h.location.y, 6),
            lon=round(h.location.x, 6)))
    return rows
