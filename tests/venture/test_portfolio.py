"""The supervision portfolio at national scale (issue #20): 50 projects a page, the totals, the summaries by status
and by round and the charts over every matching project (summed in the database, not over the page), the filters
kept across pages, and the export with every matching project. The projects are inserted in bulk (many_funded)."""

import datetime
import io
from decimal import Decimal
from types import SimpleNamespace

import pandas as pd
import pytest

from tests import factories
from tests.builders import START, many_funded


def _round(title):
    return factories.competition(
        stage="supervision",
        title=title,
        project_start_earliest=START,
        project_end_latest=START + datetime.timedelta(days=400),
    )


@pytest.fixture
def world(db):
    """甲市 with 61 projects (批量项目000 … 060; 000, 010, … 060 suspended), then 乙市 with 3 (其他项目000 … 002;
    000 suspended): 64 projects, two pages."""
    first, second = _round("甲市2026年公益创投"), _round("乙市2026年公益创投")
    return SimpleNamespace(
        first=first,
        second=second,
        projects=many_funded(first, 61),
        others=many_funded(second, 3, title="其他项目"),
        staff=factories.user("staff_portfolio", role="staff"),
    )


def titles(response):
    return [row["project"].title for row in response.context["rows"]]


def test_the_totals_are_of_every_matching_project_not_of_the_page(client, world):
    client.force_login(world.staff)
    r = client.get("/supervision/portfolio/")
    assert len(r.context["rows"]) == 50
    total = r.context["summary"]["all"]
    # grants 50,000 + i, released 20,000 each, spent 100 + i; one open rectification and one overdue report per tenth
    assert (total.count, total.grant, total.released, total.spent, total.open_rectifications, total.overdue) == (
        64,
        Decimal("3201833"),  # 61 × 50,000 + 1,830, and 3 × 50,000 + 3
        Decimal("1280000"),
        Decimal("8233"),  # 61 × 100 + 1,830, and 100 + 101 + 102
        8,
        8,
    )
    by_status = [(g.key, g.count, g.grant, g.spent, g.overdue) for g in r.context["summary"]["by_status"]]
    assert by_status == [
        ("active", 56, Decimal("2801623"), Decimal("7223"), 0),
        ("suspended", 8, Decimal("400210"), Decimal("1010"), 8),  # 甲市's 000, 010 … 060 and 乙市's 000
    ]
    by_round = [(g.label, g.count, g.grant, g.released, g.spent) for g in r.context["summary"]["by_round"]]
    assert by_round == [
        ("甲市2026年公益创投", 61, Decimal("3051830"), Decimal("1220000"), Decimal("7930")),
        ("乙市2026年公益创投", 3, Decimal("150003"), Decimal("60000"), Decimal("303")),
    ]
    assert r.context["category_totals"] == [("活动经费", Decimal("3201833"), Decimal("8233"))]
    month = START + datetime.timedelta(days=10)
    assert r.context["monthly_totals"] == [(month.replace(day=1), Decimal("8233"))]
    client.cookies["django_language"] = "en"
    body = client.get("/supervision/portfolio/").content.decode()
    assert "64 funded projects · grant ¥3,201,833.00 · released ¥1,280,000.00 · spent ¥8,233.00" in body


def test_page_2_starts_at_the_51st_project(client, world):
    client.force_login(world.staff)
    r = client.get("/supervision/portfolio/?page=2")
    assert titles(r) == [f"批量项目{i:03d}" for i in range(50, 61)] + [f"其他项目{i:03d}" for i in range(3)]
    assert r.context["rows"][0]["project"] == world.projects[50]
    body = r.content.decode()
    assert "第 51–64 个项目，共 64 个" in body and "第 2 页，共 2 页" in body
    assert 'href="?page=1">上一页</a>' in body
    assert r.context["summary"]["all"].count == 64  # the same totals on every page
    client.cookies["django_language"] = "en"
    body = client.get("/supervision/portfolio/?page=2").content.decode()
    assert "Projects 51–64 of 64" in body and "Page 2 of 2" in body and ">Previous</a>" in body
    body = client.get("/supervision/portfolio/").content.decode()
    assert "Projects 1–50 of 64" in body and 'href="?page=2">Next</a>' in body


def test_the_filters_are_kept_across_pages(client, world):
    client.force_login(world.staff)
    query = f"round={world.first.pk}&amp;status=active&amp;q=%E6%89%B9%E9%87%8F"  # q=批量
    r = client.get(f"/supervision/portfolio/?round={world.first.pk}&status=active&q=批量")
    assert len(r.context["rows"]) == 50 and r.context["summary"]["all"].count == 54
    body = r.content.decode()
    assert f'href="?{query}&amp;page=2">下一页</a>' in body
    assert f'href="?{query}&amp;export=xlsx"' in body
    r = client.get(f"/supervision/portfolio/?round={world.first.pk}&status=active&q=批量&page=2")
    assert titles(r) == ["批量项目056", "批量项目057", "批量项目058", "批量项目059"]
    body = r.content.decode()
    assert "第 51–54 个项目，共 54 个" in body and f'href="?{query}&amp;page=1">上一页</a>' in body
    assert f'href="?{query}&amp;export=xlsx"' in body  # the export: every page, so no page in its address
    # each status and round of the summary links to the portfolio filtered by it, the other filters kept, page 1
    assert f'href="?round={world.first.pk}&amp;status=active&amp;q=%E6%89%B9%E9%87%8F">执行中</a>' in body


def test_the_export_has_every_matching_project_whatever_the_page(client, world):
    client.force_login(world.staff)
    frame = pd.read_excel(io.BytesIO(client.get("/supervision/portfolio/?page=2&export=xlsx").content))
    assert frame["项目"].tolist() == [p.title for p in world.projects + world.others]
    assert frame["已支出（元）"].sum() == 8233
    r = client.get(f"/supervision/portfolio/?round={world.first.pk}&status=active&page=2&export=xlsx")
    frame = pd.read_excel(io.BytesIO(r.content))
    assert frame["项目"].tolist() == [p.title for i, p in enumerate(world.projects) if i % 10]
