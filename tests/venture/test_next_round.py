"""Next year's round from last year's (issue #18): "new round from …" copies the set-up in one audited step; rubric
criterion codes are made from the Chinese names with pypinyin."""

import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from judging import rubric
from judging.models import Criterion, Panel
from judging.rubric_forms import CriterionForm
from tests import factories
from tests.builders import set_evaluation_rubrics
from venture.audit.models import AuditEvent
from venture.competitions import services
from venture.competitions.models import Competition, Stage
from venture.screening.models import ChecklistItem
from venture.supervision.models import EvaluationCriterion

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
BANDS = [{"min": 21, "max": 25, "label": "优秀"}, {"min": 0, "max": 20, "label": "一般"}]


def last_year():
    """A round of 2025 that went to supervision, with everything a set-up has and proposals, judges and a pool."""
    c = factories.competition(
        stage=Stage.SUPERVISION,
        title="2025年示范市公益创投大赛",
        year=2025,
        description="## 申报须知\n\n面向新就业形态劳动者。",
        fund_pool=Decimal("800000.00"),
        opens_at=datetime.datetime(2025, 3, 1, 9, 0, tzinfo=SHANGHAI),
        closes_at=datetime.datetime(2025, 4, 15, 17, 30, tzinfo=SHANGHAI),
        project_start_earliest=datetime.date(2025, 7, 1),
        project_end_latest=datetime.date(2026, 6, 30),
        cofunding_share=Decimal("10"),
        tiebreak_criterion="social_benefit",
        receipt_threshold=Decimal("800.00"),
    )
    Criterion.objects.filter(competition=c, code="targeting").update(bands=BANDS, description="定位准确")
    for order, text in enumerate(["登记证书在有效期内", "预算符合上限"]):
        ChecklistItem.objects.create(competition=c, text=text, order=order)
    set_evaluation_rubrics(c, rows=(("执行进度", 50), ("服务成效", 50)))
    owner = factories.user("applicant_ly")
    factories.proposal(c, factories.organization(owner=owner), status="awarded")
    Panel.objects.create(competition=c, stage="final")
    return c


NEW = {
    "title": "2026年示范市公益创投大赛",
    "year": 2026,
    "fund_pool": Decimal("1000000.00"),
    "opens_at": datetime.datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI),
    "closes_at": datetime.datetime(2026, 4, 16, 17, 30, tzinfo=SHANGHAI),
    "project_start_earliest": datetime.date(2026, 7, 1),
    "project_end_latest": datetime.date(2027, 6, 30),
}


