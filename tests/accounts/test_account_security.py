"""Accounts: password policy (Chinese messages), login throttling on the admin/page login and the device sign-in,
session expiry."""

from __future__ import annotations

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import translation
from rest_framework.test import APIClient

from tests.factories import PASSWORD, Role, make_user

pytestmark = pytest.mark.django_db


def problems(password: str, user=None) -> list[str]:
    with translation.override("zh-hans"):
        try:
            validate_password(password, user)
        except ValidationError as e:
            return list(e.messages)
    return []


def test_password_policy_speaks_chinese(mini_city):
    user = make_user("zhangsan", Role.GRID_WORKER, areas=[mini_city.communities[0]])
    assert problems("Ab3-short") == ["密码太短，至少需要 10 个字符 / A password needs at least 10 characters"]
    assert "密码不能全是数字 / A password cannot be all digits" in problems("20261105123456")
    assert problems("qiaomenqiaomen") == ["密码须至少包含字母、数字、符号中的两种 / A password needs at least two of: "
                                          "letters, digits, symbols"]
    assert "密码过于常见，容易被猜中 / This password is too common" in problems("password123")
    assert any(m.startswith("密码与用户名过于相似") for m in problems("zhangsan-2026", user))
    assert problems(PASSWORD) == [] and problems("敲门行动2026年十一月") == []


def _admin_login(client, username, password):
    return client.post("/admin/login/?next=/admin/", {"username": username, "password": password,
                                                      "next": "/admin/"})


def test_admin_login_locks_out_after_five_failures_for_that_user_only(mini_city, settings):
    chief = make_user("chief", Role.STATION_CHIEF, areas=[mini_city.districts[0]])
    make_user("chief2", Role.STATION_CHIEF, areas=[mini_city.districts[1]])
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        r = _admin_login(client, "chief", "wrong-password-1")
        assert r.status_code == 200 and "errornote" in r.content.decode()  # the form again, not locked yet
    locked = _admin_login(client, "chief", "wrong-password-1")
    assert locked.status_code == 429
    assert "登录失败次数过多" in locked.content.decode() and "Too many failed sign-ins" in locked.content.decode()
    # now even the right password is refused for a while
    assert _admin_login(Client(), "chief", PASSWORD).status_code == 429
    # a colleague at the same address signs in as usual
    ok = _admin_login(Client(), "chief2", PASSWORD)
    assert ok.status_code == 302 and ok["Location"] == "/admin/"
    assert chief.pk  # the account itself is untouched (a time-limited lock, not a disabled account)


def _device(username, password):
    return APIClient().post("/api/v1/auth/device", {"username": username, "password": password,
                                                    "device_id": "phone-1"}, format="json")


def test_device_sign_in_locks_out_with_a_json_answer(mini_city, settings):
    make_user("w1", Role.GRID_WORKER, areas=[mini_city.communities[0]])
    make_user("w2", Role.GRID_WORKER, areas=[mini_city.communities[0]])
    answers = [_device("w1", "wrong-password-1") for _ in range(settings.AXES_FAILURE_LIMIT)]
    assert [a.status_code for a in answers[:-1]] == [400] * (settings.AXES_FAILURE_LIMIT - 1)
    assert all(a.json()["code"] == "bad_credentials" for a in answers[:-1])
    last = answers[-1]
    assert last.status_code == 429 and last["Content-Type"].startswith("application/json")
    assert last.json()["code"] == "locked_out" and "15 分钟" in last.json()["detail"]
    assert last.json()["retry_after_s"] == 900
    right = _device("w1", PASSWORD)
    assert right.status_code == 429 and right.json()["code"] == "locked_out"
    assert _device("w2", PASSWORD).status_code == 200


def test_a_successful_sign_in_resets_the_count(mini_city, settings):
    make_user("w1", Role.GRID_WORKER, areas=[mini_city.communities[0]])
    for _ in range(2):
        for _ in range(settings.AXES_FAILURE_LIMIT - 1):
            assert _device("w1", "wrong-password-1").status_code == 400
        assert _device("w1", PASSWORD).status_code == 200


def test_page_sessions_end_after_eight_hours_and_with_the_browser(mini_city):
    make_user("chief", Role.STATION_CHIEF, areas=[mini_city.districts[0]])
    client = Client()
    assert _admin_login(client, "chief", PASSWORD).status_code == 302
    session = client.session
    assert session.get_expiry_age() == 8 * 3600
    assert session.get_expire_at_browser_close() is True
    cookie = client.cookies["sessionid"]
    assert cookie["httponly"] and not cookie["expires"]  # a browser-session cookie
