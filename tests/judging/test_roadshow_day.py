"""Issue #17, roadshow day: the console's timer actions (audited), the projector's counts, the big-screen board, the
judge's day view and the phone sheet (whole numbers, the JSON save the offline-tolerant script uses)."""

import json
import re
from datetime import timedelta
from decimal import Decimal as D

import pytest
from django.urls import reverse
from django.utils import timezone

from judging import services
from judging.models import Roadshow, ScoreSheet
from judging.rubric import plain_number, total_bands
from tests import factories
from venture.audit.models import AuditEvent
from venture.competitions.models import Stage

pytestmark = pytest.mark.django_db


def day(n_proposals=3, n_judges=3, recused=True):
    """A final review with the order drawn and the second finalist presenting; judge 3 recused from finalist 1."""
    staff = factories.user("day_staff", role="staff")
    competition = factories.competition(stage=Stage.FINAL)
    proposals = factories.finalists(competition, n_proposals)
    judges = [factories.judge(f"day_judge{i}", full_name=f"评委{i}") for i in range(1, n_judges + 1)]
    assignments = factories.final_panel(
        competition, judges, proposals, recused=[(judges[-1], proposals[0])] if recused else ()
    )
    roadshow = services.draw_order(competition=competition, seed="day", by=staff)
    return staff, competition, proposals, judges, assignments, roadshow


def submit(assignment, points=(20, 20, 24, 16), comment=""):
    criteria = list(assignment.panel.competition.criteria.all())
    return services.save_sheet(
        assignment=assignment,
        by=assignment.judge.user,
        comment=comment,
        expected_version=0,
        points={c.pk: D(p) for c, p in zip(criteria, points, strict=True)},
        submit=True,
    )


def control(client, competition, **data):
    return client.post(reverse("judging:roadshow", args=[competition.pk]), data)


# --- Staff console: pause, resume, +1 minute, reset, each audited ------------------------------------------------------


def test_console_timer_actions_are_audited_and_move_the_timer(client):
    staff, competition, _p, _j, _a, roadshow = day()
    slot = roadshow.slots.get(position=2)
    client.force_login(staff)
    control(client, competition, action="phase", slot=slot.pk, phase="presentation")
    started = Roadshow.objects.get(pk=roadshow.pk).phase_started_at
    # Pause: the clock stands still.
    assert control(client, competition, action="timer", op="pause").status_code == 302
    paused = Roadshow.objects.get(pk=roadshow.pk)
    assert paused.paused_at is not None and paused.phase_started_at == started
    state = client.get(reverse("judging:projector_state", args=[competition.pk])).json()
    assert state["paused_at"] == paused.paused_at.isoformat(timespec="milliseconds")
    # Resume 30 s later (moved back in time): the start moves forward by the pause, the time left is unchanged.
    Roadshow.objects.filter(pk=roadshow.pk).update(paused_at=paused.paused_at - timedelta(seconds=30))
    control(client, competition, action="timer", op="resume")
    resumed = Roadshow.objects.get(pk=roadshow.pk)
    assert resumed.paused_at is None
    moved = resumed.phase_started_at - started
    assert timedelta(seconds=30) <= moved < timedelta(seconds=31)
    # +1 minute twice: the duration grows by 120 s.
    control(client, competition, action="timer", op="extend")
    control(client, competition, action="timer", op="extend")
    state = client.get(reverse("judging:projector_state", args=[competition.pk])).json()
    assert state["duration"] == 8 * 60 + 120
    # Reset: from zero, the extra minutes gone.
    before = timezone.now()
    control(client, competition, action="timer", op="reset")
    reset = Roadshow.objects.get(pk=roadshow.pk)
    assert (reset.extra_seconds, reset.paused_at) == (0, None) and reset.phase_started_at >= before
    events = list(
        AuditEvent.objects.filter(action__startswith="roadshow.")
        .exclude(action__in=["roadshow.draw", "roadshow.phase"])
        .order_by("pk")
        .values_list("action", "actor", "after")
    )
    assert [(a, actor) for a, actor, _after in events] == [
        ("roadshow.pause", staff.pk),
        ("roadshow.resume", staff.pk),
        ("roadshow.extend", staff.pk),
        ("roadshow.extend", staff.pk),
        ("roadshow.reset", staff.pk),
    ]
    assert events[0][2] == {"phase": "presentation", "slot": 2, "paused": True, "extra_seconds": 0}
    assert events[3][2] == {"phase": "presentation", "slot": 2, "paused": False, "extra_seconds": 120}


