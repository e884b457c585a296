"""The provisional ranking page of a big pre-scoring stage (issue #20): 100 rows a page, searchable, a constant
number of queries, the ranking kept in the cache until a sheet changes."""

import io
from urllib.parse import urlencode

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from judging import ranking
from judging.models import PanelStage, Score, ScoreSheet
from judging.queries import stage_status
from venture.accounts.models import User
from venture.competitions.models import Competition
from venture.proposals.models import Proposal


def national(prefix, proposals, title):
    call_command(
        "generate_round",
        proposals=proposals,
        judges=8,
        prescoring_k=3,
        finalists=3,
        final_judges=3,
        funded=1,
        ledger_rows=0,
        prefix=prefix,
        title=title,
        stdout=io.StringIO(),
    )
    return Competition.objects.get(title=title)


@pytest.fixture
def rounds(db):
    cache.clear()
    big = national("big", 130, "大轮次")
    small = national("small", 12, "小轮次")
    return big, small, User.objects.get(username="big_staff")


def url(competition, query=""):
    return reverse("judging:ranking", args=[competition.pk, PanelStage.PRESCORING]) + query


def expected_order(competition):
    table = ranking.compute(competition, PanelStage.PRESCORING).table
    return [int(pid) for pid in table.index], [int(r) for r in table["rank"]]


def test_pages_of_100_in_rank_order(client, rounds):
    big, _small, staff = rounds
    client.force_login(staff)
    order, ranks = expected_order(big)
    assert ranks == sorted(ranks)
    first = client.get(url(big))
    assert [r["proposal"].pk for r in first.context["rows"]] == order[:100]
    assert [r["rank"] for r in first.context["rows"]] == ranks[:100]
    assert first.context["page"].paginator.num_pages == 2
    assert first.context["ranked"] == 130
    second = client.get(url(big, "?page=2"))
    assert [r["proposal"].pk for r in second.context["rows"]] == order[100:]
    assert [r["rank"] for r in second.context["rows"]] == ranks[100:]
    assert all(r["n"] == 3 for r in second.context["rows"])


def test_search_by_organization_keeps_the_rank(client, rounds):
    big, _small, staff = rounds
    client.force_login(staff)
    order, ranks = expected_order(big)
    target = Proposal.objects.select_related("organization").get(pk=order[117])
    response = client.get(url(big, "?q=" + target.organization.name))
    rows = response.context["rows"]
    assert [(r["proposal"].pk, r["rank"]) for r in rows] == [(target.pk, ranks[117])]
    assert response.context["query"] == urlencode({"q": target.organization.name})  # kept by the page links
    # a word in many titles: every match, in rank order, and nothing else
    word = "法律"
    matching = set(Proposal.objects.filter(competition=big, title__contains=word).values_list("pk", flat=True)) | set(
        Proposal.objects.filter(competition=big, organization__name__contains=word).values_list("pk", flat=True)
    )
    response = client.get(url(big, f"?q={word}"))
    expected = [pid for pid in order if pid in matching][:100]
    assert expected
    assert [r["proposal"].pk for r in response.context["rows"]] == expected
    assert client.get(url(big, "?q=没有这样的项目")).context["rows"] == []


def test_queries_do_not_grow_with_the_round(client, rounds):
    big, small, staff = rounds
    client.force_login(staff)
    counts = {}
    for name, competition, query in (
        ("big", big, ""),
        ("big2", big, "?page=2"),
        ("small", small, ""),
        ("q", big, "?q=法律"),
    ):
        client.get(url(competition, query))  # the ranking is cached from here on
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url(competition, query)).status_code == 200
        counts[name] = len(queries)
    assert counts["big"] == counts["big2"] == counts["small"] == counts["q"] - 1


def test_a_changed_sheet_is_ranked_again(client, rounds):
    big, _small, staff = rounds
    client.force_login(staff)
    before = stage_status(big, PanelStage.PRESCORING)
    assert (before["expected"], before["submitted"], before["complete"]) == (390, 390, True)
    order, _ranks = expected_order(big)
    last = order[-1]
    assert client.get(url(big, "?page=2")).context["rows"][-1]["proposal"].pk == last
    # The last proposal's sheets get full marks: it is first once its sheets change.
    for sheet in ScoreSheet.objects.filter(
        assignment__proposal_id=last, assignment__panel__stage=PanelStage.PRESCORING
    ):
        for score in Score.objects.filter(sheet=sheet).select_related("criterion"):
            score.points = score.criterion.max_points
            score.save()
        sheet.save()
    assert stage_status(big, PanelStage.PRESCORING)["fingerprint"] != before["fingerprint"]
    assert client.get(url(big)).context["rows"][0]["proposal"].pk == last
