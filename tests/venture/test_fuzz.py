"""Fuzzing the forms people type into: arbitrary text, numbers, unicode, very long, negative and NaN-like values for
every field of the proposal editor, the score sheet, the expenditure ledger's entry form and its spreadsheet import,
POSTed through the test client. Each test first proves the page works for the right user with good input (the page
answers 200, the good POST is accepted), so the fuzzing runs as a user who may write there: whatever comes in, the
answer is then a page (200, or 400 where the ledger refuses an entry or an import) or a redirect — never a server
error and never a 404 (which here would be a permission or lookup bug, not "not yours"). Each example runs in a
savepoint that is rolled back, so every example starts from the same data."""

import csv
import io
from decimal import Decimal

import pandas as pd
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.urls import reverse
from django.utils import translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import factories
from tests.builders import build_funded
from venture.exports import to_xlsx_bytes
from venture.supervision.models import Expenditure
from venture.supervision.services import check_expenditure

FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

NASTY = [
    "",
    " ",
    "0",
    "-0",
    "-1",
    "+5",
    "NaN",
    "-NaN",
    "sNaN",
    "nan",
    "Infinity",
    "-Infinity",
    "inf",
    "1e400",
    "-1e-400",
    "1E+2",
    "0x1F",
    "1_000",
    "1,000.00",
    "１２３４",
    "٣٤",
    "Ⅻ",
    "0.005",
    "-0.01",
    "99999999999999999999.99",
    "9" * 40,
    "-" + "9" * 40,
    "2147483648",
    "9223372036854775808",
    "-9223372036854775809",
    "2026-02-30",
    "0000-00-00",
    "0001-01-01",
    "9999-12-31",
    "10000-01-01",
    "2026/07/01",
    "\x00",
    "a\x00b",
    "null",
    "None",
    "[]",
    "{}",
    "true",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "../../etc/passwd",
    "😀" * 3,
    "\u202etxt.exe",
    "ｅｘｐ",
    "\r\n",
    "\t",
]
JUNK = st.one_of(
    st.sampled_from(NASTY),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=60),  # any unicode but lone surrogates
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.integers(min_value=1000, max_value=40000).map(lambda n: "长" * n),  # very long
)


CONTROLS = ["", "-1", "x", "1e3", "NaN", "\x00", "3", "０"]  # management-form junk: Django caps big counts anyway


def clean_text(max_size=200):
    return st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=max_size)


def label(max_size=30):
    """Required text: never blank after stripping."""
    return clean_text(max_size - 2).map(lambda t: "项目" + t)


def money(low=0):
    return st.decimals(min_value=low, max_value=10**6, places=2, allow_nan=False, allow_infinity=False).map(str)


def a_date():
    return st.dates().map(lambda d: d.isoformat())


def corrupted(valid, controls=()):
    """A plausible POST (``valid``: field -> strategy of good values) with any subset of its fields replaced by junk
    or left out, so both the form errors and the save paths behind a valid form are reached."""

    @st.composite
    def build(draw):
        data = {name: draw(strategy) for name, strategy in valid.items()}
        if draw(st.booleans()):
            data["submit"] = "1"
        for name in draw(st.sets(st.sampled_from(sorted(data)))):
            junk = st.sampled_from(CONTROLS) if name in controls else JUNK
            value = draw(st.one_of(junk, st.none()))
            if value is None:
                data.pop(name)
            else:
                data[name] = value
        return data

    return build()


def post_rolled_back(client, url, data):
    with transaction.atomic():
        response = client.post(url, data)
        transaction.set_rollback(True)
    return response


def assert_baseline(client, url, good, page=None):
    """The page (``page``, else ``url``) answers 200 and the good POST is accepted (a redirect, rolled back): the
    client's user may write here, so a 404 while fuzzing is a failure and not a page the user may not see."""
    assert client.get(page or url).status_code == 200
    response = post_rolled_back(client, url, good)
    context = response.context or {}
    assert response.status_code == 302, (
        response.status_code,
        {name: context[name].errors for name in context.keys() if hasattr(context[name], "is_valid")},
    )


