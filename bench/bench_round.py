"""A provincial-size round, every page and export measured: 500 proposals x 15 judges x 4 criteria, 200 funded
projects with 2,000 ledger rows each (400,000 expenditure rows).

Builds the round with ``manage.py generate_round`` (its phase times are printed) in a fresh database: SQLite in a
temporary data folder, or a new PostgreSQL database created next to the one ``--database-url`` names (dropped
afterwards). A tiny round (6 x 5 x 4) is generated beside it, so that each page's query count can be compared
between the two sizes: a list page must issue the same number of queries whatever the size of the round.

Then, for each page, through django.test.Client (in-process): the median and 95th percentile of N warm requests,
the SQL queries of one request (big round and tiny round) and the peak of Python allocations during one request
(tracemalloc). Then the same URLs through gunicorn (2 workers, a free port, the same data), logged in over HTTP with
urllib (session cookie + CSRF token): median and p95, and the peak resident memory of each worker (VmHWM). Each
line is compared with the issue's targets and marked PASS or MISS (on the median); a URL name that does not exist
yet is skipped with a message. Figures, not a timed test: run it by hand.

The results PDF is kept per frozen snapshot once rendered: its cache is emptied before every request, so its figures
are of fresh renderings (and gunicorn's first one, which starts the worker's PDF fork server, is printed apart).
WeasyPrint runs in a child process per PDF (venture.pdf): the peak resident memory of those children, from
venture.pdf's log, and of each worker's fork server are printed beside the workers'.

National scale (issue #20): ``--national`` builds 5,000 proposals pre-scored by 5 of 60 judges (25,000 sheets,
100,000 score rows), 100 finalists scored by 15 judges and 2,000 funded projects with 1,000 ledger rows each (2
million rows; the funded beyond the finalists come from a first batch, see generate_round), and measures the
issue's targets instead of the provincial pages: the build (< 3 min), the additive pre-ranking (< 2 s), the staff
proposal list (< 0.15 s), the pre-scoring results page (first page, a search, a deep page; < 0.5 s, constant
queries), the pre-scoring score-matrix export (< 3 s), the portfolio (< 0.5 s) and the gunicorn workers' peak
memory (< 300 MB). ``--scale 0.1`` builds a tenth of it (proposals, finalists, funded) to iterate quickly. CPU
time of this process (which serves the in-process requests) is printed beside each wall time.

Run from the project root:
    .venv/bin/python bench/bench_round.py [--n 10] [--n-heavy 3] [--proposals 500] [--judges 15] [--criteria 4]
        [--funded 200] [--ledger-rows 2000] [--database-url postgres://venture@127.0.0.1:5433/venture]
        [--db-prefix venture_bench] [--no-gunicorn] [--keep] [--reuse DIR] [--national [--scale 0.1]]
(--keep leaves the data folder; --reuse DIR measures that SQLite round again without rebuilding it.)
"""

from __future__ import annotations

import argparse
import http.cookiejar
import logging
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PASSWORD = "Bench-round-2026"
TINY_TITLE = "生成的小型对照轮次"  # the tiny round beside the big one, to compare query counts
MB = 1024 * 1024
LAST_CPU = [0.0]  # the median CPU time (this process) of the last in_process() measurement

