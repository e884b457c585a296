"""Load test on loopback: gunicorn (2+ workers, 4 threads each) on a fresh database, 50 judges scoring and 100
applicants saving drafts at the same time, then a count in the database that no write was lost or duplicated.

What it does:
  1. a fresh database: SQLite in a temporary data folder (default), or the empty PostgreSQL database given with
     --database-url (create one first: createdb -h 127.0.0.1 -p 5433 -U venture loadtest_1); migrate;
  2. a round in the final stage with J judges x N finalists, every assignment declared clear, and an open round with
     A applicants, each owning an organization with one draft proposal (passwords hashed with the production hasher);
  3. gunicorn on 127.0.0.1 (a free port) with --workers W --threads T, its log captured to a file;
  4. every client logs in with a real session and CSRF token (login phase, timed separately), then for --duration
     seconds (at most 600) the judge clients score their finalists in presentation order — GET the sheet, POST a
     draft with the version from the form, again, then submit — and the applicant clients GET their proposal's edit
     page and POST a draft with the version from the form, over and over. Threads and http.client, no new dependency;
  5. afterwards: 5xx count, "database is locked" in the server log, and in the database: every proposal's version is
     1 + its number of 302 answers and it has exactly that many audit events; every sheet exists once per assignment
     with version = its number of successful saves, submitted exactly when the submit got its 302.

Prints p50/p95/max per endpoint, totals, and PASS/FAIL lines; exit status 0 only when every check passes.
Not part of `make test`. Run from the project root:

    .venv/bin/python bench/load.py                                   # SQLite, 60 s
    .venv/bin/python bench/load.py --database-url postgres://venture@127.0.0.1:5433/loadtest_1
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PASSWORD = "Load-test-2026"
MAX_DURATION = 600
HOST = "127.0.0.1"
IDLE_RECONNECT = 0.5  # seconds: a round-robin client's connection idle longer is opened again (gunicorn keeps 2 s)
CSRF_RE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
VERSION_RE = re.compile(r'name="version" value="(-?\d+)"')
CRITERION_RE = re.compile(r'name="c_(\d+)"')


def environment(data_dir, database_url):
    env = {
        "VENTURE_DATA_DIR": str(data_dir),
        "STATICFILES_STORAGE": "django.contrib.staticfiles.storage.StaticFilesStorage",
        "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
        "DEBUG": "0",
        "ALLOWED_HOSTS": HOST,
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "venture.settings",
    }
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def configure(env):
    os.environ.update(env)
    if "DATABASE_URL" not in env:
        os.environ.pop("DATABASE_URL", None)
    import django

    django.setup()


# --- The data ---------------------------------------------------------------------------------------------------------


def build(n_judges, n_finalists, n_applicants):
    """Both rounds, in bulk; returns what the clients need (usernames, object ids)."""
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command
    from django.db import transaction

    from judging.models import Judge
    from tests import factories
    from venture.accounts.models import User
    from venture.competitions.models import Stage
    from venture.organizations.models import Membership

    call_command("migrate", verbosity=0)
    if User.objects.exists():
        sys.exit("!! the database is not empty; give a freshly created one (createdb …) so nothing is overwritten")
    hashed = make_password(PASSWORD)  # the production hasher, once; every account shares the hash
    with transaction.atomic():
        final = factories.competition(stage=Stage.FINAL, title="压力测试终评")
        finalists = factories.finalists(final, n_finalists)
        users = User.objects.bulk_create(
            [
                User(username=f"load_judge{i:03d}", role="judge", password=hashed, full_name=f"评委{i:03d}")
                for i in range(n_judges)
            ]
        )
        judges = Judge.objects.bulk_create(
            [Judge(user=u, affiliation="示范大学", expertise="professor") for u in users]
        )
        assignments = factories.final_panel(final, judges, finalists)
        open_round = factories.competition(title="压力测试申报")
        applicants = User.objects.bulk_create(
            [
                User(username=f"load_applicant{i:03d}", role="applicant", password=hashed, full_name=f"申报人{i:03d}")
                for i in range(n_applicants)
            ]
        )
        proposals = []
        for i, u in enumerate(applicants):
            org = factories.organization(name=f"压力测试社会组织{i:03d}")
            Membership.objects.create(organization=org, user=u, is_owner=True)
            proposals.append(factories.proposal(open_round, org, title=f"压力测试项目{i:03d}"))
    order = [p.pk for p in finalists]  # presentation order: every judge scores the same finalist at once
    return {
        "judges": [
            (u.username, [assignments[(j.pk, pk)].pk for pk in order]) for u, j in zip(users, judges, strict=True)
        ],
        "applicants": [(u.username, p.pk) for u, p in zip(applicants, proposals, strict=True)],
        "category": open_round.categories.first().pk,
        "budget_category": open_round.budget_categories.get(name="活动经费").pk,
        "period": (open_round.project_start_earliest, open_round.project_start_earliest + timedelta(days=180)),
    }


# --- The server -------------------------------------------------------------------------------------------------------


def free_port():
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def start_server(env, port, workers, threads, log_path):
    gunicorn = Path(sys.executable).with_name("gunicorn")
    log = open(log_path, "wb")  # noqa: SIM115 - closed in stop_server
    proc = subprocess.Popen(
        [
            str(gunicorn),
            "venture.wsgi:application",
            "--bind",
            f"{HOST}:{port}",
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--timeout",
            "120",
            "--graceful-timeout",
            "10",
            "--error-logfile",
            "-",
        ],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"!! gunicorn exited with {proc.returncode}; see {log_path}")
        try:
            conn = http.client.HTTPConnection(HOST, port, timeout=5)
            conn.request("GET", "/accounts/login/")
            if conn.getresponse().status == 200:
                conn.close()
                return proc, log
        except OSError:
            time.sleep(0.3)
    stop_server(proc, log)
    sys.exit("!! gunicorn did not answer within 60 s")


def worker_rss_mb(proc):
    """Resident memory of each gunicorn worker (children of the master), in MB."""
    out = subprocess.run(["ps", "--ppid", str(proc.pid), "-o", "rss="], capture_output=True, text=True).stdout
    return [int(kb) // 1024 for kb in out.split()]


def worker_cpu_seconds(proc):
    """CPU time (user + system) used so far by gunicorn's workers."""
    out = subprocess.run(["ps", "--ppid", str(proc.pid), "-o", "pid="], capture_output=True, text=True).stdout
    total = 0
    for pid in out.split():
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of the whole line)
    return total / os.sysconf("SC_CLK_TCK")


