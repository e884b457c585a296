"""Help where people need it (issue #18): the round's 申报指南 as a PDF and its budget template as xlsx, both made from
the round's own set-up."""

import datetime
import io
import re
import shutil
import subprocess
from decimal import Decimal
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from judging.models import Criterion
from tests import factories
from venture.competitions.models import BudgetCategory, Stage

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
BANDS = [
    {"min": 21, "max": 25, "label": "优秀"},
    {"min": 15, "max": 20, "label": "良好"},
    {"min": 0, "max": 14, "label": "较差"},
]


def guide_round(stage=Stage.OPEN):
    c = factories.competition(
        stage=stage,
        title="2026年示范市公益创投大赛",
        organizer="示范市总工会",
        description="## 申报须知\n\n本次大赛面向新就业形态劳动者服务项目。\n\n咨询电话 0371-12345678。",
        opens_at=datetime.datetime(2026, 3, 1, 9, 0, tzinfo=SHANGHAI),
        closes_at=datetime.datetime(2026, 4, 15, 17, 30, tzinfo=SHANGHAI),
        project_start_earliest=datetime.date(2026, 7, 1),
        project_end_latest=datetime.date(2027, 6, 30),
        min_project_months=6,
        cofunding_share=Decimal("10"),
    )
    BudgetCategory.objects.filter(competition=c, name="活动经费").update(cap_amount=Decimal("80000.00"))
    for criterion in Criterion.objects.filter(competition=c):
        bands = [
            {
                **b,
                "min": float(b["min"] * criterion.max_points / 25),
                "max": float(b["max"] * criterion.max_points / 25),
            }
            for b in BANDS
        ]
        Criterion.objects.filter(pk=criterion.pk).update(bands=bands)
    Criterion.objects.filter(competition=c, code="targeting").update(bands=BANDS, description="服务对象明确")
    return c


def pdf_text(data):
    assert data.startswith(b"%PDF")
    out = subprocess.run(["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True)
    return re.sub(r"[ \t]+", " ", out.stdout.decode())


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) is not installed")
def test_the_guide_pdf_prints_the_call_rubric_budget_rules_and_timetable(client):
    c = guide_round()
    response = client.get(f"/documents/round/{c.pk}/guide.pdf")  # public: no login
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "filename*=utf-8''%E7%94%B3%E6%8A%A5%E6%8C%87%E5%8D%97-" in response["Content-Disposition"]
    text = pdf_text(response.content)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    assert "申报指南：2026年示范市公益创投大赛" in lines
    # The call text.
    assert "本次大赛面向新就业形态劳动者服务项目。" in lines
    assert "咨询电话 0371-12345678。" in lines
    assert "服务领域：权益保障、技能培训" in lines
    # The timetable.
    assert "开始申报 2026-03-01 09:00（北京时间）" in lines
    assert "申报截止 2026-04-15 17:30（北京时间），此后不再受理" in lines
    assert "项目周期 2026-07-01 至 2027-06-30 之间，6 至 12 个月" in lines
    assert "结果公示 5 个工作日" in lines
    # The budget rules.
    assert "申请金额在 ¥50,000.00 至 ¥150,000.00 之间，且等于各预算明细之和。" in text.replace("\n", "")
    assert "须有不少于申请金额 10% 的配套资金。" in text.replace("\n", "")
    assert "人员经费 不超过预算总额的 30%" in lines
    assert "活动经费 不超过 ¥80,000.00" in lines
    assert "管理费（管理费） 不超过预算总额的 10%" in lines
    assert "1. 50% · 签订资助协议后" in lines
    # The rubric with its bands.
    assert any(line.startswith("项目定位精准性 25 25") for line in lines)
    assert any(line.startswith("服务对象明确 · 15-20 良好") for line in lines)  # the description
    assert "21-25 优秀" in text and "15-20 良好" in text and "0-14 较差" in text
    assert "社会效益 30 30 · 25.2-30 优秀" in lines
    assert "资金预算 20 20 · 16.8-20 优秀" in lines
    assert "合计 100 84-100 优秀、60-80 良好、0-56 较差" in lines


def test_a_round_being_set_up_has_no_public_guide(client):
    c = guide_round(stage=Stage.DRAFT)
    assert client.get(f"/documents/round/{c.pk}/guide.pdf").status_code == 404
    assert client.get(f"/documents/round/{c.pk}/budget-template/").status_code == 404
    client.force_login(factories.user("staff_guide", role="staff"))
    assert client.get(f"/documents/round/{c.pk}/budget-template/").status_code == 200


def test_the_budget_template_lists_the_rounds_categories_and_caps(client):
    c = guide_round()
    response = client.get(f"/documents/round/{c.pk}/budget-template/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "filename*=utf-8''%E9%A2%84%E7%AE%97%E6%A8%A1%E6%9D%BF-" in response["Content-Disposition"]
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["预算", "上限", "规则"]
    rows = [list(r) for r in book["预算"].iter_rows(values_only=True)]
    assert rows[0] == ["预算科目", "明细项目", "单位", "单价", "数量", "金额", "备注"]
    assert [r[0] for r in rows[1:]] == ["人员经费", "活动经费", "管理费"]
    assert all(r[1:] == [None] * 6 for r in rows[1:])
    caps = [list(r) for r in book["上限"].iter_rows(values_only=True)]
    assert caps == [
        ["预算科目", "上限", "管理费"],
        ["人员经费", "不超过预算总额的 30%", None],
        ["活动经费", "不超过 ¥80,000.00", None],
        ["管理费", "不超过预算总额的 10%", "是"],
    ]
    rules = [r[0] for r in book["规则"].iter_rows(values_only=True)]
    assert rules == [
        "规则",
        "申请金额在 ¥50,000.00 至 ¥150,000.00 之间，且等于各预算明细之和。",
        "须有不少于申请金额 10% 的配套资金。",
    ]
