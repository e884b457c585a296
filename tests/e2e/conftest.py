"""Browser tests (issue 9): Playwright for Python driving Debian's chromium against pytest-django's live server.

The live server runs in a thread of this process and the test database is a real SQLite file, so data made with
factories and services in a test is what the browser sees. Playwright's sync API keeps an event loop running in this
thread while a browser is open, which makes Django refuse ORM calls here unless DJANGO_ALLOW_ASYNC_UNSAFE is set (the
ORM is still used from one thread at a time: the test's, and the live server's own connection). The variable is set
only while a browser is open (``_orm_beside_playwright``), not for the whole session: set at import time it would leak
into every other test, and ``manage.py check --deploy`` (tests/venture/test_project.py) rejects it.

Every page a test opens (``page``, ``new_page``) is screenshotted into ``test-artifacts/`` when the test fails.
"""

import datetime
import os
import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone, translation

from tests import factories
from venture.screening.models import ChecklistItem

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
TIMEOUT_MS = 10_000
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"  # pinned in package.json
BLOCKING = ("serious", "critical")  # axe impacts that fail a test
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PAGES = pytest.StashKey[list]()


def t(message, **params):
    """A UI string as the browser shows it (Simplified Chinese, or the English source while it is untranslated)."""
    with translation.override("zh-hans"):
        text = translation.gettext(message)
    return text % params if params else text


# --- Browser ---------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def _orm_beside_playwright():
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        yield


@pytest.fixture(scope="module")
def browser(_orm_beside_playwright):
    """One headless chromium per test module; the Playwright loop stops with the module."""
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="Playwright is not installed (pip install -e '.[dev]')"
    )
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        pytest.skip(
            f"Browser tests need Debian's chromium at {CHROMIUM}; install it with "
            f"`scripts/system-deps.sh --browser` (or `apt-get install chromium`), or set CHROMIUM=/path."
        )
    sync_api.expect.set_options(timeout=TIMEOUT_MS)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
        yield browser
        browser.close()


@dataclass
class Watch:
    """What went wrong in a page besides the test's own assertions: uncaught errors and console errors (a CSP
    violation is reported there), and the dialogs that were accepted."""

    errors: list = field(default_factory=list)
    dialogs: list = field(default_factory=list)


@pytest.fixture
def new_page(request, browser, live_server):
    """Open a page in a fresh browser context (its own cookies: one person). Dialogs (``data-confirm``) are accepted
    and their text recorded in ``page.watch.dialogs``."""
    contexts, pages = [], []
    request.node.stash[PAGES] = pages

    def make(viewport=DESKTOP, **options):
        context = browser.new_context(
            base_url=live_server.url, viewport=viewport, locale="zh-CN", timezone_id="Asia/Shanghai", **options
        )
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        page.base_url = live_server.url
        watch = page.watch = Watch()

        def on_dialog(dialog):
            watch.dialogs.append(dialog.message)
            dialog.accept()

        page.on("dialog", on_dialog)
        page.on("pageerror", lambda exc: watch.errors.append(f"uncaught: {exc}"))
        page.on("console", lambda msg: watch.errors.append(f"console: {msg.text}") if msg.type == "error" else None)
        pages.append(page)
        return page

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page):
    return new_page()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call" and report.failed:
        pages = list(item.stash.get(PAGES, []))
        page = item.funcargs.get("page")
        if page is not None and page not in pages:
            pages.insert(0, page)
        ARTIFACTS.mkdir(exist_ok=True)
        stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", item.nodeid.split("::", 1)[-1])
        for i, p in enumerate(pages, start=1):
            if p.is_closed():
                continue
            path = ARTIFACTS / f"{stem}-{i}.png"
            try:
                p.screenshot(path=str(path), full_page=True)
                report.sections.append(("screenshot", f"{path} ({p.url})"))
            except Exception as exc:  # a crashed page must not hide the test's own failure
                report.sections.append(("screenshot", f"could not screenshot {p.url}: {exc}"))
    return report


# --- Steps shared by the tests -----------------------------------------------------------------------------------------