# --- The proposal editor -----------------------------------------------------------------------------------------------


@pytest.fixture
def draft(client, applicant_a, org_a, competition):
    proposal = factories.proposal(competition, org_a, title="模糊测试项目")
    client.force_login(applicant_a)
    return proposal


def proposal_good(proposal):
    """A complete draft: one budget line, one milestone, one indicator."""
    c = proposal.competition
    return {
        "version": str(proposal.version),
        "title": "模糊测试项目",
        "category": str(c.categories.first().pk),
        "target_group": "外卖骑手",
        "people_to_serve": "200",
        "service_area": "示范市",
        "needs": "需求分析",
        "objectives": "项目目标",
        "activities": "活动安排",
        "team": "项目团队",
        "period_start": c.project_start_earliest.isoformat(),
        "period_end": c.project_end_latest.isoformat(),
        "requested_amount": "100000.00",
        "cofunding_amount": "0",
        "lines-TOTAL_FORMS": "1",
        "lines-INITIAL_FORMS": "0",
        "lines-0-category": str(c.budget_categories.get(name="活动经费").pk),
        "lines-0-item": "场地租赁",
        "lines-0-unit": "次",
        "lines-0-unit_price": "1000.00",
        "lines-0-quantity": "100",
        "lines-0-note": "",
        "milestones-TOTAL_FORMS": "1",
        "milestones-INITIAL_FORMS": "0",
        "milestones-0-date": c.project_start_earliest.isoformat(),
        "milestones-0-title": "启动仪式",
        "indicators-TOTAL_FORMS": "1",
        "indicators-INITIAL_FORMS": "0",
        "indicators-0-name": "服务人次",
        "indicators-0-target": "200",
        "indicators-0-unit": "人次",
    }


def proposal_data(proposal):
    c = proposal.competition
    controls = {f"{p}-{k}" for p in ("lines", "milestones", "indicators") for k in ("TOTAL_FORMS", "INITIAL_FORMS")}
    return corrupted(
        {
            "version": st.just(str(proposal.version)),
            "title": label(200),
            "category": st.just(str(c.categories.first().pk)),
            "target_group": clean_text(),
            "people_to_serve": st.integers(0, 10**6).map(str),
            "service_area": clean_text(),
            "needs": clean_text(2000),
            "objectives": clean_text(),
            "activities": clean_text(),
            "team": clean_text(),
            "period_start": st.just(c.project_start_earliest.isoformat()),
            "period_end": st.just(c.project_end_latest.isoformat()),
            "requested_amount": money(),
            "cofunding_amount": money(),
            "lines-TOTAL_FORMS": st.just("1"),
            "lines-INITIAL_FORMS": st.just("0"),
            "lines-0-category": st.just(str(c.budget_categories.first().pk)),
            "lines-0-item": label(),
            "lines-0-unit": label(),
            "lines-0-unit_price": money(),
            "lines-0-quantity": money(low="0.01"),
            "lines-0-note": clean_text(),
            "milestones-TOTAL_FORMS": st.just("1"),
            "milestones-INITIAL_FORMS": st.just("0"),
            "milestones-0-date": a_date(),
            "milestones-0-title": label(),
            "indicators-TOTAL_FORMS": st.just("1"),
            "indicators-INITIAL_FORMS": st.just("0"),
            "indicators-0-name": label(),
            "indicators-0-target": money(),
            "indicators-0-unit": label(),
        },
        controls=controls,
    )


def test_proposal_edit_never_answers_500(client, draft):
    url = reverse("proposals:edit", args=[draft.pk])
    assert_baseline(client, url, proposal_good(draft))

    @FUZZ
    @given(data=proposal_data(draft))
    def check(data):
        response = post_rolled_back(client, url, data)
        assert response.status_code in (200, 302), response.status_code

    check()


# --- The score sheet --------------------------------------------------------------------------------------------------


