"""Benchmark of the live scoring board, the completion page and the projector state at the Zhengzhou scale:
12 finalists x 9 judges (one recusal, about two thirds of the sheets submitted, the order drawn).

Builds the round in a fresh SQLite database in a temporary data folder (migrated from scratch, removed afterwards),
then times N requests of each page through django.test.Client and prints the median and 95th percentile in ms and
the number of SQL queries per request. Figures, not a timed test.

Run from the project root:  .venv/bin/python bench/bench_board.py [--n 50] [--proposals 12] [--judges 9]
With --proposals 500 --judges 15 (issue #17: the projector and the big screen must stay under 10 ms and a constant
number of queries at that size) the sheets are written in bulk instead of through the scoring service (7,500
save_sheet calls would take minutes); the pages read the same rows.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def configure(data_dir):
    """Environment for a throwaway instance; must run before Django reads its settings."""
    os.environ["VENTURE_DATA_DIR"] = str(data_dir)
    os.environ.pop("DATABASE_URL", None)
    os.environ["STATICFILES_STORAGE"] = "django.contrib.staticfiles.storage.StaticFilesStorage"
    os.environ["EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"
    os.environ["DEBUG"] = "false"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "venture.settings")

    import django
    from django.conf import settings

    django.setup()
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast fixtures


def build(n_proposals, n_judges):
    from judging import services
    from tests import factories
    from venture.competitions.models import Stage

    staff = factories.user("bench_staff", role="staff")
    competition = factories.competition(stage=Stage.FINAL, score_step=Decimal("0.5"))
    proposals = factories.finalists(competition, n_proposals)
    judges = [factories.judge(f"bench_judge{i:02d}", full_name=f"评委{i:02d}") for i in range(1, n_judges + 1)]
    assignments = factories.final_panel(competition, judges, proposals, recused=[(judges[-1], proposals[0])])
    criteria = list(competition.criteria.all())
    points = [Decimal("21.5"), Decimal("22"), Decimal("26"), Decimal("17")]
    submitted = 0
    if n_proposals * n_judges > 1000:
        return bulk_sheets(staff, competition, judges, proposals, assignments, criteria, points)
    for (judge_pk, proposal_pk), assignment in assignments.items():
        if (judge_pk, proposal_pk) == (judges[-1].pk, proposals[0].pk) or (judge_pk + proposal_pk) % 3 == 0:
            continue
        services.save_sheet(
            assignment=assignment,
            by=assignment.judge.user,
            points=dict(zip([c.pk for c in criteria], points, strict=True)),
            comment="",
            expected_version=0,
            submit=True,
        )
        submitted += 1
    roadshow = services.draw_order(competition=competition, by=staff)
    services.set_presenting(roadshow=roadshow, slot=roadshow.slots.get(position=3), phase="presentation", by=staff)
    return staff, competition, len(assignments), submitted


def bulk_sheets(staff, competition, judges, proposals, assignments, criteria, points):
    """The same sheets as ``build`` (about two thirds submitted, one recusal), written with bulk_create."""
    from judging import services
    from judging.models import Score, ScoreSheet

    chosen = [a for (j, p), a in assignments.items() if (j, p) != (judges[-1].pk, proposals[0].pk) and (j + p) % 3 != 0]
    sheets = ScoreSheet.objects.bulk_create(
        [ScoreSheet(assignment=a, status="submitted", total=Decimal("86.5")) for a in chosen]
    )
    Score.objects.bulk_create(
        [Score(sheet=s, criterion=c, points=v) for s in sheets for c, v in zip(criteria, points, strict=True)]
    )
    roadshow = services.draw_order(competition=competition, by=staff)
    services.set_presenting(roadshow=roadshow, slot=roadshow.slots.get(position=3), phase="presentation", by=staff)
    return staff, competition, len(assignments), len(sheets)


def measure(client, url, n):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(3):  # warm up templates, translations and the connection
        assert client.get(url).status_code == 200, url
    times = []
    for _ in range(n):
        start = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, url
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    p95 = statistics.quantiles(times, n=20, method="inclusive")[18]
    return statistics.median(times), p95, len(queries)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=50, help="timed requests per page (default 50)")
    parser.add_argument("--proposals", type=int, default=12)
    parser.add_argument("--judges", type=int, default=9)
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="venture-bench-"))
    try:
        configure(data_dir)
        from django.core.management import call_command
        from django.test import Client
        from django.urls import reverse

        call_command("migrate", verbosity=0, interactive=False)
        staff, competition, n_assignments, n_submitted = build(args.proposals, args.judges)
        client = Client()
        client.force_login(staff)
        pk = competition.pk
        pages = [
            ("board page", reverse("judging:board", args=[pk, "final"])),
            ("board cells (htmx partial)", reverse("judging:board_cells", args=[pk, "final"])),
            ("progress page", reverse("judging:progress", args=[pk, "final"])),
            ("projector state (JSON)", reverse("judging:projector_state", args=[pk])),
            ("big-screen board cells", reverse("judging:hall_board_cells", args=[pk])),
            ("judge's day state (JSON)", reverse("judging:day_state", args=[pk])),
        ]
        print(
            f"{args.proposals} finalists x {args.judges} judges: {n_assignments} assignments, 1 recused, "
            f"{n_submitted} sheets submitted; SQLite in {data_dir}; N={args.n} requests each"
        )
        print(f"{'page':<30}{'median ms':>11}{'p95 ms':>10}{'queries':>9}")
        for label, url in pages:
            median, p95, n_queries = measure(client, url, args.n)
            print(f"{label:<30}{median:>11.1f}{p95:>10.1f}{n_queries:>9}")
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