def test_a_new_phase_starts_without_the_pause_and_extra_minutes(client):
    staff, competition, _p, _j, _a, roadshow = day()
    slot = roadshow.slots.get(position=1)
    services.set_presenting(roadshow=roadshow, slot=slot, phase="presentation", by=staff)
    services.control_timer(roadshow=roadshow, action="extend", by=staff)
    services.control_timer(roadshow=roadshow, action="pause", by=staff)
    services.set_presenting(roadshow=roadshow, slot=slot, phase="qa", by=staff)
    roadshow.refresh_from_db()
    assert (roadshow.paused_at, roadshow.extra_seconds) == (None, 0)


def test_timer_actions_refused_without_a_running_phase_or_twice(client):
    staff, competition, _p, _j, _a, roadshow = day()
    client.force_login(staff)
    client.cookies["django_language"] = "en"
    response = client.post(
        reverse("judging:roadshow", args=[competition.pk]), {"action": "timer", "op": "pause"}, follow=True
    )
    assert "No timer is running: start a presentation or a Q&amp;A first." in response.content.decode()
    services.set_presenting(roadshow=roadshow, slot=roadshow.slots.first(), phase="qa", by=staff)
    response = client.post(
        reverse("judging:roadshow", args=[competition.pk]), {"action": "timer", "op": "resume"}, follow=True
    )
    assert "The timer is not paused." in response.content.decode()
    response = client.post(
        reverse("judging:roadshow", args=[competition.pk]), {"action": "timer", "op": "stop"}, follow=True
    )
    assert "Unknown timer action." in response.content.decode()
    assert not AuditEvent.objects.filter(action__in=["roadshow.pause", "roadshow.resume", "roadshow.stop"]).exists()


def test_console_has_shortcut_buttons(client):
    staff, competition, _p, _j, _a, roadshow = day()
    services.set_presenting(roadshow=roadshow, slot=roadshow.slots.first(), phase="presentation", by=staff)
    client.force_login(staff)
    html = client.get(reverse("judging:roadshow", args=[competition.pk])).content.decode()
    assert re.search(r'name="op" value="pause"><button[^>]*data-key="space"', html)
    assert 'data-key="n"' in html and "data-console" in html and "data-chime-toggle" in html
    services.control_timer(roadshow=roadshow, action="pause", by=staff)
    html = client.get(reverse("judging:roadshow", args=[competition.pk])).content.decode()
    assert re.search(r'name="op" value="resume"><button[^>]*data-key="space"', html)


# --- Projector and big screen: counts only ---------------------------------------------------------------------------


def test_projector_shows_counts_only(client, auditor):
    staff, competition, proposals, judges, assignments, roadshow = day()
    first = roadshow.slots.get(position=1)
    services.set_presenting(roadshow=roadshow, slot=first, phase="qa", by=staff)
    on_stage = first.proposal
    submitted = [j for j in judges if (j.pk, on_stage.pk) in assignments][:1]
    submit(assignments[(submitted[0].pk, on_stage.pk)], comment="很好")
    client.force_login(auditor)
    client.cookies["django_language"] = "en"
    state = client.get(reverse("judging:projector_state", args=[competition.pk])).json()
    recused = on_stage == proposals[0]
    expected = 2 if recused else 3
    assert (state["submitted"], state["expected"]) == (1, expected)
    assert state["sheets_label"] == f"Scoring open · 1 of {expected} sheets in"
    body = json.dumps(state, ensure_ascii=False)
    for judge in judges:  # no judge's name, never a score or a total
        assert judge.user.display_name not in body and judge.user.username not in body
    assert "total" not in body and "score" not in body.replace("scoring_open", "")
    html = client.get(reverse("judging:projector", args=[competition.pk])).content.decode()
    assert f"Scoring open · 1 of {expected} sheets in" in html
    competition.stage = Stage.RESULTS
    competition.save()
    state = client.get(reverse("judging:projector_state", args=[competition.pk])).json()
    assert state["sheets_label"] == f"Scoring closed · 1 of {expected} sheets in"