# (label, URL name, URL arguments, who, heavy, target seconds, target wants constant queries[, query string])
PAGES = [
    ("results page (all proposals, diagnostics)", "results:results", ("pk",), "staff", False, 0.5, True),
    ("staff proposal list (page of 50)", "proposals:list", ("pk",), "staff", False, 0.15, False),
    ("judge's assignment list (home /)", "home", (), "judge", False, None, False),
    ("live board (final)", "judging:board", ("pk", "final"), "staff", False, None, False),
    ("live board cells (htmx poll every 5 s)", "judging:board_cells", ("pk", "final"), "staff", False, None, False),
    ("progress page (final)", "judging:progress", ("pk", "final"), "staff", False, None, False),
    ("score-matrix xlsx", "documents:scores", ("pk",), "staff", True, 2.0, False),
    ("ranking xlsx", "documents:ranking", ("pk",), "staff", True, None, False),
    ("results report PDF", "results:report_pdf", ("pk",), "staff", True, 5.0, False),
    ("portfolio dashboard", "supervision:portfolio", ("pk",), "staff", False, 0.3, False),
]
# The national targets (issue #20); the build and the pre-ranking are timed apart (national_figures).
NATIONAL_PAGES = [
    ("staff proposal list (page of 50)", "proposals:list", ("pk",), "staff", False, 0.15, False),
    ("pre-scoring results, page 1", "judging:ranking", ("pk", "prescoring"), "staff", False, 0.5, True),
    (
        "pre-scoring results, a deep page",
        "judging:ranking",
        ("pk", "prescoring"),
        "staff",
        False,
        0.5,
        True,
        "?page=40",
    ),
    (
        "pre-scoring results, searched",
        "judging:ranking",
        ("pk", "prescoring"),
        "staff",
        False,
        0.5,
        True,
        "?q=%E6%B3%95%E5%BE%8B",
    ),  # ?q=法律
    ("score matrix, pre-scoring (xlsx)", "documents:scores", ("pk",), "staff", True, 3.0, False, "?stage=prescoring"),
    (
        "score matrix, pre-scoring (csv)",
        "documents:scores",
        ("pk",),
        "staff",
        True,
        3.0,
        False,
        "?stage=prescoring&format=csv",
    ),
    ("portfolio (every round)", "supervision:portfolio", (), "staff", False, 0.5, False),
    ("portfolio, page 2", "supervision:portfolio", (), "staff", False, 0.5, False, "?page=2"),
    ("portfolio, searched", "supervision:portfolio", (), "staff", False, 0.5, False, "?q=%E6%B3%95%E5%BE%8B"),  # 法律
]
NATIONAL = {
    "proposals": 5000,
    "judges": 60,
    "prescoring_k": 5,
    "finalists": 100,
    "final_judges": 15,
    "funded": 2000,
    "ledger_rows": 1000,
}
BUILD_TARGET = 180.0
PRERANKING_TARGET = 2.0
FIRST_BATCH = "（第一批）"
WORKER_MEMORY_TARGET_MB = 300
# Pages whose response is kept in the data folder after the first request (URL name -> folder): the folder is emptied
# before every request of that page, so the figures are of a fresh rendering, what the first reader waits for.
RENDERED_ONCE = {"results:report_pdf": "cache/results"}
# The score matrix is written by a task and kept in the storage (venture.documents.score_matrix): the run uses the
# immediate backend, so one request is the request and the task's run; its kept files and rows are removed before
# every request (as the results PDF's cache), so each is timed end to end, enqueue to download.
RENDERED_ONCE["documents:scores"] = "media/exports"
# venture.pdf renders in a child process and logs its peak resident memory (INFO, logger "venture.pdf"): reported
# beside the worker's, since that memory is no longer the worker's.
RENDERER_LOG = re.compile(r"rendered in process \d+: .*peak resident memory (\d+) MiB")


class RendererPeaks(logging.Handler):
    """In-process: the peak resident memory (MiB) of each PDF renderer child, from venture.pdf's log records."""

    def __init__(self):
        super().__init__(logging.INFO)
        self.peaks = []

    def emit(self, record):
        if getattr(record, "renderer_peak_kib", None):
            self.peaks.append(record.renderer_peak_kib / 1024)


# --- Setting up -------------------------------------------------------------------------------------------------


def fresh_postgres(url, prefix="venture_bench"):
    """Create a new database on the server ``url`` points at; returns (its URL, a function that drops it)."""
    import psycopg

    parts = urllib.parse.urlsplit(url)
    name = f"{prefix}_{os.getpid()}_{int(time.time())}"
    admin = dict(
        host=parts.hostname,
        port=parts.port or 5432,
        user=urllib.parse.unquote(parts.username or ""),
        password=urllib.parse.unquote(parts.password or "") or None,
        dbname=parts.path.lstrip("/") or "postgres",
        autocommit=True,
    )
    with psycopg.connect(**admin) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop():
        with psycopg.connect(**admin) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return urllib.parse.urlunsplit(parts._replace(path=f"/{name}")), drop


