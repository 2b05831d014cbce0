"""Local store: durability settings, pulled data, walk-list filters, outbox states, schema migrations."""

import json
import sqlite3

import pytest
from qiaomen_field.location import Fix
from qiaomen_field.store import MIGRATIONS, SCHEMA_VERSION, Store, StoreError

from tests.mobile.fakes import make_scope


def _load(store, scope=None):
    scope = scope or make_scope()
    store.apply_pull_page(changes=scope, deleted={}, cursor="10")
    return scope


def test_wal_and_full_sync(store):
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert store.schema_version == SCHEMA_VERSION


def test_pull_page_stores_records_and_cursor(store):
    _load(store)
    assert store.meta_get("cursor") == "10"
    assert [c["name"] for c in store.cells()] == ["向桥社区1网格", "向桥社区2网格"]
    assert len(store.households(cell_id="100")) == 6
    assert [c["code"] for c in store.outcome_codes(7)] == ["reached", "nobody_home", "refused", "vacant"]


def test_deleted_cell_takes_its_households(store):
    _load(store)
    store.apply_pull_page(changes={}, deleted={"cells": ["100"]}, cursor="11")
    assert [c["id"] for c in store.cells()] == [101]
    assert store.households(cell_id="100") == []
    assert len(store.households()) == 6


def test_walk_list_filters_and_search(store):
    _load(store)
    fix = Fix(32.3, 118.3, 5.0, 1.0e9)
    store.visit_save(household="1000", round="1", outcome="reached", fix=fix)
    store.visit_save(household="1001", round="1", outcome="nobody_home", fix=fix)
    by = lambda f, **kw: [h.id for h in store.households(cell_id="100", state_filter=f, **kw)]  # noqa: E731
    assert by("done") == ["1000"]
    assert by("revisit") == ["1001"]
    assert by("not_visited") == ["1002", "1003", "1004", "1005"]
    assert by("all", search="2 101") == ["1004"]  # building 2, room 101
    assert by("all", search="2-101") == ["1004"]
    # the latest local visit wins over an older one
    store.visit_save(household="1001", round="1", outcome="reached", fix=fix)
    assert "1001" in by("done")


def test_visit_saved_without_fix_has_no_coordinates(store):
    _load(store)
    vid = store.visit_save(household="1000", round="1", outcome="reached", fix=None, leaflet=True,
                           key_groups_met=["elderly"], residents_met=2, risk_note="接到过冒充公检法电话")
    (kind, payload), = store.outbox_pending()
    assert kind == "visits" and payload["id"] == vid
    assert payload["lat"] is None and payload["accuracy_m"] is None
    assert payload["leaflet"] is True and payload["key_groups_met"] == ["elderly"]
    assert payload["captured_at"].endswith("+00:00")


def test_outbox_results_rejected_kept_with_message_and_retry(store):
    a = store.outbox_add("visits", {"household": "1", "round": "1", "outcome": "reached"})
    b = store.outbox_add("claims", {"cell": "100", "round": "1"})
    store.outbox_record_results([
        {"id": a, "status": "rejected", "code": "not_assigned", "message": "该住户不在您负责的网格内"},
        {"id": b, "status": "accepted"}])
    assert store.outbox_counts() == {"pending": 0, "accepted": 1, "duplicate": 0, "rejected": 1}
    (rej,) = store.outbox_rejected()
    assert rej["id"] == a and rej["message"] == "该住户不在您负责的网格内" and rej["code"] == "not_assigned"
    assert store.outbox_retry() == 1
    assert [p["id"] for _, p in store.outbox_pending()] == [a]


def test_duplicate_after_accepted_stays_accepted(store):
    a = store.outbox_add("visits", {"household": "1", "round": "1", "outcome": "reached"})
    store.outbox_record_results([{"id": a, "status": "accepted"}])
    store.outbox_record_results([{"id": a, "status": "duplicate"}])
    assert store.outbox_counts()["accepted"] == 1


def test_unknown_outbox_kind_refused(store):
    with pytest.raises(ValueError):
        store.outbox_add("photos", {})


def test_wipe_forgets_everything(store):
    _load(store)
    store.meta_set(token="secret")
    store.visit_save(household="1000", round="1", outcome="reached", fix=None)
    store.wipe()
    assert store.meta_get("token") is None and store.cells() == [] and store.outbox_counts()["pending"] == 0
    assert store.households() == []


def test_reopen_keeps_data(tmp_path):
    path = str(tmp_path / "f.sqlite3")
    s = Store(path)
    vid = s.visit_save(household="1000", round="1", outcome="reached", fix=None)
    s.close()
    s2 = Store(path)
    assert vid in s2.outbox_ids()
    s2.close()


def test_migration_from_v1_keeps_outbox_and_fills_new_columns(tmp_path):
    path = str(tmp_path / "old.sqlite3")
    db = sqlite3.connect(path)
    MIGRATIONS[0](db)
    db.execute("PRAGMA user_version=1")
    payload = {"id": "v-1", "household": "1000", "round": "1", "outcome": "nobody_home"}
    db.execute("INSERT INTO outbox (id, kind, payload, created_at) VALUES ('v-1', 'visits', ?, 1.0)",
               (json.dumps(payload),))
    hh = make_scope()["households"][0]
    db.execute("INSERT INTO households (id, cell_id, building, room, walk_order, server_state, data) "
               "VALUES ('1000', '100', '1', '101', 0, '', ?)", (json.dumps(hh, ensure_ascii=False),))
    db.commit()
    db.close()
    s = Store(path)
    assert s.schema_version == SCHEMA_VERSION
    assert [p["id"] for _, p in s.outbox_pending()] == ["v-1"]
    assert s.visits_for("1000")[0]["outcome"] == "nobody_home"  # household_id column filled by v2
    assert [h.id for h in s.households(search="琅琊路")] == ["1000"]  # search column filled by v3
    assert [h.state for h in s.households()] == ["nobody_home"]
    s.close()


def test_newer_schema_refused(tmp_path):
    path = str(tmp_path / "new.sqlite3")
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(StoreError, match="update the app"):
        Store(path)


def test_failed_migration_rolls_back(tmp_path, monkeypatch):
    from qiaomen_field import store as store_mod

    def broken(db):
        db.execute("CREATE TABLE half_done (x)")
        raise RuntimeError("disk full")

    monkeypatch.setattr(store_mod, "MIGRATIONS", [*MIGRATIONS, broken])
    monkeypatch.setattr(store_mod, "SCHEMA_VERSION", len(MIGRATIONS) + 1)
    path = str(tmp_path / "m.sqlite3")
    with pytest.raises(RuntimeError):
        Store(path)
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert db.execute("SELECT count(*) FROM sqlite_master WHERE name = 'half_done'").fetchone()[0] == 0


def test_uploaded_items_are_forgotten_after_two_weeks_unsent_and_rejected_kept(store):
    import time

    _load(store)
    old, recent, rejected = (store.visit_save(household="1000", round="1", outcome="reached", fix=None)
                             for _ in range(3))
    pending = store.visit_save(household="1000", round="1", outcome="reached", fix=None)
    store.outbox_record_results([{"id": old, "status": "accepted"}, {"id": recent, "status": "duplicate"},
                                 {"id": rejected, "status": "rejected", "code": "x", "message": "y"}])
    day = 86400
    store.db.execute("UPDATE outbox SET answered_at = ? WHERE id IN (?, ?)", (time.time() - 15 * day, old, rejected))
    assert store.outbox_prune() == 1
    assert store.outbox_ids() == {recent, rejected, pending}
    assert store.outbox_unsent() == {"visits": 2, "household_reports": 0, "claims": 0}
