"""Several machines, proven on one (issue #20): PostgreSQL, two gunicorn instances on two ports and two task workers
(``manage.py db_worker``) sharing the database and the media folder, and the load test of bench/load.py driven
through both servers (each client sends its requests to the two ports in turn, round-robin), while a freeze of the
results, a results-report rendering and a 10,000-row ledger import (a background task) happen at the same time.

What it does:
  1. PostgreSQL: a throwaway server of its own (initdb + pg_ctl in the temporary folder, on a free port) or the
     EMPTY database given with --database-url (e.g. on the shared server: createdb -h 127.0.0.1 -p 26543 -U venture
     k20_cluster); migrate, then bench/load.py's data (J judges x N finalists in the final round, A applicants with a
     draft each), a round with every sheet submitted but not yet frozen, and a funded project;
  2. two gunicorn instances (--workers W --threads T each) on two free ports and two ``db_worker`` processes, one data
     folder (so one SECRET_KEY and one media root) and one database for all four;
  3. load.py's clients log in and work for --duration seconds; while they do, the staff freezes the frozen round's
     results over HTTP (which queues its final documents), asks for the results report until it is served (202, then
     200), and the project's owner uploads a 10,000-row ledger file (queued for a worker) and follows its status page;
  4. then waits for the queue to drain, and checks: load.py's checks (no 5xx, no lost or duplicated write, …), every
     task run exactly once (one result per task and arguments, claimed by one worker, none failed), its effects
     counted (one LedgerImport of 10,000 rows and 10,000 entries; one stored document per final state, each file's
     SHA-256 as recorded), and p95 < 300 ms for the pages (GET) — with the load average, since the clients, both
     servers, both workers and PostgreSQL share this machine's CPUs.

Prints PASS/FAIL lines; exit status 0 only when every check passes. Not part of `make test`. From the project root:

    .venv/bin/python bench/cluster.py                         # its own PostgreSQL, 60 s
    .venv/bin/python bench/cluster.py --database-url postgres://venture@127.0.0.1:26543/k20_cluster --duration 30
"""

from __future__ import annotations

import argparse
import atexit
import glob
import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from collections import Counter
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
import load  # noqa: E402 - bench/load.py, beside this script

HOST = load.HOST
LEDGER_ROWS = 10_000
PAGES = ("GET sheet", "GET proposal edit")
P95_TARGET = 0.300
RENDER_TASK = "venture.documents.stored.render_document"
IMPORT_TASK = "venture.supervision.tasks.import_ledger_file"


# --- PostgreSQL --------------------------------------------------------------------------------------------------------


def pg_bin(name):
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}")) or [shutil.which(name)]
    if not found[-1]:
        sys.exit(f"!! {name} not found: install PostgreSQL or give --database-url")
    return found[-1]


def start_postgres(folder):
    """A throwaway server in ``folder`` on a free loopback port (as an unprivileged user when run as root, which
    PostgreSQL refuses); returns (database URL, stop function)."""
    folder.mkdir()
    as_user = []
    if os.geteuid() == 0:
        folder.parent.chmod(0o711)  # mkdtemp's 0700 would keep that user out
        shutil.chown(folder, "nobody")
        as_user = ["runuser", "-u", "nobody", "--"]
    port = load.free_port()
    initdb = [*as_user, pg_bin("initdb"), "-D", str(folder / "data"), "-U", "venture", "--auth=trust", "-E", "UTF8"]
    done = subprocess.run(initdb, capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"!! initdb failed: {done.stderr[-2000:]}")
    options = f"-p {port} -k {folder} -c listen_addresses={HOST} -c fsync=off -c max_connections=200"
    pg_ctl = [*as_user, pg_bin("pg_ctl"), "-D", str(folder / "data"), "-l", str(folder / "server.log"), "-w"]
    subprocess.run([*pg_ctl, "-t", "60", "-o", options, "start"], check=True, capture_output=True)
    subprocess.run([pg_bin("createdb"), "-h", HOST, "-p", str(port), "-U", "venture", "cluster"], check=True)

    def stop():
        subprocess.run([*pg_ctl, "-m", "fast", "stop"], capture_output=True)

    atexit.register(stop)  # also when the run ends early (sys.exit, an exception)
    return f"postgres://venture@{HOST}:{port}/cluster", stop