def configure(data_dir, database_url=None):
    """Environment for a throwaway instance (shared with gunicorn); must run before Django reads its settings."""
    os.environ["VENTURE_DATA_DIR"] = str(data_dir)
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    else:
        os.environ.pop("DATABASE_URL", None)
    os.environ["STATICFILES_STORAGE"] = "django.contrib.staticfiles.storage.StaticFilesStorage"
    os.environ["EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"
    os.environ["DEBUG"] = "false"
    os.environ["TASKS_BACKEND"] = "immediate"  # documents rendered inside the request, as measured here
    # ... and not when the generator's audit events make them final (every agreement of a big round, in the build)
    os.environ["DOCUMENTS_PREPARE_WHEN_FINAL"] = "false"
    os.environ.pop("VENTURE_PROFILE", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "venture.settings"

    import django

    django.setup()


def generate(args):
    """The two rounds (built now unless --reuse) and the users who look at them."""
    from venture.accounts.models import User
    from venture.competitions.models import Competition

    if not args.reuse:
        build(args)
    elif not Competition.objects.filter(title=TINY_TITLE).exists():
        build(args, big=False)  # a round built by hand with generate_round: the tiny one beside it
    rounds = {
        "big": Competition.objects.exclude(title=TINY_TITLE).exclude(title__endswith=FIRST_BATCH).get(),
        "tiny": Competition.objects.get(title=TINY_TITLE),
    }
    users = {
        "staff": User.objects.get(username="gen_staff"),
        "judge": User.objects.get(username="gen_judge01"),
        "tiny_judge": User.objects.get(username="tiny_judge01"),
    }
    return rounds, users


def build(args, big=True):
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    national = {}
    if args.national:
        national = {"prescoring_k": 3, "finalists": 3}  # the tiny round has a pre-scoring stage too
    with open(os.devnull, "w") as quiet:
        call_command(
            "generate_round",
            proposals=6,
            judges=5,
            criteria=args.criteria,
            funded=3,
            ledger_rows=4,
            prefix="tiny",
            password=PASSWORD,
            title=TINY_TITLE,
            stdout=quiet,
            **national,
        )
    if not big:
        return
    if args.national:
        national = {
            "prescoring_k": args.prescoring_k,
            "finalists": args.finalists,
            "final_judges": args.final_judges,
        }
    wall, cpu = time.perf_counter(), time.process_time()
    call_command(
        "generate_round",
        proposals=args.proposals,
        judges=args.judges,
        criteria=args.criteria,
        funded=args.funded,
        ledger_rows=args.ledger_rows,
        seed=args.seed,
        prefix="gen",
        password=PASSWORD,
        stdout=sys.stdout,
        **national,
    )
    args.build_times = (time.perf_counter() - wall, time.process_time() - cpu)


def url_for(name, args, pk):
    """The URL, or None when the name is not (yet) in the URLconf."""
    from django.urls import NoReverseMatch, reverse

    values = [pk if a == "pk" else a for a in args]
    for attempt in (values, [], None):
        try:
            return reverse(name, args=attempt) if attempt is not None else reverse(name, kwargs={"competition_pk": pk})
        except NoReverseMatch:
            continue
    return None


# --- Measuring --------------------------------------------------------------------------------------------------


def summary(times):
    p95 = statistics.quantiles(times, n=20, method="inclusive")[18] if len(times) > 1 else times[0]
    return statistics.median(times), p95


def forget(cache):
    """Empty a RENDERED_ONCE folder and forget the stored final documents (None: nothing to do)."""
    if cache is not None:
        from venture.documents.models import StoredDocument

        shutil.rmtree(cache, ignore_errors=True)
        StoredDocument.objects.all().delete()


def in_process(client, url, n, cache=None):
    """Warm requests through the test client: (median s, p95 s, queries, peak MiB of Python allocations, bytes).
    ``cache``: the page's RENDERED_ONCE folder, emptied before each request."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(2):
        forget(cache)
        response = client.get(url)
        if response.status_code != 200:
            raise RuntimeError(f"{url} answered {response.status_code}")
    times, cpu = [], []
    for _ in range(n):
        forget(cache)
        start, start_cpu = time.perf_counter(), time.process_time()
        response = client.get(url)
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    size = size_of(response)
    LAST_CPU[0] = statistics.median(cpu)
    forget(cache)
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    n_queries = len(queries)  # now: the captured list is read from the connection's log, which a request resets
    forget(cache)
    tracemalloc.start()
    tracemalloc.reset_peak()
    client.get(url)
    peak = tracemalloc.get_traced_memory()[1] / MB
    tracemalloc.stop()
    return (*summary(times), n_queries, peak, size)


def size_of(response):
    """The body's bytes, of a streamed file (FileResponse) too."""
    if response.streaming:
        return sum(len(chunk) for chunk in response.streaming_content)
    return len(response.content)


def export_task_child(competition_pk, stage, fmt):
    """In a fresh process (``--export-task-child``): write one score-matrix export as the worker does and print its
    wall and CPU time and this process's peak resident memory (VmHWM) before and after, as JSON."""
    import json

    import django

    django.setup()
    from venture.competitions.models import Competition
    from venture.documents import score_matrix
    from venture.documents.models import StoredDocument

    competition = Competition.objects.get(pk=competition_pk)
    key = {
        "kind": score_matrix.KIND,
        "object_id": competition.pk,
        "state": score_matrix.state_of(stage, fmt, score_matrix.fingerprint(competition, stage)),
        "variant": f"zh-hans:{stage}:{fmt}",
    }
    StoredDocument.objects.filter(**key).delete()
    # VmHWM, not ru_maxrss: Linux keeps in ru_maxrss the peak of the process image before exec, here the parent's
    before = vm(os.getpid(), "VmHWM")
    wall, cpu = time.perf_counter(), time.process_time()
    result = score_matrix.write_score_matrix.func.undecorated(**key)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    after = vm(os.getpid(), "VmHWM")
    StoredDocument.objects.filter(pk=result["document"]).delete()
    print(json.dumps({"wall": wall, "cpu": cpu, "before": before, "peak": after, "rows": result.get("rows")}))


def export_task_memory(competition, n):
    """The score-matrix task of the pre-scoring stage, xlsx and csv, each run ``n`` times in a fresh process: the
    task's wall and CPU time and the process's peak resident memory, against the worker target."""
    import json

    print(f"\nThe score-matrix task alone, each run in a fresh process (median of {n}); peak RSS = VmHWM")
    for fmt in ("xlsx", "csv"):
        runs = []
        for _ in range(n):
            out = subprocess.run(
                [sys.executable, __file__, "--export-task-child", str(competition.pk), "prescoring", fmt],
                cwd=ROOT,
                env=os.environ,
                capture_output=True,
                text=True,
                check=True,
            )
            runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
        wall = statistics.median(r["wall"] for r in runs)
        cpu = statistics.median(r["cpu"] for r in runs)
        peak = max(r["peak"] for r in runs)
        before = statistics.median(r["before"] for r in runs)
        print(
            f"{'score matrix task, pre-scoring (' + fmt + ')':<44}{wall:8.3f}s  CPU {cpu:.3f} s  "
            f"{runs[0]['rows']:,} rows  peak RSS {peak:.0f} MB (before the task {before:.0f} MB, +{peak - before:.0f})"
            f"  < {WORKER_MEMORY_TARGET_MB} MB {'PASS' if peak < WORKER_MEMORY_TARGET_MB else 'MISS'}"
        )


def query_count(client, url, cache=None):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url)
    forget(cache)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    return len(queries) if response.status_code == 200 else None


def load():
    """Other processes competing for the CPUs inflate every figure: say how busy the machine was."""
    one, five, _fifteen = os.getloadavg()
    return f"load average {one:.1f} (1 min), {five:.1f} (5 min) on {os.cpu_count()} CPUs"


def verdict(median, target):
    if target is None:
        return "—"
    return "PASS" if median < target else "MISS"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class HttpSession:
    """A logged-in browser, in urllib: cookie jar, CSRF token from the login form, session cookie after POST."""

    def __init__(self, base):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def get(self, path, timeout=300):
        with self.opener.open(self.base + path, timeout=timeout) as response:
            if "/accounts/login/" in response.geturl() and not path.startswith("/accounts/login/"):
                raise OSError(f"{path} redirected to the login page")
            return response.status, response.read()

    def login(self, username, password):
        _status, body = self.get("/accounts/login/")
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1).decode()
        data = urllib.parse.urlencode(
            {"username": username, "password": password, "csrfmiddlewaretoken": token}
        ).encode()
        request = urllib.request.Request(
            self.base + "/accounts/login/", data=data, headers={"Referer": self.base + "/accounts/login/"}
        )
        with self.opener.open(request, timeout=60) as response:
            response.read()
        if not any(c.name == "sessionid" for c in self.jar):
            raise RuntimeError(f"login as {username} failed")


