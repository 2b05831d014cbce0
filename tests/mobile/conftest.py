import os
import sys

import pytest

MOBILE = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "mobile")
if MOBILE not in sys.path:
    sys.path.insert(0, MOBILE)


@pytest.fixture
def store(tmp_path):
    from qiaomen_field.store import Store

    s = Store(str(tmp_path / "field.sqlite3"))
    yield s
    s.close()


@pytest.fixture
def fake_server():
    from tests.mobile.fakes import FakeServer

    return FakeServer()
