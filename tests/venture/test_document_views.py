"""The documents and exports of venture.documents: what the PDFs say (read back with pypdf), what the spreadsheets hold
(read back with pandas), who may have them, and the audit events of exports with personal data."""

import csv
import datetime
import io
import re
from decimal import Decimal
from urllib.parse import quote

import pandas as pd
import pypdf
import pytest
from django.conf import settings
from django.shortcuts import resolve_url
from django.utils import timezone

from judging.models import Assignment, Score, ScoreSheet, SheetStatus
from tests import factories
from tests.builders import build_round
from venture.audit.models import AuditEvent
from venture.audit.services import ensure_chain_head
from venture.awards import services as awards
from venture.awards.models import Award
from venture.documents import score_matrix
from venture.documents.models import StoredDocument
from venture.proposals.models import Attachment, Indicator, Milestone
from venture.results import services as results

pytestmark = pytest.mark.django_db
EVIL = '=HYPERLINK("http://evil")'


def pages(response):
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"] == "application/pdf"
    return [page.extract_text() for page in pypdf.PdfReader(io.BytesIO(response.content)).pages]


def downloaded(response):
    """The bytes of a download served from the storage (a streamed FileResponse)."""
    assert response.status_code == 200, response.status_code
    return b"".join(response.streaming_content)


def attachment_name(response):
    return response["Content-Disposition"]


def english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def login_url(url):
    return f"{resolve_url(settings.LOGIN_URL)}?next={quote(url)}"


@pytest.fixture
def proposal(competition, org_a):
    p = factories.proposal(competition, org_a, status="submitted", title="骑手关爱行动")
    factories.budget(p, [("人员经费", 3000, 10), ("活动经费", 500, 100), ("活动经费", 200, 50), ("管理费", 1000, 10)])
    Milestone.objects.create(proposal=p, date=datetime.date(2026, 3, 1), title="项目启动会")
    Indicator.objects.create(proposal=p, name="服务新就业形态劳动者", target=Decimal("500"), unit="人次")
    Attachment.objects.create(proposal=p, file="uploads/x.pdf", original_name="登记证书.pdf", size=12345)
    return p


# --- The application book ----------------------------------------------------------------------------------------


def test_application_book_of_one_proposal(client, staff, proposal):
    client.force_login(staff)
    response = client.get(f"/documents/proposals/{proposal.pk}/application.pdf")
    texts = pages(response)
    assert len(texts) == 3  # the cover, then the proposal on two pages
    assert "骑手关爱行动" in texts[0] and "甲公益服务中心" in texts[0] and "¥100,000.00" in texts[0]
    body = "\n".join(texts[1:])
    for text in [
        "甲公益服务中心",
        proposal.organization.uscc,
        "王法人",
        "外卖骑手",
        "需求分析",
        "项目启动会",
        "服务新就业形态劳动者",
        "登记证书.pdf",
        "¥30,000.00",
        "¥60,000.00",
        "¥10,000.00",
        "¥100,000.00",
        "13800138000",
    ]:
        assert text in body, text
    assert quote("申报书-骑手关爱行动.pdf") in attachment_name(response)


def test_application_book_follows_who_may_see_the_proposal(client, proposal, applicant_a, applicant_b):
    url = f"/documents/proposals/{proposal.pk}/application.pdf"
    assert client.get(url)["Location"] == login_url(url)
    client.force_login(applicant_b)
    assert client.get(url).status_code == 404  # not yours looks like not found
    assert client.get("/documents/proposals/999999/application.pdf").status_code == 404
    client.force_login(applicant_a)
    assert "骑手关爱行动" in pages(client.get(url))[0]


def test_a_judge_sees_the_book_without_the_contact_details(client, competition, proposal):
    judge = factories.judge("judge_book")
    factories.final_panel(competition, [judge], [proposal])
    client.force_login(judge.user)
    body = "\n".join(pages(client.get(f"/documents/proposals/{proposal.pk}/application.pdf")))
    assert "甲公益服务中心" in body and "¥100,000.00" in body
    assert "13800138000" not in body


