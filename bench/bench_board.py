"""Benchmark of the live scoring board, the completion page and the projector state at the Zhengzhou scale:
12 finalists x 9 judges (one recusal, about two thirds of the sheets submitted, the order drawn).

Builds the round in a fresh SQLite database in a temporary data folder (migrated from scratch, removed afterwards),
then times N requests of each page through django.test.Client and prints the median and 95th percentile in ms and
the number of SQL queries per request. Figures, not a timed test.

Run from the project root:  .venv/bin/python bench/bench_board.py [--n 50] [--proposals 12] [--judges 9]
With --proposals 500 --judges 15 (issue #17: the projector and the big screen must stay under 10 ms and a constant
number of queries at that size) the sheets are written in bulk instead of through the scoring service (7,500
save_sheet calls would take minutes); the pages read the same rows.

Then the polls of the roadshow day (issue #17), each as its client sends it, with the ETag it was last given:
"unchanged" (nothing happened since: the answer must be 304 Not Modified) and "changed" (before each timed request,
outside the timing, a judge saves a draft and staff switch the phase of the finalist on stage, through the services:
the answer is 200 with the new content). --runs R runs of --poll-n requests each; printed: the median of the runs'
medians, the slowest run's median, the queries of one request at this size and in a tiny round (3 x 3) beside it,
and PASS/MISS against the issue's target (under 10 ms and the same number of queries whatever the size).

    .venv/bin/python bench/bench_board.py --proposals 500 --judges 15 --polls-only [--runs 5] [--poll-n 30]
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


def build(n_proposals, n_judges, prefix="bench"):
    from judging import services
    from tests import factories
    from venture.competitions.models import Stage

    staff = factories.user(f"{prefix}_staff", role="staff")
    competition = factories.competition(stage=Stage.FINAL, score_step=Decimal("0.5"))
    proposals = factories.finalists(competition, n_proposals)
    judges = [factories.judge(f"{prefix}_judge{i:02d}", full_name=f"评委{i:02d}") for i in range(1, n_judges + 1)]
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


FLOOR_URL = "/bench-floor/"
POLL_TARGET_MS = 10.0  # issue #17: "the board poll and the projector state stay under 10 ms" at 500 x 15
# (label, URL name, stage argument or None, who polls)
POLLS = [
    ("projector state (JSON, every 2 s)", "judging:projector_state", None, "staff"),
    ("big-screen board cells (htmx, 5 s)", "judging:hall_board_cells", None, "staff"),
    ("live board cells (htmx, 5 s)", "judging:board_cells", "final", "staff"),
    ("judge's day state (JSON, 5 s)", "judging:day_state", None, "judge"),
]


class Changer:
    """Makes what a roadshow day makes between two polls, through the services: a judge saves a draft of the sheet
    of the finalist on stage (the boards' token moves) and staff switch the phase of that finalist (the projector's,
    the big screen's and the judges' state move)."""

    def __init__(self, competition, staff):
        from judging.models import Assignment, ConflictStatus, Roadshow

        self.staff = staff
        self.roadshow = Roadshow.objects.select_related("current").get(competition=competition)
        self.criteria = list(competition.criteria.all())
        open_sheets = (
            Assignment.objects.filter(
                panel__competition=competition, panel__stage="final", conflict__status=ConflictStatus.CLEAR
            )
            .exclude(sheet__status="submitted")
            .select_related("panel__competition", "judge__user", "conflict", "proposal")
            .order_by("pk")
        )
        # a sheet of the finalist on stage if one is still open, else any open sheet of the panel
        self.assignment = (
            open_sheets.filter(proposal_id=self.roadshow.current.proposal_id).first() or open_sheets.first()
        )
        self.phases = ["qa", "presentation"]

    def __call__(self):
        from judging import services
        from judging.models import ScoreSheet

        sheet = ScoreSheet.objects.filter(assignment=self.assignment).first()
        services.save_sheet(
            assignment=self.assignment,
            by=self.assignment.judge.user,
            points={self.criteria[0].pk: Decimal("20")},
            comment="",
            expected_version=sheet.version if sheet else 0,
        )
        self.phases.reverse()
        services.set_presenting(roadshow=self.roadshow, slot=self.roadshow.current, phase=self.phases[0], by=self.staff)


def poll_once(client, url, etag):
    start = time.perf_counter()
    response = client.get(url, HTTP_IF_NONE_MATCH=etag) if etag else client.get(url)
    return (time.perf_counter() - start) * 1000, response


def measure_poll(client, url, n, change=None):
    """n polls with the last ETag; ``change`` (untimed) before each one. Returns the times and the status seen."""
    _ms, response = poll_once(client, url, None)
    etag = response["ETag"]
    times, statuses = [], set()
    for _ in range(n):
        if change is not None:
            change()
        ms, response = poll_once(client, url, etag)
        times.append(ms)
        statuses.add(response.status_code)
        etag = response["ETag"]
    return times, statuses


def poll_queries(client, url, change=None):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    etag = client.get(url)["ETag"]
    if change is not None:
        change()
    with CaptureQueriesContext(connection) as queries:
        client.get(url, HTTP_IF_NONE_MATCH=etag)
    return len(queries)


def add_floor_view():
    """An empty view at FLOOR_URL, added to the URLconf of this process only."""
    from django.http import HttpResponse
    from django.urls import clear_url_caches, path

    from venture import urls

    urls.urlpatterns.append(path(FLOOR_URL.strip("/") + "/", lambda request: HttpResponse(status=204)))
    clear_url_caches()


def bench_polls(big, tiny, runs, n):
    """big and tiny: (clients by who, competition, changer)."""
    from django.urls import reverse

    add_floor_view()

    def url_of(name, stage, competition):
        return reverse(name, args=[competition.pk, stage] if stage else [competition.pk])

    print(
        f"\nPolls with If-None-Match, {runs} runs x {n} requests each (in-process, django.test.Client); "
        f"target < {POLL_TARGET_MS:g} ms and constant queries; {load()}"
    )
    header = f"{'poll':<38}{'case':<11}{'status':>7}{'median':>9}{'worst run':>11}{'queries':>9}{'tiny':>6}  result"
    print(header)
    print("-" * len(header))
    clients, competition, changer = big
    tiny_clients, tiny_competition, tiny_changer = tiny
    # The floor: a view that does nothing (answers 204), through the same middlewares (session, user, session
    # policy, language), so a busy machine's figures can be read against it.
    floor = []
    for _ in range(runs):
        times = []
        for _ in range(n):
            ms, response = poll_once(clients["staff"], FLOOR_URL, None)
            assert response.status_code == 204
            times.append(ms)
        floor.append(statistics.median(times))
    print(
        f"{'(floor: an empty view, same middlewares)':<49}{'204':>7}{statistics.median(floor):8.2f}ms{max(floor):9.2f}ms"
    )
    for label, name, stage, who in POLLS:
        url = url_of(name, stage, competition)
        tiny_url = url_of(name, stage, tiny_competition)
        for case, change, tiny_change in (("unchanged", None, None), ("changed", changer, tiny_changer)):
            medians, statuses = [], set()
            measure_poll(clients[who], url, 3, change)  # warm up
            for _ in range(runs):
                times, seen = measure_poll(clients[who], url, n, change)
                medians.append(statistics.median(times))
                statuses |= seen
            n_queries = poll_queries(clients[who], url, change)
            tiny_queries = poll_queries(tiny_clients[who], tiny_url, tiny_change)
            median = statistics.median(medians)
            ok = median < POLL_TARGET_MS and n_queries == tiny_queries
            print(
                f"{label:<38}{case:<11}{'/'.join(str(s) for s in sorted(statuses)):>7}{median:8.2f}ms"
                f"{max(medians):9.2f}ms{n_queries:9d}{tiny_queries:6d}  {'PASS' if ok else 'MISS'}"
            )
    print(load())


def load():
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} (/proc/loadavg) on {os.cpu_count()} CPUs"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=50, help="timed requests per page (default 50)")
    parser.add_argument("--proposals", type=int, default=12)
    parser.add_argument("--judges", type=int, default=9)
    parser.add_argument("--runs", type=int, default=5, help="runs of the poll measurements (default 5)")
    parser.add_argument("--poll-n", type=int, default=30, help="polls per run and case (default 30)")
    parser.add_argument("--polls-only", action="store_true", help="measure the polls only, not the pages")
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="venture-bench-"))
    try:
        configure(data_dir)
        from django.core.management import call_command
        from django.test import Client
        from django.urls import reverse

        call_command("migrate", verbosity=0, interactive=False)
        print(load())
        started = time.perf_counter()
        staff, competition, n_assignments, n_submitted = build(args.proposals, args.judges)
        tiny_staff, tiny_competition, _a, _s = build(3, 3, prefix="tiny")
        client = Client()
        client.force_login(staff)
        pk = competition.pk
        print(
            f"{args.proposals} finalists x {args.judges} judges: {n_assignments} assignments, 1 recused, "
            f"{n_submitted} sheets submitted (built in {time.perf_counter() - started:.0f} s); SQLite in {data_dir}"
        )
        if not args.polls_only:
            pages = [
                ("board page", reverse("judging:board", args=[pk, "final"])),
                ("board cells (htmx partial)", reverse("judging:board_cells", args=[pk, "final"])),
                ("progress page", reverse("judging:progress", args=[pk, "final"])),
                ("projector state (JSON)", reverse("judging:projector_state", args=[pk])),
                ("big-screen board cells", reverse("judging:hall_board_cells", args=[pk])),
                ("judge's day state (JSON)", reverse("judging:day_state", args=[pk])),
            ]
            print(f"\nPages without If-None-Match, N={args.n} requests each")
            print(f"{'page':<30}{'median ms':>11}{'p95 ms':>10}{'queries':>9}")
            for label, url in pages:
                median, p95, n_queries = measure(client, url, args.n)
                print(f"{label:<30}{median:>11.1f}{p95:>10.1f}{n_queries:>9}")

        def clients_for(prefix, staff_user):
            from venture.accounts.models import User

            by_who = {"staff": Client(), "judge": Client()}
            by_who["staff"].force_login(staff_user)
            by_who["judge"].force_login(User.objects.get(username=f"{prefix}_judge01"))
            return by_who

        bench_polls(
            (clients_for("bench", staff), competition, Changer(competition, staff)),
            (clients_for("tiny", tiny_staff), tiny_competition, Changer(tiny_competition, tiny_staff)),
            args.runs,
            args.poll_n,
        )
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