def test_hall_board_has_no_names_no_buttons(client, auditor):
    staff, competition, proposals, judges, assignments, roadshow = day()
    services.set_presenting(roadshow=roadshow, slot=roadshow.slots.get(position=2), phase="presentation", by=staff)
    submit(assignments[(judges[0].pk, proposals[1].pk)])
    client.force_login(auditor)
    html = client.get(reverse("judging:hall_board", args=[competition.pk])).content.decode()
    for judge in judges:
        assert judge.user.display_name not in html
    assert "<button" not in html and "<form" not in html and "ranking" not in html
    order = list(roadshow.slots.values_list("proposal__title", flat=True))
    assert [m for m in re.findall(r"入围项目\d\d", html)] == order
    assert html.count('aria-current="true"') == 1
    assert re.search(r'class="on-stage[^"]*"[^>]*>\s*<td class="num">2</td>', html)
    # 8 sheets expected (3 judges x 3 finalists, one recusal), one in.
    client.cookies["django_language"] = "en"
    html = client.get(reverse("judging:hall_board", args=[competition.pk])).content.decode()
    assert "Presentation · 1 of 8 sheets in" in html


@pytest.mark.parametrize("n_proposals", [3, 12])
def test_projector_and_hall_board_constant_queries(client, auditor, django_assert_max_num_queries, n_proposals):
    staff, competition, proposals, judges, assignments, roadshow = day(n_proposals, 4)
    services.set_presenting(roadshow=roadshow, slot=roadshow.slots.get(position=2), phase="presentation", by=staff)
    client.force_login(auditor)
    client.get(reverse("judging:projector_state", args=[competition.pk]))  # warm the session
    with django_assert_max_num_queries(6):
        assert client.get(reverse("judging:projector_state", args=[competition.pk])).status_code == 200
    with django_assert_max_num_queries(9):
        assert client.get(reverse("judging:hall_board_cells", args=[competition.pk])).status_code == 200


# --- The judge's day view ----------------------------------------------------------------------------------------------


def test_judge_home_puts_todays_roadshow_first_in_drawn_order(client, django_assert_max_num_queries):
    staff, competition, proposals, judges, assignments, roadshow = day()
    judge = judges[0]
    earlier = factories.competition(stage=Stage.RESULTS, title="去年的创投")
    old = factories.finalists(earlier, 2)
    factories.final_panel(earlier, [judge], old)
    services.set_presenting(roadshow=roadshow, slot=roadshow.slots.get(position=2), phase="presentation", by=staff)
    submit(assignments[(judge.pk, roadshow.slots.get(position=1).proposal_id)])
    client.force_login(judge.user)
    client.cookies["django_language"] = "en"
    with django_assert_max_num_queries(9):
        html = client.get(reverse("home")).content.decode()
    today, rest = html.split("Earlier rounds and other assignments (2)")
    order = list(roadshow.slots.values_list("proposal__title", flat=True))
    assert re.findall(r"<strong>(入围项目\d\d)</strong>", today) == order
    assert "去年的创投" not in today and "去年的创投" in rest
    on_stage = roadshow.slots.get(position=2)
    sheet_url = reverse("judging:sheet", args=[assignments[(judge.pk, on_stage.proposal_id)].pk])
    assert re.search(rf'data-day-open href="{sheet_url}"', today)
    assert re.search(rf'list-group-item-warning" data-proposal="{on_stage.proposal_id}"', today)
    assert 'Next up:</span> <span data-day-field="next">3. ' in today
    assert "1 of 3 sheets submitted" in today
    state = client.get(reverse("judging:day_state", args=[competition.pk])).json()
    assert (state["proposal"], state["position"], state["phase"]) == (on_stage.proposal_id, 2, "presentation")


