"""What the issued documents say (issue #18): titles wrap only between words, the public notice says where and until
when to object, the grant agreement carries the approved budget, the bank account and a refund clause (and keeps the
account it was issued with), and the portfolio export names its two head counts apart."""

import datetime
import io
import re
from decimal import Decimal

import pandas as pd
import pypdf
import pytest
from django.template.loader import render_to_string
from django.utils import translation

from tests import factories
from tests.builders import build_round
from venture.audit.models import AuditEvent
from venture.awards import services as awards
from venture.awards.models import Award, PublicNotice
from venture.competitions.models import Competition
from venture.documents.results_report import report_pdf
from venture.documents.views import agreement_context, notice_context
from venture.organizations import services as organizations
from venture.organizations.models import Organization
from venture.pdf import render_pdf
from venture.results.queries import shown_snapshot
from venture.supervision import services as supervision
from venture.templatetags.pdf_tags import keep_words

pytestmark = pytest.mark.django_db
TITLE = "2026年度示范市总工会服务新就业形态劳动者公益创投大赛"


def lines(pdf, page=0):
    return [line.strip() for line in pypdf.PdfReader(io.BytesIO(pdf)).pages[page].extract_text().splitlines()]


@pytest.fixture
def closed(db):
    """A round with a long name, awards, a notice closed after its period: agreements issued. 项目甲's organization
    has a bank account and a budget of four lines (100,000)."""
    c, staff, auditor, props = build_round()
    Competition.objects.filter(pk=c.pk).update(title=TITLE, organizer="示范市总工会")
    c.refresh_from_db()
    Organization.objects.filter(pk=props[0].organization_id).update(
        bank_account_name="示范市阳光社工服务中心",
        bank_name="中国工商银行示范市分行营业部",
        bank_account_number="6222020200012345678",
    )
    factories.budget(
        props[0], [("人员经费", 3000, 10), ("活动经费", 500, 100), ("活动经费", 200, 50), ("管理费", 1000, 10)]
    )
    awards.propose_awards(competition=c, by=staff)
    awards.publish_notice(competition=c, by=staff, starts_on=datetime.date(2025, 9, 29))
    awards.close_notice(competition=c, by=staff, today=datetime.date(2025, 10, 12))
    return c, staff, props


# --- Titles break between words ---------------------------------------------------------------------------------------


def test_keep_words_wraps_the_words_a_title_must_not_be_cut_inside():
    assert keep_words(TITLE) == (
        '<span class="nobr">2026年度</span>示范市<span class="nobr">总工会</span><span class="nobr">服务</span>'
        '<span class="nobr">新就业形态</span><span class="nobr">劳动者</span><span class="nobr">公益创投大赛</span>'
    )
    assert keep_words("<b>公益创投</b> & Co") == '&lt;b&gt;<span class="nobr">公益创投</span>&lt;/b&gt; &amp; Co'
    assert keep_words(None) == ""


def test_the_results_report_title_is_not_cut_inside_a_word(closed):
    c, staff, props = closed
    with translation.override("zh-hans"):
        pdf = report_pdf(c, shown_snapshot(c))
    cover = lines(pdf)
    # The long name wraps before 公益创投大赛, never inside it (it broke as 公益 / 创投 before).
    assert cover[:2] == ["2026年度示范市总工会服务新就业形态劳动者", "公益创投大赛"]
    css = open("static/css/print.css", encoding="utf-8").read()
    assert ".nobr { white-space: nowrap; }" in css


def test_the_notice_title_wraps_between_words(closed):
    c, staff, props = closed
    notice = PublicNotice.objects.get(competition=c)
    with translation.override("zh-hans"):
        html = render_to_string("pdf/notice.html", notice_context(notice))
        pdf = render_pdf("pdf/notice.html", notice_context(notice))
    assert (
        '<span class="nobr">公益创投大赛</span><span class="nobr">评审结果</span>的<span class="nobr">公示</span></h1>'
        in html
    )
    title = [line for line in lines(pdf) if "关于" in line or "公示" in line][:2]
    assert title == ["关于2026年度示范市总工会服务新就业形态劳动者公益创投大赛", "评审结果的公示"]


# --- The public notice says where and until when to object ------------------------------------------------------------