def test_finalists_book_has_contents_and_each_proposal_on_its_own_page(client, staff):
    c = factories.competition(stage="final")
    props = factories.finalists(c, 3)
    factories.proposal(c, factories.organization(), status="submitted", title="未入围项目")
    client.force_login(staff)
    texts = pages(client.get(f"/documents/round/{c.pk}/finalists.pdf"))
    assert len(texts) >= 1 + 3
    toc = dict(re.findall(r"\d+\. (入围项目\d\d) · [^\n.]*?[\s.]*(\d+)\s*$", texts[0], flags=re.M))
    assert sorted(toc) == ["入围项目01", "入围项目02", "入围项目03"]
    for p in props:
        page = texts[int(toc[p.title]) - 1]  # the page the contents give starts with that proposal
        assert page.splitlines()[0].endswith(p.title), page[:80]
        assert p.organization.name in page
    assert "未入围项目" not in "\n".join(texts)


def test_finalists_book_is_for_the_union_side(client, applicant_a):
    c = factories.competition(stage="final")
    factories.finalists(c, 1)
    url = f"/documents/round/{c.pk}/finalists.pdf"
    assert client.get(url)["Location"] == login_url(url)
    client.force_login(applicant_a)
    assert client.get(url).status_code == 404


# --- Score sheets ------------------------------------------------------------------------------------------------


@pytest.fixture
def scored(db):
    return build_round()


def test_blank_score_sheet_has_the_rubric_boxes_and_signature_line(client, staff, scored):
    c, *_rest = scored
    client.force_login(staff)
    english(client)
    response = client.get(f"/documents/round/{c.pk}/score-sheet.pdf")
    texts = pages(response)
    assert len(texts) == 1
    for text in ["项目定位精准性", "内容可行性", "社会效益", "资金预算", "Judge's signature", "Date", "Comment"]:
        assert text in texts[0], text
    assert re.search(r"社会效益\s+30", texts[0])
    assert re.search(r"Total\s+100", texts[0])
    assert quote("评分表-测试创投大赛.pdf") in attachment_name(response)


def test_filled_score_sheet_carries_the_points_total_and_signature_line(client, scored):
    c, staff, auditor, props = scored
    assignment = Assignment.objects.select_related("judge__user").get(proposal=props[0], judge__user__username="aw0")
    url = f"/documents/assignments/{assignment.pk}/score-sheet.pdf"
    client.force_login(assignment.judge.user)
    english(client)
    response = client.get(url)
    text = "\n".join(pages(response))
    for expected in ["项目甲", props[0].organization.name, "aw0", "说明", "Judge's signature"]:
        assert expected in text, expected
    # 24 / 23 / 28 / 18 on the four criteria, 93.00 in total
    assert re.search(r"项目定位精准性\s+25\s+24\b", text)
    assert re.search(r"社会效益\s+30\s+28\b", text)
    assert re.search(r"Total\s+100\s+93\.00", text)
    assert quote("评分表-项目甲-aw0.pdf") in attachment_name(response)
    for user in (staff, auditor):
        client.force_login(user)
        assert client.get(url).status_code == 200


def test_a_judge_gets_404_on_another_judges_sheet(client, scored):
    c, staff, auditor, props = scored
    other = Assignment.objects.get(proposal=props[0], judge__user__username="aw1")
    judge = Assignment.objects.get(proposal=props[0], judge__user__username="aw0").judge
    client.force_login(judge.user)
    assert client.get(f"/documents/assignments/{other.pk}/score-sheet.pdf").status_code == 404


def test_a_sheet_that_is_not_submitted_has_no_pdf(client, staff, scored):
    c, _staff, auditor, props = scored
    assignment = Assignment.objects.get(proposal=props[0], judge__user__username="aw0")
    ScoreSheet.objects.filter(assignment=assignment).update(status=SheetStatus.DRAFT)
    client.force_login(staff)
    assert client.get(f"/documents/assignments/{assignment.pk}/score-sheet.pdf").status_code == 404


# --- Public notice and grant agreement ---------------------------------------------------------------------------


@pytest.fixture
def closed(db):
    """Awards proposed, the notice published and closed with one dismissed objection: agreements exist."""
    c, staff, auditor, props = build_round()
    awards.propose_awards(competition=c, by=staff)
    notice = awards.publish_notice(competition=c, by=staff, starts_on=datetime.date(2025, 9, 29))
    objection = awards.submit_objection(
        notice=notice,
        name="张",
        contact="zh@example.org",
        text="评分不公",
        award=Award.objects.get(proposal=props[1]),
        ip="10.0.0.2",
        today=datetime.date(2025, 10, 9),
    )
    awards.handle_objection(objection=objection, upheld=False, outcome="经复核，评分程序合规，不予支持。", by=staff)
    awards.close_notice(competition=c, by=staff, today=datetime.date(2025, 10, 12))
    return c, staff, auditor, props


