"""Conflicts of interest are append-only (issue #14, Found 3): every declaration, override and reversal is a new
entry with who, when and why; a judge never undoes their own recusal; a recused judge never reaches the proposal, its
attachments, its sheet or its PDFs."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from judging import services
from judging.models import Assignment, ConflictDeclaration, ConflictEntry, Panel, ScoreSheet
from tests import factories
from venture.audit.models import AuditEvent
from venture.proposals.models import Attachment

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
RECUSAL_IS_FINAL_ZH = "您已声明与该项目存在利益冲突，因此对该项目保持回避。只有工会工作人员可以撤销回避，并须写明理由。"
RECUSAL_IS_FINAL_EN = (
    "You declared a conflict of interest with this proposal, so you stay recused from it. Only union "
    "staff can reverse a recusal, with a written reason."
)


@pytest.fixture
def final_round(db):
    c = factories.competition(stage="final")
    judges = [factories.judge(f"j{i}") for i in range(1, 5)]
    props = factories.finalists(c, 2)
    assignments = factories.final_panel(
        c, judges, props, pending=[(judges[0], props[0])], recused=[(judges[1], props[0])]
    )
    return c, judges, props, assignments


def points(c, values=(20, 20, 25, 15)):
    return dict(zip([cr.pk for cr in c.criteria.all()], values, strict=True))


def history(assignment):
    return [
        (e.kind, e.status, e.by.username, e.reason)
        for e in ConflictEntry.objects.filter(declaration__assignment=assignment).order_by("at", "id")
    ]


def test_a_judge_cannot_take_back_a_declared_conflict(client, final_round):
    """Found 3: the judge declared a conflict, then "no conflict", and got the proposal and the sheet back."""
    c, judges, props, assignments = final_round
    a = assignments[(judges[0].pk, props[0].pk)]
    client.force_login(judges[0].user)
    client.post(f"/judging/assignments/{a.pk}/declare/", {"has_conflict": "yes", "reason": "我是该机构理事"})
    response = client.post(f"/judging/assignments/{a.pk}/declare/", {"has_conflict": "no"}, follow=True)
    assert ConflictDeclaration.objects.get(assignment=a).status == "recused"
    assert [str(m) for m in response.context["messages"]][-1] == RECUSAL_IS_FINAL_ZH
    assert history(a) == [("declared_conflict", "recused", "j1", "我是该机构理事")]
    assert client.get(f"/judging/assignments/{a.pk}/sheet/").status_code == 404
    assert client.get(f"/proposals/{props[0].pk}/").status_code == 404
    with pytest.raises(ValidationError) as exc:
        services.declare(assignment=a, has_conflict=False, reason="", by=judges[0].user)
    assert exc.value.messages == [RECUSAL_IS_FINAL_ZH]
    assert AuditEvent.objects.filter(action="conflict.clear").count() == 0


def test_the_declaration_page_shows_why_the_form_is_gone_in_both_languages(client, final_round):
    c, judges, props, assignments = final_round
    a = assignments[(judges[1].pk, props[0].pk)]
    client.force_login(judges[1].user)
    page = client.get(f"/judging/assignments/{a.pk}/declare/").content.decode()
    assert RECUSAL_IS_FINAL_ZH in page
    assert "曾为该机构提供督导" in page
    assert 'name="has_conflict"' not in page
    client.cookies["django_language"] = "en"
    page = client.get(f"/judging/assignments/{a.pk}/declare/").content.decode()
    assert RECUSAL_IS_FINAL_EN in page
    assert "You are recused from this proposal." in page
    assert 'name="has_conflict"' not in page


def test_every_declaration_override_and_reversal_is_a_new_entry(client, final_round, staff):
    c, judges, props, assignments = final_round
    a = assignments[(judges[0].pk, props[0].pk)]
    services.declare(assignment=a, has_conflict=True, reason="曾为其撰写申报书", by=judges[0].user)
    with pytest.raises(ValidationError):
        services.override_conflict(assignment=a, reason="  ", by=staff)
    services.override_conflict(assignment=a, reason="仅校对过错别字，经纪检同意", by=staff)
    assert ConflictDeclaration.objects.get(assignment=a).status == "clear"
    services.declare(assignment=a, has_conflict=True, reason="后发现与其负责人为亲属", by=judges[0].user)
    assert ConflictDeclaration.objects.get(assignment=a).status == "recused"
    assert history(a) == [
        ("declared_conflict", "recused", "j1", "曾为其撰写申报书"),
        ("override", "clear", "staff1", "仅校对过错别字，经纪检同意"),
        ("declared_conflict", "recused", "j1", "后发现与其负责人为亲属"),
    ]
    assert list(
        AuditEvent.objects.filter(action__startswith="conflict.").order_by("pk").values_list("action", flat=True)
    ) == ["conflict.recused", "conflict.override", "conflict.recused"]
    entry = ConflictEntry.objects.filter(declaration__assignment=a).first()
    entry.reason = "改写"
    with pytest.raises(ValueError):
        entry.save()
    client.force_login(staff)
    page = client.get(f"/judging/round/{c.pk}/conflicts/").content.decode()
    for reason in ("曾为其撰写申报书", "仅校对过错别字，经纪检同意", "后发现与其负责人为亲属"):
        assert reason in page
    assert page.count('class="conflict-entry"') == 3 + 7  # and the fixture's seven declarations


def test_only_staff_reverse_a_recusal(client, final_round):
    c, judges, props, assignments = final_round
    declaration = ConflictDeclaration.objects.get(assignment=assignments[(judges[1].pk, props[0].pk)])
    client.force_login(judges[1].user)
    assert (
        client.post(f"/judging/conflicts/{declaration.pk}/override/", {"reason": "我想评"}).status_code == 404
    )  # not staff: the same answer as no such declaration (issue #16)
    other = assignments[(judges[2].pk, props[0].pk)]
    with pytest.raises(ValidationError):  # nobody declares for another judge
        services.declare(assignment=other, has_conflict=True, reason="代为声明", by=judges[1].user)
    declaration.refresh_from_db()
    assert declaration.status == "recused"


def test_the_register_costs_a_fixed_number_of_queries(client, final_round, staff, django_assert_max_num_queries):
    c, judges, props, assignments = final_round
    client.force_login(staff)
    with django_assert_max_num_queries(8):
        client.get(f"/judging/round/{c.pk}/conflicts/")
    for j in judges[2:]:
        services.declare(assignment=assignments[(j.pk, props[1].pk)], has_conflict=True, reason="x", by=j.user)
    with django_assert_max_num_queries(8):
        client.get(f"/judging/round/{c.pk}/conflicts/")


@pytest.fixture
def recused_world(final_round):
    """judges[1] is recused from props[0] at the final. judges[2] declared a conflict with props[0] at pre-scoring
    but had declared it clear, scored and submitted at the final (as the old code allowed)."""
    c, judges, props, assignments = final_round
    attachment = Attachment.objects.create(
        proposal=props[0], file=ContentFile(PDF, name="a.pdf"), original_name="a.pdf", size=len(PDF)
    )
    prescoring = Panel.objects.create(competition=c, stage="prescoring")
    early = Assignment.objects.create(panel=prescoring, judge=judges[2], proposal=props[0])
    ConflictDeclaration.objects.create(assignment=early)
    services.declare(assignment=early, has_conflict=True, reason="预评分阶段发现利益冲突", by=judges[2].user)
    final = assignments[(judges[2].pk, props[0].pk)]
    ScoreSheet.objects.create(assignment=final, status="submitted", total=80, submitted_at=timezone.now())
    return c, judges, props, assignments, attachment, final


@pytest.mark.parametrize("who", [1, 2])
def test_a_recused_judge_never_reaches_the_proposal_its_attachments_sheet_or_pdfs(client, recused_world, who):
    c, judges, props, assignments, attachment, final = recused_world
    a = assignments[(judges[who].pk, props[0].pk)]
    client.force_login(judges[who].user)
    urls = [
        f"/proposals/{props[0].pk}/",
        f"/proposals/attachments/{attachment.pk}/",
        f"/judging/assignments/{a.pk}/sheet/",
        f"/documents/proposals/{props[0].pk}/application.pdf",
        f"/documents/assignments/{a.pk}/score-sheet.pdf",
    ]
    assert {url: client.get(url).status_code for url in urls} == dict.fromkeys(urls, 404)
    assert client.post(f"/judging/assignments/{a.pk}/sheet/", {"version": 0}).status_code == 404
    # The other finalist, with no conflict, stays open to both.
    other = assignments[(judges[who].pk, props[1].pk)]
    assert client.get(f"/proposals/{props[1].pk}/").status_code == 200
    assert client.get(f"/judging/assignments/{other.pk}/sheet/").status_code == 200


def test_a_conflict_declared_at_one_stage_holds_at_the_next(client, final_round):
    c, judges, props, assignments = final_round
    prescoring = Panel.objects.create(competition=c, stage="prescoring")
    early = Assignment.objects.create(panel=prescoring, judge=judges[0], proposal=props[0])
    ConflictDeclaration.objects.create(assignment=early)
    services.declare(assignment=early, has_conflict=True, reason="理事", by=judges[0].user)
    final = assignments[(judges[0].pk, props[0].pk)]
    client.force_login(judges[0].user)
    page = client.get(f"/judging/assignments/{final.pk}/declare/").content.decode()
    assert RECUSAL_IS_FINAL_ZH in page and "理事" in page
    client.post(f"/judging/assignments/{final.pk}/declare/", {"has_conflict": "no"})
    assert ConflictDeclaration.objects.get(assignment=final).status == "pending"
    with pytest.raises(ValidationError):
        services.save_sheet(assignment=final, by=judges[0].user, points=points(c), comment="", expected_version=0)


@pytest.mark.django_db(transaction=True)
def test_the_migration_turns_each_existing_declaration_into_its_first_history_rows():
    c = factories.competition(stage="final")
    judges = [factories.judge(f"m{i}") for i in range(4)]
    staff = factories.user("m_staff", role="staff")
    prop = factories.finalists(c, 1)[0]
    assignments = factories.final_panel(c, judges, [prop])
    ids = [assignments[(j.pk, prop.pk)].pk for j in judges]
    executor = MigrationExecutor(connection)
    executor.migrate([("judging", "0002_judge_other_affiliations_conflictdeclaration_and_more")])
    old = executor.loader.project_state([("judging", "0002_judge_other_affiliations_conflictdeclaration_and_more")])
    Declaration = old.apps.get_model("judging", "ConflictDeclaration")
    t1 = datetime.datetime(2025, 5, 20, 9, 0, tzinfo=datetime.UTC)
    t2 = datetime.datetime(2025, 5, 20, 10, 0, tzinfo=datetime.UTC)
    Declaration.objects.filter(assignment_id=ids[0]).update(status="clear", reason="", declared_at=t1)
    Declaration.objects.filter(assignment_id=ids[1]).update(status="recused", reason="理事", declared_at=t1)
    Declaration.objects.filter(assignment_id=ids[2]).update(
        status="clear",
        reason="顾问",
        declared_at=t1,
        override_reason="已卸任",
        overridden_by_id=staff.pk,
        overridden_at=t2,
    )
    Declaration.objects.filter(assignment_id=ids[3]).update(status="pending", reason="", declared_at=None)
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())

    def rows(pk):
        return [
            (e.kind, e.status, e.by.username, e.reason, e.at)
            for e in ConflictEntry.objects.filter(declaration__assignment_id=pk)
            .select_related("by")
            .order_by("at", "id")
        ]

    assert rows(ids[0]) == [("declared_clear", "clear", "m0", "", t1)]
    assert rows(ids[1]) == [("declared_conflict", "recused", "m1", "理事", t1)]
    assert rows(ids[2]) == [
        ("declared_conflict", "recused", "m2", "顾问", t1),
        ("override", "clear", "m_staff", "已卸任", t2),
    ]
    assert rows(ids[3]) == []
    assert list(
        ConflictDeclaration.objects.filter(assignment_id__in=ids)
        .order_by("assignment_id")
        .values_list("status", flat=True)
    ) == ["clear", "recused", "clear", "pending"]
