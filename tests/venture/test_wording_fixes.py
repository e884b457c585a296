"""Issue #18, "wording": each test pins the exact text a native reader now sees, in the Chinese UI (the default) and
where the item was about the English UI, in English."""

import datetime
import io
from decimal import Decimal

import pandas as pd
import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone, translation

from judging import ranking
from judging.models import PanelStage
from tests import factories
from tests.builders import build_funded, build_round, day, evaluate, spend
from venture import charts
from venture.awards import services as awards
from venture.awards.forms import HandleForm, StatutoryYearForm
from venture.demo import builder
from venture.exports import to_xlsx_bytes
from venture.money import format_money
from venture.organizations.forms import OrganizationForm
from venture.proposals import services as proposals
from venture.results.models import ResultSnapshot
from venture.results.queries import METHOD_LABELS, ranking_rows
from venture.screening.forms import ChecklistForm
from venture.supervision.forms import PhotosField, RectificationReviewForm, ReviewForm
from venture.supervision.ledger_files import read_ledger
from venture.supervision.models import Expenditure, ProjectStatus

pytestmark = pytest.mark.django_db


def test_the_service_category_is_named_in_chinese_on_the_form_and_in_the_checklist(
    client, applicant_a, competition, org_a
):
    draft = factories.proposal(competition, org_a, category=None)
    client.force_login(applicant_a)
    body = client.get(f"/proposals/{draft.pk}/edit/").content.decode()
    assert "Category" not in body
    assert 'for="id_category" class="form-label">服务领域</label>' in body  # bs_field: crispy's markup, no whitespace
    assert "“服务领域”为必填项。" in [p.message for p in proposals.submission_problems(draft)]


def test_labels_take_a_full_width_colon_in_chinese_and_a_colon_and_space_in_english(client, competition):
    body = client.get(f"/calls/{competition.pk}/").content.decode()
    assert f"截止时间：{competition.closes_at.astimezone().strftime('%Y-%m-%d %H:%M')}（北京时间）</p>" in body
    client.cookies["django_language"] = "en"
    body = client.get(f"/calls/{competition.pk}/").content.decode()
    assert f"Deadline: {competition.closes_at.astimezone().strftime('%Y-%m-%d %H:%M')} (Beijing time)</p>" in body


def test_the_call_list_says_application_period_not_number_of_applications(client, competition):
    body = client.get("/calls/").content.decode()
    assert "申报时间：" in body and "申报数" not in body


def test_the_lifecycle_heading_says_application_and_the_dashboard_column_count(client, staff, competition):
    client.force_login(staff)
    body = client.get(f"/rounds/{competition.pk}/").content.decode()
    assert '<i class="bi bi-inbox" aria-hidden="true"></i> 申报</h2>' in body
    assert '<th class="text-end">申报数</th>' in client.get("/").content.decode()


def test_rank_interval_of_one_rank_reads_rank_n_and_the_z_score_is_in_words():
    row = {
        "proposal": 1, "rank": 3, "score": 80.0, "mean": 80.0, "median": 80.0, "n_judges": 5, "decided_by": "score",
        "p_top_k": 1.0, "p_rank1": 0.0, "rank_lo": 3, "rank_hi": 3, "criteria": {}, "sensitivity": {},
        "top_k_changes": 0,
    }  # fmt: skip
    assert ranking_rows([row], [], {}, str)[0]["interval"] == "名次 3"
    assert ranking_rows([{**row, "rank_lo": 2, "rank_hi": 4}], [], {}, str)[0]["interval"] == "名次 2–4"
    assert str(METHOD_LABELS["zscore"]) == "标准分（按评委分别标准化）"


def test_the_results_page_heading_and_the_probability_column(client):
    c, staff, auditor, props = build_round()
    client.force_login(staff)
    body = client.get(f"/results/round/{c.pk}/results/").content.decode()
    assert '<h1 class="h3">评审结果 <span' in body
    assert ">进入前 " in body and "P(前" not in body


def test_the_applicant_result_page_and_its_criteria_in_rubric_order(client):
    c, staff, auditor, props = build_round()
    awards.propose_awards(competition=c, by=staff)
    awards.publish_notice(competition=c, by=staff, starts_on=datetime.date(2025, 9, 29))
    snapshot = ResultSnapshot.objects.get(competition=c, valid=True)
    for r in snapshot.outputs["ranking"]:  # as PostgreSQL's jsonb keeps them: shortest key first
        r["criteria"] = dict(sorted(r["criteria"].items(), key=lambda kv: (len(kv[0]), kv[0])))
    snapshot.save(update_fields=["outputs"])
    client.force_login(props[0].organization.memberships.get().user)
    body = client.get(f"/results/result/{props[0].pk}/").content.decode()
    assert f'<h1 class="h3">评审结果：{props[0].title}</h1>' in body
    order = [body.index(name) for name in ("项目定位精准性", "内容可行性", "社会效益", "资金预算")]
    assert order == sorted(order)