def test_the_notice_says_where_and_until_when_to_lodge_an_objection(closed, settings):
    c, staff, props = closed
    settings.SITE_URL = "https://gyct.example.org"
    notice = PublicNotice.objects.get(competition=c)
    assert notice.ends_on == datetime.date(2025, 10, 11)  # five working days from 2025-09-29, over the National Day
    url = f"https://gyct.example.org/results/notice/{c.pk}/objection/"
    with translation.override("zh-hans"):
        html = render_to_string("pdf/notice.html", notice_context(notice))
        text = "".join(lines(render_pdf("pdf/notice.html", notice_context(notice))))
    assert (
        '<p class="objection-how">对公示结果有异议的，可于公示期内（截至 2025-10-11，含当日）通过本公示的网上异议页面 '
        f'<span class="nobr">{url}</span>，或以书面形式向示范市总工会实名提出异议，并留下联系方式。</p>'
    ) in html
    assert url in text and "截至 2025-10-11，含当日" in text
    with translation.override("en"):
        html = render_to_string("pdf/notice.html", notice_context(notice))
    assert (
        "until the last day of the notice period, 2025-10-11 (inclusive): online on this notice's objection "
        f'page, <span class="nobr">{url}</span>, or in writing to 示范市总工会.'
    ) in html


# --- The grant agreement: budget, bank account, refund ------------------------------------------------------------------


def test_approved_lines_scale_a_smaller_grant_and_add_up_to_it(closed):
    c, staff, props = closed
    rows = awards.approved_lines(props[0], Decimal("90000.00"))
    assert [(r["category"], r["item"], r["amount"]) for r in rows] == [
        ("人员经费", "人员经费项目", "27000.00"),
        ("活动经费", "活动经费项目", "45000.00"),
        ("活动经费", "活动经费项目", "9000.00"),
        ("管理费", "管理费项目", "9000.00"),
    ]
    assert awards.approved_lines(props[0], Decimal("33333.33"))[-1]["amount"] == "3333.33"
    assert sum(Decimal(r["amount"]) for r in awards.approved_lines(props[0], Decimal("33333.33"))) == Decimal(
        "33333.33"
    )


def test_the_agreement_has_the_budget_table_the_bank_account_and_the_refund_clause(closed):
    c, staff, props = closed
    agreement = Award.objects.get(proposal=props[0]).agreement
    assert agreement.refund_days == 30
    assert agreement.party["bank_account_number"] == "6222020200012345678"
    with translation.override("zh-hans"):
        html = render_to_string("pdf/agreement.html", agreement_context(agreement))
        text = "\n".join(lines(render_pdf("pdf/agreement.html", agreement_context(agreement)), 0))
    budget = re.sub(r"\s+", " ", html[html.index('<table class="pdf-table budget">') : html.index("分期拨付计划")])
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", budget)
    cells = [re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row) for row in rows]
    assert cells == [
        ["预算科目", "明细项目", "金额"],
        ["人员经费", "人员经费项目", "¥30,000.00"],
        ["", "人员经费小计", "¥30,000.00"],
        ["活动经费", "活动经费项目", "¥50,000.00"],
        ["", "活动经费项目", "¥10,000.00"],
        ["", "活动经费小计", "¥60,000.00"],
        ["管理费", "管理费项目", "¥10,000.00"],
        ["", "管理费小计", "¥10,000.00"],
        ["合计", "¥100,000.00"],
    ]
    assert '<td class="bank-account-name">示范市阳光社工服务中心</td>' in html
    assert '<td class="bank-name">中国工商银行示范市分行营业部</td>' in html
    assert '<td class="bank-account-number">6222020200012345678</td>' in html
    assert (
        '<li class="refund-clause">乙方应在项目结项后 30 日内，将已拨付但未使用的资助资金，以及经督导或结项审计认定不得列支的支出，'
        "退还至甲方指定账户。</li>"
    ) in html
    assert "开户银行 中国工商银行示范市分行营业部" in text and "银行账号 6222020200012345678" in text
    with translation.override("en"):
        html = render_to_string("pdf/agreement.html", agreement_context(agreement))
    assert (
        "Within 30 days of the project's close-out, Party B refunds to Party A the grant money it has received but "
        "not spent, and any expenditure that supervision or the close-out audit disallows, into the account Party A names."
    ) in html