@pytest.fixture
def assignment(client, db):
    c = factories.competition(stage="final")
    judge = factories.judge("fuzz_judge")
    (proposal,) = factories.finalists(c, 1)
    client.force_login(judge.user)
    return factories.final_panel(c, [judge], [proposal])[(judge.pk, proposal.pk)]


def score(max_points):
    return st.integers(0, int(max_points)).map(str)


def test_score_sheet_never_answers_500(client, assignment):
    url = reverse("judging:sheet", args=[assignment.pk])
    criteria = list(assignment.panel.competition.criteria.all())
    assert_baseline(
        client,
        url,
        {"version": "0", "comment": "说明", "submit": "1", **{f"c_{c.pk}": str(c.max_points - 5) for c in criteria}},
    )
    strategy = corrupted(
        {"version": st.just("0"), "comment": clean_text(4000), **{f"c_{c.pk}": score(c.max_points) for c in criteria}}
    )

    @FUZZ
    @given(data=strategy)
    def check(data):
        response = post_rolled_back(client, url, data)
        assert response.status_code in (200, 302), response.status_code

    check()


# --- The expenditure ledger: one entry, and a whole spreadsheet -------------------------------------------------------


@pytest.fixture
def project(client, db):
    """A funded project with its approved budget lines, its organization's owner signed in (who keeps the ledger)."""
    funded = build_funded()
    client.force_login(funded.owner)
    return funded.project