def test_copy_takes_the_setup_and_leaves_dates_pool_proposals_and_people():
    source = last_year()
    staff = factories.user("staff_copy", role="staff")
    c = services.copy_competition(source=source, by=staff, data=NEW)

    assert c.pk != source.pk
    assert (c.stage, c.title, c.year, c.fund_pool) == (Stage.DRAFT, NEW["title"], 2026, Decimal("1000000.00"))
    assert (c.opens_at, c.closes_at) == (NEW["opens_at"], NEW["closes_at"])
    assert (c.project_start_earliest, c.project_end_latest) == (datetime.date(2026, 7, 1), datetime.date(2027, 6, 30))
    # Every other setting is the source's.
    assert c.description == "## 申报须知\n\n面向新就业形态劳动者。"
    assert (c.min_grant, c.max_grant, c.cofunding_share) == (Decimal("50000.00"), Decimal("150000.00"), Decimal("10"))
    assert (c.receipt_threshold, c.tiebreak_criterion, c.awarded_total) == (Decimal("800.00"), "social_benefit", 0)

    assert list(c.categories.values_list("name", "order")) == [("权益保障", 0), ("技能培训", 1)]
    assert list(c.budget_categories.values_list("name", "cap_percent", "cap_amount", "is_management_fee")) == [
        ("人员经费", Decimal("30.00"), None, False),
        ("活动经费", None, None, False),
        ("管理费", Decimal("10.00"), None, True),
    ]
    assert list(c.tranche_plan.values_list("order", "percent", "condition")) == [
        (1, Decimal("50.00"), "signing"),
        (2, Decimal("30.00"), "midterm"),
        (3, Decimal("20.00"), "final"),
    ]
    assert list(c.criteria.values_list("code", "name", "max_points", "weight", "order")) == [
        ("targeting", "项目定位精准性", Decimal("25.0"), Decimal("25.00"), 0),
        ("feasibility", "内容可行性", Decimal("25.0"), Decimal("25.00"), 1),
        ("social_benefit", "社会效益", Decimal("30.0"), Decimal("30.00"), 2),
        ("budget", "资金预算", Decimal("20.0"), Decimal("20.00"), 3),
    ]
    targeting = c.criteria.get(code="targeting")
    assert (targeting.bands, targeting.description) == (BANDS, "定位准确")
    assert list(ChecklistItem.objects.filter(competition=c).values_list("text", "order")) == [
        ("登记证书在有效期内", 0),
        ("预算符合上限", 1),
    ]
    assert list(EvaluationCriterion.objects.filter(competition=c).values_list("kind", "name", "max_points")) == [
        ("final", "执行进度", Decimal("50.0")),
        ("final", "服务成效", Decimal("50.0")),
        ("midterm", "执行进度", Decimal("50.0")),
        ("midterm", "服务成效", Decimal("50.0")),
    ]
    # Not copied: proposals, panels (judges), and the copies are new rows, not the source's.
    assert (c.proposals.count(), c.panels.count()) == (0, 0)
    assert not set(c.criteria.values_list("pk", flat=True)) & set(source.criteria.values_list("pk", flat=True))
    # The source is untouched.
    assert (source.proposals.count(), source.categories.count(), source.criteria.count()) == (1, 2, 4)
    assert ChecklistItem.objects.filter(competition=source).count() == 2
    # A copied round is ready to open as far as its set-up goes.
    assert services.opening_problems(c) == []

    # One audit event says what was copied from where.
    events = AuditEvent.objects.filter(object_type="competitions.competition", object_id=str(c.pk))
    assert list(events.values_list("action", flat=True)) == ["competition.copy"]
    after = events.get().after
    assert after["copied_from"] == {"id": source.pk, "title": "2025年示范市公益创投大赛"}
    assert after["categories"] == ["权益保障", "技能培训"]
    assert [b["name"] for b in after["budget_categories"]] == ["人员经费", "活动经费", "管理费"]
    assert [t["condition"] for t in after["tranche_plan"]] == ["signing", "midterm", "final"]
    assert [r["code"] for r in after["criteria"]] == ["targeting", "feasibility", "social_benefit", "budget"]
    assert after["checklist"] == ["登记证书在有效期内", "预算符合上限"]
    assert [r["name"] for r in after["evaluation_rubric"]["midterm"]] == ["执行进度", "服务成效"]
    assert after["fund_pool"] == "1000000.00"


def test_copy_refuses_broken_settings_and_leaves_nothing_behind():
    source = last_year()
    staff = factories.user("staff_copy", role="staff")
    before = Competition.objects.count()
    with pytest.raises(ValidationError) as exc:
        services.copy_competition(source=source, by=staff, data={**NEW, "fund_pool": Decimal("100000.00")})
    assert exc.value.message_dict == {"max_grant": ["最高资助额不能高于资助总额。"]}
    assert Competition.objects.count() == before
    with pytest.raises(ValueError, match="Not a setting given for a copy: stage"):
        services.copy_competition(source=source, by=staff, data={**NEW, "stage": "open"})


def test_copy_form_proposes_the_dates_a_year_on():
    source = last_year()
    initial = services.copy_initial(source)
    assert initial == {
        "title": "2026年示范市公益创投大赛",
        "year": 2026,
        "opens_at": datetime.datetime(2026, 3, 1, 9, 0, tzinfo=SHANGHAI),
        "closes_at": datetime.datetime(2026, 4, 15, 17, 30, tzinfo=SHANGHAI),
        "project_start_earliest": datetime.date(2026, 7, 1),
        "project_end_latest": datetime.date(2027, 6, 30),
    }
    assert services._year_on(datetime.date(2028, 2, 29)) == datetime.date(2029, 2, 28)


