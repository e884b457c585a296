"""The four hot requests of bench/load.py issue a pinned number of SQL queries (issue #20, "Cheaper requests").

Each count is the whole request through the middleware (session, user, permission, view, audit), for a user who is
already signed in and whose session carries the sign-in time stamps (the first request after force_login writes them,
so it is made before counting). bench/profile_requests.py measures the same requests' CPU time.
"""

from datetime import timedelta

import pytest

from judging import services
from judging.models import ScoreSheet
from tests import factories
from venture.audit.models import AuditEvent
from venture.proposals.models import Proposal

# GET: session, user, assignment (joined with its sheet), the conflict statuses of the judge on the proposal,
# criteria, the sheet's scores, the proposal's budget lines.
GET_SHEET = 7
# POST: the 6 reads of the GET up to the scores, then the transaction (BEGIN, criteria, the locked sheet in a
# savepoint, scores replaced, sheet and board version updated, the audit event with its chain head, COMMIT).
POST_SHEET = 21
# GET: session, user, proposal, memberships, budget lines (initial rows, then again for the submission check),
# milestones, indicators, the submission check's exists/counts, categories, the budget categories once for every row
# of the budget table (SharedChoiceIterator; one query per row before) and once for the caps note, attachments.
GET_PROPOSAL_EDIT = 17
# POST: session, user, proposal, memberships, the category and budget category checked, then the transaction (the
# versioned UPDATE, the proposal read back, lines/milestones/indicators replaced, the audit event).
POST_PROPOSAL_EDIT = 21


@pytest.fixture
def judge_sheet(db, client):
    c = factories.competition(stage="final")
    judge = factories.judge("cost_judge")
    finalist = factories.finalists(c, 1)[0]
    assignment = factories.final_panel(c, [judge], [finalist])[(judge.pk, finalist.pk)]
    client.force_login(judge.user)
    path = f"/judging/assignments/{assignment.pk}/sheet/"
    assert client.get(path).status_code == 200  # the session's sign-in time stamps are written here
    return c, assignment, path


def _sheet_form(c, version):
    data = {"version": version, "comment": "意见"}
    data.update({f"c_{criterion.pk}": "10" for criterion in c.criteria.all()})
    return data


def test_score_sheet_get_and_draft_save_queries(client, judge_sheet, django_assert_max_num_queries):
    c, assignment, path = judge_sheet
    client.post(path, _sheet_form(c, 0))  # the sheet exists from here on: the ordinary case of the load test
    form = _sheet_form(c, 1)
    with django_assert_max_num_queries(GET_SHEET) as ctx:
        page = client.get(path)
    assert page.status_code == 200 and len(ctx.captured_queries) == GET_SHEET
    assert 'name="version" value="1"' in page.content.decode()
    with django_assert_max_num_queries(POST_SHEET) as ctx:
        response = client.post(path, form)
    assert response.status_code == 302 and response["Location"] == path
    assert len(ctx.captured_queries) == POST_SHEET
    sheet = ScoreSheet.objects.get(assignment=assignment)
    assert (sheet.version, sheet.status, sheet.comment) == (2, "draft", "意见")
    assert AuditEvent.objects.filter(action="sheet.save").count() == 2


def test_saved_sheet_is_returned_as_written(judge_sheet):
    """save_sheet no longer reads the sheet back after its UPDATE: the instance it returns equals the row."""
    c, assignment, _path = judge_sheet
    criteria = list(c.criteria.all())
    points = {criterion.pk: criterion.max_points for criterion in criteria}
    kwargs = {"assignment": assignment, "by": assignment.judge.user, "points": points, "comment": "好"}
    first = services.save_sheet(**kwargs, expected_version=0)
    second = services.save_sheet(**kwargs, expected_version=first.version, submit=True)
    row = ScoreSheet.objects.get(pk=second.pk)
    fields = ("version", "status", "comment", "total", "submitted_at", "updated_at")
    assert [getattr(second, f) for f in fields] == [getattr(row, f) for f in fields]
    assert (first.version, second.version, second.status) == (1, 2, "submitted")
    assert second.submitted_at == second.updated_at


@pytest.fixture
def applicant_edit(db, client):
    c = factories.competition()
    applicant = factories.user("cost_applicant")
    org = factories.organization(owner=applicant)
    proposal = factories.proposal(c, org)
    client.force_login(applicant)
    path = f"/proposals/{proposal.pk}/edit/"
    assert client.get(path).status_code == 200  # the session's sign-in time stamps are written here
    return c, proposal, path


def _proposal_form(c, proposal, version):
    start = c.project_start_earliest
    return {
        "version": version,
        "title": "降低请求成本",
        "category": c.categories.first().pk,
        "target_group": "外卖骑手",
        "people_to_serve": "120",
        "service_area": "示范市",
        "needs": "需求",
        "objectives": "目标",
        "activities": "活动",
        "team": "团队",
        "period_start": start.isoformat(),
        "period_end": (start + timedelta(days=180)).isoformat(),
        "requested_amount": "50000",
        "cofunding_amount": "0",
        "lines-TOTAL_FORMS": "1",
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "200",
        "lines-0-category": c.budget_categories.get(name="活动经费").pk,
        "lines-0-item": "场地",
        "lines-0-unit": "次",
        "lines-0-unit_price": "500",
        "lines-0-quantity": "100",
        "lines-0-note": "",
        "milestones-TOTAL_FORMS": "0",
        "milestones-INITIAL_FORMS": "0",
        "indicators-TOTAL_FORMS": "0",
        "indicators-INITIAL_FORMS": "0",
    }


def test_proposal_edit_get_and_draft_save_queries(client, applicant_edit, django_assert_max_num_queries):
    c, proposal, path = applicant_edit
    version = Proposal.objects.get(pk=proposal.pk).version
    with django_assert_max_num_queries(GET_PROPOSAL_EDIT) as ctx:
        page = client.get(path)
    assert page.status_code == 200 and len(ctx.captured_queries) == GET_PROPOSAL_EDIT
    assert f'name="version" value="{version}"' in page.content.decode()
    # One save first: what a process does once (the audit chain's head re-created after another test's flush, caches
    # filled) is not the per-request cost being pinned; the order of tests on an xdist worker decides whether it
    # falls here.
    assert client.post(path, _proposal_form(c, proposal, version)).status_code == 302
    form = _proposal_form(c, proposal, version + 1)
    with django_assert_max_num_queries(POST_PROPOSAL_EDIT) as ctx:
        response = client.post(path, form)
    assert response.status_code == 302 and response["Location"] == path
    assert len(ctx.captured_queries) == POST_PROPOSAL_EDIT
    saved = Proposal.objects.get(pk=proposal.pk)
    assert (saved.version, saved.title, saved.budget_lines.count()) == (version + 2, "降低请求成本", 1)
