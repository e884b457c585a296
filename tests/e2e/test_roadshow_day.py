"""Issue #17: a whole roadshow day in the browser — staff at the console, a projector (1920 x 1080), three judges on
phones (390 x 844), one of whom loses the network mid-entry; then the freeze, the auditor's sign-off and the reveal
from the last place to the first. Screenshots of the phone sheet, the projector and the reveal are kept in
test-artifacts/ for review. A second test runs axe-core on the new pages and checks the sheet at 360 px."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from judging import services as judging
from judging.models import Assignment, Criterion, Roadshow, RoadshowSlot, ScoreSheet, SheetStatus
from tests import builders, factories
from tests.e2e.conftest import ARTIFACTS, BLOCKING, PHONE, assert_clean, axe_violations, describe, sign_in, t
from venture.demo import builder
from venture.results import services as results

pytestmark = pytest.mark.e2e
expect = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed").expect

PROJECTOR = {"width": 1920, "height": 1080}


def build_day():
    competition = factories.competition(stage="final", title="2026年度工会公益创投终评路演")
    for code, _name, _points, description, bands in builder.RUBRIC:
        Criterion.objects.filter(competition=competition, code=code).update(
            description=description, bands=[{"min": lo, "max": hi, "label": label} for lo, hi, label in bands]
        )
    staff = factories.user("day_staff", role="staff", full_name="周干事")
    auditor = factories.user("day_auditor", role="auditor", full_name="吴审计")
    proposals = [
        factories.proposal(competition, factories.organization(name=org), status="finalist", title=title)
        for title, org in [
            ("骑手驿站暖心计划", "甲社工服务中心"),
            ("快递小哥心理关爱", "乙社会工作服务中心"),
            ("家政女工技能提升营", "丙公益发展中心"),
        ]
    ]
    judges = [factories.judge(f"day_judge{i}", full_name=name) for i, name in enumerate(["李教授", "王教授", "赵督导"])]
    assignments = factories.final_panel(competition, judges, proposals)
    return competition, staff, auditor, proposals, judges, assignments


def tap(page, name):
    """Press a button of the phone sheet. (A mouse click there lands after the page has scrolled under the pointer in
    headless chromium at 390 px; focus and Enter press the same button.)"""
    page.get_by_role("button", name=name).press("Enter")


def chip(page, criterion, value):
    page.locator(f'[data-band-for="id_c_{criterion.pk}"][data-band-fill="{value}"]').click()


def test_a_roadshow_day(new_page, db):
    competition, staff, auditor, proposals, judges, assignments = build_day()
    criteria = list(competition.criteria.all())
    ARTIFACTS.mkdir(exist_ok=True)

    # Staff draw the order at the console.
    console = new_page()
    sign_in(console, staff)
    console.goto(reverse("judging:roadshow", args=[competition.pk]))
    console.get_by_role("button", name=t("Draw the presentation order")).click()
    slots = list(RoadshowSlot.objects.filter(roadshow__competition=competition).select_related("proposal"))
    first = slots[0].proposal
    expect(console.locator("tbody tr").first).to_contain_text(first.title)

    # The projector follows.
    projector = new_page(viewport=PROJECTOR)
    sign_in(projector, staff)
    projector.goto(reverse("judging:projector", args=[competition.pk]))

    # Presentation of the first finalist, paused (space) and resumed (space), then +1 minute.
    console.locator("tbody tr").first.get_by_role("button", name=t("Start presentation")).click()
    expect(projector.locator('[data-field="title"]')).to_have_text(first.title)
    expect(projector.locator('[data-field="phase_label"]')).to_have_text(t("Presentation"))
    console.keyboard.press(" ")
    expect(console.locator('button[data-key="space"]')).to_have_text(re.compile(t("Resume")))
    expect(projector.locator('[data-field="paused"]')).to_have_text(t("Paused"))
    console.keyboard.press(" ")
    expect(console.locator('button[data-key="space"]')).to_have_text(re.compile(t("Pause")))
    expect(projector.locator('[data-field="paused"]')).to_have_text("")
    console.get_by_role("button", name=t("+1 minute")).click()
    expect(projector.locator("[data-timer]")).to_have_text(re.compile(r"^0?(9:0\d|8:5\d)$"))  # 8 + 1 minutes
    # Q&A: the judges score now.
    console.locator("tbody tr").first.get_by_role("button", name=t("Start Q&A")).click()
    expect(projector.locator('[data-field="phase_label"]')).to_have_text(t("Q&A"))
    expect(projector.locator('[data-field="sheets_label"]')).to_have_text(
        t("Scoring open · %(sheets)s", sheets=t("%(submitted)s of %(expected)s sheets in", submitted=0, expected=3))
    )

    phones = []
    for judge in judges:
        # Bootstrap scrolls smoothly unless reduced motion is asked for; a click would land where the button was.
        phone = new_page(viewport=PHONE, reduced_motion="reduce")
        sign_in(phone, judge.user)
        phone.goto(reverse("home"))
        expect(phone.locator('[data-day-field="on-stage"]')).to_have_text(f"1. {first.title}")
        phone.locator("[data-day-open]").click()
        expect(phone.get_by_role("heading", level=1)).to_have_text(first.title)
        phones.append(phone)

    # Judges 1 and 2: band chips (upper bounds), live total and band, submit.
    for phone, values in zip(phones[:2], [(20, 20, 24, 16), (25, 20, 24, 16)], strict=True):
        for criterion, value in zip(criteria, values, strict=True):
            chip(phone, criterion, value)
        expect(phone.locator(f"#id_c_{criteria[-1].pk}")).to_be_focused()
    expect(phones[0].locator("[data-total]")).to_have_text("80.00")
    expect(phones[0].locator("[data-total-band]")).to_have_text("良好")
    expect(phones[0].locator("[data-comment-needed]")).to_be_hidden()
    phones[0].screenshot(path=str(ARTIFACTS / "roadshow-day-phone-sheet.png"), full_page=True)
    for phone in phones[:2]:
        tap(phone, t("Submit scores"))
        expect(phone.get_by_role("alert")).to_have_text(t("Score sheet submitted. Thank you."))

    # Judge 3 loses the network mid-entry.
    phone = phones[2]
    phone.locator(f"#id_c_{criteria[0].pk}").fill("23")
    phone.locator(f"#id_c_{criteria[1].pk}").fill("22")
    phone.context.set_offline(True)
    phone.locator(f"#id_c_{criteria[2].pk}").fill("28")
    phone.locator(f"#id_c_{criteria[3].pk}").fill("19")
    expect(phone.locator("[data-total]")).to_have_text("92.00")
    expect(phone.locator("[data-comment-needed]")).to_be_visible()  # above 90: a comment is needed
    tap(phone, t("Save draft"))
    expect(phone.locator("[data-save-status]")).to_have_text(
        t(
            "Not saved: no connection. What you typed is kept on this phone and will be saved as soon as the connection "
            "returns. Nothing is submitted without your tap."
        )
    )
    assert [phone.locator(f"#id_c_{c.pk}").input_value() for c in criteria] == ["23", "22", "28", "19"]
    kept = phone.evaluate("Object.keys(localStorage).filter(k => k.startsWith('venture.sheet.'))")
    assert kept == [f"venture.sheet.{judges[2].user.pk}.{assignments[(judges[2].pk, first.pk)].pk}"]
    assert not ScoreSheet.objects.filter(assignment__judge=judges[2]).exists()
    phone.screenshot(path=str(ARTIFACTS / "roadshow-day-phone-offline.png"), full_page=True)
    phone.context.set_offline(False)
    expect(phone.locator("[data-save-status]")).to_have_text(t("Draft saved."))
    sheet = ScoreSheet.objects.get(assignment__judge=judges[2], assignment__proposal=first)
    assert (sheet.status, sheet.total) == (SheetStatus.DRAFT, Decimal("92.00"))  # saved, never submitted by itself
    phone.locator("#id_comment").fill("需求调研扎实，示范性强。")
    tap(phone, t("Submit scores"))
    expect(phone.get_by_role("alert")).to_have_text(t("Score sheet submitted. Thank you."))

    expect(projector.locator('[data-field="sheets_label"]')).to_have_text(
        t("Scoring open · %(sheets)s", sheets=t("%(submitted)s of %(expected)s sheets in", submitted=3, expected=3))
    )
    projector.screenshot(path=str(ARTIFACTS / "roadshow-day-projector.png"))

    # The other two finalists are scored too (through the service: the browser part is shown above).
    for rank, slot in enumerate(slots[1:], start=1):
        for judge in judges:
            judging.save_sheet(
                assignment=Assignment.objects.get(panel__competition=competition, judge=judge, proposal=slot.proposal),
                by=judge.user,
                comment="",
                expected_version=0,
                submit=True,
                points={c.pk: Decimal(v) for c, v in zip(criteria, (20 - rank, 19, 23, 15), strict=True)},
            )

    # Freeze (staff), sign off (auditor), reveal (staff, on the projector).
    console.goto(reverse("results:results", args=[competition.pk]))
    console.get_by_role("button", name=t("Freeze the results")).click()
    expect(console.locator("#digest")).to_be_visible()
    auditor_page = new_page()
    sign_in(auditor_page, auditor)
    auditor_page.goto(reverse("results:results", args=[competition.pk]))
    auditor_page.get_by_role("button", name=t("Sign off the results")).click()
    expect(auditor_page.get_by_role("link", name=t("Signed-sheet bundle (PDF)"))).to_be_visible()
    snapshot = results.current_snapshot(competition)
    assert snapshot.signed_off_by == auditor
    projector.goto(reverse("results:reveal", args=[competition.pk]))
    expect(projector.locator("[data-digest8]")).to_have_text(snapshot.digest[:8])
    ranking = sorted(snapshot.outputs["ranking"], key=lambda r: -r["rank"])
    titles = {p.pk: p.title for p in proposals}
    for row in ranking:
        projector.locator("main").click()
        expect(projector.locator("[data-reveal-title]")).to_have_text(titles[row["proposal"]])
        expect(projector.locator("[data-reveal-score]")).to_have_text(f"{row['score']:.2f}")
    assert titles[ranking[-1]["proposal"]] == first.title  # judged best
    expect(projector.locator("[data-reveal-next]")).to_have_count(0)
    projector.screenshot(path=str(ARTIFACTS / "roadshow-day-reveal.png"))

    # The failed save while offline is the one error the browser reports, by design.
    phones[2].watch.errors = [e for e in phones[2].watch.errors if "ERR_INTERNET_DISCONNECTED" not in e]
    for page in [console, projector, auditor_page, *phones]:
        assert_clean(page)


def test_roadshow_pages_accessibility_and_the_sheet_at_360_px(new_page, db):
    competition, staff, _auditor, proposals, judges, assignments = build_day()
    roadshow = judging.draw_order(competition=competition, seed="axe", by=staff)
    judging.set_presenting(roadshow=roadshow, slot=roadshow.slots.first(), phase="presentation", by=staff)
    on_stage = roadshow.slots.first().proposal
    judge = judges[0]
    narrow = new_page(viewport={"width": 360, "height": 740}, bypass_csp=True)
    sign_in(narrow, judge.user)
    pages = [
        (narrow, "judge home", reverse("home")),
        (narrow, "phone sheet", reverse("judging:sheet", args=[assignments[(judge.pk, on_stage.pk)].pk])),
    ]
    big = new_page(viewport=PROJECTOR, bypass_csp=True)
    sign_in(big, staff)
    pages += [(big, name, reverse(f"judging:{name}", args=[competition.pk])) for name in ("projector", "hall_board")]
    desk = new_page(bypass_csp=True)
    sign_in(desk, staff)
    pages.append((desk, "console", reverse("judging:roadshow", args=[competition.pk])))
    blocking = []
    for page, name, url in pages:
        assert page.goto(url).status == 200, url
        if name == "phone sheet":
            page.locator("details summary").click()  # the summary's budget table opened too
            widths = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
            assert widths[0] <= widths[1], widths
        blocking += [f"{name}: {describe(v)}" for v in axe_violations(page) if v["impact"] in BLOCKING]
    for page in (narrow, big, desk):
        assert_clean(page)
    assert blocking == [], "\n".join(blocking)


def test_polls_revalidate_with_their_etag_and_keep_the_page_on_304(new_page, db):
    """The projector, the big screen (htmx) and a judge's home poll with If-None-Match: Chromium hands the 304 to the
    script (the request carries its own validator, so the HTTP cache stays out of it), the page stays as it is, and
    the next change arrives as a 200 and is shown."""
    competition, staff, _auditor, proposals, judges, assignments = build_day()
    roadshow = judging.draw_order(competition=competition, seed="poll", by=staff)
    slots = list(roadshow.slots.select_related("proposal"))
    judging.set_presenting(roadshow=roadshow, slot=slots[0], phase="presentation", by=staff)
    seen = []  # (page name, path, status, If-None-Match sent)

    def watch(page, name):
        page.on(
            "response",
            lambda r: seen.append((name, r.url, r.status, r.request.headers.get("if-none-match"))),
        )

    def polls(name, part, status):
        return [s for s in seen if s[0] == name and part in s[1] and s[2] == status]

    projector = new_page(viewport=PROJECTOR)
    sign_in(projector, staff)
    watch(projector, "projector")
    projector.goto(reverse("judging:projector", args=[competition.pk]))
    hall = new_page(viewport=PROJECTOR)
    sign_in(hall, staff)
    watch(hall, "hall")
    hall.goto(reverse("judging:hall_board", args=[competition.pk]))
    phone = new_page(viewport=PHONE)
    sign_in(phone, judges[0].user)
    watch(phone, "phone")
    phone.goto(reverse("home"))

    def wait_for(page, name, part, status):
        for _ in range(150):
            if polls(name, part, status):
                return
            page.wait_for_timeout(100)
        raise AssertionError(f"no {status} for {name}: {seen}")

    # Nothing changes: each poller gets 304s (the big screen's first poll already, with the ETag the page embeds).
    for page, name, part in [
        (hall, "hall", "/hall/cells/"),
        (projector, "projector", "/projector/state/"),
        (phone, "phone", "/roadshow/day/"),
    ]:
        wait_for(page, name, part, 304)
        assert all(sent for *_rest, sent in polls(name, part, 304)), name
    assert [s[2] for s in seen if s[0] == "hall" and "/hall/cells/" in s[1]][0] == 304
    expect(hall.locator("#hall-cells tbody tr")).to_have_count(3)  # not swapped for the empty body
    expect(projector.locator('[data-field="title"]')).to_have_text(slots[0].proposal.title)
    expect(phone.locator('[data-day-field="on-stage"]')).to_have_text(f"1. {slots[0].proposal.title}")

    # A judge submits and the next finalist goes on stage: a 200 each, shown.
    criteria = list(competition.criteria.all())
    judging.save_sheet(
        assignment=assignments[(judges[1].pk, slots[0].proposal.pk)],
        by=judges[1].user,
        comment="",
        expected_version=0,
        submit=True,
        points={c.pk: Decimal(v) for c, v in zip(criteria, (20, 19, 23, 15), strict=True)},
    )
    expect(projector.locator('[data-field="sheets_label"]')).to_have_text(
        t("Scoring open · %(sheets)s", sheets=t("%(submitted)s of %(expected)s sheets in", submitted=1, expected=3))
    )
    expect(hall.locator(".hall-total")).to_contain_text(
        t("%(submitted)s of %(expected)s sheets in", submitted=1, expected=9)
    )
    judging.set_presenting(roadshow=roadshow, slot=slots[1], phase="waiting", by=staff)
    expect(projector.locator('[data-field="title"]')).to_have_text(slots[1].proposal.title)
    expect(phone.locator('[data-day-field="on-stage"]')).to_have_text(f"2. {slots[1].proposal.title}")
    expect(hall.locator('#hall-cells tr[aria-current="true"] td').nth(1)).to_contain_text(slots[1].proposal.title)
    for name, part in [("projector", "/projector/state/"), ("hall", "/hall/cells/"), ("phone", "/roadshow/day/")]:
        assert polls(name, part, 200), name
    for page in (projector, hall, phone):
        assert_clean(page)


def test_a_judge_reopening_the_sheet_is_asked_to_restore_the_local_draft(new_page, db):
    """What was typed and never saved (the phone lost the page) is kept on the phone: reopening the sheet asks
    whether to restore it; "restore" fills it back in, "discard" forgets it. Nothing is saved on the server by it."""
    competition, staff, _auditor, proposals, judges, assignments = build_day()
    criteria = list(competition.criteria.all())
    judge = judges[0]
    url = reverse("judging:sheet", args=[assignments[(judge.pk, proposals[0].pk)].pk])
    phone = new_page(viewport=PHONE, reduced_motion="reduce")
    sign_in(phone, judge.user)
    phone.goto(url)
    for criterion, value in zip(criteria, ("21", "18", "26"), strict=False):
        phone.locator(f"#id_c_{criterion.pk}").fill(value)
    phone.goto(url)  # reopened without saving
    prompt = phone.locator("[data-restore]")
    expect(prompt).to_be_visible()
    assert [phone.locator(f"#id_c_{c.pk}").input_value() for c in criteria] == ["", "", "", ""]
    prompt.get_by_role("button", name=t("Restore what I typed")).click()
    expect(prompt).to_be_hidden()
    assert [phone.locator(f"#id_c_{c.pk}").input_value() for c in criteria] == ["21", "18", "26", ""]
    phone.goto(url)  # still only on the phone: asked again, and this time it is discarded
    expect(prompt).to_be_visible()
    prompt.get_by_role("button", name=t("Discard it")).click()
    expect(prompt).to_be_hidden()
    phone.goto(url)
    expect(prompt).to_be_hidden()
    assert not ScoreSheet.objects.filter(assignment__judge=judge).exists()
    assert_clean(phone)


def test_reveal_page_accessibility_on_the_projector(new_page, db):
    competition, staff, _auditor, _proposals = builders.build_round()
    projector = new_page(viewport=PROJECTOR, bypass_csp=True)
    sign_in(projector, staff)
    blocking = []
    for step in (0, 2, 4):
        url = f"{reverse('results:reveal', args=[competition.pk])}?step={step}"
        assert projector.goto(url).status == 200, url
        blocking += [f"reveal step {step}: {describe(v)}" for v in axe_violations(projector) if v["impact"] in BLOCKING]
    assert_clean(projector)
    assert blocking == [], "\n".join(blocking)


def test_projector_turns_amber_in_the_last_minute_and_red_in_the_last_10_seconds(new_page, db):
    """The colours follow the server's clock: the phase is moved back in time so the last minute is seconds away."""
    competition, staff, *_rest = build_day()
    roadshow = judging.draw_order(competition=competition, seed="clock", by=staff)
    judging.set_presenting(roadshow=roadshow, slot=roadshow.slots.first(), phase="presentation", by=staff)
    duration = timedelta(minutes=competition.presentation_minutes)
    projector = new_page(viewport=PROJECTOR)
    sign_in(projector, staff)
    Roadshow.objects.filter(pk=roadshow.pk).update(phase_started_at=timezone.now() - duration + timedelta(seconds=68))
    projector.goto(reverse("judging:projector", args=[competition.pk]))
    main, timer = projector.locator("[data-roadshow]"), projector.locator("[data-timer]")
    expect(main).to_have_attribute("data-timer-state", "normal")
    expect(timer).to_have_text(re.compile(r"^01:0\d$"))
    expect(main).to_have_attribute("data-timer-state", "warning", timeout=15_000)  # 01:00 and below: amber
    expect(timer).to_have_class(re.compile(r"\bis-warning\b"))
    # Ten seconds from the end (the next poll brings the moved start): red, then over time.
    Roadshow.objects.filter(pk=roadshow.pk).update(phase_started_at=timezone.now() - duration + timedelta(seconds=12))
    expect(main).to_have_attribute("data-timer-state", "danger", timeout=8_000)
    expect(timer).to_have_class(re.compile(r"\bis-danger\b"))
    expect(main).to_have_attribute("data-timer-state", "over", timeout=15_000)
    expect(timer).to_have_text(re.compile(r"^\+00:0\d"))
    assert_clean(projector)
