"""The user manual (issue #21): the chapters in the app and as PDFs, search, the "?" link, the explainer, and the
check that every step the manual names is still on its page (run on the demo, the data the screenshots come from)."""

import html
import io
import re
from pathlib import Path

import pypdf
import pytest
from django.core.management import call_command
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import translation

from venture.accounts.models import User
from venture.competitions.models import Competition
from venture.demo import builder
from venture.help import manual, samples
from venture.markup import render_manual, render_markdown

ROOT = Path(__file__).resolve().parents[2]
STEPS = manual.all_steps()
MESSAGE = re.compile(r'<!--\s*message\s+msgid="([^"]*)"\s*-->')
LANG = {"zh_Hans": "zh-hans", "en": "en"}


@pytest.fixture(scope="module")
def demo_world(django_db_setup, django_db_blocker, tmp_path_factory):
    """The demo with the manual's draft, built once for the module (as in test_demo.py); each test is rolled back."""
    folder = tmp_path_factory.mktemp("manual-demo")
    quick = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with override_settings(MEDIA_ROOT=folder / "media", DATA_DIR=folder, PASSWORD_HASHERS=quick):
        with django_db_blocker.unblock():
            builder.build()
            samples.prepare_demo()
    yield folder
    with django_db_blocker.unblock():
        call_command("flush", interactive=False, verbosity=0)


@pytest.fixture
def demo(demo_world, db, settings):
    settings.MEDIA_ROOT, settings.DATA_DIR = demo_world / "media", demo_world
    return Competition.objects.get(title=builder.DEMO_ROUND_TITLE)


def client_as(username, language):
    client = Client()
    client.cookies["django_language"] = language
    if username:
        client.force_login(User.objects.get(username=username))
    return client


def visible_text(response):
    """The page's text as a reader sees it: no tags, scripts or styles, entities decoded, whitespace collapsed."""
    page = re.sub(r"(?s)<(script|style|head)\b.*?</\1>", " ", response.content.decode())
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


# --- Every step names a page that exists and texts that are on it ------------------------------------------------


def test_the_manual_has_steps_for_every_role_in_both_languages():
    for language in manual.LANGUAGES:
        for role in manual.ROLES:
            found = manual.chapter(role, language)
            assert found.title, (language, role)
            assert len(found.steps) >= 3, (language, role)
            assert found.sections[-1].anchor == "faq" or any(s.anchor == "faq" for s in found.sections)
    # the two languages describe the same steps on the same pages with the same screenshots
    for role in manual.ROLES:
        zh, en = manual.chapter(role, "zh_Hans"), manual.chapter(role, "en")
        assert [(s.page, s.user, s.shot, s.anchor) for s in zh.steps] == [
            (s.page, s.user, s.shot, s.anchor) for s in en.steps
        ]


@pytest.mark.parametrize("step", STEPS, ids=[f"{s.language}-{s.role}-{s.anchor}-{s.shot}" for s in STEPS])
def test_every_step_names_texts_that_are_on_its_page(demo, step):
    url = samples.page_url(step)
    response = client_as(step.user, LANG[step.language]).get(url)
    assert response.status_code == 200, (step, url)
    text = visible_text(response)
    missing = [t for t in step.texts if t not in text]
    assert missing == [], f"{step.language}/{step.role}.md #{step.anchor}: not on {step.page} ({url}): {missing}"


def test_a_step_whose_text_is_gone_fails_the_check(demo):
    step = manual.Step(
        page="home",
        user="judge1",
        texts=("我的评审任务", "不存在的按钮"),
        shot="x",
        anchor="a",
        language="zh_Hans",
        role="judge",
    )
    text = visible_text(client_as(step.user, "zh-hans").get(samples.page_url(step)))
    assert [t for t in step.texts if t not in text] == ["不存在的按钮"]


@pytest.mark.parametrize("step", STEPS, ids=[f"{s.language}-{s.shot}" for s in STEPS])
def test_every_step_has_its_screenshot_in_the_chapter(step):
    source = (manual.MANUAL_DIR / step.language / f"{step.role}.md").read_text(encoding="utf-8")
    assert f"](../img/{step.language}/{step.shot}.png)" in source
    assert step.image.is_file(), f"{step.image} is missing: run `make manual`"
    assert step.image.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_messages_in_common_problems_are_the_apps_own():
    """Each "common problem" quotes a message the code raises, translated in the catalogue."""
    code = "\n".join(p.read_text(encoding="utf-8") for d in ("venture", "judging") for p in (ROOT / d).rglob("*.py"))
    for language in manual.LANGUAGES:
        for role in manual.ROLES:
            source = (manual.MANUAL_DIR / language / f"{role}.md").read_text(encoding="utf-8")
            msgids = MESSAGE.findall(source)
            assert len(msgids) >= 2, (language, role)
            for msgid in msgids:
                assert f'"{msgid}"' in code, msgid
                with translation.override("zh-hans"):
                    assert translation.gettext(msgid) != msgid, msgid