def stop_server(proc, log):
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)  # the group gunicorn leads: its master and workers, nothing else
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    log.close()


# --- The clients ------------------------------------------------------------------------------------------------------


@dataclass
class Results:
    timings: dict = field(default_factory=lambda: defaultdict(list))  # endpoint -> [seconds]
    statuses: Counter = field(default_factory=Counter)  # (endpoint, status)
    errors: Counter = field(default_factory=Counter)  # connection errors, timeouts, unparsable pages
    unexpected: list = field(default_factory=list)
    sheet_saves: Counter = field(default_factory=Counter)  # assignment pk -> successful POSTs (302)
    sheet_submitted: set = field(default_factory=set)
    draft_saves: Counter = field(default_factory=Counter)  # proposal pk -> 302 answers
    ready: int = 0  # clients past their login (successful or not)
    # A login costs ~1 s of CPU (PBKDF2): at most workers × threads at once, the rest queue here, not in the backlog.
    login_gate: threading.Semaphore = field(default_factory=lambda: threading.Semaphore(8))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def mark_ready(self):
        with self.lock:
            self.ready += 1

    def note(self, endpoint, status, seconds):
        with self.lock:
            self.timings[endpoint].append(seconds)
            self.statuses[(endpoint, status)] += 1


class Client:
    """One browser: its own keep-alive connection and cookie jar (session + CSRF). ``port`` may be a list of ports
    (several app servers on one database, bench/cluster.py): the requests then go to each in turn, round-robin, on
    one keep-alive connection per server."""

    def __init__(self, port, results):
        self.ports = [port] if isinstance(port, int) else list(port)
        self.port, self.results, self.cookies, self.conn = self.ports[0], results, {}, None
        self.turn, self.conns = 0, {}

    def _next_server(self):
        if len(self.ports) > 1:
            self.conns[self.port] = (self.conn, time.monotonic())
            self.turn += 1
            self.port = self.ports[self.turn % len(self.ports)]
            self.conn, last_used = self.conns.pop(self.port, (None, 0))
            # gunicorn closes a keep-alive connection idle for 2 s: a fresh one rather than a POST on a closed one
            if self.conn is not None and time.monotonic() - last_used > IDLE_RECONNECT:
                self.conn.close()
                self.conn = None

    def request(self, endpoint, method, path, form=None, *, raw=None):
        """``form``: a dict sent url-encoded; ``raw``: (bytes, content type) sent as they are (a multipart upload)."""
        self._next_server()
        body = urllib.parse.urlencode(form) if form is not None else None
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()), "Host": f"{HOST}:{self.port}"}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if raw is not None:
            body, headers["Content-Type"] = raw
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(HOST, self.port, timeout=120)
            started = time.perf_counter()
            sent = False
            try:
                self.conn.request(method, path, body=body, headers=headers)
                sent = True
                response = self.conn.getresponse()
                text = response.read().decode("utf-8", "replace")
            except (ConnectionError, http.client.RemoteDisconnected, http.client.BadStatusLine) as exc:
                self.conn.close()
                self.conn = None
                # A keep-alive connection closed by the server before our request: safe to retry once for a GET, and
                # for any request the server cannot have read (the sending failed: a broken pipe).
                if attempt == 1 and (method == "GET" or not sent):
                    continue
                self.results.errors[f"{endpoint}: {type(exc).__name__}"] += 1
                return None, ""
            except TimeoutError:
                self.conn.close()
                self.conn = None
                self.results.errors[f"{endpoint}: timeout"] += 1
                return None, ""
            self.results.note(endpoint, response.status, time.perf_counter() - started)
            for header in response.headers.get_all("Set-Cookie") or []:
                name, _sep, rest = header.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]
            if response.getheader("Connection", "").lower() == "close":
                self.conn.close()
                self.conn = None
            return response, text
        return None, ""

    def login(self, username):
        response, text = self.request("GET /accounts/login/", "GET", "/accounts/login/")
        token = CSRF_RE.search(text) if response else None
        if not token:
            self.results.errors["login page without CSRF token"] += 1
            return False
        response, _text = self.request(
            "POST /accounts/login/",
            "POST",
            "/accounts/login/",
            {"csrfmiddlewaretoken": token.group(1), "username": username, "password": PASSWORD, "next": "/"},
        )
        ok = response is not None and response.status == 302 and "sessionid" in self.cookies
        if not ok:
            self.results.unexpected.append(("login", username, response.status if response else None))
        return ok

    def close(self):
        for conn in {*(c for c, _t in self.conns.values()), self.conn} - {None}:
            conn.close()


