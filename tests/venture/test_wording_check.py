"""Issue #18, "a wording check that keeps it so": every page of the demo, as every role, in both languages, reads as
a native speaker wrote it.

The check crawls from each role's home page, following every same-site GET link (``<a href>``, ``hx-get`` and the
action of GET forms) except logout, the admin, downloads and anything that changes state, and visits at most
``PER_URL_NAME`` URLs per URL name so the run stays short. On every page it checks the visible text (``<script>``
and ``<style>`` stripped; the attributes people see — title, placeholder, aria-label, alt and the value of input buttons —
added) after removing user data (every string the demo stored in a text field of any model), and fails on

(a) a Latin-letter word in the Chinese UI outside ``LATIN_ALLOWED``,
(b) Han characters in the English UI outside ``HAN_ALLOWED``,
(c) an ASCII colon or full stop directly after a Han character in the Chinese UI.

All failures of a role and language are listed at once, each with the URL, the role, the language and the snippet.
"""

import re
from collections import Counter, deque
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from django.apps import apps
from django.db import models, transaction
from django.test import override_settings
from django.urls import Resolver404, resolve

from venture.accounts.models import User
from venture.demo import builder

# At most this many URLs per URL name (resolve(path).view_name) per role and language: a second object of the same
# page mostly shows the same template with other data, and the run must stay short (CI's budget).
PER_URL_NAME = 2

# The roles of the demo and the account each is tried as. applicant1's organization has a project under supervision
# in last year's round and a proposal in the demo round, so the NGO sees both halves of the lifecycle.
ROLES = {
    "staff": "staff",
    "judge": "judge1",
    "applicant": "applicant1",
    "supervisor": "supervisor",
    "auditor": "auditor",
}
LANGUAGES = ["zh-hans", "en"]

# Views never visited: they change state on GET, end the session, are the admin (Django's own wording), or answer a
# download (a PDF, an xlsx, a csv, an uploaded file) rather than a page. Downloads are skipped before the request,
# because rendering every PDF would cost the run most of its time; any other response that is not HTML is skipped
# after it.
SKIPPED_VIEWS = {
    "logout",  # ends the session
    "set_language",  # POST only; the crawl switches language by cookie
    "audit_export",  # csv
    "organizations:certificate",  # the uploaded registration certificate
    "proposals:attachment",  # an uploaded attachment
    "proposals:autosave",  # saves the draft
    "results:report_pdf",
    "supervision:report_pdf",
    "supervision:ledger_template",  # xlsx
    "supervision:ledger_export",  # xlsx
    "supervision:receipt",  # uploaded vouchers and photos
    "supervision:report_photo",
    "supervision:visit_photo",
    "supervision:rectification_evidence",
    "supervision:rectification_event_evidence",
    "supervision:ledger_receipt",
    "notifications:read",  # marks a notification read
    "notifications:read_all",
}
SKIPPED_NAMESPACES = {"admin", "documents"}  # Django's admin; every PDF and export of venture.documents

# (a) Latin-letter words allowed in the Chinese UI. Each is a name, a code or a unit a Chinese reader uses as is.
LATIN_ALLOWED = {
    "English": "the language switcher names English in English, as every bilingual site does",
    "PDF": "file format",
    "Excel": "product name",
    "xlsx": "file extension",
    "csv": "file extension",
    "CSV": "file format",
    "USCC": "统一社会信用代码's abbreviation, printed on the registration certificate",
    "SHA-256": "hash algorithm's name, shown beside the results snapshot's fingerprint",
    "WeCom": "企业微信's product name, as its robot settings page calls it",
    "Markdown": "markup name, beside the call text's editor",
    "HTML": "markup name, in the call text editor's help (HTML is removed)",
    "JPEG": "file format",
    "PNG": "file format",
    "MB": "unit of file size",
    "ICC": "the intraclass correlation coefficient's standard symbol, after its Chinese name 组内相关系数",
    "FreeOTP": "product name of an authenticator app, in the two-factor set-up",
    "Google": "product name (Google Authenticator), in the two-factor set-up",
    "Microsoft": "product name (Microsoft Authenticator), in the two-factor set-up",
    "Authenticator": "part of the two product names above",
    "Webhook": "the WeCom group robot's own term for its address (企业微信 calls it Webhook 地址)",
    "shehuixiaoyi": "an example of a criterion code generated from 社会效益, the code being what the help explains",
}

