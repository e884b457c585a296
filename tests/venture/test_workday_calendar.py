"""Working days beyond the calendar library's years (issue #18): the installed chinesecalendar knows holidays up to
2026; staff enter 2027's schedule from the State Council's notice, the public notice counts with it, and from
1 November the staff dashboard asks for next year's schedule while it is missing."""

import datetime

import pytest
from django.utils import timezone

from tests.builders import build_round
from venture.audit.models import AuditEvent
from venture.awards import services as awards
from venture.awards.models import StatutoryDay
from venture.awards.workdays import add_working_days, missing_next_year

pytestmark = pytest.mark.django_db

D = datetime.date
SCHEDULE_2027 = {  # entries of a 2027 notice (the test's own figures): New Year and the Spring Festival
    "year": "2027",
    "holidays": "2027-01-01 元旦\n2027-02-06 至 2027-02-13 春节\n",
    "workdays": "2027-02-20 春节调休\n",
}


@pytest.fixture
def entered_2027(client, staff):
    client.force_login(staff)
    response = client.post("/results/calendar/", SCHEDULE_2027, follow=True)
    assert "2027 年节假日安排已保存（共 10 天）。" in response.content.decode()
    return response


def test_without_the_2027_schedule_the_count_is_monday_to_friday_and_says_so():
    assert add_working_days(D(2026, 12, 28), 5) == (D(2027, 1, 1), False)  # 1 January counted as a workday


def test_staff_enter_2027_and_the_count_uses_its_holidays_and_make_up_workdays(entered_2027, staff):
    assert [(d.date, d.kind, d.name) for d in StatutoryDay.objects.filter(date__month=2)][:2] == [
        (D(2027, 2, 6), "holiday", "春节"),
        (D(2027, 2, 7), "holiday", "春节"),
    ]
    assert add_working_days(D(2026, 12, 28), 5) == (D(2027, 1, 4), True)  # 28–31 Dec, then Monday 4 January
    # Spring Festival: 4 and 5 Feb work, 6–13 off, 15–19 work, Saturday 20 Feb is a make-up workday
    assert add_working_days(D(2027, 2, 4), 8) == (D(2027, 2, 20), True)
    event = AuditEvent.objects.get(action="calendar.year")
    assert event.after["year"] == 2027 and len(event.after["days"]) == 10


def test_the_public_notice_ends_by_the_entered_2027_schedule(entered_2027):
    c, staff, auditor, props = build_round()
    awards.propose_awards(competition=c, by=staff)
    notice = awards.publish_notice(competition=c, by=staff, starts_on=D(2026, 12, 28))
    assert (notice.ends_on, notice.calendar_covered) == (D(2027, 1, 4), True)


def test_entering_a_year_the_library_knows_or_a_date_outside_the_year_is_refused(client, staff):
    client.force_login(staff)
    body = client.post("/results/calendar/", {**SCHEDULE_2027, "year": "2026"}).content.decode()
    assert "日历已包含 2026 年的节假日安排，无需录入。" in body
    body = client.post("/results/calendar/", {**SCHEDULE_2027, "workdays": "2028-01-02"}).content.decode()
    assert "以下日期不在 2027 年内：2028-01-02。" in body
    body = client.post("/results/calendar/", {**SCHEDULE_2027, "holidays": "2027-13-01 元旦"}).content.decode()
    assert "第 1 行：“2027-13-01 元旦”不是日期（如 2027-01-01）或日期范围（如 2027-02-06 至 2027-02-13）。" in body
    assert StatutoryDay.objects.count() == 0


def test_only_staff_enter_the_schedule(client, applicant_a):
    client.force_login(applicant_a)
    assert client.post("/results/calendar/", SCHEDULE_2027).status_code == 403
    assert StatutoryDay.objects.count() == 0


def test_from_1_november_the_dashboard_warns_while_next_years_schedule_is_missing(client, staff, monkeypatch):
    assert missing_next_year(D(2026, 10, 31)) is None
    assert missing_next_year(D(2026, 11, 1)) == 2027
    assert missing_next_year(D(2025, 11, 1)) is None  # the library knows 2026
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: D(2026, 11, 1))
    client.force_login(staff)
    body = client.get("/").content.decode()
    assert "日历中还没有 2027 年的节假日安排：跨入 2027 年的公示期将只按周一至周五计算工作日。" in body
    assert '<a href="/results/calendar/?year=2027">立即录入</a>' in body
    client.post("/results/calendar/", SCHEDULE_2027)
    assert "holiday-schedule-missing" not in client.get("/").content.decode()
    assert missing_next_year(D(2026, 11, 1)) is None
