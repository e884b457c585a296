"""The live board, completion and reminders, the roadshow control desk and the projector."""

import re
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from judging import services
from judging.models import Roadshow, RoadshowPhase
from tests import factories
from venture.audit.models import AuditEvent
from venture.competitions.models import Stage

D = Decimal
# Weights equal maximum points (25/25/30/20), so a sheet's total is the sum of its points.
SHEET_87_50 = (D("22.5"), D("22"), D("26"), D("17"))
SHEET_81_50 = (D("21.5"), D("20"), D("25"), D("15"))


def submit(assignment, points, by=None):
    criteria = list(assignment.panel.competition.criteria.all())
    return services.save_sheet(
        assignment=assignment,
        by=by or assignment.judge.user,
        points={c.pk: p for c, p in zip(criteria, points, strict=True)},
        comment="",
        expected_version=0,
        submit=True,
    )


def final_round(n_proposals, n_judges, prefix="judge", **extra):
    competition = factories.competition(stage=Stage.FINAL, score_step=D("0.5"), **extra)
    proposals = factories.finalists(competition, n_proposals)
    judges = [factories.judge(f"{prefix}{i:02d}", full_name=f"评委{i:02d}") for i in range(1, n_judges + 1)]
    return competition, proposals, judges


def url(name, competition, stage=None):
    args = [competition.pk] if stage is None else [competition.pk, stage]
    return reverse(f"judging:{name}", args=args)


def cells(html):
    return {
        state: len(re.findall(rf'data-state="{state}"', html))
        for state in ("submitted", "scoring", "pending", "recused", "none")
    }


# --- Live board ------------------------------------------------------------------------------------------------------


@pytest.fixture
def big_round(db):
    """12 finalists × 9 judges: 3 sheets submitted (87.50, 87.50, 81.50), 1 draft, 1 recusal, 1 undeclared."""
    competition, proposals, judges = final_round(12, 9)
    assignments = factories.final_panel(
        competition, judges, proposals, recused=[(judges[8], proposals[0])], pending=[(judges[7], proposals[11])]
    )
    submit(assignments[judges[0].pk, proposals[0].pk], SHEET_87_50)
    submit(assignments[judges[1].pk, proposals[0].pk], SHEET_87_50)
    submit(assignments[judges[0].pk, proposals[1].pk], SHEET_81_50)
    draft = assignments[judges[2].pk, proposals[0].pk]
    services.save_sheet(assignment=draft, by=draft.judge.user, points={}, comment="", expected_version=0)
    return competition, proposals, judges


def test_board_shows_states_and_never_a_score(client, staff, big_round):
    competition, proposals, judges = big_round
    client.force_login(staff)
    page = client.get(url("board", competition, "final"))
    assert page.status_code == 200
    partial = client.get(url("board_cells", competition, "final"))
    assert partial.status_code == 200
    body = partial.content.decode()
    # 108 cells: 3 submitted, 1 recused, 1 conflict not yet declared, the other 103 declared clear (one a draft)
    assert cells(body) == {"submitted": 3, "scoring": 103, "pending": 1, "recused": 1, "none": 0}
    assert body.count("✓") == 3
    for html in (page.content.decode(), body):
        for figure in ("87.5", "87,5", "81.5", "22.5", "21.5"):
            assert figure not in html
    # the partial is only the polled table, not a page
    assert "<html" not in body and 'hx-trigger="every 5s"' in body
    assert f'hx-get="{url("board_cells", competition, "final")}"' in body
    # every judge has a column, every proposal a row, and the ranking link waits for the last sheet
    assert all(j.user.full_name in body for j in judges)
    assert all(p.title in body for p in proposals)
    assert reverse("judging:ranking", args=[competition.pk, "final"]) not in body


def test_board_counts_are_the_exact_figures(client, staff, big_round):
    competition, _proposals, _judges = big_round
    client.force_login(staff)
    client.cookies["django_language"] = "en"
    body = client.get(url("board_cells", competition, "final")).content.decode()
    assert "3 of 107 sheets in" in body  # 108 assignments, one recused
    assert body.count(">Recused<") == 1


def test_board_rows_follow_title_then_roadshow_order(client, staff, db):
    competition, proposals, judges = final_round(5, 2)
    factories.final_panel(competition, judges, list(reversed(proposals)))
    client.force_login(staff)
    body = client.get(url("board_cells", competition, "final")).content.decode()
    assert [body.index(p.title) for p in proposals] == sorted(body.index(p.title) for p in proposals)
    roadshow = services.draw_order(competition=competition, seed="order-test", by=staff)
    drawn = [s.proposal.title for s in roadshow.slots.select_related("proposal")]
    assert drawn != [p.title for p in proposals]  # this seed does shuffle
    body = client.get(url("board_cells", competition, "final")).content.decode()
    assert [body.index(t) for t in drawn] == sorted(body.index(t) for t in drawn)


