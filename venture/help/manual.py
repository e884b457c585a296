"""The user manual (操作手册): one Markdown chapter per role and language under ``docs/manual/<lang>/<role>.md``.

A chapter is a ``# title``, a paragraph on what the role does, numbered ``## `` steps and a ``## `` section of
common problems. Every heading carries its anchor (``## 1. 注册账号 {#register}``). A step names the page it
happens on and the link or button texts a reader looks for, in an HTML comment that Markdown leaves out of the page:

    <!-- step page="proposals:edit" user="applicant1" text="保存草稿|保存并提交" shot="applicant-edit" -->

``page`` is the URL name, ``user`` the demo account whose view is shown ("" for a visitor who is not signed in),
``text`` the texts (``|`` between them) that must be on that page in the chapter's language, ``shot`` the screenshot
(``docs/manual/img/<lang>/<shot>.png``, made by ``make manual``); ``device="phone"`` takes it at a phone's width. ``tests/venture/test_help.py`` fails when a named
text is no longer on its page; the "?" link of a page opens the first section whose step names that page.
"""

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.templatetags.static import static
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from venture.markup import render_manual
from venture.roles import Role

MANUAL_DIR = Path(settings.BASE_DIR) / "docs" / "manual"
IMAGE_DIR = MANUAL_DIR / "img"
LANGUAGES = ("zh_Hans", "en")  # folder names, as in locale/
ROLES = (Role.APPLICANT, Role.JUDGE, Role.STAFF, Role.AUDITOR, Role.SUPERVISOR)
PUBLIC_ROLES = frozenset({Role.APPLICANT})
ROLE_TITLES = {
    Role.APPLICANT: _("Applicants (social organizations)"),
    Role.JUDGE: _("Judges"),
    Role.STAFF: _("Union staff"),
    Role.AUDITOR: _("Auditors"),
    Role.SUPERVISOR: _("Supervisors"),
}
EXPLAINER = "how-we-judge"

HEADING = re.compile(r"^(#{1,4})\s+(.+?)\s*\{#([A-Za-z0-9_-]+)\}\s*$")
STEP = re.compile(r"<!--\s*step\s+(.*?)-->", re.S)
ATTRIBUTE = re.compile(r'(\w+)="([^"]*)"')
COMMENT = re.compile(r"<!--.*?-->", re.S)
IMAGE = re.compile(r"\]\(\.\./img/([A-Za-z0-9_/.-]+\.png)\)")
MARKUP = re.compile(r"[#*`>|]|!\[[^\]]*\]\([^)]*\)|\{#[^}]*\}|\]\([^)]*\)|\[")


@dataclass(frozen=True)
class Step:
    page: str
    user: str
    texts: tuple
    shot: str
    anchor: str
    language: str
    role: str
    device: str = "desktop"  # "phone": the screenshot is taken at a phone's width

    @property
    def image(self):
        return IMAGE_DIR / self.language / f"{self.shot}.png"


@dataclass
class Section:
    anchor: str
    title: str
    level: int
    text: str = ""  # the Markdown of the section, without comments


@dataclass
class Chapter:
    role: str
    language: str
    source: str
    title: str = ""
    sections: list = field(default_factory=list)
    steps: list = field(default_factory=list)

    @property
    def public(self):
        return self.role in PUBLIC_ROLES

    @property
    def role_title(self):
        return ROLE_TITLES.get(self.role, "")

    def html(self):
        return render_manual(with_static_images(self.source))

    def toc(self):
        return [{"id": s.anchor, "title": s.title, "level": s.level - 1} for s in self.sections if s.level in (2, 3)]


def language_folder(language=None):
    """The manual folder for a UI language code: Chinese for zh-*, English for everything else."""
    code = (language or get_language() or settings.LANGUAGE_CODE).lower()
    return "zh_Hans" if code.startswith("zh") else "en"


def with_static_images(source):
    """``](../img/zh_Hans/x.png)`` (the path that works on GitHub) becomes the image's static URL."""
    return IMAGE.sub(lambda m: f"]({static('manual/' + m.group(1))})", source)


def parse(source, *, role, language):
    chapter = Chapter(role=role, language=language, source=source)
    current = None
    for line in source.splitlines():
        heading = HEADING.match(line)
        if heading:
            level, title, anchor = len(heading.group(1)), heading.group(2), heading.group(3)
            if level == 1:
                chapter.title = title
            current = Section(anchor=anchor, title=title, level=level)
            chapter.sections.append(current)
            continue
        if current is not None:
            current.text += line + "\n"
    for section in chapter.sections:
        for match in STEP.finditer(section.text):
            attributes = dict(ATTRIBUTE.findall(match.group(1)))
            chapter.steps.append(
                Step(
                    page=attributes["page"],
                    user=attributes.get("user", ""),
                    texts=tuple(t for t in attributes.get("text", "").split("|") if t),
                    shot=attributes.get("shot", ""),
                    anchor=section.anchor,
                    language=language,
                    role=role,
                    device=attributes.get("device", "desktop"),
                )
            )
        section.text = COMMENT.sub("", section.text).strip()
    return chapter


@functools.cache
def _load(role, language, mtime):
    path = MANUAL_DIR / language / f"{role}.md"
    return parse(path.read_text(encoding="utf-8"), role=role, language=language)


def chapter(role, language=None):
    """The chapter of ``role`` in the UI language (or ``language``: "zh_Hans" / "en"); None for an unknown role."""
    folder = language if language in LANGUAGES else language_folder(language)
    name = EXPLAINER if role == EXPLAINER else role
    if name not in ROLES and name != EXPLAINER:
        return None
    path = MANUAL_DIR / folder / f"{name}.md"
    if not path.is_file():
        return None
    loaded = _load(name, folder, path.stat().st_mtime_ns)
    return loaded


def chapters(language=None):
    return [chapter(role, language) for role in ROLES]


def all_steps():
    return [step for language in LANGUAGES for role in ROLES for step in chapter(role, language).steps]


def plain(text):
    return re.sub(r"\s+", " ", MARKUP.sub(" ", text)).strip()


def search(query, chapter_list):
    """Sections whose title or text contain every word of ``query`` (case-insensitive), best first: title hits,
    then more occurrences. Each result: chapter, section, snippet (plain text around the first hit)."""
    words = [w.lower() for w in query.split() if w.strip()]
    if not words:
        return []
    results = []
    for order, found in enumerate(chapter_list):
        for section in found.sections:
            body = plain(section.text)
            haystack = (section.title + " " + body).lower()
            if not all(w in haystack for w in words):
                continue
            in_title = sum(w in section.title.lower() for w in words)
            count = sum(haystack.count(w) for w in words)
            at = body.lower().find(words[0])
            start = max(at - 40, 0) if at >= 0 else 0
            snippet = ("…" if start else "") + body[start : start + 160] + ("…" if start + 160 < len(body) else "")
            results.append(((-in_title, -count, order), {"chapter": found, "section": section, "snippet": snippet}))
    results.sort(key=lambda pair: pair[0])
    return [result for _key, result in results]


def help_target(url_name, role, language=None):
    """(role, anchor) of the manual section for the page ``url_name``: the first step naming it in the chapter of
    ``role``, else in any chapter; else the top of the role's chapter (anchor "")."""
    folder = language_folder(language)
    order = [role] + [r for r in ROLES if r != role] if role in ROLES else list(ROLES)
    for candidate in order:
        for step in chapter(candidate, folder).steps:
            if step.page == url_name:
                return candidate, step.anchor
    return (role if role in ROLES else Role.APPLICANT), ""
