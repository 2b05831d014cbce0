"""Every coverage figure, at every level, per round and for the campaign, through the API, against the independent
computation of tests/coverage/reference.py; the incremental path against a full recompute; territory scoping."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.urls import reverse
from rest_framework.test import APIClient

from server.coverage.models import AGGREGATES
from server.coverage.selectors import LEVELS
from server.territory.models import GridCell
from tests.coverage import reference
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def client_for(user) -> APIClient:
    client = APIClient()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def scopes(s):
    """(query parameters, reference scope round) for round 1, round 2 and the campaign."""
    return [({"round": s.round1.pk}, s.round1), ({"round": s.round2.pk}, s.round2),
            ({"campaign": s.campaign.pk}, None)]


def get(client, name: str, params: dict) -> dict:
    response = client.get(reverse(name), params)
    assert response.status_code == 200, response.content
    return response.json()


def check_areas(client, s, cells: set[int]):
    for params, round in scopes(s):
        ref = reference.compute(s.campaign, round)
        for level in LEVELS:
            body = get(client, "coverage", {**params, "level": level})
            expected = reference.by_level(ref, level, cells)
            got = {row["code"]: row for row in body["rows"]}
            assert set(got) == set(expected), (params, level)
            for code, f in expected.items():
                row = got[code]
                for name in reference.FIGURES:
                    assert row[name] == f[name], (params, level, code, name)
                base = f["to_visit"] - f["excluded"]
                assert row["coverage"] == (pytest.approx(f["reached"] / base, abs=1e-4) if base else None)
                groups = {g: (v["residents"], v["reached"]) for g, v in row["key_groups"].items()}
                assert groups == {g: tuple(v) for g, v in f["key_groups"].items()}, (params, level, code)
        total = get(client, "coverage", {**params, "level": "city"})["total"]
        everything = reference.by_level(ref, "city", cells)
        for name in reference.FIGURES:
            assert total[name] == sum(f[name] for f in everything.values()), name


def test_area_figures_match_the_independent_computation(scenario):
    check_areas(client_for(scenario.city_admin), scenario, set(GridCell.objects.values_list("id", flat=True)))


def test_the_scenario_exercises_every_rule(scenario):
    """Guards the fixture: a figure the scenario leaves at zero would be compared with zero only."""
    r1 = reference.by_level(reference.compute(scenario.campaign, scenario.round1), "city",
                            set(GridCell.objects.values_list("id", flat=True)))["341100"]
    assert all(r1[name] > 0 for name in reference.FIGURES), r1
    assert r1["key_groups"]["elderly"][1] > 0 and r1["key_groups"]["student"][0] > 0
    campaign = reference.compute(scenario.campaign, None)
    assert len({day for days in campaign.reached_days.values() for day in days}) >= 5


def test_daily_workers_and_teams_match_the_independent_computation(scenario):
    client = client_for(scenario.city_admin)
    cells = set(GridCell.objects.values_list("id", flat=True))
    check_productivity(client, scenario, cells)


def check_productivity(client, s, cells: set[int]):
    refs = {}
    for params, round in scopes(s):
        ref = refs[round] = reference.compute(s.campaign, round)
        days = reference.daily(ref, cells)
        rows = get(client, "coverage-daily", params)["rows"]
        active = [d.isoformat() for d in sorted(days)]
        assert [r["day"] for r in rows if r["day"] in active] == active
        assert rows[0]["day"] == active[0] and rows[-1]["day"] == active[-1]
        base = sum(f["to_visit"] - f["excluded"] for c, f in ref.cells.items() if c in cells)
        cumulative = 0
        for row in rows:
            d = days.get(reference.dt.date.fromisoformat(row["day"]), {"reached_new": 0, "visits": 0, "flagged": 0,
                                                                       "workers": set()})
            cumulative += d["reached_new"]
            assert (row["reached_new"], row["visits"], row["flagged_visits"], row["workers_active"]) == \
                (d["reached_new"], d["visits"], d["flagged"], len(d["workers"])), (params, row)
            assert row["reached_cumulative"] == cumulative
            assert row["coverage_cumulative"] == pytest.approx(cumulative / base, abs=1e-4)

        expected = reference.workers(ref, cells)
        got = {r["worker_id"]: r for r in get(client, "coverage-workers", params)["rows"]}
        assert set(got) == set(expected), params
        for worker, w in expected.items():
            row = got[worker]
            assert (row["visits"], row["households_attempted"], row["households_reached"], row["app_installs"],
                    row["flagged_visits"], row["active_days"]) == \
                (w["visits"], len(w["attempted"]), len(w["reached"]), len(w["app"]), w["flagged"], len(w["days"]))
            assert row["visits_per_day"] == pytest.approx(w["visits"] / len(w["days"]), abs=0.05)
            assert row["first_day"] == min(w["days"]).isoformat()

    for params, round in scopes(s):
        rounds = [(round, refs[round])] if round else [(s.round1, refs[s.round1]), (s.round2, refs[s.round2])]
        expected = reference.teams(rounds, cells)
        got = {r["team_id"]: r for r in get(client, "coverage-teams", params)["rows"]}
        assert set(got) == set(expected), params
        for team, t in expected.items():
            row = got[team]
            assert (row["cells"], row["to_visit"], row["attempted"], row["reached"], row["excluded"], row["visits"],
                    row["workers"], row["active_days"]) == \
                (len(t["cells"]), t["to_visit"], t["attempted"], t["reached"], t["excluded"], t["visits"],
                 len(t["workers"]), len(t["days"])), (params, team)


def snapshot() -> dict:
    out = {}
    for model in AGGREGATES:
        fields = [f.attname for f in model._meta.concrete_fields if f.attname not in ("id", "updated_at")]
        out[model.__name__] = sorted(model.objects.values_list(*fields), key=repr)
    return out


def test_incremental_equals_full_recompute(scenario):
    incremental = snapshot()
    assert all(incremental.values()), {k: len(v) for k, v in incremental.items()}
    call_command("recompute_coverage", stdout=open("/dev/null", "w"))
    assert snapshot() == incremental
    # one campaign, one round (and the rounds after it), aggregates only: the same again
    call_command("recompute_coverage", campaign=scenario.campaign.pk, stdout=open("/dev/null", "w"))
    call_command("recompute_coverage", round=scenario.round1.pk, no_states=True, stdout=open("/dev/null", "w"))
    assert snapshot() == incremental


def test_the_refresh_reads_the_same_plan_as_the_recompute(scenario):
    """The refresh after a push reads the campaign's plan in one statement (tables.plan_read); the full recompute
    builds it with the ORM (services.campaign_plan): rounds, their openings, areas, key groups must agree."""
    from server.coverage import tables
    from server.coverage.services import campaign_plan

    for number in (1, 2):
        plan, outcomes = tables.plan_read(campaign_id=scenario.campaign.pk, reference_year=2026, from_number=number)
        assert plan == campaign_plan(campaign=scenario.campaign, from_number=number)
        assert sorted(outcomes.ids.tolist()) == sorted(scenario.campaign.outcome_codes.values_list("id", flat=True))


def test_a_recompute_writes_nothing_when_all_is_current_and_repairs_what_is_not(scenario):
    from server.coverage.models import CellCoverage, CellDayCoverage, CellWorkerCoverage
    from server.coverage.services import coverage_recompute

    current = snapshot()
    result = coverage_recompute()
    assert (result.states_written, result.figures_written) == (0, 0)
    assert snapshot() == current
    # a figure changed behind the refreshes' back, a row missing, a row that should not be there
    row = CellCoverage.objects.filter(round=scenario.round1).order_by("pk").first()
    CellCoverage.objects.filter(pk=row.pk).update(reached=row.reached + 5)
    CellWorkerCoverage.objects.filter(round=scenario.round2).order_by("pk").first().delete()
    extra = CellDayCoverage.objects.filter(round=scenario.round1).order_by("pk").first()
    extra.pk, extra.day = None, extra.day.replace(year=2020)
    extra.save()
    result = coverage_recompute()
    assert result.figures_written == 3
    assert snapshot() == current
    assert CellCoverage.objects.filter(pk=row.pk).exists()  # repaired in place, by id


@pytest.mark.parametrize("threads", [True, False])
def test_the_figures_are_the_same_on_two_threads_and_on_one(scenario, monkeypatch, threads):
    """At city scale figures_compute runs its independent parts on two threads; forced either way on the scenario
    the recompute finds every row current."""
    from server.coverage import compute, services

    real = compute.figures_compute
    monkeypatch.setattr(services, "figures_compute", lambda *a, **kw: real(*a, **kw, threads=threads))
    current = snapshot()
    assert services.coverage_recompute().figures_written == 0
    assert snapshot() == current


def test_district_chief_sees_only_their_district(scenario):
    district = scenario.chief.areas.get()
    cells = set(GridCell.objects.filter(path__startswith=district.path).values_list("id", flat=True))
    client = client_for(scenario.chief)
    check_areas(client, scenario, cells)
    check_productivity(client, scenario, cells)
    rows = get(client, "coverage", {"campaign": scenario.campaign.pk, "level": "district"})["rows"]
    assert [r["code"] for r in rows] == [district.code]
    # the other district's code is unknown to this caller, not an empty answer
    other = get(client_for(scenario.city_admin), "coverage", {"campaign": scenario.campaign.pk,
                                                              "level": "district"})["rows"]
    foreign = next(r["code"] for r in other if r["code"] != district.code)
    response = client.get(reverse("coverage"), {"campaign": scenario.campaign.pk, "area": foreign})
    assert response.status_code == 400 and list(response.json()["errors"]) == ["area"]


def test_field_worker_sees_only_the_cells_they_hold(scenario):
    w2 = scenario.workers[2]  # holds cells 0 and 1 in the open round 2
    client = client_for(w2)
    cells = set(GridCell.objects.filter(assignments__round=scenario.round2, assignments__worker=w2)
                .values_list("id", flat=True))
    assert len(cells) == 2
    check_areas(client, scenario, cells)
    check_productivity(client, scenario, cells)
    rows = get(client, "coverage", {"round": scenario.round1.pk, "level": "cell"})["rows"]
    assert {r["id"] for r in rows} <= cells


@pytest.mark.parametrize("params, name", [
    ({"level": "cell"}, "round"),
    ({"round": "x"}, "round"),
    ({"round": 999999}, "round"),
    ({"campaign": 999999}, "campaign"),
    ({"round": 1, "campaign": 1}, "round"),
    ({"level": "planet"}, "level"),
    ({"area": "nowhere"}, "area"),
])
def test_bad_parameters_answer_400_naming_them(scenario, params, name):
    client = client_for(scenario.city_admin)
    params = {k: (scenario.campaign.pk if k == "campaign" and v == 1 else scenario.round1.pk if v == 1 else v)
              for k, v in params.items()}
    if name in ("level", "area"):
        params.setdefault("round", scenario.round1.pk)
    for endpoint in ("coverage", "coverage-daily", "coverage-teams", "coverage-workers"):
        if name == "level" and endpoint != "coverage":
            continue
        response = client.get(reverse(endpoint), params)
        assert response.status_code == 400, (endpoint, response.content)
        assert name in response.json()["errors"], (endpoint, response.json())


def test_outsiders_get_nothing(scenario, client):
    assert client.get(reverse("coverage"), {"round": scenario.round1.pk}).status_code in (401, 403)


def test_openapi_documents_the_endpoints(client, scenario):
    client.login(username="city", password=PASSWORD)
    schema = client.get("/api/schema/", {"format": "json"}).json()
    for path in ("/api/v1/coverage", "/api/v1/coverage/daily", "/api/v1/coverage/teams", "/api/v1/coverage/workers"):
        names = {p["name"] for p in schema["paths"][path]["get"]["parameters"]}
        assert {"round", "campaign", "area"} <= names, path


@pytest.mark.postgis
@pytest.mark.django_db(transaction=True)
def test_the_full_recompute_reads_in_parallel_in_its_own_snapshot(scenario, monkeypatch):
    """Outside any enclosing transaction (as manage.py and the nightly job run it) the full recompute reads on extra
    connections that import its snapshot; the rows they read give the same figures as the refreshes."""
    from server.common import columns
    from server.coverage.models import CellCoverage
    from server.coverage.services import coverage_recompute

    opened = []
    real_open = columns.ReaderPool.open.__func__

    def spy(cls, size=2):
        pool = real_open(cls, size)
        opened.append(pool)
        return pool

    monkeypatch.setattr(columns.ReaderPool, "open", classmethod(spy))
    current = snapshot()
    row = CellCoverage.objects.order_by("pk").first()
    CellCoverage.objects.filter(pk=row.pk).update(to_visit=row.to_visit + 1)
    result = coverage_recompute()
    assert opened and opened[0] is not None
    assert result.figures_written == 1 and result.states_written == 0
    assert snapshot() == current


@pytest.mark.postgis
def test_the_visits_read_in_parts_of_the_table_are_the_visits_read_at_once(scenario, monkeypatch):
    """The full recompute reads the visits in two parts, each a range of the table's pages; a correction and the
    visit it corrects may lie in different parts, and the uncorrected visits are still the same."""
    import numpy as np
    from django.db import connection

    from server.common.columns import queries_read
    from server.visits import selectors
    from server.visits.models import Visit
    from server.visits.selectors import visit_columns, visits_of, visits_queries

    pair = ("SELECT (v.ctid::text::point)[0]::int, (c.ctid::text::point)[0]::int FROM visits_visit v "
            "JOIN visits_visit c ON c.corrects_id = v.id")
    with connection.cursor() as cursor:
        cursor.execute(pair)
        corrections = cursor.fetchall()
        # rewrite the first corrected visit until its row version lands on another page than its correction's
        corrected = Visit.objects.filter(corrects__isnull=False).order_by("pk").values_list("corrects_id").first()
        for _ in range(500):
            if len({p for pages in corrections for p in pages}) > 1 and any(a != b for a, b in corrections):
                break
            cursor.execute("UPDATE visits_visit SET device_id = device_id WHERE id = %s", corrected)
            cursor.execute(pair)
            corrections = cursor.fetchall()
    assert corrections and Visit.objects.filter(corrects__isnull=False).count() == len(corrections)
    # split the pages between a corrected visit and its correction (the parts are halves of the page count)
    split = next(max(pages) for pages in corrections if pages[0] != pages[1])
    monkeypatch.setattr(selectors, "_visit_pages", lambda: 2 * split)
    parts = [queries_read(visits_queries(part=(k, 2))) for k in range(2)]
    assert all(len(every[0]) for every, _ in parts)
    together = visits_of(*([np.concatenate(c) for c in zip(*(p[i] for p in parts), strict=True)] for i in (0, 1)))
    at_once = visit_columns()
    for name in at_once.__dataclass_fields__:
        assert sorted(getattr(together, name).tolist()) == sorted(getattr(at_once, name).tolist()), name
    assert len(at_once) == Visit.objects.count() - len(corrections)