def test_complete_board_links_to_the_ranking(client, staff, db):
    competition, proposals, judges = final_round(2, 2)
    assignments = factories.final_panel(competition, judges, proposals, recused=[(judges[1], proposals[1])])
    for key, assignment in assignments.items():
        if key != (judges[1].pk, proposals[1].pk):
            submit(assignment, SHEET_81_50)
    client.force_login(staff)
    body = client.get(url("board_cells", competition, "final")).content.decode()
    assert reverse("judging:ranking", args=[competition.pk, "final"]) in body
    assert "81.5" not in body


def test_unknown_stage_is_404(client, staff, competition):
    client.force_login(staff)
    for name in ("board", "board_cells", "progress"):
        assert client.get(url(name, competition, "semifinal")).status_code == 404
    assert client.post(url("remind", competition, "semifinal")).status_code == 404


def test_prescoring_board(client, auditor, db):
    competition, proposals, judges = final_round(3, 2)
    factories.final_panel(competition, judges, proposals, stage="prescoring")
    client.force_login(auditor)
    body = client.get(url("board_cells", competition, "prescoring")).content.decode()
    assert cells(body)["scoring"] == 6


@pytest.mark.parametrize("n_proposals, n_judges", [(3, 3), (12, 9)])
def test_board_and_progress_queries_do_not_grow(
    client, staff, db, django_assert_max_num_queries, n_proposals, n_judges
):
    competition, proposals, judges = final_round(n_proposals, n_judges)
    assignments = factories.final_panel(competition, judges, proposals, recused=[(judges[-1], proposals[0])])
    submit(assignments[judges[0].pk, proposals[0].pk], SHEET_87_50)
    services.draw_order(competition=competition, by=staff)
    client.force_login(staff)
    for name in ("board", "board_cells", "progress"):
        with django_assert_max_num_queries(8):
            assert client.get(url(name, competition, "final")).status_code == 200


# --- Completion and reminders ----------------------------------------------------------------------------------------


def test_progress_per_judge_and_missing_sheets(client, staff, db):
    competition, proposals, judges = final_round(2, 3)
    assignments = factories.final_panel(competition, judges, proposals, recused=[(judges[2], proposals[0])])
    submit(assignments[judges[0].pk, proposals[0].pk], SHEET_87_50)
    submit(assignments[judges[0].pk, proposals[1].pk], SHEET_87_50)
    client.force_login(staff)
    client.cookies["django_language"] = "en"
    response = client.get(url("progress", competition, "final"))
    assert response.status_code == 200
    progress = response.context["progress"]
    assert [(r["judge"].pk, r["assigned"], r["recused"], r["submitted"], r["missing"]) for r in progress["judges"]] == [
        (judges[0].pk, 2, 0, 2, 0),
        (judges[1].pk, 2, 0, 0, 2),
        (judges[2].pk, 2, 1, 0, 1),
    ]
    assert sorted((p.pk, j.pk) for p, j in progress["missing"]) == sorted(
        [(proposals[0].pk, judges[1].pk), (proposals[1].pk, judges[1].pk), (proposals[1].pk, judges[2].pk)]
    )
    body = response.content.decode()
    assert "2 of 5 sheets in" in body
    assert "Missing score sheets" in body and "E-mail a reminder" in body
    assert "87.5" not in body


def test_remind_emails_judges_with_missing_sheets(client, staff, db, mailoutbox):
    competition, proposals, judges = final_round(2, 3)
    assignments = factories.final_panel(competition, judges, proposals, recused=[(judges[2], proposals[0])])
    for p in proposals:
        submit(assignments[judges[0].pk, p.pk], SHEET_87_50)
    client.force_login(staff)
    client.cookies["django_language"] = "en"
    response = client.post(url("remind", competition, "final"), follow=True)
    assert response.redirect_chain[-1][0] == url("progress", competition, "final")
    assert sorted(m.to[0] for m in mailoutbox) == [judges[1].user.email, judges[2].user.email]
    subjects = {m.to[0]: m.subject for m in mailoutbox}
    assert "2" in subjects[judges[1].user.email] and "1" in subjects[judges[2].user.email]
    assert "Reminder e-mailed to 2 judges." in response.content.decode()
    event = AuditEvent.objects.get(action="judging.remind")
    assert event.after == {"stage": "final", "judges": 2}


