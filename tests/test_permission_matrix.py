"""Every URL × every role against the expected answer, generated from the URL configuration.

A new URL without an entry in EXPECTED fails ``test_every_url_has_an_entry``. Answers: "ok" (200 for GET; for POST
anything but a login redirect or an error, i.e. the view ran), "login" (redirect to the login page), "404", "403",
"405". POSTs are sent with an empty body and rolled back, so the world is the same for every cell.

Every URL is also sent the other method (POST for a GET entry, GET for a POST entry): whoever is refused one method is
refused the other the same way (or answered 405), so no view checks permission for one method only.
"""

import pytest
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.builders import build_world

ROLES = [
    "anon",
    "applicant_a",
    "applicant_b",
    "judge",
    "judge_unassigned",
    "judge_recused",
    "staff",
    "supervisor",
    "supervisor_unassigned",
    "auditor",
]
USERS = ROLES[1:]
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def expect(default, anon="login", **roles):
    table = {role: default for role in USERS}
    table["anon"] = anon
    table.update(roles)
    return table


PUBLIC = expect("ok", anon="ok")
LOGGED_IN = expect("ok")
STAFF_OBJ = expect("404", staff="ok")  # get_for with a staff-only action on an object
STAFF_PAGE = expect("403", staff="ok")  # require() on a page without an object
STAFF_AUDITOR_OBJ = expect("404", staff="ok", auditor="ok")
STAFF_AUDITOR_PAGE = expect("403", staff="ok", auditor="ok")
UNION_OBJ = expect("404", staff="ok", auditor="ok", supervisor="ok", supervisor_unassigned="ok")
UNION_PAGE = expect("403", staff="ok", auditor="ok", supervisor="ok", supervisor_unassigned="ok")
# The supervisor is assigned to A's funded project, so sees what is behind it; the unassigned one sees none of it.
OWN_PROPOSAL = expect("404", applicant_a="ok", staff="ok", auditor="ok", supervisor="ok", judge="ok")
POST_STAFF_OBJ = STAFF_OBJ
PROJECT_VIEW = expect("404", applicant_a="ok", staff="ok", auditor="ok", supervisor="ok")
PROJECT_WRITE = expect("404", applicant_a="ok", staff="ok")
PROJECT_SUPERVISE = expect("404", staff="ok", supervisor="ok")

