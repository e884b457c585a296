"""Browser tests of sign-in hardening (issue #16): two-factor sign-in with a TOTP code, and a login lock that holds
for one address while the same user signs in from another."""

import base64
import re

import pytest
from django_otp.oath import totp

from tests import factories
from tests.e2e.conftest import assert_clean, login, t

expect = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed").expect

pytestmark = pytest.mark.e2e


def warm_up(page):
    """The live server's first page (static files found and compressed) can take longer than a step's timeout on a
    busy machine; load it once with a generous one."""
    page.goto("/accounts/login/", timeout=60_000)


def code_from(secret, drift=0):
    """The six digits an authenticator app shows for ``secret`` (base32), ``drift`` time steps ahead."""
    return f"{totp(base64.b32decode(secret), step=30, t0=0, digits=6, drift=drift):06d}"


def test_staff_enrol_and_sign_in_with_a_totp_code(new_page, db, settings):
    settings.TWO_FACTOR_ROLES = ["staff", "auditor", "supervisor"]
    staff = factories.user("staff_totp", role="staff", full_name="周干事")
    page = new_page()
    warm_up(page)
    login(page, staff.username)
    # First sign-in: enrolment with the QR code and the key, confirmed with a code computed from that key.
    expect(page).to_have_url(re.compile(r"/accounts/two-factor/\?next="))
    expect(page.locator("main svg")).to_be_visible()
    secret = page.locator("#totp-secret").inner_text().strip()
    page.locator("#id_token").fill(code_from(secret))
    page.locator("main").get_by_role("button", name=t("Confirm")).click()
    expect(page.locator("#backup-codes li")).to_have_count(10)
    page.locator("main").get_by_role("link", name=t("Continue")).click()
    expect(page.get_by_role("heading", name=t("Rounds dashboard"))).to_be_visible()
    assert_clean(page)

    # Next sign-in, in another browser: password, then the code of the enrolled key (the next time step: a code
    # already used is refused, and the device accepts one step of drift).
    later = new_page()
    login(later, staff.username)
    expect(later).to_have_url(re.compile(r"/accounts/two-factor/verify/"))
    later.locator("#id_token").fill(code_from(secret, drift=1))
    later.locator("main").get_by_role("button", name=t("Verify")).click()
    expect(later.get_by_role("heading", name=t("Rounds dashboard"))).to_be_visible()
    assert_clean(later)


def test_a_lock_holds_for_one_address_while_the_user_signs_in_from_another(new_page, db, settings):
    settings.BEHIND_PROXY = True  # the address comes from X-Real-IP, as nginx sends it
    staff = factories.user("staff_locked", role="staff")
    attacker = new_page(extra_http_headers={"X-Real-IP": "198.51.100.66"})
    warm_up(attacker)
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        attacker.goto("/accounts/login/")
        attacker.locator("#id_username").fill(staff.username)
        attacker.locator("#id_password").fill("wrong-password")
        attacker.locator("main").get_by_role("button", name="登录").click()
    locked = t(
        "Too many failed attempts from this address. Try again in a few minutes, or ask the union staff to unlock it."
    )
    expect(attacker.get_by_role("alert").filter(has_text=locked)).to_be_visible()
    # Even the right password is refused from that address.
    attacker.locator("#id_username").fill(staff.username)
    attacker.locator("#id_password").fill(factories.PASSWORD)
    attacker.locator("main").get_by_role("button", name="登录").click()
    expect(attacker.get_by_role("alert").filter(has_text=locked)).to_be_visible()
    expect(attacker).to_have_url(re.compile(r"/accounts/login/"))

    desk = new_page(extra_http_headers={"X-Real-IP": "10.8.0.12"})
    login(desk, staff.username)
    expect(desk.get_by_role("heading", name=t("Rounds dashboard"))).to_be_visible()
    assert_clean(desk)