def test_remind_when_nothing_is_missing(client, staff, db, mailoutbox):
    competition, proposals, judges = final_round(1, 1)
    assignments = factories.final_panel(competition, judges, proposals)
    submit(assignments[judges[0].pk, proposals[0].pk], SHEET_87_50)
    client.force_login(staff)
    client.cookies["django_language"] = "en"
    response = client.post(url("remind", competition, "final"), follow=True)
    assert mailoutbox == []
    assert "nobody was reminded" in response.content.decode()


def test_remind_is_post_only(client, staff, competition):
    client.force_login(staff)
    assert client.get(url("remind", competition, "final")).status_code == 405


# --- Draw by lot -----------------------------------------------------------------------------------------------------


def order_of(roadshow):
    return list(roadshow.slots.order_by("position").values_list("proposal_id", flat=True))


def test_draw_order_records_seed_and_is_reproducible(staff, db):
    competition, proposals, _judges = final_round(12, 1)
    roadshow = services.draw_order(competition=competition, seed="2026-final", by=staff)
    first = order_of(roadshow)
    assert roadshow.seed == "2026-final" and roadshow.draws == 1
    assert sorted(first) == sorted(p.pk for p in proposals)
    assert list(roadshow.slots.values_list("position", flat=True)) == list(range(1, 13))
    assert AuditEvent.objects.get(action="roadshow.draw").after == {"seed": "2026-final", "order": first}
    again = services.draw_order(competition=competition, seed="2026-final", reason="公证员复核抽签结果", by=staff)
    assert order_of(again) == first
    other = services.draw_order(competition=competition, seed="another-seed", reason="复核", by=staff)
    assert order_of(other) != first and sorted(order_of(other)) == sorted(first)


def test_draw_through_the_page_shows_the_seed(client, staff, db):
    competition, proposals, _judges = final_round(4, 1)
    client.force_login(staff)
    page = client.get(url("roadshow", competition))
    assert page.status_code == 200 and all(p.title in page.content.decode() for p in proposals)
    response = client.post(url("roadshow", competition), {"action": "draw"}, follow=True)
    roadshow = Roadshow.objects.get(competition=competition)
    assert len(roadshow.seed) == 16 and roadshow.draws == 1
    body = response.content.decode()
    assert roadshow.seed in body
    assert "data-print" in body and 'class="no-print' in body
    titles = [s.proposal.title for s in roadshow.slots.select_related("proposal")]
    assert [body.index(t) for t in titles] == sorted(body.index(t) for t in titles)


def test_redraw_needs_a_reason_and_is_audited(client, staff, db):
    competition, _proposals, _judges = final_round(5, 1)
    client.force_login(staff)
    client.cookies["django_language"] = "en"
    client.post(url("roadshow", competition), {"action": "draw"})
    roadshow = Roadshow.objects.get(competition=competition)
    seed, order = roadshow.seed, order_of(roadshow)
    response = client.post(url("roadshow", competition), {"action": "draw", "reason": "  "}, follow=True)
    assert "give the reason for a redraw" in response.content.decode()
    roadshow.refresh_from_db()
    assert (roadshow.seed, roadshow.draws, order_of(roadshow)) == (seed, 1, order)
    assert not AuditEvent.objects.filter(action="roadshow.redraw").exists()
    client.post(url("roadshow", competition), {"action": "draw", "reason": "抽签时公证员未到场"})
    roadshow.refresh_from_db()
    assert roadshow.draws == 2 and roadshow.seed != seed
    event = AuditEvent.objects.get(action="roadshow.redraw")
    assert event.note == "抽签时公证员未到场"
    assert event.before == {"order": order} and event.after["seed"] == roadshow.seed


def test_no_redraw_once_the_roadshow_has_started(client, staff, db):
    competition, _proposals, _judges = final_round(3, 1)
    roadshow = services.draw_order(competition=competition, seed="s", by=staff)
    client.force_login(staff)
    client.cookies["django_language"] = "en"
    client.post(url("roadshow", competition), {"action": "next"})
    response = client.post(url("roadshow", competition), {"action": "draw", "reason": "再抽一次"}, follow=True)
    assert "can no longer be redrawn" in response.content.decode()
    assert Roadshow.objects.get(pk=roadshow.pk).draws == 1


# --- Now presenting and the projector -------------------------------------------------------------------------------