def test_copy_page_creates_the_round_and_opens_the_wizard(client):
    source = last_year()
    staff = factories.user("staff_copy", role="staff")
    client.force_login(staff)
    page = client.get(f"/rounds/{source.pk}/copy/")
    assert page.status_code == 200
    assert 'value="2026年示范市公益创投大赛"' in page.content.decode()
    response = client.post(
        f"/rounds/{source.pk}/copy/",
        {
            "title": "2026年示范市公益创投大赛",
            "year": "2026",
            "fund_pool": "1000000",
            "opens_at": "2026-03-02T09:00",
            "closes_at": "2026-04-16T17:30",
            "project_start_earliest": "2026-07-01",
            "project_end_latest": "2027-06-30",
        },
    )
    copy = Competition.objects.get(year=2026, title="2026年示范市公益创投大赛")
    assert response.status_code == 302
    assert response["Location"] == f"/rounds/{copy.pk}/edit/"
    assert copy.criteria.count() == 4


def test_copy_page_is_for_staff_only(client):
    source = last_year()
    client.force_login(factories.user("applicant_copy"))
    assert client.get(f"/rounds/{source.pk}/copy/").status_code == 404
    assert client.post(f"/rounds/{source.pk}/copy/", {}).status_code == 404


# --- Criterion codes from the Chinese name ----------------------------------------------------------------------------


def test_codes_are_pinyin_of_the_name():
    assert rubric.code_from_name("社会效益") == "shehuixiaoyi"
    assert rubric.code_from_name("项目设计与可行性") == "xiangmushejiyukexingxing"
    assert rubric.code_from_name("创新性 2.0") == "chuangxinxing_2_0"
    assert rubric.code_from_name("！！") == "criterion"
    assert len(rubric.code_from_name("非常长的评分标准名称" * 5)) == 36


def test_codes_are_unique_within_the_rubric_with_suffixes():
    rows = rubric.fill_codes(
        [
            {"code": "", "name": "社会效益"},
            {"code": "shehuixiaoyi", "name": "Social benefit"},
            {"code": "", "name": "社会效益"},
            {"code": "", "name": "团队能力"},
        ]
    )
    assert [r["code"] for r in rows] == ["shehuixiaoyi_2", "shehuixiaoyi", "shehuixiaoyi_3", "tuanduinengli"]


def test_saving_a_rubric_without_codes_makes_them():
    c = factories.competition(stage=Stage.DRAFT)
    staff = factories.user("staff_codes", role="staff")
    rubric.save_rubric(
        competition=c,
        by=staff,
        criteria=[
            {"code": "", "name": "项目定位", "max_points": 25, "weight": 25},
            {"code": "", "name": "可行性", "max_points": 25, "weight": 25},
            {"code": "", "name": "社会效益", "max_points": 30, "weight": 30},
            {"code": "", "name": "社会效益", "max_points": 20, "weight": 20},
        ],
    )
    assert list(c.criteria.values_list("code", flat=True)) == [
        "xiangmudingwei",
        "kexingxing",
        "shehuixiaoyi",
        "shehuixiaoyi_2",
    ]


def test_a_typed_code_that_is_not_a_code_is_explained_in_plain_chinese():
    data = {"code": "社会 效益", "name": "社会效益", "max_points": "30", "weight": "30", "bands": ""}
    with translation.override("zh-hans"):
        form = CriterionForm(data)
        assert not form.is_valid()
        assert form.errors["code"] == [
            "代码只能由英文字母、数字、“-”和“_”组成，不能有空格或汉字。留空即可，系统会根据名称自动生成。"
        ]
    blank = CriterionForm({**data, "code": ""})
    assert blank.is_valid(), blank.errors
