"""Screening-and-judging through the web layer: conflicts, score sheets, locking, panels, provisional ranking."""

from decimal import Decimal

import pytest

from judging import services
from judging.models import Assignment, ConflictDeclaration, ScoreSheet
from judging.queries import board
from tests import factories
from venture.audit.models import AuditEvent


@pytest.fixture
def final_round(db):
    c = factories.competition(stage="final")
    judges = [factories.judge(f"j{i}") for i in range(1, 6)]
    props = factories.finalists(c, 3)
    assignments = factories.final_panel(
        c, judges, props, pending=[(judges[0], props[0])], recused=[(judges[1], props[0])]
    )
    return c, judges, props, assignments


def sheet_post(c, points, submit=False, version=0, comment=""):
    data = {"version": version, "comment": comment}
    for criterion, value in zip(c.criteria.all(), points, strict=True):
        data[f"c_{criterion.pk}"] = value
    if submit:
        data["submit"] = "1"
    return data


def test_judge_must_declare_before_seeing_the_proposal(client, final_round):
    c, judges, props, assignments = final_round
    a = assignments[(judges[0].pk, props[0].pk)]
    client.force_login(judges[0].user)
    assert client.get(f"/judging/assignments/{a.pk}/sheet/").status_code == 404
    assert client.get(f"/proposals/{props[0].pk}/").status_code == 404
    page = client.get(f"/judging/assignments/{a.pk}/declare/")
    assert page.status_code == 200
    assert props[0].title in page.content.decode()
    assert props[0].needs not in page.content.decode()
    response = client.post(f"/judging/assignments/{a.pk}/declare/", {"has_conflict": "no"})
    assert response["Location"] == f"/judging/assignments/{a.pk}/sheet/"
    assert client.get(f"/proposals/{props[0].pk}/").status_code == 200


def test_declared_conflict_recuses_and_needs_a_reason(client, final_round):
    c, judges, props, assignments = final_round
    a = assignments[(judges[0].pk, props[0].pk)]
    client.force_login(judges[0].user)
    r = client.post(f"/judging/assignments/{a.pk}/declare/", {"has_conflict": "yes", "reason": ""})
    assert r.status_code == 200
    assert ConflictDeclaration.objects.get(assignment=a).status == "pending"
    client.post(f"/judging/assignments/{a.pk}/declare/", {"has_conflict": "yes", "reason": "我是该机构理事"})
    assert ConflictDeclaration.objects.get(assignment=a).status == "recused"
    assert client.get(f"/judging/assignments/{a.pk}/sheet/").status_code == 404
    assert client.get(f"/proposals/{props[0].pk}/").status_code == 404
    assert AuditEvent.objects.filter(action="conflict.recused").count() == 1


def test_recused_judge_is_not_in_the_denominator(final_round):
    c, judges, props, assignments = final_round
    row = next(r for r in board(c, "final")["rows"] if r["proposal"].pk == props[0].pk)
    assert row["expected"] == 4  # five judges, one recused
    assert row["states"][1] == "recused"


def test_staff_override_with_reason_is_audited(client, final_round, staff):
    c, judges, props, assignments = final_round
    a = assignments[(judges[1].pk, props[0].pk)]
    declaration = ConflictDeclaration.objects.get(assignment=a)
    client.force_login(staff)
    client.post(f"/judging/conflicts/{declaration.pk}/override/", {"reason": ""})
    declaration.refresh_from_db()
    assert declaration.status == "recused"
    client.post(f"/judging/conflicts/{declaration.pk}/override/", {"reason": "理事任期已于2024年结束，经纪检同意"})
    declaration.refresh_from_db()
    assert declaration.status == "clear"
    assert [(e.kind, e.status, e.by, e.reason) for e in declaration.entries.order_by("at", "id")] == [
        ("declared_conflict", "recused", judges[1].user, "曾为该机构提供督导"),
        ("override", "clear", staff, "理事任期已于2024年结束，经纪检同意"),
    ]
    event = AuditEvent.objects.get(action="conflict.override")
    assert event.note == "理事任期已于2024年结束，经纪检同意"
    page = client.get(f"/judging/round/{c.pk}/conflicts/").content.decode()
    assert "理事任期已于2024年结束" in page


def test_unassigned_judge_gets_404(client, final_round):
    c, judges, props, assignments = final_round
    outsider = factories.judge("outsider")
    a = assignments[(judges[2].pk, props[1].pk)]
    client.force_login(outsider.user)
    assert client.get(f"/judging/assignments/{a.pk}/declare/").status_code == 404
    assert client.get(f"/judging/assignments/{a.pk}/sheet/").status_code == 404
    assert client.post(f"/judging/assignments/{a.pk}/sheet/", sheet_post(c, [20, 20, 25, 15])).status_code == 404
    assert client.get(f"/proposals/{props[1].pk}/").status_code == 404