def _stagger(think, rng):
    """With --think, each client's first request comes at a random moment of its first pause, as people who signed
    in earlier do not all click at the same instant; without it (--think 0) every client starts at once."""
    if think:
        time.sleep(rng.uniform(0, think))


def _login(client, username, go):
    try:
        with client.results.login_gate:
            ok = client.login(username)
    finally:
        client.results.mark_ready()
    return ok and go.wait()


def judge_client(port, results, username, assignment_pks, go, stop, think, rng):
    client = Client(port, results)
    try:
        if not _login(client, username, go):
            return
        _stagger(think, rng)
        for pk in assignment_pks:
            path = f"/judging/assignments/{pk}/sheet/"
            for step in ("draft", "draft", "submit"):
                if stop.is_set():
                    return
                response, text = client.request("GET sheet", "GET", path)
                token, version = CSRF_RE.search(text), VERSION_RE.search(text)
                criteria = CRITERION_RE.findall(text)
                if response is None or response.status != 200 or not (token and version and criteria):
                    results.errors["sheet page unusable"] += 1
                    return
                form = {
                    "csrfmiddlewaretoken": token.group(1),
                    "version": version.group(1),
                    "comment": f"{username} 第{step}次评分意见",
                }
                form.update({f"c_{c}": str(rng.randint(10, 20)) for c in criteria})
                if step == "submit":
                    form["submit"] = "1"
                endpoint = f"POST sheet ({step})"
                response, _text = client.request(endpoint, "POST", path, form)
                if response is None:
                    return
                location = response.getheader("Location", "")
                expected = "/" if step == "submit" else path
                if response.status == 302 and location == expected:
                    with results.lock:
                        results.sheet_saves[pk] += 1
                        if step == "submit":
                            results.sheet_submitted.add(pk)
                else:
                    results.unexpected.append((endpoint, username, pk, response.status, location))
                    return
                if think:
                    time.sleep(rng.uniform(0, think))
    finally:
        client.close()