# --- The data beside load.py's ------------------------------------------------------------------------------------------


def build_background_work(n_proposals, n_judges):
    """A final round with every sheet submitted (to freeze while the load runs) and a funded project (to import a
    ledger into); the logins of its staff and of the project's owner (production password hasher)."""
    from django.contrib.auth.hashers import make_password
    from django.test import override_settings

    from judging import services as judging
    from tests import factories
    from tests.builders import build_funded, day
    from venture.accounts.models import User

    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        c = factories.competition(stage="final", title="集群测试终评")
        judges = [factories.judge(f"cluster_judge{i}") for i in range(n_judges)]
        props = [
            factories.proposal(c, factories.organization(), status="finalist", title=f"集群测试项目{i:02d}")
            for i in range(n_proposals)
        ]
        assignments = factories.final_panel(c, judges, props)
        criteria = [cr.pk for cr in c.criteria.all()]
        rng = random.Random(20)
        for p in props:
            for j in judges:
                judging.save_sheet(
                    assignment=assignments[(j.pk, p.pk)],
                    by=j.user,
                    points={cr: rng.randint(10, 18) for cr in criteria},
                    comment="集群测试",
                    expected_version=0,
                    submit=True,
                )
        funded = build_funded()
    User.objects.filter(pk__in=[funded.staff.pk, funded.owner.pk]).update(password=make_password(load.PASSWORD))
    return {
        "freeze_round": c.pk,
        "staff": funded.staff.username,
        "project": funded.project.pk,
        "owner": funded.owner.username,
        "ledger_day": day(10).isoformat(),  # inside the project's period
    }


def ledger_csv(rows, day):
    header = "日期,预算科目,明细项目,金额,收款方,摘要,凭证号\n"
    lines = [f"{day},活动经费,活动经费项目,1.00,示范市文具店,集群测试物资,CL-{i:05d}" for i in range(1, rows + 1)]
    return (header + "\n".join(lines) + "\n").encode("utf-8")


def multipart(fields, file_field, filename, content, content_type):
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    parts.append(
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{file_field}"; '
            f'filename="{urllib.parse.quote(filename)}"\r\nContent-Type: {content_type}\r\n\r\n'
        ).encode()
        + content
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


# --- The processes -----------------------------------------------------------------------------------------------------


def start_worker(env, log_path):
    log = open(log_path, "wb")  # noqa: SIM115 - closed in stop_process
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "db_worker", "--queue-name", "*", "--interval", "0.5", "--no-reload", "-v1"],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    return proc, log


def stop_process(proc, log):
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)  # the group this process leads: itself and its children, nothing else
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    log.close()


# --- The work beside the load ------------------------------------------------------------------------------------------


def csrf(text, client):
    found = load.CSRF_RE.search(text)
    return found.group(1) if found else client.cookies.get("csrftoken", "")


def staff_work(ports, results, extra, facts):
    """Freeze the round's results, then ask for its results report until it is served."""
    client = load.Client(ports, results)
    try:
        if not client.login(extra["staff"]):
            facts["freeze"] = "login failed"
            return
        page = f"/results/round/{extra['freeze_round']}/results/"
        _response, text = client.request("bg: results page", "GET", page)
        started = time.monotonic()
        response, _text = client.request(
            "bg: POST freeze", "POST", f"{page}freeze/", {"csrfmiddlewaretoken": csrf(text, client)}
        )
        facts["freeze"] = response.status if response else None
        report = f"{page}report.pdf"
        statuses = Counter()
        while time.monotonic() - started < 600:
            response, _text = client.request("bg: results report", "GET", report)
            status = response.status if response else None
            statuses[status] += 1
            if status == 200:
                facts["report served after freeze (s)"] = round(time.monotonic() - started, 1)
                facts["report sha256"] = response.getheader("X-Document-SHA256")
                break
            if status != 202:
                break
            time.sleep(1)
        facts["report answers"] = dict(statuses)
    finally:
        client.close()