def receipts():
    names = st.sampled_from(
        [
            "收据.pdf",
            "receipt.PNG",
            "x.jpg",
            "evil.exe",
            "noext",
            "../../a.pdf",
            "a.pdf.exe",
            "长" * 300 + ".pdf",
            ".pdf",
        ]
    )
    heads = st.sampled_from([b"", b"%PDF-1.4\n", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff\xe0", b"MZ", b"PK\x03\x04"])
    return st.builds(lambda n, h, body: SimpleUploadedFile(n, h + body), names, heads, st.binary(max_size=512))


def test_ledger_add_never_answers_500(client, project):
    url = reverse("supervision:ledger_add", args=[project.pk])
    line = project.lines.select_related("category").first()
    assert_baseline(
        client,
        url,
        {
            "date": project.period_start.isoformat(),
            "line": str(line.pk),
            "amount": "300.00",
            "payee": "示范市文具店",
            "description": "活动物资",
            "voucher_no": "PZ-1",
        },
        page=reverse("supervision:ledger", args=[project.pk]),
    )
    lines = [str(pk) for pk in project.lines.values_list("pk", flat=True)]
    strategy = corrupted(
        {
            "date": st.dates(project.period_start, project.period_end).map(lambda d: d.isoformat()),
            "line": st.sampled_from(lines),
            "amount": money(low="0.01"),
            "payee": label(),
            "description": label(300),
            "voucher_no": label(60),
        }
    )

    @FUZZ
    @given(data=strategy, receipt=st.one_of(st.none(), receipts()))
    def check(data, receipt):
        if receipt is not None:
            data["receipt"] = receipt
        response = post_rolled_back(client, url, data)
        # 400 is the ledger's answer to a refused entry (the form is shown again with the problems marked).
        assert response.status_code in (200, 302, 400), response.status_code

    check()
    assert Expenditure.objects.count() == 0  # every example was rolled back


HEADERS = ["日期", "预算科目", "明细项目", "金额", "收款方", "摘要", "凭证号"]


def ledger_rows(project):
    """Rows of the import template's seven columns, plausible (this project's dates, categories, lines) with any
    cell replaced by junk or left empty."""
    lines = [(ln.category.name, ln.item) for ln in project.lines.select_related("category")]

    @st.composite
    def row(draw):
        category, item = draw(st.sampled_from([*lines, ("差旅费", ""), ("", "")]))
        values = [
            draw(st.dates(project.period_start, project.period_end)).isoformat(),
            category,
            item,
            draw(money(low="0.01")),
            draw(label()),
            draw(label()),
            draw(label(60)),
        ]
        for i in draw(st.sets(st.integers(0, 6))):
            values[i] = draw(st.one_of(JUNK, st.just("")))
        return values

    return st.lists(row(), max_size=6)


def csv_bytes(header, rows, encoding):
    out = io.StringIO()
    csv.writer(out).writerows([header, *rows])
    return out.getvalue().encode(encoding, errors="replace")


def xlsx_bytes(header, rows):
    """The same table as a real workbook; cell text without the control characters a workbook cannot hold."""
    clean = [["".join(ch for ch in str(v) if ch.isprintable()) for v in r] for r in rows]
    columns = [h if h not in header[:i] else f"{h}_{i}" for i, h in enumerate(header)]  # a repeated header made unique
    return to_xlsx_bytes({"台账": pd.DataFrame(clean, columns=columns) if clean else pd.DataFrame(columns=columns)})


def ledger_files(project):
    headers = st.one_of(
        st.just(HEADERS),
        st.permutations(HEADERS),
        st.lists(st.sampled_from(HEADERS), max_size=9),
        st.lists(JUNK, min_size=1, max_size=7),
    )

    @st.composite
    def build(draw):
        header, rows = draw(headers), draw(ledger_rows(project))
        width = len(header)
        rows = [(r + [""] * width)[:width] for r in rows]
        kind = draw(st.sampled_from(["csv", "csv", "xlsx", "bytes"]))
        if kind == "csv":
            body = csv_bytes(header, rows, draw(st.sampled_from(["utf-8", "utf-8-sig", "gbk", "utf-16"])))
            name = draw(st.sampled_from(["台账.csv", "LEDGER.CSV", "台账.csv.exe", "台账"]))
        elif kind == "xlsx":
            body = xlsx_bytes(header, rows)
            name = draw(st.sampled_from(["台账.xlsx", "台账.XLSX", "台账.csv"]))
        else:
            body = draw(st.sampled_from([b"", b"PK\x03\x04", b"%PDF-1.4\n", b"\xef\xbb\xbf"])) + draw(
                st.binary(max_size=512)
            )
            name = draw(st.sampled_from(["台账.csv", "台账.xlsx", "台账.txt"]))
        return SimpleUploadedFile(name, body)

    return build()


def test_ledger_import_never_answers_500(client, project):
    url = reverse("supervision:ledger_import", args=[project.pk])
    line = project.lines.select_related("category").first()
    good = [
        project.period_start.isoformat(),
        line.category.name,
        line.item,
        "300.00",
        "示范市文具店",
        "活动物资",
        "PZ-1",
    ]
    assert_baseline(
        client,
        url,
        {"file": SimpleUploadedFile("台账.csv", csv_bytes(HEADERS, [good], "utf-8-sig"))},
        page=reverse("supervision:ledger", args=[project.pk]),
    )
    assert (
        post_rolled_back(
            client, url, {"file": SimpleUploadedFile("台账.xlsx", xlsx_bytes(HEADERS, [good]))}
        ).status_code
        == 302
    )

    @FUZZ
    @given(upload=ledger_files(project))
    def check(upload):
        response = post_rolled_back(client, url, {"file": upload})
        # 400: nothing imported, the problems listed (a bad file, a missing column, rows that do not pass).
        assert response.status_code in (302, 400), response.status_code

    check()
    assert Expenditure.objects.count() == 0  # every example was rolled back


@pytest.mark.parametrize("amount", ["NaN", "sNaN", "Infinity", "-Infinity"])
def test_the_ledger_rules_refuse_non_finite_amounts(db, amount):
    """A service caller (not the form, which refuses them first) passing NaN or infinity gets a field error, not a
    TypeError from comparing the exponent of an infinity ('F') or an InvalidOperation from comparing a NaN."""
    funded = build_funded()
    line = funded.project.lines.select_related("category").first()
    with translation.override("en"):
        errors = check_expenditure(
            funded.project,
            date=funded.project.period_start,
            line=line,
            category=None,
            amount=Decimal(amount),
            receipt=None,
        )
    assert errors == {"amount": "Enter an amount in yuan, for example 12800.50."}