def test_submit_scores_locks_the_sheet(client, final_round):
    c, judges, props, assignments = final_round
    a = assignments[(judges[2].pk, props[1].pk)]
    client.force_login(judges[2].user)
    response = client.post(f"/judging/assignments/{a.pk}/sheet/", sheet_post(c, [20, 21, 25, 16], submit=True))
    assert response.status_code == 302
    sheet = ScoreSheet.objects.get(assignment=a)
    assert sheet.status == "submitted"
    assert sheet.total == Decimal("82.00")
    assert sorted(sheet.scores.values_list("points", flat=True)) == [16, 20, 21, 25]
    # A double-clicked submit or a later change does nothing.
    again = client.post(f"/judging/assignments/{a.pk}/sheet/", sheet_post(c, [1, 1, 1, 1], submit=True, version=1))
    assert again.status_code == 302
    assert ScoreSheet.objects.filter(assignment=a).count() == 1
    assert ScoreSheet.objects.get(assignment=a).total == Decimal("82.00")


@pytest.mark.parametrize(
    "points, message",
    [
        (["26", "20", "25", "15"], "0 到 25 之间"),
        (["-1", "20", "25", "15"], "0 到 25 之间"),
        (["20.5", "20", "25", "15"], "步长为 1"),
        (["abc", "20", "25", "15"], "请输入一个数字"),
    ],
)
def test_points_out_of_range_or_off_step(client, final_round, points, message):
    c, judges, props, assignments = final_round
    a = assignments[(judges[2].pk, props[1].pk)]
    client.force_login(judges[2].user)
    response = client.post(f"/judging/assignments/{a.pk}/sheet/", sheet_post(c, points, submit=True))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not ScoreSheet.objects.filter(assignment=a).exists()


def test_half_point_step(client, final_round):
    c, judges, props, assignments = final_round
    c.score_step = Decimal("0.5")
    c.save()
    a = assignments[(judges[2].pk, props[1].pk)]
    client.force_login(judges[2].user)
    client.post(f"/judging/assignments/{a.pk}/sheet/", sheet_post(c, ["20.5", "20", "25.5", "15"], submit=True))
    assert ScoreSheet.objects.get(assignment=a).total == Decimal("81.00")


def test_extreme_total_needs_a_comment(client, final_round):
    c, judges, props, assignments = final_round
    a = assignments[(judges[2].pk, props[1].pk)]
    client.force_login(judges[2].user)
    r = client.post(f"/judging/assignments/{a.pk}/sheet/", sheet_post(c, [25, 25, 28, 19], submit=True))
    assert r.status_code == 200
    assert "须填写评语" in r.content.decode()
    r = client.post(
        f"/judging/assignments/{a.pk}/sheet/",
        sheet_post(c, [25, 25, 28, 19], submit=True, comment="调研扎实，成效突出"),
    )
    assert ScoreSheet.objects.get(assignment=a).total == Decimal("97.00")


def test_draft_then_submit_and_stale_tab(client, final_round):
    c, judges, props, assignments = final_round
    a = assignments[(judges[2].pk, props[1].pk)]
    client.force_login(judges[2].user)
    client.post(f"/judging/assignments/{a.pk}/sheet/", sheet_post(c, [20, "", "", ""]))
    sheet = ScoreSheet.objects.get(assignment=a)
    assert sheet.status == "draft" and sheet.total is None and sheet.version == 1
    # Second tab still holds version 0: refused, input kept.
    r = client.post(f"/judging/assignments/{a.pk}/sheet/", sheet_post(c, [11, 12, 13, 14], version=0))
    assert r.status_code == 200
    body = r.content.decode()
    assert "另一个标签页或设备" in body
    assert 'value="13"' in body
    assert ScoreSheet.objects.get(assignment=a).scores.count() == 1
    client.post(f"/judging/assignments/{a.pk}/sheet/", sheet_post(c, [20, 20, 24, 16], version=1, submit=True))
    assert ScoreSheet.objects.get(assignment=a).status == "submitted"


def test_scoring_closed_outside_the_stage(client, final_round):
    c, judges, props, assignments = final_round
    c.stage = "results"
    c.save()
    a = assignments[(judges[2].pk, props[1].pk)]
    client.force_login(judges[2].user)
    r = client.post(f"/judging/assignments/{a.pk}/sheet/", sheet_post(c, [20, 20, 24, 16], submit=True))
    assert "本阶段评分已结束" in r.content.decode()
    assert not ScoreSheet.objects.filter(assignment=a).exists()