def test_the_uscc_problem_quotes_the_message_word_for_word():
    with translation.override("zh-hans"):
        message = translation.gettext(
            "The check digit of this unified social credit code is wrong; please check the code."
        )
    assert message == "该统一社会信用代码的校验位有误，请核对。"
    assert f"### “{message}” {{#faq-uscc}}" in (manual.MANUAL_DIR / "zh_Hans" / "applicant.md").read_text("utf-8")


# --- /help/ ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "role", "title"),
    [
        ("zh-hans", "applicant", "申报单位操作手册"),
        ("zh-hans", "judge", "评委操作手册"),
        ("zh-hans", "staff", "工会工作人员操作手册"),
        ("zh-hans", "auditor", "监督审计人员操作手册"),
        ("zh-hans", "supervisor", "督导员操作手册"),
        ("en", "applicant", "Manual for applicants"),
        ("en", "judge", "Manual for judges"),
        ("en", "staff", "Manual for union staff"),
        ("en", "auditor", "Manual for auditors"),
        ("en", "supervisor", "Manual for supervisors"),
    ],
)
def test_each_chapter_is_shown_in_the_ui_language(db, language, role, title):
    user = User.objects.create_user("reader", password="x", role="judge")
    client = client_as("", language)
    client.force_login(user)
    response = client.get(reverse("help:chapter", kwargs={"role": role}))
    assert response.status_code == 200
    body = response.content.decode()
    assert f'<h1 id="{role}">{title}</h1>' in body
    assert '<h2 id="faq">' in body
    shot = manual.chapter(role, "zh_Hans" if language == "zh-hans" else "en").steps[0].shot
    folder = "zh_Hans" if language == "zh-hans" else "en"
    assert f'src="/static/manual/{folder}/{shot}.png"' in body
    assert "<!--" not in body.split('<article class="manual">')[1].split("</article>")[0]


def test_the_applicant_chapter_is_public_and_the_others_need_a_login(db):
    anonymous = Client()
    assert anonymous.get("/help/applicant/").status_code == 200
    response = anonymous.get("/help/staff/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/help/staff/"
    assert anonymous.get("/help/nobody/").status_code == 404
    assert anonymous.get("/help/how-we-judge/").status_code == 200
    index = anonymous.get("/help/").content.decode()
    assert 'href="/help/applicant/"' in index
    assert 'href="/help/staff/"' not in index


def test_the_index_lists_every_chapter_for_a_signed_in_user(db):
    client = client_as("", "zh-hans")
    client.force_login(User.objects.create_user("applicant_x", password="x", role="applicant"))
    body = client.get("/help/").content.decode()
    for role in manual.ROLES:
        assert f'href="/help/{role}/"' in body
        assert f'href="/documents/manual/zh-hans/{role}.pdf"' in body
    assert 'href="/help/applicant/#budget"' in body
    assert 'href="/help/how-we-judge/"' in body


def test_search_finds_sections_and_links_to_their_anchors(db):
    body = Client().get("/help/", {"q": "校验位"}).content.decode()
    assert 'href="/help/applicant/#faq-uscc"' in body
    assert "1 个章节" in body or "1 section" in body or "找到 1" in body
    english = client_as("", "en").get("/help/", {"q": "check digit"}).content.decode()
    assert 'href="/help/applicant/#faq-uscc"' in english
    assert "data-help-results" in Client().get("/help/", {"q": "不存在的词语组合"}).content.decode()


def test_search_ranks_title_hits_first_and_needs_every_word():
    chapters = manual.chapters("zh_Hans")
    results = manual.search("支出台账", chapters)
    assert (results[0]["chapter"].role, results[0]["section"].anchor) == ("applicant", "ledger")
    assert manual.search("支出台账 不存在的词", chapters) == []
    assert manual.search("   ", chapters) == []


def test_search_leaves_out_chapters_the_reader_may_not_see(db):
    body = Client().get("/help/", {"q": "审计日志"}).content.decode()
    assert "/help/auditor/" not in body


# --- The "?" link -------------------------------------------------------------------------------------------------


def help_href(response):
    return re.search(r'href="([^"]*)"[^>]*data-help-link', response.content.decode()).group(1)


def test_the_question_mark_opens_the_section_of_the_current_page(demo):
    assert help_href(client_as("judge1", "zh-hans").get("/")) == "/help/judge/#assignments"
    assert help_href(client_as("auditor", "zh-hans").get("/audit/")) == "/help/auditor/#audit-trail"
    draft = samples.page_url(manual.chapter("applicant", "zh_Hans").steps[4])
    assert help_href(client_as("applicant1", "zh-hans").get(draft)) == "/help/applicant/#budget"
    results = reverse("results:results", kwargs={"competition_pk": demo.pk})
    assert help_href(client_as("staff", "zh-hans").get(results)) == "/help/staff/#freeze"
    assert help_href(client_as("auditor", "zh-hans").get(results)) == "/help/auditor/#sign-off"
    # a visitor on the public call page is sent to the applicant chapter
    call = reverse("competitions:call", kwargs={"pk": samples._open_round().pk})
    assert help_href(Client().get(call)) == "/help/applicant/#call"
    # a page no step names opens the top of the reader's own chapter
    assert help_href(client_as("staff", "zh-hans").get("/accounts/password/change/")) == "/help/staff/"


def test_help_target_prefers_the_readers_chapter():
    assert manual.help_target("results:results", "auditor", "zh-hans") == ("auditor", "sign-off")
    assert manual.help_target("results:results", "staff", "en") == ("staff", "freeze")
    assert manual.help_target("supervision:rectification", "judge", "en") == ("applicant", "rectification")
    assert manual.help_target("admin:index", "judge", "en") == ("judge", "")


# --- PDFs ---------------------------------------------------------------------------------------------------------


def pdf_text(response):
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(response.content)).pages)