# Latin letters allowed in the Chinese UI where they are part of a notation, a code or an address; what matches is
# removed before the check.
LATIN_ALLOWED_PATTERNS = [
    (r"https?://\S+", "a web address (the WeCom robot's, a feedback link)"),
    (r"ICC\([1AC],[1k]\)", "the standard notation of the ICC's forms, ICC(A,1) and so on"),
    (r"(?<![A-Za-z])W(?= = |（)", "Kendall's W, the standard symbol, after its Chinese name 肯德尔和谐系数"),
    (r"(?<![A-Za-z])N(?= 键)", "the keyboard key N"),
    (
        r"(?<=字母 )[A-Z]|(?<![A-Za-z])[A-Z](?:、[A-Z])+(?![A-Za-z])",
        "letters named as letters: which ones a USCC never contains",
    ),
    (r"(?<![A-Za-z0-9])[A-Z2-7]{32}(?![A-Za-z0-9])", "the two-factor secret key (base32), typed by hand"),
    (
        r"(?<![A-Za-z0-9])(?=[0-9a-f]*[0-9])[0-9a-f]{8,}(?![A-Za-z0-9])",
        "a hash in hexadecimal, a code: the audit chain's last hash, the results digest's first 8 characters on the "
        "reveal (only when it starts with a letter is it read as a word: the digest decides, so a rule for it)",
    ),
    (r"docs/scoring\.md|verify_results", "a document's path and a command's name, quoted for readers who run them"),
]

# (b) Han characters allowed in the English UI.
HAN_ALLOWED = {
    "中文": "the language switcher names Chinese in Chinese, as every bilingual site does",
}

HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
NUMBER = re.compile(r"[-+¥%.,:/\s\d]+")  # amounts, dates, times: stored as text by some fields, never a word
HAN_RUN = re.compile(f"[{HAN}]+")
HAN_CHAR = re.compile(f"[{HAN}]")
WORD_CHAR = re.compile(r"[A-Za-z0-9_]")
LATIN_WORD = re.compile(r"(?<![A-Za-z0-9_])[A-Za-z][A-Za-z0-9]*(?:[-_.'’][A-Za-z0-9]+)*")
HAN_THEN_ASCII_PUNCTUATION = re.compile(f"[{HAN}\u3007][:.]")

# Placeholders that stand in for removed user data: the Han-like one where the datum ends in a Han character, so that
# (c) still sees "<a name>:" written by the UI.
HAN_PLACEHOLDER = "\u3007"
OTHER_PLACEHOLDER = "\u2063"

INLINE = {"a", "abbr", "b", "bdi", "code", "em", "i", "kbd", "mark", "q", "s", "small", "span", "strong", "sub",
          "sup", "time", "u", "var", "label", "tspan"}  # fmt: skip
VISIBLE_ATTRIBUTES = ("title", "placeholder", "aria-label", "alt")
NOT_SHOWN = {"script", "style"}