# url name: (method, expectations)
EXPECTED = {
    "home": ("GET", LOGGED_IN),
    "login": ("GET", expect("302", anon="ok")),  # a logged-in user is sent home
    "signup": ("GET", expect("302", anon="ok")),
    "logout": ("POST", expect("login", anon="login")),
    "password_change": ("GET", LOGGED_IN),
    "password_change_done": ("GET", LOGGED_IN),
    "password_reset": ("GET", PUBLIC),
    "password_reset_done": ("GET", PUBLIC),
    "password_reset_confirm": ("GET", PUBLIC),
    "password_reset_complete": ("GET", PUBLIC),
    "set_language": ("POST", expect("ok", anon="ok")),
    "two_factor_setup": ("GET", LOGGED_IN),
    "two_factor_verify": ("GET", expect("302")),  # nobody in this world has enrolled: sent to the enrolment
    "two_factor_reset": ("GET", STAFF_OBJ),  # another member's; one's own answers 404 (tests/venture/test_security)
    "audit": ("GET", STAFF_AUDITOR_PAGE),
    "audit_export": ("GET", STAFF_AUDITOR_PAGE),
    # organizations
    "organizations:list": ("GET", STAFF_AUDITOR_PAGE),
    "organizations:create": ("GET", expect("403", applicant_a="ok", applicant_b="ok")),
    "organizations:detail": ("GET", expect("404", applicant_a="ok", staff="ok", auditor="ok", supervisor="ok")),
    "organizations:edit": ("GET", expect("404", applicant_a="ok", staff="ok")),
    "organizations:verify": ("POST", STAFF_OBJ),
    "organizations:reject": ("POST", STAFF_OBJ),
    "organizations:resubmit": ("POST", expect("404", applicant_a="ok")),  # members of the organization
    "organizations:invite": ("POST", expect("404", applicant_a="ok")),
    "organizations:certificate": ("GET", expect("404", applicant_a="ok", staff="ok", auditor="ok", supervisor="ok")),
    "organizations:accept_invitation": ("GET", LOGGED_IN),
    # calls and rounds
    "competitions:calls": ("GET", PUBLIC),
    "competitions:call": ("GET", PUBLIC),
    "competitions:rounds": ("GET", UNION_PAGE),
    "competitions:round": ("GET", UNION_OBJ),
    "competitions:advance": ("POST", STAFF_OBJ),
    "competitions:create": ("GET", STAFF_PAGE),
    "competitions:edit": ("GET", STAFF_OBJ),
    "competitions:copy": ("GET", STAFF_OBJ),
    "competitions:categories": ("GET", STAFF_OBJ),
    "competitions:budget_rules": ("GET", STAFF_OBJ),
    "competitions:tranches": ("GET", STAFF_OBJ),
    "competitions:rubric": ("GET", STAFF_OBJ),
    "competitions:evaluation_midterm": ("GET", STAFF_OBJ),
    "competitions:evaluation_final": ("GET", STAFF_OBJ),
    # proposals
    "proposals:create": ("GET", expect("403", applicant_a="302", applicant_b="302")),  # the call is closed: back to it
    "proposals:list": ("GET", STAFF_AUDITOR_OBJ),
    "proposals:detail": ("GET", OWN_PROPOSAL),
    # a finalist's proposal is read-only for everyone; its applicant is sent to the read-only page (issue #18)
    "proposals:edit": ("GET", expect("404", applicant_a="302")),
    "proposals:submit": ("POST", expect("404")),
    "proposals:autosave": ("POST", expect("404")),  # like the edit page: a finalist's proposal is read-only
    "proposals:place_lines": ("POST", expect("404")),
    # A's own earlier proposal: A is sent back to the (closed) call; B's is not found; only applicants start one.
    "proposals:reuse": ("GET", expect("403", applicant_a="302", applicant_b="404")),
    "proposals:withdraw": ("POST", expect("404", applicant_a="ok")),
    "proposals:return": ("POST", STAFF_OBJ),
    "proposals:attachment_add": ("POST", expect("404")),
    "proposals:attachment": ("GET", OWN_PROPOSAL),
    "proposals:attachment_delete": ("POST", expect("404")),
    # screening
    "screening:list": ("GET", STAFF_OBJ),
    "screening:bulk": ("POST", STAFF_OBJ),
    "screening:checklist": ("GET", STAFF_OBJ),
    "results:finalists": ("GET", STAFF_OBJ),
    "screening:detail": ("GET", STAFF_OBJ),
    # judging
    "judging:declare": ("GET", expect("404", judge="ok")),
    "judging:sheet": ("GET", expect("404", judge="ok")),
    "judging:unlock": ("POST", STAFF_OBJ),
    "judging:judges": ("GET", STAFF_AUDITOR_PAGE),
    "judging:judge_create": ("GET", STAFF_PAGE),
    "judging:panel": ("GET", STAFF_OBJ),
    "judging:conflicts": ("GET", STAFF_AUDITOR_OBJ),
    "judging:override": ("POST", STAFF_OBJ),
    "judging:ranking": ("GET", STAFF_OBJ),
    "judging:board": ("GET", STAFF_AUDITOR_PAGE),
    "judging:board_cells": ("GET", STAFF_AUDITOR_PAGE),
    "judging:progress": ("GET", STAFF_AUDITOR_PAGE),
    "judging:remind": ("POST", STAFF_PAGE),
    "judging:roadshow": ("GET", STAFF_PAGE),
    "judging:projector": ("GET", STAFF_AUDITOR_PAGE),
    "judging:projector_state": ("GET", STAFF_AUDITOR_PAGE),
    "judging:hall_board": ("GET", STAFF_AUDITOR_PAGE),
    "judging:hall_board_cells": ("GET", STAFF_AUDITOR_PAGE),
    "judging:day_state": ("GET", expect("404", judge="ok", staff="ok", auditor="ok")),  # the final panel's judges
    # results, awards, notice
    "results:results": ("GET", STAFF_AUDITOR_OBJ),
    "results:freeze": ("POST", STAFF_OBJ),
    "results:verify": ("GET", STAFF_AUDITOR_OBJ),
    "results:sign_off": ("POST", expect("404", auditor="ok")),
    "results:unlock": ("POST", STAFF_OBJ),
    "results:report_pdf": ("GET", STAFF_AUDITOR_OBJ),
    "results:reveal": ("GET", STAFF_OBJ),
    "awards:awards": ("GET", STAFF_OBJ),
    "awards:propose": ("POST", STAFF_OBJ),
    "awards:grades": ("POST", STAFF_OBJ),
    "awards:calendar": ("GET", STAFF_PAGE),  # issue #18: a year's statutory holidays
    "awards:award_edit": ("GET", STAFF_OBJ),
    "awards:award_add": ("POST", STAFF_OBJ),
    "awards:notice_publish": ("POST", STAFF_OBJ),
    "awards:notice_close": ("POST", STAFF_OBJ),
    "awards:notice_reopen": ("POST", STAFF_OBJ),
    "awards:objection_handle": ("POST", STAFF_OBJ),
    "awards:notice": ("GET", PUBLIC),
    "awards:objection": ("GET", expect("302", anon="302")),  # the notice is closed: back to the notice page
    "awards:my_result": ("GET", expect("404", applicant_a="ok")),
    # documents
    "documents:application_book": ("GET", OWN_PROPOSAL),
    "documents:finalists_book": ("GET", STAFF_AUDITOR_OBJ),
    "documents:blank_sheet": ("GET", expect("ok", applicant_a="404", applicant_b="404")),  # judges print it
    "documents:filled_sheet": ("GET", expect("404", judge="ok", staff="ok", auditor="ok")),
    "documents:notice": ("GET", PUBLIC),
    "documents:manual": ("GET", LOGGED_IN),  # the judge chapter; the applicant chapter is public (test_help.py)
    "help:index": ("GET", PUBLIC),
    "help:explainer": ("GET", PUBLIC),
    "help:chapter": ("GET", LOGGED_IN),  # the staff chapter; the applicant chapter is public (test_help.py)
    "documents:agreement": ("GET", expect("404", applicant_a="ok", staff="ok", auditor="ok", supervisor="ok")),
    "documents:guide": ("GET", PUBLIC),  # the call is public
    "documents:budget_template": ("GET", PUBLIC),
    "documents:proposals": ("GET", STAFF_AUDITOR_OBJ),
    "documents:scores": ("GET", STAFF_AUDITOR_OBJ),
    "documents:ranking": ("GET", STAFF_AUDITOR_OBJ),
    "documents:sheet_bundle": ("GET", STAFF_AUDITOR_OBJ),
    # supervision
    "supervision:portfolio": (
        "GET",
        expect("403", staff="ok", auditor="ok", supervisor="ok", supervisor_unassigned="ok"),
    ),  # their own projects only: none
    "supervision:sign": ("POST", STAFF_OBJ),
    "supervision:project": ("GET", PROJECT_VIEW),
    "supervision:report_pdf": ("GET", PROJECT_VIEW),
    "supervision:supervisors": ("POST", STAFF_OBJ),
    "supervision:revise": ("POST", STAFF_OBJ),
    "supervision:reinstate": ("POST", STAFF_OBJ),
    "supervision:close": ("POST", STAFF_OBJ),
    "supervision:refund": ("POST", STAFF_OBJ),
    "supervision:ledger_correct": ("GET", PROJECT_WRITE),
    "supervision:ledger_receipt": ("POST", PROJECT_WRITE),
    "supervision:duplicate_invoices": ("GET", PROJECT_SUPERVISE),
    "supervision:rectification_event_evidence": ("GET", PROJECT_VIEW),
    "supervision:release": ("POST", STAFF_OBJ),
    "supervision:ledger": ("GET", PROJECT_VIEW),
    "supervision:ledger_add": ("POST", PROJECT_WRITE),
    "supervision:ledger_import": ("POST", PROJECT_WRITE),
    "supervision:ledger_import_status": ("GET", expect("404")),  # a task of no import of this project: 404 for all
    "background:failed": ("GET", STAFF_PAGE),
    "background:retry": ("POST", expect("404")),  # get_for on failed tasks: an unknown one is 404 for staff too
    "supervision:ledger_template": ("GET", PROJECT_VIEW),
    "supervision:ledger_export": ("GET", PROJECT_VIEW),
    "supervision:receipt": ("GET", PROJECT_VIEW),
    "supervision:report": ("GET", PROJECT_VIEW),
    "supervision:report_review": ("POST", PROJECT_SUPERVISE),
    "supervision:report_photo": ("GET", PROJECT_VIEW),
    "supervision:visit_new": ("GET", PROJECT_SUPERVISE),
    "supervision:visit_photo": ("GET", PROJECT_VIEW),
    "supervision:rectification_add": ("POST", PROJECT_SUPERVISE),
    "supervision:rectification": ("GET", PROJECT_VIEW),
    "supervision:rectification_answer": ("POST", PROJECT_WRITE),
    "supervision:rectification_review": ("POST", PROJECT_SUPERVISE),
    "supervision:rectification_evidence": ("GET", PROJECT_VIEW),
    "supervision:evaluation_new": ("GET", PROJECT_SUPERVISE),
    "supervision:feedback": ("GET", PUBLIC),
    "notifications:inbox": ("GET", LOGGED_IN),
    "notifications:badge": ("GET", LOGGED_IN),
    "notifications:read": ("POST", expect("404", applicant_a="ok")),  # one's own notification only
    "notifications:read_all": ("POST", LOGGED_IN),
    "notifications:round": ("GET", STAFF_OBJ),
    "notifications:round_test": ("POST", STAFF_OBJ),
}