def test_start_presentation_shows_on_the_projector(client, staff, auditor, db):
    competition, _proposals, _judges = final_round(3, 1)
    roadshow = services.draw_order(competition=competition, seed="s", by=staff)
    second = roadshow.slots.get(position=2)
    client.force_login(staff)
    client.cookies["django_language"] = "en"
    response = client.post(
        url("roadshow", competition), {"action": "phase", "slot": second.pk, "phase": "presentation"}
    )
    assert response.status_code == 302
    client.force_login(auditor)
    before = timezone.now()
    state = client.get(url("projector_state", competition)).json()
    assert state["phase"] == "presentation" and state["phase_label"] == "Presentation"
    assert state["duration"] == 8 * 60
    assert (state["position"], state["count"]) == (2, 3)
    assert state["title"] == second.proposal.title
    assert state["organization"] == second.proposal.organization.name
    started, server_now = datetime.fromisoformat(state["started_at"]), datetime.fromisoformat(state["server_now"])
    assert started <= server_now and before - timedelta(seconds=1) <= server_now <= timezone.now()
    # Counts of sheets only (issue #17), never a score or a judge's name.
    assert set(state) == {
        "position",
        "count",
        "proposal",
        "title",
        "organization",
        "phase",
        "phase_label",
        "started_at",
        "paused_at",
        "duration",
        "scoring_open",
        "submitted",
        "expected",
        "sheets_label",
        "server_now",
    }
    assert (state["proposal"], state["paused_at"], state["scoring_open"]) == (second.proposal.pk, None, True)
    assert (state["submitted"], state["expected"], state["sheets_label"]) == (0, 0, "Scoring open · 0 of 0 sheets in")
    event = AuditEvent.objects.get(action="roadshow.phase")
    assert event.after == {"slot": 2, "phase": "presentation"}


def test_qa_uses_the_rounds_qa_minutes_and_finish_stops_the_timer(client, staff, db):
    competition, _proposals, _judges = final_round(2, 1, qa_minutes=5)
    roadshow = services.draw_order(competition=competition, seed="s", by=staff)
    slot = roadshow.slots.get(position=1)
    client.force_login(staff)
    client.post(url("roadshow", competition), {"action": "phase", "slot": slot.pk, "phase": "qa"})
    state = client.get(url("projector_state", competition)).json()
    assert (state["phase"], state["duration"]) == ("qa", 300)
    client.post(url("roadshow", competition), {"action": "phase", "slot": slot.pk, "phase": "done"})
    state = client.get(url("projector_state", competition)).json()
    assert (state["phase"], state["duration"], state["started_at"]) == ("done", None, None)


def test_next_finalist_walks_the_order(client, staff, db):
    competition, _proposals, _judges = final_round(2, 1)
    services.draw_order(competition=competition, seed="s", by=staff)
    client.force_login(staff)
    client.cookies["django_language"] = "en"
    positions = []
    for _ in range(2):
        client.post(url("roadshow", competition), {"action": "next"})
        state = client.get(url("projector_state", competition)).json()
        positions.append((state["position"], state["phase"], state["duration"]))
    assert positions == [(1, "waiting", None), (2, "waiting", None)]
    response = client.post(url("roadshow", competition), {"action": "next"}, follow=True)
    assert "That was the last finalist." in response.content.decode()


def test_control_refuses_bad_input(client, staff, db):
    competition, _proposals, _judges = final_round(2, 1)
    other, _p, _j = final_round(1, 1, prefix="other")
    client.force_login(staff)
    client.cookies["django_language"] = "en"
    response = client.post(url("roadshow", competition), {"action": "next"}, follow=True)
    assert "Draw the presentation order first." in response.content.decode()
    services.draw_order(competition=competition, seed="s", by=staff)
    foreign = services.draw_order(competition=other, seed="s", by=staff).slots.get()
    assert (
        client.post(
            url("roadshow", competition), {"action": "phase", "slot": foreign.pk, "phase": "presentation"}
        ).status_code
        == 404
    )
    assert (
        client.post(
            url("roadshow", competition), {"action": "phase", "slot": "abc", "phase": "presentation"}
        ).status_code
        == 404
    )
    response = client.post(
        url("roadshow", competition),
        {"action": "phase", "slot": Roadshow.objects.get(competition=competition).slots.first().pk, "phase": "scoring"},
        follow=True,
    )
    assert "Unknown roadshow phase." in response.content.decode()
    assert Roadshow.objects.get(competition=competition).phase == RoadshowPhase.WAITING