def proposal_form(token, version, title, data, people, n, price):
    """A draft save of the applicant's proposal with one budget line (also bench/profile_requests.py's)."""
    return {
        "csrfmiddlewaretoken": token,
        "version": version,
        "title": title,
        "category": data["category"],
        "target_group": "外卖骑手",
        "people_to_serve": str(people),
        "service_area": "示范市",
        "needs": f"第{n}次保存的需求分析",
        "objectives": "目标",
        "activities": "活动",
        "team": "团队",
        "period_start": data["period"][0].isoformat(),
        "period_end": data["period"][1].isoformat(),
        "requested_amount": str(price * 100),
        "cofunding_amount": "0",
        "lines-TOTAL_FORMS": "1",
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "200",
        "lines-0-category": data["budget_category"],
        "lines-0-item": "场地",
        "lines-0-unit": "次",
        "lines-0-unit_price": str(price),
        "lines-0-quantity": "100",
        "lines-0-note": "",
        "milestones-TOTAL_FORMS": "0",
        "milestones-INITIAL_FORMS": "0",
        "indicators-TOTAL_FORMS": "0",
        "indicators-INITIAL_FORMS": "0",
    }


def applicant_client(port, results, username, proposal_pk, data, go, stop, think, rng):
    client = Client(port, results)
    path = f"/proposals/{proposal_pk}/edit/"
    try:
        if not _login(client, username, go):
            return
        _stagger(think, rng)
        n = 0
        while not stop.is_set():
            response, text = client.request("GET proposal edit", "GET", path)
            token, version = CSRF_RE.search(text), VERSION_RE.search(text)
            if response is None or response.status != 200 or not (token and version):
                results.errors["proposal edit page unusable"] += 1
                return
            n += 1
            price = rng.randint(100, 900)
            form = proposal_form(
                token.group(1), version.group(1), f"压力测试项目 {username}", data, rng.randint(50, 500), n, price
            )
            response, _text = client.request("POST proposal edit", "POST", path, form)
            if response is None:
                return
            if response.status == 302 and response.getheader("Location", "") == path:
                with results.lock:
                    results.draft_saves[proposal_pk] += 1
            else:
                results.unexpected.append(("POST proposal edit", username, proposal_pk, response.status))
                return
            if think:
                time.sleep(rng.uniform(0, think))
    finally:
        client.close()


