"""What a worker sees: sign-in, today's cells with progress, the honest message after saving, sign-out."""

import time

import pytest
from qiaomen_field import i18n
from qiaomen_field.field_session import FieldSession
from qiaomen_field.location import Fix, LocationProvider
from qiaomen_field.transport import ProtocolError


@pytest.fixture
def session(store, fake_server):
    s = FieldSession(store, LocationProvider(), transport_factory=fake_server.transport)
    yield s
    s.stop_background()
    i18n.set_language("zh")


def _signed_in(session):
    session.sign_in(server="http://fake/", username="demo-worker", password="pw")
    session.engine().sync_once()
    return session


def test_sign_in_keeps_token_and_server(session):
    _signed_in(session)
    assert session.signed_in and session.server == "http://fake"
    assert session.store.meta_get("username") == "demo-worker"


def test_wrong_password_keeps_signed_out(session):
    with pytest.raises(ProtocolError):
        session.sign_in(server="http://fake", username="demo-worker", password="nope")
    assert not session.signed_in


def test_today_cells_with_progress(session):
    _signed_in(session)
    session.save_visit(household_id="1000", outcome="reached")
    session.save_visit(household_id="1001", outcome="vacant")
    session.save_visit(household_id="1002", outcome="nobody_home")
    cells = session.cells()
    assert [(c.name, c.done, c.total) for c in cells] == [("向桥社区1网格", 2, 6), ("向桥社区2网格", 0, 6)]
    assert session.pending_count() == 3
    assert [h.id for h in session.walk_list(cell_id="100", state_filter="revisit")] == ["1002"]


def test_save_with_fresh_fix_says_saved(session):
    _signed_in(session)
    session.location._emit(Fix(32.301, 118.301, 6.0, time.time()))
    result = session.save_visit(household_id="1000", outcome="reached", leaflet=True)
    assert result.had_fresh_fix and "已保存" in result.message and "见面宣传" in result.message
    (_, payload), = session.store.outbox_pending()
    assert payload["round"] == "1" and payload["accuracy_m"] == 6.0 and payload["leaflet"] is True


def test_save_without_fix_is_saved_and_says_so(session):
    _signed_in(session)
    result = session.save_visit(household_id="1000", outcome="reached")
    assert not result.had_fresh_fix and "从未定位" in result.message
    session.location._emit(Fix(32.301, 118.301, 12.0, time.time() - 600))
    result = session.save_visit(household_id="1001", outcome="reached")
    assert "最近一次位置" in result.message and "10 分钟" in result.message
    assert session.pending_count() == 2
    assert "定位已过时" in session.gps_status()


def test_english_is_selectable_and_remembered(session, store, fake_server):
    session.set_language("en")
    assert i18n.tr("sync") == "Sync"
    i18n.set_language("zh")
    FieldSession(store, LocationProvider(), transport_factory=fake_server.transport)
    assert i18n.tr("sync") == "Sync"


def test_sign_out_wipes_but_keeps_server_and_language(session):
    _signed_in(session)
    session.save_visit(household_id="1000", outcome="reached")
    session.sign_out()
    assert not session.signed_in and session.store.households() == [] and session.pending_count() == 0
    assert session.server == "http://fake"