def url_names():
    def walk(patterns, ns=None):
        for p in patterns:
            if isinstance(p, URLResolver):
                if p.namespace == "admin":
                    continue
                yield from walk(p.url_patterns, p.namespace or ns)
            elif isinstance(p, URLPattern) and p.name:
                yield f"{ns}:{p.name}" if ns else p.name

    return sorted(set(walk(get_resolver().url_patterns)))


def test_every_url_has_an_entry():
    missing = [name for name in url_names() if name not in EXPECTED]
    assert missing == [], f"add these URLs to the permission matrix: {missing}"
    stale = [name for name in EXPECTED if name not in url_names()]
    assert stale == [], f"these entries name no URL: {stale}"


def classify(response, method):
    code = response.status_code
    location = response.get("Location", "")
    if code == 302 and location.startswith("/accounts/login/"):
        return "login"
    if code in (403, 404, 405):
        return str(code)
    if code >= 500:
        return "500"
    if method == "GET":
        return "ok" if code == 200 else f"{code}"
    return "ok"


REFUSALS = {"login", "403", "404"}


def other_method_agrees(expected, got):
    """The other method: a refusal must be the same refusal (or 405); an allowed role must not hit a server error."""
    if expected in REFUSALS:
        return got in (expected, "405")
    return got != "500"


@pytest.mark.django_db
def test_every_url_answers_every_role_as_expected(settings):
    settings.RATELIMIT_ENABLE = False
    users, kwargs = build_world()
    clients = {"anon": Client()}
    for role, user in users.items():
        clients[role] = Client()
        clients[role].force_login(user)
    mismatches = []
    for name in url_names():
        if name not in EXPECTED:
            continue
        method, expected = EXPECTED[name]
        url = reverse(name, kwargs=kwargs.get(name, {}))
        for role in ROLES:
            client = clients[role]
            for sent in (method, "POST" if method == "GET" else "GET"):
                with transaction.atomic():
                    response = client.get(url) if sent == "GET" else client.post(url, {})
                    transaction.set_rollback(True)
                if role != "anon" and name == "logout":
                    client.force_login(users[role])
                got = classify(response, sent)
                agrees = got == expected[role] if sent == method else other_method_agrees(expected[role], got)
                if not agrees:
                    mismatches.append(
                        f"{name} {sent} as {role}: expected {expected[role]}"
                        f"{'' if sent == method else ' (or 405)'}, got {got}"
                        f" ({response.status_code} {response.get('Location', '')})"
                    )
    assert mismatches == [], "\n".join(mismatches)