def test_decisions_are_named_for_what_is_decided():
    assert str(ChecklistForm(items=[], results={}).fields["decision"].label) == "初审结论"
    assert str(HandleForm().fields["decision"].label) == "处理结论"
    assert str(ReviewForm().fields["decision"].label) == "审核结论"
    assert str(RectificationReviewForm().fields["decision"].label) == "审核结论"


def test_negative_money_puts_the_minus_before_the_currency_sign():
    assert format_money(Decimal("-100000")) == "-¥100,000.00"
    script = open("static/js/venture.js", encoding="utf-8").read()
    assert 'return (fen < 0 ? "-¥" : "¥") + text;' in script


def test_a_ledger_without_required_columns_names_them_in_the_ui_language():
    upload = SimpleUploadedFile("台账.csv", "日期,预算科目,金额,凭证号\n".encode("utf-8-sig"))
    with pytest.raises(ValidationError) as caught:
        read_ledger(upload)
    assert caught.value.messages == ["台账缺少以下列：收款方、摘要。"]
    upload.seek(0)
    with translation.override("en"), pytest.raises(ValidationError) as caught:
        read_ledger(upload)
    assert caught.value.messages == ["The ledger lacks the column(s): Payee, Description."]


def test_the_cap_message_says_what_the_cap_is_of_and_how_much_it_is(competition, org_a):
    draft = factories.proposal(competition, org_a)
    factories.budget(draft, [("人员经费", 34000, 1), ("活动经费", 66000, 1)])
    messages = [p.message for p in proposals.submission_problems(draft) if p.line is not None]
    assert messages[0] == "“人员经费”合计 ¥34,000.00，超过上限（预算总额的 30%，即 ¥30,000.00）。"


def test_a_failed_evaluation_reads_failed_with_the_pass_mark_in_brackets(client):
    f = build_funded()
    evaluate(f, "midterm", [10, 10, 10])
    client.force_login(f.staff)
    client.cookies["django_language"] = "en"
    body = client.get(f"/supervision/projects/{f.project.pk}/").content.decode()
    assert 'failed</span> <span class="small text-muted">(pass mark: 60 points)</span>' in body
    client.cookies["django_language"] = "zh-hans"
    body = client.get(f"/supervision/projects/{f.project.pk}/").content.decode()
    assert '不合格</span> <span class="small text-muted">（合格线 60 分）</span>' in body


def test_the_demo_round_titles_carry_no_stage_that_would_reach_the_agreements():
    assert builder.PAST_ROUND_TITLE == "示范市总工会2025年新就业形态劳动者服务项目公益创投大赛"
    assert builder.NEXT_ROUND_TITLE == "示范市总工会2027年新就业形态劳动者服务项目公益创投大赛"


# --- Found by the wording check (tests/venture/test_wording_check.py) and the English UI items ---------------------


def test_chart_tooltips_take_a_full_width_colon_in_chinese():
    with translation.override("zh-hans"):
        assert "<title>权益保障：4</title>" in charts.bar_chart([("权益保障", 4)])
        assert "<title>人员费 · 预算：5000</title>" in charts.grouped_bars(["人员费"], {"预算": [5000]})
    with translation.override("en"):
        assert "<title>权益保障: 4</title>" in charts.bar_chart([("权益保障", 4)])


def test_the_photo_help_text_follows_the_ui_language():
    field = PhotosField()
    with translation.override("en"):
        assert str(field.help_text) == "JPEG or PNG, several at once, at most 12."
    with translation.override("zh-hans"):
        assert str(field.help_text) == "支持 JPEG 或 PNG，可一次选择多张，最多 12 张。"


def test_english_labels_read_naturally():
    with translation.override("en"):
        assert str(OrganizationForm().fields["mobile"].label) == "Mobile number"
        assert str(ProjectStatus.ACTIVE.label) == "In progress"
        assert str(StatutoryYearForm().fields["holidays"].widget.attrs["placeholder"]) == (
            "2027-01-01 New Year's Day\n2027-02-06 – 2027-02-13 Spring Festival"
        )
        assert str(StatutoryYearForm().fields["workdays"].widget.attrs["placeholder"]) == (
            "2027-02-20 Spring Festival make-up workday"
        )
    with translation.override("zh-hans"):
        assert str(OrganizationForm().fields["mobile"].label) == "手机号码"
        assert str(ProjectStatus.ACTIVE.label) == "执行中"
        assert str(StatutoryYearForm().fields["holidays"].widget.attrs["placeholder"]) == (
            "2027-01-01 元旦\n2027-02-06 至 2027-02-13 春节"
        )