def test_the_agreement_keeps_the_bank_account_it_was_issued_with(closed):
    c, staff, props = closed
    org = props[0].organization
    owner = org.memberships.get().user
    organizations.update_organization(
        organization=org,
        by=owner,
        data={"bank_account_name": "另一个账户", "bank_name": "某银行", "bank_account_number": "999"},
    )
    event = AuditEvent.objects.filter(action="organization.update").latest("seq")
    assert (event.before["bank_account_number"], event.after["bank_account_number"]) == ("6222020200012345678", "999")
    agreement = Award.objects.get(proposal=props[0]).agreement
    with translation.override("zh-hans"):
        html = render_to_string("pdf/agreement.html", agreement_context(agreement))
    assert '<td class="bank-account-number">6222020200012345678</td>' in html and "999" not in html


def test_an_agreement_issued_before_it_kept_a_budget_reads_it_from_the_proposal(closed):
    c, staff, props = closed
    agreement = Award.objects.get(proposal=props[0]).agreement
    kept = agreement.budget
    agreement.budget, agreement.party = [], {k: v for k, v in agreement.party.items() if not k.startswith("bank")}
    agreement.save()
    context = agreement_context(agreement)
    assert context["budget_total"] == Decimal("100000.00")
    assert [g["subtotal"] for g in context["budget"]] == [Decimal("30000.00"), Decimal("60000.00"), Decimal("10000.00")]
    assert context["organization"]["bank_account_number"] == "6222020200012345678"
    assert kept == awards.approved_lines(props[0], agreement.amount)


def test_signing_makes_the_projects_approved_lines_from_the_agreements_budget(closed):
    c, staff, props = closed
    agreement = Award.objects.get(proposal=props[0]).agreement
    project = supervision.sign_agreement(agreement=agreement, signed_on=datetime.date(2025, 10, 20), by=staff)
    assert [(line.category.name, line.item, line.amount) for line in project.lines.order_by("id")] == [
        (r["category"], r["item"], Decimal(r["amount"])) for r in agreement.budget
    ]


def test_the_profile_form_saves_the_bank_account(client):
    org = factories.organization(name="丙社工中心", owner=factories.user("applicant_c"))
    client.force_login(org.memberships.get().user)
    page = client.get(f"/organizations/{org.pk}/edit/").content.decode()
    assert 'name="bank_account_number"' in page and 'name="bank_name"' in page and 'name="bank_account_name"' in page


# --- The portfolio export -------------------------------------------------------------------------------------------------


def test_the_portfolio_export_names_its_two_head_counts_apart(client, closed):
    c, staff, props = closed
    agreement = Award.objects.get(proposal=props[0]).agreement
    supervision.sign_agreement(agreement=agreement, signed_on=datetime.date(2025, 10, 20), by=staff)
    client.force_login(staff)
    frame = pd.read_excel(io.BytesIO(client.get("/supervision/portfolio/?export=xlsx").content), engine="openpyxl")
    assert [col for col in frame.columns if "服务人数" in col] == ["服务人数（已通过的报告）", "计划服务人数（目标）"]
    assert len(set(frame.columns)) == len(frame.columns)
    client.cookies["django_language"] = "en"
    frame = pd.read_excel(io.BytesIO(client.get("/supervision/portfolio/?export=xlsx").content), engine="openpyxl")
    assert [col for col in frame.columns if "eople" in col] == [
        "People served (accepted reports)",
        "People to serve (target)",
    ]


def test_the_organization_page_shows_the_bank_account_to_those_who_see_its_contacts(client, staff, applicant_b):
    org = factories.organization(name="丙社工中心", owner=factories.user("applicant_c"))
    Organization.objects.filter(pk=org.pk).update(
        bank_account_name="丙社工中心", bank_name="中国银行示范市支行", bank_account_number="6216600000001234"
    )
    client.force_login(staff)
    with translation.override("zh-hans"):
        page = client.get(f"/organizations/{org.pk}/").content.decode()
    assert (
        '<dd class="col-sm-8" id="organization-bank">丙社工中心 · 中国银行示范市支行 · '
        '<span class="font-monospace">6216600000001234</span></dd>'
    ) in page
    client.force_login(applicant_b)
    assert client.get(f"/organizations/{org.pk}/").status_code == 404
