"""Issue #17, the polls of the roadshow day (projector state, big-screen cells, live-board cells, the judges' day
state): each answers 304 Not Modified to the ETag it last gave while nothing changed, after one query beside the
session and the user and without building anything, and 200 with the new content as soon as a sheet, a declaration,
the finalist on stage, the phase or the timer changes. Permission is checked on every poll, 304 or not."""

import re
from decimal import Decimal as D

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from judging import queries, roadshow_views, services
from judging.models import Panel, ScoreSheet
from tests import factories
from venture.competitions.models import Stage

pytestmark = pytest.mark.django_db

# Session and user (the middlewares), then the round with its change token in one query.
QUERIES_UNCHANGED = 3
# Tables a 304 must not read: building the content would.
CONTENT_TABLES = ("judging_assignment", "judging_scoresheet", "judging_conflictdeclaration", "proposals_proposal")


def day(n_proposals=3, n_judges=3):
    """A final review with the order drawn and the second finalist presenting; judge 3 recused from finalist 1."""
    staff = factories.user("poll_staff", role="staff")
    competition = factories.competition(stage=Stage.FINAL)
    proposals = factories.finalists(competition, n_proposals)
    judges = [factories.judge(f"poll_judge{i}", full_name=f"评委{i}") for i in range(1, n_judges + 1)]
    assignments = factories.final_panel(competition, judges, proposals, recused=[(judges[-1], proposals[0])])
    roadshow = services.draw_order(competition=competition, seed="poll", by=staff)
    services.set_presenting(roadshow=roadshow, slot=roadshow.slots.get(position=2), phase="presentation", by=staff)
    return staff, competition, judges, assignments, roadshow


def submit(assignment, submit=True):
    criteria = list(assignment.panel.competition.criteria.all())
    sheet = ScoreSheet.objects.filter(assignment=assignment).first()
    return services.save_sheet(
        assignment=assignment,
        by=assignment.judge.user,
        comment="",
        expected_version=sheet.version if sheet else 0,
        points={c.pk: D(p) for c, p in zip(criteria, (20, 20, 24, 16), strict=True)},
        submit=submit,
    )


def on_stage(roadshow):
    roadshow.refresh_from_db()
    return roadshow.current.proposal_id


def poll_url(name, competition):
    if name == "board_cells":
        return reverse("judging:board_cells", args=[competition.pk, "final"])
    return reverse(f"judging:{name}", args=[competition.pk])