def test_day_state_refuses_a_judge_of_another_panel(client):
    _staff, competition, *_rest = day()
    stranger = factories.judge("stranger")
    client.force_login(stranger.user)
    assert client.get(reverse("judging:day_state", args=[competition.pk])).status_code == 404


# --- The phone sheet -----------------------------------------------------------------------------------------------------


def test_whole_point_draft_shows_whole_numbers_and_numeric_keyboard(client):
    _staff, competition, proposals, judges, assignments, _roadshow = day()
    assignment = assignments[(judges[0].pk, proposals[1].pk)]
    criteria = list(competition.criteria.all())
    services.save_sheet(
        assignment=assignment,
        by=judges[0].user,
        comment="",
        expected_version=0,
        points={criteria[0].pk: D("20"), criteria[1].pk: D("21.0")},
    )
    client.force_login(judges[0].user)
    html = client.get(reverse("judging:sheet", args=[assignment.pk])).content.decode()
    assert f'name="c_{criteria[0].pk}" value="20"' in html and f'name="c_{criteria[1].pk}" value="21"' in html
    assert "20.0" not in html and 'inputmode="numeric"' in html and 'inputmode="decimal"' not in html
    assert 'data-weight="25" data-max="25"' in html


def test_plain_number_and_total_bands():
    assert [plain_number(v) for v in (D("20.0"), D("20.5"), None)] == [20, D("20.5"), None]
    competition = factories.competition()
    bands = [
        [(21, 25, "优秀"), (16, 20, "良好")],
        [(21, 25, "优秀"), (16, 20, "良好")],
        [(25, 30, "优秀"), (19, 24, "良好")],
        [(17, 20, "优秀"), (13, 16, "良好")],
    ]
    criteria = list(competition.criteria.all())
    for c, b in zip(criteria, bands, strict=True):
        c.bands = [{"min": lo, "max": hi, "label": label} for lo, hi, label in b]
    assert total_bands(criteria) == [
        {"label": "优秀", "min": 84.0, "max": 100.0},
        {"label": "良好", "min": 64.0, "max": 80.0},
    ]
    criteria[0].bands = []
    assert total_bands(criteria) == []


def test_sheet_save_by_script_answers_json_and_keeps_nothing_back(client):
    _staff, competition, proposals, judges, assignments, _roadshow = day()
    assignment = assignments[(judges[0].pk, proposals[1].pk)]
    criteria = list(competition.criteria.all())
    client.force_login(judges[0].user)
    client.cookies["django_language"] = "en"
    url = reverse("judging:sheet", args=[assignment.pk])
    headers = {"X-Requested-With": "fetch"}
    data = {"version": 0, "comment": "", f"c_{criteria[0].pk}": "20", "save": "1"}
    response = client.post(url, data, headers=headers)
    assert response.json() == {"ok": True, "version": 1, "submitted": False, "message": "Draft saved.", "redirect": ""}
    # Stale version: 409, nothing written.
    response = client.post(url, {**data, "version": 0}, headers=headers)
    assert response.status_code == 409 and response.json()["stale"] is True
    # Submit with a total above 90 and no comment: the comment rule, in JSON.
    full = {
        "version": 1,
        "comment": "",
        "submit": "1",
        **{f"c_{c.pk}": str(c.max_points.normalize()) for c in criteria},
    }
    response = client.post(url, full, headers=headers)
    assert response.status_code == 400
    assert response.json()["errors"] == {"comment": ["A total below 60 or above 90 needs a comment explaining it."]}
    response = client.post(url, {**full, "comment": "全部满分"}, headers=headers)
    assert response.json() == {
        "ok": True,
        "version": 2,
        "submitted": True,
        "message": "Score sheet submitted. Thank you.",
        "redirect": reverse("home"),
    }
    sheet = ScoreSheet.objects.get(assignment=assignment)
    assert (sheet.status, sheet.total) == ("submitted", D("100.00"))
    response = client.post(url, full, headers=headers)
    assert response.status_code == 409 and response.json()["locked"] is True