def test_public_notice_pdf_is_public(client, closed):
    c, staff, auditor, props = closed
    response = client.get(f"/documents/notice/{c.pk}/notice.pdf")  # no login
    text = "\n".join(pages(response))
    for expected in [
        "项目甲",
        "项目乙",
        props[0].organization.name,
        "¥100,000.00",
        "¥90,000.00",
        "¥190,000.00",
        "aw0",
        "aw1",
        "aw2",
        "2025-09-29",
        "2025-10-11",
        "经复核，评分程序合规，不予支持。",
    ]:
        assert expected in text, expected
    assert "项目丁" not in text
    assert "zh@example.org" not in text  # the objector's contact is never published
    assert quote("公示-测试创投大赛.pdf") in attachment_name(response)


def test_no_notice_no_pdf(client, db):
    c = factories.competition()
    assert client.get(f"/documents/notice/{c.pk}/notice.pdf").status_code == 404


def test_grant_agreement_pdf(client, closed, applicant_b):
    c, staff, auditor, props = closed
    award = Award.objects.select_related("agreement", "proposal__organization").get(proposal=props[0])
    url = f"/documents/awards/{award.pk}/agreement.pdf"
    client.force_login(staff)
    response = client.get(url)
    text = "\n".join(pages(response))
    org = award.proposal.organization
    for expected in [
        award.agreement.number,
        "示范市总工会",
        org.name,
        org.uscc,
        org.legal_representative,
        "项目甲",
        "¥100,000.00",
        "壹拾万元整",
        "¥50,000.00",
        "¥30,000.00",
        "¥20,000.00",
    ]:
        assert expected in text, expected
    assert quote(f"资助协议-{award.agreement.number}.pdf") in attachment_name(response)
    client.force_login(org.memberships.get().user)  # the grantee has its own agreement
    assert client.get(url).status_code == 200
    client.force_login(applicant_b)
    assert client.get(url).status_code == 404
    client.logout()
    assert client.get(url)["Location"] == login_url(url)


# --- Spreadsheets ------------------------------------------------------------------------------------------------


def test_proposals_export_xlsx_csv_and_audit(client, staff, competition, org_a, org_b):
    factories.proposal(
        competition, org_a, status="submitted", title="骑手关爱行动", cofunding_amount=Decimal("12000.50")
    )
    factories.proposal(competition, org_b, status="draft", title=EVIL, requested=Decimal("80000.00"))
    client.force_login(staff)
    english(client)
    response = client.get(f"/documents/round/{competition.pk}/proposals/export/")
    assert response.status_code == 200
    frame = pd.read_excel(io.BytesIO(response.content))
    assert list(frame.columns) == [
        "Proposal ID",
        "Project",
        "Organization",
        "Unified social credit code",
        "Category",
        "Status",
        "Submitted",
        "Requested (yuan)",
        "Co-funding (yuan)",
        "Contact person",
        "Mobile",
        "Email",
    ]
    rows = frame.set_index("Project")
    assert set(rows.index) == {"骑手关爱行动", EVIL}  # the formula-like title comes back as that exact text
    assert rows.loc["骑手关爱行动", "Requested (yuan)"] == 100000.0
    assert rows.loc["骑手关爱行动", "Co-funding (yuan)"] == 12000.5
    assert rows.loc["骑手关爱行动", "Organization"] == "甲公益服务中心"
    assert rows.loc[EVIL, "Requested (yuan)"] == 80000.0
    assert str(rows.loc[EVIL, "Mobile"]) == "13800138000"
    assert quote("申报项目-测试创投大赛.xlsx") in attachment_name(response)

    response = client.get(f"/documents/round/{competition.pk}/proposals/export/?format=csv&status=draft")
    assert response.content.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(table) == 2  # the header and the one draft: the list's filters apply
    assert table[1][1] == "'" + EVIL
    assert table[1][7] == "80000.00"

    events = list(AuditEvent.objects.filter(action="export.proposals").order_by("id"))
    assert [(e.actor, e.object_id, e.after["format"], e.after["rows"]) for e in events] == [
        (staff, str(competition.pk), "xlsx", 2),
        (staff, str(competition.pk), "csv", 1),
    ]
    assert events[1].after["filters"] == {"status": "draft"}
    assert "organization__mobile" in events[1].after["personal_data"]