def login(page, username, password=factories.PASSWORD):
    """Log in through the login form, as a person does."""
    from playwright.sync_api import expect  # noqa: PLC0415 — optional dev dependency; the fixture skips without it

    page.goto("/accounts/login/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(password)
    page.locator("main").get_by_role("button", name="登录").click()
    expect(page).not_to_have_url(re.compile(r"/accounts/login/"))


def sign_in(page, user):
    """Start the page's browser context logged in as ``user`` (a session cookie, no login form): for tests about
    something else than logging in."""

    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    page.context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": page.base_url}])


def nav(page, name):
    """Follow a link of the main navigation bar."""
    page.get_by_role("navigation", name="主导航").get_by_role("link", name=name, exact=True).click()


def axe_violations(page):
    """Run axe-core on the page as it is now; returns axe's violations (the page's context needs bypass_csp=True:
    the script is injected inline, which the site's Content-Security-Policy forbids)."""
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `npm ci` (axe-core is pinned in package.json)")
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    return page.evaluate("""async () => {
        const result = await axe.run(document, {resultTypes: ["violations"]});
        return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.map(n => ({target: n.target.join(" "), html: n.html.slice(0, 160),
                                      summary: n.failureSummary}))}));
    }""")


def describe(violation, limit=3):
    """One violation in a few lines: impact, rule, help text and the first nodes."""
    nodes = "".join(f"\n      {n['target']}: {n['html']}" for n in violation["nodes"][:limit])
    more = len(violation["nodes"]) - limit
    return (
        f"[{violation['impact']}] {violation['id']}: {violation['help']} ({len(violation['nodes'])} node(s))"
        f"{nodes}" + (f"\n      … and {more} more" if more > 0 else "")
    )


def assert_clean(page):
    """No uncaught script error and no console error (a blocked inline script or style shows up there)."""
    assert page.watch.errors == [], page.watch.errors


# --- A round ready for applications ------------------------------------------------------------------------------------


@dataclass
class OpenRound:
    competition: object
    staff: object
    auditor: object
    judges: list
    checklist: list
    others: list  # two eligible proposals of other organizations, so the final has three finalists


JUDGES = [
    ("judge_li", "李教授", "示范大学社会学院", "professor"),
    ("judge_wang", "王教授", "示范理工大学", "professor"),
    ("judge_zhao", "赵督导", "示范社工协会", "social_work"),
    ("judge_qian", "钱老师", "示范社工学院", "social_work"),
    ("judge_sun", "孙部长", "示范市总工会", "union"),
]


def build_open_round():
    """The round set up as staff leave it before the call opens to applicants: service categories, budget rules
    (personnel ≤ 30 %, management fee ≤ 10 %), tranche plan 50/30/20, rubric 25/25/30/20, a two-item eligibility
    checklist, five judges, an auditor and a staff user. Two other organizations' proposals have passed screening."""

    competition = factories.competition(
        title="2026年度工会公益创投大赛",
        organizer="示范市总工会",
        closes_at=timezone.now() + datetime.timedelta(days=20),
    )
    checklist = [
        ChecklistItem.objects.create(competition=competition, text=text, order=i)
        for i, text in enumerate(["申报单位为依法登记的社会组织", "申报材料齐全、预算符合规定"])
    ]
    staff = factories.user("staff_e2e", role="staff", full_name="周干事")
    auditor = factories.user("auditor_e2e", role="auditor", full_name="吴审计")
    judges = [
        factories.judge(username, full_name=name, affiliation=affiliation, expertise=expertise)
        for username, name, affiliation, expertise in JUDGES
    ]
    others = []
    for title, org, amount in [
        ("快递小哥心理关爱计划", "乙社会工作服务中心", "90000.00"),
        ("家政女工技能提升营", "丙公益发展中心", "80000.00"),
    ]:
        owner = factories.user(email=f"{org}@example.org")
        proposal = factories.proposal(
            competition,
            factories.organization(name=org, owner=owner),
            status="eligible",
            title=title,
            requested=Decimal(amount),
        )
        factories.budget(proposal, [("活动经费", amount, 1)])
        others.append(proposal)
    return OpenRound(competition, staff, auditor, judges, checklist, others)


@pytest.fixture
def open_round(db):
    return build_open_round()
