"""Staff set up a round: settings, service categories, budget rules, tranche plan, rubric and the mid-term and final
evaluation rubrics, through the pages."""

from datetime import date, datetime
from decimal import Decimal
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from judging import rubric
from judging.models import Criterion, Judge, Panel, PanelStage
from tests import factories
from tests.builders import set_evaluation_rubrics
from venture.audit.models import AuditEvent
from venture.awards.models import Award
from venture.awards.services import create_agreement
from venture.competitions import services, setup
from venture.competitions.models import BudgetCategory, Category, Competition, Stage, TranchePlanItem
from venture.supervision import evaluation_rubric as evaluation_rubrics
from venture.supervision import services as supervision
from venture.supervision.models import EvaluationCriterion

SHANGHAI = ZoneInfo("Asia/Shanghai")

SETTINGS = {
    "title": "2026年示范市新就业形态劳动者服务项目创投大赛",
    "year": "2026",
    "organizer": "示范市总工会",
    "description": "## 申报须知\n\n面向**新就业形态劳动者**。",
    "fund_pool": "1200000.00",
    "min_grant": "50000",
    "max_grant": "150000.50",
    "opens_at": "2026-03-01T09:00",
    "closes_at": "2026-04-15T17:30",
    "finalist_quota": "12",
    "project_start_earliest": "2026-07-01",
    "project_end_latest": "2027-06-30",
    "min_project_months": "6",
    "max_project_months": "12",
    "cofunding_share": "10",
    "notice_working_days": "5",
    "score_step": "0.5",
    "comment_below": "60",
    "comment_above": "90",
    "presentation_minutes": "8",
    "qa_minutes": "7",
    "method": "trimmed_mean",
    "trim": "1",
    "tiebreak_criterion": "",
    "funding_rule": "skip",
    "report_frequency": "quarterly",
    "receipt_threshold": "500",
    "overspend_tolerance": "10",
    "spend_rate_tolerance": "25",
    "evaluation_pass_mark": "60",
}

RUBRIC = [
    {
        "code": "targeting",
        "name": "项目定位精准性",
        "max_points": "25",
        "weight": "25",
        "description": "服务对象是否明确",
        "bands": "21-25 优秀\n16-20 良好\n0-15 一般",
    },
    {"code": "feasibility", "name": "内容可行性", "max_points": "25", "weight": "25", "description": "", "bands": ""},
    {
        "code": "social_benefit",
        "name": "社会效益",
        "max_points": "30",
        "weight": "30",
        "description": "",
        "bands": "25–30 优秀\n0-24.5 其他",
    },
    {"code": "budget", "name": "资金预算", "max_points": "20", "weight": "20", "description": "", "bands": ""},
]


EVALUATION_RUBRIC = [
    {"id": "", "name": "服务成效", "max_points": "40"},
    {"id": "", "name": "项目管理", "max_points": "30"},
    {"id": "", "name": "资金使用规范", "max_points": "30"},
]
# The default evaluation rubric of a new round, in English (the tests read the site in English).
DEFAULT_EVALUATION_RUBRIC = [
    ("Goals achieved", Decimal("30.0"), 0),
    ("Quality of service", Decimal("30.0"), 1),
    ("Use of funds", Decimal("20.0"), 2),
    ("Project management", Decimal("20.0"), 3),
]