def test_judge_never_sees_other_scores_or_ranking(client, final_round):
    c, judges, props, assignments = final_round
    other = assignments[(judges[3].pk, props[1].pk)]
    services.save_sheet(
        assignment=other,
        by=judges[3].user,
        points={cr.pk: Decimal(v) for cr, v in zip(c.criteria.all(), [23, 21, 27, 16], strict=True)},
        comment="评委四的评语",
        expected_version=0,
        submit=True,
    )
    mine = assignments[(judges[2].pk, props[1].pk)]
    client.force_login(judges[2].user)
    page = client.get(f"/judging/assignments/{mine.pk}/sheet/").content.decode()
    main = page.split('<main id="main"')[1]
    assert "87.00" not in main and "评委四的评语" not in main
    assert client.get(f"/judging/round/{c.pk}/final/ranking/").status_code == 404
    assert client.get(f"/judging/round/{c.pk}/conflicts/").status_code == 404


def test_staff_unlock_with_reason(client, final_round, staff):
    c, judges, props, assignments = final_round
    a = assignments[(judges[2].pk, props[1].pk)]
    sheet = services.save_sheet(
        assignment=a,
        by=judges[2].user,
        points={cr.pk: Decimal(20) for cr in c.criteria.all()},
        comment="",
        expected_version=0,
        submit=True,
    )
    client.force_login(staff)
    client.post(f"/judging/sheets/{sheet.pk}/unlock/", {"reason": ""})
    assert ScoreSheet.objects.get(pk=sheet.pk).status == "submitted"
    client.post(f"/judging/sheets/{sheet.pk}/unlock/", {"reason": "评委误填社会效益分"})
    sheet.refresh_from_db()
    assert sheet.status == "draft" and sheet.version == 2
    assert AuditEvent.objects.get(action="sheet.unlock").note == "评委误填社会效益分"


def test_provisional_ranking_for_staff(client, final_round, staff):
    c, judges, props, assignments = final_round
    totals = {
        props[0].pk: [None, None, 80, 82, 85],
        props[1].pk: [84, 83, 86, 81, 60],
        props[2].pk: [75, 79, 77, 80, 76],
    }
    for p in props:
        for j, total in zip(judges, totals[p.pk], strict=True):
            if total is None:
                continue
            a = assignments[(j.pk, p.pk)]
            # 4 criteria 25/25/30/20: put the whole total on the first criteria in proportion.
            pts = [Decimal(round(total * w / 100)) for w in (25, 25, 30, 20)]
            pts[2] += Decimal(total) - sum(pts)
            services.save_sheet(
                assignment=a,
                by=j.user,
                points=dict(zip([cr.pk for cr in c.criteria.all()], pts, strict=True)),
                comment="说明",
                expected_version=0,
                submit=True,
            )
    client.force_login(staff)
    response = client.get(f"/judging/round/{c.pk}/final/ranking/")
    rows = response.context["rows"]
    assert [r["proposal"].pk for r in rows] == [props[1].pk, props[0].pk, props[2].pk]
    assert [round(r["score"], 2) for r in rows] == [82.67, 82.0, 77.33]
    assert [r["n"] for r in rows] == [5, 3, 5]


def test_prescoring_generation_through_the_web(client, staff):
    c = factories.competition(stage="prescoring")
    owners = [factories.organization() for _ in range(10)]
    props = [factories.proposal(c, o, status="eligible") for o in owners]
    judges = [factories.judge(f"pj{i}", affiliation=f"单位{i}") for i in range(5)]
    judges[0].other_affiliations = owners[0].name
    judges[0].save()
    client.force_login(staff)
    response = client.post(
        f"/judging/round/{c.pk}/panel/prescoring/", {"judges": [j.pk for j in judges], "k": 3, "seed": 11}
    )
    assert response.status_code == 302
    assignments = Assignment.objects.filter(panel__competition=c, panel__stage="prescoring")
    assert assignments.count() == 30
    assert not assignments.filter(judge=judges[0], proposal=props[0]).exists()
    loads = sorted(assignments.filter(judge=j).count() for j in judges)
    assert loads == [6, 6, 6, 6, 6]


def test_prescoring_impossible_is_said_plainly(client, staff):
    c = factories.competition(stage="prescoring")
    for _ in range(2):
        factories.proposal(c, factories.organization(), status="eligible")
    judges = [factories.judge(f"qj{i}") for i in range(2)]
    client.force_login(staff)
    response = client.post(f"/judging/round/{c.pk}/panel/prescoring/", {"judges": [j.pk for j in judges], "k": 3})
    assert response.status_code == 200
    assert "2 位评委无法为每个项目安排 3 位评委" in response.content.decode()