def test_projector_page_is_big_and_dark_with_no_inline_script(client, auditor, staff, db):
    competition, proposals, judges = final_round(2, 2)
    assignments = factories.final_panel(competition, judges, proposals)
    submit(assignments[judges[0].pk, proposals[0].pk], SHEET_87_50)
    services.draw_order(competition=competition, seed="s", by=staff)
    roadshow = Roadshow.objects.get(competition=competition)
    services.set_presenting(roadshow=roadshow, slot=roadshow.slots.get(position=1), phase="presentation", by=staff)
    client.force_login(auditor)
    response = client.get(url("projector", competition))
    body = response.content.decode()
    assert response.status_code == 200
    assert 'data-bs-theme="dark"' in body and "projector-timer" in body
    assert f'data-state-url="{url("projector_state", competition)}"' in body
    assert roadshow.slots.get(position=1).proposal.title in body
    assert re.findall(r"<script[^>]*>", body) == ['<script src="/static/js/roadshow.js">']
    for figure in ("87.5", "22.5"):
        assert figure not in body
        assert figure not in client.get(url("projector_state", competition)).content.decode()


def test_projector_before_the_draw(client, staff, competition):
    client.force_login(staff)
    state = client.get(url("projector_state", competition)).json()
    assert (state["position"], state["phase"], state["duration"], state["title"]) == (None, "waiting", None, "")
    assert client.get(url("projector", competition)).status_code == 200


# --- Permissions -----------------------------------------------------------------------------------------------------

GET_PAGES = [
    ("board", "final"),
    ("board_cells", "final"),
    ("progress", "final"),
    ("roadshow", None),
    ("projector", None),
    ("projector_state", None),
]


@pytest.mark.parametrize("who", ["applicant", "judge", "supervisor"])
def test_outsiders_get_403(client, db, who):
    competition, proposals, judges = final_round(1, 1)
    factories.final_panel(competition, judges, proposals)
    services.draw_order(competition=competition, seed="s", by=None)
    person = judges[0].user if who == "judge" else factories.user(f"x_{who}", role=who)
    client.force_login(person)
    for name, stage in GET_PAGES:
        assert client.get(url(name, competition, stage)).status_code == 403, name
    assert client.post(url("remind", competition, "final")).status_code == 403
    assert client.post(url("roadshow", competition), {"action": "draw", "reason": "x"}).status_code == 403
    assert Roadshow.objects.get(competition=competition).draws == 1


def test_outsiders_cannot_probe_round_ids(client, applicant_a):
    client.force_login(applicant_a)
    assert client.get(reverse("judging:board", args=[999999, "final"])).status_code == 403


def test_anonymous_is_sent_to_login(client, competition):
    response = client.get(url("projector_state", competition))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_auditor_watches_but_does_not_run_the_roadshow(client, auditor, staff, db, mailoutbox):
    competition, proposals, judges = final_round(2, 1)
    factories.final_panel(competition, judges, proposals)
    roadshow = services.draw_order(competition=competition, seed="s", by=staff)
    client.force_login(auditor)
    for name, stage in [
        ("board", "final"),
        ("board_cells", "final"),
        ("progress", "final"),
        ("projector", None),
        ("projector_state", None),
    ]:
        assert client.get(url(name, competition, stage)).status_code == 200, name
    assert client.get(url("roadshow", competition)).status_code == 403
    assert client.post(url("roadshow", competition), {"action": "next"}).status_code == 403
    assert (
        client.post(
            url("roadshow", competition),
            {"action": "phase", "slot": roadshow.slots.first().pk, "phase": "presentation"},
        ).status_code
        == 403
    )
    assert client.post(url("remind", competition, "final")).status_code == 403
    assert mailoutbox == []
    roadshow.refresh_from_db()
    assert (roadshow.current_id, roadshow.phase) == (None, RoadshowPhase.WAITING)
    # the auditor's progress page has no reminder button, and the board no ranking link or control desk link
    body = client.get(url("progress", competition, "final")).content.decode()
    assert url("remind", competition, "final") not in body
    assert (
        f'href="{url("roadshow", competition)}"' not in client.get(url("board", competition, "final")).content.decode()
    )


def test_board_poll_answers_304_while_nothing_changes(client, staff, db):
    competition, proposals, judges = final_round(2, 2)
    assignments = factories.final_panel(competition, judges, proposals)
    client.force_login(staff)
    client.cookies["django_language"] = "en"
    first = client.get(url("board_cells", competition, "final"))
    etag = first["ETag"]
    assert first.status_code == 200 and etag.startswith('"') and len(first.content) > 1000
    assert first["Cache-Control"] == "private, no-cache, max-age=0"  # kept only to be revalidated
    again = client.get(url("board_cells", competition, "final"), HTTP_IF_NONE_MATCH=etag)
    assert (again.status_code, again.content) == (304, b"")
    submit(assignments[judges[0].pk, proposals[0].pk], SHEET_81_50)
    changed = client.get(url("board_cells", competition, "final"), HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and changed["ETag"] != etag
    assert "1 of 4 sheets in" in changed.content.decode()
