"""How long after `make run` the demo's final documents are all stored (issue #20: "ready within a minute of start").

Runs what `make run` runs after its set-up, on a fresh data folder (a fresh clone's first run): migrate, demo_data,
prepare_documents, collectstatic, then the Procfile under honcho (gunicorn and TASK_WORKERS task workers) on a free
port. It polls the StoredDocument table (and, once all are stored, asks each round's results report over HTTP as the
staff login: 200 when stored, 202 while being prepared) and prints when each step ended, when the web server first
answered, and when every document queued by prepare_documents was stored, counted from the start of `make run`
and from the start of honcho; then each kind's count and its median render time in the worker (the task's own
start and finish). Not part of `make test`. Run from the project root:

    .venv/bin/python bench/demo_documents.py            # --keep leaves the data folder
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
HOST = "127.0.0.1"
PY = str(Path(sys.executable))
CSRF_RE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def free_port():
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def answers(port, path="/accounts/login/"):
    try:
        conn = http.client.HTTPConnection(HOST, port, timeout=5)
        conn.request("GET", path)
        status = conn.getresponse().status
        conn.close()
        return status
    except OSError:
        return None


def tree_cpu_seconds(root_pid):
    """CPU seconds used so far by a process and its descendants (honcho's: gunicorn, the workers, their fork
    servers and PDF renderers), with their children that have ended (their times are in their parent's)."""
    stats = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        stats[int(stat.parent.name)] = (int(fields[1]), sum(int(f) for f in fields[11:15]))
    total, tree, grown = 0, {root_pid}, True
    while grown:
        grown = False
        for pid, (ppid, _ticks) in stats.items():
            if ppid in tree and pid not in tree:
                tree.add(pid)
                grown = True
    total = sum(stats[pid][1] for pid in tree if pid in stats)
    return total / os.sysconf("SC_CLK_TCK")


def staff_statuses(port, paths):
    """Log in as the demo's staff and GET each path; their statuses."""
    conn = http.client.HTTPConnection(HOST, port, timeout=60)
    cookies = {}

    def request(method, path, form=None):
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items()), "Host": f"{HOST}:{port}"}
        body = urllib.parse.urlencode(form) if form else None
        if body:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        text = response.read().decode("utf-8", "replace")
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _sep, rest = header.partition("=")
            cookies[name.strip()] = rest.split(";", 1)[0]
        return response, text

    _response, text = request("GET", "/accounts/login/")
    token = CSRF_RE.search(text).group(1)
    request("POST", "/accounts/login/", {"csrfmiddlewaretoken": token, "username": "staff", "password": "Demo-2026"})
    out = {}
    for path in paths:
        started = time.perf_counter()
        response, _text = request("GET", path)
        out[path] = (response.status, time.perf_counter() - started)
    conn.close()
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--keep", action="store_true", help="keep the temporary data folder")
    parser.add_argument("--task-workers", type=int, default=2, help="worker processes (make run's TASK_WORKERS)")
    parser.add_argument("--timeout", type=float, default=600, help="give up after this many seconds of honcho")
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="venture-demo-docs-"))
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "MEDIA_ROOT")},
        "VENTURE_DATA_DIR": str(data_dir),
        "HOST": HOST,
        "PORT": str(port),
        "WORKERS": "2",
        "SITE_URL": f"http://{HOST}:{port}",
        "DJANGO_SETTINGS_MODULE": "venture.settings",
        "STATIC_ROOT": str(data_dir / "static"),
    }
    os.environ.update(env)
    load_before = os.getloadavg()
    print(
        f">> fresh data folder {data_dir}; load average {load_before[0]:.2f} {load_before[1]:.2f} on {os.cpu_count()} CPUs"
    )
    marks = []
    start = time.monotonic()
    for label, command in (
        ("migrate", ["manage.py", "migrate", "--noinput", "-v0"]),
        ("demo_data", ["manage.py", "demo_data", "--quiet-if-present"]),
        ("prepare_documents", ["manage.py", "prepare_documents", "-v1"]),
        ("collectstatic", ["manage.py", "collectstatic", "--noinput", "-v0"]),
    ):
        out = subprocess.run([PY, *command], cwd=ROOT, env=env, capture_output=True, text=True)
        if out.returncode:
            sys.exit(f"!! {label} failed:\n{out.stderr[-3000:]}")
        marks.append((label, time.monotonic() - start, out.stdout.strip().splitlines()[-1:] if out.stdout else []))
    honcho_at = time.monotonic() - start
    honcho_wall = time.time()
    log = open(data_dir / "honcho.log", "wb")  # noqa: SIM115 - closed below
    honcho = subprocess.Popen(
        [str(Path(PY).with_name("honcho")), "start", "-f", "Procfile", "-c", f"web=1,worker={args.task_workers}"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    import django

    django.setup()
    from django.db import connections
    from django_tasks_db.models import DBTaskResult

    from venture.documents.models import DocumentStatus, StoredDocument
    from venture.results.models import ResultSnapshot

    web_at = all_at = None
    try:
        deadline = time.monotonic() + args.timeout
        while time.monotonic() < deadline:
            if web_at is None and answers(port) == 200:
                web_at = time.monotonic() - start
            waiting = StoredDocument.objects.exclude(status=DocumentStatus.READY).count()
            if waiting == 0:
                all_at = time.monotonic() - start
                break
            if honcho.poll() is not None:
                print("!! honcho ended early; see", data_dir / "honcho.log")
                break
            connections.close_all()
            time.sleep(0.25)
        load_after = os.getloadavg()
        cpu_seconds = tree_cpu_seconds(honcho.pid) if Path("/proc/self/stat").exists() else float("nan")
        snapshots = ResultSnapshot.objects.filter(valid=True).values_list("competition_id", flat=True)
        paths = [f"/results/round/{pk}/results/report.pdf" for pk in snapshots]
        served = staff_statuses(port, paths) if web_at is not None else {}
        renders = defaultdict(list)
        first_start = last_finish = None
        for task in DBTaskResult.objects.filter(task_path="venture.documents.stored.render_document"):
            if task.started_at and task.finished_at:
                renders[task.args_kwargs["kwargs"]["kind"]].append((task.finished_at - task.started_at).total_seconds())
                first_start = min(first_start or task.started_at, task.started_at)
                last_finish = max(last_finish or task.finished_at, task.finished_at)
        by_status = defaultdict(int)
        for status in DBTaskResult.objects.values_list("status", flat=True):
            by_status[status] += 1
        total = StoredDocument.objects.count()
        last_stored = defaultdict(float)  # kind -> seconds from honcho's start to its last document stored
        for kind, rendered_at in StoredDocument.objects.exclude(rendered_at=None).values_list("kind", "rendered_at"):
            last_stored[kind] = max(last_stored[kind], rendered_at.timestamp() - honcho_wall)
    finally:
        if honcho.poll() is None:
            os.killpg(honcho.pid, signal.SIGTERM)  # the group honcho leads: gunicorn and the worker
            try:
                honcho.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(honcho.pid, signal.SIGKILL)
                honcho.wait()
        log.close()

    print("\nseconds from the start of `make run` (after its set-up):")
    for label, at, tail in marks:
        print(f"  {at:7.1f}  {label} done {' '.join(tail)}")
    print(f"  {honcho_at:7.1f}  honcho started (web + worker)")
    print(f"  {web_at if web_at is not None else float('nan'):7.1f}  the web server answers")
    if all_at is None:
        print(f"  not all documents stored after {args.timeout:.0f} s of honcho")
    else:
        print(f"  {all_at:7.1f}  all {total} documents stored ({all_at - honcho_at:.1f} s after honcho started)")
    if first_start and last_finish:
        print(
            f"worker busy rendering from first start to last finish: {(last_finish - first_start).total_seconds():.1f} s"
        )
    print("\nkind                 count  median render s  total s  all stored, s after honcho started")
    for kind, seconds in sorted(renders.items()):
        print(
            f"  {kind:<18}{len(seconds):>6}{statistics.median(seconds):>16.2f}{sum(seconds):>9.1f}"
            f"{last_stored.get(kind, float('nan')):>10.1f}"
        )
    print(f"task results by status: {dict(by_status)}")
    for path, (status, seconds) in served.items():
        print(f"GET {path} as staff: {status} in {seconds * 1000:.0f} ms")
    print(f"CPU used by web + worker (and their PDF renderers) until then: {cpu_seconds:.1f} s")
    print(f"load average before / after: {load_before[0]:.2f} / {load_after[0]:.2f} (1 min) on {os.cpu_count()} CPUs")
    ok = all_at is not None and all_at - honcho_at <= 60 and all(s == 200 for s, _t in served.values())
    print(f"{'PASS' if ok else 'MISS'}  every demo document stored within 60 s of the start of web + worker")
    if args.keep:
        print(f">> kept {data_dir}")
    else:
        shutil.rmtree(data_dir, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