def client_threads(port, results, data, go, stop, think, rng):
    """The judge and applicant clients as (unstarted) threads; ``port``: one port or a list (round-robin)."""
    threads = []
    for username, pks in data["judges"]:
        threads.append(
            threading.Thread(
                target=judge_client,
                daemon=True,
                args=(port, results, username, pks, go, stop, think, random.Random(rng.random())),
            )
        )
    for username, pk in data["applicants"]:
        threads.append(
            threading.Thread(
                target=applicant_client,
                daemon=True,
                args=(port, results, username, pk, data, go, stop, think, random.Random(rng.random())),
            )
        )
    return threads


def load_checks(results, log_text, draft_problems, sheet_problems, threads):
    """The checks of a run as (label, passed, detail): answers, the servers' log, and the writes in the database."""
    locked = log_text.count("database is locked")
    tracebacks = log_text.count("Traceback (most recent call last)")
    five_xx = sum(n for (_e, s), n in results.statuses.items() if s >= 500)
    return [
        ("no 5xx answers", five_xx == 0, f"{five_xx} answers ≥ 500"),
        ('no "database is locked" in the server log', locked == 0, f"{locked} occurrences"),
        ("no tracebacks in the server log", tracebacks == 0, f"{tracebacks} tracebacks"),
        ("no connection errors or timeouts", not results.errors, dict(results.errors)),
        ("every login and every POST answered as expected", not results.unexpected, results.unexpected[:5]),
        (
            "draft saves: version = 1 + 302s, one audit event each, no lost or duplicated write",
            not draft_problems,
            draft_problems[:5],
        ),
        (
            "score sheets: one per assignment, version = saves, submitted exactly when answered",
            not sheet_problems,
            sheet_problems[:5],
        ),
        ("every client finished", not any(t.is_alive() for t in threads), "stuck threads"),
    ]


# --- Verification ------------------------------------------------------------------------------------------------------