def unchanged(client, url, etag, sent=None):
    """Poll with ``etag`` (or the If-None-Match ``sent``): must be 304, empty, from QUERIES_UNCHANGED queries, none of
    them reading the content."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, HTTP_IF_NONE_MATCH=sent or etag)
    assert (response.status_code, response.content, response["ETag"]) == (304, b"", etag)
    assert response["Cache-Control"] == "private, no-cache, max-age=0"
    assert len(captured) == QUERIES_UNCHANGED, [q["sql"] for q in captured]
    read = [t for q in captured for t in CONTENT_TABLES if f'"{t}"' in q["sql"]]
    assert read == []
    return response


def changed(client, url, etag):
    response = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 200 and response["ETag"] != etag and response.content
    return response


# --- The projector ----------------------------------------------------------------------------------------------------


def test_projector_state_304_until_a_sheet_a_stage_change_or_the_timer(client, auditor):
    staff, competition, judges, assignments, roadshow = day()
    client.force_login(auditor)
    client.cookies["django_language"] = "en"
    url = poll_url("projector_state", competition)
    first = client.get(url)
    etag = first["ETag"]
    assert first.status_code == 200 and re.fullmatch(r'"[0-9a-f]{24}"', etag)
    assert first["Cache-Control"] == "private, no-cache, max-age=0"
    expected = first.json()["expected"]
    assert expected in (2, 3)  # judge 3 is recused from finalist 1
    assert first.json()["sheets_label"] == f"Scoring open · 0 of {expected} sheets in"
    unchanged(client, url, etag)
    unchanged(client, url, etag, sent=f'"other", W/{etag}')  # a weak or listed tag matches as well

    # a sheet of the finalist on stage is submitted: the count moves
    submit(assignments[judges[0].pk, on_stage(roadshow)])
    response = changed(client, url, etag)
    assert (response.json()["submitted"], response.json()["sheets_label"]) == (
        1,
        f"Scoring open · 1 of {expected} sheets in",
    )
    etag = unchanged(client, url, response["ETag"])["ETag"]

    # the timer is paused, then extended: each is a new state
    services.control_timer(roadshow=roadshow, action="pause", by=staff)
    response = changed(client, url, etag)
    assert response.json()["paused_at"] is not None
    services.control_timer(roadshow=roadshow, action="extend", by=staff)
    again = changed(client, url, response["ETag"])
    assert again.json()["duration"] == response.json()["duration"] + 60

    # the next finalist goes on stage
    services.set_presenting(roadshow=roadshow, slot=roadshow.slots.get(position=3), phase="presentation", by=staff)
    response = changed(client, url, again["ETag"])
    assert (response.json()["position"], response.json()["proposal"]) == (3, on_stage(roadshow))
    assert response.json()["sheets_label"] == f"Scoring open · 0 of {response.json()['expected']} sheets in"


def test_projector_poll_after_a_change_shows_exactly_what_the_projector_page_shows(client, auditor):
    """The poll builds the state from its token and the order (not the full rows): the same state as the page, which
    builds it from the full rows, and the same ETag as the full path would give."""
    staff, competition, judges, assignments, roadshow = day(4, 3)
    third = roadshow.slots.get(position=3)
    submit(assignments[(judges[0].pk, third.proposal_id)])
    services.set_presenting(roadshow=roadshow, slot=third, phase="qa", by=staff)
    client.force_login(auditor)
    polled = client.get(poll_url("projector_state", competition), HTTP_IF_NONE_MATCH='"stale"')
    page = client.get(reverse("judging:projector", args=[competition.pk]))
    row = roadshow_views._roadshow_row(competition.pk)
    full = roadshow_views._state(row.competition, row)
    state = polled.json()
    for name in ("server_now",):
        state.pop(name), full.pop(name)
    assert state == full
    assert (state["position"], state["count"], state["phase"], state["submitted"]) == (3, 4, "qa", 1)
    assert state["proposal"] == third.proposal_id and state["duration"] == competition.qa_minutes * 60
    assert polled["ETag"] == roadshow_views._projector_etag(row.competition, row)
    assert page.context["state"]["title"] == state["title"]


def test_projector_state_etag_follows_the_language(client, auditor):
    _staff, competition, *_rest = day()
    client.force_login(auditor)
    url = poll_url("projector_state", competition)
    client.cookies["django_language"] = "en"
    english = client.get(url)
    client.cookies["django_language"] = "zh-hans"
    chinese = changed(client, url, english["ETag"])
    assert (english.json()["phase_label"], chinese.json()["phase_label"]) == ("Presentation", "项目陈述")


def test_projector_state_before_the_draw_is_polled_as_well(client, staff, django_assert_max_num_queries):
    competition = factories.competition(stage=Stage.FINAL)
    client.force_login(staff)
    url = poll_url("projector_state", competition)
    first = client.get(url)
    assert first.status_code == 200 and first.json()["phase"] == "waiting"
    # no roadshow yet: the token finds nothing, then the round is fetched on its own
    with django_assert_max_num_queries(5):
        assert client.get(url, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304


# --- The big screen and the live board ----------------------------------------------------------------------------------


def test_hall_cells_304_until_a_sheet_or_the_finalist_on_stage_changes(client, auditor):
    staff, competition, judges, assignments, roadshow = day()
    client.force_login(auditor)
    client.cookies["django_language"] = "en"
    page = client.get(reverse("judging:hall_board", args=[competition.pk])).content.decode()
    etag = re.search(r'data-poll-etag="([^"]+)"', page).group(1).replace("&quot;", '"')
    assert 'src="/static/js/poll.js"' in page
    unchanged(client, poll_url("hall_board_cells", competition), etag)  # the page's first poll is already a 304

    submit(assignments[judges[0].pk, on_stage(roadshow)])
    response = changed(client, poll_url("hall_board_cells", competition), etag)
    body = response.content.decode()
    assert "Presentation · 1 of 8 sheets in" in body
    assert f'data-poll-etag="{response["ETag"].replace(chr(34), "&quot;")}"' in body  # for the next poll
    etag = unchanged(client, poll_url("hall_board_cells", competition), response["ETag"])["ETag"]

    services.set_presenting(roadshow=roadshow, slot=roadshow.slots.get(position=3), phase="qa", by=staff)
    body = changed(client, poll_url("hall_board_cells", competition), etag).content.decode()
    assert "Q&amp;A · 1 of 8 sheets in" in body
    assert re.search(r'class="on-stage[^"]*"[^>]*>\s*<td class="num">3</td>', body)


def test_live_board_cells_304_until_a_declaration_a_draft_or_an_unlock(client, staff):
    _staff, competition, judges, assignments, roadshow = day()
    client.force_login(staff)
    client.cookies["django_language"] = "en"
    url = poll_url("board_cells", competition)
    page = client.get(reverse("judging:board", args=[competition.pk, "final"])).content.decode()
    etag = re.search(r'data-poll-etag="([^"]+)"', page).group(1).replace("&quot;", '"')
    assert 'src="/static/js/poll.js"' in page
    unchanged(client, url, etag)

    draft = submit(assignments[judges[0].pk, on_stage(roadshow)], submit=False)  # a draft: "still scoring"
    etag = changed(client, url, etag)["ETag"]
    unchanged(client, url, etag)
    submit(assignments[judges[0].pk, on_stage(roadshow)])
    response = changed(client, url, etag)
    assert "1 of 8 sheets in" in response.content.decode()
    services.unlock_sheet(sheet=draft, reason="评委要求修改", by=staff)
    response = changed(client, url, response["ETag"])
    assert "0 of 8 sheets in" in response.content.decode()


def test_live_board_etag_depends_on_who_looks(client, staff, auditor):
    """Staff see the provisional-ranking link once complete, the auditor does not: never the other's 304."""
    _staff, competition, *_rest = day()
    url = poll_url("board_cells", competition)
    client.force_login(staff)
    staff_etag = client.get(url)["ETag"]
    client.force_login(auditor)
    assert client.get(url, HTTP_IF_NONE_MATCH=staff_etag).status_code == 200


