"""Markdown for call descriptions, rendered and then sanitised with nh3 so that no script or handler survives."""

import markdown as md
import nh3
from django.utils.safestring import mark_safe

ALLOWED_TAGS = {
    "p",
    "br",
    "strong",
    "em",
    "ul",
    "ol",
    "li",
    "h2",
    "h3",
    "h4",
    "h5",
    "blockquote",
    "code",
    "pre",
    "a",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "hr",
}


def render_markdown(text):
    """Tables get Bootstrap's bordered style (a call's timetable reads as a grid); ``tel:`` links stay so that a
    phone number in the call text can be tapped."""
    html = md.markdown(text or "", extensions=["tables", "sane_lists"], output_format="html")
    return mark_safe(
        nh3.clean(
            html,
            tags=ALLOWED_TAGS,
            attributes={"a": {"href", "title"}},
            url_schemes={"http", "https", "mailto", "tel"},
            set_tag_attribute_values={"table": {"class": "table table-bordered table-sm"}},
        )
    )