def verify(data, results, sheet_events_before=0):
    """Count in the database: (problems with drafts, problems with sheets, facts). ``sheet_events_before``: sheet
    audit events that were there before the load (another round's, built beside it)."""
    from django.db import connections
    from django.db.models import Count

    from judging.models import Assignment, ScoreSheet, SheetStatus
    from venture.audit.models import AuditEvent
    from venture.proposals.models import BudgetLine, Proposal

    connections.close_all()  # fresh reads after the server's writes
    draft_problems = []
    proposal_pks = [pk for _u, pk in data["applicants"]]
    versions = dict(Proposal.objects.filter(pk__in=proposal_pks).values_list("pk", "version"))
    audit = Counter(
        dict(
            AuditEvent.objects.filter(action="proposal.save_draft", object_id__in=[str(pk) for pk in proposal_pks])
            .values_list("object_id")
            .annotate(n=Count("id"))
            .values_list("object_id", "n")
        )
    )
    lines = dict(
        BudgetLine.objects.filter(proposal__in=proposal_pks)
        .values_list("proposal")
        .annotate(n=Count("id"))
        .values_list("proposal", "n")
    )
    for pk in proposal_pks:
        saves = results.draft_saves[pk]
        if versions[pk] != 1 + saves:
            kind = "lost" if versions[pk] < 1 + saves else "duplicated"
            draft_problems.append(f"proposal {pk}: version {versions[pk]} after {saves} saves ({kind})")
        if audit[str(pk)] != saves:
            draft_problems.append(f"proposal {pk}: {audit[str(pk)]} audit events for {saves} saves")
        if saves and lines.get(pk, 0) != 1:
            draft_problems.append(f"proposal {pk}: {lines.get(pk, 0)} budget lines, expected 1")

    sheet_problems = []
    assignment_pks = [pk for _u, pks in data["judges"] for pk in pks]
    sheets = {
        s["assignment_id"]: s
        for s in ScoreSheet.objects.filter(assignment__in=assignment_pks)
        .values("assignment_id", "version", "status")
        .annotate(n_scores=Count("scores"))
    }
    per_assignment = Counter(
        ScoreSheet.objects.filter(assignment__in=assignment_pks).values_list("assignment_id", flat=True)
    )
    duplicates = [pk for pk, n in per_assignment.items() if n > 1]
    if duplicates:
        sheet_problems.append(f"{len(duplicates)} assignments with more than one sheet")
    n_criteria = Assignment.objects.get(pk=assignment_pks[0]).panel.competition.criteria.count()
    for pk in assignment_pks:
        saves, sheet = results.sheet_saves[pk], sheets.get(pk)
        if saves == 0:
            if sheet is not None:
                sheet_problems.append(f"assignment {pk}: a sheet nobody saved")
            continue
        if sheet is None:
            sheet_problems.append(f"assignment {pk}: {saves} saves but no sheet (lost)")
            continue
        if sheet["version"] != saves:
            sheet_problems.append(f"assignment {pk}: version {sheet['version']} after {saves} saves")
        submitted = pk in results.sheet_submitted
        if (sheet["status"] == SheetStatus.SUBMITTED) != submitted:
            sheet_problems.append(f"assignment {pk}: status {sheet['status']}, submit answered: {submitted}")
        if sheet["n_scores"] != n_criteria:
            sheet_problems.append(f"assignment {pk}: {sheet['n_scores']} scores, expected {n_criteria}")
    sheet_events = AuditEvent.objects.filter(action__in=["sheet.save", "sheet.submit"]).count() - sheet_events_before
    if sheet_events != sum(results.sheet_saves.values()):
        sheet_problems.append(f"{sheet_events} sheet audit events for {sum(results.sheet_saves.values())} saves")
    facts = {
        "sheets in the database": len(sheets),
        "submitted sheets in the database": ScoreSheet.objects.filter(
            assignment__in=assignment_pks, status=SheetStatus.SUBMITTED
        ).count(),
        "draft versions in the database (sum of version - 1)": sum(v - 1 for v in versions.values()),
    }
    return draft_problems, sheet_problems, facts


# --- Report ------------------------------------------------------------------------------------------------------------