def test_a_ranking_without_sheets_says_so_in_the_ui_language(competition):
    for language, message in [("en", "No score sheet has been submitted yet."), ("zh-hans", "尚未提交任何评分表。")]:
        with translation.override(language), pytest.raises(ValueError) as caught:
            ranking.compute(competition, PanelStage.FINAL)
        assert str(caught.value) == message


def test_the_ledger_names_reversal_and_revision_without_chinese_in_english(client):
    f = build_funded()
    entry = spend(f.project, "300.00")
    client.force_login(f.owner)
    client.cookies["django_language"] = "en"
    body = client.get(f"/supervision/projects/{f.project.pk}/ledger/").content.decode()
    assert f'href="/supervision/expenditures/{entry.pk}/correct/">Reverse</a>' in body and "红冲" not in body
    body = client.get(f"/supervision/expenditures/{entry.pk}/correct/").content.decode()
    assert '<h1 class="h3">Reverse an entry</h1>' in body
    body = client.get(f"/supervision/projects/{f.project.pk}/").content.decode()
    assert "<summary>Revision 1 · " in body
    client.cookies["django_language"] = "zh-hans"
    body = client.get(f"/supervision/projects/{f.project.pk}/").content.decode()
    assert "<summary>第 1 版 · " in body


def test_ledger_template_headers_follow_the_ui_language_and_an_english_file_imports(client):
    f = build_funded()
    client.force_login(f.owner)
    url = f"/supervision/projects/{f.project.pk}/ledger/template.xlsx"
    client.cookies["django_language"] = "zh-hans"
    chinese = pd.read_excel(io.BytesIO(client.get(url).content), sheet_name=None, dtype=str, engine="openpyxl")
    assert list(chinese["台账"].columns) == [
        "日期", "预算科目", "明细项目", "金额", "收款方", "摘要", "凭证号", "发票代码", "发票号码", "收款方信用代码"
    ]  # fmt: skip
    client.cookies["django_language"] = "en"
    english = pd.read_excel(io.BytesIO(client.get(url).content), sheet_name=None, dtype=str, engine="openpyxl")
    columns = list(english["Ledger"].columns)
    assert columns == [
        "Date", "Budget category", "Item", "Amount", "Payee", "Description", "Voucher number", "Invoice code",
        "Invoice number", "Payee USCC",
    ]  # fmt: skip
    filled = pd.DataFrame(
        [[day(12).isoformat(), "管理费", "管理费项目", "99.99", "示范市打印店", "打印", "EN-1", "", "", ""]],
        columns=columns,
    )
    client.cookies["django_language"] = "zh-hans"  # an English file is read whatever the UI language
    upload = SimpleUploadedFile("ledger.xlsx", to_xlsx_bytes({"Ledger": filled}))
    r = client.post(f"/supervision/projects/{f.project.pk}/ledger/import/", {"file": upload})
    assert r.status_code == 302
    assert [(e.date, e.line.item, e.amount, e.payee, e.voucher_no) for e in Expenditure.objects.all()] == [
        (day(12), "管理费项目", Decimal("99.99"), "示范市打印店", "EN-1")
    ]


def test_label_colons_are_full_width_in_chinese_where_the_check_found_ascii_ones(client, staff, competition):
    client.force_login(staff)
    body = client.get(f"/rounds/{competition.pk}/copy/").content.decode()
    assert "<li>服务领域：" in body and "<li>评分细则：" in body
    client.cookies["django_language"] = "en"
    body = client.get(f"/rounds/{competition.pk}/copy/").content.decode()
    assert "<li>Service categories: " in body and "<li>Rubric: " in body


def test_the_hidden_honeypot_label_has_no_ascii_colon(client):
    c, staff, auditor, props = build_round()
    awards.propose_awards(competition=c, by=staff)
    awards.publish_notice(competition=c, by=staff, starts_on=timezone.localdate())
    client.force_login(props[0].organization.memberships.get().user)
    body = client.get(f"/results/notice/{c.pk}/objection/").content.decode()
    assert '<label for="id_website">请勿填写此项</label>' in body