# --- The judges' day state ----------------------------------------------------------------------------------------------


def test_day_state_304_until_the_next_finalist(client, django_assert_max_num_queries):
    staff, competition, judges, _assignments, roadshow = day()
    client.force_login(judges[0].user)
    url = poll_url("day_state", competition)
    first = client.get(url)
    assert first.status_code == 200 and first.json()["position"] == 2
    with django_assert_max_num_queries(4):  # the round with its roadshow, and the judge's seat on the panel
        again = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert (again.status_code, again.content) == (304, b"")
    services.set_presenting(roadshow=roadshow, slot=roadshow.slots.get(position=3), phase="waiting", by=staff)
    response = changed(client, url, first["ETag"])
    assert (response.json()["position"], response.json()["phase"]) == (3, "waiting")


# --- Permission on every poll -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["projector_state", "hall_board_cells", "board_cells", "day_state"])
def test_a_known_etag_is_no_pass(client, auditor, name):
    """Whoever may not see a poll gets 403/404 (or the login page) even with its current ETag."""
    _staff, competition, *_rest = day()
    url = poll_url(name, competition)
    client.force_login(auditor)
    etag = client.get(url)["ETag"]
    stranger = factories.judge("poll_stranger")
    client.force_login(stranger.user)
    assert client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == (404 if name == "day_state" else 403)
    client.logout()
    assert client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 302


# --- Constant queries whatever the size ---------------------------------------------------------------------------------


@pytest.mark.parametrize("n_proposals", [3, 12])
def test_polls_issue_a_constant_number_of_queries(client, auditor, django_assert_max_num_queries, n_proposals):
    _staff, competition, judges, assignments, roadshow = day(n_proposals, 4)
    client.force_login(auditor)
    # changed (no ETag yet): the round with its token, then the content in a fixed number of queries
    for name, limit in [("projector_state", 6), ("hall_board_cells", 6), ("day_state", 4), ("board_cells", 8)]:
        url = poll_url(name, competition)
        client.get(url)  # warm the session
        with django_assert_max_num_queries(limit):
            response = client.get(url)
        assert response.status_code == 200, name
        unchanged(client, url, response["ETag"])


# --- Every write a board shows moves its token --------------------------------------------------------------------------


def test_every_judging_write_a_board_shows_bumps_the_panel_version(staff):
    competition = factories.competition(stage=Stage.FINAL)
    proposals = factories.finalists(competition, 2)
    judges = [factories.judge(f"bump_judge{i}") for i in (1, 2)]

    def version():
        return Panel.objects.get(competition=competition, stage="final").board_version

    services.set_panel(competition=competition, stage="final", judges=judges, by=staff)
    seen = [version()]
    panel = services.assign_final_panel(competition=competition, by=staff)
    seen.append(version())
    first, second = (panel.assignments.get(judge=j, proposal=proposals[0]) for j in judges)
    services.declare(assignment=first, has_conflict=False, reason="", by=judges[0].user)
    seen.append(version())
    services.declare(assignment=second, has_conflict=True, reason="曾任该机构顾问", by=judges[1].user)
    seen.append(version())
    services.override_conflict(assignment=second, reason="顾问关系已于三年前结束", by=staff)
    seen.append(version())
    first.refresh_from_db()
    sheet = submit(first, submit=False)
    seen.append(version())
    sheet = submit(first)
    seen.append(version())
    services.unlock_sheet(sheet=sheet, reason="评委要求修改", by=staff)
    seen.append(version())
    assert seen == sorted(set(seen)) and len(seen) == 8, seen


def test_hall_rows_sum_in_the_database_what_the_board_counts_per_row():
    staff, competition, judges, assignments, roadshow = day(4, 3)
    first = roadshow.slots.get(position=1).proposal_id
    submit(assignments[judges[0].pk, first])
    submit(assignments[judges[1].pk, first], submit=False)
    submit(assignments[judges[0].pk, on_stage(roadshow)])
    order = list(roadshow.slots.values_list("proposal_id", flat=True))
    board = queries.board(competition, "final", order=order)
    expected = [(r["proposal"].pk, r["proposal"].title, r["submitted"], r["expected"]) for r in board["rows"]]
    rows = queries.hall_rows(competition)
    assert [(r["pk"], r["title"], r["submitted"], r["expected"]) for r in rows] == expected
    assert [r["position"] for r in rows] == [1, 2, 3, 4]
    assert sum(r["expected"] for r in rows) == 11  # 4 x 3, one recusal
    assert sum(r["submitted"] for r in rows) == 2