def owner_work(ports, results, extra, facts):
    """Upload a 10,000-row ledger file and follow its status page until the worker has imported it."""
    client = load.Client(ports, results)
    try:
        if not client.login(extra["owner"]):
            facts["import"] = "login failed"
            return
        page = f"/supervision/projects/{extra['project']}/ledger/"
        _response, text = client.request("bg: ledger page", "GET", page)
        body = multipart(
            {"csrfmiddlewaretoken": csrf(text, client)},
            "file",
            "集群测试台账.csv",
            ledger_csv(LEDGER_ROWS, extra["ledger_day"]),
            "text/csv",
        )
        started = time.monotonic()
        response, _text = client.request("bg: POST ledger import", "POST", f"{page}import/", raw=body)
        status_url = response.getheader("Location", "") if response else ""
        facts["import upload"] = (response.status if response else None, status_url)
        if not (response and response.status == 302 and "/ledger/import/" in status_url):
            return
        statuses = Counter()
        while time.monotonic() - started < 600:
            response, _text = client.request("bg: ledger import status", "GET", status_url)
            status = response.status if response else None
            statuses[status] += 1
            if status == 302:
                facts["import done after upload (s)"] = round(time.monotonic() - started, 1)
                break
            if status != 202:
                break
            time.sleep(1)
        facts["import status answers"] = dict(statuses)
    finally:
        client.close()


# --- Checks of the background work ---------------------------------------------------------------------------------------


def drain(timeout):
    """Wait until no task is waiting or running; seconds waited (None on timeout)."""
    from django.db import connections
    from django_tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    started = time.monotonic()
    while time.monotonic() - started < timeout:
        pending = DBTaskResult.objects.filter(status__in=[TaskResultStatus.READY, TaskResultStatus.RUNNING]).count()
        if not pending:
            return time.monotonic() - started
        connections.close_all()
        time.sleep(0.5)
    return None


def task_checks(extra, facts):
    from django.core.files.storage import default_storage
    from django.db import connections
    from django_tasks_db.models import DBTaskResult

    from venture.documents.models import StoredDocument
    from venture.supervision.models import Expenditure, LedgerImport

    connections.close_all()
    tasks = list(DBTaskResult.objects.all())
    statuses = Counter(t.status for t in tasks)
    same = Counter((t.task_path, json.dumps(t.args_kwargs, sort_keys=True)) for t in tasks)
    repeated = [key for key, n in same.items() if n > 1]
    claims = Counter(len(t.worker_ids) for t in tasks)
    by_worker = Counter(t.worker_ids[0] for t in tasks if t.worker_ids)
    renders = [t for t in tasks if t.task_path == RENDER_TASK]
    rendered = [t for t in renders if (t.return_value or {}).get("rendered")]
    imports = [t for t in tasks if t.task_path == IMPORT_TASK]
    docs = list(StoredDocument.objects.all())
    bad_files = []
    for doc in docs:
        if doc.status != "ready" or not doc.file or not default_storage.exists(doc.file.name):
            bad_files.append(f"{doc}: {doc.status}")
            continue
        with default_storage.open(doc.file.name, "rb") as handle:
            if hashlib.sha256(handle.read()).hexdigest() != doc.sha256:
                bad_files.append(f"{doc}: SHA-256 differs")
    per_state = Counter((d.kind, d.object_id, d.state, d.variant) for d in docs)
    ledger_imports = list(LedgerImport.objects.filter(project=extra["project"]).values_list("rows", flat=True))
    entries = Expenditure.objects.filter(project=extra["project"]).count()
    report_doc = [d for d in docs if d.kind == "results_report"]
    facts.update(
        {
            "task results by status": dict(statuses),
            "tasks per worker": dict(by_worker),
            "render tasks (rendered / all)": f"{len(rendered)} / {len(renders)}",
            "stored documents by kind": dict(Counter(d.kind for d in docs)),
            "ledger imports (rows)": ledger_imports,
            "ledger entries of the project": entries,
        }
    )
    return [
        ("every task finished successfully (none failed, none left)", set(statuses) <= {"SUCCESSFUL"}, statuses),
        ("each task run exactly once (one result per task and arguments)", not repeated, repeated[:3]),
        ("each task claimed by one worker", set(claims) <= {1}, dict(claims)),
        ("both workers took tasks", len(by_worker) == 2, dict(by_worker)),
        (
            f"the ledger import ran once: one task, one LedgerImport of {LEDGER_ROWS:,} rows, {LEDGER_ROWS:,} entries",
            len(imports) == 1 and ledger_imports == [LEDGER_ROWS] and entries == LEDGER_ROWS,
            (len(imports), ledger_imports, entries),
        ),
        (
            "one stored document per final state, each rendered once (rendering tasks = stored documents)",
            docs and max(per_state.values()) == 1 and len(rendered) == len(docs),
            (len(rendered), len(docs)),
        ),
        ("every stored file is there with the recorded SHA-256", not bad_files, bad_files[:3]),
        (
            "the results report was served as stored (200, its recorded SHA-256)",
            len(report_doc) == 1 and facts.get("report sha256") == report_doc[0].sha256,
            facts.get("report answers"),
        ),
    ]