def test_proposals_export_is_staff_and_auditor_only(client, competition, auditor, supervisor, applicant_a):
    url = f"/documents/round/{competition.pk}/proposals/export/"
    assert client.get(url)["Location"] == login_url(url)
    for user in (supervisor, applicant_a):  # the supervisor sees the list, but not an export of contact details
        client.force_login(user)
        assert client.get(url).status_code == 404
    client.force_login(auditor)
    assert client.get(url).status_code == 200
    assert not AuditEvent.objects.filter(action="export.proposals", actor=supervisor).exists()


def test_score_matrix_xlsx(client, scored):
    c, staff, auditor, props = scored
    client.force_login(staff)
    english(client)
    response = client.get(f"/documents/round/{c.pk}/scores/export/")
    # Written by the task at once (the immediate backend of the tests), kept, and served from the storage.
    sheets = pd.read_excel(io.BytesIO(downloaded(response)), sheet_name=None)
    matrix, totals = sheets["Scores"], sheets["Judges' totals"]
    assert list(matrix.columns) == ["Project", "Organization", "Judge", "Criterion", "Points"]
    assert len(matrix) == 4 * 3 * 4  # proposals x judges x criteria
    cell = matrix[(matrix["Project"] == "项目乙") & (matrix["Judge"] == "aw2") & (matrix["Criterion"] == "社会效益")]
    assert cell["Points"].tolist() == [27.0]
    assert cell["Organization"].tolist() == [props[1].organization.name]
    assert list(totals.columns) == ["Project", "Organization", "aw0", "aw1", "aw2"]
    assert totals.set_index("Project").loc["项目甲"].tolist()[1:] == [93.0, 93.0, 93.0]
    assert totals.set_index("Project").loc["项目丁"].tolist()[1:] == [81.0, 81.0, 81.0]
    event = AuditEvent.objects.get(action="export.scores")
    assert (event.actor, event.after) == (staff, {"stage": "final", "format": "xlsx", "rows": 48})

    response = client.get(f"/documents/round/{c.pk}/scores/export/?format=csv")
    content = downloaded(response)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert content.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert len(table) == 1 + 48
    assert table[0] == ["Project", "Organization", "Judge", "Criterion", "Points"]
    assert ["项目乙", props[1].organization.name, "aw2", "社会效益", "27.0"] in table


def test_score_matrix_permissions(client, scored, applicant_a):
    c, staff, auditor, props = scored
    url = f"/documents/round/{c.pk}/scores/export/"
    assert client.get(url)["Location"] == login_url(url)
    judge = Assignment.objects.filter(proposal=props[0]).first().judge
    for user in (judge.user, applicant_a):
        client.force_login(user)
        assert client.get(url).status_code == 404
    client.force_login(auditor)
    assert client.get(url).status_code == 200
    assert client.get(url + "?stage=nonsense").status_code == 404


def test_score_matrix_of_a_round_without_sheets_has_the_headers_only(client, staff):
    c = factories.competition(stage="final")
    client.force_login(staff)
    english(client)
    response = client.get(f"/documents/round/{c.pk}/scores/export/")
    sheets = pd.read_excel(io.BytesIO(downloaded(response)), sheet_name=None)
    assert [(name, list(frame.columns), len(frame)) for name, frame in sheets.items()] == [
        ("Scores", ["Project", "Organization", "Judge", "Criterion", "Points"], 0),
        ("Judges' totals", ["Project", "Organization"], 0),
    ]


def _bulk_scored_round(n_proposals, n_judges=3):
    """A final round with every sheet submitted, written straight into the tables."""
    c = factories.competition(stage="final")
    judges = [factories.judge() for _ in range(n_judges)]
    assignments = factories.final_panel(c, judges, factories.finalists(c, n_proposals))
    criteria = list(c.criteria.all())
    sheets = ScoreSheet.objects.bulk_create(
        [
            ScoreSheet(assignment=a, status=SheetStatus.SUBMITTED, total=Decimal("92.00"), submitted_at=timezone.now())
            for a in assignments.values()
        ]
    )
    Score.objects.bulk_create(
        [Score(sheet=s, criterion=cr, points=cr.max_points - 2) for s in sheets for cr in criteria]
    )
    return c