@pytest.mark.parametrize(
    ("language", "role", "title", "contents", "section"),
    [
        ("zh-hans", "applicant", "申报单位操作手册", "目录", "填写项目内容和预算明细"),
        ("en", "applicant", "Manual for applicants", "Contents", "Write the proposal and its itemized budget"),
        ("zh-hans", "judge", "评委操作手册", "目录", "声明利益冲突"),
        ("en", "judge", "Manual for judges", "Contents", "Declare conflicts of interest"),
        ("zh-hans", "staff", "工会工作人员操作手册", "目录", "冻结评审结果"),
        ("en", "staff", "Manual for union staff", "Contents", "Freeze the results"),
        ("zh-hans", "auditor", "监督审计人员操作手册", "目录", "核验并签批评审结果"),
        ("en", "auditor", "Manual for auditors", "Contents", "Verify and sign off the results"),
        ("zh-hans", "supervisor", "督导员操作手册", "目录", "登记实地走访"),
        ("en", "supervisor", "Manual for supervisors", "Contents", "Record a site visit"),
    ],
)
def test_each_role_has_a_pdf_in_each_language_with_contents(db, language, role, title, contents, section):
    client = Client()
    client.force_login(User.objects.create_user("reader", password="x", role="supervisor"))
    response = client.get(reverse("documents:manual", kwargs={"language": language, "role": role}))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text = pdf_text(response)
    compact = re.sub(r"\s+", "", text)
    assert re.sub(r"\s+", "", title) in compact
    assert contents in text
    assert re.sub(r"\s+", "", section) in compact
    # the contents page lists the section before the chapter repeats it as a heading
    assert compact.count(re.sub(r"\s+", "", section)) >= 2


def test_the_applicant_pdf_is_public_and_the_others_need_a_login(db):
    anonymous = Client()
    assert anonymous.get("/documents/manual/zh-hans/applicant.pdf").status_code == 200
    response = anonymous.get("/documents/manual/zh-hans/judge.pdf")
    assert (response.status_code, response["Location"]) == (
        302,
        "/accounts/login/?next=/documents/manual/zh-hans/judge.pdf",
    )
    assert anonymous.get("/documents/manual/fr/applicant.pdf").status_code == 404
    assert anonymous.get("/documents/manual/en/how-we-judge.pdf").status_code == 404
    assert anonymous.get("/documents/manual/en/nobody.pdf").status_code == 404


# --- The explainer ------------------------------------------------------------------------------------------------


def test_the_explainer_is_public_and_explains_the_method(db):
    body = Client().get("/help/how-we-judge/").content.decode()
    assert '<h1 id="how-we-judge">我们如何评审</h1>' in body
    for anchor in ("rubric", "method", "tie-break", "digest", "check"):
        assert f'id="{anchor}"' in body
    assert "（85 + 82 + 80）÷ 3 = 82.33" in body
    english = client_as("", "en").get("/help/how-we-judge/").content.decode()
    assert '<h1 id="how-we-judge">How we judge</h1>' in english


def test_the_notice_and_the_call_link_to_the_explainer(demo):
    notice = Client().get(reverse("awards:notice", kwargs={"competition_pk": demo.pk})).content.decode()
    assert re.search(r'href="/help/how-we-judge/" data-explainer', notice)
    call = Client().get(reverse("competitions:call", kwargs={"pk": demo.pk})).content.decode()
    assert re.search(r'href="/help/how-we-judge/" data-explainer', call)


# --- Sanitising ---------------------------------------------------------------------------------------------------


def test_the_manual_renderer_allows_images_and_anchors_but_nothing_active():
    out = str(
        render_manual(
            '## Step {#step-1}\n\n![alt](/static/manual/x.png){onerror="alert(1)"}\n\n<script>alert(1)</script>\n\n'
            '[x](javascript:alert(1)) <img src=x onerror=alert(1)> <div style="x">y</div>'
        )
    )
    assert '<h2 id="step-1">Step</h2>' in out
    assert '<img alt="alt" src="/static/manual/x.png">' in out
    assert "onerror" not in out and "<script" not in out and "javascript:" not in out and "style=" not in out


def test_call_descriptions_still_allow_no_images_or_ids():
    out = str(render_markdown("## T {#x}\n\n![a](/static/x.png)"))
    assert "<img" not in out and 'id="' not in out