def formset_data(prefix, rows, initial=0):
    """POST data of a formset page: the management form plus one numbered block per row (keys without prefix)."""
    data = {
        f"{prefix}-TOTAL_FORMS": str(len(rows)),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    for i, row in enumerate(rows):
        for key, value in row.items():
            if value is True:
                value = "on"
            elif value is False or value is None:
                continue
            data[f"{prefix}-{i}-{key}"] = str(value)
    return data


class _FormValues(HTMLParser):
    """What a browser submits for the page's <form method="post">: inputs, ticked boxes, selected options,
    textareas (the submit buttons without a name are left out)."""

    def __init__(self):
        super().__init__()
        self.values, self._in_form, self._select, self._first_option, self._textarea = {}, False, None, None, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and a.get("method") == "post" and "action" not in a:
            self._in_form = True
        if not self._in_form:
            return
        if tag == "input" and a.get("name") and a.get("type") not in ("submit", "button"):
            if a.get("type") in ("checkbox", "radio"):
                if "checked" in a:
                    self.values[a["name"]] = a.get("value", "on")
            else:
                self.values[a["name"]] = a.get("value", "")
        elif tag == "select":
            self._select, self._first_option = a["name"], None
        elif tag == "option" and self._select:
            if self._first_option is None:
                self._first_option = a.get("value", "")
                self.values[self._select] = self._first_option
            if "selected" in a:
                self.values[self._select] = a.get("value", "")
        elif tag == "textarea":
            self._textarea = a["name"]
            self.values[self._textarea] = ""

    def handle_endtag(self, tag):
        if tag == "form":
            self._in_form = False
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea:
            self.values[self._textarea] += data.removeprefix("\n") if not self.values[self._textarea] else data


def browser_form(client, url):
    """GET ``url`` and return the values its form would post if the user pressed Save without changing anything."""
    parser = _FormValues()
    parser.feed(client.get(url).content.decode())
    parser.values.pop("csrfmiddlewaretoken", None)
    return parser.values


@pytest.fixture
def en(client):
    """The test client reading the site in English, so assertions do not depend on the Chinese catalogue."""
    client.cookies["django_language"] = "en"
    return client


@pytest.fixture
def english():
    """Service functions called directly, outside a request, speak English."""
    with translation.override("en"):
        yield


@pytest.fixture
def staff_client(en, staff):
    en.force_login(staff)
    return en


@pytest.fixture
def draft(db):
    return factories.competition(stage=Stage.DRAFT)


def evaluation_rubric(competition, kind):
    return list(competition.evaluation_criteria.filter(kind=kind).values_list("name", "max_points", "order"))


def actions(competition):
    return list(
        AuditEvent.objects.filter(object_type="competitions.competition", object_id=str(competition.pk))
        .order_by("id")
        .values_list("action", flat=True)
    )


# --- The whole set-up through the pages -----------------------------------------------------------------------------


def test_staff_sets_up_a_round_with_categories_budget_rules_tranches_and_rubric(staff_client, staff):
    response = staff_client.post("/rounds/new/", SETTINGS)
    competition = Competition.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/rounds/{competition.pk}/categories/"
    assert competition.stage == Stage.DRAFT
    assert competition.title == "2026年示范市新就业形态劳动者服务项目创投大赛"
    assert competition.year == 2026
    assert competition.fund_pool == Decimal("1200000.00")
    assert competition.min_grant == Decimal("50000.00")
    assert competition.max_grant == Decimal("150000.50")
    assert competition.opens_at == datetime(2026, 3, 1, 9, 0, tzinfo=SHANGHAI)
    assert competition.closes_at == datetime(2026, 4, 15, 17, 30, tzinfo=SHANGHAI)
    assert competition.project_start_earliest == date(2026, 7, 1)
    assert competition.project_end_latest == date(2027, 6, 30)
    assert (competition.min_project_months, competition.max_project_months) == (6, 12)
    assert competition.cofunding_share == Decimal("10.00")
    assert competition.score_step == Decimal("0.5")
    assert (competition.method, competition.trim, competition.funding_rule) == ("trimmed_mean", 1, "skip")

    response = staff_client.post(
        f"/rounds/{competition.pk}/categories/",
        formset_data(
            "categories",
            [
                {"name": "技能培训", "ORDER": "2"},
                {"name": "权益保障", "ORDER": "1"},
                {"name": "", "ORDER": ""},
            ],
        ),
    )
    assert response.status_code == 302
    assert response["Location"] == f"/rounds/{competition.pk}/categories/"
    assert list(competition.categories.values_list("name", "order")) == [("权益保障", 0), ("技能培训", 1)]

    response = staff_client.post(
        f"/rounds/{competition.pk}/budget-rules/",
        {
            **formset_data(
                "budget_rules",
                [
                    {"name": "人员经费", "cap_percent": "30", "cap_amount": ""},
                    {"name": "活动经费"},
                    {"name": "管理费", "cap_percent": "10", "cap_amount": "12000.50", "is_management_fee": True},
                ],
            ),
            "continue": "1",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == f"/rounds/{competition.pk}/tranches/"
    assert list(
        competition.budget_categories.values_list("name", "cap_percent", "cap_amount", "is_management_fee", "order")
    ) == [
        ("人员经费", Decimal("30.00"), None, False, 0),
        ("活动经费", None, None, False, 1),
        ("管理费", Decimal("10.00"), Decimal("12000.50"), True, 2),
    ]

    response = staff_client.post(
        f"/rounds/{competition.pk}/tranches/",
        formset_data(
            "tranches",
            [
                {"percent": "50", "condition": "signing"},
                {"percent": "30", "condition": "midterm"},
                {"percent": "20", "condition": "final"},
            ],
        ),
    )
    assert response.status_code == 302
    assert list(competition.tranche_plan.values_list("order", "percent", "condition")) == [
        (1, Decimal("50.00"), "signing"),
        (2, Decimal("30.00"), "midterm"),
        (3, Decimal("20.00"), "final"),
    ]

    response = staff_client.post(
        f"/rounds/{competition.pk}/rubric/", {**formset_data("rubric", RUBRIC), "continue": "1"}
    )
    assert response.status_code == 302
    assert response["Location"] == f"/rounds/{competition.pk}/evaluation/midterm/"
    assert list(competition.criteria.values_list("code", "name", "max_points", "weight", "order")) == [
        ("targeting", "项目定位精准性", Decimal("25.0"), Decimal("25.00"), 0),
        ("feasibility", "内容可行性", Decimal("25.0"), Decimal("25.00"), 1),
        ("social_benefit", "社会效益", Decimal("30.0"), Decimal("30.00"), 2),
        ("budget", "资金预算", Decimal("20.0"), Decimal("20.00"), 3),
    ]
    targeting = competition.criteria.get(code="targeting")
    assert targeting.description == "服务对象是否明确"
    assert targeting.bands == [
        {"min": 21, "max": 25, "label": "优秀"},
        {"min": 16, "max": 20, "label": "良好"},
        {"min": 0, "max": 15, "label": "一般"},
    ]
    assert competition.criteria.get(code="social_benefit").bands == [
        {"min": 25, "max": 30, "label": "优秀"},
        {"min": 0, "max": 24.5, "label": "其他"},
    ]
    assert competition.criteria.get(code="budget").bands == []

    # The new round came with the default evaluation rubrics; staff change the mid-term one and keep the final one.
    url = f"/rounds/{competition.pk}/evaluation/midterm/"
    response = staff_client.post(url, {**formset_data("evaluation_midterm", EVALUATION_RUBRIC), "continue": "1"})
    assert response.status_code == 302
    assert response["Location"] == f"/rounds/{competition.pk}/evaluation/final/"
    url = f"/rounds/{competition.pk}/evaluation/final/"
    response = staff_client.post(url, {**browser_form(staff_client, url), "continue": "1"})
    assert response.status_code == 302
    assert response["Location"] == f"/rounds/{competition.pk}/"
    assert evaluation_rubric(competition, "midterm") == [
        ("服务成效", Decimal("40.0"), 0),
        ("项目管理", Decimal("30.0"), 1),
        ("资金使用规范", Decimal("30.0"), 2),
    ]
    assert evaluation_rubric(competition, "final") == DEFAULT_EVALUATION_RUBRIC

    assert actions(competition) == [
        "competition.create",
        "competition.categories",
        "competition.budget_categories",
        "competition.tranche_plan",
        "competition.rubric",
        "competition.evaluation_rubric",
    ]
    assert set(AuditEvent.objects.values_list("actor__username", flat=True)) == {"staff1"}

    # The round page links every setup page; the public call page shows what was set up.
    body = staff_client.get(f"/rounds/{competition.pk}/").content.decode()
    for url in ("edit", "categories", "budget-rules", "tranches", "rubric", "evaluation/midterm", "evaluation/final"):
        assert f'href="/rounds/{competition.pk}/{url}/"' in body
    services.advance_stage(competition=competition, to=Stage.OPEN, by=staff)
    body = staff_client.get(f"/calls/{competition.pk}/").content.decode()
    assert "权益保障、技能培训" in body
    assert "21–25 优秀; 16–20 良好; 0–15 一般" in body
    assert "50% · On signing the grant agreement<br>30% · After a passed mid-term evaluation<br>" in body


def test_pages_render_with_the_current_values(staff_client, draft):
    body = staff_client.get(f"/rounds/{draft.pk}/edit/").content.decode()
    opens = draft.opens_at.astimezone(SHANGHAI).strftime("%Y-%m-%dT%H:%M")
    assert f'name="opens_at" value="{opens}"' in body
    assert 'value="1" selected' in body  # the score step 1.0 stored shows as "1"
    assert '<option value="social_benefit">social_benefit · 社会效益</option>' in body

    body = staff_client.get(f"/rounds/{draft.pk}/categories/").content.decode()
    assert 'name="categories-0-name" value="权益保障"' in body
    assert 'name="categories-1-name" value="技能培训"' in body
    assert 'name="categories-TOTAL_FORMS" value="5"' in body  # 2 categories + 3 empty rows

    body = staff_client.get(f"/rounds/{draft.pk}/rubric/").content.decode()
    assert 'name="rubric-0-code" value="targeting"' in body
    assert 'name="rubric-TOTAL_FORMS" value="5"' in body

    body = staff_client.get("/rounds/new/").content.decode()
    assert 'name="trim" value="1"' in body  # model defaults prefill a new round


def test_new_round_button_and_setup_links_only_for_staff(client, staff, auditor, draft):
    client.force_login(staff)
    assert 'href="/rounds/new/"' in client.get("/rounds/").content.decode()
    assert f'href="/rounds/{draft.pk}/edit/"' in client.get(f"/rounds/{draft.pk}/").content.decode()
    client.force_login(auditor)
    assert 'href="/rounds/new/"' not in client.get("/rounds/").content.decode()
    assert f'href="/rounds/{draft.pk}/edit/"' not in client.get(f"/rounds/{draft.pk}/").content.decode()


# --- Who may --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["applicant", "judge", "auditor", "supervisor"])
def test_non_staff_get_403_on_create_and_404_on_an_existing_round(client, draft, role):
    client.force_login(factories.user(f"someone_{role}", role=role))
    assert client.get("/rounds/new/").status_code == 403
    assert client.post("/rounds/new/", SETTINGS).status_code == 403
    for page in ("edit", "categories", "budget-rules", "tranches", "rubric", "evaluation/midterm", "evaluation/final"):
        assert client.get(f"/rounds/{draft.pk}/{page}/").status_code == 404
        assert client.post(f"/rounds/{draft.pk}/{page}/", {"title": "x"}).status_code == 404
    assert Competition.objects.count() == 1
    assert draft.categories.count() == 2
    assert EvaluationCriterion.objects.count() == 0
    assert AuditEvent.objects.count() == 0


def test_anonymous_is_sent_to_login(client, draft):
    response = client.get(f"/rounds/{draft.pk}/edit/")
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next=/rounds/{draft.pk}/edit/"


def test_missing_round_is_404_for_staff(staff_client):
    assert staff_client.get("/rounds/999999/edit/").status_code == 404


# --- Settings rules -------------------------------------------------------------------------------------------------


def test_closes_before_opens_is_refused_next_to_the_field_and_keeps_the_input(staff_client):
    response = staff_client.post("/rounds/new/", {**SETTINGS, "closes_at": "2026-03-01T08:59"})
    assert response.status_code == 200
    assert response.context["form"].errors == {"closes_at": ["Applications must close after they open."]}
    body = response.content.decode()
    assert "Applications must close after they open." in body
    assert 'value="2026年示范市新就业形态劳动者服务项目创投大赛"' in body
    assert 'name="closes_at" value="2026-03-01T08:59"' in body
    assert Competition.objects.count() == 0
    assert AuditEvent.objects.count() == 0


@pytest.mark.parametrize(
    "changes, errors",
    [
        ({"fund_pool": "-1"}, {"fund_pool": ["An amount cannot be negative."]}),
        ({"min_grant": "abc"}, {"min_grant": ["Enter an amount in yuan."]}),
        ({"max_grant": "100000.005"}, {"max_grant": ["Use at most two decimal places (fen)."]}),
        ({"min_grant": "200000"}, {"min_grant": ["The minimum grant cannot be more than the maximum grant."]}),
        ({"fund_pool": "100000"}, {"max_grant": ["The maximum grant cannot be more than the fund pool."]}),
        (
            {"project_end_latest": "2026-07-01"},
            {"project_end_latest": ["The latest project end must come after the earliest project start."]},
        ),
        (
            {"min_project_months": "13"},
            {"max_project_months": ["The longest project cannot be shorter than the shortest project."]},
        ),
        ({"score_step": "0.25"}, {"score_step": ["Select a valid choice. 0.25 is not one of the available choices."]}),
        ({"trim": "-1"}, {"trim": ["Ensure this value is greater than or equal to 0."]}),
        (
            {"comment_below": "95"},
            {"comment_above": ["This bound cannot be lower than the “comment required below” bound."]},
        ),
        ({"cofunding_share": "101"}, {"cofunding_share": ["Ensure this value is less than or equal to 100."]}),
        (
            {"tiebreak_criterion": "social_benefit"},
            {"tiebreak_criterion": ["Select a valid choice. social_benefit is not one of the available choices."]},
        ),
    ],
)
def test_settings_rules(staff_client, changes, errors):
    response = staff_client.post("/rounds/new/", {**SETTINGS, **changes})
    assert response.status_code == 200
    assert response.context["form"].errors == errors
    assert Competition.objects.count() == 0


def test_errors_are_in_the_users_language(client, staff):
    client.force_login(staff)  # default language: Simplified Chinese
    response = client.post("/rounds/new/", {**SETTINGS, "title": ""})
    assert response.context["form"].errors == {"title": ["这个字段是必填项。"]}
    assert "这个字段是必填项。" in response.content.decode()


def test_edit_settings_records_only_what_changed(staff_client, draft):
    values = {
        **SETTINGS,
        "year": str(draft.year),
        "title": "新名称",
        "max_grant": "120000",
        "tiebreak_criterion": "social_benefit",
    }
    response = staff_client.post(f"/rounds/{draft.pk}/edit/", values)
    assert response.status_code == 302
    assert response["Location"] == f"/rounds/{draft.pk}/edit/"
    draft.refresh_from_db()
    assert (draft.title, draft.max_grant, draft.tiebreak_criterion) == (
        "新名称",
        Decimal("120000.00"),
        "social_benefit",
    )
    event = AuditEvent.objects.get(action="competition.update")
    assert event.before["title"] == "测试创投大赛"
    assert event.after["title"] == "新名称"
    assert event.before["max_grant"] == "150000.00"
    assert event.after["max_grant"] == "120000.00"
    assert event.after["tiebreak_criterion"] == "social_benefit"
    assert event.after["opens_at"] == "2026-03-01T09:00:00+08:00"
    assert (
        set(event.after)
        == set(event.before)
        == {
            "title",
            "description",
            "fund_pool",
            "max_grant",
            "opens_at",
            "closes_at",
            "project_start_earliest",
            "project_end_latest",
            "min_project_months",
            "cofunding_share",
            "score_step",
            "tiebreak_criterion",
            "funding_rule",
        }
    )  # only what changed: year, organizer, min_grant, quota ... were already the same

    # Saving the same values again changes nothing and records nothing.
    staff_client.post(f"/rounds/{draft.pk}/edit/", values)
    assert actions(draft) == ["competition.update"]


def test_services_refuse_what_the_form_refuses(english, staff, draft):
    with pytest.raises(ValidationError) as exc:
        services.update_competition(competition=draft, by=staff, data={"closes_at": draft.opens_at})
    assert exc.value.message_dict == {"closes_at": ["Applications must close after they open."]}
    with pytest.raises(ValueError, match="Not a round setting: stage"):
        services.update_competition(competition=draft, by=staff, data={"stage": Stage.CLOSED})
    with pytest.raises(ValidationError) as exc:
        services.update_competition(competition=draft, by=staff, data={"tiebreak_criterion": "nope"})
    assert exc.value.message_dict == {
        "tiebreak_criterion": ["The tie-break must be one of the rubric's criteria codes."]
    }
    draft.refresh_from_db()
    assert draft.stage == Stage.DRAFT
    assert AuditEvent.objects.count() == 0


def _final_panel(competition, n_judges):
    panel = Panel.objects.create(competition=competition, stage=PanelStage.FINAL)
    for i in range(n_judges):
        user = factories.user(f"judge{i}", role="judge")
        panel.judges.add(Judge.objects.create(user=user, affiliation="示范大学", expertise="professor"))
    return panel


def test_small_final_panel_warns_but_saves(staff_client, draft):
    _final_panel(draft, 3)
    response = staff_client.post(f"/rounds/{draft.pk}/edit/", {**SETTINGS, "trim": "1"}, follow=True)
    messages = [str(m) for m in response.context["messages"]]
    assert messages == [
        "Saved.",
        "The final panel has 3 judges. A trimmed mean that drops 1 total(s) at each end needs at least 5 judges "
        "to be reliable; add judges, lower the trim or choose another method.",
    ]
    draft.refresh_from_db()
    assert draft.trim == 1
    # The same warning shows when the settings page is opened.
    assert "The final panel has 3 judges." in staff_client.get(f"/rounds/{draft.pk}/edit/").content.decode()


def test_no_warning_with_five_judges_or_no_panel_or_another_method(staff_client, draft):
    response = staff_client.post(f"/rounds/{draft.pk}/edit/", SETTINGS, follow=True)
    assert [str(m) for m in response.context["messages"]] == ["Saved."]
    panel = _final_panel(draft, 4)
    response = staff_client.post(f"/rounds/{draft.pk}/edit/", {**SETTINGS, "method": "median"}, follow=True)
    assert [str(m) for m in response.context["messages"]] == ["Saved."]
    panel.judges.add(
        Judge.objects.create(user=factories.user("judge_x", role="judge"), affiliation="工会", expertise="union")
    )
    response = staff_client.post(f"/rounds/{draft.pk}/edit/", SETTINGS, follow=True)
    assert [str(m) for m in response.context["messages"]] == ["Saved."]


def test_markdown_description_with_script_is_sanitised_on_the_public_call_page(staff_client, staff):
    description = "**欢迎申报** <script>alert('x')</script>\n\n<img src=x onerror=alert(1)>[链接](javascript:alert(2))"
    staff_client.post("/rounds/new/", {**SETTINGS, "description": description})
    competition = Competition.objects.get()
    assert competition.description == description  # stored as typed
    Competition.objects.filter(pk=competition.pk).update(stage=Stage.OPEN)  # (opening needs a complete setup)
    body = staff_client.get(f"/calls/{competition.pk}/").content.decode()
    assert (
        '<div class="card-body call-description"><p><strong>欢迎申报</strong> </p>\n<p><a rel="noopener noreferrer">链接</a></p></div>'
        in body
    )
    assert "alert(" not in body
    assert "onerror" not in body


# --- Related sets ---------------------------------------------------------------------------------------------------


def test_weights_not_adding_up_to_100_are_refused_and_the_input_kept(staff_client, draft):
    url = f"/rounds/{draft.pk}/rubric/"
    data = browser_form(staff_client, url)
    data.update({"rubric-3-weight": "10", "rubric-3-name": "资金预算（修改）"})
    response = staff_client.post(url, data)
    assert response.status_code == 200
    assert response.context["formset"].non_form_errors() == [
        "The weights add up to 90; they must add up to exactly 100."
    ]
    body = response.content.decode()
    assert "The weights add up to 90; they must add up to exactly 100." in body
    assert 'name="rubric-3-name" value="资金预算（修改）"' in body
    assert 'name="rubric-3-weight" value="10"' in body
    assert list(draft.criteria.values_list("name", "weight")) == [
        ("项目定位精准性", Decimal("25")),
        ("内容可行性", Decimal("25")),
        ("社会效益", Decimal("30")),
        ("资金预算", Decimal("20")),
    ]
    assert actions(draft) == []


def test_tranches_not_adding_up_to_100_are_refused(english, staff_client, draft):
    response = staff_client.post(
        f"/rounds/{draft.pk}/tranches/",
        formset_data(
            "tranches",
            [
                {"percent": "50", "condition": "signing"},
                {"percent": "30.5", "condition": "midterm"},
                {"percent": "10", "condition": "final"},
            ],
        ),
    )
    assert response.status_code == 200
    assert response.context["formset"].non_form_errors() == [
        "The tranches add up to 90.5%; they must add up to exactly 100%."
    ]
    assert "The tranches add up to 90.5%; they must add up to exactly 100%." in response.content.decode()
    assert list(draft.tranche_plan.values_list("percent", flat=True)) == [Decimal("50"), Decimal("30"), Decimal("20")]
    with pytest.raises(ValidationError) as exc:
        services.save_tranche_plan(
            competition=draft, by=None, tranches=[{"percent": Decimal("100"), "condition": "bogus"}]
        )
    assert exc.value.messages == ["Choose the release condition of each tranche."]


def test_locked_rubric_shows_read_only_and_refuses_a_post(english, staff_client, staff):
    competition = factories.competition(stage=Stage.FINAL)
    body = staff_client.get(f"/rounds/{competition.pk}/rubric/").content.decode()
    assert (
        "The rubric is locked because judging has started (stage: Final review (roadshow)); it can no longer be "
        "changed. It is shown read-only." in body
    )
    assert 'name="rubric-0-code"' not in body
    assert "<code>social_benefit</code>" in body

    # A form opened before judging started and sent after it did.
    Competition.objects.filter(pk=competition.pk).update(stage=Stage.SCREENING)
    data = browser_form(staff_client, f"/rounds/{competition.pk}/rubric/")
    data["rubric-0-name"] = "改名"
    Competition.objects.filter(pk=competition.pk).update(stage=Stage.FINAL)
    response = staff_client.post(f"/rounds/{competition.pk}/rubric/", data, follow=True)
    assert response.redirect_chain == [(f"/rounds/{competition.pk}/rubric/", 302)]
    assert [str(m) for m in response.context["messages"]] == [
        "The rubric is locked because judging has started (stage: Final review (roadshow)); it can no longer be "
        "changed."
    ]
    assert competition.criteria.get(code="targeting").name == "项目定位精准性"
    with pytest.raises(ValidationError) as exc:
        rubric.save_rubric(competition=competition, by=staff, criteria=[])
    assert exc.value.code == "locked"
    assert actions(competition) == []


def test_rubric_is_editable_until_judging_starts(staff_client):
    competition = factories.competition(stage=Stage.SCREENING)
    url = f"/rounds/{competition.pk}/rubric/"
    data = {**browser_form(staff_client, url), "rubric-0-weight": "30", "rubric-1-weight": "20"}
    response = staff_client.post(url, data)
    assert response.status_code == 302
    assert list(competition.criteria.values_list("code", "weight")) == [
        ("targeting", Decimal("30.00")),
        ("feasibility", Decimal("20.00")),
        ("social_benefit", Decimal("30.00")),
        ("budget", Decimal("20.00")),
    ]
    event = AuditEvent.objects.get(action="competition.rubric")
    assert [c["weight"] for c in event.before["criteria"]] == ["25.00", "25.00", "30.00", "20.00"]
    assert [c["weight"] for c in event.after["criteria"]] == ["30.00", "20.00", "30.00", "20.00"]


@pytest.mark.parametrize(
    "bands, error",
    [
        ("16-20 良好\n20-25 优秀", "The bands 16-20 and 20-25 overlap."),
        ("21-26 优秀", "The band 21-26 lies outside 0 to 25 points."),
        ("20-16 良好", "In the band 20-16 the lower bound is above the upper bound."),
        ("优秀 21 到 25", "Line 1: write one band per line as “from-to label”, for example “21-25 Excellent”."),
    ],
)
def test_bands_must_lie_within_the_points_and_not_overlap(staff_client, draft, bands, error):
    url = f"/rounds/{draft.pk}/rubric/"
    response = staff_client.post(url, {**browser_form(staff_client, url), "rubric-0-bands": bands})
    assert response.status_code == 200
    assert response.context["formset"].forms[0].errors == {"bands": [error]}
    assert draft.criteria.get(code="targeting").bands == []


def test_rubric_keeps_the_tiebreak_criterion(staff_client, draft):
    draft.tiebreak_criterion = "social_benefit"
    draft.save()
    url = f"/rounds/{draft.pk}/rubric/"
    data = {**browser_form(staff_client, url), "rubric-2-DELETE": "on", "rubric-0-weight": "55"}
    response = staff_client.post(url, data)
    assert response.context["formset"].non_form_errors() == [
        "The tie-break uses the criterion “social_benefit”. Keep it in the rubric, or change the tie-break in the "
        "round settings first."
    ]
    assert draft.criteria.count() == 4


def test_codes_and_names_can_swap_and_rows_keep_their_ids(staff, draft, org_a):
    proposal = factories.proposal(draft, org_a, category=draft.categories.get(name="权益保障"))
    ids = dict(draft.categories.values_list("name", "id"))
    services.save_categories(
        competition=draft,
        by=staff,
        categories=[
            {"id": ids["技能培训"], "name": "权益保障"},
            {"id": ids["权益保障"], "name": "技能培训"},
            {"name": "文化艺术"},
        ],
    )
    assert list(draft.categories.values_list("id", "name", "order")) == [
        (ids["技能培训"], "权益保障", 0),
        (ids["权益保障"], "技能培训", 1),
        (draft.categories.get(name="文化艺术").pk, "文化艺术", 2),
    ]
    proposal.refresh_from_db()
    assert proposal.category.name == "技能培训"  # renamed, still attached


def test_a_category_in_use_cannot_be_removed(staff_client, draft, org_a):
    factories.proposal(draft, org_a, category=draft.categories.get(name="权益保障"))
    url = f"/rounds/{draft.pk}/categories/"
    response = staff_client.post(
        url, {**browser_form(staff_client, url), "categories-0-DELETE": "on", "categories-1-name": "技能培训（改）"}
    )
    assert response.status_code == 200
    assert response.context["errors"] == [
        "The service category “权益保障” is used by proposals and cannot be removed; rename it instead."
    ]
    assert "The service category “权益保障” is used by proposals" in response.content.decode()
    assert 'name="categories-1-name" value="技能培训（改）"' in response.content.decode()  # the input is kept
    assert list(draft.categories.values_list("name", flat=True)) == ["权益保障", "技能培训"]


def test_duplicate_category_names_are_refused(staff_client, draft):
    response = staff_client.post(
        f"/rounds/{draft.pk}/categories/", formset_data("categories", [{"name": "技能培训"}, {"name": "技能培训"}])
    )
    assert response.context["formset"].non_form_errors() == ["The service category “技能培训” is listed twice."]


@pytest.mark.parametrize(
    "rows, form_errors, set_errors",
    [
        (
            [{"name": "管理费", "is_management_fee": True}, {"name": "管理费2", "is_management_fee": True}],
            [{}, {}],
            ["Only one budget category can be the management fee."],
        ),
        (
            [{"name": "人员经费", "cap_percent": "0"}],
            [{"cap_percent": ["A cap is more than 0 and at most 100 per cent; leave it empty for no cap."]}],
            [],
        ),
        ([{"name": "人员经费", "cap_amount": "-5"}], [{"cap_amount": ["An amount cannot be negative."]}], []),
        (
            [{"name": "人员经费", "cap_amount": "1.005"}],
            [{"cap_amount": ["Use at most two decimal places (fen)."]}],
            [],
        ),
    ],
)
def test_budget_rules(staff_client, draft, rows, form_errors, set_errors):
    response = staff_client.post(f"/rounds/{draft.pk}/budget-rules/", formset_data("budget_rules", rows))
    assert response.status_code == 200
    formset = response.context["formset"]
    assert [f.errors for f in formset.forms[: len(rows)]] == form_errors
    assert formset.non_form_errors() == set_errors
    assert draft.budget_categories.count() == 3


def test_a_stale_or_foreign_row_id_is_refused(staff, draft):
    other = factories.competition(stage=Stage.DRAFT)
    foreign = other.categories.first()
    with pytest.raises(ValidationError) as exc:
        services.save_categories(competition=draft, by=staff, categories=[{"id": foreign.pk, "name": "偷改"}])
    assert exc.value.code == "stale"
    assert Category.objects.get(pk=foreign.pk).name == foreign.name


def test_save_and_continue_walks_through_the_setup_pages(staff_client, draft):
    pages = ["edit", "categories", "budget-rules", "tranches", "rubric", "evaluation/midterm", "evaluation/final"]
    for page, next_url in zip(
        pages, [*(f"/rounds/{draft.pk}/{p}/" for p in pages[1:]), f"/rounds/{draft.pk}/"], strict=True
    ):
        url = f"/rounds/{draft.pk}/{page}/"
        response = staff_client.post(url, {**browser_form(staff_client, url), "continue": "1"})
        assert response.status_code == 302
        assert response["Location"] == next_url


def test_services_called_directly_keep_the_column_precision(english, staff, draft):
    with pytest.raises(ValidationError) as exc:
        services.save_tranche_plan(
            competition=draft,
            by=staff,
            tranches=[
                {"percent": Decimal("33.333"), "condition": "signing"},
                {"percent": Decimal("33.333"), "condition": "midterm"},
                {"percent": Decimal("33.334"), "condition": "final"},
            ],
        )
    assert exc.value.message_dict == {"percent": ["Ensure that there are no more than 2 decimal places."]}
    assert list(draft.tranche_plan.values_list("percent", flat=True)) == [Decimal("50"), Decimal("30"), Decimal("20")]
    assert actions(draft) == []


@pytest.mark.parametrize(
    "page", ["edit", "categories", "budget-rules", "tranches", "rubric", "evaluation/midterm", "evaluation/final"]
)
def test_saving_a_page_unchanged_as_a_browser_would_works(staff_client, draft, page):
    """Every page comes back valid when the user just presses Save: the empty rows are skipped, nothing is lost."""
    set_evaluation_rubrics(draft)
    # Times as staff type them (to the minute; a datetime-local field has no seconds).
    Competition.objects.filter(pk=draft.pk).update(
        opens_at=datetime(2026, 3, 1, 9, 0, tzinfo=SHANGHAI), closes_at=datetime(2026, 4, 15, 17, 30, tzinfo=SHANGHAI)
    )
    url = f"/rounds/{draft.pk}/{page}/"
    before = {
        "categories": list(Category.objects.values_list("id", "name", "order")),
        "budget": list(
            BudgetCategory.objects.values_list("id", "name", "cap_percent", "cap_amount", "is_management_fee", "order")
        ),
        "tranches": list(TranchePlanItem.objects.values_list("id", "percent", "condition", "order")),
        "criteria": list(Criterion.objects.values_list("id", "code", "name", "max_points", "weight", "bands", "order")),
        "evaluation": list(EvaluationCriterion.objects.values_list("id", "kind", "name", "max_points", "order")),
    }
    response = staff_client.post(url, browser_form(staff_client, url))
    assert response.status_code == 302, (
        response.context and (response.context.get("form") or response.context["formset"]).errors
    )
    assert response["Location"] == url
    assert AuditEvent.objects.count() == 0  # nothing changed, nothing recorded
    assert before == {
        "categories": list(Category.objects.values_list("id", "name", "order")),
        "budget": list(
            BudgetCategory.objects.values_list("id", "name", "cap_percent", "cap_amount", "is_management_fee", "order")
        ),
        "tranches": list(TranchePlanItem.objects.values_list("id", "percent", "condition", "order")),
        "criteria": list(Criterion.objects.values_list("id", "code", "name", "max_points", "weight", "bands", "order")),
        "evaluation": list(EvaluationCriterion.objects.values_list("id", "kind", "name", "max_points", "order")),
    }


def test_a_browser_adds_a_row_in_an_empty_slot(staff_client, draft):
    url = f"/rounds/{draft.pk}/tranches/"
    data = browser_form(staff_client, url)
    assert data["tranches-3-condition"] == ""  # the empty rows start blank
    data.update({"tranches-0-percent": "40", "tranches-3-percent": "10", "tranches-3-condition": "final"})
    assert staff_client.post(url, data).status_code == 302
    assert list(draft.tranche_plan.values_list("order", "percent", "condition")) == [
        (1, Decimal("40"), "signing"),
        (2, Decimal("30"), "midterm"),
        (3, Decimal("20"), "final"),
        (4, Decimal("10"), "final"),
    ]


def test_rubric_bands_survive_a_round_trip_through_the_page(staff_client, draft):
    Criterion.objects.filter(competition=draft, code="social_benefit").update(
        bands=[{"min": 25, "max": 30, "label": "优秀"}, {"min": 0, "max": 24.5, "label": "其他"}]
    )
    url = f"/rounds/{draft.pk}/rubric/"
    data = browser_form(staff_client, url)
    assert data["rubric-2-bands"] == "25-30 优秀\n0-24.5 其他"
    assert staff_client.post(url, data).status_code == 302
    assert draft.criteria.get(code="social_benefit").bands == [
        {"min": 25, "max": 30, "label": "优秀"},
        {"min": 0, "max": 24.5, "label": "其他"},
    ]


def test_an_incomplete_round_cannot_be_opened(staff_client, staff):
    staff_client.post("/rounds/new/", SETTINGS)
    competition = Competition.objects.get()
    with pytest.raises(ValidationError) as exc:
        services.advance_stage(competition=competition, to=Stage.OPEN, by=staff)
    assert exc.value.messages == [
        "List at least one service category.",
        "List at least one budget category.",
        "The tranche plan adds up to 0%; it must add up to 100%.",
        "The rubric's weights add up to 0; they must add up to 100.",
    ]
    competition.refresh_from_db()
    assert competition.stage == Stage.DRAFT


def test_stage_buttons_cannot_skip_the_freeze(staff_client, staff):
    c = factories.competition(stage="final")
    response = staff_client.get(f"/rounds/{c.pk}/")
    assert [s.value for s in response.context["next_stages"]] == []
    staff_client.post(f"/rounds/{c.pk}/advance/", {"to": "results"})
    c.refresh_from_db()
    assert c.stage == "final"


# --- Mid-term and final evaluation rubrics --------------------------------------------------------------------------


def test_a_new_round_starts_with_the_default_evaluation_rubrics(staff_client):
    staff_client.post("/rounds/new/", SETTINGS)
    competition = Competition.objects.get()
    assert evaluation_rubric(competition, "midterm") == DEFAULT_EVALUATION_RUBRIC
    assert evaluation_rubric(competition, "final") == DEFAULT_EVALUATION_RUBRIC
    event = AuditEvent.objects.get(action="competition.create")
    rows = [
        {"name": "Goals achieved", "max_points": "30"},
        {"name": "Quality of service", "max_points": "30"},
        {"name": "Use of funds", "max_points": "20"},
        {"name": "Project management", "max_points": "20"},
    ]
    assert event.after["evaluation_rubric"] == {"midterm": rows, "final": rows}
    assert actions(competition) == ["competition.create"]

    # The page shows the stored rubric, not a proposal.
    body = staff_client.get(f"/rounds/{competition.pk}/evaluation/final/").content.decode()
    assert 'name="evaluation_final-3-name" value="Project management"' in body
    assert "A default rubric is proposed below" not in body


def test_a_round_without_an_evaluation_rubric_is_offered_the_default(staff_client, draft):
    url = f"/rounds/{draft.pk}/evaluation/midterm/"
    response = staff_client.get(url)
    body = response.content.decode()
    assert response.context["title"] == "Mid-term evaluation rubric"
    assert (
        "This round has no rubric for the “Mid-term evaluation” yet. A default rubric is proposed below: save it "
        "as it is, or change it first." in body
    )
    assert 'name="evaluation_midterm-0-name" value="Goals achieved"' in body
    assert 'name="evaluation_midterm-1-max_points" value="30"' in body
    assert 'name="evaluation_midterm-TOTAL_FORMS" value="6"' in body  # the 4 proposed rows + 2 empty ones

    # Pressing Save stores the proposal for this evaluation only.
    response = staff_client.post(url, browser_form(staff_client, url))
    assert response.status_code == 302
    assert response["Location"] == url
    assert evaluation_rubric(draft, "midterm") == DEFAULT_EVALUATION_RUBRIC
    assert evaluation_rubric(draft, "final") == []
    event = AuditEvent.objects.get(action="competition.evaluation_rubric")
    assert event.before == {"kind": "midterm", "criteria": []}
    assert [(c["name"], c["max_points"], c["order"]) for c in event.after["criteria"]] == [
        ("Goals achieved", "30.0", 0),
        ("Quality of service", "30.0", 1),
        ("Use of funds", "20.0", 2),
        ("Project management", "20.0", 3),
    ]
    assert "A default rubric is proposed below" not in staff_client.get(url).content.decode()


def test_a_round_without_an_evaluation_rubric_cannot_be_opened(english, staff, draft):
    """A round made outside the set-up pages (the admin, an older round) may lack them."""
    with pytest.raises(ValidationError) as exc:
        services.advance_stage(competition=draft, to=Stage.OPEN, by=staff)
    assert exc.value.messages == [
        "Set up the rubric of the “Mid-term evaluation”.",
        "Set up the rubric of the “Final evaluation”.",
    ]
    set_evaluation_rubrics(draft)
    services.advance_stage(competition=draft, to=Stage.OPEN, by=staff)
    draft.refresh_from_db()
    assert draft.stage == Stage.OPEN


def test_staff_change_reorder_add_and_delete_evaluation_criteria(staff_client, draft):
    set_evaluation_rubrics(draft)
    ids = dict(draft.evaluation_criteria.filter(kind="final").values_list("name", "id"))
    url = f"/rounds/{draft.pk}/evaluation/final/"
    data = browser_form(staff_client, url)
    data.update(
        {
            "evaluation_final-0-name": "执行进度与质量",
            "evaluation_final-0-max_points": "35.5",  # renamed, changed
            "evaluation_final-1-DELETE": "on",  # 资金使用 removed
            "evaluation_final-2-ORDER": "1",
            "evaluation_final-0-ORDER": "2",  # 服务成效 first
            "evaluation_final-3-name": "资金使用规范",
            "evaluation_final-3-max_points": "34.5",  # added
        }
    )
    response = staff_client.post(url, data)
    assert response.status_code == 302
    assert list(draft.evaluation_criteria.filter(kind="final").values_list("id", "name", "max_points", "order")) == [
        (ids["服务成效"], "服务成效", Decimal("30.0"), 0),
        (ids["执行进度"], "执行进度与质量", Decimal("35.5"), 1),
        (draft.evaluation_criteria.get(kind="final", name="资金使用规范").pk, "资金使用规范", Decimal("34.5"), 2),
    ]
    assert evaluation_rubric(draft, "midterm") == [  # the other evaluation's rubric is untouched
        ("执行进度", Decimal("40.0"), 0),
        ("资金使用", Decimal("30.0"), 1),
        ("服务成效", Decimal("30.0"), 2),
    ]
    event = AuditEvent.objects.get(action="competition.evaluation_rubric")
    assert event.actor.username == "staff1"
    assert event.object_id == str(draft.pk)
    assert event.before == {
        "kind": "final",
        "criteria": [
            {"id": ids["执行进度"], "order": 0, "name": "执行进度", "max_points": "40.0"},
            {"id": ids["资金使用"], "order": 1, "name": "资金使用", "max_points": "30.0"},
            {"id": ids["服务成效"], "order": 2, "name": "服务成效", "max_points": "30.0"},
        ],
    }
    assert event.after == {
        "kind": "final",
        "criteria": [
            {"id": ids["服务成效"], "order": 0, "name": "服务成效", "max_points": "30.0"},
            {"id": ids["执行进度"], "order": 1, "name": "执行进度与质量", "max_points": "35.5"},
            {
                "id": draft.evaluation_criteria.get(kind="final", name="资金使用规范").pk,
                "order": 2,
                "name": "资金使用规范",
                "max_points": "34.5",
            },
        ],
    }


@pytest.mark.parametrize(
    "changes, form_errors, set_errors",
    [
        (
            {"evaluation_midterm-1-max_points": "20"},
            [{}, {}, {}],
            ["The maximum points add up to 90; they must add up to exactly 100."],
        ),
        (
            {"evaluation_midterm-1-max_points": "30.5", "evaluation_midterm-2-max_points": "29.6"},
            [{}, {}, {}],
            ["The maximum points add up to 100.1; they must add up to exactly 100."],
        ),
        ({"evaluation_midterm-2-name": " 执行进度 "}, [{}, {}, {}], ["The criterion “执行进度” is listed twice."]),
        (
            {f"evaluation_midterm-{i}-DELETE": "on" for i in range(3)},
            [{}, {}, {}],
            ["The rubric needs at least one criterion."],
        ),
        (
            {"evaluation_midterm-0-max_points": "0", "evaluation_midterm-1-max_points": "60"},
            [{"max_points": ["The maximum points must be more than zero."]}, {}, {}],
            [],
        ),
        (
            {"evaluation_midterm-0-max_points": "-10", "evaluation_midterm-1-max_points": "80"},
            [{"max_points": ["The maximum points must be more than zero."]}, {}, {}],
            [],
        ),
        (
            {"evaluation_midterm-0-max_points": "39.75", "evaluation_midterm-1-max_points": "30.25"},
            [
                {"max_points": ["Ensure that there are no more than 1 decimal place."]},
                {"max_points": ["Ensure that there are no more than 1 decimal place."]},
                {},
            ],
            [],
        ),
        ({"evaluation_midterm-0-max_points": "四十"}, [{"max_points": ["Enter a number."]}, {}, {}], []),
        ({"evaluation_midterm-0-name": ""}, [{"name": ["This field is required."]}, {}, {}], []),
        (
            {"evaluation_midterm-3-name": "服务对象满意度"},  # a new row without points
            [{}, {}, {}, {"max_points": ["This field is required."]}],
            [],
        ),
    ],
)
def test_evaluation_rubric_rules(staff_client, draft, changes, form_errors, set_errors):
    set_evaluation_rubrics(draft)
    url = f"/rounds/{draft.pk}/evaluation/midterm/"
    response = staff_client.post(url, {**browser_form(staff_client, url), **changes})
    assert response.status_code == 200
    formset = response.context["formset"]
    assert [f.errors for f in formset.forms[: len(form_errors)]] == form_errors
    assert formset.non_form_errors() == set_errors
    body = response.content.decode()
    for error in set_errors or [e for errors in form_errors for field in errors.values() for e in field]:
        assert error in body
    assert evaluation_rubric(draft, "midterm") == [
        ("执行进度", Decimal("40.0"), 0),
        ("资金使用", Decimal("30.0"), 1),
        ("服务成效", Decimal("30.0"), 2),
    ]
    assert actions(draft) == []


def test_the_evaluation_rubric_service_checks_what_the_page_checks(english, staff, draft):
    with pytest.raises(ValidationError) as exc:
        evaluation_rubrics.save_evaluation_rubric(
            competition=draft,
            kind="final",
            by=staff,
            criteria=[
                {"name": "执行进度", "max_points": Decimal("0")},
                {"name": "服务成效", "max_points": Decimal("100")},
            ],
        )
    assert exc.value.messages == ["执行进度: The maximum points must be more than zero."]
    with pytest.raises(ValidationError) as exc:
        evaluation_rubrics.save_evaluation_rubric(
            competition=draft, kind="final", by=staff, criteria=[{"name": "", "max_points": Decimal("100")}]
        )
    assert exc.value.messages == ["Every criterion needs a name and maximum points."]
    with pytest.raises(ValidationError) as exc:
        evaluation_rubrics.save_evaluation_rubric(
            competition=draft,
            kind="final",
            by=staff,
            criteria=[
                {"name": "执行进度", "max_points": Decimal("33.35")},
                {"name": "服务成效", "max_points": Decimal("66.65")},
            ],
        )
    assert exc.value.message_dict == {"max_points": ["Ensure that there are no more than 1 decimal place."]}
    with pytest.raises(ValueError, match="'interim' is not a valid EvaluationKind"):
        evaluation_rubrics.save_evaluation_rubric(competition=draft, kind="interim", by=staff, criteria=[])
    assert EvaluationCriterion.objects.count() == 0
    assert actions(draft) == []


def _evaluated_project(competition, staff):
    """A project of ``competition`` signed from a final award, without judging."""

    proposal = factories.proposal(
        competition, factories.organization(), status="awarded", requested=Decimal("60000.00")
    )
    factories.budget(proposal, [("人员经费", 3000, 5), ("活动经费", 500, 90)])
    award = Award.objects.create(
        competition=competition, proposal=proposal, rank=1, amount=Decimal("60000.00"), status="final"
    )
    return supervision.sign_agreement(
        agreement=create_agreement(award=award), signed_on=competition.project_start_earliest, by=staff
    )


def test_an_evaluation_rubric_is_locked_once_a_project_has_been_evaluated(english, staff_client, staff):
    competition = factories.competition(stage=Stage.SUPERVISION)
    set_evaluation_rubrics(competition)
    project = _evaluated_project(competition, staff)
    url = f"/rounds/{competition.pk}/evaluation/midterm/"
    data = browser_form(staff_client, url)  # a form opened before the evaluation and sent after it
    data["evaluation_midterm-0-name"] = "改名"
    criteria = list(competition.evaluation_criteria.filter(kind="midterm"))
    supervision.evaluate(
        project=project,
        kind="midterm",
        by=staff,
        comment="按期推进",
        points=dict(zip(criteria, [Decimal("35"), Decimal("25"), Decimal("20")], strict=True)),
    )

    body = staff_client.get(url).content.decode()
    assert (
        "The rubric of the “Mid-term evaluation” is locked because a project of this round has been evaluated; "
        "it is shown read-only." in body
    )
    assert 'name="evaluation_midterm-0-name"' not in body
    assert '<td>执行进度</td><td class="text-end">40</td>' in body
    response = staff_client.post(url, data, follow=True)
    assert response.redirect_chain == [(url, 302)]
    assert [str(m) for m in response.context["messages"]] == [
        "The rubric of the “Mid-term evaluation” is locked because a project of this round has been evaluated; it "
        "can no longer be changed."
    ]
    assert evaluation_rubric(competition, "midterm")[0] == ("执行进度", Decimal("40.0"), 0)
    with pytest.raises(ValidationError) as exc:
        evaluation_rubrics.save_evaluation_rubric(
            competition=competition, kind="midterm", by=staff, criteria=[{"name": "总体", "max_points": Decimal("100")}]
        )
    assert exc.value.code == "locked"
    assert actions(competition) == []

    # The final evaluation has not been held: its rubric can still change.
    url = f"/rounds/{competition.pk}/evaluation/final/"
    response = staff_client.post(
        url,
        {
            **browser_form(staff_client, url),
            "evaluation_final-0-max_points": "30",
            "evaluation_final-1-max_points": "40",
        },
    )
    assert response.status_code == 302
    assert evaluation_rubric(competition, "final")[:2] == [
        ("执行进度", Decimal("30.0"), 0),
        ("资金使用", Decimal("40.0"), 1),
    ]
    assert actions(competition) == ["competition.evaluation_rubric"]

    # The round page shows how many criteria each rubric has, and which is locked.
    body = staff_client.get(f"/rounds/{competition.pk}/").content.decode()
    assert (
        f'<a class="btn btn-sm btn-outline-primary" href="/rounds/{competition.pk}/evaluation/midterm/">'
        'Mid-term evaluation <span class="badge text-bg-light">3</span> <i class="bi bi-lock" '
        'aria-label="locked"></i></a>'
    ) in body
    assert (
        f'<a class="btn btn-sm btn-outline-primary" href="/rounds/{competition.pk}/evaluation/final/">'
        'Final evaluation <span class="badge text-bg-light">3</span></a>'
    ) in body


# --- The set-up parts other apps own, and the shared save --------------------------------------------------------


def test_judging_and_supervision_register_their_set_up_parts_in_step_order():
    # Screening's checklist is a part too: a round copied from an earlier one copies it (issue #18).
    assert [(part.name, part.order) for part in setup.parts()] == [
        ("rubric", 50),
        ("checklist", 55),
        ("evaluation_rubric", 60),
    ]
    with pytest.raises(ValueError, match="'rubric' is registered twice"):
        setup.register(setup.SetupPart(name="rubric", order=1))


@pytest.fixture
def bare(draft):
    """A round being set up with nothing listed yet."""
    for related in (draft.categories, draft.budget_categories, draft.tranche_plan, draft.criteria):
        related.all().delete()
    return draft


def test_opening_problems_come_from_the_round_and_then_from_each_part_in_step_order(english, bare):
    assert services.opening_problems(bare) == [
        "List at least one service category.",
        "List at least one budget category.",
        "The tranche plan adds up to 0%; it must add up to 100%.",
        "The rubric's weights add up to 0; they must add up to 100.",
        "Set up the rubric of the “Mid-term evaluation”.",
        "Set up the rubric of the “Final evaluation”.",
    ]


def test_save_rows_writes_one_audit_event_only_when_the_set_changed(staff, bare):
    seen = []

    def check(competition, rows, current):
        seen.append([c.name for c in current])
        return services.check_categories(rows)

    services.save_rows(
        competition=bare,
        by=staff,
        model=Category,
        rows=[{"name": "助老"}],
        check=check,
        fields=services.CATEGORY_FIELDS,
        key="name",
        action="competition.categories",
        audit_key="categories",
        audit_extra={"note": "first"},
    )
    category = Category.objects.get(competition=bare)
    event = AuditEvent.objects.get(action="competition.categories")
    assert (event.before, event.after) == (
        {"note": "first", "categories": []},
        {"note": "first", "categories": [{"id": category.pk, "name": "助老"}]},
    )
    # The same rows again: nothing changed, nothing recorded.
    services.save_rows(
        competition=bare,
        by=staff,
        model=Category,
        rows=[{"id": category.pk, "name": "助老"}],
        check=check,
        fields=services.CATEGORY_FIELDS,
        key="name",
        action="competition.categories",
        audit_key="categories",
    )
    assert seen == [[], ["助老"]]
    assert actions(bare) == ["competition.categories"]


def test_save_rows_stores_nothing_when_the_check_refuses(staff, bare):
    def refuse(competition, rows, current):
        raise ValidationError("No.", code="no")

    with pytest.raises(ValidationError, match="No."):
        services.save_rows(
            competition=bare,
            by=staff,
            model=Category,
            rows=[{"name": "助老"}],
            check=refuse,
            fields=services.CATEGORY_FIELDS,
            action="competition.categories",
            audit_key="categories",
        )
    assert (Category.objects.count(), actions(bare)) == (0, [])