@pytest.mark.parametrize("n_proposals", [3, 30])
def test_score_matrix_costs_the_same_queries_whatever_the_size(
    client, staff, settings, django_assert_max_num_queries, n_proposals
):
    c = _bulk_scored_round(n_proposals)
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}  # the request apart from the task
    client.force_login(staff)
    # The session and its user; the competition, the fingerprint of its sealed scores, the stored export looked
    # for, made (in a savepoint) and enqueued.
    with django_assert_max_num_queries(10):
        assert client.get(f"/documents/round/{c.pk}/scores/export/").status_code == 202
    [doc] = StoredDocument.objects.all()
    # The task: the stored row, the round, the fingerprint; the judges, the proposals, the criteria, the scores and
    # the sheets (each one iterator query); the row saved and the earlier exports looked for.
    with django_assert_max_num_queries(12):
        score_matrix.write_score_matrix.func.undecorated(
            kind=doc.kind, object_id=doc.object_id, state=doc.state, variant=doc.variant
        )
    ensure_chain_head()  # an earlier flushing test on this worker may have removed it; its one-time creation is not the export's
    # the session and its user, the competition, the fingerprint, the ready export; 5 for its audit record (in a
    # savepoint: lock the chain's head, insert, move the head)
    with django_assert_max_num_queries(10):
        response = client.get(f"/documents/round/{c.pk}/scores/export/")
    assert len(pd.read_excel(io.BytesIO(downloaded(response)))) == n_proposals * 3 * 4


def test_ranking_xlsx_from_the_frozen_snapshot(client, scored):
    c, staff, auditor, props = scored
    client.force_login(auditor)
    english(client)
    response = client.get(f"/documents/round/{c.pk}/ranking/export/")
    assert response.status_code == 200
    frame = pd.read_excel(io.BytesIO(response.content))
    top_k = results.current_snapshot(c).outputs["top_k"]
    assert list(frame.columns) == [
        "Rank",
        "Project",
        "Organization",
        "Score",
        "Mean",
        "Median",
        "n",
        "Decided by",
        f"P(in the top {top_k})",
        "项目定位精准性",
        "内容可行性",
        "社会效益",
        "资金预算",
    ]
    assert frame["Project"].tolist() == ["项目甲", "项目乙", "项目丙", "项目丁"]
    first = frame.iloc[0]
    assert (first["Rank"], first["Organization"], first["Score"], first["n"]) == (
        1,
        props[0].organization.name,
        93.0,
        3,
    )
    assert first["社会效益"] == 28.0


def test_ranking_needs_frozen_results_and_staff(client, staff, applicant_a):
    c = factories.competition(stage="final")
    url = f"/documents/round/{c.pk}/ranking/export/"
    assert client.get(url)["Location"] == login_url(url)
    client.force_login(applicant_a)
    assert client.get(url).status_code == 404
    client.force_login(staff)
    assert client.get(url)["Location"] == f"/results/round/{c.pk}/results/"


# --- Reachable from the page each belongs to ---------------------------------------------------------------------


def test_documents_are_linked_from_their_pages(client, closed):
    c, staff, auditor, props = closed
    client.force_login(staff)
    round_page = client.get(c.get_absolute_url()).content.decode()
    for url in [
        f"/documents/round/{c.pk}/finalists.pdf",
        f"/documents/round/{c.pk}/score-sheet.pdf",
        f"/documents/round/{c.pk}/scores/export/",
        f"/documents/round/{c.pk}/ranking/export/",
    ]:
        assert url in round_page, url
    assert (
        f"/documents/proposals/{props[0].pk}/application.pdf"
        in client.get(f"/proposals/{props[0].pk}/").content.decode()
    )
    assert f"/documents/round/{c.pk}/proposals/export/?" in client.get(f"/proposals/round/{c.pk}/").content.decode()
    awards_page = client.get(f"/results/round/{c.pk}/awards/").content.decode()
    for award in Award.objects.filter(competition=c, status="final"):
        assert f"/documents/awards/{award.pk}/agreement.pdf" in awards_page
    client.logout()
    assert f"/documents/notice/{c.pk}/notice.pdf" in client.get(f"/results/notice/{c.pk}/").content.decode()
    assignment = Assignment.objects.select_related("judge__user").get(proposal=props[0], judge__user__username="aw0")
    client.force_login(assignment.judge.user)
    sheet_page = client.get(f"/judging/assignments/{assignment.pk}/sheet/").content.decode()
    assert f"/documents/assignments/{assignment.pk}/score-sheet.pdf" in sheet_page