def worker_pids(master):
    """The child processes of ``master`` (of any of its threads)."""
    children = []
    for task in Path(f"/proc/{master}/task").glob("*"):
        try:
            children += (task / "children").read_text().split()
        except OSError:
            continue
    return [int(pid) for pid in children]


def process_name(pid):
    """What a worker's child process is: multiprocessing's fork server or resource tracker, else its command."""
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return "process"
    for name in ("forkserver", "resource_tracker"):
        if f"multiprocessing.{name}" in command:
            return name.replace("_", " ")
    return command[:40]


def vm(pid, key):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024  # kB -> MiB
    return 0.0


def through_gunicorn(urls, n, n_heavy):
    """Start gunicorn on the same data, log in over HTTP, time each URL; returns (rows, each worker's memory at
    the end, the larger worker's peak before the first URL)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tempfile.TemporaryFile()
    server = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "venture.wsgi:application",
            "--workers",
            "2",
            "--bind",
            f"127.0.0.1:{port}",
            "--timeout",
            "300",
        ],
        cwd=ROOT,
        env={**os.environ, "LOG_LEVEL": "INFO"},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.time() + 60
        while True:
            try:
                urllib.request.urlopen(base + "/accounts/login/", timeout=30).read()
                break
            except OSError:  # refused, reset or timed out while the workers boot
                if time.time() > deadline or server.poll() is not None:
                    log.seek(0)
                    raise RuntimeError("gunicorn did not start:\n" + log.read().decode(errors="replace")) from None
                time.sleep(0.3)
        sessions = {}
        for who, username in (("staff", "gen_staff"), ("judge", "gen_judge01")):
            sessions[who] = HttpSession(base)
            sessions[who].login(username, PASSWORD)
        rows = []
        workers = worker_pids(server.pid)
        start_memory = max((vm(pid, "VmHWM") for pid in workers), default=0.0)
        for label, url, who, heavy, cache in urls:
            session = sessions[who]
            try:
                for i in range(3):  # both workers warm, most likely
                    forget(cache)
                    start = time.perf_counter()
                    session.get(url)
                    if cache is not None and i == 0:
                        print(
                            f"  {label}: first request {time.perf_counter() - start:.2f} s (a worker's first, "
                            "libraries imported on the way)"
                        )
            except OSError as exc:  # urllib's HTTPError for a 4xx/5xx, or a timeout
                rows.append((label, None, None, 0, 0.0))
                print(f"  {label}: {exc!r}")
                continue
            times = []
            for _ in range(n_heavy if heavy else n):
                forget(cache)
                start = time.perf_counter()
                status, _body = session.get(url)
                times.append(time.perf_counter() - start)
                if status != 200:
                    raise RuntimeError(f"{url} answered {status}")
            peak = max((vm(pid, "VmHWM") for pid in workers), default=0.0)  # the larger worker's peak so far
            rows.append((label, *summary(times), len(times), peak))
        memory = [(pid, vm(pid, "VmHWM"), vm(pid, "VmRSS")) for pid in worker_pids(server.pid)]
        # a worker's children: the fork server the PDF renderers are forked from and multiprocessing's resource
        # tracker, which live as long as the worker
        servers = [
            (process_name(child), child, pid, vm(child, "VmHWM"), vm(child, "VmRSS"))
            for pid, *_m in memory
            for child in worker_pids(pid)
        ]
        log.seek(0)
        renderers = [int(m[1]) for m in RENDERER_LOG.finditer(log.read().decode(errors="replace"))]
        return rows, memory, start_memory, servers, renderers
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


# --- The run ----------------------------------------------------------------------------------------------------


def main():
    if sys.argv[1:2] == ["--export-task-child"]:
        return export_task_child(int(sys.argv[2]), sys.argv[3], sys.argv[4])
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=10, help="timed requests per page (default 10)")
    parser.add_argument("--n-heavy", type=int, default=3, help="timed requests per export or PDF (default 3)")
    parser.add_argument("--proposals", type=int, default=500)
    parser.add_argument("--judges", type=int, default=15)
    parser.add_argument("--criteria", type=int, default=4)
    parser.add_argument("--funded", type=int, default=200)
    parser.add_argument("--ledger-rows", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--database-url", default="", help="postgres://… : run on a new database on that server")
    parser.add_argument("--db-prefix", default="venture_bench", help="name prefix of the new PostgreSQL database")
    parser.add_argument("--national", action="store_true", help="the national round of issue #20 and its targets")
    parser.add_argument("--scale", type=float, default=1.0, help="with --national: a fraction of the round")
    parser.add_argument("--no-gunicorn", action="store_true", help="skip the measurements through gunicorn")
    parser.add_argument("--keep", action="store_true", help="keep the data folder (and PostgreSQL database)")
    parser.add_argument(
        "--reuse",
        metavar="DIR",
        default="",
        help="measure again the round a --keep run left in DIR (no build; DIR is kept); with --database-url, the "
        "round in that PostgreSQL database (made with generate_round; the tiny round is added when missing)",
    )
    args = parser.parse_args()
    args.prescoring_k = args.finalists = args.final_judges = 0
    args.build_times = None
    if args.national:
        for key, value in NATIONAL.items():
            scaled = key in ("proposals", "finalists", "funded")
            setattr(args, key, max(10, round(value * args.scale)) if scaled else value)

    data_dir = Path(
        args.reuse or tempfile.mkdtemp(prefix="venture-bench-round-")
    ).resolve()  # the same for gunicorn (cwd ROOT)
    args.keep = args.keep or bool(args.reuse)
    drop = None
    database_url = None
    if args.database_url and not args.reuse:
        database_url, drop = fresh_postgres(args.database_url, args.db_prefix)
    elif args.database_url:  # --reuse with a database: measure the round in that database (kept)
        database_url = args.database_url
    try:
        configure(data_dir, database_url)
        from django.db import connection, connections
        from django.test import Client

        where = (
            f"PostgreSQL {connection.pg_version // 10000} ({database_url.rsplit('/', 1)[-1]})"
            if connection.vendor == "postgresql"
            else f"SQLite in {data_dir}"
        )
        print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, {where}; {load()}")
        rounds, users = generate(args)
        big, tiny = rounds["big"], rounds["tiny"]

        clients = {}
        for who in ("staff", "judge", "tiny_judge"):
            clients[who] = Client()
            clients[who].force_login(users[who])

        print(
            f"\nIn-process (django.test.Client), {args.n} warm requests per page, {args.n_heavy} per export/PDF; "
            "PASS/MISS on the median"
        )
        header = (
            f"{'page':<44}{'median':>9}{'p95':>9}{'queries':>9}{'tiny':>6}  {'py peak':>8}{'size':>9}  "
            f"{'target':<24}result"
        )
        print(header)
        print("-" * len(header))
        measured, missing = [], []
        renderer_peaks = RendererPeaks()
        logging.getLogger("venture.pdf").addHandler(renderer_peaks)
        logging.getLogger("venture.pdf").setLevel(logging.INFO)
        logging.getLogger("venture.pdf").propagate = False
        if args.national:
            national_figures(args, big)
        for label, name, url_args, who, heavy, target, constant, *query in NATIONAL_PAGES if args.national else PAGES:
            query = query[0] if query else ""
            url = url_for(name, url_args, big.pk)
            if url is not None:
                url += query
            if url is None:
                missing.append((label, name))
                print(f"{label:<44}  skipped: URL name “{name}” does not exist yet")
                continue
            try:
                cache = data_dir / RENDERED_ONCE[name] if name in RENDERED_ONCE else None
                median, p95, n_queries, peak, size = in_process(
                    clients[who], url, args.n_heavy if heavy else args.n, cache
                )
                child_peaks = list(renderer_peaks.peaks)
            except Exception as exc:  # a page that fails is reported, and the others still measured
                print(f"{label:<44}  failed: {exc!r}")
                continue
            tiny_url = url_for(name, url_args, tiny.pk) + query
            tiny_queries = query_count(clients["tiny_judge" if who == "judge" else who], tiny_url, cache)
            result = verdict(median, target)
            target_text = "" if target is None else f"< {target:g} s"
            if constant:
                target_text += ", const. queries"
                if tiny_queries != n_queries:
                    result = "MISS"
            print(
                f"{label:<44}{median:8.3f}s{p95:8.3f}s{n_queries:9d}{tiny_queries if tiny_queries is not None else '?':>6}"
                f"  {peak:6.1f}MB{size / 1024:7.0f}KB  {target_text or '—':<24}{result}"
                f"  (CPU {LAST_CPU[0]:.3f} s)"
            )
            measured.append((label, url, who, heavy, target, cache))
            if child_peaks:
                print(
                    f"{'  (in its PDF renderer child processes)':<83}{max(child_peaks):6.1f}MB resident (VmHWM), "
                    f"the largest of {len(child_peaks)}"
                )
            renderer_peaks.peaks.clear()

        if missing:
            portfolio_direct(big)
        if args.national:
            export_task_memory(big, args.n_heavy)
        print(load())
        connections.close_all()

        if args.no_gunicorn:
            return
        print("\nThrough gunicorn (2 workers), logged in over HTTP with urllib; PASS/MISS on the median")
        rows, memory, start_memory, servers, renderers = through_gunicorn(
            [(label, url, who, heavy, cache) for label, url, who, heavy, _t, cache in measured], args.n, args.n_heavy
        )
        header = f"{'page':<44}{'median':>9}{'p95':>9}{'n':>4}  {'target':<10}{'result':<8}worker peak so far"
        print(header)
        print("-" * len(header))
        print(f"{'(workers started, after the login page)':<84}{start_memory:6.0f} MB")
        for (label, median, p95, n, peak), (*_rest, target, _cache) in zip(rows, measured, strict=True):
            if median is None:
                print(f"{label:<44}  failed (see above)")
                continue
            target_text = f"< {target:g} s" if target else "—"
            print(
                f"{label:<44}{median:8.3f}s{p95:8.3f}s{n:4d}  {target_text:<10}{verdict(median, target):<8}"
                f"{peak:6.0f} MB"
            )
        for pid, hwm, rss in memory:
            result = "PASS" if hwm < WORKER_MEMORY_TARGET_MB else "MISS"
            print(
                f"{'worker ' + str(pid) + ' peak resident memory (VmHWM)':<44}{hwm:8.0f}MB (now {rss:.0f} MB)  "
                f"< {WORKER_MEMORY_TARGET_MB} MB  {result}"
            )
        if renderers:
            print(
                f"{'PDF renderer child processes (VmHWM)':<44}{max(renderers):8.0f}MB (the largest of "
                f"{len(renderers)}; each ends with its PDF)"
            )
        for name, child, pid, hwm, rss in servers:
            print(
                f"{name + ' ' + str(child) + ' of worker ' + str(pid):<44}{hwm:8.0f}MB (now {rss:.0f} MB; "
                "lives as long as the worker)"
            )
        for label, name in missing:
            print(f"{label:<44}  skipped: URL name “{name}” does not exist yet")
        print(load())
    finally:
        from django.db import connections

        connections.close_all()
        if args.keep:
            print(f"\nKept: data folder {data_dir}" + (f", database {database_url}" if database_url else ""))
        else:
            shutil.rmtree(data_dir, ignore_errors=True)
            if drop:
                drop()


def national_figures(args, competition):
    """The build (timed by build()) and the additive pre-ranking over the pre-scoring sheets, against their targets."""
    from judging import ranking
    from judging.models import PanelStage, ScoreSheet

    if args.build_times:
        wall, cpu = args.build_times
        print(
            f"{'build (generate_round, both batches)':<44}{wall:8.1f}s{'':>9}{'':>9}{'':>6}  {'':>8}{'':>9}  "
            f"{f'< {BUILD_TARGET:g} s':<24}{verdict(wall, BUILD_TARGET)}  (CPU {cpu:.1f} s)"
        )
    sheets = ScoreSheet.objects.filter(
        assignment__panel__competition=competition, assignment__panel__stage=PanelStage.PRESCORING
    ).count()
    times, cpu = [], []
    for _ in range(3):
        start, start_cpu = time.perf_counter(), time.process_time()
        result = ranking.compute(competition, PanelStage.PRESCORING)
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    median, p95 = summary(times)
    label = f"additive pre-ranking ({sheets:,} sheets, {len(result.table):,} ranked)"
    print(
        f"{label:<44}{median:8.3f}s{p95:8.3f}s{'':>9}{'':>6}  {'':>8}{'':>9}  "
        f"{f'< {PRERANKING_TARGET:g} s':<24}{verdict(median, PRERANKING_TARGET)}  (CPU {statistics.median(cpu):.3f} s)"
    )


def portfolio_direct(competition):
    """While the portfolio page is being written, time the query function it will call."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    try:
        from venture.supervision.queries import portfolio
    except ImportError:
        return
    portfolio(competition)
    times = []
    for _ in range(3):
        start = time.perf_counter()
        rows = portfolio(competition)
        times.append(time.perf_counter() - start)
    with CaptureQueriesContext(connection) as queries:
        portfolio(competition)
    n_queries = len(queries)
    median, p95 = summary(times)
    print(
        f"{'  venture.supervision.queries.portfolio()':<44}{median:8.3f}s{p95:8.3f}s{n_queries:9d}        "
        f"({len(rows)} projects, the function alone, 3 calls)"
    )


if __name__ == "__main__":
    main()