class Page(HTMLParser):
    """The text a person sees on a page, and the same-site GET links it offers."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts, self.links, self.hidden = [], [], 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in NOT_SHOWN:
            self.hidden += 1
            return
        if tag not in INLINE:
            self.parts.append("\n")
        for name in VISIBLE_ATTRIBUTES:
            if a.get(name):
                self.parts.append(f"\n{a[name]}\n")
        if tag == "input" and a.get("type") in ("submit", "button", "reset") and a.get("value"):
            self.parts.append(f"\n{a['value']}\n")
        if tag == "a" and a.get("href") and "download" not in a:
            self.links.append(a["href"])
        if a.get("hx-get"):
            self.links.append(a["hx-get"])
        if tag == "form" and (a.get("method") or "get").lower() == "get" and a.get("action"):
            self.links.append(a["action"])

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag in NOT_SHOWN:
            self.hidden -= 1

    def handle_endtag(self, tag):
        if tag in NOT_SHOWN:
            self.hidden = max(0, self.hidden - 1)
        elif tag not in INLINE:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self.hidden:
            self.parts.append(data)

    def text(self):
        lines = (re.sub(r"\s+", " ", line).strip() for line in "".join(self.parts).split("\n"))
        return "\n".join(line for line in lines if line)


def stored_strings():
    """Every string the demo stored in a free-text field of any model (not in a field with choices: those hold codes
    that the UI must translate), with each line of a multi-line one, whitespace collapsed; and the Chinese strings
    inside JSON fields (a rubric's band labels). One-letter Latin strings and numbers are left out: removing them
    would hide UI words."""
    found = set()

    def add(value):
        for line in [value, *value.splitlines()]:
            line = re.sub(r"\s+", " ", re.sub(r"^\s*(#+|[-*>]|\d+\.)\s+", "", line)).strip()
            if (len(line) > 1 or HAN_CHAR.search(line)) and not NUMBER.fullmatch(line):
                found.add(line)

    def add_json(value):
        if isinstance(value, str) and HAN_CHAR.search(value):
            add(value)
        elif isinstance(value, dict):
            for item in value.values():
                add_json(item)
        elif isinstance(value, list):
            for item in value:
                add_json(item)

    for model in apps.get_models():
        text = [
            f.attname
            for f in model._meta.concrete_fields
            if isinstance(f, (models.CharField, models.TextField)) and not f.choices and f.name != "password"
        ]
        json = [f.attname for f in model._meta.concrete_fields if isinstance(f, models.JSONField)]
        if not text and not json:
            continue
        for row in model._default_manager.values_list(*text, *json):
            for value in row[: len(text)]:
                if value:
                    add(str(value))
            for value in row[len(text) :]:
                add_json(value)
    return found


def trie_pattern(words):
    """One regular expression matching any of ``words``, longest first, or the first four or more characters of one
    followed by "…" (a title cut short by ``truncatechars``). Built as a trie so that it stays fast with thousands of
    words (a plain alternation tries each word at each position)."""
    trie = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = True

    def build(node, depth):
        ends = "" in node
        branches = [re.escape(ch) + build(child, depth + 1) for ch, child in sorted(node.items()) if ch]
        if depth >= 4 and branches:
            branches.append("…")
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if ends else body

    return re.compile(build(trie, 0))


class UserData:
    def __init__(self, strings):
        self.pattern = trie_pattern(strings)

    def remove(self, text):
        def placeholder(match):
            start, end, found = match.start(), match.end(), match.group()
            inside_a_word = (start > 0 and WORD_CHAR.match(text[start - 1]) and WORD_CHAR.match(found[0])) or (
                end < len(text) and WORD_CHAR.match(text[end]) and WORD_CHAR.match(found[-1])
            )
            if inside_a_word:  # "results" inside "verify_results" is no datum
                return found
            return HAN_PLACEHOLDER if HAN_CHAR.match(found[-1]) else OTHER_PLACEHOLDER

        return self.pattern.sub(placeholder, text)


ALLOWED_IN_CHINESE = re.compile("|".join(f"(?:{pattern})" for pattern, _why in LATIN_ALLOWED_PATTERNS))


def problems(text, language):
    found = []
    for line in text.split("\n"):
        if language == "zh-hans":
            line = ALLOWED_IN_CHINESE.sub(OTHER_PLACEHOLDER, line)
            for m in LATIN_WORD.finditer(line):
                if m.group() not in LATIN_ALLOWED:
                    found.append(("latin word", m.group(), line))
            for m in HAN_THEN_ASCII_PUNCTUATION.finditer(line):
                found.append(("ascii punctuation after Han", m.group(), line))
        else:
            for m in HAN_RUN.finditer(line):
                if not any(m.group() in allowed for allowed in HAN_ALLOWED):
                    found.append(("Han characters", m.group(), line))
    return found


def snippet(line, word):
    at = max(0, line.find(word))
    shown = line[max(0, at - 30) : at + len(word) + 30]
    return shown.replace(HAN_PLACEHOLDER, "〈data〉").replace(OTHER_PLACEHOLDER, "〈data〉")


def view_name(path):
    try:
        return resolve(path).view_name
    except Resolver404:
        return None


def crawl(client, language, user_data):
    """Visit every reachable page; return (failures, visited URLs)."""
    client.cookies["django_language"] = language
    queue, seen, per_name, failures, visited = deque(["/"]), {"/"}, Counter(), [], []
    while queue:
        url = queue.popleft()
        name = view_name(urlsplit(url).path)
        if name is None or name in SKIPPED_VIEWS or name.split(":")[0] in SKIPPED_NAMESPACES:
            continue
        if per_name[name] >= PER_URL_NAME:
            continue
        per_name[name] += 1
        response = client.get(url)
        visited.append((url, response.status_code))
        links = []
        if response.status_code in (301, 302) and response.get("Location"):
            links.append(response["Location"])
        elif response.get("Content-Type", "").startswith("text/html"):
            page = Page()
            page.feed(response.content.decode())
            links = page.links
            for kind, word, line in problems(user_data.remove(page.text()), language):
                failures.append(f"{url} [{language}] {kind}: {word!r} in {snippet(line, word)!r}")
        for link in links:
            target = urljoin(url, link.strip())
            parts = urlsplit(target)
            if parts.scheme not in ("", "http", "https") or parts.netloc not in ("", "testserver"):
                continue
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            if target not in seen:
                seen.add(target)
                queue.append(target)
    return failures, visited


@pytest.fixture(scope="module")
def demo_world(django_db_setup, django_db_blocker, tmp_path_factory):
    """The demo, built once for the module inside a transaction that is rolled back at the end (as in
    tests/venture/test_demo.py), with the user data the check removes from every page."""
    folder = tmp_path_factory.mktemp("demo")
    quick = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    outer = transaction.atomic()
    with django_db_blocker.unblock():
        outer.__enter__()
        try:
            with override_settings(MEDIA_ROOT=folder / "media", DATA_DIR=folder, PASSWORD_HASHERS=quick):
                assert builder.build() is True
            data = UserData(stored_strings())
        except BaseException:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
            raise
    yield folder, data
    with django_db_blocker.unblock():
        transaction.set_rollback(True)
        outer.__exit__(None, None, None)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("role", list(ROLES))
def test_every_page_reads_in_the_ui_language(client, demo_world, db, settings, role, language):
    folder, user_data = demo_world
    settings.MEDIA_ROOT, settings.DATA_DIR = folder / "media", folder
    client.force_login(User.objects.get(username=ROLES[role]))
    failures, visited = crawl(client, language, user_data)
    assert len(visited) > 5, visited
    assert not failures, f"{role}: {len(failures)} wording problem(s) on {len(visited)} pages:\n" + "\n".join(
        f"{role} {f}" for f in failures
    )


def test_the_check_finds_each_kind_of_problem_and_leaves_user_data_and_hidden_code_alone():
    page = Page()
    page.feed(
        '<h1>项目: <span>Category</span> 张三</h1><script>var label = "类别:";</script><style>p{}</style>'
        '<input type="submit" value="Save"><button name="language" value="en">中文</button>'
        '<img alt="照片.">示范计划（金水…<p>Chinese 张三 PDF</p><a href="/x/">ok</a>'
    )
    assert page.text() == "项目: Category 张三\nSave\n中文\n照片.\n示范计划（金水…\nChinese 张三 PDF\nok"
    assert page.links == ["/x/"]
    data = UserData({"张三", "示范计划（金水区）"})
    text = data.remove(page.text())
    assert problems(text, "zh-hans") == [
        ("latin word", "Category", "项目: Category 〇"),
        ("ascii punctuation after Han", "目:", "项目: Category 〇"),
        ("latin word", "Save", "Save"),
        ("ascii punctuation after Han", "片.", "照片."),
        ("latin word", "Chinese", f"Chinese {HAN_PLACEHOLDER} PDF"),
        ("latin word", "ok", "ok"),
    ]
    assert problems(text, "en") == [
        ("Han characters", "项目", "项目: Category 〇"),
        ("Han characters", "照片", "照片."),
    ]
