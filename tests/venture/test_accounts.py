from decimal import Decimal

import pytest
from django.urls import reverse

from tests import factories
from venture.accounts.models import User
from venture.templatetags.venture_tags import money


def login(client, user):
    client.force_login(user)
    return client


def test_anonymous_is_sent_to_login(client, db):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/"


def test_anonymous_is_sent_to_login_from_a_staff_page(client, db):
    response = client.get(reverse("audit"))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_login_page_is_chinese_by_default(client, db):
    response = client.get("/accounts/login/")
    body = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="zh-CN">' in body
    assert "登录" in body


@pytest.mark.parametrize(
    "role, marker",
    [
        ("applicant", "我的机构与项目"),
        ("judge", "我的评审任务"),
        ("staff", "创投活动总览"),
        ("supervisor", "项目督导"),
        ("auditor", "审计与签批"),
    ],
)
def test_each_role_reaches_its_home(client, db, role, marker):
    user = factories.user(f"home_{role}", role=role)
    response = client.post("/accounts/login/", {"username": user.username, "password": factories.PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/"
    home = client.get("/")
    assert home.status_code == 200
    assert marker in home.content.decode()


def test_language_switch_turns_ui_to_english_and_back(client, staff):
    login(client, staff)
    assert "创投活动总览" in client.get("/").content.decode()
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302
    english = client.get("/").content.decode()
    assert "Rounds dashboard" in english
    assert '<html lang="en">' in english
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    assert "创投活动总览" in client.get("/").content.decode()


# Login throttling (django-axes) is tested in tests/venture/test_security.py.


def test_password_reset_sends_mail(client, db, mailoutbox):
    factories.user("resetme", email="resetme@example.org")
    response = client.post("/accounts/password/reset/", {"email": "resetme@example.org"})
    assert response.status_code == 302
    assert len(mailoutbox) == 1
    assert "/accounts/password/reset/" in mailoutbox[0].body


def test_password_change(client, db):
    user = factories.user("changer")
    client.force_login(user)
    response = client.post(
        "/accounts/password/change/",
        {"old_password": factories.PASSWORD, "new_password1": "Another-pass-77", "new_password2": "Another-pass-77"},
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("Another-pass-77")


def test_applicant_can_sign_up(client, db):
    response = client.post(
        "/accounts/signup/",
        {
            "username": "newngo",
            "full_name": "新机构联系人",
            "email": "new@example.org",
            "mobile": "13912345678",
            "password1": "Good-pass-2026",
            "password2": "Good-pass-2026",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("organizations:create")
    user = User.objects.get(username="newngo")
    assert user.role == "applicant"
    assert user.mobile == "13912345678"


def test_sign_up_rejects_weak_password_and_keeps_input(client, db):
    response = client.post(
        "/accounts/signup/",
        {
            "username": "weak",
            "full_name": "弱密码",
            "email": "weak@example.org",
            "mobile": "",
            "password1": "123",
            "password2": "123",
        },
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert 'value="weak@example.org"' in body
    assert "密码" in body


def test_english_browser_still_gets_chinese_by_default(client, staff):
    client.force_login(staff)
    body = client.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert "创投活动总览" in body


def test_money_filter():
    assert money(Decimal("1234567.5")) == "¥1,234,567.50"
    assert money(Decimal("0.005")) == "¥0.01"
    assert money(None) == ""


@pytest.mark.parametrize("n", [2, 40])
def test_judge_home_lists_every_assignment_in_constant_queries(client, db, django_assert_max_num_queries, n):
    competition = factories.competition(stage="final")
    judge = factories.judge("home_judge_n")
    proposals = [
        factories.proposal(competition, factories.organization(), status="finalist", title=f"提案{i:03d}")
        for i in range(n)
    ]
    factories.final_panel(competition, [judge], proposals, pending=[(judge, proposals[0])])
    client.force_login(judge.user)
    # session, user, the assignments with everything the list shows, and (a round in its final review) the drawn
    # roadshow order with the finalist on stage (issue #17)
    with django_assert_max_num_queries(4):
        body = client.get("/").content.decode()
    assert all(p.title in body for p in proposals)
    assert body.count(">评分</a>") == n - 1 and body.count(">声明利益冲突</a>") == 1  # one still to declare
