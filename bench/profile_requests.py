"""Server cost of the four hot requests of bench/load.py, measured in one process without HTTP or a test client.

Builds the same data as bench/load.py (its `build`, on a fresh SQLite database in a temporary folder, DEBUG off), signs
one judge and one applicant in through the real login form (once: the session lasts the day), then calls the WSGI
application directly (the full middleware stack, CSRF on) N times for each of:

  GET  /judging/assignments/<pk>/sheet/     the score sheet
  POST /judging/assignments/<pk>/sheet/     a draft save (version from the form, as load.py does)
  GET  /proposals/<pk>/edit/                the proposal edit page
  POST /proposals/<pk>/edit/                a draft save with one budget line

and prints, per request, the median process CPU time (time.process_time) and wall time, and the number of SQL queries
(counted in a separate pass, so the counting does not weigh on the timings). With --profile DIR it also writes one
pyinstrument HTML report per request (the N calls aggregated) into DIR.

    .venv/bin/python bench/profile_requests.py                 # N = 200
    .venv/bin/python bench/profile_requests.py -n 50 --profile /tmp/profiles
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import statistics
import sys
import tempfile
import time
import urllib.parse
from http.cookies import SimpleCookie
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.load import (  # noqa: E402 - after the path
    CRITERION_RE,
    CSRF_RE,
    HOST,
    PASSWORD,
    VERSION_RE,
    build,
    configure,
    environment,
)
from bench.load import proposal_form as load_proposal_form  # noqa: E402 - after the path


class Browser:
    """A cookie jar in front of the WSGI application: one signed-in user."""

    def __init__(self, app):
        self.app, self.cookies = app, {}

    def call(self, method, path, form=None):
        body = urllib.parse.urlencode(form).encode() if form is not None else b""
        environ = {
            "REQUEST_METHOD": method,
            "PATH_INFO": path,
            "QUERY_STRING": "",
            "SERVER_NAME": HOST,
            "SERVER_PORT": "8000",
            "HTTP_HOST": f"{HOST}:8000",
            "REMOTE_ADDR": HOST,
            "SERVER_PROTOCOL": "HTTP/1.1",
            "HTTP_COOKIE": "; ".join(f"{k}={v}" for k, v in self.cookies.items()),
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
        }
        if form is not None:
            environ["CONTENT_TYPE"] = "application/x-www-form-urlencoded"
            environ["CONTENT_LENGTH"] = str(len(body))
        captured = {}

        def start_response(status, headers, exc_info=None):
            captured["status"], captured["headers"] = int(status.split()[0]), headers

        chunks = self.app(environ, start_response)
        try:
            text = b"".join(chunks).decode()
        finally:
            if hasattr(chunks, "close"):
                chunks.close()
        for name, value in captured["headers"]:
            if name.lower() == "set-cookie":
                cookie = SimpleCookie(value)
                for key, morsel in cookie.items():
                    self.cookies[key] = morsel.value
        location = next((v for n, v in captured["headers"] if n.lower() == "location"), "")
        return captured["status"], location, text

    def login(self, username):
        _status, _loc, text = self.call("GET", "/accounts/login/")
        token = CSRF_RE.search(text).group(1)
        status, _loc, _text = self.call(
            "POST",
            "/accounts/login/",
            {"csrfmiddlewaretoken": token, "username": username, "password": PASSWORD, "next": "/"},
        )
        assert status == 302 and "sessionid" in self.cookies, (username, status)


def sheet_form(text, n):
    form = {
        "csrfmiddlewaretoken": CSRF_RE.search(text).group(1),
        "version": VERSION_RE.search(text).group(1),
        "comment": f"第{n}次评分意见",
    }
    form.update({f"c_{c}": str(10 + n % 10) for c in CRITERION_RE.findall(text)})
    return form


def proposal_form(text, n, data):
    return load_proposal_form(
        CSRF_RE.search(text).group(1),
        VERSION_RE.search(text).group(1),
        "压力测试项目 profile",
        data,
        50 + n % 400,
        n,
        100 + n % 800,
    )


def scenarios(judge, applicant, data):
    """name -> (prepare(n) -> args, call(args) -> (status, location)); prepare is not timed."""
    sheet_path = f"/judging/assignments/{data['judges'][0][1][0]}/sheet/"
    edit_path = f"/proposals/{data['applicants'][0][1]}/edit/"

    def get(browser, path, expected=200):
        def call(_args):
            status, _loc, text = browser.call("GET", path)
            assert status == expected, (path, status)
            return text

        return (lambda n: None), call

    def post(browser, path, make_form):
        def prepare(n):
            _status, _loc, text = browser.call("GET", path)
            return make_form(text, n)

        def call(form):
            status, location, text = browser.call("POST", path, form)
            assert status == 302 and location == path, (path, status, location, text[:2000])
            return text

        return prepare, call

    return {
        "GET sheet": get(judge, sheet_path),
        "POST sheet (draft)": post(judge, sheet_path, sheet_form),
        "GET proposal edit": get(applicant, edit_path),
        "POST proposal edit": post(applicant, edit_path, lambda text, n: proposal_form(text, n, data)),
    }


def measure(prepare, call, n):
    cpu, wall = [], []
    for i in range(n):
        args = prepare(i)
        c0, w0 = time.process_time(), time.perf_counter()
        call(args)
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - w0)
    return statistics.median(cpu), statistics.median(wall)


def count_queries(prepare, call):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    args = prepare(10_000)
    with CaptureQueriesContext(connection) as ctx:
        call(args)
    return len(ctx.captured_queries), [q["sql"] for q in ctx.captured_queries]


def cprofile(prepare, call, n, k):
    import cProfile  # noqa: PLC0415 - only with --cprofile
    import pstats  # noqa: PLC0415 - only with --cprofile

    profiler = cProfile.Profile()
    for i in range(n):
        prepared = prepare(30_000 + i)
        profiler.enable()
        call(prepared)
        profiler.disable()
    stats = pstats.Stats(profiler)
    stats.sort_stats("tottime").print_stats(k)
    stats.sort_stats("cumulative").print_stats(k)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=200, help="requests per endpoint (default 200)")
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--profile", metavar="DIR", help="write a pyinstrument HTML report per endpoint into DIR")
    parser.add_argument("--sql", action="store_true", help="print the SQL of each request")
    parser.add_argument("--cprofile", type=int, metavar="K", help="print the K costliest functions (cProfile, tottime)")
    parser.add_argument("--only", help="measure only the requests whose name contains this text")
    parser.add_argument("--judges", type=int, default=50)
    parser.add_argument("--finalists", type=int, default=12)
    parser.add_argument("--applicants", type=int, default=100)
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="venture-profile-"))
    try:
        configure(environment(data_dir, None))
        from django.core.wsgi import get_wsgi_application

        data = build(args.judges, args.finalists, args.applicants)
        app = get_wsgi_application()
        judge, applicant = Browser(app), Browser(app)
        judge.login(data["judges"][0][0])
        applicant.login(data["applicants"][0][0])
        print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs; n = {args.n}")
        print(f"{'request':<22}{'CPU ms':>9}{'wall ms':>9}{'queries':>9}")
        for name, (prepare, call) in scenarios(judge, applicant, data).items():
            if args.only and args.only not in name:
                continue
            measure(prepare, call, max(1, args.warmup))
            cpu, wall = measure(prepare, call, args.n)
            queries, sql = count_queries(prepare, call)
            print(f"{name:<22}{cpu * 1000:>9.2f}{wall * 1000:>9.2f}{queries:>9}")
            if args.sql:
                for q in sql:
                    print(f"    {q[:300]}")
            if args.cprofile:
                cprofile(prepare, call, args.n, args.cprofile)
            if args.profile:
                from pyinstrument import Profiler  # noqa: PLC0415 - a dev dependency, only with --profile

                out = Path(args.profile)
                out.mkdir(parents=True, exist_ok=True)
                profiler = Profiler(interval=0.0005)
                for i in range(args.n):
                    prepared = prepare(20_000 + i)
                    profiler.start()
                    call(prepared)
                    profiler.stop()
                target = out / (name.replace(" ", "_").replace("(", "").replace(")", "") + ".html")
                target.write_text(profiler.output_html())
                (target.with_suffix(".txt")).write_text(profiler.output_text(unicode=True, show_all=True))
                print(f"    profile: {target}")
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