def pct(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


def report(results, elapsed, login_seconds, load_before):
    print(f"\n{'endpoint':<26}{'count':>8}{'p50 ms':>10}{'p95 ms':>10}{'max ms':>10}   statuses")
    for endpoint in sorted(results.timings):
        values = results.timings[endpoint]
        statuses = ", ".join(f"{s}×{n}" for (e, s), n in sorted(results.statuses.items()) if e == endpoint)
        print(
            f"{endpoint:<26}{len(values):>8}{pct(values, 50) * 1000:>10.0f}{pct(values, 95) * 1000:>10.0f}"
            f"{max(values) * 1000:>10.0f}   {statuses}"
        )
    timed = sum(len(v) for e, v in results.timings.items() if "login" not in e)
    print(
        f"\nload average (1 min) before/after: {load_before:.1f} / {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs "
        "(the clients run on the same machine as the server)"
    )
    print(
        f"login phase: {login_seconds:.1f} s; load phase: {elapsed:.1f} s, {timed} requests, "
        f"{timed / elapsed:.1f} requests/s"
    )
    print(f"draft saves answered 302: {sum(results.draft_saves.values())} on {len(results.draft_saves)} proposals")
    print(
        f"sheet saves answered 302: {sum(results.sheet_saves.values())} "
        f"({len(results.sheet_submitted)} submitted) on {len(results.sheet_saves)} assignments"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", help="an EMPTY PostgreSQL database (default: SQLite in a temp folder)")
    parser.add_argument("--duration", type=float, default=60, help=f"seconds of load (at most {MAX_DURATION})")
    parser.add_argument("--judges", type=int, default=50)
    parser.add_argument("--finalists", type=int, default=12)
    parser.add_argument("--applicants", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--think", type=float, default=0.0, help="max random pause between a client's requests (s)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--keep", action="store_true", help="keep the temporary data folder and server log")
    args = parser.parse_args()
    if not 0 < args.duration <= MAX_DURATION:
        parser.error(f"--duration must be between 0 and {MAX_DURATION} seconds")
    if args.workers < 2:
        parser.error("--workers must be at least 2 (the point is several processes sharing one database)")
    if args.database_url and urllib.parse.urlparse(args.database_url).hostname not in ("127.0.0.1", "localhost", "::1"):
        parser.error("loopback only: the database must be on 127.0.0.1")

    data_dir = Path(tempfile.mkdtemp(prefix="venture-load-"))
    env = environment(data_dir, args.database_url)
    configure(env)
    from django.db import connection, connections

    engine = connection.vendor
    load_before = os.getloadavg()[0]
    print(
        f">> {engine} ({args.database_url or data_dir / 'venture.sqlite3'}); gunicorn {args.workers} workers × "
        f"{args.threads} threads; {args.judges} judges × {args.finalists} finalists, {args.applicants} applicants, "
        f"{args.duration:.0f} s"
    )
    started = time.monotonic()
    data = build(args.judges, args.finalists, args.applicants)
    connections.close_all()
    print(f">> data built in {time.monotonic() - started:.1f} s")

    port = free_port()
    log_path = data_dir / "server.log"
    proc, log = start_server(env, port, args.workers, args.threads, log_path)
    results = Results(login_gate=threading.Semaphore(args.workers * args.threads))
    rng = random.Random(args.seed)
    n_clients = len(data["judges"]) + len(data["applicants"])
    go, stop = threading.Event(), threading.Event()
    threads = client_threads(port, results, data, go, stop, args.think, rng)
    try:
        login_started = time.monotonic()
        for t in threads:
            t.start()
        login_deadline = login_started + MAX_DURATION
        while results.ready < n_clients and time.monotonic() < login_deadline:
            time.sleep(0.2)
        login_seconds = time.monotonic() - login_started
        cpu_before = worker_cpu_seconds(proc)
        load_started = time.monotonic()
        go.set()
        end = load_started + args.duration
        while time.monotonic() < end and any(t.is_alive() for t in threads):
            time.sleep(0.2)
        stop.set()
        for t in threads:
            t.join(timeout=180)
        elapsed = time.monotonic() - load_started
        rss = worker_rss_mb(proc)
        server_cpu = worker_cpu_seconds(proc) - cpu_before
    finally:
        stop.set()
        go.set()
        stop_server(proc, log)

    log_text = log_path.read_text(errors="replace")
    report(results, elapsed, login_seconds, load_before)
    print(f"gunicorn worker memory after the run: {', '.join(f'{mb} MB' for mb in rss)}")
    timed = sum(len(v) for e, v in results.timings.items() if "login" not in e)
    if timed:
        per_request = server_cpu / timed
        print(
            f"server CPU in the load phase: {server_cpu:.1f} s for {timed} requests = {per_request * 1000:.0f} ms "
            f"a request (workers only; PostgreSQL's own CPU not included) → about {1 / per_request:.0f} requests/s "
            "per core when the machine is not shared"
        )
    draft_problems, sheet_problems, facts = verify(data, results)
    for k, v in facts.items():
        print(f"{k}: {v}")

    checks = load_checks(results, log_text, draft_problems, sheet_problems, threads)
    print()
    for label, ok, detail in checks:
        print(f"{'PASS' if ok else 'FAIL'}  {label}" + ("" if ok else f"  — {detail}"))
    passed = all(ok for _l, ok, _d in checks)
    print(f"{'PASS' if passed else 'FAIL'}  overall ({engine})")
    if args.keep or not passed:
        print(f">> data folder and server log kept in {data_dir}")
    else:
        shutil.rmtree(data_dir, ignore_errors=True)
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