# --- Main --------------------------------------------------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", help="an EMPTY PostgreSQL database (default: a server of its own)")
    parser.add_argument("--duration", type=float, default=60, help=f"seconds of load (at most {load.MAX_DURATION})")
    parser.add_argument("--judges", type=int, default=50)
    parser.add_argument("--finalists", type=int, default=12)
    parser.add_argument("--applicants", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers of each instance")
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--think", type=float, default=0.0, help="max random pause between a client's requests (s)")
    parser.add_argument("--freeze-proposals", type=int, default=30, help="proposals of the round frozen meanwhile")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder and the logs")
    args = parser.parse_args()
    if not 0 < args.duration <= load.MAX_DURATION:
        parser.error(f"--duration must be between 0 and {load.MAX_DURATION} seconds")
    if args.database_url and urllib.parse.urlparse(args.database_url).hostname not in ("127.0.0.1", "localhost"):
        parser.error("loopback only: the database must be on 127.0.0.1")

    folder = Path(tempfile.mkdtemp(prefix="venture-cluster-"))
    stop_pg = None
    if args.database_url:
        url = args.database_url
    else:
        url, stop_pg = start_postgres(folder / "pg")
    data_dir = folder / "data"
    env = load.environment(data_dir, url)
    procs = []
    try:
        os.environ["DOCUMENTS_PREPARE_WHEN_FINAL"] = "0"  # the builder's own freezes queue nothing
        load.configure(env)
        from django.db import connections

        from venture.audit.models import AuditEvent

        load_before = os.getloadavg()
        print(
            f">> PostgreSQL {url}; 2 gunicorn × {args.workers} workers × {args.threads} threads, 2 task workers; "
            f"{args.judges} judges × {args.finalists} finalists, {args.applicants} applicants, {args.duration:.0f} s"
        )
        started = time.monotonic()
        data = load.build(args.judges, args.finalists, args.applicants)
        extra = build_background_work(args.freeze_proposals, 5)
        sheet_events_before = AuditEvent.objects.filter(action__in=["sheet.save", "sheet.submit"]).count()
        connections.close_all()
        print(f">> data built in {time.monotonic() - started:.1f} s")

        server_env = {**env, "DOCUMENTS_PREPARE_WHEN_FINAL": "1"}
        ports = [load.free_port(), load.free_port()]
        while ports[1] == ports[0]:
            ports[1] = load.free_port()
        servers = []
        for i, port in enumerate(ports):
            proc, log = load.start_server(server_env, port, args.workers, args.threads, folder / f"web{i + 1}.log")
            servers.append(proc)
            procs.append((proc, log))
        workers = []
        for i in range(2):
            proc, log = start_worker(server_env, folder / f"worker{i + 1}.log")
            workers.append(proc)
            procs.append((proc, log))

        results = load.Results(login_gate=threading.Semaphore(2 * args.workers * args.threads))
        rng = random.Random(args.seed)
        go, stop = threading.Event(), threading.Event()
        threads = load.client_threads(ports, results, data, go, stop, args.think, rng)
        n_clients = len(threads)
        login_started = time.monotonic()
        for t in threads:
            t.start()
        while results.ready < n_clients and time.monotonic() < login_started + load.MAX_DURATION:
            time.sleep(0.2)
        login_seconds = time.monotonic() - login_started
        cpu_before = sum(load.worker_cpu_seconds(p) for p in servers)
        facts = {}
        background = [
            threading.Thread(target=staff_work, args=(ports, results, extra, facts), daemon=True),
            threading.Thread(target=owner_work, args=(ports, results, extra, facts), daemon=True),
        ]
        load_started = time.monotonic()
        go.set()
        time.sleep(min(5, args.duration / 4))  # the clients are at work
        for t in background:
            t.start()
        loads = []
        end = load_started + args.duration
        while time.monotonic() < end and any(t.is_alive() for t in threads):
            loads.append(os.getloadavg()[0])
            time.sleep(1)
        stop.set()
        for t in threads:
            t.join(timeout=180)
        elapsed = time.monotonic() - load_started
        server_cpu = sum(load.worker_cpu_seconds(p) for p in servers) - cpu_before
        rss = [mb for p in servers for mb in load.worker_rss_mb(p)]
        # The background work may outlast the load: let it finish (it stops on its own once done).
        for t in background:
            t.join(timeout=600)
        drained = drain(600)
    finally:
        for proc, log in procs:
            stop_process(proc, log)

    log_text = "".join((folder / f"web{i + 1}.log").read_text(errors="replace") for i in range(2))
    worker_log = "".join((folder / f"worker{i + 1}.log").read_text(errors="replace") for i in range(2))
    load.report(results, elapsed, login_seconds, load_before[0])
    print(
        f"load average (1 min) during the load phase: median {sorted(loads)[len(loads) // 2]:.1f}, "
        f"max {max(loads):.1f} on {os.cpu_count()} CPUs"
    )
    print(f"gunicorn worker memory after the run: {', '.join(f'{mb} MB' for mb in rss)}")
    timed = sum(len(v) for e, v in results.timings.items() if "login" not in e and not e.startswith("bg:"))
    if timed and server_cpu:
        per_request = server_cpu / timed
        capacity = (os.cpu_count() or 1) / per_request
        print(
            f"server CPU in the load phase (both instances' workers): {server_cpu:.1f} s for {timed} requests = "
            f"{per_request * 1000:.0f} ms a request (PostgreSQL's and the clients' CPU not included)"
        )
        print(
            f"capacity: {os.cpu_count()} CPUs serve at most {capacity:.0f} requests/s at that cost, so {len(threads)} "
            f"clients that send their next request as soon as the last is answered (--think 0) wait on average at "
            f"least {len(threads) / capacity * 1000:.0f} ms a request (Little's law), whatever the servers do; "
            f"measured: {timed / elapsed:.1f} requests/s"
        )
    print(f"queue drained {drained:.1f} s after the load" if drained is not None else "!! the queue did not drain")
    draft_problems, sheet_problems, load_facts = load.verify(data, results, sheet_events_before)
    checks = load.load_checks(results, log_text, draft_problems, sheet_problems, threads)
    checks += [("no tracebacks in the workers' logs", "Traceback" not in worker_log, "see the workers' logs")]
    checks += task_checks(extra, facts)
    for endpoint in PAGES:
        values = results.timings.get(endpoint, [])
        p95 = load.pct(values, 95) if values else float("inf")
        checks.append(
            (f"p95 < {P95_TARGET * 1000:.0f} ms for {endpoint}", p95 < P95_TARGET, f"p95 {p95 * 1000:.0f} ms")
        )
    for k, v in {**load_facts, **facts}.items():
        print(f"{k}: {v}")
    print()
    for label, ok, detail in checks:
        print(f"{'PASS' if ok else 'FAIL'}  {label}" + ("" if ok else f"  — {detail}"))
    passed = all(ok for _l, ok, _d in checks)
    print(f"{'PASS' if passed else 'FAIL'}  overall")
    if stop_pg is not None:
        stop_pg()  # before the folder goes (atexit would try again, harmlessly)
    if args.keep or not passed:
        print(f">> folder and logs kept in {folder}")
    else:
        shutil.rmtree(folder, ignore_errors=True)
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
