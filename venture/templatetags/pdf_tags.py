"""Template filters for the PDFs (``{% load pdf_tags %}``).

``keep_words``: a title wraps only at sensible points. Chinese text may break between any two characters, so a long
round name such as 2026年度示范市总工会公益创投大赛 broke inside 公益创投 (公益 / 创投). The filter wraps the
words of the trade that must not be cut (the year, the union, 公益创投, 新就业形态, …) in ``<span class="nobr">``
(``white-space: nowrap`` in static/css/print.css); the line then breaks between them."""

import re

from django import template
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe

register = template.Library()

# Words kept whole, longest first so that 公益创投大赛 wins over 公益创投. Latin words and numbers never break anyway.
WORDS = [
    "公益创投大赛",
    "公益创投",
    "创投大赛",
    "新就业形态",
    "劳动者",
    "总工会",
    "工会",
    "社会组织",
    "社会工作",
    "服务",
    "项目",
    "大赛",
    "评审结果",
    "结果报告",
    "资助协议",
    "督导报告",
    "申报指南",
    "公示",
    "关于",
]
PATTERN = re.compile(r"\d{4}\s*年度?|" + "|".join(re.escape(w) for w in sorted(WORDS, key=len, reverse=True)))


@register.filter(needs_autoescape=True)
def keep_words(value, autoescape=True):
    """``value`` escaped, with the words of ``WORDS`` (and a year such as 2026年度) each in a no-break span."""
    text = "" if value is None else str(value)
    escape = conditional_escape if autoescape else str
    out, at = [], 0
    for match in PATTERN.finditer(text):
        out.append(escape(text[at : match.start()]))
        out.append(f'<span class="nobr">{escape(match.group(0))}</span>')
        at = match.end()
    out.append(escape(text[at:]))
    return mark_safe("".join(out))
